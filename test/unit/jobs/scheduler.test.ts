import { DateTime } from "luxon";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Logger } from "../../../src/log.js";
import { openStore, type Db } from "../../../src/store/db.js";
import { scheduleMinute, startSchedule, type Schedule } from "../../../src/jobs/scheduler.js";

const ZONE = "Europe/Paris";
const HOUR = 3_600_000;
const MIN = 60_000;

describe("scheduleMinute", () => {
  it("picks a minute inside the window and keeps it across calls", () => {
    const db = openStore(":memory:");
    const first = scheduleMinute(db, ["06:00", "10:00"], () => 0.999);
    expect(first).toEqual({ hour: 9, minute: 59 });
    expect(scheduleMinute(db, ["06:00", "10:00"], () => 0)).toEqual(first);
    const other = scheduleMinute(openStore(":memory:"), ["06:00", "10:00"], () => 0);
    expect(other).toEqual({ hour: 6, minute: 0 });
  });

  it("spreads installs over the whole window", () => {
    const minutes = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const { hour, minute } = scheduleMinute(openStore(":memory:"), ["06:00", "10:00"]);
      expect(hour * 60 + minute).toBeGreaterThanOrEqual(360);
      expect(hour * 60 + minute).toBeLessThan(600);
      minutes.add(hour * 60 + minute);
    }
    expect(minutes.size).toBeGreaterThan(100);
  });
});

// ---- simulated days -------------------------------------------------------------------------

const silentLog = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, fatal() {} } as unknown as Logger;
const local = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toMillis();
const dayOf = (ms: number) => DateTime.fromMillis(ms, { zone: ZONE }).toISODate()!;
const hhmm = (ms: number) => DateTime.fromMillis(ms, { zone: ZONE }).toFormat("HH:mm");
const prevDay = (day: string) => DateTime.fromISO(day, { zone: ZONE }).minus({ days: 1 }).toISODate()!;

/** A store whose persisted minutes put the daily run at 08:12 and the afternoon attempt at 14:30. */
function storeWithMinutes(): Db {
  const db = openStore(":memory:");
  scheduleMinute(db, ["06:00", "10:00"], () => 0.55); // 360 + 132 = 08:12
  scheduleMinute(db, ["14:00", "15:00"], () => 0.5); // 14:30
  return db;
}

/**
 * A fake cycle over a fake provider: `publishedAt(day)` is when the provider has `day`'s data.
 * Each cycle takes `durationMs(start)` (fake time), stores every published day it sees at its start,
 * and asks for a retry while yesterday (local) is missing — like the `run` command's cycle.
 */
function fakeCycle(publishedAt: (day: string) => number, durationMs: (start: number) => number = () => 5 * MIN) {
  const stats = { active: 0, maxActive: 0, starts: [] as number[], ends: [] as number[], arrival: new Map<string, number>() };
  const days: string[] = [];
  const cycle = async (): Promise<boolean> => {
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    const start = Date.now();
    stats.starts.push(start);
    try {
      await new Promise((r) => setTimeout(r, durationMs(start)));
      const yesterday = prevDay(dayOf(start));
      for (let d = yesterday, i = 0; i < 10; d = prevDay(d), i++) {
        if (!stats.arrival.has(d) && publishedAt(d) <= start) stats.arrival.set(d, start);
        if (!days.includes(d)) days.push(d);
      }
      return !stats.arrival.has(yesterday);
    } finally {
      stats.active--;
      stats.ends.push(Date.now());
    }
  };
  return { cycle, stats };
}

function cyclesPerDay(starts: number[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of starts) (out[dayOf(s)] ??= []).push(hhmm(s));
  return out;
}

let schedule: Schedule | null = null;
afterEach(async () => {
  vi.useRealTimers(); // first, so stop(0)'s bound is a real timer
  if (schedule) await schedule.stop(0);
  schedule = null;
});

describe("startSchedule over simulated days (fake clock, Europe/Paris)", () => {
  it("fake timers fake Date and croner fires on them", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(local("2026-03-28T23:00"));
    expect(Date.now()).toBe(local("2026-03-28T23:00"));
    const { cycle, stats } = fakeCycle(() => 0);
    schedule = startSchedule({ db: storeWithMinutes(), window: ["06:00", "10:00"], timezone: ZONE, runAtStart: false, cycle, log: silentLog });
    // The night of the spring-forward change (02:00 → 03:00 on 2026-03-29): 08:12 local is 06:12 UTC.
    expect(schedule.nextRun()).toBe(Date.UTC(2026, 2, 29, 6, 12));
    await vi.advanceTimersByTimeAsync(9 * HOUR);
    expect(stats.starts.map((s) => new Date(s).toISOString())).toEqual(["2026-03-29T06:12:00.000Z"]);
  });

  it("eight days across the DST change: no overlap, retries reset daily, D-1 arrives on D once published, bounded cycles", async () => {
    vi.useFakeTimers();
    const start = local("2026-03-26T07:00");
    vi.setSystemTime(start);
    // When the provider publishes D-1, per D (local). null: not that day — it comes the next morning.
    const publishOn: Record<string, string | null> = {
      "2026-03-26": "08:40",
      "2026-03-27": "08:40",
      "2026-03-28": "13:30", // not before the early afternoon
      "2026-03-29": "08:40", // DST change day (23 h)
      "2026-03-30": null, // 03-29 only published on 03-31, with 03-30
      "2026-03-31": "07:00",
      "2026-04-01": "09:00",
      "2026-04-02": "08:40",
    };
    const publishedAt = (d: string): number => {
      let on = DateTime.fromISO(d, { zone: ZONE }).plus({ days: 1 });
      while (publishOn[on.toISODate()!] === null) on = on.plus({ days: 1 });
      const t = publishOn[on.toISODate()!];
      return t === undefined ? (on.toISODate()! < "2026-03-26" ? 0 : Infinity) : local(`${on.toISODate()}T${t}`);
    };
    // The first start backfills for 90 minutes (07:00–08:30), across the 08:12 daily run.
    const { cycle, stats } = fakeCycle(publishedAt, (s) => (s === start ? 90 * MIN : 5 * MIN));
    schedule = startSchedule({ db: storeWithMinutes(), window: ["06:00", "10:00"], timezone: ZONE, runAtStart: true, cycle, log: silentLog });
    await vi.advanceTimersByTimeAsync(local("2026-04-03T00:00") - start);

    // Never two cycles at once; every cycle started after the previous one ended.
    expect(stats.maxActive).toBe(1);
    for (let i = 1; i < stats.starts.length; i++) expect(stats.starts[i]).toBeGreaterThanOrEqual(stats.ends[i - 1]!);

    const perDay = cyclesPerDay(stats.starts);
    expect(perDay).toEqual({
      // first start; the 08:12 daily run falls inside it and is not run on top of it; retry 1 h after it ends
      "2026-03-26": ["07:00", "09:30"],
      "2026-03-27": ["08:12", "09:17"],
      // three hourly retries, then the early-afternoon attempt finds it
      "2026-03-28": ["08:12", "09:17", "10:22", "11:27", "14:30"],
      // the day after retries were used up, they are available again (and 08:12 on the 23 h day)
      "2026-03-29": ["08:12", "09:17"],
      // yesterday never comes today: daily + 3 retries + afternoon, then nothing until tomorrow
      "2026-03-30": ["08:12", "09:17", "10:22", "11:27", "14:30"],
      "2026-03-31": ["08:12"],
      "2026-04-01": ["08:12", "09:17"],
      "2026-04-02": ["08:12", "09:17"],
    });
    // Budget: at most daily + 3 retries + afternoon a day.
    for (const starts of Object.values(perDay)) expect(starts.length).toBeLessThanOrEqual(5);

    // D-1 is stored on D, by the first cycle after it was published (1 h retry spacing, or the
    // afternoon attempt); a day published only on D+1 arrives with the daily run of D+1.
    for (const [day, t] of Object.entries(publishOn)) {
      if (t === null) continue;
      const d1 = prevDay(day);
      const arrived = stats.arrival.get(d1);
      expect(arrived, d1).toBeDefined();
      expect(dayOf(arrived!), d1).toBe(day);
      const findable = Math.max(publishedAt(d1), local(`${day}T08:12`));
      expect(arrived! - findable, d1).toBeLessThanOrEqual(day === "2026-03-28" ? 2 * HOUR : HOUR + 5 * MIN);
    }
    expect(dayOf(stats.arrival.get("2026-03-29")!)).toBe("2026-03-31");
    expect(hhmm(stats.arrival.get("2026-03-29")!)).toBe("08:12");
  }, 120_000); // croner re-plans every 30 s of fake time (~1 ms each): ~25 s for 8 days

  it("never schedules a retry past the local day's end (also on the autumn DST day)", async () => {
    vi.useFakeTimers();
    const start = local("2026-10-24T20:00");
    vi.setSystemTime(start);
    const { cycle, stats } = fakeCycle(() => Infinity); // the provider never publishes
    schedule = startSchedule({
      db: storeWithMinutes(),
      window: ["06:00", "10:00"],
      timezone: ZONE,
      runAtStart: false,
      cycle,
      log: silentLog,
      retryDelayMs: 6 * HOUR,
    });
    await vi.advanceTimersByTimeAsync(local("2026-10-26T09:00") - start);
    expect(stats.maxActive).toBe(1);
    // 08:12, 14:17, 20:22; a third retry would be at 02:27 the next day: not planned. The afternoon
    // slot (14:30) has passed by then. 2026-10-25 is the 25 h day; nothing runs in the night after.
    expect(cyclesPerDay(stats.starts)).toEqual({
      "2026-10-25": ["08:12", "14:17", "20:22"],
      "2026-10-26": ["08:12"],
    });
  });

  it("runNow: runs at once when idle; while a cycle runs, several calls share one follow-up", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(local("2026-05-04T12:00"));
    const { cycle, stats } = fakeCycle(() => 0, () => 10 * MIN);
    schedule = startSchedule({ db: storeWithMinutes(), window: ["06:00", "10:00"], timezone: ZONE, runAtStart: false, cycle, log: silentLog });

    const first = schedule.runNow("web UI");
    expect(schedule.isRunning()).toBe(true);
    await vi.advanceTimersByTimeAsync(MIN);
    const a = schedule.runNow("web UI");
    const b = schedule.runNow("module");
    let settled = 0;
    void a.then(() => settled++);
    void b.then(() => settled++);
    await vi.advanceTimersByTimeAsync(9 * MIN); // first cycle ends, the follow-up starts
    await expect(first).resolves.toBe(true);
    expect(settled).toBe(0);
    expect(stats.starts.length).toBe(2);
    expect(stats.starts[1]).toBe(stats.ends[0]);
    await vi.advanceTimersByTimeAsync(10 * MIN);
    await expect(a).resolves.toBe(true);
    await expect(b).resolves.toBe(true);
    expect(stats.starts.length).toBe(2);
    expect(stats.maxActive).toBe(1);
    expect(schedule.isRunning()).toBe(false);
  });

  it("a scheduled run during a cycle started the previous day is run right after it", async () => {
    vi.useFakeTimers();
    const start = local("2026-05-04T23:00");
    vi.setSystemTime(start);
    // A very long first start (23:00 → 08:30 the next day) that saw 05-03 but not 05-04.
    const { cycle, stats } = fakeCycle((d) => (d <= "2026-05-03" ? 0 : local("2026-05-05T07:00")), (s) => (s === start ? 9.5 * HOUR : 5 * MIN));
    schedule = startSchedule({ db: storeWithMinutes(), window: ["06:00", "10:00"], timezone: ZONE, runAtStart: true, cycle, log: silentLog });
    await vi.advanceTimersByTimeAsync(12 * HOUR);
    expect(stats.maxActive).toBe(1);
    expect(stats.starts.map(hhmm)).toEqual(["23:00", "08:30"]);
    expect(dayOf(stats.arrival.get("2026-05-04")!)).toBe("2026-05-05");
  });

  it("stop() resolves only once the running cycle has finished, and nothing runs afterwards", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(local("2026-05-04T08:00"));
    const { cycle, stats } = fakeCycle(() => Infinity, () => 10 * MIN); // wants retries forever
    schedule = startSchedule({ db: storeWithMinutes(), window: ["06:00", "10:00"], timezone: ZONE, runAtStart: true, cycle, log: silentLog });
    await vi.advanceTimersByTimeAsync(2 * MIN);
    const queued = schedule.runNow("web UI");
    let stopped: boolean | null = null;
    void schedule.stop().then((v) => (stopped = v));
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(stopped).toBeNull();
    expect(stats.active).toBe(1);
    await vi.advanceTimersByTimeAsync(3 * MIN);
    expect(stopped).toBe(true);
    expect(stats.active).toBe(0);
    await expect(queued).resolves.toBe(false); // the coalesced follow-up was cancelled
    await expect(schedule.runNow("late")).resolves.toBe(false);
    await vi.advanceTimersByTimeAsync(3 * 24 * HOUR); // no retry, no daily run
    expect(stats.starts.length).toBe(1);
    expect(schedule.nextRun()).toBeNull();
    expect(schedule.nextRetry()).toBeNull();
  });

  it("stop(timeoutMs) gives up waiting after the bound", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(local("2026-05-04T08:00"));
    const { cycle } = fakeCycle(() => 0, () => HOUR);
    schedule = startSchedule({ db: storeWithMinutes(), window: ["06:00", "10:00"], timezone: ZONE, runAtStart: true, cycle, log: silentLog });
    let stopped: boolean | null = null;
    void schedule.stop(8_000).then((v) => (stopped = v));
    await vi.advanceTimersByTimeAsync(7_000);
    expect(stopped).toBeNull();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(HOUR);
  });
});
