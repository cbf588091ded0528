/**
 * Ecolyo docs built from the bundled real data (data/README.md): electricity from the Sceaux 2008
 * 30-min series (half-hour docs stamped at their END, Europe/Paris wall time, and day docs for
 * complete local days), gas and water from the AMPds2 daily files. Every series is shifted by a
 * whole number of weeks so it ends yesterday (Europe/Paris); values are the data's own.
 * Units as Ecolyo: electricity kWh, gas kWh (m³ × {@link GAS_KWH_PER_M3}), water L.
 */
import { readFileSync } from "node:fs";
import { DateTime } from "luxon";
import { datasetPath, loadHalfHourSeries, SCEAUX_2008_30MIN } from "../dataset.js";

/** Illustrative GRDF conversion coefficient (kWh per m³) used to turn AMPds2 gas m³ into Ecolyo kWh. */
export const GAS_KWH_PER_M3 = 11.2;
export const AMPDS2_GAS_DAILY = "ampds2-furnace-gas-daily.csv";
export const AMPDS2_WATER_DAILY = "ampds2-water-daily.csv";

/** One Ecolyo doc as the simulator stores it. */
export interface EcolyoSimDoc {
  _id: string;
  _rev: string;
  load: number;
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const ZONE = "Europe/Paris";
const WEEK = 7 * 86_400_000;

function dayDoc(id: string, date: string, load: number): EcolyoSimDoc {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return { _id: id, _rev: "1-a", load, year: y, month: m, day: d, hour: 0, minute: 0 };
}

/** `date,m3` rows of an AMPds2 file. */
export function loadM3Daily(file: string): { date: string; m3: number }[] {
  const lines = readFileSync(datasetPath(file), "utf8").trim().split("\n");
  if (lines[0] !== "date,m3") throw new Error(`${file}: unexpected header ${lines[0]}`);
  return lines.slice(1).map((l) => {
    const [date, v] = l.split(",");
    return { date: date!, m3: Number(v) };
  });
}

/** Whole weeks (in days) that move `lastDate` to on-or-before `yesterday`, as late as possible. */
function weekShiftDays(lastDate: string, yesterday: string): number {
  const gap = DateTime.fromISO(yesterday, { zone: "UTC" }).diff(DateTime.fromISO(lastDate, { zone: "UTC" }), "days").days;
  return Math.floor(gap / 7) * 7;
}

/**
 * The three doctypes' docs for a clock `now` (UTC ms). `days` limits each series to its last
 * `days` local days (default: all of it).
 */
export function ecolyoDocsFromData(now: number, opts: { days?: number } = {}): Record<string, EcolyoSimDoc[]> {
  const yesterday = DateTime.fromMillis(now, { zone: ZONE }).startOf("day").minus({ days: 1 }).toISODate()!;
  const keep = (date: string) => opts.days === undefined || date > DateTime.fromISO(yesterday).minus({ days: opts.days }).toISODate()!;
  const daily = (file: string, factor: number, prefix: string) => {
    const rows = loadM3Daily(file);
    const shift = weekShiftDays(rows.at(-1)!.date, yesterday);
    return rows
      .map((r) => ({ date: DateTime.fromISO(r.date, { zone: "UTC" }).plus({ days: shift }).toISODate()!, load: Math.round(r.m3 * factor * 1000) / 1000 }))
      .filter((r) => keep(r.date))
      .map((r, i) => dayDoc(`${prefix}${i}`, r.date, r.load));
  };
  // Electricity: shift the UTC half-hours by whole weeks so the last one ends before today 00:00 Paris.
  const series = loadHalfHourSeries(SCEAUX_2008_30MIN);
  const todayStart = DateTime.fromMillis(now, { zone: ZONE }).startOf("day").toMillis();
  const end = series.at(-1)!.start + 1_800_000;
  const shiftMs = Math.floor((todayStart - end) / WEEK) * WEEK;
  const minute: EcolyoSimDoc[] = [];
  const perDay = new Map<string, { wh: number; n: number; expected: number }>();
  for (const p of series) {
    const start = p.start + shiftMs;
    const local = DateTime.fromMillis(start, { zone: ZONE });
    const date = local.toISODate()!;
    if (!keep(date)) continue;
    const d = perDay.get(date) ?? {
      wh: 0,
      n: 0,
      expected: Math.round((local.plus({ days: 1 }).startOf("day").toMillis() - local.startOf("day").toMillis()) / 1_800_000),
    };
    perDay.set(date, d);
    if (p.wh === null) continue;
    d.wh += p.wh;
    d.n++;
    const stamp = DateTime.fromMillis(start + 1_800_000, { zone: ZONE }); // END of the half hour
    minute.push({ _id: `m${minute.length}`, _rev: "1-a", load: p.wh / 1000, year: stamp.year, month: stamp.month, day: stamp.day, hour: stamp.hour, minute: stamp.minute });
  }
  const enedisDay = [...perDay].filter(([, d]) => d.n === d.expected).map(([date, d], i) => dayDoc(`e${i}`, date, d.wh / 1000));
  return {
    "com.grandlyon.enedis.day": enedisDay,
    "com.grandlyon.enedis.minute": minute,
    "com.grandlyon.grdf.day": daily(AMPDS2_GAS_DAILY, GAS_KWH_PER_M3, "g"),
    "com.grandlyon.egl.day": daily(AMPDS2_WATER_DAILY, 1000, "w"),
  };
}
