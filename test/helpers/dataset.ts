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
