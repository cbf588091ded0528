/**
 * Conso API gateway (conso.boris.sh, bokub/conso-api): a personal token pasted by the user gives
 * access to the Enedis "mesure synchrone v2" data of the PRMs it covers.
 *
 * `GET {baseUrl}/api/{resource}?pointId=<PRM>&dateDebut=YYYY-MM-DD&dateFin=YYYY-MM-DD` (dateFin
 * excluded) with `Authorization: Bearer <token>` and `User-Agent: energy-bridge/<version>`;
 * `{resource}` = `consommation_quotidienne`, `courbe_de_charge_consommation`,
 * `production_quotidienne`, `courbe_de_charge_production`, `puissance_conso_max_quotidienne`
 * (+ `mesuresPas=P1D&grandeurPhysique=PMA`). The old type names (`daily_consumption`, …) still
 * route to the switched-off v5 paths and are never sent. 200 = the raw v2 object, passed through;
 * curve `d` = interval END (naive Europe/Paris).
 * Errors: Enedis failures keep Enedis' status with `{"status","message":"The Enedis API returned
 * an error","error": <Enedis body or text>}`; own errors `{"status":401,"message":"Votre token est
 * invalide ou ne permet pas d'accéder à ce PRM"}`, 400 "Paramètres invalides", 500 "Impossible de
 * rafraîchir le token…".
 * Source: enedis-2026.md §2, §4, §6 (CONSO `functions/api/[type].ts`, `lib/url.ts`,
 * `content/documentation.md`, `content/migration-2026.md`).
 */
import type { Meter } from "../domain/types.js";
import {
  EnedisGateway,
  enedisCapabilities,
  enedisV2Query,
  hardCapFor,
  type EnedisProviderOptions,
  type EnedisQuery,
} from "./enedis-common.js";
import type { JsonRequest } from "./http.js";

/** Public Conso API host. */
export const CONSO_API_BASE_URL = "https://conso.boris.sh";

/** Options of {@link ConsoApiProvider}. */
export interface ConsoApiOptions extends EnedisProviderOptions {
  /** Personal Conso API token (JWT shown on conso.boris.sh/token). */
  token: string;
}

/**
 * Conso API provider: {@link enedisCapabilities} (electricity, consumption and production, daily /
 * load curve / max power) with dailyBudget 20 and hardDailyCap 45 on the public host (500 on a
 * self-hosted base URL). The cap: Conso API bans an address at ≥ 100 requests in a checked
 * window that can span ~1.5 UTC days (CONSO `.github/scripts/ipban.mjs`, job every 12 h), i.e. two
 * of our days, so two days at the cap (90) stay below it; its Enedis quota (1 000 calls/h per
 * application) is shared by all its users. Readings in Wh, peaks in VA.
 *
 * `fetch`/`fetchMaxPower` throw ProviderError: `bad_request` before any HTTP for a range longer
 * than maxDaysPerCall (or invalid), `auth` for 401/403 (token invalid/expired or not covering the
 * PRM; 900908 = API not subscribed), `unavailable` after retries, `quota_exceeded`,
 * `invalid_prm`, `invalid_response`, `budget_exhausted` (from the gate).
 */
export class ConsoApiProvider extends EnedisGateway {
  readonly id = "conso_api" as const;
  protected readonly source = "Conso API";
  protected readonly stamp = "end" as const;

  constructor(private readonly conso: ConsoApiOptions) {
    super(conso, CONSO_API_BASE_URL, enedisCapabilities(20, hardCapFor(conso.baseUrl, CONSO_API_BASE_URL, 45)));
  }

  protected request(meter: Meter, q: EnedisQuery): Omit<JsonRequest, "gate"> {
    const { resource, search } = enedisV2Query(q);
    return {
      url: `${this.baseUrl}/api/${resource}?${search}`,
      headers: { Authorization: `Bearer ${this.conso.token}` },
      source: this.source,
      describeAuth: (status, message) =>
        `${this.source} refused the token (HTTP ${status}): it is invalid or expired, or does not cover PRM ` +
        `${q.usagePoint} (meter ${meter.id}); create a new one on conso.boris.sh (${message})`,
    };
  }
}
