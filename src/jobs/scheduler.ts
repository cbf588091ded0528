import { Cron } from "croner";
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";
import { getKv, setKv } from "../store/kv.js";

/** A running schedule; `stop()` cancels every pending run. */
export interface Schedule {
  stop(): void;
  /** Next planned daily run (UTC ms), for the log. */
  nextRun(): number | null;
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

/**
 * Runs `cycle` every day at the persisted random minute of `window` in `timezone` (croner), once
 * right away when `runNow` (first start: backfill), and again one hour after a cycle that asks for
 * a retry (provider or HA unavailable, or yesterday not published yet), at most `maxRetries`
 * times in a row. Overlapping runs are skipped (croner `protect`).
 */
export function startSchedule(opts: {
  db: Db;
  window: [string, string];
  timezone: string;
  runNow: boolean;
  /** Resolves to true when the cycle wants a retry in an hour. */
  cycle: () => Promise<boolean>;
  log: Logger;
  retryDelayMs?: number;
  maxRetries?: number;
}): Schedule {
  const { hour, minute } = scheduleMinute(opts.db, opts.window);
  let retries = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  const run = async (why: string) => {
    opts.log.info(`sync cycle starting (${why})`);
    try {
      const wantsRetry = await opts.cycle();
      if (wantsRetry && retries < (opts.maxRetries ?? 3)) {
        retries++;
        const delay = opts.retryDelayMs ?? 3_600_000;
        opts.log.info(`sync cycle will be retried in ${Math.round(delay / 60_000)} min (retry ${retries})`);
        if (retryTimer) clearTimeout(retryTimer);
        retryTimer = setTimeout(() => void run("retry"), delay);
      } else if (!wantsRetry) retries = 0;
    } catch (err) {
      opts.log.error({ err }, "sync cycle failed");
    }
  };
  const job = new Cron(`${minute} ${hour} * * *`, { timezone: opts.timezone, protect: true }, () => run("daily schedule"));
  opts.log.info(`daily sync scheduled at ${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")} ${opts.timezone}`);
  if (opts.runNow) void run("first start: backfill");
  return {
    stop() {
      job.stop();
      if (retryTimer) clearTimeout(retryTimer);
    },
    nextRun: () => job.nextRun()?.getTime() ?? null,
  };
}
