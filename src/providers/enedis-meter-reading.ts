/**
 * Parser for the Enedis v5 `meter_reading` shape (Data Connect v5 `metering_data_*`, switched off in
 * autumn 2026), still answered by older or self-hosted gateways (MyElectricalData legacy, MED
 * without `X-MED-Format: 2026`). {@link parseEnedisBody} picks it by shape.
 *
 * Source: Enedis metering v5 `daily_consumption` (Wh per local day) and `consumption_load_curve`
 * (average W over the interval ending at `date`, naive Europe/Paris wall-clock time), as recorded
 * through Conso API (linky `test/fixtures/fixtures.cjs`) and specified by Enedis openapi 03/04;
 * MED v5-compatibility bodies stamp the interval start (enedis-2026.md §5).
 *
 * Point rules, DST (array order; repeated or backwards fold stamp → later offset) and rejection
 * semantics are those of the v2 parser (`enedis-points.ts`), so both shapes give the same readings.
 */
import { z } from "zod";
import type { FetchResult, MaxPowerResult, Resolution } from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";
import { PeakSink, PointSink, type StampAt } from "./enedis-points.js";

/**
 * zod schema of the inner Enedis `meter_reading` object:
 * `{ usage_point_id: string, start?, end?, quality?: string, reading_type?: { unit?, ... },
 *    interval_reading: Array<{ value: string, date: string, interval_length?: "PT30M", measure_type?: "B" }> }`.
 * Points are checked by hand in the parse loop: zod over thousands of points cost more than the
 * rest of the parse. Source: Enedis metering v5 (openapi 03 daily_consumption, 04 consumption_load_curve).
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
  /** Curve stamps mark the interval `end` (Enedis v5; default) or `start` (MyElectricalData). */
  stamp?: StampAt;
}

/** Expected `reading_type.unit` per resolution (only checked when the provider sends it). */
const EXPECTED_UNIT: Record<Resolution | "max_power", string> = { daily: "Wh", load_curve: "W", max_power: "VA" };
const FIELDS = { value: "value", step: "interval_length" };

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

/** Validates shape, PRM and unit; returns the checked object. */
function checkMeterReading(inner: unknown, prm: string, kind: Resolution | "max_power", source: string): MeterReading {
  const parsed = meterReadingSchema.safeParse(inner);
  if (!parsed.success) {
    throw new ProviderError(
      "invalid_response",
      `${source} returned an unexpected meter_reading shape (${describeZodError(parsed.error)})`,
    );
  }
  const mr = parsed.data;
  if (mr.usage_point_id !== prm) {
    throw new ProviderError("invalid_prm", `${source} answered for usage point ${mr.usage_point_id}, expected ${prm}`);
  }
  const unit = mr.reading_type?.unit;
  const expectedUnit = EXPECTED_UNIT[kind];
  if (unit !== undefined && unit !== expectedUnit) {
    const what = kind === "max_power" ? "max power" : kind;
    throw new ProviderError("invalid_response", `${source} returned ${what} values in ${unit}, expected ${expectedUnit}`);
  }
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
  return mr;
}

/** One `interval_reading` entry (checked by hand). */
interface IntervalReading {
  value?: unknown;
  date?: unknown;
  interval_length?: string;
  measure_type?: string;
}

/**
 * Validates an inner `meter_reading` object and converts its points to readings.
 *
 * - daily (`{"value":"11776","date":"2023-04-01"}`): value in Wh over the local calendar day;
 *   `start` = UTC instant of local midnight, `durationMs` = that day's length (23/24/25 h).
 * - load curve (`{"value":"752","date":"2023-04-01 00:30:00","interval_length":"PT30M"}`):
 *   average W over the interval ending (or starting, `opts.stamp`) at `date` (naive local time);
 *   `interval_length` defaults to PT30M and may vary; Wh = W × minutes / 60.
 * - `quality` = `meter_reading.quality` (e.g. "BRUT"), or null.
 *
 * Points with a missing, negative or non-numeric value, an unparseable or non-existent date, an
 * invalid interval_length, an interval already read, or an interval ending after `now()` go to
 * `rejected` with a reason; the others are kept. `endOfHistory` is always false here.
 *
 * @throws ProviderError `invalid_response` when the shape is wrong (message names the field) or
 *   `reading_type.unit` is not Wh (daily) / W (load curve);
 *   `invalid_prm` when `usage_point_id` differs from `opts.prm`;
 *   `bad_request` when `opts.timezone` is not a valid IANA zone.
 */
export function parseMeterReading(inner: unknown, opts: ParseMeterReadingOptions): FetchResult {
  const source = opts.source ?? "provider";
  const mr = checkMeterReading(inner, opts.prm, opts.resolution, source);
  const sink = new PointSink({
    timezone: opts.timezone,
    now: opts.now(),
    quality: mr.quality ?? null,
    stamp: opts.stamp ?? "end",
    fields: FIELDS,
    defaultStepMinutes: 30,
  });
  const points = mr.interval_reading as IntervalReading[];
  if (opts.resolution === "daily") {
    for (const p of points) sink.daily(p.date, p.value);
  } else {
    for (const p of points) sink.curve(p.date, p.value, p.interval_length);
  }
  return sink.result();
}

/**
 * v5 daily max power (`daily_consumption_max_power`, `reading_type.unit` "VA", points
 * `{"value":"4638","date":"2023-04-01 12:06:20"}` = naive local time of the peak; providers.md
 * §1.5) → `DailyMaxPower {day, valueVa, at}`; rejections as {@link parseMeterReading}.
 * @throws ProviderError as {@link parseMeterReading} (unit must be VA when given).
 */
export function parseMeterReadingMaxPower(
  inner: unknown,
  opts: Omit<ParseMeterReadingOptions, "resolution" | "stamp">,
): MaxPowerResult {
  const source = opts.source ?? "provider";
  const mr = checkMeterReading(inner, opts.prm, "max_power", source);
  const sink = new PeakSink({ timezone: opts.timezone, now: opts.now(), fields: FIELDS });
  for (const p of mr.interval_reading as IntervalReading[]) sink.peak(p.date, p.value);
  return { points: sink.points, rejected: sink.rejected, endOfHistory: false };
}
