/**
 * The entity mirror's tables (module schema "sync", shared by the sync-server and sync-client
 * modules of the same add-on). Instants are UTC epoch ms unless a column says seconds.
 *
 * - `sync_meta` (key, value): this install's instance id (`instance_id`), the server's public
 *   key (`server_public_jwk`); the private key lives encrypted in the token vault.
 * - `sync_clients`: registered clients (server side). `token_days` = lifetime of its tokens.
 * - `sync_tokens`: every JWT issued (jti, client, exp in epoch s, revoked_at, `replaces` = the jti a
 *   rotation superseded; that one stays valid until the new token is first used).
 * - `sync_pairing_codes`: one-time codes, sha-256 only, with expiry and use instant.
 * - `sync_reg_failures`: failed registrations per remote address (lockout window).
 * - `sync_exposure`: what is shared: scope `all` (target ''), `client` (target = client id) or
 *   `group` (target = group name), per entity id.
 * - `sync_calls`: forwarded service calls by (client, correlation id) with their result, so a
 *   retry after a reconnect never runs twice.
 * - `sync_links` (client side): one row per configured server URL: registration (client id,
 *   server id, expiry); the token itself is in the vault under `sync_link:<url>`.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../store/db.js";
import { migrateModule } from "../store/module-schema.js";

const MIGRATIONS = [
  `
  CREATE TABLE sync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE sync_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    client_group TEXT,
    token_days INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER,
    last_address TEXT,
    revoked_at INTEGER
  );
  CREATE TABLE sync_tokens (
    jti TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES sync_clients(id) ON DELETE CASCADE,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    replaces TEXT
  );
  CREATE TABLE sync_pairing_codes (
    code_sha256 TEXT PRIMARY KEY,
    client_group TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  );
  CREATE TABLE sync_reg_failures (address TEXT NOT NULL, at INTEGER NOT NULL);
  CREATE INDEX sync_reg_failures_address ON sync_reg_failures (address, at);
  CREATE TABLE sync_exposure (
    scope TEXT NOT NULL CHECK (scope IN ('all', 'client', 'group')),
    target TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    PRIMARY KEY (scope, target, entity_id)
  );
  CREATE TABLE sync_calls (
    client_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    result TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (client_id, correlation_id)
  );
  CREATE TABLE sync_links (
    url TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    server_name TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    registered_at INTEGER NOT NULL
  );
  `,
];

/** Creates or upgrades the sync tables. Idempotent. */
export function migrateSync(db: Db): void {
  migrateModule(db, "sync", MIGRATIONS);
}

/** Reads a `sync_meta` value. */
export function getMeta(db: Db, key: string): string | undefined {
  const row = db.prepare("SELECT value FROM sync_meta WHERE key = ?").get(key) as { value: string } | undefined;
  return row?.value;
}

/** Writes a `sync_meta` value. */
export function setMeta(db: Db, key: string, value: string): void {
  db.prepare("INSERT INTO sync_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
}

/**
 * This install's instance id (a random UUID made once, kept in `sync_meta`). Carried as
 * `origin` on every mirrored state and as the JWT issuer; two installs never share one
 * unless the store file was copied.
 */
export function instanceId(db: Db): string {
  let id = getMeta(db, "instance_id");
  if (!id) {
    id = randomUUID();
    setMeta(db, "instance_id", id);
  }
  return id;
}
