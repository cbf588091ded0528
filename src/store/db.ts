import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { MIGRATIONS } from "./migrations.js";

/** An open better-sqlite3 database handle. */
export type Db = Database.Database;

/**
 * Opens (creating if needed) the SQLite store at `path` (":memory:" for tests), applies pragmas
 * (WAL journal, NORMAL sync, foreign keys, busy timeout 5 s) and runs pending migrations inside
 * one transaction each. Throws if the file is from a newer version of the add-on (unknown
 * `user_version`), so a downgrade never corrupts data.
 */
export function openStore(path: string): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the database at ${db.name} has schema version ${current}, newer than this add-on knows (${MIGRATIONS.length}); ` +
        "update the add-on or restore a matching backup",
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

const transactions = new WeakMap<Db, Map<unknown, unknown>>();

/**
 * `db.transaction(fn)`, built once per database and function: better-sqlite3 builds a new wrapper
 * (four variants and their properties) on every `db.transaction` call, which shows on paths run
 * once per provider response. `fn` must be a module-level function (its identity is the key);
 * calling the result inside another transaction runs it as a savepoint, as `db.transaction` does.
 */
export function transactionOf<A extends unknown[], R>(db: Db, fn: (...args: A) => R): (...args: A) => R {
  let byFn = transactions.get(db);
  if (!byFn) transactions.set(db, (byFn = new Map()));
  let tx = byFn.get(fn) as ((...args: A) => R) | undefined;
  if (!tx) byFn.set(fn, (tx = db.transaction(fn) as unknown as (...args: A) => R));
  return tx;
}
