/**
 * Loaders for the real household datasets bundled in `data/` (see `data/README.md` for source,
 * licence and conventions). Used by tests, the demo and the benchmark.
 *
 * Paths: a bare file name ("sceaux-household-2008-30min.csv") or a relative path is resolved
 * against the repository's `data/` folder (found from this file's location, never from the
 * process's working directory); a path starting with "data/" is resolved against the repository
 * root; an absolute path is used as is.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (two levels above test/helpers/). */
export const REPO_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The bundled data folder. */
export const DATA_DIR: string = resolve(REPO_ROOT, "data");

/** Full year 2008, Sceaux household, 30-min Wh, UTC start stamps (17,568 rows, 10 empty). */
export const SCEAUX_2008_30MIN = "sceaux-household-2008-30min.csv";
/** Full year 2008, Sceaux household, Europe/Paris daily kWh (366 rows, 4 empty). */
export const SCEAUX_2008_DAILY = "sceaux-household-2008-daily.csv";
/** 2007 H1 (1-minute source), Sceaux household, 30-min Wh (8,685 rows, 138 empty). */
export const SCEAUX_2007H1_30MIN = "sceaux-household-30min.csv";
/** 2007 H1 (1-minute source), Sceaux household, Europe/Paris daily kWh (180 rows, 12 empty). */
export const SCEAUX_2007H1_DAILY = "sceaux-household-daily.csv";

/**
 * One half-hour of a 30-min series.
 * `start`: UTC epoch **milliseconds** of the interval start; the interval is [start, start + 30 min).
 * `wh`: active energy over the interval in **Wh** (average power in W = wh × 2), or `null` when
 * the source has no valid measurement (never 0).
 */
export interface HalfHourPoint {
  start: number;
  wh: number | null;
}

/**
 * One local day of a daily series.
 * `date`: calendar day "YYYY-MM-DD" in the household's zone (Europe/Paris for the Sceaux files).
 * `kwh`: energy of that local day (00:00 → 24:00 local, so 23 h / 25 h on DST days) in **kWh**,
 * or `null` when any part of the day is missing.
 */
export interface DailyPoint {
  date: string;
  kwh: number | null;
}

/** Resolves a dataset path as described in the module docstring. */
export function datasetPath(file: string): string {
  if (isAbsolute(file)) return file;
  if (file.startsWith("data/")) return resolve(REPO_ROOT, file);
  return resolve(DATA_DIR, file);
}

function readRows(file: string, header: string): string[][] {
  const text = readFileSync(datasetPath(file), "utf8");
  const lines = text.split("\n");
  if (lines[0]?.trim() !== header) {
    throw new Error(`${file}: expected header "${header}", got "${lines[0] ?? ""}"`);
  }
  const rows: string[][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const cells = line.split(",");
    if (cells.length !== 2) throw new Error(`${file}:${i + 1}: expected 2 columns: "${line}"`);
    rows.push(cells);
  }
  return rows;
}

function parseValue(file: string, raw: string): number | null {
  if (raw === "") return null;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${file}: bad value "${raw}"`);
  return v;
}

/**
 * Loads a `start_utc,wh` file (e.g. {@link SCEAUX_2008_30MIN}).
 * Returns one point per row, in file order (sorted by time, continuous 30-min grid);
 * empty values become `null`.
 */
export function loadHalfHourSeries(file: string): HalfHourPoint[] {
  return readRows(file, "start_utc,wh").map(([stamp, raw]) => {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(stamp!)) {
      throw new Error(`${file}: bad start_utc "${stamp}"`);
    }
    return { start: Date.parse(stamp!), wh: parseValue(file, raw!) };
  });
}

/**
 * Loads a `date,kwh` file (e.g. {@link SCEAUX_2008_DAILY}).
 * Returns one point per local day, in file order; empty values become `null`.
 */
export function loadDailySeries(file: string): DailyPoint[] {
  return readRows(file, "date,kwh").map(([date, raw]) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date!)) throw new Error(`${file}: bad date "${date}"`);
    return { date: date!, kwh: parseValue(file, raw!) };
  });
}

const HALF_HOUR_MS = 30 * 60_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/**
 * A longer 30-min series made by **repeating real data**: copies of `series` shifted back by
 * multiples of `periodWeeks` weeks (default 52, so weekdays line up; 52 weeks = 364 days), keeping
 * the more recent copy where two overlap, cut to the last `days` days before the source's end.
 * The result is a continuous grid (gaps of the source repeat in every copy, as `null`), sorted.
 * The values are the source's own measurements, so day totals stay real; only the dates are repeated.
 * The source must span at least `periodWeeks` weeks (it does for a full year) so copies leave no hole.
 */
export function repeatSeries(series: HalfHourPoint[], days: number, periodWeeks = 52): HalfHourPoint[] {
  if (series.length === 0) throw new Error("empty series");
  const period = periodWeeks * WEEK_MS;
  const first = series[0]!.start;
  const end = series[series.length - 1]!.start + HALF_HOUR_MS;
  if (end - first < period) throw new Error(`repeatSeries: the source spans less than ${periodWeeks} weeks`);
  const from = end - days * DAY_MS;
  const out = new Map<number, number | null>();
  for (let shift = 0; end - shift > from; shift += period) {
    for (const p of series) {
      const t = p.start - shift;
      if (t >= from && !out.has(t)) out.set(t, p.wh);
    }
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([start, wh]) => ({ start, wh }));
}

/** Days of {@link loadThreeYearSeries}: 3 years and a month, so that the simulator's history depth (36 months + 15 days), not the series, bounds what it serves. */
export const THREE_YEAR_DAYS = 1130;

/**
 * A three-year (plus a month) 30-min history built from the real Sceaux 2008 year repeated with
 * 52-week shifts (see {@link repeatSeries}): it repeats real data, it is not three real years.
 * Ends where the source ends (2008-12-31T23:00Z); the simulator shifts it to end yesterday.
 */
export function loadThreeYearSeries(file: string = SCEAUX_2008_30MIN, days: number = THREE_YEAR_DAYS): HalfHourPoint[] {
  return repeatSeries(loadHalfHourSeries(file), days);
}
