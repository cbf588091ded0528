/**
 * The tado module over simulated days (vitest fake clock) against the Tado REST simulator
 * (test/helpers/simulator/tado.ts, answering in-process): the daily budget and reserve, pacing
 * over the day, the quota entities against the simulator's own count, 429 → pause until the reset
 * the headers give (also across a restart), bad input (malformed JSON, unknown zone, expired
 * token, an impossible value) → a clear account error and nothing stored lost, tado X, link down.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StoredTokens, TokenSet } from "../../../src/auth/token-vault.js";
import type { ModuleContext } from "../../../src/modules/module.js";
import { TadoModule } from "../../../src/modules/tado/tado-module.js";
import { samplesBetween } from "../../../src/modules/tado/tado-store.js";
import { getAccount, upsertAccount } from "../../../src/store/accounts.js";
import { expectedZoneValues, SIM_HOME_ID, SIM_ZONES, TadoSimulator, UNKNOWN_ZONE_ID } from "../../helpers/simulator/tado.js";
import { RecordingDeviceSink, tadoFixture, type TadoFixture } from "../../helpers/simulator/tado-fixture.js";

const HOUR = 3_600_000;
const ACCOUNT = `tado_${SIM_HOME_ID}`;
const HOME_KEY = `tado_${SIM_HOME_ID}`;
const zoneKey = (id: number) => `tado_${SIM_HOME_ID}_zone_${id}`;
const HEATING = SIM_ZONES.filter((z) => z.type === "HEATING");

/** Tado's token side, faked: 10-minute access tokens, refresh tokens rotated on every refresh. */
class FakeTokens {
  n = 0;
  refreshCalls = 0;
  readonly valid = new Map<string, number>();
  issue(): TokenSet {
    this.n++;
    const accessToken = `access-${this.n}`;
    this.valid.set(accessToken, Date.now() + 599_000);
    return { accessToken, refreshToken: `refresh-${this.n}`, expiresAt: Date.now() + 599_000 };
  }
  refresher = async (cur: StoredTokens): Promise<TokenSet> => {
    this.refreshCalls++;
    if (cur.refreshToken !== `refresh-${this.n}`) throw Object.assign(new Error("invalid_grant"), { error: "invalid_grant" });
    return this.issue();
  };
  accept = (t: string): boolean => (this.valid.get(t) ?? 0) > Date.now();
}

interface Rig {
  fx: TadoFixture;
  sim: TadoSimulator;
  sink: RecordingDeviceSink;
  tokens: FakeTokens;
  module: TadoModule;
  start(): Promise<void>;
}

function rig(opts: { budget?: number; reserve?: number; generation?: string; sim?: TadoSimulator; fx?: TadoFixture; tokens?: FakeTokens } = {}): Rig {
  const tokens = opts.tokens ?? new FakeTokens();
  const sim = opts.sim ?? new TadoSimulator({ acceptToken: tokens.accept, ...(opts.generation ? { generation: opts.generation } : {}) });
  const fx = opts.fx ?? tadoFixture({ budgetPerDay: opts.budget ?? 100, reserve: opts.reserve ?? 10, apiUrl: "http://tado.test/api/v2" });
  const sink = new RecordingDeviceSink();
  const module = new TadoModule({ fetch: sim.fetch, refresher: tokens.refresher });
  const ctx = {
    settings: fx.settings,
    db: fx.db,
    entities: sink,
    events: fx.events,
    vault: fx.vault,
    log: fx.log,
    now: () => Date.now(),
  } as unknown as ModuleContext;
  return {
    fx,
    sim,
    sink,
    tokens,
    module,
    async start() {
      if (!getAccount(fx.db, ACCOUNT)) {
        upsertAccount(fx.db, { id: ACCOUNT, provider: "tado", label: "Test Home", status: "connected", detail: null, config: { homeId: SIM_HOME_ID, homeName: "Test Home", generation: opts.generation ?? "PRE_LINE_X" } }, Date.now());
        fx.vault.put(ACCOUNT, "tado", tokens.issue());
      }
      await module.start(ctx);
    },
  };
}

/** Advances the fake clock by `ms` in 1-minute steps (each step lets a running poll finish). */
async function run(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 60_000) await vi.advanceTimersByTimeAsync(Math.min(60_000, ms - t));
}

/** The simulator's requests grouped by its quota window. */
function perWindow(sim: TadoSimulator): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of sim.requests) m.set(sim.windowStart(r.at), (m.get(sim.windowStart(r.at)) ?? 0) + 1);
  return m;
}

describe("tado module over simulated days", () => {
  beforeEach(() => {
    // 2026-01-15 13:00 UTC = 14:00 in Berlin, two hours after Tado's window reset.
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 15, 13, 0), toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => vi.useRealTimers());

  it("24 h: at most the budget, the reserve untouched, polling spread over the day, quota entity = simulator count", async () => {
    const r = rig({ budget: 100, reserve: 10 });
    const mismatches: string[] = [];
    r.sink.onPublish = (device, entity, payload) => {
      if (device === HOME_KEY && entity === "quota_remaining" && payload !== String(r.sim.remaining())) mismatches.push(`${payload} vs ${r.sim.remaining()}`);
      if (device === HOME_KEY && entity === "requests_today" && payload !== String(r.sim.used())) mismatches.push(`today ${payload} vs ${r.sim.used()}`);
    };
    const t0 = Date.now();
    await r.start();
    await run(24 * HOUR);
    await r.module.stop();

    const calls = r.sim.requests;
    if (process.env.TADO_FIGURES) console.log("calls", calls.length, "per window", [...perWindow(r.sim).values()], "polls", r.sim.count("/zoneStates"), "refreshes", r.tokens.refreshCalls);
    expect(calls.length).toBeGreaterThan(50);
    expect(calls.length).toBeLessThanOrEqual(100);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    // The reserve: in every Tado window the add-on left at least 10 calls.
    for (const [, n] of perWindow(r.sim)) expect(n).toBeLessThanOrEqual(100 - 10);
    expect(mismatches).toEqual([]);
    // /me, /homes/{id}, /zones once at start and once after the window reset; one zoneStates per poll.
    expect(r.sim.count("/me")).toBe(2);
    expect(r.sim.count("/zones")).toBe(2);
    expect(r.sim.count(`/homes/${SIM_HOME_ID}`)).toBe(2);
    // Spread: no 2-hour slot of the first window (22 h) without a poll.
    const polls = calls.filter((c) => c.path.endsWith("/zoneStates")).map((c) => c.at);
    const firstEnd = r.sim.nextReset(t0);
    for (let s = t0; s + 2 * HOUR <= firstEnd; s += 2 * HOUR) expect(polls.some((at) => at >= s && at < s + 2 * HOUR)).toBe(true);
    // Tokens (10 min) were renewed through the vault with rotation; every call was accepted.
    expect(r.tokens.refreshCalls).toBeGreaterThan(10);
    // Samples: one per heating zone per poll, the values the simulator served at that instant.
    const samples = samplesBetween(r.fx.db, ACCOUNT, t0, Date.now() + 1);
    expect(samples.length).toBe(polls.length * HEATING.length);
    for (const s of samples) {
      const zone = HEATING.find((z) => z.id === s.zoneId)!;
      const v = expectedZoneValues(zone, s.at)!;
      expect([s.temperature, s.humidity, s.heatingPower]).toEqual([v.temperature, v.humidity, v.heatingPower]);
    }
    // Devices: the home, and one per heating zone under it; the latest values published.
    expect(r.sink.devices.get(HOME_KEY)?.device.viaDevice).toBeUndefined();
    for (const z of HEATING) {
      expect(r.sink.devices.get(zoneKey(z.id))?.device.viaDevice).toBe(HOME_KEY);
      expect(r.sink.devices.get(zoneKey(z.id))?.entities.map((e) => e.key)).toEqual(["temperature", "humidity", "heating_power"]);
    }
    expect(r.sink.devices.has(zoneKey(5))).toBe(false); // hot water: no sensors
    expect(getAccount(r.fx.db, ACCOUNT)?.status).toBe("connected");
    // No token in the log.
    expect(r.fx.lines.join("\n")).not.toMatch(/access-\d+|refresh-\d+/);
  });

  it("the interval follows the budget: a budget of 40 polls less often than 100", async () => {
    const small = rig({ budget: 40, reserve: 10 });
    await small.start();
    await run(6 * HOUR);
    await small.module.stop();
    vi.setSystemTime(Date.UTC(2026, 0, 15, 13, 0));
    const big = rig({ budget: 100, reserve: 10 });
    await big.start();
    await run(6 * HOUR);
    await big.module.stop();
    const n = (s: TadoSimulator) => s.count("/zoneStates");
    expect(n(small.sim)).toBeGreaterThan(2);
    expect(n(big.sim)).toBeGreaterThan(n(small.sim) * 2);
  });

  it("a 429 pauses polling until the reset the headers give, also across a restart", async () => {
    const tokens = new FakeTokens();
    const sim = new TadoSimulator({ acceptToken: tokens.accept });
    // Someone else (the tado app's integrations) used the whole quota of this window.
    for (let i = 0; i < 100; i++) await sim.fetch("http://tado.test/api/v2/me", { headers: { authorization: "Bearer x" } }).catch(() => undefined);
    tokens.valid.set("x", Infinity);
    const before = sim.requests.length;
    const r = rig({ sim, tokens });
    await r.start();
    await run(5 * 60_000);
    const mine = () => sim.requests.slice(before);
    expect(mine().map((c) => c.status)).toEqual([429]);
    const reset = sim.nextReset();
    expect(r.sink.states.get(`${HOME_KEY}/quota_remaining`)).toBe("0");
    expect(Date.parse(r.sink.states.get(`${HOME_KEY}/quota_reset`)!.replace("+00:00", "Z"))).toBe(reset);
    expect(r.module.health().detail).toMatch(/quota is used up/);

    // A restart during the pause sends nothing either.
    await r.module.stop();
    const again = rig({ sim, tokens, fx: r.fx });
    await again.start();
    await run(reset - Date.now() - 60_000);
    expect(mine().length).toBe(1);
    await run(10 * 60_000);
    const after = mine().slice(1);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((c) => c.at >= reset && c.status === 200)).toBe(true);
    await again.module.stop();
  });

  describe("bad input: a clear error on the account, nothing stored lost", () => {
    async function afterFirstPolls(): Promise<{ r: Rig; samples: number; states: Map<string, string> }> {
      const r = rig();
      await r.start();
      await run(60 * 60_000);
      const samples = samplesBetween(r.fx.db, ACCOUNT, 0, Date.now() + 1).length;
      expect(samples).toBeGreaterThan(0);
      return { r, samples, states: new Map(r.sink.states) };
    }
    const zoneStatesOf = (m: Map<string, string>) => [...m].filter(([k]) => k.includes("_zone_"));

    it("malformed JSON", async () => {
      const { r, samples, states } = await afterFirstPolls();
      r.sim.faults.add("malformed_json");
      const polls = r.sim.count("/zoneStates");
      await run(40 * 60_000);
      expect(r.sim.count("/zoneStates")).toBeGreaterThan(polls);
      const a = getAccount(r.fx.db, ACCOUNT)!;
      expect(a.status).toBe("error");
      expect(a.detail).toMatch(/not valid JSON; nothing from it was used/);
      expect(samplesBetween(r.fx.db, ACCOUNT, 0, Date.now() + 1).length).toBe(samples);
      expect(zoneStatesOf(r.sink.states)).toEqual(zoneStatesOf(states));
      r.sim.faults.delete("malformed_json");
      await run(40 * 60_000);
      expect(getAccount(r.fx.db, ACCOUNT)!.status).toBe("connected");
      expect(samplesBetween(r.fx.db, ACCOUNT, 0, Date.now() + 1).length).toBeGreaterThan(samples);
      await r.module.stop();
    });

    it("an impossible value (humidity 140 %)", async () => {
      const { r, samples } = await afterFirstPolls();
      r.sim.faults.add("bad_value");
      await run(40 * 60_000);
      const a = getAccount(r.fx.db, ACCOUNT)!;
      expect(a.status).toBe("error");
      expect(a.detail).toMatch(/unexpected shape.*humidity/);
      expect(samplesBetween(r.fx.db, ACCOUNT, 0, Date.now() + 1).length).toBe(samples);
      await r.module.stop();
    });

    it("an unknown zone: the others are still updated, the unknown one named", async () => {
      const { r, samples } = await afterFirstPolls();
      r.sim.faults.add("unknown_zone");
      const polls = r.sim.count("/zoneStates");
      await run(40 * 60_000);
      const newPolls = r.sim.count("/zoneStates") - polls;
      expect(newPolls).toBeGreaterThan(0);
      const a = getAccount(r.fx.db, ACCOUNT)!;
      expect(a.status).toBe("error");
      expect(a.detail).toContain(`zone ${UNKNOWN_ZONE_ID}`);
      const all = samplesBetween(r.fx.db, ACCOUNT, 0, Date.now() + 1);
      expect(all.length).toBe(samples + newPolls * HEATING.length);
      expect(all.some((s) => s.zoneId === UNKNOWN_ZONE_ID)).toBe(false);
      expect(r.sink.devices.has(zoneKey(UNKNOWN_ZONE_ID))).toBe(false);
      // The zone list was read again once (a zone may have been added), not at every poll.
      const zonesBefore = r.sim.count("/zones");
      await run(3 * HOUR);
      expect(r.sim.count("/zones")).toBe(zonesBefore);
      expect(r.sim.requests.filter((c) => c.path.endsWith("/zones") && c.at > Date.UTC(2026, 0, 15, 14, 0)).length).toBe(1);
      await r.module.stop();
    });

    it("an expired token Tado keeps refusing: renewed once, then revoked; zones unavailable, not deleted", async () => {
      const { r, samples, states } = await afterFirstPolls();
      r.sim.faults.add("expired_token");
      const refreshes = r.tokens.refreshCalls;
      await run(3 * HOUR);
      const a = getAccount(r.fx.db, ACCOUNT)!;
      expect(a.status).toBe("revoked");
      expect(a.detail).toMatch(/Tado refused the access .*HTTP 401.*Connect the Tado account again/);
      expect(r.tokens.refreshCalls).toBeGreaterThan(refreshes);
      // Polling stopped: exactly the refused call and its one retry.
      expect(r.sim.requests.filter((c) => c.status === 401).length).toBe(2);
      for (const z of HEATING) expect(r.sink.available.get(zoneKey(z.id))).toBe(false);
      for (const z of HEATING) expect(r.sink.devices.has(zoneKey(z.id))).toBe(true);
      expect(samplesBetween(r.fx.db, ACCOUNT, 0, Date.now() + 1).length).toBe(samples);
      expect(zoneStatesOf(r.sink.states)).toEqual(zoneStatesOf(states));
      await r.module.stop();
    });
  });

  it("a tado X home is reported as not supported yet and never polled", async () => {
    const r = rig({ generation: "LINE_X" });
    await r.start();
    await run(3 * HOUR);
    const a = getAccount(r.fx.db, ACCOUNT)!;
    expect(a.status).toBe("error");
    expect(a.detail).toMatch(/tado X home.*does not support yet/);
    expect(r.sim.count("/zoneStates")).toBe(0);
    expect(r.sim.count("/zones")).toBe(0);
    expect(r.fx.lines.some((l) => l.includes("tado X"))).toBe(true);
    await r.module.stop();
  });

  it("link down (no answer): zones unavailable, back when Tado answers", async () => {
    const tokens = new FakeTokens();
    const sim = new TadoSimulator({ acceptToken: tokens.accept });
    let down = false;
    const r = rig({ sim, tokens });
    const original = sim.fetch;
    sim.fetch = (input, init) => (down ? Promise.reject(new TypeError("fetch failed")) : original(input, init));
    // the module captured sim.fetch at construction: rebuild it with the switchable fetch
    const r2 = { ...r, module: new TadoModule({ fetch: sim.fetch, refresher: tokens.refresher }) };
    const ctx = { settings: r.fx.settings, db: r.fx.db, entities: r.sink, events: r.fx.events, vault: r.fx.vault, log: r.fx.log, now: () => Date.now() } as unknown as ModuleContext;
    upsertAccount(r.fx.db, { id: ACCOUNT, provider: "tado", label: "Test Home", status: "connected", detail: null, config: { homeId: SIM_HOME_ID, homeName: "Test Home" } }, Date.now());
    r.fx.vault.put(ACCOUNT, "tado", tokens.issue());
    await r2.module.start(ctx);
    await run(30 * 60_000);
    for (const z of HEATING) expect(r.sink.available.get(zoneKey(z.id))).toBe(true);
    down = true;
    await run(40 * 60_000);
    for (const z of HEATING) expect(r.sink.available.get(zoneKey(z.id))).toBe(false);
    expect(getAccount(r.fx.db, ACCOUNT)!.detail).toMatch(/did not answer/);
    down = false;
    await run(60 * 60_000);
    for (const z of HEATING) expect(r.sink.available.get(zoneKey(z.id))).toBe(true);
    expect(getAccount(r.fx.db, ACCOUNT)!.status).toBe("connected");
    await r2.module.stop();
  });
});

describe("tado module and the account lifecycle", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 15, 13, 0), toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => vi.useRealTimers());

  it("account_connected starts the home (the flow's calls counted), account_disconnected stops it (zones unavailable, kept)", async () => {
    const r = rig();
    const ctx = { settings: r.fx.settings, db: r.fx.db, entities: r.sink, events: r.fx.events, vault: r.fx.vault, log: r.fx.log, now: () => Date.now() } as unknown as ModuleContext;
    await r.module.start(ctx);
    expect(r.module.pollers()).toHaveLength(0);
    // What the flow does on success (auth/flows/tado.ts): two API calls, then the account and its tokens.
    await r.sim.fetch("http://tado.test/api/v2/me", { headers: { authorization: "Bearer x" } });
    await r.sim.fetch(`http://tado.test/api/v2/homes/${SIM_HOME_ID}`, { headers: { authorization: "Bearer x" } });
    upsertAccount(r.fx.db, { id: ACCOUNT, provider: "tado", label: "Test Home", status: "connected", detail: null, config: { homeId: SIM_HOME_ID, homeName: "Test Home", generation: "PRE_LINE_X", connectCalls: 2 } }, Date.now());
    r.fx.vault.put(ACCOUNT, "tado", r.tokens.issue());
    r.fx.events.emit("account_connected", { accountId: ACCOUNT, provider: "tado" });
    await run(60_000);
    expect(r.module.pollers()).toHaveLength(1);
    expect(r.sink.states.get(`${HOME_KEY}/requests_today`)).toBe(String(r.sim.used()));
    for (const z of HEATING) expect(r.sink.available.get(zoneKey(z.id))).toBe(true);
    r.fx.events.emit("account_disconnected", { accountId: ACCOUNT, provider: "tado" });
    await run(60_000);
    expect(r.module.pollers()).toHaveLength(0);
    for (const z of HEATING) {
      expect(r.sink.available.get(zoneKey(z.id))).toBe(false);
      expect(r.sink.devices.has(zoneKey(z.id))).toBe(true);
    }
    const calls = r.sim.requests.length;
    await run(2 * HOUR);
    expect(r.sim.requests.length).toBe(calls);
    await r.module.stop();
  });

  it("zone samples older than retention_days are pruned, newer ones kept", async () => {
    const r = rig();
    const { putSamples } = await import("../../../src/modules/tado/tado-store.js");
    const day = 24 * HOUR;
    const keep = Date.now() - (r.fx.settings.retentionDays - 1) * day;
    const drop = Date.now() - (r.fx.settings.retentionDays + 1) * day;
    await r.start(); // migrates, then prunes once at start; the next prune is a day later
    putSamples(r.fx.db, ACCOUNT, [
      { zoneId: 1, at: drop, temperature: 19, humidity: 50, heatingPower: 10 },
      { zoneId: 1, at: keep, temperature: 20, humidity: 50, heatingPower: 0 },
    ]);
    await run(day + 60_000);
    const left = samplesBetween(r.fx.db, ACCOUNT, 0, Date.now() - 2 * day, 1);
    expect(left.map((s) => s.at)).toEqual([keep]);
    await r.module.stop();
  });
});

describe("tado module: tokens it cannot use", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 15, 13, 0), toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => vi.useRealTimers());

  it("revoked by the refresh job: polling stops at once (no call on refused tokens)", async () => {
    const r = rig();
    await r.start();
    await run(30 * 60_000);
    expect(r.module.pollers()).toHaveLength(1);
    r.fx.events.emit("account_status", { accountId: ACCOUNT, provider: "tado", status: "revoked", detail: "refused" });
    await run(60_000);
    const calls = r.sim.requests.length;
    await run(6 * HOUR);
    expect(r.sim.requests.length).toBe(calls);
    expect(r.module.pollers()).toHaveLength(0);
    for (const z of HEATING) expect(r.sink.available.get(zoneKey(z.id))).toBe(false);
    await r.module.stop();
  });

  it("tokens the vault cannot decrypt (key changed): a plain error, no call sent", async () => {
    const { TokenVault } = await import("../../../src/auth/token-vault.js");
    const { randomBytes } = await import("node:crypto");
    const r = rig();
    upsertAccount(r.fx.db, { id: ACCOUNT, provider: "tado", label: "Test Home", status: "connected", detail: null, config: { homeId: SIM_HOME_ID, homeName: "Test Home" } }, Date.now());
    r.fx.vault.put(ACCOUNT, "tado", r.tokens.issue());
    const otherKey = new TokenVault(r.fx.db, randomBytes(32));
    const ctx = { settings: r.fx.settings, db: r.fx.db, entities: r.sink, events: r.fx.events, vault: otherKey, log: r.fx.log, now: () => Date.now() } as unknown as ModuleContext;
    await r.module.start(ctx);
    await run(30 * 60_000);
    const a = getAccount(r.fx.db, ACCOUNT)!;
    expect(a.status).toBe("error");
    expect(a.detail).toMatch(/cannot decrypt the tokens.*Connect the Tado account again/);
    expect(r.sim.requests.length).toBe(0);
    await r.module.stop();
  });
});
