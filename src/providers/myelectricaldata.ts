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
import type { FetchRange, Meter } from "../domain/types.js";
import { EnedisGateway, enedisResource, type EnedisProviderOptions } from "./enedis-common.js";
import type { JsonRequest } from "./http.js";

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
export class MyElectricalDataProvider extends EnedisGateway {
  readonly id = "myelectricaldata" as const;
  protected readonly source = "MyElectricalData";
  protected readonly wrapped = true;

  constructor(opts: MyElectricalDataOptions) {
    super(opts, MYELECTRICALDATA_BASE_URL);
  }

  protected request(meter: Meter, range: FetchRange): Omit<JsonRequest, "gate"> {
    const prm = encodeURIComponent(meter.id);
    return {
      url: `${this.baseUrl}/${enedisResource(range.resolution)}/${prm}/start/${range.start}/end/${range.end}/`,
      headers: { Authorization: this.opts.token, "Content-Type": "application/json" },
      source: this.source,
      describeAuth: (status, message) =>
        `${this.source} refused the token (HTTP ${status}): token invalid or consent revoked for PRM ${meter.id} (${message})`,
    };
  }
}
