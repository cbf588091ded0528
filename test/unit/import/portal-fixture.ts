/**
 * Enedis customer-portal load-curve exports built from the bundled real data, in the layout
 * src/import/portal-rows.ts documents: one header row, then one row per half-hour with `Horodate`
 * the naive Europe/Paris wall time of the interval END (the autumn repeated hour written twice, in
 * order), `Valeur` the average power in W (Wh × 2 for 30 min), `Pas` PT30M, an empty Valeur where
 * the source has no measurement.
 */
import { DateTime } from "luxon";
import writeXlsxFile from "write-excel-file/node";
import type { HalfHourPoint } from "../../helpers/dataset.js";

export const HEADER = [
  "Identifiant PRM",
  "Date de début",
  "Date de fin",
  "Grandeur physique",
  "Grandeur métier",
  "Etape métier",
  "Unité",
  "Horodate",
  "Valeur",
  "Nature",
  "Pas",
  "Indice de vraisemblance",
  "Etat complémentaire",
];

const naive = (t: number) => DateTime.fromMillis(t, { zone: "Europe/Paris" }).toFormat("yyyy-MM-dd HH:mm:ss");

/** The rows (header first) of an export of `points` for `prm`. */
export function portalRows(points: readonly HalfHourPoint[], prm: string): (string | number | null)[][] {
  const first = naive(points[0]!.start);
  const last = naive(points[points.length - 1]!.start + 1_800_000);
  const rows: (string | number | null)[][] = [HEADER];
  for (const p of points) {
    rows.push([prm, first, last, "PA", "CONS", "BRUT", "W", naive(p.start + 1_800_000), p.wh === null ? null : p.wh * 2, "B", "PT30M", 0, 0]);
  }
  return rows;
}

/** The CSV text: `;` separated, UTF-8, CRLF lines. */
export function portalCsv(points: readonly HalfHourPoint[], prm: string): string {
  return portalRows(points, prm).map((r) => r.map((c) => (c === null ? "" : String(c))).join(";")).join("\r\n") + "\r\n";
}

/** The XLSX bytes (one sheet, same columns; Valeur as numbers). */
export async function portalXlsx(points: readonly HalfHourPoint[], prm: string): Promise<Buffer> {
  const data = portalRows(points, prm).map((r) => r.map((c) => (c === null ? null : c)));
  return (await writeXlsxFile(data).toBuffer()) as Buffer;
}
