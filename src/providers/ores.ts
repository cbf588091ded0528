/**
 * Ores (Belgian DSO) load curves, in the shape of the KoproGo seed's annex C — HYPOTHETICAL: no
 * public Ores consumption API is known (project provider reference §3: the endpoints circulating,
 * `ext.prod-eu.oresnet.be/v1/consumption_load_curve` and `/oauth/…`, appear only in that seed's
 * project and look invented). This connector is ready for one: every endpoint is configurable
 * (`base_url` of the meter, the flow's authorize/token URLs) and the format is exactly annex C:
 *
 * `GET {baseUrl}/consumption_load_curve?prm=<id>&start=<RFC 3339 UTC>&end=<RFC 3339 UTC>`
 * (`production_load_curve` for production), `Authorization: Bearer <access token>` →
 * ```json
 * {"usage_point_id":"30001234567890","start":"2025-11-01T00:00:00Z","end":"2025-11-18T23:59:59Z",
 *  "reading_type":{"unit":"Wh","aggregate":"Sum","measuring_period":"PT30M"},
 *  "interval_readings":[{"value":12500,"start":"2025-11-01T00:00:00Z","end":"2025-11-01T00:30:00Z"}]}
 * ```
 * `value` = energy over [start, end) in `reading_type.unit` (Wh per 30 min; kWh accepted and
 * converted), instants in UTC. Local days are Europe/Brussels.
 */
import { DateTime } from "luxon";
import { z } from "zod";
import { ProviderError } from "../domain/errors.js";
import type { FetchRange, FetchResult, Meter, Provider, ProviderCapabilities, Reading, RejectedPoint, RequestGate } from "../domain/types.js";
import { requestJson, type HttpOptions } from "./http.js";

/** Default base URL: the seed's (hypothetical) host. Configure the real one with the meter's `base_url`. */
export const ORES_BASE_URL = "https://ext.prod-eu.oresnet.be/v1";
/** Zone of Ores' local days. */
export const ORES_TIMEZONE = "Europe/Brussels";

const reading = z.object({
  value: z.number({ invalid_type_error: "value must be a number" }).finite(),
  start: z.string().datetime({ offset: true }),
  end: z.string().datetime({ offset: true }),
});

/** Zod schema of an annex C body (unknown extra fields allowed). */
export const oresLoadCurveSchema = z
  .object({
    usage_point_id: z.string().min(1),
    start: z.string().optional(),
    end: z.string().optional(),
    reading_type: z
      .object({ unit: z.enum(["Wh", "kWh"]), aggregate: z.string().optional(), measuring_period: z.string().optional() })
      .passthrough(),
    interval_readings: z.array(z.unknown()),
  })
  .passthrough();

/**
 * Parses an annex C body into readings (Wh). Points failing validation — not an object, a
 * non-number value, a negative value, an end not after the start, longer than a day, or an
 * interval given twice — are rejected (never stored) with a reason.
 * @throws ProviderError `invalid_response` when the envelope does not match annex C,
 *   `invalid_prm` when `usage_point_id` is not the meter asked for.
 */
export function parseOresLoadCurve(body: unknown, usagePoint: string): { readings: Reading[]; rejected: RejectedPoint[] } {
  const env = oresLoadCurveSchema.safeParse(body);
  if (!env.success) {
    const why = env.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    throw new ProviderError("invalid_response", `Ores answered a body that is not a load curve (${why})`);
  }
  if (env.data.usage_point_id !== usagePoint) {
    throw new ProviderError("invalid_prm", `Ores answered for usage point ${env.data.usage_point_id}, not ${usagePoint}`);
  }
  const factor = env.data.reading_type.unit === "kWh" ? 1000 : 1;
  const readings: Reading[] = [];
  const rejected: RejectedPoint[] = [];
  const seen = new Set<number>();
  for (const item of env.data.interval_readings) {
    const raw = JSON.stringify(item)?.slice(0, 200) ?? String(item);
    const p = reading.safeParse(item);
    if (!p.success) {
      rejected.push({ raw, reason: p.error.issues.map((i) => `${i.path.join(".") || "point"}: ${i.message}`).join("; ") });
      continue;
    }
    const start = Date.parse(p.data.start);
    const end = Date.parse(p.data.end);
    if (p.data.value < 0) rejected.push({ raw, reason: `negative load ${p.data.value}` });
    else if (!(end > start) || end - start > 86_400_000) rejected.push({ raw, reason: "the interval's end is not after its start, or it is longer than a day" });
    else if (seen.has(start)) rejected.push({ raw, reason: "a second value for the same interval" });
    else {
      seen.add(start);
      readings.push({ start, durationMs: end - start, value: p.data.value * factor, quality: null });
    }
  }
  readings.sort((a, b) => a.start - b.start);
  return { readings, rejected };
}

/** Options of {@link OresProvider}. */
export interface OresProviderOptions extends HttpOptions {
  /** The access token, or a source of it (the token vault of the connected Ores account). */
  token: string | (() => Promise<string>);
  baseUrl?: string;
}

/**
 * The provider: load curve only (Annex C has no daily resource), ≤ 31 days per call, 3 years of
 * history (Ores keeps 3 years for its customers, FAQ "relevés et consommation"); consumption and
 * production. Budget 50 a day, hard cap 200 (annex A: rate limits "not documented", advice
 * "1 request / 2 s per building"). Throws ProviderError as requestJson does, plus
 * `invalid_response` / `invalid_prm` from {@link parseOresLoadCurve}.
 */
export class OresProvider implements Provider {
  readonly id = "ores" as const;
  readonly capabilities: ProviderCapabilities = {
    kinds: ["electricity"],
    resolutions: { load_curve: { maxDaysPerCall: 31, historyDays: 3 * 365 } },
    flows: ["consumption", "production"],
    dailyBudget: 50,
    hardDailyCap: 200,
    timezone: ORES_TIMEZONE,
    scheduleWindow: ["08:00", "12:00"],
  };
  readonly #base: string;

  constructor(private readonly opts: OresProviderOptions) {
    this.#base = (opts.baseUrl ?? ORES_BASE_URL).replace(/\/+$/, "");
  }

  async fetch(meter: Meter, range: FetchRange, gate: RequestGate): Promise<FetchResult> {
    if (range.resolution !== "load_curve") return { readings: [], rejected: [], endOfHistory: true };
    const usagePoint = meter.usagePoint ?? meter.id;
    const resource = meter.flow === "production" ? "production_load_curve" : "consumption_load_curve";
    const start = DateTime.fromISO(range.start, { zone: ORES_TIMEZONE }).toUTC().toISO({ suppressMilliseconds: true })!;
    const end = DateTime.fromISO(range.end, { zone: ORES_TIMEZONE }).toUTC().toISO({ suppressMilliseconds: true })!;
    const token = typeof this.opts.token === "string" ? this.opts.token : await this.opts.token();
    const url = `${this.#base}/${resource}?${new URLSearchParams({ prm: usagePoint, start, end })}`;
    const out = await requestJson(
      {
        url,
        headers: { Authorization: `Bearer ${token}` },
        gate,
        source: "Ores",
        describeAuth: (status, message) =>
          `Ores refused the access token (HTTP ${status}: ${message}): it expired or the consent was withdrawn; reconnect the Ores account from the add-on's page`,
      },
      this.opts,
    );
    if (out.kind === "end_of_history") return { readings: [], rejected: [], endOfHistory: true };
    const parsed = parseOresLoadCurve(out.body, usagePoint);
    const from = DateTime.fromISO(range.start, { zone: ORES_TIMEZONE }).toMillis();
    const to = DateTime.fromISO(range.end, { zone: ORES_TIMEZONE }).toMillis();
    const inside = parsed.readings.filter((r) => r.start >= from && r.start + r.durationMs <= to);
    // Nothing at all for the range: before the history start (or, for a recent range, not yet —
    // fetch-meter tells the two apart by the range's age).
    return { readings: inside, rejected: parsed.rejected, endOfHistory: inside.length === 0 && parsed.rejected.length === 0 };
  }
}
