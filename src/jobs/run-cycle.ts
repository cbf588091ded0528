import type { Logger } from "../log.js";
import { fetchMaxPower, type MaxPowerOutcome } from "./fetch-max-power.js";
import { fetchMeter, type FetchOutcome } from "./fetch-meter.js";
import { productionEnabled } from "./production-probe.js";
import { syncMeter, type MeterJob, type MeterSummary, type SyncContext } from "./sync-meter.js";

/**
 * One sync cycle over every meter series, sequentially (they may share a gateway's request
 * budget), in the order that gives the user the most for the fewest requests:
 * 1. decide which production series to fetch (`production: auto` costs one request, once);
 * 2. daily totals of every active series (the whole history in a few calls each);
 * 3. daily max power of every consumption series;
 * 4. per series, the load curve (newest first, within the budget) and then the statistics,
 *    anomalies and entities (syncMeter).
 * A production series that is off or has no production is left out of the summaries.
 */
export async function runCycle(ctx: SyncContext, jobs: readonly MeterJob[], log: Logger = ctx.log): Promise<MeterSummary[]> {
  const active: MeterJob[] = [];
  for (const job of jobs) {
    if (!job.productionMode) active.push(job);
    else if (await productionEnabled(ctx.db, job.productionMode, job.meter, job.provider, job.gate, { now: ctx.now, log })) active.push(job);
  }
  const daily = new Map<MeterJob, FetchOutcome>();
  for (const job of active) {
    daily.set(job, await fetchMeter(ctx.db, job.meter, job.provider, job.gate, { now: ctx.now, log, resolutions: ["daily"] }));
  }
  const maxPower = new Map<MeterJob, MaxPowerOutcome>();
  for (const job of active) {
    if (daily.get(job)?.status === "auth_error") continue;
    maxPower.set(job, await fetchMaxPower(ctx.db, job.meter, job.provider, job.gate, { now: ctx.now, log }));
  }
  const out: MeterSummary[] = [];
  for (const job of active) {
    const earlier = daily.get(job)!;
    // After an auth error the token is refused for every resolution: do not spend more calls.
    const resolutions = earlier.status === "auth_error" ? [] : (["load_curve"] as const);
    const mp = maxPower.get(job);
    out.push(await syncMeter(ctx, job, { resolutions, earlier, ...(mp ? { maxPower: mp } : {}) }));
  }
  return out;
}
