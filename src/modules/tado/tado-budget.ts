/**
 * The Tado request budget and poll pacing (pure functions; instants UTC epoch ms).
 *
 * Budget day: Tado's quota window resets "normally around 12:00 CET" (home-assistant/core#153308),
 * so our own counter's day runs from 12:00 to 12:00 Europe/Berlin too ({@link TADO_RESET_HOUR},
 * {@link TADO_RESET_ZONE}); where Tado's real reset differs, the `RateLimit` remaining it reports
 * still caps us (the smaller of the two wins).
 *
 * Pacing: calls left for polling = min(own budget − reserve − calls counted today, Tado's
 * remaining − reserve); the next poll comes after (time to the window's end) ÷ (calls left),
 * never sooner than {@link MIN_POLL_INTERVAL_MS}, so polling spreads over the whole day and slows
 * down as the quota shrinks. The reserve is never spent by polling: it is kept for the user's
 * own actions. After a 429 nothing is sent before the pause instant.
 */
import { DateTime } from "luxon";

/** Local hour Tado's window resets (core#153308: "normally around 12:00 CET"). */
export const TADO_RESET_HOUR = 12;
/** Zone of {@link TADO_RESET_HOUR}. */
export const TADO_RESET_ZONE = "Europe/Berlin";
/** Tado's default quota without Auto-Assist (Sept 2025 e-mail, support article 12165739). */
export const TADO_DEFAULT_BUDGET = 100;
/** Hard cap of the budget option: the largest quota Tado ever announced (20 000/day with Auto-Assist). */
export const TADO_HARD_CAP = 20_000;
/** Default reserve kept for the user's own actions. */
export const TADO_DEFAULT_RESERVE = 10;
/** Fastest polling (core's fixed 5 min interval; faster adds nothing for room temperatures). */
export const MIN_POLL_INTERVAL_MS = 5 * 60_000;
/** Calls of the daily home refresh (`/me`, `/homes/{id}`, `/homes/{id}/zones`). */
export const DAILY_REFRESH_CALLS = 3;

/** One budget window: `day` (Berlin date of its start), [start, end). */
export interface BudgetWindow {
  day: string;
  start: number;
  end: number;
}

/** The budget window holding `now`. */
export function budgetWindow(now: number): BudgetWindow {
  const local = DateTime.fromMillis(now, { zone: TADO_RESET_ZONE });
  let start = local.set({ hour: TADO_RESET_HOUR, minute: 0, second: 0, millisecond: 0 });
  if (start > local) start = start.minus({ days: 1 });
  return { day: start.toISODate()!, start: start.toMillis(), end: start.plus({ days: 1 }).toMillis() };
}

/** The daily limit: the option (default 100), within [1, {@link TADO_HARD_CAP}]. */
export function effectiveTadoBudget(option: number | undefined): number {
  return Math.max(1, Math.min(option ?? TADO_DEFAULT_BUDGET, TADO_HARD_CAP));
}

/** What Tado said last (see tado-store.ts `QuotaRow`). */
export interface QuotaSeen {
  remaining: number | null;
  resetAt: number | null;
  observedAt: number;
  pausedUntil: number | null;
}

/** Inputs of {@link callsLeft} and {@link planNextPoll}. */
export interface PaceInput {
  now: number;
  limit: number;
  reserve: number;
  /** Calls counted in the current window. */
  used: number;
  quota?: QuotaSeen | undefined;
}

/** Calls polling may still send in this window (≥ 0), the reserve excluded. */
export function callsLeft(i: PaceInput): number {
  const w = budgetWindow(i.now);
  let left = i.limit - i.reserve - i.used;
  const q = i.quota;
  // Tado's own count, when read in this window (an older one belongs to a past window).
  // (and not once the reset it announced has passed).
  const stale = q?.resetAt !== null && q?.resetAt !== undefined && q.resetAt <= i.now;
  if (q && q.remaining !== null && q.observedAt >= w.start && !stale) left = Math.min(left, q.remaining - i.reserve);
  return Math.max(0, left);
}

/** When to poll next, and why (for the log). */
export interface PollPlan {
  at: number;
  left: number;
  reason: "paused" | "spent" | "paced";
}

/** See the file comment. */
export function planNextPoll(i: PaceInput): PollPlan {
  const w = budgetWindow(i.now);
  const left = callsLeft(i);
  const paused = i.quota?.pausedUntil ?? null;
  if (paused !== null && paused > i.now) return { at: paused, left, reason: "paused" };
  if (left <= 0) {
    const reset = i.quota?.resetAt ?? null;
    return { at: reset !== null && reset > i.now ? reset : w.end, left, reason: "spent" };
  }
  const interval = Math.max(MIN_POLL_INTERVAL_MS, Math.ceil((w.end - i.now) / left));
  return { at: i.now + interval, left, reason: "paced" };
}
