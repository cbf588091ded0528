/**
 * The mirror of what the statistics writer sent to Home Assistant: per statistic, rows as written
 * (start UTC ms, state and running sum in thousandths of the statistic's unit, Wh for kWh). The
 * writer stores only each local day's last row (`jobs/write-statistics.ts` `dayAnchors`): every
 * pass starts at a local midnight and needs only the row just before it, to check that HA still
 * holds that sum and to continue from it. That is 1 row a day instead of 24.
 */
import { insertRows, type RowsInsert } from "./bulk.js";
import type { Db } from "./db.js";

/** A statistic row as last written to Home Assistant (Wh; HA receives kWh). */
export interface MirrorRow {
  start: number;
  stateWh: number;
  sumWh: number;
}

/** The mirror's integer key of a statistic id (`statistic_ids`), or null when never written. */
const KEY = `(SELECT id FROM statistic_ids WHERE statistic_id = ?)`;

/** The last mirrored row of `statisticId` strictly before `before` (UTC ms), or null. */
export function mirrorRowBefore(db: Db, statisticId: string, before: number): MirrorRow | null {
  return (
    (db
      .prepare(
        `SELECT start, state_wh AS stateWh, sum_wh AS sumWh FROM statistic_rows
         WHERE statistic = ${KEY} AND start < ? ORDER BY start DESC LIMIT 1`,
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
  const row = db.prepare(`SELECT MIN(start) AS s FROM statistic_rows WHERE statistic = ${KEY}`).get(statisticId) as {
    s: number | null;
  };
  return row.s;
}

const MIRROR_ROWS: RowsInsert = { head: "INSERT INTO statistic_rows (statistic, start, state_wh, sum_wh)", row: "(@key, ?, ?, ?)", width: 3 };

/**
 * Replaces the mirror of `statisticId` from `from` (UTC ms) onward with `rows` (one transaction):
 * rows at or after `from` that are not in `rows` are deleted.
 */
export function replaceMirrorFrom(db: Db, statisticId: string, from: number, rows: readonly MirrorRow[]): void {
  db.transaction(() => {
    db.prepare(`INSERT OR IGNORE INTO statistic_ids (statistic_id) VALUES (?)`).run(statisticId);
    const key = (db.prepare(`SELECT id FROM statistic_ids WHERE statistic_id = ?`).get(statisticId) as { id: number }).id;
    db.prepare(`DELETE FROM statistic_rows WHERE statistic = ? AND start >= ?`).run(key, from);
    const values: number[] = [];
    for (const r of rows) values.push(r.start, r.stateWh, r.sumWh);
    insertRows(db, MIRROR_ROWS, values, { key });
  })();
}
