/**
 * Pure builders of the retained state and attribute messages of a meter's MQTT entities (the
 * configs are in `discovery.ts`, which fixes the topics).
 *
 * Payloads (HA core `components/mqtt/sensor.py`, `binary_sensor.py`, `entity.py`):
 * - numbers as plain decimal text (`12.345`); `None` = unknown (`PAYLOAD_NONE`); never `unavailable`
 *   (availability has its own topics) and never an empty payload (ignored for numeric sensors);
 * - the anomaly binary sensor `ON` / `OFF` (default `payload_on`/`payload_off`), `None` when no day
 *   is known yet;
 * - timestamps ISO 8601 UTC with `Z` (`2026-01-15T06:12:03.000Z`; HA needs a zone, naive is refused);
 * - attributes a JSON object (keys are none of HA's blocked ones: device_class, friendly_name, icon,
 *   state, unique_id, unit_of_measurement, …), `null` for unknown values.
 */
import type { Anomaly, DailyMaxPower, LocalDate } from "../../domain/types.js";
import { meterAttributesTopic, meterStateTopic, type DiscoveryOptions, type MeterEntityKind } from "./discovery.js";

/** HA's "unknown" state payload for MQTT sensors and binary sensors. */
export const PAYLOAD_NONE = "None";

/** First and last local day held in the store for a meter. */
export interface HistoryCoverage {
  firstDay: LocalDate | null;
  lastDay: LocalDate | null;
}

/**
 * What is published about one meter. Energies in Wh (published in kWh), power in VA, instants in
 * UTC epoch ms. Structurally a `MeterSnapshot` of `../entities.ts` plus {@link HistoryCoverage}, so a
 * snapshot built for the REST fallback can be passed as is.
 */
export interface MeterStateInput {
  meter: { id: string; flow?: "consumption" | "production" };
  /** The most recent complete local day and its total, if any. */
  latestDay: { day: LocalDate; totalWh: number } | null;
  /** The anomaly of that latest day, if it is one. */
  latestAnomaly: Anomaly | null;
  /** The latest day's peak power, if the provider serves it. */
  maxPower?: DailyMaxPower | null;
  sync: { status: string; lastError: string | null; lastSuccessAt: number | null; requestsRemaining: number | null };
  /** Days held in the store; absent/null = unknown. */
  history?: HistoryCoverage | null;
}

/** One retained message (publish with QoS 1, retain true). */
export interface StateMessage {
  topic: string;
  payload: string;
}

const kwh = (wh: number) => Math.round(wh) / 1000;
const num = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? PAYLOAD_NONE : String(v));

/** Whole days from `first` to `last`, both included (calendar dates, no zone involved). */
export function daysCovered(first: LocalDate, last: LocalDate): number {
  const a = Date.parse(`${first}T00:00:00Z`);
  const b = Date.parse(`${last}T00:00:00Z`);
  if (!Number.isFinite(a) || !Number.isFinite(b) || b < a) return 0;
  return Math.round((b - a) / 86_400_000) + 1;
}

/**
 * The state and attribute messages of a meter, for the entities `meterConfigs` builds (a
 * production series gets no anomaly messages; max-power messages only when `maxPower` is given).
 * Attributes: daily `{day}`; anomaly `{severity, variance_percent, value_kwh, avg_7d_kwh, day}`;
 * last sync `{status, last_error}`; history `{first_day, last_day}`; max power `{day, peak_at}`.
 */
export function meterStateMessages(input: MeterStateInput, opts: Pick<DiscoveryOptions, "baseTopic"> = {}): StateMessage[] {
  const id = input.meter.id;
  const production = input.meter.flow === "production";
  const out: StateMessage[] = [];
  const state = (kind: MeterEntityKind, payload: string) => out.push({ topic: meterStateTopic(id, kind, opts), payload });
  const attrs = (kind: MeterEntityKind, value: Record<string, unknown>) =>
    out.push({ topic: meterAttributesTopic(id, kind, opts), payload: JSON.stringify(value) });

  const day = input.latestDay?.day ?? null;
  state("daily", input.latestDay ? num(kwh(input.latestDay.totalWh)) : PAYLOAD_NONE);
  attrs("daily", { day });

  if (!production) {
    const a = input.latestAnomaly;
    state("anomaly", a ? "ON" : input.latestDay ? "OFF" : PAYLOAD_NONE);
    attrs("anomaly", {
      severity: a?.severity ?? null,
      variance_percent: a ? Math.round(a.variancePercent * 10) / 10 : null,
      value_kwh: a ? kwh(a.value) : null,
      avg_7d_kwh: a ? kwh(a.average7d) : null,
      day,
    });
  }

  const last = input.sync.lastSuccessAt;
  state("last_sync", last === null ? PAYLOAD_NONE : new Date(last).toISOString());
  attrs("last_sync", { status: input.sync.status, last_error: input.sync.lastError });
  state("requests_left", num(input.sync.requestsRemaining));

  const h = input.history;
  state("history", h?.firstDay && h.lastDay ? String(daysCovered(h.firstDay, h.lastDay)) : PAYLOAD_NONE);
  attrs("history", { first_day: h?.firstDay ?? null, last_day: h?.lastDay ?? null });

  if (input.maxPower && !production) {
    state("max_power", String(Math.round(input.maxPower.valueVa)));
    attrs("max_power", { day: input.maxPower.day, peak_at: new Date(input.maxPower.at).toISOString() });
  }
  return out;
}
