import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Meter } from "../../../src/domain/types.js";

export const METER: Meter = {
  id: "12345678901234",
  provider: "conso_api",
  kind: "electricity",
  unit: "Wh",
  timezone: "Europe/Paris",
  name: "Linky 12345678901234",
};

/** A fresh temporary folder and a function removing it. */
export function tempDir(): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "energy-bridge-store-"));
  return { dir, file: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
