/**
 * Parser for the Enedis `meter_reading` shape, shared by the Enedis Data Connect v5 API and the
 * Conso API / MyElectricalData gateways.
 *
 * Source: Enedis metering v5 `daily_consumption` (Wh per local day) and `consumption_load_curve`
 * (average W over the interval ending at `date`, naive Europe/Paris wall-clock time), as recorded
 * through Conso API (linky `test/fixtures/fixtures.cjs`) and specified by Enedis openapi 03/04.
 *
 * Time: every local stamp is resolved with luxon in an explicit IANA zone (the meter's), never the
 * process zone. Repeated wall-clock stamps on the autumn DST day are resolved by order of
 * appearance (first = earlier UTC instant, i.e. summer offset).
 */
import { DateTime, Duration, IANAZone } from "luxon";
import { z } from "zod";
import type { FetchResult, Reading, RejectedPoint, Resolution } from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";

/**
 * One `interval_reading` entry. Checked by hand in the parse loop (`value`/`date` point by point,
 * `interval_length` must be a string when present): running zod over every one of thousands of
 * points cost more than the rest of the parse.
 */
interface IntervalReading {
  value?: unknown;
  date?: unknown;
  interval_length?: string;
  measure_type?: string;
}

/**
 * zod schema of the inner Enedis `meter_reading` object:
 * `{ usage_point_id: string, start?, end?, quality?: string, reading_type?: { unit?, ... },
 *    interval_reading: Array<{ value: string, date: string, interval_length?: "PT30M", measure_type?: "B" }> }`.
 * Source: Enedis metering v5 (openapi 03 daily_consumption, 04 consumption_load_curve).
 */
export const meterReadingSchema = z
  .object({
    usage_point_id: z.string(),
    start: z.string().optional(),
    end: z.string().optional(),
    quality: z.string().nullish(),
    reading_type: z.object({ unit: z.string().optional() }).passthrough().optional(),
    interval_reading: z.array(z.unknown()),
  })
  .passthrough();

/** The inner `meter_reading` object once validated. */
export type MeterReading = z.infer<typeof meterReadingSchema>;

/** Options of {@link parseMeterReading}. */
export interface ParseMeterReadingOptions {
  /** PRM (14-digit usage point id) that was requested; the response must be for this one. */
  prm: string;
  /** `daily` expects `{"value":"11776","date":"2023-04-01"}` (Wh); `load_curve` expects W averages. */
  resolution: Resolution;
  /** IANA zone of the naive provider dates (Europe/Paris for Enedis). */
  timezone: string;
  /** Clock (UTC epoch ms): points whose interval ends after it are rejected. */
  now: () => number;
  /** Name used in error messages, e.g. "Conso API". */
  source?: string;
}

/** Expected `reading_type.unit` per resolution (only checked when the provider sends it). */
const EXPECTED_UNIT: Record<Resolution, string> = { daily: "Wh", load_curve: "W" };

const DAILY_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CURVE_DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;
const DECIMAL = /^-?\d+(?:\.\d+)?$/;
const DAY_MS = 86_400_000;

/**
 * Describes the first zod issue as "path: message" for an `invalid_response` error.
 */
function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "unknown shape error";
  const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  return `${path}: ${issue.message}`;
}

/**
 * Parses a JSON response text.
 * @throws ProviderError `invalid_response` when the text is not JSON (message quotes its start).
 */
export function parseJsonBody(text: string, source = "provider"): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const excerpt = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    throw new ProviderError("invalid_response", `${source} returned malformed JSON: ${JSON.stringify(excerpt)}`, {
      body: text.slice(0, 1000),
    });
  }
}

/**
 * Unwraps `{"meter_reading": {...}}` (Enedis Data Connect v5 and MyElectricalData legacy) into the
 * inner object that Conso API returns directly.
 * @throws ProviderError `invalid_response` when the body is not an object with a `meter_reading` key.
 */
export function unwrapMeterReading(body: unknown, source = "provider"): unknown {
  if (typeof body !== "object" || body === null || !("meter_reading" in body)) {
    throw new ProviderError("invalid_response", `${source} response has no "meter_reading" object`);
  }
  return (body as { meter_reading: unknown }).meter_reading;
}

/** Parses a numeric string ("752", "1565.4") or number; undefined when not a number. */
function parseValue(raw: unknown): number | undefined {
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== "string" || !DECIMAL.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/** Minutes of an ISO-8601 duration such as "PT30M" or "PT1H"; undefined if invalid or ≤ 0. */
function intervalMinutes(raw: string | undefined): number | undefined {
  if (raw === undefined) return 30;
  if (INTERVALS.has(raw)) return INTERVALS.get(raw);
  const d = Duration.fromISO(raw);
  const minutes = d.isValid ? d.as("minutes") : Number.NaN;
  const result = minutes > 0 && Number.isInteger(minutes) ? minutes : undefined;
  if (INTERVALS.size < 64) INTERVALS.set(raw, result); // a handful of distinct values in practice
  return result;
}
const INTERVALS = new Map<string, number | undefined>();

/**
 * UTC instants that a naive wall-clock time (given as "naive UTC" epoch ms) may denote in `zone`:
 * [] inside a spring-forward gap, two (ascending) inside an autumn fold, else one.
 */
function wallClockCandidates(naiveMs: number, offset: (t: number) => number): number[] {
  const a = offset(naiveMs - DAY_MS);
  const b = offset(naiveMs);
  const c = offset(naiveMs + DAY_MS);
  const out: number[] = [];
  for (const o of a === b && b === c ? [b] : [...new Set([a, b, c])]) {
    const t = naiveMs - o * 60_000;
    if (offset(t) === o && !out.includes(t)) out.push(t);
  }
  return out.sort((x, y) => x - y);
}

/**
 * `zone.offset(t)` (minutes) memoised per UTC day: luxon asks Intl, which is slow, and a real zone
 * changes offset at most once a day, so a day whose two ends agree has one offset throughout;
 * other days (DST changes) fall back to asking luxon per instant.
 */
function memoOffset(zone: IANAZone): (t: number) => number {
  const days = new Map<number, number | null>();
  return (t) => {
    const day = Math.floor(t / DAY_MS);
    let o = days.get(day);
    if (o === undefined) {
      const start = zone.offset(day * DAY_MS);
      o = start === zone.offset((day + 1) * DAY_MS - 1) ? start : null;
      days.set(day, o);
    }
    return o ?? zone.offset(t);
  };
}

/** Epoch ms of a wall-clock time read as if it were UTC; undefined for impossible fields (hour 25, Feb 30). */
function naiveUtc(y: number, mo: number, d: number, h: number, mi: number, sec: number): number | undefined {
  const t = Date.UTC(y, mo - 1, d, h, mi, sec);
  const back = new Date(t);
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && back.getUTCHours() === h &&
    back.getUTCMinutes() === mi && back.getUTCSeconds() === sec
    ? t
    : undefined;
}

/** Rounds away binary floating-point noise (W × minutes / 60 with decimal W). */
function roundWh(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * Validates an inner `meter_reading` object and converts its points to readings.
 *
 * - daily (`{"value":"11776","date":"2023-04-01"}`): value in Wh over the local calendar day;
 *   `start` = UTC instant of local midnight, `durationMs` = that day's length (23/24/25 h).
 * - load curve (`{"value":"752","date":"2023-04-01 00:30:00","interval_length":"PT30M"}`):
 *   average W over the interval ENDING at `date` (naive local time); `interval_length` defaults
 *   to PT30M and may vary; value converted to Wh = W × minutes / 60; `start` = end − interval.
 *   A stamp repeated in the autumn fold maps to the earlier offset on first appearance and the
 *   later one on the second.
 * - `quality` = `meter_reading.quality` (e.g. "BRUT"), or null.
 *
 * Points with a negative or non-numeric value, an unparseable or non-existent date, an invalid
 * interval_length, a duplicate stamp, or an interval ending after `now()` go to `rejected` with a
 * reason; the others are kept. `endOfHistory` is always false here.
 *
 * @throws ProviderError `invalid_response` when the shape is wrong (message names the field) or
 *   `reading_type.unit` is not Wh (daily) / W (load curve);
 *   `invalid_prm` when `usage_point_id` differs from `opts.prm`;
 *   `bad_request` when `opts.timezone` is not a valid IANA zone.
 */
export function parseMeterReading(inner: unknown, opts: ParseMeterReadingOptions): FetchResult {
  const source = opts.source ?? "provider";
  const zone = IANAZone.create(opts.timezone);
  if (!zone.isValid) throw new ProviderError("bad_request", `unknown time zone ${JSON.stringify(opts.timezone)}`);
  const offset = memoOffset(zone);

  const parsed = meterReadingSchema.safeParse(inner);
  if (!parsed.success) {
    throw new ProviderError(
      "invalid_response",
      `${source} returned an unexpected meter_reading shape (${describeZodError(parsed.error)})`,
    );
  }
  const mr = parsed.data;
  if (mr.usage_point_id !== opts.prm) {
    throw new ProviderError(
      "invalid_prm",
      `${source} answered for usage point ${mr.usage_point_id}, expected ${opts.prm}`,
    );
  }
  const unit = mr.reading_type?.unit;
  const expectedUnit = EXPECTED_UNIT[opts.resolution];
  if (unit !== undefined && unit !== expectedUnit) {
    throw new ProviderError(
      "invalid_response",
      `${source} returned ${opts.resolution} values in ${unit}, expected ${expectedUnit}`,
    );
  }

  const quality = mr.quality ?? null;
  const now = opts.now();
  const readings: Reading[] = [];
  const rejected: RejectedPoint[] = [];
  const seen = new Map<string, number>();
  const unitLabel = opts.resolution === "daily" ? "Wh" : "W";

  const points = mr.interval_reading;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (typeof p !== "object" || p === null || Array.isArray(p)) {
      throw new ProviderError("invalid_response", `${source} returned an unexpected meter_reading shape (interval_reading.${i}: expected an object)`);
    }
    const il = (p as IntervalReading).interval_length;
    if (il !== undefined && typeof il !== "string") {
      throw new ProviderError("invalid_response", `${source} returned an unexpected meter_reading shape (interval_reading.${i}.interval_length: expected a string)`);
    }
  }
  for (const point of points as IntervalReading[]) {
    const raw = typeof point.date === "string" ? point.date : JSON.stringify(point.date ?? null);
    const reject = (reason: string): void => {
      rejected.push({ raw, reason });
    };
    // Occurrence index of this stamp (counted for every point, valid or not): resolves the fold.
    const occurrence = seen.get(raw) ?? 0;
    seen.set(raw, occurrence + 1);

    if (typeof point.date !== "string") {
      reject(`date ${raw} is not a string`);
      continue;
    }
    const value = parseValue(point.value);
    if (value === undefined) {
      reject(`value ${JSON.stringify(point.value ?? null)} at ${raw} is not a number`);
      continue;
    }
    if (value < 0) {
      reject(`value ${value} ${unitLabel} at ${raw} is negative`);
      continue;
    }

    let start: number;
    let end: number;
    let wh: number;
    if (opts.resolution === "daily") {
      const day = DAILY_DATE.test(raw) ? DateTime.fromFormat(raw, "yyyy-MM-dd", { zone }) : undefined;
      if (!day?.isValid) {
        reject(`date ${raw} is not a calendar date (YYYY-MM-DD)`);
        continue;
      }
      if (occurrence > 0) {
        reject(`date ${raw} appears more than once`);
        continue;
      }
      start = day.startOf("day").toMillis();
      end = day.startOf("day").plus({ days: 1 }).toMillis();
      wh = value;
    } else {
      const m = CURVE_DATE.exec(raw);
      const naiveMs = m ? naiveUtc(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0)) : undefined;
      if (naiveMs === undefined) {
        reject(`date ${raw} is not a local date-time (YYYY-MM-DD HH:mm:ss)`);
        continue;
      }
      const minutes = intervalMinutes(point.interval_length);
      if (minutes === undefined) {
        reject(`interval_length ${JSON.stringify(point.interval_length)} at ${raw} is not a positive ISO duration`);
        continue;
      }
      const candidates = wallClockCandidates(naiveMs, offset);
      if (candidates.length === 0) {
        reject(`date ${raw} does not exist in ${opts.timezone} (skipped by the DST change)`);
        continue;
      }
      const resolved = candidates[occurrence];
      if (resolved === undefined) {
        reject(`date ${raw} appears more than ${candidates.length === 1 ? "once" : "twice"}`);
        continue;
      }
      end = resolved;
      start = end - minutes * 60_000;
      wh = roundWh((value * minutes) / 60);
    }
    if (end > now) {
      reject(`interval ending at ${raw} is in the future`);
      continue;
    }
    readings.push({ start, durationMs: end - start, value: wh, quality });
  }
  return { readings, rejected, endOfHistory: false };
}
