/**
 * The scheduler as a shared service: any module registers its daily cycle here (one persisted
 * random minute per window, retries, one serialising runner per registration — see
 * jobs/scheduler.ts), and the root stops every schedule on shutdown.
 */
import { startSchedule, type Schedule } from "../jobs/scheduler.js";
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";

/** What a module asks for: its fair-use window in its provider's zone, and its cycle. */
export interface DailyJob {
  /** Name in logs, e.g. "energy". */
  name: string;
  window: [string, string];
  timezone: string;
  /** Run once right away (first start: backfill). */
  runAtStart: boolean;
  /** Resolves to true when the cycle wants a retry later today. */
  cycle: () => Promise<boolean>;
}

/** See the file comment. */
export interface SchedulerService {
  daily(job: DailyJob): Schedule;
  /** Next daily run (UTC ms) of every schedule, in registration order. */
  nextRuns(): number[];
  /** Stops every schedule; resolves true when every running cycle finished within `timeoutMs`. */
  stopAll(timeoutMs: number): Promise<boolean>;
}

/** The service over the store (persisted minutes) and the logger. */
export function createSchedulerService(db: Db, log: Logger, now?: () => number): SchedulerService {
  const schedules: Schedule[] = [];
  return {
    daily(job) {
      const s = startSchedule({
        db,
        window: job.window,
        timezone: job.timezone,
        runAtStart: job.runAtStart,
        cycle: job.cycle,
        log: log.child({ module: job.name }),
        ...(now ? { now } : {}),
      });
      schedules.push(s);
      return s;
    },
    nextRuns: () => schedules.map((s) => s.nextRun()).filter((t): t is number => t !== null),
    async stopAll(timeoutMs) {
      const results = await Promise.all(schedules.splice(0).map((s) => s.stop(timeoutMs)));
      return results.every(Boolean);
    },
  };
}
