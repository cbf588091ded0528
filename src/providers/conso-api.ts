/**
 * Conso API gateway (conso.boris.sh, bokub/conso-api): a personal token pasted by the user gives
 * access to the Enedis metering v5 data of the PRMs it covers.
 *
 * `GET {baseUrl}/api/{daily_consumption|consumption_load_curve}?prm=&start=YYYY-MM-DD&end=YYYY-MM-DD`
 * with `Authorization: Bearer <token>`; 200 = the UNWRAPPED Enedis `meter_reading`.
 * Errors: `{"status":401,"message":"Votre token est invalide ou ne permet pas d'accéder à ce PRM"}`,
 * `{"status":400,"message":"Paramètres invalides","error":{…zod issues…}}`, wrapped Enedis errors
 * `{"status":4xx,"message":"The Enedis API returned an error","error":{"error","error_description"}}`
 * (keeping Enedis's status), `{"status":500,"message":"Impossible de rafraîchir le token…"}`.
 * Source: conso-api `functions/api/[type].ts`, `content/documentation.md`; linky fixtures.
 */
import type { FetchRange, Meter } from "../domain/types.js";
import { EnedisGateway, enedisResource, type EnedisProviderOptions } from "./enedis-common.js";
import type { JsonRequest } from "./http.js";

/** Public Conso API host. */
export const CONSO_API_BASE_URL = "https://conso.boris.sh";

/** Options of {@link ConsoApiProvider}. */
export interface ConsoApiOptions extends EnedisProviderOptions {
  /** Personal Conso API token (JWT shown on conso.boris.sh/token). */
  token: string;
}

/**
 * Conso API provider. Capabilities: electricity, daily (365 d/call, 3×365+15 d history) and load
 * curve (7 d/call, 2×365+15 d history) in Europe/Paris, dailyBudget 40 (the gateway bans an IP
 * making more than 100 requests in 12 h, and Enedis quotas are shared by all its users), sync
 * window 06:00–10:00. Readings in Wh.
 *
 * `fetch` throws ProviderError: `bad_request` before any HTTP for a range longer than
 * maxDaysPerCall (or invalid), `auth` for 401/403 (token invalid/expired or not covering the PRM),
 * `unavailable` after retries, `quota_exceeded`, `invalid_prm`, `invalid_response`,
 * `budget_exhausted` (from the gate).
 */
export class ConsoApiProvider extends EnedisGateway {
  readonly id = "conso_api" as const;
  protected readonly source = "Conso API";
  protected readonly wrapped = false;

  constructor(opts: ConsoApiOptions) {
    super(opts, CONSO_API_BASE_URL);
  }

  protected request(meter: Meter, range: FetchRange): Omit<JsonRequest, "gate"> {
    const query = new URLSearchParams({ prm: meter.id, start: range.start, end: range.end });
    return {
      url: `${this.baseUrl}/api/${enedisResource(range.resolution)}?${query.toString()}`,
      headers: { Authorization: `Bearer ${this.opts.token}` },
      source: this.source,
      describeAuth: (status, message) =>
        `${this.source} refused the token (HTTP ${status}): it is invalid or expired, or does not cover PRM ` +
        `${meter.id}; create a new one on conso.boris.sh (${message})`,
    };
  }
}
