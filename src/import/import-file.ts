/**
 * Imports one Enedis customer-portal export (CSV or XLSX, import/portal-rows.ts) into the store
 * like any fetched reading: upserted by (meter, start, duration) — importing the same file twice
 * changes nothing, a corrected value replaces the old one and marks its hours dirty, so the
 * statistics writer sends it to Home Assistant — and the local days it covers completely are
 * recorded as load-curve coverage (the sync job then does not spend requests on them).
 * The whole file is parsed before anything is written, and written in one transaction: a bad file
 * stores nothing.
 */
import readXlsxFile from "read-excel-file/node";
import { addDays, dayStart, localDay } from "../analysis/days.js";
import { isEnedisProvider } from "../domain/meter-providers.js";
import type { LocalDate, Meter } from "../domain/types.js";
import { recordCoverage } from "../store/coverage.js";
import type { Db } from "../store/db.js";
import { upsertReadings, type UpsertResult } from "../store/readings.js";
import { ImportError, parsePortalRows, type PortalCurve, type RawRow } from "./portal-rows.js";

export { ImportError } from "./portal-rows.js";

/** What one import did. Instants ISO 8601 UTC. */
export interface ImportOutcome extends UpsertResult {
  meter_id: string;
  file: string;
  format: "csv" | "xlsx";
  /** Readings read from the file. */
  readings: number;
  first: string | null;
  last: string | null;
}

/** The format of a file by its first bytes (an XLSX is a ZIP: `PK\x03\x04`), else by its name. */
export function formatOf(name: string, bytes: Buffer): "csv" | "xlsx" {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return "xlsx";
  if (/\.xlsx$/i.test(name)) throw new ImportError(`${name} is named .xlsx but is not an XLSX (ZIP) file`);
  return "csv";
}

/** CSV text → rows: UTF-8 (BOM dropped; Latin-1 when the bytes are not UTF-8), `;` or `,` separated. */
export function csvRows(bytes: Buffer): RawRow[] {
  let text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  if (text.includes("\uFFFD")) text = new TextDecoder("latin1").decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r\n|\n|\r/);
  const sep = (lines.find((l) => l.trim() !== "") ?? "").includes(";") ? ";" : ",";
  return lines.map((l, i) => ({ line: i + 1, cells: l === "" ? [] : l.split(sep).map((c) => c.replace(/^"(.*)"$/, "$1")) }));
}

/** XLSX bytes → rows of the first sheet (read-excel-file). */
export async function xlsxRows(bytes: Buffer): Promise<RawRow[]> {
  let sheets;
  try {
    sheets = await readXlsxFile(bytes);
  } catch (err) {
    throw new ImportError(`not a readable XLSX file: ${(err as Error).message}`);
  }
  const data = sheets[0]?.data ?? [];
  return data.map((cells, i) => ({ line: i + 1, cells: cells as RawRow["cells"] }));
}

/** Parses a portal file (CSV or XLSX) without storing anything. Throws ImportError. */
export async function parsePortalFile(name: string, bytes: Buffer, zone = "Europe/Paris"): Promise<PortalCurve & { format: "csv" | "xlsx" }> {
  const format = formatOf(name, bytes);
  const rows = format === "xlsx" ? await xlsxRows(bytes) : csvRows(bytes);
  try {
    return { ...parsePortalRows(rows, zone), format };
  } catch (err) {
    if (err instanceof ImportError) throw new ImportError(`${name}: ${err.message}`, err.line);
    throw err;
  }
}

/** Local days of `zone` fully covered by the readings (sum of durations = the day's length). */
function completeDays(readings: PortalCurve["readings"], zone: string): LocalDate[] {
  const covered = new Map<LocalDate, number>();
  for (const r of readings) {
    const d = localDay(r.start, zone);
    if (localDay(r.start + r.durationMs - 1, zone) !== d) continue;
    covered.set(d, (covered.get(d) ?? 0) + r.durationMs);
  }
  const out: LocalDate[] = [];
  for (const [d, ms] of covered) if (ms >= dayStart(addDays(d, 1), zone) - dayStart(d, zone)) out.push(d);
  return out;
}

/**
 * Parses then stores a portal file for `meter` (see the file comment). The file's PRM, when it has
 * one, must be the meter's usage point. Throws ImportError (nothing stored) on a bad file.
 */
export async function importPortalFile(db: Db, meter: Meter, name: string, bytes: Buffer, now: number): Promise<ImportOutcome> {
  if (meter.kind !== "electricity") throw new ImportError(`${name}: an Enedis load curve is electricity; meter ${meter.id} measures ${meter.kind}`);
  if (!isEnedisProvider(meter.provider)) throw new ImportError(`${name}: an Enedis portal export belongs to a Linky meter; ${meter.id} comes from ${meter.provider}`);
  const curve = await parsePortalFile(name, bytes, meter.timezone);
  const prm = meter.usagePoint ?? meter.id.replace(/_production$/, "");
  if (curve.prm !== null && curve.prm !== prm) throw new ImportError(`${name}: the file is for PRM ${curve.prm}, not ${prm}`);
  const days = completeDays(curve.readings, meter.timezone);
  const result = db.transaction(() => {
    const r = upsertReadings(db, meter.id, curve.readings);
    recordCoverage(db, meter.id, "load_curve", days.map((day) => ({ day, complete: true })), now);
    return r;
  })();
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of curve.readings) {
    if (r.start < lo) lo = r.start;
    if (r.start > hi) hi = r.start;
  }
  return {
    meter_id: meter.id,
    file: name,
    format: curve.format,
    readings: curve.readings.length,
    ...result,
    first: curve.readings.length ? new Date(lo).toISOString() : null,
    last: curve.readings.length ? new Date(hi).toISOString() : null,
  };
}
