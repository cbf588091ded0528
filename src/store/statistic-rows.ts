import { insertMany } from "./bulk.js";
import type { Db } from "./db.js";

/** A statistic row as last written to Home Assistant (Wh; HA receives kWh). */
export interface MirrorRow {
  start: number;
  stateWh: number;
  sumWh: number;
}

/** The last mirrored row of `statisticId` strictly before `before` (UTC ms), or null. */
export function mirrorRowBefore(db: Db, statisticId: string, before: number): MirrorRow | null {
  return (
    (db
      .prepare(
        `SELECT start, state_wh AS stateWh, sum_wh AS sumWh FROM statistic_rows
         WHERE statistic_id = ? AND start < ? ORDER BY start DESC LIMIT 1`,
      )
      .get(statisticId, before) as MirrorRow | undefined) ?? null
  );
}

/** The last mirrored row of `statisticId`, or null when nothing was written yet. */
export function lastMirrorRow(db: Db, statisticId: string): MirrorRow | null {
  return mirrorRowBefore(db, statisticId, Number.MAX_SAFE_INTEGER);
}

/** First mirrored row start of `statisticId`, or null. */
export function firstMirrorStart(db: Db, statisticId: string): number | null {
  const row = db.prepare(`SELECT MIN(start) AS s FROM statistic_rows WHERE statistic_id = ?`).get(statisticId) as {
    s: number | null;
  };
  return row.s;
}

/**
 * Replaces the mirror of `statisticId` from `from` (UTC ms) onward with `rows` (one transaction):
 * rows at or after `from` that are not in `rows` are deleted.
 */
export function replaceMirrorFrom(db: Db, statisticId: string, from: number, rows: readonly MirrorRow[]): void {
  db.transaction(() => {
    db.prepare(`DELETE FROM statistic_rows WHERE statistic_id = ? AND start >= ?`).run(statisticId, from);
    insertMany(
      db,
      "INSERT INTO statistic_rows (statistic_id, start, state_wh, sum_wh)",
      4,
      flatRows(statisticId, rows),
    );
  })();
}

/** `[id, start, state, sum, id, start, …]` for insertMany, without a temporary array per row. */
function flatRows(statisticId: string, rows: readonly MirrorRow[]): unknown[] {
  const out: unknown[] = new Array(rows.length * 4);
  for (let i = 0, k = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out[k++] = statisticId;
    out[k++] = r.start;
    out[k++] = r.stateWh;
    out[k++] = r.sumWh;
  }
  return out;
}
