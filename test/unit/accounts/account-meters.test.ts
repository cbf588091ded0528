/**
 * Meters from accounts at start: one job set per PRM even when two accounts list it, a gateway
 * account whose token cannot be read (vault key changed) is skipped with a log line and the
 * module still starts; a PRM in the `meters` option wins over an account.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { saveConnectedAccount } from "../../../src/auth/flows/account-store.js";
import { accountsKit } from "./kit.js";

let dataDir: string;
const key = randomBytes(32);
const ENEDIS = { enedis: { clientId: "id", clientSecret: "secret-secret" } };

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "eb-account-meters-"));
  const kit = await accountsKit({ dataDir, vaultKey: key });
  const deps = { ...kit.ctx };
  saveConnectedAccount(deps, { id: "enedis_data_connect_11111111111111", provider: "enedis_data_connect", label: "a", config: { prms: ["11111111111111"] } });
  saveConnectedAccount(deps, { id: "conso_api_11111111111111", provider: "conso_api", label: "b", config: { prms: ["11111111111111"] } }, { accessToken: "token-aaaaaaaa" });
  saveConnectedAccount(deps, { id: "conso_api_22222222222222", provider: "conso_api", label: "c", config: { prms: ["22222222222222"] } }, { accessToken: "token-bbbbbbbb" });
  await kit.close();
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const consumption = (ids: string[]) => ids.filter((id) => !id.endsWith("_production")).sort();

it("one job set per PRM; accounts in creation order win", async () => {
  const kit = await accountsKit({ dataDir, vaultKey: key, energy: true, settings: ENEDIS });
  try {
    const jobs = kit.energy!.jobs;
    expect(consumption(jobs.map((j) => j.meter.id))).toEqual(["11111111111111", "22222222222222"]);
    expect(jobs.find((j) => j.meter.id === "11111111111111")!.provider.id).toBe("enedis_data_connect");
    expect(kit.logs.some((l) => l.includes("comes from another account already"))).toBe(true);
  } finally {
    await kit.close();
  }
});

it("an unreadable token skips that account's meter, the module starts; the meters option wins", async () => {
  const kit = await accountsKit({
    dataDir,
    vaultKey: randomBytes(32),
    energy: true,
    settings: { meters: [{ provider: "conso_api", prm: "11111111111111", token: "opt-token-123", name: "Opt", production: "off" }] },
  });
  try {
    // 1111… from the option (the Enedis account has no app credentials here), 2222… unreadable.
    expect(kit.energy!.jobs.map((j) => j.meter.id)).toEqual(["11111111111111"]);
    expect(kit.logs.some((l) => l.includes("cannot decrypt the tokens of account conso_api_22222222222222"))).toBe(true);
  } finally {
    await kit.close();
  }
});
