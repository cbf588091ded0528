import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

const CHUNK = 200;
const cache = new WeakMap<Db, Map<string, Statement>>();

/**
 * Runs `INSERT … VALUES (…), (…), …` in multi-row statements of up to 200 rows: far fewer
 * statement executions than one INSERT per row. `values` is flat, `width` values per row. `head`
 * is the SQL up to VALUES (e.g. `INSERT OR IGNORE INTO dirty_hours (meter_id, hour)`), `tail` what
 * follows the value list (e.g. an ON CONFLICT clause). Call inside a transaction. Returns the
 * number of rows changed.
 */
export function insertMany(db: Db, head: string, width: number, values: readonly unknown[], tail = ""): number {
  let statements = cache.get(db);
  if (!statements) cache.set(db, (statements = new Map()));
  const step = CHUNK * width;
  let changes = 0;
  for (let i = 0; i < values.length; i += step) {
    const chunk = values.length <= step && i === 0 ? values : values.slice(i, i + step);
    const rows = chunk.length / width;
    const key = `${head}|${rows}|${tail}`;
    let stmt = statements.get(key);
    if (!stmt) {
      const one = `(${Array(width).fill("?").join(", ")})`;
      stmt = db.prepare(`${head} VALUES ${Array(rows).fill(one).join(", ")} ${tail}`);
      statements.set(key, stmt);
    }
    changes += stmt.run(chunk as unknown[]).changes;
  }
  return changes;
}
