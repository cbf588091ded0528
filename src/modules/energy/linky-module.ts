/**
 * The energy module for Linky meters (Conso API, MyElectricalData, Enedis Data Connect): one job
 * per meter series (meter-jobs.ts), one daily cycle on the shared scheduler in the provider's
 * fair-use window (backfill at first start), entities re-published whenever Home Assistant's link
 * comes back (REST states do not survive an HA restart). Emits `meter_synced` and `anomaly_found`.
 */
import { addDays, today as todayIn } from "../../analysis/days.js";
import { ProviderError } from "../../domain/errors.js";
import { runCycle } from "../../jobs/run-cycle.js";
import type { Schedule } from "../../jobs/scheduler.js";
import { formatSummary, publishSnapshot, type MeterJob, type MeterSummary, type SyncContext } from "../../jobs/sync-meter.js";
import { listAnomalies } from "../../store/anomalies.js";
import { getSyncState } from "../../store/sync-state.js";
import { getAccount, listAccounts } from "../../store/accounts.js";
import type { RequestGate } from "../../domain/types.js";
import { accountMeterSources, isLinkyAccount } from "./account-meters.js";
import type { Module, ModuleContext, ModuleHealth } from "../module.js";
import { buildMeterJobs } from "./meter-jobs.js";

/** See the file comment. `jobs`/`runCycle` are for the CLI's `sync --once`, the demo and tests. */
export class LinkyModule implements Module {
  readonly name = "energy";
  jobs: MeterJob[] = [];
  private ctx: ModuleContext | undefined;
  private sync: SyncContext | undefined;
  private schedule: Schedule | undefined;
  private offReady: (() => void) | undefined;
  private last: MeterSummary[] = [];
  private gates = new Map<string, RequestGate>();
  /** Jobs of meters that come from accounts, by account id. */
  private accountJobs = new Map<string, MeterJob[]>();
  private offAccounts: (() => void)[] = [];
  private lock: Promise<unknown> = Promise.resolve();
  /** The first sync of a meter connected from the page (resolves when it finished); tests await it. */
  firstSync: Promise<unknown> = Promise.resolve();

  /**
   * Builds the jobs and re-publishes on every `ha_ready`, without scheduling anything (what
   * `start` does first; `sync --once` and tests stop here).
   */
  async prepare(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    const { settings } = ctx;
    this.gates = new Map();
    this.jobs = buildMeterJobs(ctx.db, settings, this.jobOptions(ctx));
    this.accountJobs = new Map();
    // Meters of connected accounts; one account's bad data never stops the others (nor the module).
    for (const account of listAccounts(ctx.db)) {
      try {
        const known = new Set(this.jobs.map((j) => j.meter.id));
        const sources = accountMeterSources(account, settings, ctx.vault, ctx.log).filter((m) => {
          if (known.has(m.prm)) ctx.log.warn(`meter ${m.prm} comes from another account already; account ${account.id} is not used for it`);
          return !known.has(m.prm);
        });
        if (sources.length === 0) continue;
        const jobs = buildMeterJobs(ctx.db, { ...settings, meters: [] }, this.jobOptions(ctx), sources);
        this.jobs.push(...jobs);
        this.accountJobs.set(account.id, jobs);
      } catch (err) {
        ctx.log.error(`account ${account.id}: ${(err as Error).message}`);
      }
    }
    this.sync = {
      db: ctx.db,
      get ha() {
        return { conn: ctx.ha.connection, haVersion: ctx.ha.haVersion, rest: ctx.rest };
      },
      entities: ctx.entities,
      log: ctx.log,
      now: ctx.now,
      retentionDays: settings.retentionDays,
      anomalyThresholdPercent: settings.anomalyThresholdPercent,
    };
    if (this.jobs.length === 0) ctx.log.warn("no meter configured: connect an account on the add-on's page or add one under `meters` in the options");
    this.offReady?.();
    this.offReady = ctx.events.on("ha_ready", () => void this.republish());
    for (const off of this.offAccounts) off();
    this.offAccounts = [
      ctx.events.on("account_connected", (e) => void this.accountConnected(e.accountId)),
      ctx.events.on("account_disconnected", (e) => void this.accountDisconnected(e.accountId)),
    ];
    for (const job of this.jobs) {
      const maxPower = (job.meter.flow ?? "consumption") === "consumption" && Boolean(job.provider.fetchMaxPower);
      await ctx.entities.declareMeter(job.meter, { maxPower });
    }
  }

  async start(ctx: ModuleContext): Promise<void> {
    await this.prepare(ctx);
    const firstStart = this.jobs.some((j) => getSyncState(ctx.db, j.meter.id).lastSuccessAt === null);
    this.ensureSchedule(firstStart);
    await this.republish();
  }

  private jobOptions(ctx: ModuleContext) {
    // Ores meters read their access token from the vault at every call (the refresh job renews it there).
    const accountToken = async (id: string): Promise<string> => {
      const tokens = ctx.vault.get(id);
      if (!tokens) throw new ProviderError("auth", `account ${id} is not connected: connect it from the add-on's page`);
      return tokens.accessToken;
    };
    return { now: ctx.now, log: ctx.log, gates: this.gates, providerRuntime: { ...ctx.providerRuntime, accountToken } };
  }

  /** The daily schedule, created with the first job (at start, or when a first account connects). */
  private ensureSchedule(runAtStart: boolean): void {
    const ctx = this.ctx!;
    const first = this.jobs[0];
    if (this.schedule || !first) return;
    this.schedule = ctx.scheduler.daily({
      name: this.name,
      window: first.provider.capabilities.scheduleWindow,
      timezone: first.provider.capabilities.timezone,
      runAtStart,
      cycle: () => this.scheduledCycle(),
    });
    const next = this.schedule.nextRun();
    if (next) ctx.log.info(`next daily sync ${new Date(next).toISOString()}`);
  }

  /**
   * An account was connected from the page: (re)builds its meters' jobs (a reconnect replaces the
   * old ones: new token), declares their entities and runs their first sync right away (only
   * those jobs, one ad-hoc run after another).
   */
  async accountConnected(accountId: string): Promise<void> {
    const ctx = this.ctx;
    const account = ctx && getAccount(ctx.db, accountId);
    if (!ctx || !account || !isLinkyAccount(account)) return;
    const dropped = new Set(this.accountJobs.get(accountId) ?? []);
    let jobs: MeterJob[];
    try {
      const known = new Set(this.jobs.filter((j) => !dropped.has(j)).map((j) => j.meter.id));
      const sources = accountMeterSources(account, ctx.settings, ctx.vault, ctx.log).filter((m) => !known.has(m.prm));
      jobs = buildMeterJobs(ctx.db, { ...ctx.settings, meters: [] }, this.jobOptions(ctx), sources);
    } catch (err) {
      ctx.log.error(`account ${accountId}: ${(err as Error).message}`);
      return;
    }
    this.jobs = [...this.jobs.filter((j) => !dropped.has(j)), ...jobs];
    this.accountJobs.set(accountId, jobs);
    for (const job of jobs) {
      const maxPower = (job.meter.flow ?? "consumption") === "consumption" && Boolean(job.provider.fetchMaxPower);
      await ctx.entities.declareMeter(job.meter, { maxPower });
      await ctx.entities.setAvailable(job.meter.id, true);
    }
    this.ensureSchedule(false);
    if (jobs.length === 0) return;
    ctx.log.info(`account ${accountId} connected: first sync of ${jobs.map((j) => j.meter.id).join(", ")}`);
    this.firstSync = this.exclusive(() => this.runJobs(jobs)).catch((err: Error) => ctx.log.error(`first sync of account ${accountId} failed: ${err.message}`));
    await this.firstSync;
  }

  /** An account was disconnected: its meters' jobs stop and their entities go unavailable (history stays). */
  async accountDisconnected(accountId: string): Promise<void> {
    const jobs = this.accountJobs.get(accountId);
    if (!jobs || !this.ctx) return;
    this.accountJobs.delete(accountId);
    const gone = new Set(jobs);
    this.jobs = this.jobs.filter((j) => !gone.has(j));
    for (const job of jobs) await this.ctx.entities.setAvailable(job.meter.id, false).catch(() => undefined);
    this.ctx.log.info(`account ${accountId} disconnected: ${jobs.map((j) => j.meter.id).join(", ")} no longer synced`);
  }

  private async runJobs(jobs: MeterJob[]): Promise<void> {
    const ctx = this.ctx!;
    const summaries = await runCycle(this.sync!, jobs);
    const at = ctx.now();
    for (const s of summaries) {
      ctx.log.info(formatSummary(s));
      ctx.events.emit("meter_synced", { meterId: s.meterId, status: s.status, rowsSent: s.rowsSent, at });
    }
    this.last = [...this.last.filter((l) => !summaries.some((s) => s.meterId === l.meterId)), ...summaries];
  }

  /** One cycle over every series (jobs/run-cycle.ts); emits `meter_synced` and `anomaly_found`. */
  runCycle(): Promise<MeterSummary[]> {
    return this.exclusive(() => this.cycleOnce());
  }

  /**
   * Runs `fn` after every cycle already running or queued (full or first-sync), so two syncs of
   * one meter never overlap (a reconnect replaces a job while a scheduled cycle may use the old one).
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async cycleOnce(): Promise<MeterSummary[]> {
    const ctx = this.ctx!;
    const before = new Map(this.jobs.map((j) => [j.meter.id, new Set(listAnomalies(ctx.db, j.meter.id, 30).map((a) => a.day))]));
    this.last = await runCycle(this.sync!, this.jobs);
    const at = ctx.now();
    for (const s of this.last) {
      ctx.events.emit("meter_synced", { meterId: s.meterId, status: s.status, rowsSent: s.rowsSent, at });
      const known = before.get(s.meterId) ?? new Set();
      const recentFrom = addDays(todayIn("Europe/Paris", at), -7);
      for (const a of listAnomalies(ctx.db, s.meterId, 30)) {
        if (!known.has(a.day) && a.day >= recentFrom) ctx.events.emit("anomaly_found", { anomaly: a });
      }
    }
    return this.last;
  }

  /** Re-publishes every series' entities from the store. */
  async republish(): Promise<void> {
    for (const job of this.jobs) {
      await publishSnapshot(this.sync!, job).catch((err: Error) => this.ctx!.log.error(`publishing ${job.meter.id} failed: ${err.message}`));
    }
  }

  /** The summaries of the latest finished cycle ([] before the first). */
  lastSummaries(): readonly MeterSummary[] {
    return this.last;
  }

  /** A manual cycle through the schedule's single runner (never overlaps a scheduled one). */
  runNow(reason = "manual"): Promise<boolean> {
    return this.schedule ? this.schedule.runNow(reason) : this.runCycle().then(() => true);
  }

  async stop(): Promise<void> {
    this.offReady?.();
    for (const off of this.offAccounts) off();
    this.offAccounts = [];
    await this.firstSync; // never rejects: its failure is logged
    // The root stops the shared scheduler (waiting for a running cycle); nothing else to release.
  }

  health(): ModuleHealth {
    const bad = this.last.filter((s) => s.status === "error" || s.status === "auth_error");
    return bad.length === 0
      ? { status: "ok", detail: null }
      : { status: "degraded", detail: bad.map((s) => `meter ${s.meterId}: ${s.status}${s.error ? ` (${s.error})` : ""}`).join("; ") };
  }

  private async scheduledCycle(): Promise<boolean> {
    const log = this.ctx!.log;
    const summaries = await this.runCycle();
    for (const s of summaries) log.info(formatSummary(s));
    const late = summaries.filter((s) => !s.upToDate && s.status !== "auth_error").map((s) => s.meterId);
    if (late.length) log.info(`yesterday's data is not published yet for ${late.join(", ")} (Enedis publishes D-1 from about 08:00)`);
    return summaries.some((s) => s.status === "error") || late.length > 0;
  }
}
