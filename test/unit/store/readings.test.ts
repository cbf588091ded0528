import { beforeEach, describe, expect, it } from "vitest";
import type { Reading } from "../../../src/domain/types.js";
import { openStore, type Db } from "../../../src/store/db.js";
import { upsertMeter } from "../../../src/store/meters.js";
import {
  clearDirty,
  deleteReadings,
  dirtyCount,
  dirtyRange,
  pruneReadings,
  energyBetween,
  readingsBetween,
  readingsExtent,
  upsertReadings,
} from "../../../src/store/readings.js";
import { METER } from "./helpers.js";

const HOUR = 3_600_000;
const HALF = 1_800_000;
const utc = (iso: string) => Date.parse(iso);
const hh = (iso: string, value: number, quality: string | null = "BRUT"): Reading => ({ start: utc(iso), durationMs: HALF, value, quality });
/** The hours of the meter's dirty span (one span per meter: every dirty hour is in it). */
const dirtyHours = (db: Db) => {
  const r = dirtyRange(db, METER.id);
  return r ? hoursFrom(new Date(r.first).toISOString(), (r.last - r.first) / HOUR + 1) : [];
};
const allReadings = (db: Db) => readingsBetween(db, METER.id, 0, Number.MAX_SAFE_INTEGER);
const hoursFrom = (iso: string, n: number) => Array.from({ length: n }, (_, k) => utc(iso) + k * HOUR);

let db: Db;
beforeEach(() => {
  db = openStore(":memory:");
  upsertMeter(db, METER, 1);
});

describe("upsertReadings", () => {
  const batch = [hh("2026-01-15T10:00:00Z", 120), hh("2026-01-15T10:30:00Z", 80), hh("2026-01-15T11:00:00Z", 0)];

  it("inserts new readings and marks the UTC hours they touch dirty", () => {
    expect(upsertReadings(db, METER.id, batch)).toEqual({ inserted: 3, updated: 0, unchanged: 0 });
    expect(allReadings(db)).toEqual(batch);
    expect(dirtyHours(db)).toEqual([utc("2026-01-15T10:00:00Z"), utc("2026-01-15T11:00:00Z")]);
  });

  it("the same readings twice → unchanged, no dirty hour", () => {
    upsertReadings(db, METER.id, batch);
    clearDirty(db, METER.id, Number.MAX_SAFE_INTEGER);
    expect(upsertReadings(db, METER.id, batch.map((r) => ({ ...r })))).toEqual({ inserted: 0, updated: 0, unchanged: 3 });
    expect(dirtyCount(db, METER.id)).toBe(0);
    expect(dirtyRange(db, METER.id)).toBeNull();
    expect(allReadings(db)).toEqual(batch);
  });

  it("a corrected value replaces the old one and dirties only its hours", () => {
    upsertReadings(db, METER.id, batch);
    clearDirty(db, METER.id, Number.MAX_SAFE_INTEGER);
    const corrected = hh("2026-01-15T11:00:00Z", 42, "CORRIGE");
    expect(upsertReadings(db, METER.id, [batch[0]!, corrected])).toEqual({ inserted: 0, updated: 1, unchanged: 1 });
    expect(allReadings(db)).toEqual([batch[0], batch[1], corrected]);
    expect(dirtyHours(db)).toEqual([utc("2026-01-15T11:00:00Z")]);
  });

  it.each([
    ["one quality", (_i: number) => "BRUT"],
    ["mixed qualities", (i: number) => (i % 3 === 0 ? "CORRIGE" : i % 3 === 1 ? "BRUT" : null)],
  ])("a batch bigger than one statement (1,001 readings, %s) is stored whole", (_, quality) => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ ...hh("2026-01-01T00:00:00Z", i * 0.5), start: utc("2026-01-01T00:00:00Z") + i * HALF, quality: quality(i) }));
    expect(upsertReadings(db, METER.id, many)).toEqual({ inserted: 1001, updated: 0, unchanged: 0 });
    expect(allReadings(db)).toEqual(many);
    expect(dirtyRange(db, METER.id)).toEqual({ first: many[0]!.start, last: many.at(-1)!.start });
  });

  it("refuses readings of a meter the store does not know, naming it", () => {
    expect(() => upsertReadings(db, "99999999999999", batch)).toThrow(/unknown meter "99999999999999"/);
    expect(allReadings(db)).toEqual([]);
  });

  it("a changed quality alone counts as a correction", () => {
    upsertReadings(db, METER.id, batch);
    expect(upsertReadings(db, METER.id, [{ ...batch[0]!, quality: "CORRIGE" }])).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
  });

  it.each([
    ["2026-03-29", "2026-03-28T23:00:00Z", 23],
    ["2026-01-15", "2026-01-14T23:00:00Z", 24],
    ["2026-10-25", "2026-10-24T22:00:00Z", 25],
  ])("a daily reading of %s marks its %i hours dirty", (_day, startIso, n) => {
    upsertReadings(db, METER.id, [{ start: utc(startIso), durationMs: n * HOUR, value: 9000, quality: null }]);
    expect(dirtyHours(db)).toEqual(hoursFrom(startIso, n));
  });

  it("a daily reading and the half-hours of the same day coexist", () => {
    const daily: Reading = { start: utc("2026-01-14T23:00:00Z"), durationMs: 24 * HOUR, value: 9000, quality: null };
    const first = hh("2026-01-14T23:00:00Z", 100);
    upsertReadings(db, METER.id, [first, daily]);
    // ordered by start, then the longer reading first
    expect(allReadings(db)).toEqual([daily, first]);
  });

  it("a negative value is rejected by the table and nothing of the batch is stored", () => {
    expect(() => upsertReadings(db, METER.id, [hh("2026-01-15T09:00:00Z", 5), hh("2026-01-15T09:30:00Z", -1)])).toThrow(
      /CHECK constraint/i,
    );
    expect(allReadings(db)).toEqual([]);
    expect(dirtyCount(db, METER.id)).toBe(0);
  });

  it("a failing batch leaves an earlier correction un-applied too", () => {
    upsertReadings(db, METER.id, batch);
    clearDirty(db, METER.id, Number.MAX_SAFE_INTEGER);
    expect(() => upsertReadings(db, METER.id, [hh("2026-01-15T10:00:00Z", 999), hh("2026-01-15T12:00:00Z", -5)])).toThrow();
    expect(allReadings(db)).toEqual(batch);
    expect(dirtyCount(db, METER.id)).toBe(0);
  });

});

describe("reading queries and maintenance", () => {
  it("readingsBetween returns readings overlapping [from, to); readingsExtent spans them", () => {
    const daily: Reading = { start: utc("2026-01-14T23:00:00Z"), durationMs: 24 * HOUR, value: 9000, quality: null };
    const a = hh("2026-01-16T10:00:00Z", 1);
    upsertReadings(db, METER.id, [daily, a]);
    expect(readingsBetween(db, METER.id, utc("2026-01-15T12:00:00Z"), utc("2026-01-15T13:00:00Z"))).toEqual([daily]);
    expect(readingsBetween(db, METER.id, utc("2026-01-15T23:00:00Z"), utc("2026-01-16T10:00:00Z"))).toEqual([]);
    expect(readingsExtent(db, METER.id)).toEqual({ first: daily.start, last: a.start + HALF });
    expect(readingsExtent(db, "other")).toBeNull();
  });

  it("readings sharing a start come longest first (a day's daily reading before its first half-hour); the extent ends with the longest last reading", () => {
    const day1 = utc("2026-01-14T23:00:00Z");
    const daily1: Reading = { start: day1, durationMs: 24 * HOUR, value: 9000, quality: null };
    const daily2: Reading = { start: day1 + 24 * HOUR, durationMs: 24 * HOUR, value: 8000, quality: null };
    const halves = [0, 1, 2].map((i) => ({ start: day1 + i * HALF, durationMs: HALF, value: i, quality: null }));
    const hour: Reading = { start: day1, durationMs: HOUR, value: 5, quality: null };
    const lastHalf: Reading = { start: day1 + 24 * HOUR + 2 * HOUR, durationMs: HALF, value: 1, quality: null };
    upsertReadings(db, METER.id, [...halves, lastHalf, daily2, hour, daily1]);
    expect(readingsBetween(db, METER.id, 0, Number.MAX_SAFE_INTEGER)).toEqual([daily1, hour, halves[0], halves[1], halves[2], daily2, lastHalf]);
    // The daily reading of the second day ends after its later half-hour.
    expect(readingsExtent(db, METER.id)).toEqual({ first: day1, last: daily2.start + 24 * HOUR });
  });

  it("deleteReadings removes readings starting in [from, to) and marks their hours dirty", () => {
    const rs = [hh("2026-01-15T10:00:00Z", 1), hh("2026-01-15T10:30:00Z", 2), hh("2026-01-15T12:30:00Z", 3), hh("2026-01-15T14:00:00Z", 4)];
    upsertReadings(db, METER.id, rs);
    clearDirty(db, METER.id, Number.MAX_SAFE_INTEGER);
    expect(deleteReadings(db, METER.id, utc("2026-01-15T10:30:00Z"), utc("2026-01-15T14:00:00Z"))).toBe(2);
    expect(allReadings(db)).toEqual([rs[0], rs[3]]);
    // Hours 10:00 and 12:00 lost a reading: the dirty span covers both (11:00 too, harmlessly: the
    // writer diffs against Home Assistant and sends only what changed).
    expect(dirtyRange(db, METER.id)).toEqual({ first: utc("2026-01-15T10:00:00Z"), last: utc("2026-01-15T12:00:00Z") });
    expect(dirtyCount(db, METER.id)).toBe(3);
  });

  it("deleteReadings of nothing marks nothing dirty", () => {
    expect(deleteReadings(db, METER.id, 0, Number.MAX_SAFE_INTEGER)).toBe(0);
    expect(dirtyRange(db, METER.id)).toBeNull();
  });

  it("dirtyRange/clearDirty: clears up to and including the given hour only", () => {
    upsertReadings(db, METER.id, [hh("2026-01-15T10:00:00Z", 1), hh("2026-01-15T12:00:00Z", 1), hh("2026-01-15T15:00:00Z", 1)]);
    expect(dirtyRange(db, METER.id)).toEqual({ first: utc("2026-01-15T10:00:00Z"), last: utc("2026-01-15T15:00:00Z") });
    clearDirty(db, METER.id, utc("2026-01-15T12:00:00Z"));
    // 10:00 and 12:00 are written; the span now starts right after the cleared hour (15:00 still dirty).
    expect(dirtyRange(db, METER.id)).toEqual({ first: utc("2026-01-15T13:00:00Z"), last: utc("2026-01-15T15:00:00Z") });
    clearDirty(db, METER.id, utc("2026-01-15T14:00:00Z"));
    expect(dirtyHours(db)).toEqual([utc("2026-01-15T15:00:00Z")]);
    clearDirty(db, METER.id, utc("2026-01-15T15:00:00Z"));
    expect(dirtyRange(db, METER.id)).toBeNull();
    expect(dirtyCount(db, METER.id)).toBe(0);
  });

  it("a later batch widens the dirty span; clearing before it keeps the span", () => {
    upsertReadings(db, METER.id, [hh("2026-01-15T10:00:00Z", 1)]);
    upsertReadings(db, METER.id, [hh("2026-01-10T08:30:00Z", 1), hh("2026-01-20T22:30:00Z", 1)]);
    expect(dirtyRange(db, METER.id)).toEqual({ first: utc("2026-01-10T08:00:00Z"), last: utc("2026-01-20T22:00:00Z") });
    clearDirty(db, METER.id, utc("2026-01-01T00:00:00Z"));
    expect(dirtyRange(db, METER.id)).toEqual({ first: utc("2026-01-10T08:00:00Z"), last: utc("2026-01-20T22:00:00Z") });
  });

  it("pruneReadings deletes readings that ended before the cutoff, once written to HA", () => {
    const rs = [hh("2026-01-15T10:00:00Z", 1), hh("2026-01-15T10:30:00Z", 2), hh("2026-01-15T11:00:00Z", 3)];
    upsertReadings(db, METER.id, rs);
    clearDirty(db, METER.id, utc("2026-01-15T11:00:00Z"));
    expect(pruneReadings(db, METER.id, utc("2026-01-15T11:00:00Z"))).toBe(2);
    expect(allReadings(db)).toEqual([rs[2]]);
  });

  it("pruneReadings never deletes an hour not yet written to Home Assistant", () => {
    const rs = [hh("2026-01-15T10:00:00Z", 1), hh("2026-01-15T10:30:00Z", 2), hh("2026-01-15T11:00:00Z", 3)];
    upsertReadings(db, METER.id, rs);
    clearDirty(db, METER.id, utc("2026-01-15T10:00:00Z")); // 11:00 still dirty; 10:00 written
    expect(pruneReadings(db, METER.id, utc("2026-01-15T12:00:00Z"))).toBe(2);
    expect(allReadings(db)).toEqual([rs[2]]);
    expect(pruneReadings(db, "other-meter", utc("2026-01-16T00:00:00Z"))).toBe(0);
  });
});

describe("energyBetween", () => {
  it("gives readingsBetween's rows and order without the quality, values exact to the last bit", () => {
    const day = utc("2026-01-14T23:00:00Z");
    const awkward = [0.1 + 0.2, 1 / 3, 123456.78901234567, 5e-324, 2 ** 52 + 0.5, 0];
    upsertReadings(db, METER.id, [
      ...awkward.map((value, i) => ({ start: day + i * HALF, durationMs: HALF, value, quality: "BRUT" })),
      { start: day, durationMs: 24 * HOUR, value: 1 / 7, quality: null }, // shares its start with the first half-hour
      { start: day + 24 * HOUR, durationMs: HOUR, value: 2 / 3, quality: null },
    ]);
    const expected = readingsBetween(db, METER.id, day, day + 48 * HOUR).map(({ start, durationMs, value }) => ({ start, durationMs, value }));
    expect(expected[0]).toEqual({ start: day, durationMs: 24 * HOUR, value: 1 / 7 }); // longest first
    expect(energyBetween(db, METER.id, day, day + 48 * HOUR)).toEqual(expected);
    expect(energyBetween(db, METER.id, day + 2 * HALF, day + 3 * HALF).map((r) => r.value)).toEqual([1 / 7, awkward[2]]);
    expect(energyBetween(db, METER.id, day + 100 * HOUR, day + 101 * HOUR)).toEqual([]);
  });
});
