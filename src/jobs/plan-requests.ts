import { addDays } from "../analysis/days.js";
import type { FetchRange, LocalDate, ProviderCapabilities, Resolution } from "../domain/types.js";
import type { DayCoverage } from "../store/coverage.js";

/** Inputs of the fetch planner for one meter. */
export interface PlanInput {
  /** Today in the provider's zone; data is available up to yesterday (D-1). */
  today: LocalDate;
  capabilities: ProviderCapabilities;
  /** First day the provider has, per resolution, when known. */
  historyStart: Partial<Record<Resolution, LocalDate>>;
  coverage: Record<Resolution, ReadonlyMap<LocalDate, DayCoverage>>;
  now: number;
  /** Incomplete days older than this many days are retried at most once per `retryOldAfterDays`. */
  recentDays?: number;
  retryOldAfterDays?: number;
  /**
   * Days before today fetched again every cycle even when complete (default 0): catches late
   * corrections from the provider at no extra request, since they fit in one call.
   */
  recheckDays?: number;
  /** Resolutions to plan, in this order (default daily then load curve). */
  resolutions?: readonly Resolution[];
}

const DAY_MS = 86_400_000;

/**
 * The provider requests needed to complete a meter's history, in the order they should be made:
 * **daily totals first** (the whole history in a few calls of up to 365 days), **then the load
 * curve newest-first** in chunks of at most `maxDaysPerCall` (7 days). A day is wanted when it
 * lies in [today − history depth, today) and after the known history start — the provider's whole
 * history, whatever the local retention (which only prunes the store afterwards) — and
 * is missing from the coverage, or incomplete and either recent (the provider may still deliver
 * it) or last tried long ago. Each request spans only from its oldest to its newest wanted day,
 * so a daily sync asks for one day. Pure.
 */
export function planRequests(input: PlanInput): FetchRange[] {
  const out: FetchRange[] = [];
  for (const resolution of input.resolutions ?? (["daily", "load_curve"] as const)) {
    const cap = input.capabilities.resolutions[resolution];
    if (!cap) continue;
    let first = addDays(input.today, -cap.historyDays);
    const known = input.historyStart[resolution];
    if (known && known > first) first = known;
    for (const range of chunkNewestFirst(wantedDays(input, resolution, first), cap.maxDaysPerCall)) out.push({ resolution, ...range });
  }
  return out;
}

/** Wanted days of one resolution, newest first. */
function wantedDays(input: PlanInput, resolution: Resolution, first: LocalDate): LocalDate[] {
  const recentFrom = addDays(input.today, -(input.recentDays ?? 7));
  const retryBefore = input.now - (input.retryOldAfterDays ?? 7) * DAY_MS;
  const recheckFrom = addDays(input.today, -(input.recheckDays ?? 0));
  const coverage = input.coverage[resolution];
  const days: LocalDate[] = [];
  for (let d = addDays(input.today, -1); d >= first; d = addDays(d, -1)) {
    const c = coverage.get(d);
    if (d >= recheckFrom || !c || (!c.complete && (d >= recentFrom || c.fetchedAt < retryBefore))) days.push(d);
  }
  return days;
}

/**
 * Groups wanted local days (newest first) into request ranges [start, end) of at most `maxDays`
 * calendar days, newest first, each spanning only from its oldest to its newest wanted day.
 */
export function chunkNewestFirst(wanted: readonly LocalDate[], maxDays: number): { start: LocalDate; end: LocalDate }[] {
  const out: { start: LocalDate; end: LocalDate }[] = [];
  let i = 0;
  while (i < wanted.length) {
    const newest = wanted[i]!;
    const floor = addDays(newest, -(maxDays - 1));
    let oldest = newest;
    while (i < wanted.length && wanted[i]! >= floor) oldest = wanted[i++]!;
    out.push({ start: oldest, end: addDays(newest, 1) });
  }
  return out;
}
