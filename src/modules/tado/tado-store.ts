/**
 * The tado module's own tables (migrateModule "tado"):
 * - `tado_requests` (account_id, day, count): API calls sent per budget day, counted before each
 *   call is sent, so the daily budget holds across restarts;
 * - `tado_quota` (account_id): what Tado's `RateLimit` headers said last (remaining, quota, reset
 *   instant when given), and a pause instant after a 429 — also kept across restarts;
 * - `tado_zones` (account_id, zone_id): the zone list of the last `/zones` call, so the zone
 *   devices exist (unavailable) at start before any call;
 * - `tado_zone_samples` (account_id, zone_id, at): temperature (°C), humidity (%), heating power
 *   (%) at poll resolution; null = not reported. Pruned to the retention the options give.
 * Instants are UTC epoch ms.
 */
import type { Db } from "../../store/db.js";
import { migrateModule } from "../../store/module-schema.js";

const MIGRATIONS = [
  `CREATE TABLE tado_requests (account_id TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,
     PRIMARY KEY (account_id, day)) WITHOUT ROWID;
   CREATE TABLE tado_quota (account_id TEXT PRIMARY KEY, remaining INTEGER, quota INTEGER, reset_at INTEGER,
     observed_at INTEGER NOT NULL, paused_until INTEGER);
   CREATE TABLE tado_zones (account_id TEXT NOT NULL, zone_id INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
     PRIMARY KEY (account_id, zone_id)) WITHOUT ROWID;
   CREATE TABLE tado_zone_samples (account_id TEXT NOT NULL, zone_id INTEGER NOT NULL, at INTEGER NOT NULL,
     temperature REAL, humidity REAL, heating_power REAL, PRIMARY KEY (account_id, zone_id, at)) WITHOUT ROWID;`,
];

/** Creates / upgrades the tables. */
export function migrateTado(db: Db): void {
  migrateModule(db, "tado", MIGRATIONS);
}

/** Calls counted for `accountId` on budget day `day`. */
export function requestsOn(db: Db, accountId: string, day: string): number {
  const r = db.prepare("SELECT count FROM tado_requests WHERE account_id = ? AND day = ?").get(accountId, day) as { count: number } | undefined;
  return r?.count ?? 0;
}

/** Adds `n` calls to `day` (committed before the call is sent). */
export function countRequests(db: Db, accountId: string, day: string, n = 1): void {
  db.prepare(
    `INSERT INTO tado_requests (account_id, day, count) VALUES (?, ?, ?)
     ON CONFLICT(account_id, day) DO UPDATE SET count = count + excluded.count`,
  ).run(accountId, day, n);
}

/** The last quota Tado reported for an account. */
export interface QuotaRow {
  remaining: number | null;
  quota: number | null;
  resetAt: number | null;
  observedAt: number;
  pausedUntil: number | null;
}

export function getQuota(db: Db, accountId: string): QuotaRow | undefined {
  const r = db
    .prepare("SELECT remaining, quota, reset_at AS resetAt, observed_at AS observedAt, paused_until AS pausedUntil FROM tado_quota WHERE account_id = ?")
    .get(accountId) as QuotaRow | undefined;
  return r;
}

export function putQuota(db: Db, accountId: string, q: QuotaRow): void {
  db.prepare(
    `INSERT INTO tado_quota (account_id, remaining, quota, reset_at, observed_at, paused_until) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(account_id) DO UPDATE SET remaining = excluded.remaining, quota = excluded.quota, reset_at = excluded.reset_at,
       observed_at = excluded.observed_at, paused_until = excluded.paused_until`,
  ).run(accountId, q.remaining, q.quota, q.resetAt, q.observedAt, q.pausedUntil);
}

/** A stored zone. */
export interface StoredZone {
  zoneId: number;
  name: string;
  type: string;
}

export function listZones(db: Db, accountId: string): StoredZone[] {
  return db.prepare("SELECT zone_id AS zoneId, name, type FROM tado_zones WHERE account_id = ? ORDER BY zone_id").all(accountId) as StoredZone[];
}

/** Replaces the zone list (zones gone from Tado are dropped from the list; their samples stay). */
export function replaceZones(db: Db, accountId: string, zones: StoredZone[]): void {
  const del = db.prepare("DELETE FROM tado_zones WHERE account_id = ?");
  const ins = db.prepare("INSERT INTO tado_zones (account_id, zone_id, name, type) VALUES (?, ?, ?, ?)");
  db.transaction(() => {
    del.run(accountId);
    for (const z of zones) ins.run(accountId, z.zoneId, z.name, z.type);
  })();
}

/** One stored sample. */
export interface ZoneSample {
  zoneId: number;
  at: number;
  temperature: number | null;
  humidity: number | null;
  heatingPower: number | null;
}

/** Stores samples (same zone + instant twice = replaced), in one transaction. */
export function putSamples(db: Db, accountId: string, samples: ZoneSample[]): void {
  const ins = db.prepare(
    `INSERT INTO tado_zone_samples (account_id, zone_id, at, temperature, humidity, heating_power) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(account_id, zone_id, at) DO UPDATE SET temperature = excluded.temperature, humidity = excluded.humidity,
       heating_power = excluded.heating_power`,
  );
  db.transaction(() => {
    for (const s of samples) ins.run(accountId, s.zoneId, s.at, s.temperature, s.humidity, s.heatingPower);
  })();
}

/** Samples of one account in [from, to), oldest first (all zones, or one). */
export function samplesBetween(db: Db, accountId: string, from: number, to: number, zoneId?: number): ZoneSample[] {
  const sql =
    "SELECT zone_id AS zoneId, at, temperature, humidity, heating_power AS heatingPower FROM tado_zone_samples " +
    `WHERE account_id = ? AND at >= ? AND at < ?${zoneId !== undefined ? " AND zone_id = ?" : ""} ORDER BY at, zone_id`;
  const args: (string | number)[] = [accountId, from, to];
  if (zoneId !== undefined) args.push(zoneId);
  return db.prepare(sql).all(...args) as ZoneSample[];
}

/** Deletes samples older than `before`; returns how many. Request counts older than `beforeDay` go too. */
export function pruneTado(db: Db, before: number, beforeDay: string): number {
  db.prepare("DELETE FROM tado_requests WHERE day < ?").run(beforeDay);
  return db.prepare("DELETE FROM tado_zone_samples WHERE at < ?").run(before).changes;
}
