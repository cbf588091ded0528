/**
 * The Tado device code flow (auth/flows/tado.ts) against a REAL OAuth server (oidc-provider,
 * test/helpers/oauth-server.ts) registered with Tado's public client id, and the Tado REST
 * simulator for `/me` and `/homes/{id}`: pending → approved (account + tokens saved, event),
 * slow_down (+5 s), expired (expired_token), denied (access_denied), cancel; then the refresher
 * rotates the refresh token through the vault (the old one is rejected by the server); and a
 * connection followed by the tado module's first poll, whose token renewal (real refresh grant,
 * rotation) is committed to the vault before the new access token reaches Tado.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOAuthStateStore } from "../../src/auth/oauth-state.js";
import { createTadoFlow, TADO_CLIENT_ID } from "../../src/auth/flows/tado.js";
import type { AccountFlow, DevicePoll, FlowStart } from "../../src/auth/flow.js";
import { getAccount } from "../../src/store/accounts.js";
import { publicDeviceClient, startOAuthServer, type OAuthServer } from "../helpers/oauth-server.js";
import { TadoSimulator } from "../helpers/simulator/tado.js";
import { tadoFixture, type TadoFixture } from "../helpers/simulator/tado-fixture.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { TadoModule } from "../../src/modules/tado/tado-module.js";
import type { ModuleContext } from "../../src/modules/module.js";
import { RecordingDeviceSink } from "../helpers/simulator/tado-fixture.js";
import { expectedZoneValues, SIM_ZONES } from "../helpers/simulator/tado.js";

const req = { sessionId: "session-a", callbackUrl: "http://127.0.0.1/unused" };
type DeviceStart = Extract<FlowStart, { kind: "device" }>;

describe("Tado device code flow against oidc-provider", () => {
  let server: OAuthServer;
  let sim: TadoSimulator;

  beforeAll(async () => {
    server = await startOAuthServer({
      deviceInterval: 1,
      deviceCodeTtl: 4,
      clients: [publicDeviceClient(TADO_CLIENT_ID)],
    });
    sim = new TadoSimulator();
    await sim.listen();
  });
  afterAll(async () => {
    await server?.close();
    await sim?.close();
  });

  function setup(generation?: string): { fx: TadoFixture; flow: AccountFlow } {
    if (generation) sim.generation = generation;
    const fx = tadoFixture({
      deviceAuthorizationUrl: `${server.issuer}/device/auth`,
      tokenUrl: `${server.issuer}/token`,
      apiUrl: sim.apiUrl,
    });
    const flow = createTadoFlow({ ...fx, now: Date.now, states: createOAuthStateStore() });
    return { fx, flow };
  }

  async function pollUntil(flow: AccountFlow, start: DeviceStart, done: (p: DevicePoll) => boolean, onPending?: () => Promise<void>): Promise<DevicePoll[]> {
    const seen: DevicePoll[] = [];
    for (let i = 0; i < 60; i++) {
      await sleep(250);
      const p = await flow.poll!(start.flowId, req);
      seen.push(p);
      if (done(p)) return seen;
      if (onPending) await onPending();
    }
    throw new Error("flow never finished");
  }

  it("begin shows a user code and link; pending until approved, then the account is connected", async () => {
    sim.generation = "PRE_LINE_X";
    const { fx, flow } = setup();
    const connected: string[] = [];
    fx.events.on("account_connected", (e) => connected.push(e.accountId));
    const start = (await flow.begin({}, req)) as DeviceStart;
    expect(start.kind).toBe("device");
    expect(start.userCode).toMatch(/\S+/);
    expect(start.verificationUri).toBe(`${server.issuer}/device`);
    expect(start.interval).toBe(1);
    expect(start.expiresAt).toBeGreaterThan(Date.now());

    let approved = false;
    let pendingSeen = 0;
    const seen = await pollUntil(flow, start, (p) => p.status !== "pending", async () => {
      pendingSeen++;
      if (pendingSeen === 2 && !approved) {
        approved = true;
        await server.approveDeviceCode(start.userCode);
      }
    });
    const last = seen.at(-1)!;
    expect(seen.filter((p) => p.status === "pending").length).toBeGreaterThanOrEqual(2);
    expect(last.status).toBe("connected");
    const account = (last as Extract<DevicePoll, { status: "connected" }>).account;
    expect(account.id).toBe(`tado_${sim.homeId}`);
    expect(account.config).toMatchObject({ homeId: sim.homeId, homeName: sim.homeName, generation: "PRE_LINE_X" });
    expect(getAccount(fx.db, account.id)?.status).toBe("connected");
    expect(connected).toEqual([account.id]);
    const tokens = fx.vault.get(account.id)!;
    expect(tokens.accessToken).toBeTruthy();
    expect(tokens.refreshToken).toBeTruthy();
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());
    // A later poll of the finished flow says the same; another session cannot see it.
    expect((await flow.poll!(start.flowId, req)).status).toBe("connected");
    await expect(flow.poll!(start.flowId, { ...req, sessionId: "other" })).rejects.toMatchObject({ code: "unknown_flow" });

    // Refresh with rotation through the vault: the new refresh token differs, the old is dead.
    const first = tokens.refreshToken!;
    const renewed = await fx.vault.refresh(account.id, (cur) => flow.refresher!(account, cur));
    expect(renewed.refreshToken).toBeTruthy();
    expect(renewed.refreshToken).not.toBe(first);
    expect(fx.vault.get(account.id)!.refreshToken).toBe(renewed.refreshToken);
    await expect(flow.refresher!(account, { ...renewed, refreshToken: first })).rejects.toMatchObject({ error: "invalid_grant" });

    // No token in any log line.
    const all = fx.lines.join("\n");
    for (const secret of [tokens.accessToken, first, renewed.accessToken, renewed.refreshToken!]) expect(all).not.toContain(secret);
  });

  it("slow_down raises the interval by 5 s", async () => {
    // A second server whose slow_down threshold (3 s) is above the interval the flow is told (1 s,
    // rewritten in the device authorization response): the flow's second poll gets slow_down.
    const strict = await startOAuthServer({
      deviceInterval: 3,
      clients: [publicDeviceClient(TADO_CLIENT_ID, { refresh: false })],
    });
    try {
      let tokenCalls = 0;
      const rewrite: typeof fetch = async (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        if (url.endsWith("/token")) tokenCalls++;
        const res = await fetch(input, init);
        if (!url.endsWith("/device/auth")) return res;
        const body = (await res.json()) as Record<string, unknown>;
        return new Response(JSON.stringify({ ...body, interval: 1 }), { status: res.status, headers: res.headers });
      };
      const fx = tadoFixture({ deviceAuthorizationUrl: `${strict.issuer}/device/auth`, tokenUrl: `${strict.issuer}/token`, apiUrl: sim.apiUrl });
      const flow = createTadoFlow({ ...fx, now: Date.now, states: createOAuthStateStore(), fetch: rewrite });
      const start = (await flow.begin({}, req)) as DeviceStart;
      expect(start.interval).toBe(1);
      await sleep(1_050);
      expect(await flow.poll!(start.flowId, req)).toEqual({ status: "pending", interval: 1 });
      await sleep(1_050);
      expect(await flow.poll!(start.flowId, req)).toEqual({ status: "pending", interval: 6 });
      expect(tokenCalls).toBe(2);
      // Within the new interval the flow does not call the token endpoint at all.
      await sleep(1_050);
      expect(await flow.poll!(start.flowId, req)).toEqual({ status: "pending", interval: 6 });
      expect(tokenCalls).toBe(2);
    } finally {
      await strict.close();
    }
  });

  it("expired: the code's lifetime passes → expired (no account)", async () => {
    const { fx, flow } = setup();
    const start = (await flow.begin({}, req)) as DeviceStart;
    const seen = await pollUntil(flow, start, (p) => p.status !== "pending");
    expect(seen.at(-1)!.status).toBe("expired");
    expect(fx.db.prepare("SELECT count(*) AS n FROM accounts").get()).toEqual({ n: 0 });
  });

  it("denied on the provider's page → denied (no account)", async () => {
    const { fx, flow } = setup();
    const start = (await flow.begin({}, req)) as DeviceStart;
    await server.denyDeviceCode(start.userCode);
    const seen = await pollUntil(flow, start, (p) => p.status !== "pending");
    expect(seen.at(-1)!.status).toBe("denied");
    expect(fx.db.prepare("SELECT count(*) AS n FROM accounts").get()).toEqual({ n: 0 });
  });

  it("cancel: the flow is over, an approval afterwards connects nothing", async () => {
    const { fx, flow } = setup();
    const start = (await flow.begin({}, req)) as DeviceStart;
    flow.cancel!(start.flowId, req);
    await server.approveDeviceCode(start.userCode);
    await sleep(1_100);
    expect((await flow.poll!(start.flowId, req)).status).toBe("cancelled");
    expect(fx.db.prepare("SELECT count(*) AS n FROM accounts").get()).toEqual({ n: 0 });
  });

  it("connect → the tado module polls at once, renewing the token first: the rotated one is in the vault before Tado sees it", async () => {
    sim.generation = "PRE_LINE_X";
    const { fx } = setup();
    const presented: { token: string; vaultHad: string | undefined }[] = [];
    const account = `tado_${sim.homeId}`;
    const watching = new TadoSimulator({
      acceptToken: (t) => {
        presented.push({ token: t, vaultHad: fx.vault.get(account)?.accessToken });
        return true;
      },
    });
    await watching.listen();
    try {
      const fx2 = { ...fx, settings: { ...fx.settings, tado: { ...fx.settings.tado, apiUrl: watching.apiUrl } } };
      const flow2 = createTadoFlow({ ...fx2, now: Date.now, states: createOAuthStateStore() });
      const sink = new RecordingDeviceSink();
      const module = new TadoModule();
      const ctx = { settings: fx2.settings, db: fx.db, entities: sink, events: fx.events, vault: fx.vault, log: fx.log, now: Date.now } as unknown as ModuleContext;
      await module.start(ctx);
      const start = (await flow2.begin({}, req)) as DeviceStart;
      await server.approveDeviceCode(start.userCode);
      const seen = await pollUntil(flow2, start, (p) => p.status !== "pending");
      expect(seen.at(-1)!.status).toBe("connected");
      const first = fx.vault.get(account)!;
      // The access token lives 60 s (< the 1-minute margin): the first poll renews it through the vault.
      await waitFor("the first zoneStates call", async () => (watching.count("/zoneStates") > 0 ? true : null), 20_000);
      await module.pollers()[0]!.whenIdle();
      const now = fx.vault.get(account)!;
      expect(now.refreshToken).not.toBe(first.refreshToken);
      expect(now.accessToken).not.toBe(first.accessToken);
      // Every call after the flow's own two presented the token the vault held at that moment.
      const polling = presented.slice(2);
      expect(polling.length).toBeGreaterThan(0);
      for (const p of polling) expect(p.token).toBe(p.vaultHad);
      expect(polling.at(-1)!.token).toBe(now.accessToken);
      // The old refresh token is dead at the server (rotation), the zone values are published.
      await expect(flow2.refresher!(getAccount(fx.db, account)!, { ...now, refreshToken: first.refreshToken })).rejects.toMatchObject({ error: "invalid_grant" });
      const at = watching.requests.filter((r) => r.path.endsWith("/zoneStates")).at(-1)!.at;
      const living = SIM_ZONES[0]!;
      expect(sink.states.get(`tado_${sim.homeId}_zone_${living.id}/temperature`)).toBe(String(expectedZoneValues(living, at)!.temperature));
      await module.stop();
      const all = fx.lines.join("\n");
      for (const secret of [first.accessToken, first.refreshToken!, now.accessToken, now.refreshToken!]) expect(all).not.toContain(secret);
    } finally {
      await watching.close();
    }
  });

  it("a tado X home is connected but reported as not supported yet, in plain words", async () => {
    const { fx, flow } = setup("LINE_X");
    try {
      const start = (await flow.begin({}, req)) as DeviceStart;
      await server.approveDeviceCode(start.userCode);
      const seen = await pollUntil(flow, start, (p) => p.status !== "pending");
      const last = seen.at(-1) as Extract<DevicePoll, { status: "connected" }>;
      expect(last.status).toBe("connected");
      const row = getAccount(fx.db, last.account.id)!;
      expect(row.status).toBe("error");
      expect(row.detail).toMatch(/tado X/);
      expect(row.detail).toMatch(/not support/);
    } finally {
      sim.generation = "PRE_LINE_X";
    }
  });
});
