/**
 * MyElectricalData legacy gateway (myelectricaldata.fr, "v1").
 *
 * `GET {base}/daily_consumption/{prm}/start/{YYYY-MM-DD}/end/{YYYY-MM-DD}/` and
 * `GET {base}/consumption_load_curve/{prm}/start/…/end/…/` with `Authorization: <token>` (raw, no
 * "Bearer") and `Content-Type: application/json`; 200 = `{"meter_reading": {...}}` (Enedis shape);
 * errors `{"detail": "<message>"}`, 403 = token refused.
 * Source: MyElectricalData/myelectricaldata_import `src/models/jobs.py`,
 * `src/external_services/myelectricaldata/{daily,detail}.py`.
 */
import type { FetchRange, FetchResult, Meter, Provider, ProviderCapabilities, RequestGate } from "../domain/types.js";
import {
  checkRange,
  enedisCapabilities,
  enedisResource,
  fetchMeterReading,
  normalizeBaseUrl,
  type EnedisProviderOptions,
} from "./enedis-common.js";

/** Public MyElectricalData legacy host. */
export const MYELECTRICALDATA_BASE_URL = "https://myelectricaldata.fr";

/** Options of {@link MyElectricalDataProvider}. */
export interface MyElectricalDataOptions extends EnedisProviderOptions {
  /** MyElectricalData token, sent raw in `Authorization`. */
  token: string;
}

/**
 * MyElectricalData legacy provider. Same capabilities as Conso API (electricity; daily 365 d/call,
 * 3×365+15 d history; load curve 7 d/call, 2×365+15 d history; Europe/Paris; 06:00–10:00) with
 * dailyBudget 40 (the gateway allows 50 calls/day/PDL without cache). Readings in Wh.
 *
 * `fetch` throws ProviderError: `bad_request` before any HTTP for a too-long/invalid range,
 * `auth` on 401/403, `unavailable`, `quota_exceeded`, `invalid_prm`, `invalid_response`,
 * `budget_exhausted`.
 */
export class MyElectricalDataProvider implements Provider {
  readonly id = "myelectricaldata" as const;
  readonly capabilities: ProviderCapabilities = enedisCapabilities(40);
  private readonly baseUrl: string;

  constructor(private readonly opts: MyElectricalDataOptions) {
    this.baseUrl = normalizeBaseUrl(opts.baseUrl ?? MYELECTRICALDATA_BASE_URL);
  }

  async fetch(meter: Meter, range: FetchRange, gate: RequestGate): Promise<FetchResult> {
    const source = "MyElectricalData";
    checkRange(this.capabilities, range, source);
    const prm = encodeURIComponent(meter.id);
    const path = `${enedisResource(range.resolution)}/${prm}/start/${range.start}/end/${range.end}/`;
    return fetchMeterReading(
      meter,
      range,
      {
        url: `${this.baseUrl}/${path}`,
        headers: { Authorization: this.opts.token, "Content-Type": "application/json" },
        source,
        describeAuth: (status, message) =>
          `${source} refused the token (HTTP ${status}): token invalid or consent revoked for PRM ${meter.id} (${message})`,
      },
      gate,
      true,
      this.opts,
    );
  }
}
