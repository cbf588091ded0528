/**
 * MyElectricalData v2 gateway (www.v2.myelectricaldata.fr, MyElectricalData/myelectricaldata_new).
 *
 * `GET {base}/enedis/{route}/{pdl}?start=YYYY-MM-DD&end=YYYY-MM-DD` (end excluded; MED caps `end`
 * to today, Paris) with `Authorization: Bearer <secret>` and `X-MED-Format: 2026`; `{route}` =
 * `consumption/daily`, `consumption/detail` (load curve, ≤ 7 days per call: single detail calls
 * are not split), `production/daily`, `production/detail`, `power` (daily max power).
 * 200 = `{"success": true, "data": <Enedis v2 object>, "error": null, "timestamp": "…"}`; curve `d`
 * = interval START (the gateway subtracts `p` in naive wall time). Without the header MED answers
 * a v5 compatibility body (+ `Deprecation`), still read by shape. Errors: `{"success": false,
 * "error": {"code": "NO_DATA"|"ADAM-ERR0123"|"RATE_LIMIT_EXCEEDED"|"ACCESS_DENIED"|"ENEDIS_ERROR"|…,
 * "message": "…"}}` — `success` decides, not the HTTP status.
 * Source: enedis-2026.md §2, §4, §5, §6, §7 (MED `routers/enedis.py`, `routers/format_negotiation.py`,
 * `adapters/enedis_format.py`).
 */
import type { Meter } from "../domain/types.js";
import {
  EnedisGateway,
  enedisCapabilities,
  hardCapFor,
  type EnedisProviderOptions,
  type EnedisQuery,
} from "./enedis-common.js";
import type { JsonRequest } from "./http.js";

/** Public MyElectricalData v2 gateway API root. */
export const MYELECTRICALDATA_BASE_URL = "https://www.v2.myelectricaldata.fr/api";

/** Options of {@link MyElectricalDataProvider}. */
export interface MyElectricalDataOptions extends EnedisProviderOptions {
  /** MyElectricalData client secret, sent as `Authorization: Bearer <secret>`. */
  token: string;
}

/** MED route of a query. */
function medRoute(q: EnedisQuery): string {
  if (q.kind === "max_power") return "power";
  const flow = q.flow === "production" ? "production" : "consumption";
  return `${flow}/${q.kind === "daily" ? "daily" : "detail"}`;
}

/**
 * MyElectricalData v2 provider: {@link enedisCapabilities} with dailyBudget 20 and hardDailyCap 45
 * on the public host (500 self-hosted): MED allows 50 uncached calls per account and UTC day
 * (MED `config/settings.py`, `services/rate_limiter.py`; production values unverified), so 45
 * leaves room for the user's other tools. Readings in Wh, peaks in VA.
 *
 * `fetch`/`fetchMaxPower` throw ProviderError: `bad_request` before any HTTP for a too-long/invalid
 * range, `auth` (401/403, `ACCESS_DENIED`), `quota_exceeded` (`RATE_LIMIT_EXCEEDED`, 429),
 * `unavailable`, `invalid_prm`, `invalid_response`, `budget_exhausted`.
 */
export class MyElectricalDataProvider extends EnedisGateway {
  readonly id = "myelectricaldata" as const;
  protected readonly source = "MyElectricalData";
  protected readonly stamp = "start" as const;

  constructor(private readonly med: MyElectricalDataOptions) {
    super(med, MYELECTRICALDATA_BASE_URL, enedisCapabilities(20, hardCapFor(med.baseUrl, MYELECTRICALDATA_BASE_URL, 45)));
  }

  protected request(meter: Meter, q: EnedisQuery): Omit<JsonRequest, "gate"> {
    const search = new URLSearchParams({ start: q.start, end: q.end }).toString();
    return {
      url: `${this.baseUrl}/enedis/${medRoute(q)}/${encodeURIComponent(q.usagePoint)}?${search}`,
      headers: { Authorization: `Bearer ${this.med.token}`, "X-MED-Format": "2026" },
      source: this.source,
      describeAuth: (status, message) =>
        `${this.source} refused the secret (HTTP ${status}): secret invalid, or PDL ${q.usagePoint} (meter ${meter.id}) ` +
        `not linked to the account or its consent revoked (${message})`,
    };
  }
}
