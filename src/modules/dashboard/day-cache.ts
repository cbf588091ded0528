/**
 * A small memo of day summaries per database, invalidated by any write: the key of the store's
 * state is (`total_changes()` of this connection, `PRAGMA data_version` for other connections),
 * both O(1), so a cached answer is never stale — any insert, update or delete anywhere drops the
 * whole memo. Repeated views (period switches, reloads, the print view) then skip reading tens of
 * thousands of readings again. At most {@link MAX_ENTRIES} windows are kept.
 */
import type { DaySummary } from "../../analysis/day-totals.js";
import type { LocalDate } from "../../domain/types.js";
import type { Db } from "../../store/db.js";

const MAX_ENTRIES = 64;

interface Memo {
  version: string;
  entries: Map<string, Map<LocalDate, DaySummary>>;
}

const memos = new WeakMap<Db, Memo>();

function version(db: Db): string {
  const changes = (db.prepare("SELECT total_changes() AS n").get() as { n: number }).n;
  return `${changes}/${db.pragma("data_version", { simple: true }) as number}`;
}

/** The memoised value of `key` for the store's current state, computing it with `make` when absent. */
export function cachedDays(db: Db, key: string, make: () => Map<LocalDate, DaySummary>): Map<LocalDate, DaySummary> {
  const v = version(db);
  let memo = memos.get(db);
  if (!memo || memo.version !== v) memos.set(db, (memo = { version: v, entries: new Map() }));
  let value = memo.entries.get(key);
  if (!value) {
    value = make();
    if (memo.entries.size >= MAX_ENTRIES) memo.entries.delete(memo.entries.keys().next().value!);
    memo.entries.set(key, value);
  }
  return value;
}
