/**
 * Direct Enedis Data Connect "mesure synchrone v2" with an application (client-credentials) token.
 *
 * Token (unchanged from v5): `POST {base}/oauth2/v3/token` `grant_type=client_credentials` via
 * openid-client v6; response `{"access_token","token_type":"Bearer","expires_in":"12600"}`
 * (`expires_in` may be a string). Metering: `GET {base}/mesure_synchrone_auto/v2/{resource}
 * ?pointId=<PRM>&dateDebut=YYYY-MM-DD&dateFin=YYYY-MM-DD` (dateFin excluded) with `Authorization:
 * Bearer <token>` and `Accept: application/json`; `{resource}` = `consommation_quotidienne`,
 * `courbe_de_charge_consommation`, `production_quotidienne`, `courbe_de_charge_production`,
 * `puissance_conso_max_quotidienne` (+ `mesuresPas=P1D&grandeurPhysique=PMA`, required). 200 = the
 * raw v2 object; curve `d` = interval END (naive Europe/Paris).
 * Errors: `{"error":"ADAM-ERR0123","error_description":"…"}` or `{"code":"900908","message":…,
 * "description":…}` (403 900908 = API not subscribed for the application on the DataHub); 404
 * "Pas de mesure trouvée pour ce point"; 429 "SLA dépassé"; 500 "Problème technique…".
 * Source: enedis-2026.md §2, §6, §8 (DataHub Swagger `swagger_mesure_synchrone_auto_v2.yaml`,
 * MED README); providers.md §1.3 (token).
 */
import * as client from "openid-client";
import type { Meter, RequestGate } from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";
import {
  EnedisGateway,
  enedisCapabilities,
  enedisV2Query,
  type EnedisProviderOptions,
  type EnedisQuery,
} from "./enedis-common.js";
import { requestJson, withRetry, type JsonOutcome, type JsonRequest } from "./http.js";

/** Production host of the Enedis API and token endpoint. */
export const ENEDIS_PRODUCTION_BASE_URL = "https://gw.ext.prod.api.enedis.fr";

/** Options of {@link EnedisDataConnectProvider}. */
export interface EnedisDataConnectOptions extends EnedisProviderOptions {
  clientId: string;
  clientSecret: string;
}

/** Lifetime assumed when the token response has no `expires_in` (conso-api caches 3 h). */
const DEFAULT_TOKEN_LIFETIME_S = 3 * 3600;

/**
 * Maps an openid-client failure of the token request to a ProviderError: 5xx, network errors and
 * timeouts → `unavailable` (retried), 429 → `quota_exceeded`, anything else (invalid_client, 401…)
 * → `auth` (the application credentials are wrong).
 */
function tokenError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const source = "Enedis token endpoint";
  if (error instanceof client.ResponseBodyError) {
    const what = `HTTP ${error.status}: ${error.error}${error.error_description ? `: ${error.error_description}` : ""}`;
    if (error.status >= 500) return new ProviderError("unavailable", `${source} failed (${what})`, { status: error.status });
    if (error.status === 429) return new ProviderError("quota_exceeded", `${source} quota exceeded (${what})`, { status: 429 });
    return new ProviderError("auth", `${source} refused the client credentials (${what})`, { status: error.status });
  }
  if (error instanceof client.ClientError && error.cause instanceof Response) {
    const status = error.cause.status;
    if (status >= 500) return new ProviderError("unavailable", `${source} failed (HTTP ${status})`, { status });
    if (status === 429) return new ProviderError("quota_exceeded", `${source} quota exceeded (HTTP 429)`, { status });
    if (status === 401 || status === 403) {
      return new ProviderError("auth", `${source} refused the client credentials (HTTP ${status})`, { status });
    }
    return new ProviderError("invalid_response", `${source} answered unexpectedly (HTTP ${status}): ${error.message}`, { status });
  }
  if (error instanceof client.ClientError) {
    return new ProviderError("invalid_response", `${source} answered unexpectedly: ${error.message}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError("unavailable", `${source} unreachable (${message})`);
}

/**
 * Enedis Data Connect v2 provider: {@link enedisCapabilities} with dailyBudget 200 and hardDailyCap
 * 500. Enedis allows 5 calls/s and 1 000 calls/h per API and application (Swagger `info`, MED README;
 * v5 allowed 10 000/h): 500 a day, spread over the sync window, stays far below it for the
 * application's own use, and 200 covers a 2-year curve backfill (~105 weekly calls) plus the
 * daily series in one day. Readings in Wh, peaks in VA.
 *
 * The application token is cached until shortly before `expires_in` and shared by all meters;
 * its request also goes through the gate. An `auth` error on a metering call drops the cached
 * token (the next call fetches a fresh one).
 *
 * `fetch`/`fetchMaxPower` throw ProviderError: `bad_request` before any HTTP for a too-long/invalid
 * range, `auth` (credentials refused; 401/403: consent missing or revoked, not holder; 900908: API
 * not subscribed), `unavailable`, `quota_exceeded` (429), `invalid_prm`, `invalid_response`,
 * `budget_exhausted`.
 */
export class EnedisDataConnectProvider extends EnedisGateway {
  readonly id = "enedis_data_connect" as const;
  protected readonly source = "Enedis Data Connect";
  protected readonly stamp = "end" as const;
  private readonly config: client.Configuration;
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly dc: EnedisDataConnectOptions) {
    super(dc, ENEDIS_PRODUCTION_BASE_URL, enedisCapabilities(200, 500));
    this.config = new client.Configuration(
      { issuer: this.baseUrl, token_endpoint: `${this.baseUrl}/oauth2/v3/token` },
      dc.clientId,
      dc.clientSecret,
    );
    this.config.timeout = Math.ceil((dc.timeoutMs ?? 30_000) / 1000);
    if (this.baseUrl.startsWith("http://")) client.allowInsecureRequests(this.config);
  }

  private clock(): number {
    return (this.dc.now ?? Date.now)();
  }

  /** A valid application token, from the cache or a client-credentials grant (gate admitted). */
  private async accessToken(gate: RequestGate): Promise<string> {
    if (this.token && this.clock() < this.token.expiresAt) return this.token.value;
    this.pending ??= withRetry(async () => {
      gate.acquire();
      try {
        const obtainedAt = this.clock();
        const res = await client.clientCredentialsGrant(this.config);
        const lifetimeS = res.expiresIn() ?? DEFAULT_TOKEN_LIFETIME_S;
        const marginS = Math.min(300, lifetimeS / 10);
        this.token = { value: res.access_token, expiresAt: obtainedAt + (lifetimeS - marginS) * 1000 };
        return res.access_token;
      } catch (error) {
        throw tokenError(error);
      }
    }, this.dc.retry).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  protected request(meter: Meter, q: EnedisQuery): Omit<JsonRequest, "gate"> {
    const { resource, search } = enedisV2Query(q);
    return {
      url: `${this.baseUrl}/mesure_synchrone_auto/v2/${resource}?${search}`,
      headers: { Accept: "application/json" },
      source: this.source,
      describeAuth: (status, message) =>
        `${this.source}: token invalid or consent revoked for usage point ${q.usagePoint} (meter ${meter.id}) ` +
        `(HTTP ${status}: ${message})`,
    };
  }

  protected override async get(meter: Meter, q: EnedisQuery, gate: RequestGate): Promise<JsonOutcome> {
    const req = this.request(meter, q);
    const token = await this.accessToken(gate);
    try {
      return await requestJson({ ...req, headers: { ...req.headers, Authorization: `Bearer ${token}` }, gate }, this.dc);
    } catch (error) {
      if (error instanceof ProviderError && error.code === "auth") this.token = undefined;
      throw error;
    }
  }
}
