/**
 * The Ecolyo module (name "ecolyo"): every connected Cozy account (store/accounts.ts, provider
 * `cozy`, config `{ instance }`, tokens in the vault) gives three series — electricity, gas,
 * water (ecolyo-jobs.ts) — synced through the same shared pipeline as Linky (jobs/run-cycle.ts:
 * provider → store → analysis → statistics writer, anomalies, entities): the whole history the
 * Cozy holds at the first cycle, then once a day in the 09:00–12:00 Europe/Paris window. An
 * account connected from the page is synced at once; a disconnected one is dropped (its data
 * stays). A token the Cozy refuses marks the account `revoked` (the accounts module tells the
 * user). Water also gets the night-flow leak flag when sub-daily water data exists (never with
 * Ecolyo's daily water doctype; see analysis/leak.ts).
 */
import { changeAccountStatus } from "../../auth/flows/account-store.js";
import { addDays, dayStart, today as todayIn } from "../../analysis/days.js";
import { nightFlow } from "../../analysis/leak.js";
import type { Account } from "../../domain/types.js";
import { runCycle } from "../../jobs/run-cycle.js";
import type { Schedule } from "../../jobs/scheduler.js";
import { formatSummary, publishSnapshot, type MeterJob, type MeterSummary, type SyncContext } from "../../jobs/sync-meter.js";
import type { StatisticMeta } from "../../homeassistant/statistics.js";
import { getAccount, listAccounts } from "../../store/accounts.js";
import { readingsBetween } from "../../store/readings.js";
import { getSyncState } from "../../store/sync-state.js";
import type { Module, ModuleContext, ModuleHealth } from "../module.js";
import { ecolyoEntitySink, type LeakState } from "./ecolyo-entities.js";
import { buildEcolyoJobs } from "./ecolyo-jobs.js";

/** Options: `schedule: false` builds and syncs on demand only (tests, the demo drive `runCycle`). */
export interface EcolyoModuleOptions {
  schedule?: boolean;
  gasUnit?: "kWh" | "m³";
}

/** See the file comment. */
export class EcolyoModule implements Module {
  readonly name = "ecolyo";
  private ctx: ModuleContext | undefined;
  private sync: SyncContext | undefined;
  private byAccount = new Map<string, MeterJob[]>();
  private statistics = new Map<string, StatisticMeta>();
  private schedule: Schedule | undefined;
  private offs: (() => void)[] = [];
  private last: MeterSummary[] = [];
  private running: Promise<unknown> = Promise.resolve();

  /** The first sync of the latest account connected from the page (resolves when done; never rejects). */
  firstSync: Promise<void> = Promise.resolve();

  constructor(private readonly opts: EcolyoModuleOptions = {}) {}

  /** Every series of every connected Cozy account, in account order. */
  get jobs(): MeterJob[] {
    return [...this.byAccount.values()].flat();
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    this.sync = {
      db: ctx.db,
      get ha() {
        return { conn: ctx.ha.connection, haVersion: ctx.ha.haVersion, rest: ctx.rest };
      },
      entities: ecolyoEntitySink(ctx.entities, this.statistics, (id) => this.leakOf(id)),
      log: ctx.log,
      now: ctx.now,
      retentionDays: ctx.settings.retentionDays,
      anomalyThresholdPercent: ctx.settings.anomalyThresholdPercent,
    };
    for (const account of listAccounts(ctx.db, "cozy")) await this.addAccount(account);
    this.offs = [
      ctx.events.on("account_connected", (e) => {
        if (e.provider === "cozy") this.firstSync = this.accountConnected(e.accountId);
      }),
      ctx.events.on("account_disconnected", (e) => {
        if (e.provider === "cozy") this.dropAccount(e.accountId);
      }),
      ctx.events.on("ha_ready", () => void this.republish()),
    ];
    if (this.byAccount.size === 0) ctx.log.info("ecolyo: no Cozy account connected (connect one from the add-on's page)");
    this.ensureSchedule(this.jobs.some((j) => getSyncState(ctx.db, j.meter.id).lastSuccessAt === null));
    await this.republish();
  }

  /**
   * One cycle over every series (jobs/run-cycle.ts); emits `meter_synced` (and `anomaly_found`
   * for anomalies of the last 7 days); an `auth_error` marks the account revoked. Cycles never
   * overlap (a call waits for the running one).
   */
  runCycle(): Promise<MeterSummary[]> {
    const run = this.running.then(() => this.cycle());
    this.running = run.catch(() => undefined);
    return run;
  }

  private async cycle(): Promise<MeterSummary[]> {
    const ctx = this.ctx!;
    const jobs = this.jobs;
    if (jobs.length === 0) return (this.last = []);
    const summaries = await runCycle(this.sync!, jobs);
    const at = ctx.now();
    for (const s of summaries) ctx.events.emit("meter_synced", { meterId: s.meterId, status: s.status, rowsSent: s.rowsSent, at });
    for (const [accountId, accountJobs] of this.byAccount) {
      const mine = summaries.filter((s) => accountJobs.some((j) => j.meter.id === s.meterId));
      const refused = mine.find((s) => s.status === "auth_error");
      const failed = mine.find((s) => s.status === "error");
      if (refused) changeAccountStatus({ ...ctx }, accountId, "revoked", refused.error ?? "The Cozy refused the access token: connect the account again.");
      // Bad data (malformed JSON, a negative value): said on the account's health, nothing stored
      // from it; the next good cycle clears it. A revoked account stays revoked until reconnected.
      else if (failed) changeAccountStatus({ ...ctx }, accountId, "error", `${failed.meterId}: ${failed.error ?? "the last sync failed"}`);
      else if (getAccount(ctx.db, accountId)?.status === "error") changeAccountStatus({ ...ctx }, accountId, "connected", null);
    }
    this.last = summaries;
    return summaries;
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

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    await this.running;
  }

  health(): ModuleHealth {
    const bad = this.last.filter((s) => s.status === "error" || s.status === "auth_error");
    return bad.length === 0
      ? { status: "ok", detail: null }
      : { status: "degraded", detail: bad.map((s) => `${s.meterId}: ${s.status}${s.error ? ` (${s.error})` : ""}`).join("; ") };
  }

  private async addAccount(account: Account): Promise<MeterJob[]> {
    const ctx = this.ctx!;
    let jobs: MeterJob[];
    try {
      jobs = buildEcolyoJobs(ctx.db, account, ctx.vault, {
        now: ctx.now,
        ...(ctx.providerRuntime ? { http: ctx.providerRuntime } : {}),
        ...(this.opts.gasUnit ? { gasUnit: this.opts.gasUnit } : {}),
      });
    } catch (err) {
      ctx.log.error(`ecolyo: account ${account.id}: ${(err as Error).message}`);
      return [];
    }
    this.byAccount.set(account.id, jobs);
    for (const j of jobs) {
      this.statistics.set(j.meter.id, j.statistic);
      await this.sync!.entities.declareMeter(j.meter, { maxPower: false }).catch((err: Error) =>
        ctx.log.error(`declaring ${j.meter.id} failed: ${err.message}`),
      );
    }
    return jobs;
  }

  private async accountConnected(accountId: string): Promise<void> {
    const ctx = this.ctx!;
    const account = getAccount(ctx.db, accountId);
    if (!account) return;
    this.dropAccount(accountId);
    const jobs = await this.addAccount(account);
    if (jobs.length === 0) return;
    this.ensureSchedule(false);
    ctx.log.info(`ecolyo: ${account.label} connected; first sync (the whole history the Cozy holds)`);
    const summaries = await this.runCycle().catch((err: Error) => {
      ctx.log.error(`ecolyo: first sync of ${account.label} failed: ${err.message}`);
      return [];
    });
    for (const s of summaries) ctx.log.info(formatSummary(s));
  }

  private dropAccount(accountId: string): void {
    for (const j of this.byAccount.get(accountId) ?? []) this.statistics.delete(j.meter.id);
    this.byAccount.delete(accountId);
  }

  private ensureSchedule(runAtStart: boolean): void {
    const ctx = this.ctx!;
    const first = this.jobs[0];
    if (this.schedule || !first || this.opts.schedule === false) return;
    this.schedule = ctx.scheduler.daily({
      name: this.name,
      window: first.provider.capabilities.scheduleWindow,
      timezone: first.provider.capabilities.timezone,
      runAtStart,
      cycle: async () => {
        const summaries = await this.runCycle();
        for (const s of summaries) ctx.log.info(formatSummary(s));
        return summaries.some((s) => s.status === "error");
      },
    });
  }

  /** Night-flow verdict of a water series for last night (analysis/leak.ts), null without sub-daily data. */
  private leakOf(meterId: string): LeakState {
    const ctx = this.ctx!;
    const job = this.jobs.find((j) => j.meter.id === meterId);
    if (!job) return null;
    const zone = job.meter.timezone;
    const day = addDays(todayIn(zone, ctx.now()), -1);
    const readings = readingsBetween(ctx.db, meterId, dayStart(day, zone), dayStart(addDays(day, 1), zone));
    return nightFlow(readings, day, zone);
  }
}
