import { Cron } from "croner";
import { DateTime } from "luxon";
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";
import { getKv, setKv } from "../store/kv.js";

/** What started a cycle. `manual` (and any other free text) comes from `runNow()`. */
export type TriggerKind = "first-start" | "daily" | "retry" | "afternoon" | "manual";

/** A running schedule: the single entry point for every sync cycle. */
export interface Schedule {
  /**
   * Asks for a cycle now (web UI, another module). Runs it at once when idle; while a cycle runs,
   * the request is coalesced into ONE follow-up cycle started right after it (several requests
   * share it). Resolves once that cycle has finished: true when it ran, false when the schedule was
   * stopped first. Never rejects (cycle errors are logged).
   */
  runNow(reason?: string): Promise<boolean>;
  /**
   * Stops the daily schedule, cancels the pending retry and any coalesced follow-up, refuses new
   * triggers, and resolves once the running cycle (if any) has finished: true, or false when
   * `timeoutMs` passed first (the cycle is then abandoned to the process exit).
   */
  stop(timeoutMs?: number): Promise<boolean>;
  /** Next planned daily run (UTC ms), for the log. */
  nextRun(): number | null;
  /** Planned retry or afternoon attempt (UTC ms), or null. */
  nextRetry(): number | null;
  /** True while a cycle runs. */
  isRunning(): boolean;
}

/**
 * Picks (once, then persists in the store) a random minute inside the local window
 * [from, to) ("HH:mm"), so each install hits the gateway at its own time, as the Conso API's
 * author asks (one request a day between 06:00 and 10:00 at a random minute).
 */
export function scheduleMinute(db: Db, window: [string, string], random: () => number = Math.random): { hour: number; minute: number } {
  const key = `schedule_minute:${window.join("-")}`;
  let minuteOfDay = Number(getKv(db, key));
  if (!Number.isInteger(minuteOfDay)) {
    const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
    const [a, b] = [toMin(window[0]), toMin(window[1])];
    minuteOfDay = a + Math.floor(random() * Math.max(1, b - a));
    setKv(db, key, String(minuteOfDay));
  }
  return { hour: Math.floor(minuteOfDay / 60), minute: minuteOfDay % 60 };
}

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * Starts the schedule. Every cycle — first start (backfill), the daily run at the persisted random
 * minute of `window` in `timezone` (croner), retries, the afternoon attempt and `runNow()` — goes
 * through one serialising runner, so two cycles never overlap.
 *
 * Triggers arriving while a cycle runs:
 * - `runNow()` is coalesced into one follow-up cycle right after the current one: the caller wants
 *   a cycle that starts after its request (e.g. settings just changed), which the running one may
 *   not be.
 * - a scheduled trigger (daily, retry, afternoon) is dropped when the running cycle started on the
 *   same local day: that cycle asks the provider for the same D-1 and its own outcome plans the
 *   retry, so a second cycle minutes later would only repeat requests (fair use). When the running
 *   cycle started on an earlier local day (a new D-1 is due), the trigger becomes the follow-up.
 *
 * Retries (when `cycle` resolves to true, or throws), counted per local day and restarted by each
 * daily run: up to `maxRetries` (3) every `retryDelayMs` (1 h), never past the local day's end;
 * then, when yesterday is still missing, one afternoon attempt a day at the persisted random minute
 * of `afternoonWindow` (14:00–15:00; `null` = none), as the Conso API asks ("retry early
 * afternoon"). After that, the next day's daily run catches up (D-1 is sometimes late by a day).
 * At most, on a normal day: 1 daily + `maxRetries` + 1 afternoon cycles, plus `runNow()` calls.
 */
export function startSchedule(opts: {
  db: Db;
  window: [string, string];
  timezone: string;
  /** Run a cycle right away (first start: backfill). */
  runAtStart: boolean;
  /** Resolves to true when the cycle wants a retry (provider/HA unavailable, yesterday missing). */
  cycle: () => Promise<boolean>;
  log: Logger;
  retryDelayMs?: number;
  maxRetries?: number;
  afternoonWindow?: [string, string] | null;
  /** Clock (UTC ms); the daily run follows croner's own clock (`Date`). */
  now?: () => number;
}): Schedule {
  const zone = opts.timezone;
  const now = opts.now ?? Date.now;
  const retryDelayMs = opts.retryDelayMs ?? 3_600_000;
  const maxRetries = opts.maxRetries ?? 3;
  const afternoonWindow = opts.afternoonWindow === undefined ? (["14:00", "15:00"] as [string, string]) : opts.afternoonWindow;
  const { hour, minute } = scheduleMinute(opts.db, opts.window);
  const afternoon = afternoonWindow ? scheduleMinute(opts.db, afternoonWindow) : null;
  const localDay = (ms: number) => DateTime.fromMillis(ms, { zone }).toISODate() ?? "";

  let stopped = false;
  /** The running cycle's drive loop, and the local day its current cycle started on. */
  let current: Promise<void> | null = null;
  let currentDay = "";
  let pending: { why: string; waiters: Array<(ran: boolean) => void> } | null = null;
  /** Retries used in the current series (restarted by the daily run and by a new local day). */
  let retries = { day: "", used: 0, afternoonDone: false };
  let retryTimer: NodeJS.Timeout | null = null;
  let retryAt: number | null = null;

  const clearRetry = () => {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    retryAt = null;
  };

  /** After a cycle that wants a retry: the next attempt today, if any is left. */
  const planRetry = () => {
    const t = now();
    const day = localDay(t);
    if (retries.day !== day) retries = { day, used: 0, afternoonDone: false };
    const local = DateTime.fromMillis(t, { zone });
    const dayEnd = local.startOf("day").plus({ days: 1 }).toMillis();
    let at: number | null = null;
    let kind: TriggerKind = "retry";
    if (retries.used < maxRetries && t + retryDelayMs < dayEnd) {
      retries.used++;
      at = t + retryDelayMs;
    } else if (afternoon && !retries.afternoonDone) {
      const slot = local.set({ hour: afternoon.hour, minute: afternoon.minute, second: 0, millisecond: 0 }).toMillis();
      if (slot > t) {
        retries.afternoonDone = true;
        at = slot;
        kind = "afternoon";
      }
    }
    if (at === null) {
      opts.log.info("no retry left today; the next daily run will catch up");
      return;
    }
    const label = DateTime.fromMillis(at, { zone }).toFormat("HH:mm");
    opts.log.info(
      kind === "retry"
        ? `sync cycle will be retried at ${label} (retry ${retries.used}/${maxRetries} today)`
        : `sync cycle will be retried at ${label} (early-afternoon attempt)`,
    );
    retryAt = at;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      retryAt = null;
      void trigger(kind, kind);
    }, at - t);
  };

  const drive = async (why: string, waiters: Array<(ran: boolean) => void>) => {
    let next: { why: string; waiters: Array<(ran: boolean) => void> } | null = { why, waiters };
    while (next) {
      const job = next;
      next = null;
      currentDay = localDay(now());
      clearRetry(); // this cycle's outcome decides the next retry
      opts.log.info(`sync cycle starting (${job.why})`);
      let wantsRetry: boolean;
      try {
        wantsRetry = await opts.cycle();
      } catch (err) {
        opts.log.error({ err }, "sync cycle failed");
        wantsRetry = true;
      }
      for (const w of job.waiters) w(true);
      if (stopped) break;
      if (pending) {
        next = pending;
        pending = null;
      } else if (wantsRetry) planRetry();
    }
    current = null;
  };

  /** The single entry point: starts, coalesces or drops a trigger. */
  const trigger = (kind: TriggerKind, why: string): Promise<boolean> => {
    if (stopped) return Promise.resolve(false);
    if (kind === "daily") {
      const day = localDay(now());
      retries = { day, used: 0, afternoonDone: retries.day === day && retries.afternoonDone };
    }
    return new Promise<boolean>((resolve) => {
      if (!current) {
        current = drive(why, [resolve]);
        return;
      }
      const scheduled = kind !== "manual";
      if (scheduled && !pending && currentDay === localDay(now())) {
        opts.log.info(`sync cycle (${why}) skipped: a cycle started today is running; its outcome plans the retry`);
        void current.then(() => resolve(false));
        return;
      }
      if (scheduled && pending) {
        opts.log.info(`sync cycle (${why}) merged with the one already queued`);
      } else opts.log.info(`sync cycle (${why}) queued after the running one`);
      if (pending) pending.waiters.push(resolve);
      else pending = { why, waiters: [resolve] };
    });
  };

  const job = new Cron(`${minute} ${hour} * * *`, { timezone: zone }, () => {
    void trigger("daily", "daily schedule");
  });
  opts.log.info(`daily sync scheduled at ${pad(hour)}:${pad(minute)} ${zone}`);
  if (opts.runAtStart) void trigger("first-start", "first start: backfill");

  return {
    runNow: (reason = "manual") => trigger("manual", reason),
    async stop(timeoutMs) {
      stopped = true;
      job.stop();
      clearRetry();
      if (pending) for (const w of pending.waiters) w(false);
      pending = null;
      const running = current;
      if (!running) return true;
      if (timeoutMs === undefined) return running.then(() => true);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      return Promise.race([running.then(() => true), timeout]).finally(() => clearTimeout(timer));
    },
    nextRun: () => (stopped ? null : (job.nextRun()?.getTime() ?? null)),
    nextRetry: () => retryAt,
    isRunning: () => current !== null,
  };
}
