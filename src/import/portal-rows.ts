/**
 * Rows of an Enedis customer-portal load-curve export ("Mes données de consommation" → "Export
 * courbe de charge", CSV or XLSX) → readings. The layout assumed (one row per point, one header
 * row; columns found by name, accents and case ignored, so column order does not matter):
 *
 *   Identifiant PRM;Date de début;Date de fin;Grandeur physique;Grandeur métier;Etape métier;Unité;Horodate;Valeur;Nature;Pas;Indice de vraisemblance;Etat complémentaire
 *   12345678901234;2023-03-13 00:00:00;2025-03-13 00:00:00;PA;CONS;BRUT;W;2023-03-13 00:30:00;692;B;PT30M;0;0
 *
 * Source of the layout: public third-party parsers of the portal's export (found by search,
 * not an Enedis specification, so unverified); `Horodate` is the **end** of the interval in naive
 * Europe/Paris wall time, like the v2 API's `d` (enedis-2026.md §4), with the autumn repeated hour
 * written twice in order; an ISO offset is accepted too. `Valeur` is the average power in W over
 * `Pas` (`PT30M`, `PT10M`…; Wh = W × minutes / 60); a `Wh` or `kWh` unit is taken as energy.
 * Required columns: Horodate, Valeur. Only CONS (consumption) rows are read when the column exists.
 * The older export layout is read too: a metadata row `Identifiant PRM;Type de donnees;Date de
 * debut;Date de fin;Grandeur physique;Grandeur metier;Etape metier;Unite;Pas en minutes` and its
 * values, then a `Horodate;Valeur` table whose stamps carry an offset (`2023-01-01T00:30:00+01:00`).
 * Any unreadable row is an error naming its line; the caller stores nothing from such a file.
 */
import type { Reading } from "../domain/types.js";
import { FoldResolver, parseLocalStamp, ZoneClock, type LocalStamp } from "../providers/local-time.js";

/** A bad file: `message` names the line (1-based, as a spreadsheet or editor shows it). */
export class ImportError extends Error {
  override readonly name = "ImportError";
  constructor(
    message: string,
    readonly line: number | null = null,
  ) {
    super(message);
  }
}

/** One raw row: its 1-based line (row) number and its cells. */
export interface RawRow {
  line: number;
  cells: (string | number | Date | boolean | null)[];
}

/** What a portal file holds. */
export interface PortalCurve {
  /** The file's PRM (Identifiant PRM), when it has the column. */
  prm: string | null;
  readings: Reading[];
  /** Rows with an empty Valeur: missing points (never stored as 0). */
  missing: number;
}

function norm(s: unknown): string {
  return String(s ?? "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .trim()
    .toLowerCase();
}

const STEP = /^PT(\d+)M$/i;
const FR_STAMP = /^(\d{2})\/(\d{2})\/(\d{4})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

function stampOf(cell: unknown, line: number): LocalStamp {
  if (cell instanceof Date) {
    // A spreadsheet date cell has no zone: its UTC fields are the wall-clock time.
    if (Number.isNaN(cell.getTime())) throw new ImportError(`line ${line}: Horodate is not a date`, line);
    return { naiveMs: cell.getTime(), offsetMin: undefined, hasTime: true };
  }
  let s = String(cell ?? "").trim();
  const fr = FR_STAMP.exec(s);
  if (fr) s = `${fr[3]}-${fr[2]}-${fr[1]} ${fr[4]}:${fr[5]}:${fr[6] ?? "00"}`;
  const st = parseLocalStamp(s);
  if (!st || !st.hasTime) throw new ImportError(`line ${line}: Horodate "${s.slice(0, 40)}" is not a date and time (YYYY-MM-DD HH:MM:SS)`, line);
  return st;
}

function numberOf(cell: unknown, line: number, what: string): number | null {
  if (cell === null || cell === undefined || cell === "") return null;
  if (typeof cell === "number") return cell;
  const s = String(cell).trim().replace(",", ".");
  if (s === "") return null;
  const v = Number(s);
  if (!Number.isFinite(v)) throw new ImportError(`line ${line}: ${what} "${String(cell).slice(0, 40)}" is not a number`, line);
  return v;
}

/** PRM, unit and step (minutes) of the older layout's metadata rows above the table, when present. */
function metadataAbove(rows: readonly RawRow[]): { prm: string | null; unit: string | null; minutes: number | null } {
  const out = { prm: null as string | null, unit: null as string | null, minutes: null as number | null };
  for (let i = 0; i + 1 < rows.length; i++) {
    const names = rows[i]!.cells.map(norm);
    if (!names.includes("identifiant prm")) continue;
    const values = rows[i + 1]!.cells;
    const at = (name: string) => {
      const k = names.indexOf(name);
      return k >= 0 && values[k] !== null && values[k] !== undefined ? String(values[k]).trim() : "";
    };
    const p = at("identifiant prm");
    if (/^\d{14}$/.test(p)) out.prm = p;
    const u = norm(at("unite"));
    if (u) out.unit = u;
    const step = Number(at("pas en minutes"));
    if (Number.isInteger(step) && step > 0 && step <= 60) out.minutes = step;
    break;
  }
  return out;
}

/** Parses the rows (header first, blank rows skipped) as described in the file comment. */
export function parsePortalRows(rows: readonly RawRow[], zone = "Europe/Paris"): PortalCurve {
  const headerAt = rows.findIndex((r) => r.cells.some((c) => norm(c) === "horodate"));
  if (headerAt < 0) throw new ImportError("no header row with a Horodate column: not an Enedis load-curve export");
  const header = rows[headerAt]!.cells.map(norm);
  const col = (name: string) => header.indexOf(name);
  const iStamp = col("horodate");
  const iValue = col("valeur");
  if (iValue < 0) throw new ImportError(`line ${rows[headerAt]!.line}: the header has no Valeur column`, rows[headerAt]!.line);
  const iStep = col("pas");
  const iUnit = col("unite");
  const iPrm = col("identifiant prm");
  const iFlow = col("grandeur metier");
  const resolver = new FoldResolver(new ZoneClock(zone));
  const readings: Reading[] = [];
  // The older layout: a metadata header row (Identifiant PRM; …; Unite; Pas en minutes) and its
  // values row above the `Horodate;Valeur` table; its PRM, unit and step apply to every point.
  const meta = metadataAbove(rows.slice(0, headerAt));
  let prm: string | null = meta.prm;
  let missing = 0;
  let previousEnd: number | undefined;
  for (const row of rows.slice(headerAt + 1)) {
    const { line, cells } = row;
    if (cells.every((c) => c === null || String(c).trim() === "")) continue;
    if (iFlow >= 0 && cells[iFlow] && !["cons", "consommation"].includes(norm(cells[iFlow]))) continue;
    if (iPrm >= 0 && cells[iPrm] !== null && cells[iPrm] !== undefined && String(cells[iPrm]).trim() !== "") {
      const p = String(cells[iPrm]).trim();
      if (!/^\d{14}$/.test(p)) throw new ImportError(`line ${line}: Identifiant PRM "${p.slice(0, 20)}" is not a 14-digit PRM`, line);
      if (prm !== null && p !== prm) throw new ImportError(`line ${line}: PRM ${p} differs from ${prm} earlier in the file; export one meter per file`, line);
      prm = p;
    }
    const stamp = stampOf(cells[iStamp], line);
    const rawStep = iStep >= 0 ? String(cells[iStep] ?? "").trim() : "";
    const m = STEP.exec(rawStep);
    if (rawStep !== "" && !m) throw new ImportError(`line ${line}: Pas "${rawStep.slice(0, 20)}" is not a step like PT30M`, line);
    const minutes = m ? Number(m[1]) : (meta.minutes ?? 30);
    if (minutes <= 0 || minutes > 60) throw new ImportError(`line ${line}: Pas ${rawStep} is not a load-curve step (1–60 minutes)`, line);
    const end = resolver.resolve(stamp);
    if (end === undefined) throw new ImportError(`line ${line}: Horodate ${String(cells[iStamp])} does not exist in ${zone} (spring DST gap)`, line);
    if (previousEnd !== undefined && end <= previousEnd - 24 * 3_600_000) {
      throw new ImportError(`line ${line}: Horodate goes back more than a day; rows must be in time order`, line);
    }
    previousEnd = end;
    const v = numberOf(cells[iValue], line, "Valeur");
    if (v === null) {
      missing++;
      continue;
    }
    if (v < 0) throw new ImportError(`line ${line}: Valeur ${v} is negative`, line);
    const unit = iUnit >= 0 ? norm(cells[iUnit]) : (meta.unit ?? "w");
    let wh: number;
    if (unit === "w" || unit === "") wh = (v * minutes) / 60;
    else if (unit === "kw") wh = (v * 1000 * minutes) / 60;
    else if (unit === "wh") wh = v;
    else if (unit === "kwh") wh = v * 1000;
    else throw new ImportError(`line ${line}: Unité "${String(cells[iUnit])}" is not W, kW, Wh or kWh`, line);
    const durationMs = minutes * 60_000;
    readings.push({ start: end - durationMs, durationMs, value: wh, quality: "IMPORT" });
  }
  if (readings.length === 0 && missing === 0) throw new ImportError("the file has a header but no data row");
  return { prm, readings, missing };
}
