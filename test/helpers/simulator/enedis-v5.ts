/**
 * The retired Enedis Data Connect v5 semantics, kept for the legacy MyElectricalData routes and for
 * an older self-hosted Conso API gateway (`consoApi: "v5"`): `[start, end[` local days, data up to
 * D-1, load curve ≤ 7 days, daily ≤ 365 days; the `meter_reading` object with `value` strings,
 * curve `date` = END of the interval, naive Europe/Paris. Texts are the v5 ones the project recorded.
 */
import { DateTime } from "luxon";
import { fmtMilli, HALF_HOUR, naiveLocal, type SeriesStore, ZONE } from "./store.js";

export type V5Kind = "daily_consumption" | "consumption_load_curve";
export interface V5Error {
  status: number;
  body: { error: string; error_description: string };
}
export type V5Result = { ok: true; meterReading: Record<string, unknown> } | { ok: false; err: V5Error };

const v5Error = (status: number, error: string, error_description: string): V5Result => ({
  ok: false,
  err: { status, body: { error, error_description } },
});

/** Answers a v5 request with valid "YYYY-MM-DD" dates. */
export function queryV5(store: SeriesStore, prm: string, today: DateTime, kind: V5Kind, start: string, end: string): V5Result {
  const s = DateTime.fromISO(start, { zone: ZONE });
  const e = DateTime.fromISO(end, { zone: ZONE });
  const days = Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000);
  if (days <= 0) return v5Error(400, "Invalid_request", "Start date should be before end date.");
  if (e > today) return v5Error(400, "Invalid_request", "The end date parameter must be earlier than the current date");
  if (kind === "consumption_load_curve" && days > 7) {
    return v5Error(400, "ADAM-DC-0015", "The requested period must be less than 7 days for an access to the load curve.");
  }
  if (kind === "daily_consumption" && days > 365) {
    // Illustrative text: the recorded one is the load-curve variant above.
    return v5Error(400, "ADAM-DC-0015", "The requested period must be less than 365 days for an access to the daily consumption.");
  }
  if (e <= store.activationDay()) {
    return v5Error(400, "ADAM-ERR0123", "The requested period cannot be anterior to the meter's last activation date");
  }
  const limit = today.toMillis();
  const points: Record<string, string>[] = [];
  if (kind === "consumption_load_curve") {
    for (let t = s.toMillis(); t < e.toMillis() && t + HALF_HOUR <= limit; t += HALF_HOUR) {
      const milli = store.values.get(t);
      if (milli === undefined) continue;
      points.push({ value: fmtMilli(milli * 2), date: naiveLocal(t + HALF_HOUR), interval_length: "PT30M", measure_type: "B" });
    }
  } else {
    for (let d = s; d < e; d = d.plus({ days: 1 })) {
      const to = d.plus({ days: 1 }).toMillis();
      if (to > limit) break;
      const sum = store.dayTotal(d.toMillis(), to);
      if (sum !== null) points.push({ value: fmtMilli(sum), date: d.toISODate()! });
    }
  }
  const reading_type =
    kind === "consumption_load_curve"
      ? { unit: "W", measurement_kind: "power", aggregate: "average" }
      : { unit: "Wh", measurement_kind: "energy", aggregate: "sum", measuring_period: "P1D" };
  return {
    ok: true,
    meterReading: { usage_point_id: prm, start, end, quality: "BRUT", reading_type, interval_reading: points },
  };
}
