/**
 * Accounts become Linky meters: an Enedis Data Connect consent (consent simulator in front of
 * the provider simulator, which serves the v2 metering API) and a pasted Conso API token, both
 * through the accounts API; the energy module creates the meter and its first sync runs right
 * after the connection (statistics into a fake recorder: this file checks the wiring; the HA
 * integration test checks a real recorder). The total imported equals the served Wh, summed
 * here independently. A restart rebuilds both meters from the accounts (token from the vault);
 * a disconnect stops the meter's job.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statisticId } from "../../src/homeassistant/statistics.js";
import { listAccounts } from "../../src/store/accounts.js";
import { listMeters } from "../../src/store/meters.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../helpers/dataset.js";
import { startProviderSimulator, type ProviderSimulator } from "../helpers/provider-simulator.js";
import { startEnedisConsentSimulator, type EnedisConsentSimulator } from "../helpers/simulator/enedis-consent.js";
import { accountsKit, assertNoSecretInLogs, type AccountsKit } from "../unit/accounts/kit.js";

const PRM_DC = "11122233344455";
const PRM_CONSO = "55544433322211";
const CALLBACK = "http://127.0.0.1:8099/x/callback/enedis_data_connect";

let direct: ProviderSimulator;
let conso: ProviderSimulator;
let consent: EnedisConsentSimulator;
const logs: string[] = [];

beforeAll(async () => {
  const series = loadHalfHourSeries(SCEAUX_2008_30MIN);
  direct = await startProviderSimulator({ series, prm: PRM_DC });
  conso = await startProviderSimulator({ series, prm: PRM_CONSO });
  consent = await startEnedisConsentSimulator({ clientId: direct.clientId, clientSecret: direct.clientSecret, prms: [PRM_DC], upstream: direct.baseUrl });
});
afterAll(async () => {
  await Promise.all([direct?.close(), conso?.close(), consent?.close()]);
  assertNoSecretInLogs(logs, [direct.clientSecret, conso.token, ...consent.consents.map((c) => c.autorisationId)]);
});

/** The last cumulative sum (kWh) of a statistic in the fake recorder. */
function lastSum(kit: AccountsKit, id: string): number {
  const rows = kit.recorder.rowsOf(id);
  return rows.at(-1)?.sum ?? NaN;
}
const servedKwh = (sim: ProviderSimulator) => sim.served().reduce((s, p) => s + p.wh, 0) / 1000;

describe("accounts → Linky meters", () => {
  it("consent and pasted token create meters, first sync right away; restart rebuilds them; disconnect stops one", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "eb-accounts-meters-"));
    const vaultKey = randomBytes(32);
    const settings = { enedis: { clientId: direct.clientId, clientSecret: direct.clientSecret }, enedisConsent: { authorizeUrl: consent.authorizeUrl, apiUrl: consent.baseUrl } };
    try {
      const kit = await accountsKit({ energy: true, dataDir, vaultKey, settings });
      try {
        expect(kit.energy!.jobs).toEqual([]);
        // Enedis consent.
        const start = await kit.api("POST", "/api/accounts/connect", { session: "b", body: { provider: "enedis_data_connect", input: {}, callbackUrl: CALLBACK } });
        const page = await fetch(start.json<{ url: string }>().url, { redirect: "manual" });
        const back = new URL(page.headers.get("location")!);
        const cb = await kit.api("GET", `/callback/enedis_data_connect${back.search}`, { session: "b" });
        expect(cb.headers.location).toBe(`../accounts?connected=enedis_data_connect_${PRM_DC}`);
        await kit.energy!.firstSync;
        // A consumption series and a production series (production: auto, probed once).
        expect(kit.energy!.jobs.map((j) => [j.meter.id, j.provider.id])).toEqual([
          [PRM_DC, "enedis_data_connect"],
          [`${PRM_DC}_production`, "enedis_data_connect"],
        ]);
        expect(listMeters(kit.ctx.db).map((m) => m.id)).toContain(PRM_DC);
        expect(direct.requestCount({ route: "direct" })).toBeGreaterThan(0);
        expect(lastSum(kit, statisticId("linky", PRM_DC, "consumption"))).toBeCloseTo(servedKwh(direct), 6);

        // Pasted Conso API token (validated offline: the JWT's sub lists the PRM).
        const wrong = await kit.api("POST", "/api/accounts/connect", { session: "b", body: { provider: "conso_api", input: { prm: PRM_DC, token: conso.token }, callbackUrl: "http://127.0.0.1:8099/x/callback/conso_api" } });
        expect(wrong.json()).toMatchObject({ error: "wrong_prm" });
        const pasted = await kit.api("POST", "/api/accounts/connect", {
          session: "b",
          body: { provider: "conso_api", input: { prm: PRM_CONSO, token: conso.token, baseUrl: conso.baseUrl }, callbackUrl: "http://127.0.0.1:8099/x/callback/conso_api" },
        });
        expect(pasted.json()).toMatchObject({ kind: "done", account: { id: `conso_api_${PRM_CONSO}`, status: "connected" } });
        await kit.energy!.firstSync;
        expect(lastSum(kit, statisticId("linky", PRM_CONSO, "consumption"))).toBeCloseTo(servedKwh(conso), 6);
        expect(kit.events.filter((e) => e.name === "meter_synced").map((e) => (e.payload as { meterId: string }).meterId)).toEqual([PRM_DC, PRM_CONSO]);
      } finally {
        logs.push(...kit.logs);
        await kit.close();
      }

      // Restart: both meters come back from the accounts, the token from the vault.
      const again = await accountsKit({ energy: true, dataDir, vaultKey, settings });
      try {
        expect(again.energy!.jobs.map((j) => j.meter.id).sort()).toEqual([PRM_CONSO, `${PRM_CONSO}_production`, PRM_DC, `${PRM_DC}_production`].sort());
        expect(listAccounts(again.ctx.db).map((a) => a.status)).toEqual(["connected", "connected"]);
        // The token read back from the vault is accepted by the gateway.
        conso.override(new Map([[conso.served().at(-1)!.start, 1234.5]]));
        const before = conso.requestCount();
        await again.energy!.runCycle();
        expect(conso.requestCount()).toBeGreaterThan(before);
        expect(conso.requests.slice(before).filter((r) => r.status === 401 || r.status === 403)).toEqual([]);

        // Disconnect the Conso API account: its job stops.
        expect((await again.api("POST", `/api/accounts/conso_api_${PRM_CONSO}/disconnect`, { session: "b" })).json()).toEqual({ ok: true });
        await new Promise((r) => setTimeout(r, 10));
        expect(again.energy!.jobs.map((j) => j.meter.id)).toEqual([PRM_DC, `${PRM_DC}_production`]);
        const n = conso.requestCount();
        await again.energy!.runCycle();
        expect(conso.requestCount()).toBe(n);
      } finally {
        logs.push(...again.logs);
        await again.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
