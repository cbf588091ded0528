/**
 * One entry point for every Enedis-backed body: recognises the SHAPE (never the URL), so a
 * self-hosted or older gateway answering v5 is still read.
 *
 * 1. A MyElectricalData envelope `{success, data, error, timestamp}` is unwrapped first
 *    (`success: false` → end of history or a ProviderError, as {@link requestJson} would say).
 * 2. v2 (`grandeur[]` or `idPrm`) → {@link parseEnedisV2} / {@link parseEnedisV2MaxPower}.
 * 3. v5 `{"meter_reading": {…}}` or its inner object (`interval_reading[]`) →
 *    {@link parseMeterReading} / {@link parseMeterReadingMaxPower}.
 * Source: enedis-2026.md §3, §5, §9; providers.md §1.5.
 */
import type { FetchResult, MaxPowerResult } from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";
import { effectiveStatus, errorInfo, isEndOfHistory, isMedEnvelope } from "./enedis-errors.js";
import { isEnedisV2, parseEnedisV2, parseEnedisV2MaxPower, type EnedisV2Options } from "./enedis-v2.js";
import { parseMeterReading, parseMeterReadingMaxPower } from "./enedis-meter-reading.js";

/** Options of {@link parseEnedisBody}. */
/** Options of {@link parseEnedisBody}: those of the v2 parser (a v5 body carries no flow marker and is trusted). */
export type EnedisBodyOptions = EnedisV2Options;

/** Shape of a body: `v2`, `v5` (inner `meter_reading`), or `end_of_history` (MED failure saying so). */
export type EnedisBody = { shape: "v2" | "v5"; inner: unknown } | { shape: "end_of_history"; message: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Unwraps the MED envelope and the v5 `meter_reading` wrapper and names the shape.
 * @throws ProviderError `invalid_response` (neither v2 nor v5; `data` missing), or, for a MED
 *   `success: false` that is not end of history, `quota_exceeded` / `auth` / `unavailable` /
 *   `bad_request` from the MED code (see {@link effectiveStatus}).
 */
export function recogniseEnedisBody(body: unknown, source = "provider"): EnedisBody {
  let b = body;
  if (isMedEnvelope(b)) {
    if (!b.success) {
      const info = errorInfo(b, "");
      if (isEndOfHistory(info)) return { shape: "end_of_history", message: info.message };
      const status = effectiveStatus(200, info);
      const code = status === 429 ? "quota_exceeded" : status === 401 || status === 403 ? "auth" : status >= 500 ? "unavailable" : "bad_request";
      throw new ProviderError(code, `${source} answered success: false (${info.message})`);
    }
    b = b.data;
  }
  if (isEnedisV2(b)) return { shape: "v2", inner: b };
  if (isObj(b) && "meter_reading" in b) return { shape: "v5", inner: b.meter_reading };
  if (isObj(b) && Array.isArray(b.interval_reading)) return { shape: "v5", inner: b };
  const what = isObj(b) ? `keys ${Object.keys(b).slice(0, 8).join(", ") || "(none)"}` : b === null ? "null" : typeof b;
  throw new ProviderError("invalid_response", `${source} returned neither an Enedis v2 nor a v5 meter_reading body (${what})`);
}

/**
 * Any Enedis-backed daily or load-curve body → readings (Wh, UTC starts), rejected points, and
 * `endOfHistory` (true only for a MED envelope saying NO_DATA / ADAM-ERR0123 / DATE_TOO_OLD).
 * @throws ProviderError as {@link recogniseEnedisBody}, {@link parseEnedisV2}, {@link parseMeterReading}.
 */
export function parseEnedisBody(body: unknown, opts: EnedisBodyOptions): FetchResult {
  const source = opts.source ?? "provider";
  const r = recogniseEnedisBody(body, source);
  if (r.shape === "end_of_history") return { readings: [], rejected: [], endOfHistory: true };
  const common = { timezone: opts.timezone, now: opts.now, stamp: opts.stamp ?? "end", source, resolution: opts.resolution };
  return r.shape === "v2"
    ? parseEnedisV2(r.inner, { ...common, usagePoint: opts.usagePoint, flow: opts.flow ?? "consumption" })
    : parseMeterReading(r.inner, { ...common, prm: opts.usagePoint });
}

/**
 * Any Enedis-backed daily max-power body (v2 `PMA` in VA, or v5 `daily_consumption_max_power`)
 * → `DailyMaxPower[]` (day, VA, UTC instant of the peak), rejected points, `endOfHistory`.
 * @throws ProviderError as {@link parseEnedisBody}.
 */
export function parseEnedisMaxPowerBody(
  body: unknown,
  opts: Omit<EnedisBodyOptions, "resolution" | "stamp" | "flow">,
): MaxPowerResult {
  const source = opts.source ?? "provider";
  const r = recogniseEnedisBody(body, source);
  if (r.shape === "end_of_history") return { points: [], rejected: [], endOfHistory: true };
  const common = { timezone: opts.timezone, now: opts.now, source };
  return r.shape === "v2"
    ? parseEnedisV2MaxPower(r.inner, { ...common, usagePoint: opts.usagePoint })
    : parseMeterReadingMaxPower(r.inner, { ...common, prm: opts.usagePoint });
}
