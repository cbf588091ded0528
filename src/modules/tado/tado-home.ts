/**
 * The poller of one connected Tado home (account `tado_<homeId>`): at start and once per budget
 * day `/me`, `/homes/{id}` and `/homes/{id}/zones`; otherwise ONE `/homes/{id}/zoneStates` call per
 * poll for every zone, paced by tado-budget.ts (own daily count in `tado_requests`, committed
 * before each call; Tado's `RateLimit` remaining; the reserve never spent; after a 429 nothing is
 * sent before the reset the headers give, kept across restarts in `tado_quota`).
 *
 * Per poll: zone temperature / humidity / heating power go to the zone devices and to
 * `tado_zone_samples`; Tado's remaining quota and reset to the home device. Failures become the
 * account's status and detail (store/accounts.ts + `account_status`), in plain words:
 * - 401 → the tokens are renewed once (vault.refresh: rotated token committed first) and the call
 *   retried; still refused, or the refresh token refused → `revoked` (connect again);
 * - a body that is not JSON / of the wrong shape, a zone not in the zone list → `error`; nothing
 *   from a bad body is stored or published, nothing stored before is touched;
 * - no answer → the zones go unavailable (never deleted); a tado X home → `error`, not polled.
 * Instants are UTC epoch ms.
 */
import { VaultError, type StoredTokens, type TokenSet, type TokenVault } from "../../auth/token-vault.js";
import type { Account, AccountStatus } from "../../domain/types.js";
import type { DeviceSink } from "../../homeassistant/entities/device-sink.js";
import type { Logger } from "../../log.js";
import { createTadoApi, TADO_X_GENERATION, TadoApiError, tadoXNotSupported, type TadoApi, type TadoZoneReading } from "../../providers/tado-api.js";
import type { RateLimitInfo } from "../../providers/tado-ratelimit.js";
import type { Db } from "../../store/db.js";
import { budgetWindow, callsLeft, DAILY_REFRESH_CALLS, planNextPoll, type PollPlan } from "./tado-budget.js";
import { HOME_ENTITIES, homeDevice, homeDeviceKey, numberPayload, timestampPayload, ZONE_ENTITIES, zoneDevice, zoneDeviceKey } from "./tado-entities.js";
import { countRequests, getQuota, listZones, putQuota, putSamples, replaceZones, requestsOn, type StoredZone, type ZoneSample } from "./tado-store.js";

/** Renew an access token this long before it expires (ms). */
const TOKEN_MARGIN_MS = 60_000;
/** Wait after a failure that spent no call (token endpoint down), or after a network error (ms). */
const RETRY_MS = 10 * 60_000;

/** What a home poller needs (the module builds it from its context). */
export interface TadoHomeDeps {
  db: Db;
  vault: TokenVault;
  entities: DeviceSink;
  log: Logger;
  now: () => number;
  apiUrl: string;
  fetch?: typeof fetch;
  /** The flow's refresher (auth/flows/tado.ts), called only through vault.refresh. */
  refresher: (current: StoredTokens) => Promise<TokenSet>;
  limit: number;
  reserve: number;
  /** Sets the account's status (store + `account_status` event) when it changed. */
  setStatus: (status: AccountStatus, detail: string | null) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

class BudgetSpent extends Error {}

/** See the file comment. */
export class TadoHome {
  readonly accountId: string;
  readonly homeId: number;
  private homeName: string;
  private generation: string | undefined;
  private zones: StoredZone[];
  private refreshedDay: string | null = null;
  /** Budget day of the one extra zone-list read an unknown zone may trigger. */
  private extraRefreshDay: string | null = null;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastPlan: PollPlan | undefined;
  private problem: string | null = null;
  private readonly api: TadoApi;
  private readonly published = new Map<string, { entity: string; payload: string }[]>();

  constructor(
    account: Account,
    private readonly deps: TadoHomeDeps,
  ) {
    this.accountId = account.id;
    this.homeId = Number(account.config.homeId);
    this.homeName = String(account.config.homeName ?? account.label);
    this.generation = typeof account.config.generation === "string" ? account.config.generation : undefined;
    this.zones = listZones(deps.db, account.id);
    this.api = createTadoApi({
      baseUrl: deps.apiUrl,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      now: deps.now,
      beforeRequest: () => this.spend(),
      onResponse: (_status, rl) => this.recordQuota(rl),
    });
  }

  /** Declares the devices known from the store (zones unavailable until a poll succeeds) and polls now. */
  async start(): Promise<void> {
    await this.declare();
    for (const z of this.heatingZones()) await this.deps.entities.setDeviceAvailable(zoneDeviceKey(this.homeId, z.zoneId), false);
    this.schedule(0);
  }

  /** Stops polling, waits for a running poll; zones go unavailable (never removed). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) (this.deps.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    await this.running?.catch(() => undefined);
    await this.setZonesAvailable(false).catch(() => undefined);
  }

  /** One plain sentence when something is wrong, else null. */
  health(): string | null {
    return this.problem;
  }

  /** The next poll planned (for logs and tests). */
  nextPlan(): PollPlan | undefined {
    return this.lastPlan;
  }

  /** Re-publishes the last states (REST states do not survive an HA restart). */
  async republish(): Promise<void> {
    for (const [device, messages] of this.published) await this.deps.entities.publishDeviceStates(device, messages);
  }

  /** Resolves once no poll is running (tests, shutdown). */
  async whenIdle(): Promise<void> {
    await this.running;
  }

  /** One poll (what the timer runs); joins the running one if any; never throws. */
  poll(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.pollOnce()
      .catch((err: Error) => this.deps.log.error(`tado ${this.accountId}: poll failed: ${err.message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) (this.deps.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    const set = this.deps.setTimer ?? ((fn: () => void, d: number) => setTimeout(fn, d).unref());
    this.timer = set(() => void this.poll(), Math.max(0, ms));
  }

  private scheduleByPlan(): void {
    const now = this.deps.now();
    const plan = planNextPoll(this.paceInput(now));
    this.lastPlan = plan;
    this.deps.log.debug(`tado ${this.accountId}: next poll ${new Date(plan.at).toISOString()} (${plan.reason}, ${plan.left} calls left)`);
    this.schedule(plan.at - now);
  }

  private paceInput(now: number) {
    const w = budgetWindow(now);
    return { now, limit: this.deps.limit, reserve: this.deps.reserve, used: requestsOn(this.deps.db, this.accountId, w.day), quota: getQuota(this.deps.db, this.accountId) };
  }

  /** Counts one call before it is sent; refuses it when it would reach into the reserve. */
  private spend(): void {
    const now = this.deps.now();
    if (callsLeft(this.paceInput(now)) < 1) throw new BudgetSpent("the daily Tado budget for polling is spent");
    countRequests(this.deps.db, this.accountId, budgetWindow(now).day);
  }

  private recordQuota(rl: RateLimitInfo): void {
    const now = this.deps.now();
    const prev = getQuota(this.deps.db, this.accountId);
    putQuota(this.deps.db, this.accountId, {
      remaining: rl.remaining ?? prev?.remaining ?? null,
      quota: rl.quota ?? prev?.quota ?? null,
      resetAt: rl.resetS !== undefined ? now + rl.resetS * 1000 : null,
      observedAt: now,
      pausedUntil: prev?.pausedUntil ?? null,
    });
  }

  private heatingZones(): StoredZone[] {
    return this.zones.filter((z) => z.type === "HEATING");
  }

  private async declare(): Promise<void> {
    await this.deps.entities.declareDevice(homeDevice(this.homeId, this.homeName, this.generation), HOME_ENTITIES);
    for (const z of this.heatingZones()) await this.deps.entities.declareDevice(zoneDevice(this.homeId, z.zoneId, z.name), ZONE_ENTITIES);
  }

  private async setZonesAvailable(available: boolean): Promise<void> {
    for (const z of this.heatingZones()) await this.deps.entities.setDeviceAvailable(zoneDeviceKey(this.homeId, z.zoneId), available);
  }

  private async publish(device: string, messages: { entity: string; payload: string }[]): Promise<void> {
    const prev = new Map((this.published.get(device) ?? []).map((m) => [m.entity, m]));
    for (const m of messages) prev.set(m.entity, m);
    this.published.set(device, [...prev.values()]);
    await this.deps.entities.publishDeviceStates(device, messages);
  }

  private async publishQuota(): Promise<void> {
    const now = this.deps.now();
    const w = budgetWindow(now);
    const q = getQuota(this.deps.db, this.accountId);
    const reset = q?.pausedUntil && q.pausedUntil > now ? q.pausedUntil : q?.resetAt && q.resetAt > now ? q.resetAt : w.end;
    await this.publish(homeDeviceKey(this.homeId), [
      { entity: "quota_remaining", payload: numberPayload(q?.remaining ?? null) },
      { entity: "quota_reset", payload: timestampPayload(reset) },
      { entity: "requests_today", payload: String(requestsOn(this.deps.db, this.accountId, w.day)) },
    ]);
  }

  private report(status: AccountStatus, detail: string | null): void {
    this.problem = detail;
    this.deps.setStatus(status, detail);
    if (detail) this.deps.log.warn(`tado ${this.accountId}: ${detail}`);
  }

  /** A valid access token, renewed through the vault when it expires within a minute. */
  private async token(force = false): Promise<string> {
    const current = this.deps.vault.get(this.accountId);
    if (!current) throw new TadoApiError("unauthorized", "no Tado tokens are stored for this home");
    if (!force && (current.expiresAt === undefined || current.expiresAt - this.deps.now() > TOKEN_MARGIN_MS)) return current.accessToken;
    const renewed = await this.deps.vault.refresh(this.accountId, this.deps.refresher);
    return renewed.accessToken;
  }

  /** Runs `call` with the token; on 401 renews the tokens once and retries. */
  private async authorized<T>(call: (token: string) => Promise<T>): Promise<T> {
    try {
      return await call(await this.token());
    } catch (err) {
      if (!(err instanceof TadoApiError) || err.code !== "unauthorized" || !this.deps.vault.get(this.accountId)) throw err;
      return call(await this.token(true));
    }
  }

  private async pollOnce(): Promise<void> {
    if (this.stopped) return;
    const now = this.deps.now();
    const quota = getQuota(this.deps.db, this.accountId);
    if (quota?.pausedUntil && quota.pausedUntil > now) return this.scheduleByPlan();
    const w = budgetWindow(now);
    const left = callsLeft(this.paceInput(now));
    const refreshDue = this.refreshedDay !== w.day || this.zones.length === 0;
    try {
      if (refreshDue && left >= DAILY_REFRESH_CALLS + 1) {
        const supported = await this.refreshHome();
        this.refreshedDay = w.day;
        if (!supported) {
          await this.publishQuota();
          return this.schedule(w.end - this.deps.now());
        }
      }
      if (this.zones.length === 0 || callsLeft(this.paceInput(this.deps.now())) < 1) {
        await this.publishQuota();
        return this.scheduleByPlan();
      }
      const states = await this.authorized((t) => this.api.zoneStates(t, this.homeId));
      await this.apply(states.data);
      await this.publishQuota();
      this.scheduleByPlan();
    } catch (err) {
      await this.failed(err);
    }
  }

  /** `/me`, `/homes/{id}`, `/zones`; false for a tado X home (reported, not polled). */
  private async refreshHome(): Promise<boolean> {
    const me = await this.authorized((t) => this.api.me(t));
    if (!me.data.homes.some((h) => h.id === this.homeId)) {
      throw new TadoApiError("not_found", `home ${this.homeId} is no longer in this Tado account`);
    }
    const home = await this.authorized((t) => this.api.home(t, this.homeId));
    this.homeName = home.data.name;
    this.generation = home.data.generation;
    if (home.data.generation === TADO_X_GENERATION) {
      this.report("error", tadoXNotSupported(home.data.name));
      await this.deps.entities.declareDevice(homeDevice(this.homeId, this.homeName, this.generation), HOME_ENTITIES);
      return false;
    }
    const zones = await this.authorized((t) => this.api.zones(t, this.homeId));
    this.zones = zones.data.map((z) => ({ zoneId: z.id, name: z.name, type: z.type }));
    replaceZones(this.deps.db, this.accountId, this.zones);
    await this.declare();
    return true;
  }

  private async apply(readings: TadoZoneReading[]): Promise<void> {
    const at = this.deps.now();
    const known = new Map(this.heatingZones().map((z) => [z.zoneId, z]));
    const listed = new Set(this.zones.map((z) => z.zoneId));
    const unknown = readings.filter((r) => !listed.has(r.zoneId)).map((r) => r.zoneId);
    const samples: ZoneSample[] = [];
    for (const r of readings) {
      const zone = known.get(r.zoneId);
      if (!zone) continue;
      const key = zoneDeviceKey(this.homeId, zone.zoneId);
      if (!r.online) {
        await this.deps.entities.setDeviceAvailable(key, false);
        continue;
      }
      if (r.temperature !== null || r.humidity !== null || r.heatingPower !== null) {
        samples.push({ zoneId: r.zoneId, at, temperature: r.temperature, humidity: r.humidity, heatingPower: r.heatingPower });
      }
    }
    putSamples(this.deps.db, this.accountId, samples);
    for (const r of readings) {
      const zone = known.get(r.zoneId);
      if (!zone || !r.online) continue;
      const key = zoneDeviceKey(this.homeId, zone.zoneId);
      await this.publish(key, [
        { entity: "temperature", payload: numberPayload(r.temperature) },
        { entity: "humidity", payload: numberPayload(r.humidity) },
        { entity: "heating_power", payload: numberPayload(r.heatingPower) },
      ]);
      await this.deps.entities.setDeviceAvailable(key, true);
    }
    if (unknown.length > 0) {
      this.report(
        "error",
        `Tado reported zone${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}, not in the zone list of "${this.homeName}"; ` +
          "ignored until the zone list lists it (read again once now, then once a day). The other zones were updated.",
      );
      // A zone added since the last read: read the list again at the next poll, once per budget day.
      const day = budgetWindow(at).day;
      if (this.extraRefreshDay !== day) {
        this.extraRefreshDay = day;
        this.refreshedDay = null;
      }
    } else {
      this.report("connected", null);
    }
  }

  private async failed(err: unknown): Promise<void> {
    const now = this.deps.now();
    if (err instanceof BudgetSpent) {
      await this.publishQuota();
      return this.scheduleByPlan();
    }
    if (err instanceof TadoApiError) {
      switch (err.code) {
        case "rate_limited": {
          const s = err.details.rateLimit?.resetS ?? err.details.retryAfterS;
          const until = s !== undefined ? now + s * 1000 : budgetWindow(now).end;
          const q = getQuota(this.deps.db, this.accountId);
          putQuota(this.deps.db, this.accountId, {
            remaining: 0,
            quota: q?.quota ?? null,
            resetAt: until,
            observedAt: now,
            pausedUntil: until,
          });
          this.problem = `Tado's daily request quota is used up (HTTP 429); polling resumes at ${new Date(until).toISOString()}`;
          this.deps.log.warn(`tado ${this.accountId}: ${this.problem}`);
          await this.publishQuota();
          return this.scheduleByPlan();
        }
        case "unauthorized":
          this.report("revoked", `Tado refused the access (${err.message}). Connect the Tado account again from the add-on's page.`);
          await this.setZonesAvailable(false);
          return; // nothing more until the account is connected again
        case "network":
        case "http":
          this.report("error", `${err.message}; the zones show unavailable until Tado answers again.`);
          await this.setZonesAvailable(false);
          await this.publishQuota();
          return this.schedule(Math.max(RETRY_MS, planNextPoll(this.paceInput(now)).at - now));
        default:
          this.report("error", err.message);
          await this.publishQuota();
          return this.scheduleByPlan();
      }
    }
    if (err instanceof VaultError) {
      this.report("error", `${err.message}. Connect the Tado account again from the add-on's page.`);
      await this.setZonesAvailable(false);
      return;
    }
    // The token endpoint: openid-client's error (invalid_grant = the refresh token is gone).
    const oauth = (err as { error?: unknown }).error;
    if (oauth === "invalid_grant" || oauth === "invalid_client" || (err as { code?: unknown }).code === "reconnect_required") {
      this.report("revoked", "Tado refused the refresh token (it expired or was revoked). Connect the Tado account again from the add-on's page.");
      await this.setZonesAvailable(false);
      return;
    }
    this.report("error", `Tado's sign-in service did not answer (${(err as Error).message}); trying again later.`);
    await this.setZonesAvailable(false);
    this.schedule(RETRY_MS);
  }
}
