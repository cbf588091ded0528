/**
 * The first sync of a meter connected from the page and a full cycle asked at the same time never
 * overlap (one sync of a meter at a time): the provider's calls are counted in flight.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadHalfHourSeries, SCEAUX_2007H1_30MIN } from "../../helpers/dataset.js";
import { startProviderSimulator, simulatorToken, type ProviderSimulator } from "../../helpers/provider-simulator.js";
import { accountsKit, type AccountsKit } from "./kit.js";

const PRM = "10203040506070";
let sim: ProviderSimulator;
let kit: AccountsKit;

beforeAll(async () => {
  sim = await startProviderSimulator({ series: loadHalfHourSeries(SCEAUX_2007H1_30MIN), prm: PRM });
  kit = await accountsKit({ energy: true });
});
afterAll(async () => {
  await kit?.close();
  await sim?.close();
});

it("a first sync and a full cycle asked together run one after the other", async () => {
  const res = await kit.api("POST", "/api/accounts/connect", {
    session: "s",
    body: { provider: "conso_api", input: { prm: PRM, token: simulatorToken(PRM), baseUrl: sim.baseUrl }, callbackUrl: "http://127.0.0.1:8099/callback/conso_api" },
  });
  expect(res.json()).toMatchObject({ kind: "done" });
  const energy = kit.energy!;
  expect(energy.jobs.length).toBeGreaterThan(0);
  let inFlight = 0;
  let max = 0;
  let calls = 0;
  for (const job of energy.jobs) {
    const p = job.provider as unknown as Record<string, unknown>;
    for (const name of ["fetch", "fetchMaxPower"]) {
      const original = p[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (!original || (original as { wrapped?: boolean }).wrapped) continue;
      const wrapped = async (...args: unknown[]) => {
        inFlight++;
        calls++;
        max = Math.max(max, inFlight);
        try {
          return await original.apply(p, args);
        } finally {
          inFlight--;
        }
      };
      (wrapped as { wrapped?: boolean }).wrapped = true;
      p[name] = wrapped;
    }
  }
  const [, summaries] = await Promise.all([energy.firstSync, energy.runCycle()]);
  expect(summaries.map((s) => s.meterId)).toContain(PRM);
  expect(calls).toBeGreaterThan(2);
  expect(max).toBe(1);
});
