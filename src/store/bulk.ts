import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

const cache = new WeakMap<Db, Map<string, Statement>>();

/** One multi-row INSERT shape: see {@link insertRows}. */
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
  /** Values of the named parameters of `row`. */
  named?: Record<string, unknown>;
  /** Rows per statement (default 400; at most 32,766 / `width` `?` in all). */
  rowsPerStatement?: number;
}

/**
 * Runs `head VALUES row, row, … tail` over `values` (flat, `width` per row) in multi-row
 * statements of up to `rowsPerStatement` rows, each prepared once per database and row count:
 * far fewer statement executions and bindings than one INSERT per row. Call inside a transaction.
 * Returns the number of rows changed.
 */
export function insertRows(db: Db, shape: RowsInsert, values: readonly unknown[]): number {
  let statements = cache.get(db);
  if (!statements) cache.set(db, (statements = new Map()));
  const { head, row, width, tail = "", named } = shape;
  const step = (shape.rowsPerStatement ?? 400) * width;
  let changes = 0;
  for (let i = 0; i < values.length; i += step) {
    const chunk = values.length <= step && i === 0 ? values : values.slice(i, i + step);
    const rows = chunk.length / width;
    const key = `${head}|${row}|${rows}|${tail}`;
    let stmt = statements.get(key);
    if (!stmt) {
      stmt = db.prepare(`${head} VALUES ${Array(rows).fill(row).join(", ")} ${tail}`);
      statements.set(key, stmt);
    }
    changes += (named ? stmt.run(chunk as unknown[], named) : stmt.run(chunk as unknown[])).changes;
  }
  return changes;
}

/**
 * {@link insertRows} with every value of a row given in `values` (`width` `?` per row, 200 rows
 * per statement), e.g. head `INSERT INTO day_coverage (meter_id, resolution, day, complete,
 * fetched_at)`, tail an ON CONFLICT clause. Call inside a transaction. Returns the rows changed.
 */
export function insertMany(db: Db, head: string, width: number, values: readonly unknown[], tail = ""): number {
  return insertRows(db, { head, row: `(${Array(width).fill("?").join(", ")})`, width, tail, rowsPerStatement: 200 }, values);
}
