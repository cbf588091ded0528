import { describe, expect, it } from "vitest";
import { openStore } from "../../../src/store/db.js";
import { scheduleMinute } from "../../../src/jobs/scheduler.js";

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
