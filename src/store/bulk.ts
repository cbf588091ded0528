import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

/**
 * One multi-row INSERT shape (see {@link insertRows}). Declare shapes once, at module level:
 * statements are cached per shape object.
 */
export interface RowsInsert {
  /** The SQL up to VALUES, e.g. `INSERT INTO day_coverage (meter_id, resolution, day, complete, fetched_at)`. */
  head: string;
  /**
   * One row's value list, e.g. `(@meter, ?, ?, ?, @quality, @now)`: `?` take the flat values in
   * order, named parameters the same value for every row (bound once per statement, not per row:
   * binding is most of the cost of a big insert in better-sqlite3).
   */
  row: string;
  /** How many `?` one row has. */
  width: number;
  /** What follows the value list, e.g. an ON CONFLICT clause. */
  tail?: string;
  /** Rows per statement (default 400; at most 32,766 `?` and named parameters in all). */
  rowsPerStatement?: number;
}

const cache = new WeakMap<Db, WeakMap<RowsInsert, Map<number, Statement>>>();

/** The cached statement of `shape` with `rows` rows. */
function statementFor(db: Db, shape: RowsInsert, rows: number): Statement {
  let byShape = cache.get(db);
  if (!byShape) cache.set(db, (byShape = new WeakMap()));
  let byRows = byShape.get(shape);
  if (!byRows) byShape.set(shape, (byRows = new Map()));
  let stmt = byRows.get(rows);
  if (!stmt) {
    stmt = db.prepare(`${shape.head} VALUES ${Array(rows).fill(shape.row).join(", ")} ${shape.tail ?? ""}`);
    byRows.set(rows, stmt);
  }
  return stmt;
}

/**
 * Runs `head VALUES row, row, … tail` over `values` (flat, `shape.width` per row) in multi-row
 * statements of up to `rowsPerStatement` rows, each prepared once per database, shape and row
 * count: far fewer statement executions and bindings than one INSERT per row. `named` gives the
 * named parameters of `shape.row`. Call inside a transaction. Returns the number of rows changed.
 */
export function insertRows(db: Db, shape: RowsInsert, values: readonly unknown[], named?: Record<string, unknown>): number {
  const step = (shape.rowsPerStatement ?? 400) * shape.width;
  let changes = 0;
  for (let i = 0; i < values.length; i += step) {
    const chunk = values.length <= step && i === 0 ? values : values.slice(i, i + step);
    const stmt = statementFor(db, shape, chunk.length / shape.width);
    changes += (named ? stmt.run(chunk as unknown[], named) : stmt.run(chunk as unknown[])).changes;
  }
  return changes;
}
