/**
 * The import folder: portal exports dropped there are imported on the next scan. As an add-on the
 * folder is `/config/import` inside the container — the add-on's own config folder, mapped with
 * `addon_config:rw` in config.yaml, which the host shows as `/addon_configs/<slug>/import`
 * (`/app_configs/<slug>/import` since Supervisor 2026.06, platform-2026.md §2). Standalone it is
 * `<dataDir>/import`. A file imported is moved to `done/`; a bad one to `failed/` next to a
 * `<name>.error.txt` naming the line; nothing of a bad file is stored. A file changed less than
 * `settleMs` ago is left for the next scan (it may still be being copied).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Meter } from "../domain/types.js";
import type { Db } from "../store/db.js";
import { listMeters } from "../store/meters.js";
import { isEnedisProvider } from "../domain/meter-providers.js";
import { ImportError, importPortalFile, parsePortalFile, type ImportOutcome } from "./import-file.js";

/** The import folder for a run mode (see the file comment). */
export function importFolder(mode: "addon" | "standalone", dataDir: string): string {
  return mode === "addon" ? "/config/import" : join(dataDir, "import");
}

/** What happened to one file of a scan. */
export type ScanEntry = { file: string; ok: true; outcome: ImportOutcome } | { file: string; ok: false; error: string };

/** The meter a file belongs to: its PRM's consumption series, or the only Linky meter. */
function meterFor(db: Db, prm: string | null): Meter {
  const meters = listMeters(db).filter((m) => m.kind === "electricity" && isEnedisProvider(m.provider) && (m.flow ?? "consumption") === "consumption");
  if (prm) {
    const m = meters.find((x) => (x.usagePoint ?? x.id) === prm);
    if (!m) throw new ImportError(`no meter with PRM ${prm} is configured`);
    return m;
  }
  if (meters.length === 1) return meters[0]!;
  throw new ImportError("the file names no PRM and several Linky meters exist; upload it on the meter's page instead");
}

function moveTo(dir: string, sub: string, file: string, now: number): string {
  mkdirSync(join(dir, sub), { recursive: true });
  const moved = `${new Date(now).toISOString().replace(/[:.]/g, "-")}_${file}`;
  renameSync(join(dir, file), join(dir, sub, moved));
  return moved;
}

/** Imports every settled `.csv` / `.xlsx` file of `dir` (created when missing). */
export async function scanImportFolder(dir: string, db: Db, now: number, settleMs = 5_000): Promise<ScanEntry[]> {
  mkdirSync(dir, { recursive: true });
  const out: ScanEntry[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!/\.(csv|xlsx)$/i.test(file)) continue;
    const path = join(dir, file);
    const st = statSync(path);
    if (!st.isFile() || now - st.mtimeMs < settleMs) continue;
    try {
      const bytes = readFileSync(path);
      const parsed = await parsePortalFile(file, bytes);
      const meter = meterFor(db, parsed.prm);
      const outcome = await importPortalFile(db, meter, file, bytes, now);
      moveTo(dir, "done", file, now);
      out.push({ file, ok: true, outcome });
    } catch (err) {
      const message = err instanceof ImportError ? err.message : `${file}: ${(err as Error).message}`;
      const moved = moveTo(dir, "failed", file, now);
      writeFileSync(join(dir, "failed", `${moved}.error.txt`), message + "\n");
      out.push({ file, ok: false, error: message });
    }
  }
  return out;
}
