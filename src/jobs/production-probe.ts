import { addDays, today as todayIn } from "../analysis/days.js";
import { ProviderError } from "../domain/errors.js";
import type { Meter, Provider, RequestGate } from "../domain/types.js";
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";
import { getKv, setKv } from "../store/kv.js";

/** A "no production" answer is asked again after this many days (panels get installed). */
export const PRODUCTION_REPROBE_DAYS = 90;
/** Days the probe asks for (one daily-production request). */
const PROBE_DAYS = 14;

/** `on`: fetch production; `off`: never; `auto`: decided by {@link productionEnabled}. */
export type ProductionMode = "auto" | "on" | "off";

interface ProbeVerdict {
  producing: boolean;
  /** Local day of the probe. */
  day: string;
  reason: string;
}

const key = (usagePoint: string) => `production_probe:${usagePoint}`;

/**
 * Whether the production series of a usage point should be fetched this cycle. `on`/`off` answer
 * at once. `auto` asks the provider once — one daily-production request over the last
 * {@link PROBE_DAYS} days — and remembers the verdict in the store: some energy produced → yes;
 * "no data" (404, end of history), a refusal (403: the consent or gateway does not cover
 * production) or only zeros → no, asked again after {@link PRODUCTION_REPROBE_DAYS} days. A
 * transient failure (budget, quota, unavailable) leaves it undecided, to ask next cycle. So a
 * meter without production costs one request per 90 days. `meter` is the production series.
 */
export async function productionEnabled(
  db: Db,
  mode: ProductionMode,
  meter: Meter,
  provider: Provider,
  gate: RequestGate,
  opts: { now: () => number; log: Logger },
): Promise<boolean> {
  if (mode !== "auto") return mode === "on";
  if (!provider.capabilities.flows.includes("production")) return false;
  const usagePoint = meter.usagePoint ?? meter.id;
  const today = todayIn(meter.timezone, opts.now());
  const stored = getKv(db, key(usagePoint));
  if (stored) {
    const verdict = JSON.parse(stored) as ProbeVerdict;
    if (verdict.producing || addDays(verdict.day, PRODUCTION_REPROBE_DAYS) > today) return verdict.producing;
  }
  let verdict: ProbeVerdict;
  try {
    const result = await provider.fetch(meter, { resolution: "daily", start: addDays(today, -PROBE_DAYS), end: today }, gate);
    const total = result.readings.reduce((s, r) => s + r.value, 0);
    verdict = result.endOfHistory
      ? { producing: false, day: today, reason: "the provider has no production data for it" }
      : { producing: total > 0, day: today, reason: total > 0 ? `${(total / 1000).toFixed(1)} kWh produced in ${PROBE_DAYS} days` : "no energy produced" };
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    if (err.code !== "auth" && err.code !== "invalid_prm" && err.code !== "bad_request") {
      opts.log.info(`usage point ${usagePoint}: production check postponed (${err.message})`);
      return false;
    }
    verdict = { producing: false, day: today, reason: `the provider refused production data (${err.message})` };
  }
  setKv(db, key(usagePoint), JSON.stringify(verdict));
  opts.log.info(
    verdict.producing
      ? `usage point ${usagePoint}: production found (${verdict.reason}); importing it as energy_bridge:…_production`
      : `usage point ${usagePoint}: no production (${verdict.reason}); checked again in ${PRODUCTION_REPROBE_DAYS} days (set production: on or off to decide)`,
  );
  return verdict.producing;
}
