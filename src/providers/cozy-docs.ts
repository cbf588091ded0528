/**
 * Ecolyo's documents in a Cozy: the doctypes, the facts about them that nobody has verified (one
 * named constant each, with the reason of the choice), the zod schema of a doc, and doc → Reading.
 *
 * Source: Grand Lyon's technical doc (forge.grandlyon.com `llle_project/self-data-technical-doc`,
 * `docs/ecolyo/project_architecture/doctypes.md`, commit e625b69a, 2022-11-03), as summarised in the
 * project's provider reference §4.6: electricity `com.grandlyon.enedis.minute` (half-hour) and
 * `.day`, gas `com.grandlyon.grdf.day`, water `com.grandlyon.egl.day`; fields `load` ("load (in
 * kWh or L)"), `minute`, `hour` (0 except minute/hour series), `day`, `month`, `year`, plus `_id`,
 * `_rev` and probably `cozyMetadata`.
 */
import { DateTime } from "luxon";
import { z } from "zod";
import type { EnergyKind, Reading, RejectedPoint, Unit } from "../domain/types.js";

/** The Ecolyo doctypes read (read-only) per energy and resolution. */
export const ECOLYO_DOCTYPES = {
  electricity: { daily: "com.grandlyon.enedis.day", load_curve: "com.grandlyon.enedis.minute" },
  gas: { daily: "com.grandlyon.grdf.day" },
  water: { daily: "com.grandlyon.egl.day" },
} as const satisfies Record<EnergyKind, { daily: string; load_curve?: string }>;

/**
 * Zone of the `year`/`month`/`day`/`hour`/`minute` fields. UNVERIFIED: the doc does not say. Ecolyo
 * is a Métropole de Lyon service fed by Enedis, GRDF and Eau du Grand Lyon, whose own dates are
 * French local dates (Enedis publishes per Europe/Paris day); a konnector splitting those dates
 * into fields keeps French wall-clock time.
 */
export const ECOLYO_TIMEZONE = "Europe/Paris";

/**
 * Unit of `load` in `com.grandlyon.grdf.day`. UNVERIFIED. The field doc says "load (in kWh or L)":
 * two units for three energies, L being water's (Eau du Grand Lyon meters count litres), so gas
 * is kWh — as GRDF's customer data (ADICT) and Ecolyo's screens give gas consumption in energy.
 * If a real Cozy shows gas in m³, set this to "m³": readings are then stored in L and the
 * statistic becomes `m³` (unit class `volume`), which the Energy dashboard accepts as gas too.
 */
export const ECOLYO_GAS_LOAD_UNIT: "kWh" | "m³" = "kWh";

/**
 * Which instant of its half hour a `com.grandlyon.enedis.minute` doc's time fields name.
 * UNVERIFIED. Chosen: the END. Ecolyo's Enedis konnector read Enedis metering data v4, whose load
 * curve points are dated at the end of their interval (as every Enedis curve, `d` = end), and
 * stored the date split into fields; no shift is documented. A doc at 00:00 is then the half hour
 * 23:30–00:00 of the day before. Changing this constant shifts every half hour by 30 minutes; day
 * totals come from the `.day` doctype and do not move.
 */
export const ECOLYO_MINUTE_DOC_STAMP: "start" | "end" = "end";

/** Length of one `com.grandlyon.enedis.minute` interval. */
export const ECOLYO_MINUTE_INTERVAL_MS = 30 * 60_000;

/**
 * One Ecolyo doc as read from `_find`. Extra fields (`_rev`, `cozyMetadata`, `price`…) are allowed
 * and ignored. `hour`/`minute` default to 0 (day docs may omit them).
 */
export const ecolyoDocSchema = z
  .object({
    _id: z.string().optional(),
    load: z.number({ invalid_type_error: "load must be a number" }).finite(),
    year: z.number().int().min(1970).max(2100),
    month: z.number().int().min(1).max(12),
    day: z.number().int().min(1).max(31),
    hour: z.number().int().min(0).max(24).default(0),
    minute: z.number().int().min(0).max(59).default(0),
  })
  .passthrough();

/** A validated Ecolyo doc. */
export type EcolyoDoc = z.infer<typeof ecolyoDocSchema>;

/** The stored unit and the factor from `load` of one energy (electricity/gas kWh → Wh, water L, gas m³ → L). */
export function ecolyoUnit(kind: EnergyKind, gasUnit: "kWh" | "m³" = ECOLYO_GAS_LOAD_UNIT): { unit: Unit; factor: number } {
  if (kind === "water") return { unit: "L", factor: 1 };
  if (kind === "gas" && gasUnit === "m³") return { unit: "L", factor: 1000 };
  return { unit: "Wh", factor: 1000 };
}

/** The "YYYY-MM-DD" of a doc's date fields. */
export function docDate(d: { year: number; month: number; day: number }): string {
  return `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}

/**
 * Raw docs of one `_find` answer → readings in the meter's unit, for local days [fromDay, toDay).
 * - day docs: the whole local day in {@link ECOLYO_TIMEZONE} (23/24/25 h);
 * - minute docs: one half hour stamped per {@link ECOLYO_MINUTE_DOC_STAMP}; a wall time that does
 *   not exist (spring forward) is rejected; one that exists twice (fall back) is the earlier
 *   instant for its first doc and the later for its second, in answer order.
 * Rejected (never stored, listed with a reason): a doc failing the schema, a negative `load`, an
 * impossible date, a repeated interval. A doc of another day is skipped silently (the query is by
 * whole months).
 */
export function parseEcolyoDocs(
  raw: readonly unknown[],
  opts: { resolution: "daily" | "load_curve"; factor: number; fromDay: string; toDay: string; zone?: string; stamp?: "start" | "end" },
): { readings: Reading[]; rejected: RejectedPoint[] } {
  const zone = opts.zone ?? ECOLYO_TIMEZONE;
  const stamp = opts.stamp ?? ECOLYO_MINUTE_DOC_STAMP;
  const readings: Reading[] = [];
  const rejected: RejectedPoint[] = [];
  const seenWall = new Set<string>();
  const seenStart = new Set<number>();
  for (const item of raw) {
    const parsed = ecolyoDocSchema.safeParse(item);
    const label = describe(item);
    if (!parsed.success) {
      rejected.push({ raw: label, reason: parsed.error.issues.map((i) => `${i.path.join(".") || "doc"}: ${i.message}`).join("; ") });
      continue;
    }
    const d = parsed.data;
    if (d.load < 0) {
      rejected.push({ raw: label, reason: `negative load ${d.load}` });
      continue;
    }
    const date = docDate(d);
    const local = DateTime.fromObject({ year: d.year, month: d.month, day: d.day }, { zone });
    if (!local.isValid || local.day !== d.day) {
      rejected.push({ raw: label, reason: `no such date ${date}` });
      continue;
    }
    let start: number;
    let durationMs: number;
    if (opts.resolution === "daily") {
      if (date < opts.fromDay || date >= opts.toDay) continue;
      start = local.startOf("day").toMillis();
      durationMs = local.plus({ days: 1 }).startOf("day").toMillis() - start;
    } else {
      const wall = `${date}T${String(d.hour).padStart(2, "0")}:${String(d.minute).padStart(2, "0")}`;
      const instant = wallInstant(d, zone, seenWall.has(wall));
      if (instant === null) {
        rejected.push({ raw: label, reason: `local time ${wall} does not exist in ${zone} (daylight saving change)` });
        continue;
      }
      seenWall.add(wall);
      start = stamp === "end" ? instant - ECOLYO_MINUTE_INTERVAL_MS : instant;
      durationMs = ECOLYO_MINUTE_INTERVAL_MS;
      const day = DateTime.fromMillis(start, { zone }).toISODate()!;
      if (day < opts.fromDay || day >= opts.toDay) continue;
    }
    if (seenStart.has(start)) {
      rejected.push({ raw: label, reason: `a second doc for the interval starting ${new Date(start).toISOString()}` });
      continue;
    }
    seenStart.add(start);
    readings.push({ start, durationMs, value: d.load * opts.factor, quality: null });
  }
  readings.sort((a, b) => a.start - b.start);
  return { readings, rejected };
}

/**
 * UTC ms of a wall-clock time in `zone`, or null when it does not exist. `second`: the later of
 * two instants when the wall time is repeated (fall back), else the earlier.
 */
function wallInstant(d: EcolyoDoc, zone: string, second: boolean): number | null {
  const base = { year: d.year, month: d.month, day: d.day, hour: 0, minute: 0 };
  // hour 24 (end-stamped midnight written as 24:00) is the next day's 00:00.
  const midnight = DateTime.fromObject(base, { zone }).plus({ days: d.hour === 24 ? 1 : 0 });
  const hour = d.hour === 24 ? 0 : d.hour;
  const candidates: number[] = [];
  // Probe both offsets around the wall time: each valid one maps back to the same wall fields.
  for (const offsetMin of new Set([midnight.offset, midnight.plus({ hours: hour + 1 }).offset, midnight.minus({ hours: 1 }).offset])) {
    const utc = Date.UTC(midnight.year, midnight.month - 1, midnight.day, hour, d.minute) - offsetMin * 60_000;
    const back = DateTime.fromMillis(utc, { zone });
    if (back.hour === hour && back.minute === d.minute && back.day === midnight.day) candidates.push(utc);
  }
  const sorted = [...new Set(candidates)].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return second && sorted.length > 1 ? sorted[1]! : sorted[0]!;
}

function describe(item: unknown): string {
  if (item && typeof item === "object") {
    const o = item as Record<string, unknown>;
    const id = typeof o._id === "string" ? `${o._id} ` : "";
    return `${id}${String(o.year)}-${String(o.month)}-${String(o.day)} ${String(o.hour ?? 0)}:${String(o.minute ?? 0)} load=${String(o.load)}`.slice(0, 200);
  }
  return String(item).slice(0, 200);
}
