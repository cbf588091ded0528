/**
 * The Cozy flow end to end against the Cozy simulator on loopback (no Home Assistant): connect,
 * reconnect (the previous client is unregistered, not left behind), replayed callback rejected,
 * disconnect unregisters the client at the Cozy and revokes its tokens there.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FlowError } from "../../../src/auth/flow.js";
import { createCozyFlow } from "../../../src/auth/flows/cozy.js";
import { createOAuthStateStore } from "../../../src/auth/oauth-state.js";
import { TokenVault } from "../../../src/auth/token-vault.js";
import { createLogger } from "../../../src/log.js";
import { EventBus } from "../../../src/modules/events.js";
import type { Settings } from "../../../src/settings.js";
import { listAccounts } from "../../../src/store/accounts.js";
import { openStore } from "../../../src/store/db.js";
import { startCozySimulator, type CozySimulator } from "../../helpers/simulator/cozy.js";

let sim: CozySimulator;
beforeAll(async () => {
  sim = await startCozySimulator({ docs: {} });
});
afterAll(() => sim?.close());

it("connect, reconnect without leaving a client behind, replay rejected, disconnect unregisters", async () => {
  const db = openStore(":memory:");
  const log = createLogger("silent");
  const vault = new TokenVault(db, randomBytes(32));
  const flow = createCozyFlow({ db, vault, events: new EventBus(log), settings: {} as Settings, log, now: Date.now, states: createOAuthStateStore() });
  const req = { sessionId: "s1", callbackUrl: "http://127.0.0.1:8099/cb" };
  const connect = async () => {
    const start = await flow.begin({ instance: sim.url }, req);
    const res = await fetch((start as { url: string }).url, { redirect: "manual" });
    const query = Object.fromEntries(new URL(res.headers.get("location")!).searchParams);
    return { account: await flow.callback!(query, req), query };
  };
  const first = await connect();
  const firstClient = vault.get(first.account.id)!.extra!.clientId as string;
  expect([...sim.clients.keys()]).toEqual([firstClient]);
  expect(vault.get(first.account.id)!.expiresAt).toBeGreaterThan(Date.now());
  const second = await connect();
  const secondClient = vault.get(second.account.id)!.extra!.clientId as string;
  expect(secondClient).not.toBe(firstClient);
  expect([...sim.clients.keys()]).toEqual([secondClient]); // the first one was unregistered
  expect(listAccounts(db).map((a) => a.id)).toEqual([first.account.id]);
  const replay = await flow.callback!(second.query, req).catch((e: unknown) => e);
  expect((replay as FlowError).code).toBe("state_mismatch");
  await flow.disconnect(second.account);
  expect(sim.clients.size).toBe(0);
  expect(vault.get(second.account.id)).toBeUndefined();
  db.close();
});
