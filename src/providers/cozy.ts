/**
 * Ecolyo on a Cozy instance as a Provider: one instance per energy of one account (electricity,
 * gas, water), reading Ecolyo's doctypes (cozy-docs.ts) with Mango `_find` (cozy-client.ts).
 *
 * - daily: `com.grandlyon.{enedis,grdf,egl}.day`, ≤ 366 days per call; electricity also
 *   `load_curve` from `com.grandlyon.enedis.minute`, ≤ 31 days per call (≤ 1,500 docs, 2 pages).
 * - A range is queried per calendar year: `{"year": Y, "month": {"$gte": a, "$lte": b}}`, sorted
 *   on the index fields ([year, month, day] for day docs, + hour, minute for minute docs; the index
 *   is created when missing), and the docs are cut to the range's days.
 * - History: the Cozy keeps what its konnectors collected, for as long as the user had Ecolyo. The
 *   oldest doc is looked up once per doctype (one `_find`, sort asc, limit 1) so that an empty
 *   range before it means "end of history" (the planner then stops going back) while an empty
 *   range after it is a gap. Depth allowed: 10 years.
 * - The Cozy has no request quota of its own that we know of; dailyBudget 200, hard cap 1000.
 */
import { DateTime } from "luxon";
import { ProviderError } from "../domain/errors.js";
import type { EnergyKind, FetchRange, FetchResult, Meter, Provider, ProviderCapabilities, RequestGate } from "../domain/types.js";
import { CozyClient } from "./cozy-client.js";
import { ECOLYO_DOCTYPES, ECOLYO_GAS_LOAD_UNIT, ECOLYO_TIMEZONE, docDate, ecolyoDocSchema, ecolyoUnit, parseEcolyoDocs } from "./cozy-docs.js";

/** Days of history the planner may ask for (the Cozy's own depth bounds what comes back). */
export const ECOLYO_HISTORY_DAYS = 3650;

/** Options of {@link CozyProvider}. */
export interface CozyProviderOptions {
  client: CozyClient;
  kind: EnergyKind;
  /** Unit of gas `load` (default {@link ECOLYO_GAS_LOAD_UNIT}). */
  gasUnit?: "kWh" | "m³";
  /** Whether to read the half-hour electricity doctype (default true; only for electricity). */
  loadCurve?: boolean;
}

const DAY_FIELDS = ["year", "month", "day"] as const;
const MINUTE_FIELDS = ["year", "month", "day", "hour", "minute"] as const;

/** See the file comment. `fetch` throws ProviderError as CozyClient does. */
export class CozyProvider implements Provider {
  readonly id = "cozy" as const;
  readonly capabilities: ProviderCapabilities;
  readonly #oldest = new Map<string, string | null>();

  constructor(private readonly opts: CozyProviderOptions) {
    const curve = opts.kind === "electricity" && opts.loadCurve !== false;
    this.capabilities = {
      kinds: [opts.kind],
      resolutions: {
        daily: { maxDaysPerCall: 366, historyDays: ECOLYO_HISTORY_DAYS },
        ...(curve ? { load_curve: { maxDaysPerCall: 31, historyDays: ECOLYO_HISTORY_DAYS } } : {}),
      },
      flows: ["consumption"],
      dailyBudget: 200,
      hardDailyCap: 1000,
      timezone: ECOLYO_TIMEZONE,
      scheduleWindow: ["09:00", "12:00"],
    };
  }

  /** The doctype read for `resolution`, or undefined when this energy has none. */
  doctype(resolution: FetchRange["resolution"]): string | undefined {
    const d = ECOLYO_DOCTYPES[this.opts.kind] as { daily: string; load_curve?: string };
    return resolution === "daily" ? d.daily : this.capabilities.resolutions.load_curve ? d.load_curve : undefined;
  }

  async fetch(meter: Meter, range: FetchRange, gate: RequestGate): Promise<FetchResult> {
    try {
      return await this.fetchDocs(meter, range, gate);
    } catch (err) {
      // A doctype the Cozy never had (no konnector for this energy) answers 404: nothing to read.
      if (err instanceof ProviderError && err.details.status === 404) return { readings: [], rejected: [], endOfHistory: true };
      throw err;
    }
  }

  private async fetchDocs(meter: Meter, range: FetchRange, gate: RequestGate): Promise<FetchResult> {
    void meter;
    const doctype = this.doctype(range.resolution);
    if (!doctype) return { readings: [], rejected: [], endOfHistory: true };
    const fields = range.resolution === "daily" ? DAY_FIELDS : MINUTE_FIELDS;
    const client = this.opts.client;
    const useIndex = await client.ensureIndex(doctype, fields, gate);
    const sort = fields.map((f) => ({ [f]: "asc" as const }));
    const from = DateTime.fromISO(range.start, { zone: ECOLYO_TIMEZONE });
    // A minute doc stamped at its end lies on the next day for the last half hour: read one day more.
    const to = DateTime.fromISO(range.end, { zone: ECOLYO_TIMEZONE }).plus({ days: range.resolution === "daily" ? -1 : 0 });
    const raw: unknown[] = [];
    for (let y = from.year; y <= to.year; y++) {
      const a = y === from.year ? from.month : 1;
      const b = y === to.year ? to.month : 12;
      const { docs } = await client.find(doctype, { selector: { year: y, month: { $gte: a, $lte: b } }, sort, useIndex }, gate);
      raw.push(...docs);
    }
    const { factor } = ecolyoUnit(this.opts.kind, this.opts.gasUnit ?? ECOLYO_GAS_LOAD_UNIT);
    const parsed = parseEcolyoDocs(raw, { resolution: range.resolution, factor, fromDay: range.start, toDay: range.end });
    let endOfHistory = false;
    if (parsed.readings.length === 0 && parsed.rejected.length === 0) {
      const oldest = await this.oldestDay(doctype, fields, useIndex, gate);
      endOfHistory = oldest === null || range.end <= oldest;
    }
    return { ...parsed, endOfHistory };
  }

  /** The date of the doctype's oldest doc (cached), or null when it holds none. */
  private async oldestDay(doctype: string, fields: readonly string[], useIndex: string, gate: RequestGate): Promise<string | null> {
    if (this.#oldest.has(doctype)) return this.#oldest.get(doctype)!;
    const { docs } = await this.opts.client.find(
      doctype,
      { selector: { year: { $gte: 1970 } }, sort: fields.map((f) => ({ [f]: "asc" as const })), useIndex, limit: 1, maxDocs: 1 },
      gate,
    );
    const first = docs[0] === undefined ? null : ecolyoDocSchema.safeParse(docs[0]);
    const day = first && first.success ? docDate(first.data) : null;
    this.#oldest.set(doctype, day);
    return day;
  }
}
