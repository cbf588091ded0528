/**
 * The Ecolyo module when the Cozy refuses the account for good (the client was removed in the
 * Cozy's settings: access and refresh tokens revoked): every series ends in `auth_error` with a
 * plain message, the account becomes `revoked` (the accounts module's health entity and
 * notification show it), nothing is stored. Cozy simulator on loopback, no Home Assistant (nothing
 * is dirty, so the statistics writer never calls it).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TokenVault } from "../../../src/auth/token-vault.js";
import { createLogger } from "../../../src/log.js";
import { EventBus } from "../../../src/modules/events.js";
import type { ModuleContext } from "../../../src/modules/module.js";
import { EcolyoModule } from "../../../src/modules/ecolyo/ecolyo-module.js";
import { getAccount, upsertAccount } from "../../../src/store/accounts.js";
import { openStore } from "../../../src/store/db.js";
import { readingsBetween } from "../../../src/store/readings.js";
import { startCozySimulator, type CozySimulator } from "../../helpers/simulator/cozy.js";

let sim: CozySimulator;
beforeAll(async () => {
  sim = await startCozySimulator({ docs: { "com.grandlyon.egl.day": [{ _id: "w", load: 300, year: 2026, month: 11, day: 20, hour: 0, minute: 0 }] } });
});
afterAll(() => sim?.close());

it("a Cozy that revoked the client: auth_error on every series, account revoked, nothing stored", async () => {
  const db = openStore(":memory:");
  const log = createLogger("silent");
  const events = new EventBus(log);
  const statuses: string[] = [];
  events.on("account_status", (e) => statuses.push(`${e.accountId}:${e.status}`));
  const vault = new TokenVault(db, randomBytes(32));
  const t = await sim.issueTokens();
  const id = `cozy_${new URL(sim.url).host}`;
  upsertAccount(db, { id, provider: "cozy", label: "test cozy", status: "connected", detail: null, config: { instance: sim.url } }, Date.now());
  vault.put(id, "cozy", { accessToken: t.accessToken, refreshToken: t.refreshToken, extra: { clientId: t.clientId, clientSecret: t.clientSecret, registrationAccessToken: t.registrationAccessToken } });
  // The user removes "Energy Bridge" from the Cozy's connected devices.
  await fetch(`${sim.url}/auth/register/${t.clientId}`, { method: "DELETE", headers: { Authorization: `Bearer ${t.registrationAccessToken}` } });
  const sink = { declareMeter: async () => undefined, publish: async () => undefined, setAvailable: async () => undefined, declareDevice: async () => undefined, publishDeviceStates: async () => undefined, setDeviceAvailable: async () => undefined };
  const ctx = {
    settings: { retentionDays: 730, anomalyThresholdPercent: 120 },
    db,
    ha: { connection: {}, haVersion: "2026.2.3" },
    rest: {},
    entities: sink,
    events,
    scheduler: {},
    vault,
    web: {},
    log,
    now: Date.now,
    providerRuntime: { retry: { retries: 0, minTimeout: 1, maxTimeout: 1 } },
  } as unknown as ModuleContext;
  const module = new EcolyoModule({ schedule: false });
  await module.start(ctx);
  const summaries = await module.runCycle();
  expect(summaries.map((s) => s.status)).toEqual(["auth_error", "auth_error", "auth_error"]);
  expect(summaries[0]!.error).toMatch(/reconnect it from the add-on's page/);
  expect(getAccount(db, id)?.status).toBe("revoked");
  expect(statuses).toEqual([`${id}:revoked`]);
  for (const j of module.jobs) expect(readingsBetween(db, j.meter.id, 0, Date.now())).toEqual([]);
  expect(module.health().status).toBe("degraded");
  await module.stop();
  db.close();
});
