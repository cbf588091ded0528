/**
 * MyElectricalData legacy gateway (myelectricaldata.fr, "v1"), kept only while it still answers
 * (its status after Enedis' v2 switch is unverified, enedis-2026.md §10).
 *
 * `GET {base}/{daily_consumption|consumption_load_curve|daily_production|production_load_curve|
 * daily_consumption_max_power}/{prm}/start/{YYYY-MM-DD}/end/{YYYY-MM-DD}/` with `Authorization:
 * <token>` (raw, no "Bearer") and `Content-Type: application/json`; 200 = `{"meter_reading": {...}}`
 * (Enedis v5 relayed: curve stamps = interval END, as MED-import shifts them itself), errors
 * `{"detail": "<message>"}`, 403 = token refused. Whatever shape it answers (v5 wrapper, inner
 * object, v2, MED envelope) is read by {@link parseEnedisBody}; its curve stamps are taken as
 * interval ends (unverified for a v2 body from this host).
 * Source: MyElectricalData/myelectricaldata_import `src/models/jobs.py`,
 * `src/external_services/myelectricaldata/{daily,detail,power}.py`.
 */
import type { Meter } from "../domain/types.js";
import {
  EnedisGateway,
  enedisCapabilities,
  enedisV2Resource,
  hardCapFor,
  type EnedisProviderOptions,
  type EnedisQuery,
} from "./enedis-common.js";
import type { JsonRequest } from "./http.js";

/** Public MyElectricalData legacy host. */
export const MYELECTRICALDATA_LEGACY_BASE_URL = "https://myelectricaldata.fr";

/** Options of {@link MyElectricalDataLegacyProvider}. */
export interface MyElectricalDataLegacyOptions extends EnedisProviderOptions {
  /** MyElectricalData token, sent raw in `Authorization`. */
  token: string;
}

/** Legacy (v5-named) route of a query. */
function legacyRoute(q: EnedisQuery): string {
  enedisV2Resource(q); // no max power for production
  if (q.kind === "max_power") return "daily_consumption_max_power";
  const production = q.flow === "production";
  if (q.kind === "daily") return production ? "daily_production" : "daily_consumption";
  return production ? "production_load_curve" : "consumption_load_curve";
}

/**
 * MyElectricalData legacy provider: {@link enedisCapabilities} with dailyBudget 20 and
 * hardDailyCap 45 on the public host (the gateway allowed 50 calls/day/PDL without cache), 500
 * self-hosted. Readings in Wh, peaks in VA.
 *
 * `fetch`/`fetchMaxPower` throw ProviderError: `bad_request` before any HTTP for a too-long/invalid
 * range, `auth` on 401/403, `unavailable`, `quota_exceeded`, `invalid_prm`, `invalid_response`,
 * `budget_exhausted`.
 */
export class MyElectricalDataLegacyProvider extends EnedisGateway {
  readonly id = "myelectricaldata_legacy" as const;
  protected readonly source = "MyElectricalData (legacy)";
  protected readonly stamp = "end" as const;

  constructor(private readonly med: MyElectricalDataLegacyOptions) {
    super(
      med,
      MYELECTRICALDATA_LEGACY_BASE_URL,
      enedisCapabilities(20, hardCapFor(med.baseUrl, MYELECTRICALDATA_LEGACY_BASE_URL, 45)),
    );
  }

  protected request(meter: Meter, q: EnedisQuery): Omit<JsonRequest, "gate"> {
    const prm = encodeURIComponent(q.usagePoint);
    return {
      url: `${this.baseUrl}/${legacyRoute(q)}/${prm}/start/${q.start}/end/${q.end}/`,
      headers: { Authorization: this.med.token, "Content-Type": "application/json" },
      source: this.source,
      describeAuth: (status, message) =>
        `${this.source} refused the token (HTTP ${status}): token invalid or consent revoked for PRM ${q.usagePoint} ` +
        `(meter ${meter.id}) (${message})`,
    };
  }
}
