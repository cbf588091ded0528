import { describe, expect, it } from "vitest";
import { DateTime, IANAZone } from "luxon";
import { FoldResolver, parseLocalStamp, plainNaiveStamp, ZoneClock } from "../../../src/providers/local-time.js";
import { parseDecimal } from "../../../src/providers/enedis-points.js";
import { enedisV2Schema, parseEnedisV2 } from "../../../src/providers/enedis-v2.js";

const DAY_MS = 86_400_000;
const QUARTER_MS = 900_000;
const ZONES = ["Europe/Paris", "Europe/Brussels", "Europe/London", "America/Vancouver", "Australia/Lord_Howe", "Pacific/Chatham"];
const FROM = Date.UTC(2024, 0, 1);
const TO = Date.UTC(2028, 0, 1);

/** The candidate algorithm as it was, asking luxon's zone for every offset. */
function referenceCandidates(zone: IANAZone, naiveMs: number): number[] {
  const out: number[] = [];
  for (const off of new Set([zone.offset(naiveMs - DAY_MS), zone.offset(naiveMs), zone.offset(naiveMs + DAY_MS)])) {
    const t = naiveMs - off * 60_000;
    if (zone.offset(t) === off && !out.includes(t)) out.push(t);
  }
  return out.sort((x, y) => x - y);
}

describe("ZoneClock offsets", () => {
  for (const name of ZONES) {
    it(`equal luxon's every 15 minutes of 2024–2027 in ${name}, candidates around each change`, () => {
      const clock = new ZoneClock(name);
      const zone = IANAZone.create(name);
      const changes: number[] = [];
      let previous: number | undefined;
      let mismatches = 0;
      for (let t = FROM; t < TO; t += QUARTER_MS) {
        const expected = DateTime.fromMillis(t, { zone: name }).offset;
        if (clock.offsetAt(t) !== expected) mismatches++;
        if (previous !== undefined && previous !== expected) changes.push(t);
        previous = expected;
      }
      expect(mismatches).toBe(0);
      expect(changes.length).toBeGreaterThan(0); // two a year in 2024–2027 (Lord Howe: 30 min; Chatham: at :45 UTC)
      // exact instants of the changes and raw (un-memoised) lookups around them
      for (const c of changes) {
        for (const dt of [-QUARTER_MS, -1000, -1, 0, 1, 999, 1000, QUARTER_MS]) {
          expect(clock.offsetAt(c + dt)).toBe(zone.offset(c + dt));
          expect(clock.rawOffsetAt(c + dt)).toBe(zone.offset(c + dt));
        }
      }
      // naive stamps every 15 min within 3 days of each change resolve as before
      for (const c of changes) {
        const naive0 = Math.floor(c / DAY_MS) * DAY_MS - 3 * DAY_MS;
        for (let n = naive0; n < naive0 + 7 * DAY_MS; n += QUARTER_MS) {
          expect(clock.candidates(n)).toEqual(referenceCandidates(zone, n));
          const s = clock.single(n);
          if (!Number.isNaN(s)) expect([s]).toEqual(referenceCandidates(zone, n));
        }
      }
    }, 120_000);
  }

  it("keeps luxon's answer far from today and for odd instants", () => {
    const clock = new ZoneClock("Europe/Paris");
    const zone = IANAZone.create("Europe/Paris");
    for (const t of [Date.UTC(1911, 2, 11), Date.UTC(1900, 0, 1), Date.UTC(1945, 8, 16, 1), -1, 1.5, Date.UTC(50, 0, 1), Date.UTC(12000, 0, 1)]) {
      expect(clock.offsetAt(t)).toBe(zone.offset(t));
      expect(clock.rawOffsetAt(t)).toBe(zone.offset(t));
    }
  });

  it("resolves the autumn fold in array order and rejects the spring gap", () => {
    const clock = new ZoneClock("Europe/Paris");
    const r = new FoldResolver(clock);
    const at = (s: string) => r.resolve(parseLocalStamp(s)!);
    expect(at("2026-10-25 02:30:00")).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(at("2026-10-25 02:30:00")).toBe(Date.UTC(2026, 9, 25, 1, 30));
    expect(at("2026-03-29 02:30:00")).toBeUndefined();
    expect(at("2026-06-01 12:00:00+00:00")).toBe(Date.UTC(2026, 5, 1, 12));
    expect(at("2026-06-01 12:00:00")).toBe(Date.UTC(2026, 5, 1, 10));
  });
});

describe("parseDecimal", () => {
  const DECIMAL = /^\s*-?\d+(?:\.\d+)?\s*$/;
  const reference = (raw: string) => (DECIMAL.test(raw) ? Number(raw) : undefined);
  it("answers as the regex + Number it replaces", () => {
    const cases = ["752", "0", "-0", "007", "-3", "1565.4", "1565.", ".5", "-", "", " 12 ", "12 ", "\t3.5\n", "+1", "1e3", "1.2.3", "١٢",
      "123456789012345", "1234567890123456", "12345678901234567890", "-12345678901234567.25", "NaN", "0x10", "1_000", "12a", "3.-4"];
    for (const c of cases) expect(Object.is(parseDecimal(c), reference(c)), c).toBe(true);
    expect(parseDecimal(12.5)).toBe(12.5);
    expect(parseDecimal(Number.NaN)).toBeUndefined();
    expect(parseDecimal(null)).toBeUndefined();
  });
});

describe("v2 envelope without zod for plain bodies", () => {
  const opts = { usagePoint: "12345678901234", resolution: "load_curve" as const, timezone: "Europe/Paris", now: () => Date.UTC(2030, 0, 1) };
  it("reads a plain body as zod's copy of it", () => {
    const body = { idPrm: "12345678901234", etapeMetier: "BRUT", extra: 1, grandeur: [{ grandeurMetier: "CONS", grandeurPhysique: "PA", unite: "W", points: [{ v: "100", d: "2026-06-01 00:30:00", p: "PT30M" }] }] };
    expect(parseEnedisV2(body, opts)).toEqual(parseEnedisV2(enedisV2Schema.parse(body), opts));
    expect(parseEnedisV2(body, opts).readings).toHaveLength(1);
  });
  it("still reports zod's message for a bad shape", () => {
    const bad = { idPrm: 12345678901234, grandeur: [] };
    expect(() => parseEnedisV2(bad, opts)).toThrow(/idPrm: Expected string, received number/);
    const badPoints = { idPrm: "12345678901234", grandeur: [{ grandeurMetier: "CONS", points: {} }] };
    expect(() => parseEnedisV2(badPoints, opts)).toThrow(/grandeur\.0\.points: Expected array, received object/);
    const thenable = { idPrm: "12345678901234", grandeur: [], then: () => 0, catch: () => 0 };
    expect(() => parseEnedisV2(thenable, opts)).toThrow(/Expected object, received promise/);
  });
});

describe("plainNaiveStamp", () => {
  it("equals parseLocalStamp on the plain YYYY-MM-DD HH:MM:SS form, NaN on everything else", () => {
    const texts = [
      "2026-10-25 02:30:00", "2024-02-29 23:59:59", "2026-01-01 00:00:00", // plain, valid
      "2025-02-29 10:00:00", "2026-13-01 00:00:00", "2026-04-31 00:00:00", "2026-01-01 24:00:00", "2026-01-01 10:60:00",
      "2026-01-01 10:00:60", "2026-01-01 1a:00:00", "2026/01/01 10:00:00", // plain length, impossible or unreadable
      "2026-01-01T10:00:00", "2026-01-01 10:00", "2026-01-01", "2026-01-01 10:00:00Z", "2026-01-01T10:00:00+02:00",
      "2026-01-01 10:00:00.5", " 2026-01-01 10:00:00", "", // other forms: for parseLocalStamp
    ];
    for (const s of texts) {
      const full = parseLocalStamp(s);
      const plain = s.length === 19 && s[10] === " " && full?.offsetMin === undefined ? full?.naiveMs : undefined;
      expect(plainNaiveStamp(s), s).toBe(plain ?? Number.NaN);
    }
    // Every half-hour of a leap year reads the same both ways.
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2025, 0, 1); t += 1_800_000) {
      const s = new Date(t).toISOString().slice(0, 19).replace("T", " ");
      expect(plainNaiveStamp(s)).toBe(t);
    }
  });
});
