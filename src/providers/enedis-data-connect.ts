/**
 * Direct Enedis Data Connect metering v5 with an application (client-credentials) token.
 *
 * Token: `POST {base}/oauth2/v3/token` `grant_type=client_credentials` via openid-client v6;
 * response `{"access_token","token_type":"Bearer","expires_in":"12600"}` (`expires_in` may be a
 * string). Metering: `GET {base}/metering_data_dc/v5/daily_consumption` and
 * `GET {base}/metering_data_clc/v5/consumption_load_curve` with `usage_point_id`, `start`, `end`
 * (YYYY-MM-DD, end exclusive) and `Authorization: Bearer <token>`; 200 = `{"meter_reading": {...}}`.
 * Errors: `{"error":"ADAM-DC-0008","error_description":"…"}`; 429 "Quota Q3/Q4 reached".
 * Source: Enedis openapi 02-token, 03/04 metering (MyElectricalData/myelectricaldata_new docs).
 */
import * as client from "openid-client";
import type { FetchRange, FetchResult, Meter, Provider, ProviderCapabilities, RequestGate } from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";
import {
  checkRange,
  enedisCapabilities,
  fetchMeterReading,
  normalizeBaseUrl,
  type EnedisProviderOptions,
} from "./enedis-common.js";
import { withRetry } from "./http.js";

/** Production host of the Enedis API and token endpoint. */
export const ENEDIS_PRODUCTION_BASE_URL = "https://gw.ext.prod.api.enedis.fr";

/** Options of {@link EnedisDataConnectProvider}. */
export interface EnedisDataConnectOptions extends EnedisProviderOptions {
  clientId: string;
  clientSecret: string;
}

/** Lifetime assumed when the token response has no `expires_in` (conso-api caches 3 h). */
const DEFAULT_TOKEN_LIFETIME_S = 3 * 3600;

/** Enedis metering v5 path of each resolution. */
const PATHS = {
  daily: "/metering_data_dc/v5/daily_consumption",
  load_curve: "/metering_data_clc/v5/consumption_load_curve",
} as const;

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
 * Enedis Data Connect v5 provider. Capabilities: electricity; daily 365 d/call, 3×365+15 d history;
 * load curve 7 d/call, 2×365+15 d history; Europe/Paris; 06:00–10:00; dailyBudget 500 (Enedis
 * quotas Q3 = 5 calls/s, Q4 = 10 000 calls/h per application). Readings in Wh.
 *
 * The application token is cached until shortly before `expires_in` and shared by all meters;
 * its request also goes through the gate. An `auth` error on a metering call drops the cached
 * token (the next call fetches a fresh one).
 *
 * `fetch` throws ProviderError: `bad_request` before any HTTP for a too-long/invalid range,
 * `auth` (credentials refused, 401/403: consent missing or revoked), `unavailable`,
 * `quota_exceeded` (429 "Quota Q3/Q4 reached"), `invalid_prm`, `invalid_response`,
 * `budget_exhausted`.
 */
export class EnedisDataConnectProvider implements Provider {
  readonly id = "enedis_data_connect" as const;
  readonly capabilities: ProviderCapabilities = enedisCapabilities(200, 500);
  private readonly baseUrl: string;
  private readonly config: client.Configuration;
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly opts: EnedisDataConnectOptions) {
    this.baseUrl = normalizeBaseUrl(opts.baseUrl ?? ENEDIS_PRODUCTION_BASE_URL);
    this.config = new client.Configuration(
      { issuer: this.baseUrl, token_endpoint: `${this.baseUrl}/oauth2/v3/token` },
      opts.clientId,
      opts.clientSecret,
    );
    this.config.timeout = Math.ceil((opts.timeoutMs ?? 30_000) / 1000);
    if (this.baseUrl.startsWith("http://")) client.allowInsecureRequests(this.config);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** A valid application token, from the cache or a client-credentials grant (gate admitted). */
  private async accessToken(gate: RequestGate): Promise<string> {
    if (this.token && this.now() < this.token.expiresAt) return this.token.value;
    this.pending ??= withRetry(async () => {
      gate.acquire();
      try {
        const obtainedAt = this.now();
        const res = await client.clientCredentialsGrant(this.config);
        const lifetimeS = res.expiresIn() ?? DEFAULT_TOKEN_LIFETIME_S;
        const marginS = Math.min(300, lifetimeS / 10);
        this.token = { value: res.access_token, expiresAt: obtainedAt + (lifetimeS - marginS) * 1000 };
        return res.access_token;
      } catch (error) {
        throw tokenError(error);
      }
    }, this.opts.retry).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  async fetch(meter: Meter, range: FetchRange, gate: RequestGate): Promise<FetchResult> {
    const source = "Enedis Data Connect";
    checkRange(this.capabilities, range, source);
    const token = await this.accessToken(gate);
    const query = new URLSearchParams({ usage_point_id: meter.id, start: range.start, end: range.end });
    try {
      return await fetchMeterReading(
        meter,
        range,
        {
          url: `${this.baseUrl}${PATHS[range.resolution]}?${query.toString()}`,
          headers: { Authorization: `Bearer ${token}` },
          source,
          describeAuth: (status, message) =>
            `${source}: token invalid or consent revoked for usage point ${meter.id} (HTTP ${status}: ${message})`,
        },
        gate,
        true,
        this.opts,
      );
    } catch (error) {
      if (error instanceof ProviderError && error.code === "auth") this.token = undefined;
      throw error;
    }
  }
}
