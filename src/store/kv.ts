import type { Db } from "./db.js";

/** Reads a small persisted setting (e.g. the randomly chosen sync minute), or undefined. */
export function getKv(db: Db, key: string): string | undefined {
  return (db.prepare(`SELECT value FROM kv WHERE key = ?`).get(key) as { value: string } | undefined)?.value;
}

/** Stores a small persisted setting. */
export function setKv(db: Db, key: string, value: string): void {
  db.prepare(`INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(
    key,
    value,
  );
}
