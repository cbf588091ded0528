/**
 * The energy module for Linky meters (Conso API, MyElectricalData, Enedis Data Connect): one job
 * per meter series (meter-jobs.ts), one daily cycle on the shared scheduler in the provider's
 * fair-use window (backfill at first start), entities re-published whenever Home Assistant's link
 * comes back (REST states do not survive an HA restart). Emits `meter_synced` and `anomaly_found`.
 */
import { addDays, today as todayIn } from "../../analysis/days.js";
import { runCycle } from "../../jobs/run-cycle.js";
import type { Schedule } from "../../jobs/scheduler.js";
import { formatSummary, publishSnapshot, type MeterJob, type MeterSummary, type SyncContext } from "../../jobs/sync-meter.js";
import { listAnomalies } from "../../store/anomalies.js";
import { getSyncState } from "../../store/sync-state.js";
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

  /**
   * Builds the jobs and re-publishes on every `ha_ready`, without scheduling anything (what
   * `start` does first; `sync --once` and tests stop here).
   */
  async prepare(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    const { settings } = ctx;
    this.jobs = buildMeterJobs(ctx.db, settings, {
      now: ctx.now,
      log: ctx.log,
      ...(ctx.providerRuntime ? { providerRuntime: ctx.providerRuntime } : {}),
    });
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
    if (settings.meters.length === 0) ctx.log.warn("no meter configured: add one under `meters` in the options");
    this.offReady?.();
    this.offReady = ctx.events.on("ha_ready", () => void this.republish());
    for (const job of this.jobs) {
      const maxPower = (job.meter.flow ?? "consumption") === "consumption" && Boolean(job.provider.fetchMaxPower);
      await ctx.entities.declareMeter(job.meter, { maxPower });
    }
  }

  async start(ctx: ModuleContext): Promise<void> {
    await this.prepare(ctx);
    const first = this.jobs[0];
    const firstStart = this.jobs.some((j) => getSyncState(ctx.db, j.meter.id).lastSuccessAt === null);
    if (first) {
      this.schedule = ctx.scheduler.daily({
        name: this.name,
        window: first.provider.capabilities.scheduleWindow,
        timezone: first.provider.capabilities.timezone,
        runAtStart: firstStart,
        cycle: () => this.scheduledCycle(),
      });
      const next = this.schedule.nextRun();
      if (next) ctx.log.info(`next daily sync ${new Date(next).toISOString()}`);
    }
    await this.republish();
  }

  /** One cycle over every series (jobs/run-cycle.ts); emits `meter_synced` and `anomaly_found`. */
  async runCycle(): Promise<MeterSummary[]> {
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
