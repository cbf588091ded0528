/**
 * Pieces shared by the three Enedis-backed providers (Conso API, MyElectricalData legacy, Enedis
 * Data Connect v5): capabilities, local-date range checks, and the fetch → parse flow.
 */
import { DateTime } from "luxon";
import type {
  FetchRange,
  FetchResult,
  Meter,
  Provider,
  ProviderCapabilities,
  ProviderId,
  RequestGate,
  Resolution,
} from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";
import { parseMeterReading, unwrapMeterReading } from "./enedis-meter-reading.js";
import { requestJson, type HttpOptions, type JsonRequest } from "./http.js";

/** Options every Enedis-backed provider accepts. */
export interface EnedisProviderOptions extends HttpOptions {
  /** Base URL override (self-hosted gateway, local simulator). */
  baseUrl?: string;
}

/**
 * Enedis metering limits (Enedis endpoint.md): daily consumption 365 days per call and
 * 36 months + 15 days of history; load curve 7 days per call and 24 months + 15 days of history.
 * Zone Europe/Paris; sync window 06:00–10:00 local (data of D-1 is published from about 08:00).
 */
export function enedisCapabilities(dailyBudget: number, hardDailyCap: number): ProviderCapabilities {
  return {
    kinds: ["electricity"],
    flows: ["consumption", "production"],
    resolutions: {
      daily: { maxDaysPerCall: 365, historyDays: 3 * 365 + 15 },
      load_curve: { maxDaysPerCall: 7, historyDays: 2 * 365 + 15 },
    },
    dailyBudget,
    hardDailyCap,
    timezone: "Europe/Paris",
    scheduleWindow: ["06:00", "10:00"],
  };
}

/**
 * Hard daily cap of a gateway at a self-hosted (non-default) base URL: the option's own maximum,
 * since the public gateway's ban rule does not apply to someone else's server.
 */
export const SELF_HOSTED_DAILY_CAP = 500;

/** `publicCap` when `baseUrl` is the provider's public host (or absent), else {@link SELF_HOSTED_DAILY_CAP}. */
export function hardCapFor(baseUrl: string | undefined, defaultBaseUrl: string, publicCap: number): number {
  if (baseUrl === undefined || baseUrl === "") return publicCap;
  try {
    return new URL(baseUrl).host === new URL(defaultBaseUrl).host ? publicCap : SELF_HOSTED_DAILY_CAP;
  } catch {
    return publicCap;
  }
}

/** Drops trailing slashes so `${base}/path` never doubles them. */
export function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * Checks a request before any HTTP: resolution supported, ISO dates, start < end, and
 * end − start ≤ maxDaysPerCall (calendar days).
 * @throws ProviderError `bad_request` naming the problem.
 */
export function checkRange(capabilities: ProviderCapabilities, range: FetchRange, source: string): void {
  const cap = capabilities.resolutions[range.resolution];
  if (!cap) throw new ProviderError("bad_request", `${source} does not serve ${range.resolution} data`);
  const start = DateTime.fromFormat(range.start, "yyyy-MM-dd", { zone: "utc" });
  const end = DateTime.fromFormat(range.end, "yyyy-MM-dd", { zone: "utc" });
  if (!start.isValid || !end.isValid) {
    throw new ProviderError("bad_request", `range ${range.start} → ${range.end} is not two YYYY-MM-DD dates`);
  }
  const days = Math.round(end.diff(start, "days").days);
  if (days <= 0) throw new ProviderError("bad_request", `range start ${range.start} must be before end ${range.end}`);
  if (days > cap.maxDaysPerCall) {
    throw new ProviderError(
      "bad_request",
      `${source} serves at most ${cap.maxDaysPerCall} days of ${range.resolution} data per call; ` +
        `${range.start} → ${range.end} is ${days} days`,
    );
  }
}

/** Enedis metering resource name of a resolution. */
export function enedisResource(resolution: Resolution): "daily_consumption" | "consumption_load_curve" {
  return resolution === "daily" ? "daily_consumption" : "consumption_load_curve";
}

/**
 * GET a `meter_reading` response and parse it. `wrapped` = the body is `{"meter_reading": {...}}`.
 * End-of-history answers give `{readings: [], rejected: [], endOfHistory: true}`.
 * @throws ProviderError as {@link requestJson} and {@link parseMeterReading}.
 */
export async function fetchMeterReading(
  meter: Meter,
  range: FetchRange,
  req: Omit<JsonRequest, "gate">,
  gate: RequestGate,
  wrapped: boolean,
  opts: HttpOptions,
): Promise<FetchResult> {
  const outcome = await requestJson({ ...req, gate }, opts);
  if (outcome.kind === "end_of_history") return { readings: [], rejected: [], endOfHistory: true };
  const inner = wrapped ? unwrapMeterReading(outcome.body, req.source) : outcome.body;
  return parseMeterReading(inner, {
    prm: meter.id,
    resolution: range.resolution,
    timezone: meter.timezone,
    now: opts.now ?? Date.now,
    source: req.source,
  });
}

/**
 * A token-based gateway that serves Enedis `meter_reading` data (Conso API, MyElectricalData):
 * Enedis capabilities with a daily budget of 40, the range check before any HTTP, then GET + parse.
 * Subclasses say only how a request looks (`request`) and whether the body is wrapped.
 * `fetch` throws ProviderError as {@link checkRange}, {@link requestJson} and {@link parseMeterReading}.
 */
export abstract class EnedisGateway implements Provider {
  abstract readonly id: ProviderId;
  readonly capabilities: ProviderCapabilities;
  protected readonly baseUrl: string;
  /** Name used in error messages, e.g. "Conso API". */
  protected abstract readonly source: string;
  /** True when the body is `{"meter_reading": {...}}`, false when it is the inner object. */
  protected abstract readonly wrapped: boolean;

  constructor(
    protected readonly opts: EnedisProviderOptions & { token: string },
    defaultBaseUrl: string,
  ) {
    this.baseUrl = normalizeBaseUrl(opts.baseUrl ?? defaultBaseUrl);
    // Conso API and MyElectricalData: default 20, cap 45 a day. The Conso API bans an address at
    // 100 requests in a checked window that can span ~1.5 UTC days (two of our days), so two days
    // at the cap (90) stay below it; MyElectricalData allows 50 uncached calls a day per account.
    this.capabilities = enedisCapabilities(20, hardCapFor(opts.baseUrl, defaultBaseUrl, 45));
  }

  /** URL, headers and auth-error wording of one request (everything but the gate). */
  protected abstract request(meter: Meter, range: FetchRange): Omit<JsonRequest, "gate">;

  async fetch(meter: Meter, range: FetchRange, gate: RequestGate): Promise<FetchResult> {
    checkRange(this.capabilities, range, this.source);
    return fetchMeterReading(meter, range, this.request(meter, range), gate, this.wrapped, this.opts);
  }
}
