/**
 * Pieces shared by the Enedis-backed providers (Conso API, MyElectricalData v2 gateway and legacy,
 * Enedis Data Connect "mesure synchrone v2"): capabilities, v2 resource names, local-date range
 * checks, and the GET → recognise shape → parse flow of {@link EnedisGateway}.
 */
import { DateTime } from "luxon";
import type {
  FetchRange,
  FetchResult,
  Flow,
  LocalDate,
  MaxPowerResult,
  Meter,
  Provider,
  ProviderCapabilities,
  ProviderId,
  RequestGate,
  Resolution,
  ResolutionCapability,
} from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";
import { parseEnedisBody, parseEnedisMaxPowerBody } from "./enedis-body.js";
import type { StampAt } from "./enedis-points.js";
import { requestJson, type HttpOptions, type JsonOutcome, type JsonRequest } from "./http.js";

/** Options every Enedis-backed provider accepts. */
export interface EnedisProviderOptions extends HttpOptions {
  /** Base URL override (self-hosted gateway, local simulator). */
  baseUrl?: string;
}

/**
 * Enedis "mesure synchrone v2" limits (enedis-2026.md §7, DataHub Swagger):
 * - daily energy: 365 days per call — the v2 Swagger states no daily span, 365 is v5's
 *   (unverified for v2) — and 36 months + 15 days of history (Swagger);
 * - load curve: 7 consecutive days per call, 24 months + 15 days of history (Swagger);
 * - daily max power: 365 days per call (unverified, as daily energy), 36 months + 15 days (Swagger);
 * - flows consumption (`CONS`) and production (`PROD`); zone Europe/Paris; sync window
 *   06:00–10:00 local (D-1 is published from about 08:00, CONSO `content/index.md`).
 * `dailyBudget`/`hardDailyCap` are each provider's (reasoned in its docstring).
 */
export function enedisCapabilities(dailyBudget: number, hardDailyCap: number): ProviderCapabilities {
  return {
    kinds: ["electricity"],
    flows: ["consumption", "production"],
    resolutions: {
      daily: { maxDaysPerCall: 365, historyDays: 3 * 365 + 15 },
      load_curve: { maxDaysPerCall: 7, historyDays: 2 * 365 + 15 },
    },
    maxPower: { maxDaysPerCall: 365, historyDays: 3 * 365 + 15 },
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
 * Checks a local-date span: ISO dates, start < end, end − start ≤ `cap.maxDaysPerCall` (calendar days).
 * @throws ProviderError `bad_request` naming the problem.
 */
export function checkSpan(cap: ResolutionCapability, startDate: LocalDate, endDate: LocalDate, what: string, source: string): void {
  const start = DateTime.fromFormat(startDate, "yyyy-MM-dd", { zone: "utc" });
  const end = DateTime.fromFormat(endDate, "yyyy-MM-dd", { zone: "utc" });
  if (!start.isValid || !end.isValid) {
    throw new ProviderError("bad_request", `range ${startDate} → ${endDate} is not two YYYY-MM-DD dates`);
  }
  const days = Math.round(end.diff(start, "days").days);
  if (days <= 0) throw new ProviderError("bad_request", `range start ${startDate} must be before end ${endDate}`);
  if (days > cap.maxDaysPerCall) {
    throw new ProviderError(
      "bad_request",
      `${source} serves at most ${cap.maxDaysPerCall} days of ${what} data per call; ${startDate} → ${endDate} is ${days} days`,
    );
  }
}

/**
 * Checks a request before any HTTP: resolution supported, then {@link checkSpan}.
 * @throws ProviderError `bad_request` naming the problem.
 */
export function checkRange(capabilities: ProviderCapabilities, range: FetchRange, source: string): void {
  const cap = capabilities.resolutions[range.resolution];
  if (!cap) throw new ProviderError("bad_request", `${source} does not serve ${range.resolution} data`);
  checkSpan(cap, range.start, range.end, range.resolution, source);
}

/** What one Enedis request asks for. */
export type EnedisDataKind = Resolution | "max_power";

/** One request of an Enedis-backed gateway: PRM, flow, data kind, [start, end) local dates. */
export interface EnedisQuery {
  /** PRM sent to the provider: `meter.usagePoint ?? meter.id`. */
  usagePoint: string;
  flow: Flow;
  kind: EnedisDataKind;
  start: LocalDate;
  end: LocalDate;
}

/** The v2 resource names (enedis-2026.md §2), shared by Enedis direct and Conso API. */
export type EnedisV2Resource =
  | "consommation_quotidienne"
  | "courbe_de_charge_consommation"
  | "production_quotidienne"
  | "courbe_de_charge_production"
  | "puissance_conso_max_quotidienne";

/**
 * v2 resource of a query, and its extra parameters: max power needs `mesuresPas=P1D` and
 * `grandeurPhysique=PMA` (required by Enedis, defaults on Conso API).
 * @throws ProviderError `bad_request` for max power of a production series (Enedis has none).
 */
export function enedisV2Resource(q: Pick<EnedisQuery, "flow" | "kind">): { resource: EnedisV2Resource; extra: Record<string, string> } {
  if (q.kind === "max_power") {
    if (q.flow === "production") throw new ProviderError("bad_request", "Enedis serves daily max power for consumption only");
    return { resource: "puissance_conso_max_quotidienne", extra: { mesuresPas: "P1D", grandeurPhysique: "PMA" } };
  }
  const production = q.flow === "production";
  const resource: EnedisV2Resource =
    q.kind === "daily"
      ? production ? "production_quotidienne" : "consommation_quotidienne"
      : production ? "courbe_de_charge_production" : "courbe_de_charge_consommation";
  return { resource, extra: {} };
}

/** `?pointId=&dateDebut=&dateFin=[&mesuresPas=P1D&grandeurPhysique=PMA]` of a v2 query (dateFin excluded). */
export function enedisV2Query(q: EnedisQuery): { resource: EnedisV2Resource; search: string } {
  const { resource, extra } = enedisV2Resource(q);
  const search = new URLSearchParams({ pointId: q.usagePoint, dateDebut: q.start, dateFin: q.end, ...extra }).toString();
  return { resource, search };
}

/** The PRM to send for a meter: `meter.usagePoint ?? meter.id`. */
export function usagePointOf(meter: Meter): string {
  return meter.usagePoint ?? meter.id;
}

/**
 * A gateway serving Enedis data (Conso API, MyElectricalData, Data Connect direct): the range check
 * before any HTTP, then GET through {@link requestJson} and {@link parseEnedisBody} (shape
 * recognised from the body). Subclasses say how a request looks (`request`), which end of the
 * interval their curve stamps mark (`stamp`), and may add per-request auth (`get`).
 * `fetch`/`fetchMaxPower` throw ProviderError as {@link checkRange}, {@link requestJson} and the parsers.
 */
export abstract class EnedisGateway implements Provider {
  abstract readonly id: ProviderId;
  readonly capabilities: ProviderCapabilities;
  protected readonly baseUrl: string;
  /** Name used in error messages, e.g. "Conso API". */
  protected abstract readonly source: string;
  /** Which end of its interval a curve stamp marks in this gateway's bodies. */
  protected abstract readonly stamp: StampAt;

  constructor(
    protected readonly opts: EnedisProviderOptions,
    defaultBaseUrl: string,
    capabilities: ProviderCapabilities,
  ) {
    this.baseUrl = normalizeBaseUrl(opts.baseUrl ?? defaultBaseUrl);
    this.capabilities = capabilities;
  }

  /** URL, headers and auth-error wording of one request (everything but the gate). */
  protected abstract request(meter: Meter, q: EnedisQuery): Omit<JsonRequest, "gate">;

  /** Sends one request (Data Connect overrides it to add its application token). */
  protected get(meter: Meter, q: EnedisQuery, gate: RequestGate): Promise<JsonOutcome> {
    return requestJson({ ...this.request(meter, q), gate }, this.opts);
  }

  private now(): () => number {
    return this.opts.now ?? Date.now;
  }

  async fetch(meter: Meter, range: FetchRange, gate: RequestGate): Promise<FetchResult> {
    checkRange(this.capabilities, range, this.source);
    const q: EnedisQuery = { usagePoint: usagePointOf(meter), flow: meter.flow ?? "consumption", kind: range.resolution, start: range.start, end: range.end };
    enedisV2Resource(q); // refuses impossible queries before any HTTP
    const outcome = await this.get(meter, q, gate);
    if (outcome.kind === "end_of_history") return { readings: [], rejected: [], endOfHistory: true };
    return parseEnedisBody(outcome.body, {
      usagePoint: q.usagePoint,
      flow: q.flow,
      resolution: range.resolution,
      timezone: meter.timezone,
      now: this.now(),
      stamp: this.stamp,
      source: this.source,
    });
  }

  async fetchMaxPower(meter: Meter, range: { start: LocalDate; end: LocalDate }, gate: RequestGate): Promise<MaxPowerResult> {
    const cap = this.capabilities.maxPower;
    if (!cap) throw new ProviderError("bad_request", `${this.source} does not serve daily max power`);
    checkSpan(cap, range.start, range.end, "max power", this.source);
    const q: EnedisQuery = { usagePoint: usagePointOf(meter), flow: meter.flow ?? "consumption", kind: "max_power", start: range.start, end: range.end };
    enedisV2Resource(q);
    const outcome = await this.get(meter, q, gate);
    if (outcome.kind === "end_of_history") return { points: [], rejected: [], endOfHistory: true };
    return parseEnedisMaxPowerBody(outcome.body, { usagePoint: q.usagePoint, timezone: meter.timezone, now: this.now(), source: this.source });
  }
}
