/**
 * Registered clients, one-time pairing codes and the registration lockout (server side; tables in
 * `../store.ts`). Pairing codes are stored as sha-256 only, used once, valid 15 minutes by
 * default. 5 failed registrations from one remote address within 15 minutes lock that address out
 * until the window has passed (even with a correct code).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Db } from "../../store/db.js";

/** Failed registrations allowed per address and window. */
export const LOCKOUT_FAILURES = 5;
/** Lockout window, ms (15 minutes). */
export const LOCKOUT_WINDOW_MS = 15 * 60_000;
/** Default pairing code lifetime, ms (15 minutes). */
export const PAIRING_CODE_TTL_MS = 15 * 60_000;

/** A client as the server's page and `GET clients` show it. Instants epoch ms. */
export interface SyncClient {
  id: string;
  name: string;
  instanceId: string;
  group: string | null;
  tokenDays: number;
  createdAt: number;
  lastSeenAt: number | null;
  lastAddress: string | null;
  revokedAt: number | null;
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** Store operations on clients and pairing (see the file comment). */
export class ClientRegistry {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Makes a one-time pairing code (8 characters from an unambiguous alphabet, shown to the user
   * once; only its hash is kept). `group` = the client group a client paired with it joins.
   */
  createPairingCode(group: string | null = null, ttlMs = PAIRING_CODE_TTL_MS): { code: string; expiresAt: number } {
    const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    const bytes = randomBytes(8);
    const code = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
    const expiresAt = this.now() + ttlMs;
    this.db
      .prepare("INSERT INTO sync_pairing_codes (code_sha256, client_group, created_at, expires_at) VALUES (?, ?, ?, ?)")
      .run(sha(normaliseCode(code)), group, this.now(), expiresAt);
    return { code, expiresAt };
  }

  /**
   * Uses a pairing code: true (with its group) when it exists, is unused and unexpired; it is
   * then marked used in the same statement, so two registrations cannot share it.
   */
  consumePairingCode(code: string): { ok: true; group: string | null } | { ok: false } {
    const h = sha(normaliseCode(code));
    const row = this.db
      .prepare(
        "UPDATE sync_pairing_codes SET used_at = ? WHERE code_sha256 = ? AND used_at IS NULL AND expires_at > ? RETURNING client_group AS grp",
      )
      .get(this.now(), h, this.now()) as { grp: string | null } | undefined;
    return row ? { ok: true, group: row.grp } : { ok: false };
  }

  /** Whether `given` equals the configured registration secret (constant time over sha-256). */
  static secretMatches(configured: string | undefined, given: string): boolean {
    if (!configured) return false;
    return timingSafeEqual(Buffer.from(sha(configured), "hex"), Buffer.from(sha(given), "hex"));
  }

  /** True while `address` has ≥ {@link LOCKOUT_FAILURES} failures in the window. */
  isLockedOut(address: string): boolean {
    const row = this.db
      .prepare("SELECT COUNT(*) AS n FROM sync_reg_failures WHERE address = ? AND at > ?")
      .get(address, this.now() - LOCKOUT_WINDOW_MS) as { n: number };
    return row.n >= LOCKOUT_FAILURES;
  }

  /** Records a failed registration from `address` (and drops failures older than the window). */
  recordFailure(address: string): void {
    this.db.prepare("DELETE FROM sync_reg_failures WHERE at <= ?").run(this.now() - LOCKOUT_WINDOW_MS);
    this.db.prepare("INSERT INTO sync_reg_failures (address, at) VALUES (?, ?)").run(address, this.now());
  }

  /** Adds a client. */
  add(name: string, instanceId: string, group: string | null, tokenDays: number): SyncClient {
    const id = randomUUID();
    this.db
      .prepare("INSERT INTO sync_clients (id, name, instance_id, client_group, token_days, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(id, name, instanceId, group, tokenDays, this.now());
    return this.get(id)!;
  }

  get(id: string): SyncClient | undefined {
    const row = this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as SyncClient | undefined;
    return row;
  }

  list(): SyncClient[] {
    return this.db.prepare(`${SELECT} ORDER BY created_at`).all() as SyncClient[];
  }

  /** Marks the client and all its tokens revoked; false when it does not exist. */
  revoke(id: string): boolean {
    const t = this.now();
    const r = this.db.prepare("UPDATE sync_clients SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?").run(t, id);
    this.db.prepare("UPDATE sync_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE client_id = ?").run(t, id);
    return r.changes > 0;
  }

  /** Sets a client's group (null = none) and token lifetime in days. */
  update(id: string, patch: { group?: string | null; tokenDays?: number }): void {
    if (patch.group !== undefined) this.db.prepare("UPDATE sync_clients SET client_group = ? WHERE id = ?").run(patch.group, id);
    if (patch.tokenDays !== undefined) this.db.prepare("UPDATE sync_clients SET token_days = ? WHERE id = ?").run(patch.tokenDays, id);
  }

  /** Records that the client was seen now from `address`. */
  touch(id: string, address: string): void {
    this.db.prepare("UPDATE sync_clients SET last_seen_at = ?, last_address = ? WHERE id = ?").run(this.now(), address, id);
  }
}

const SELECT = `SELECT id, name, instance_id AS instanceId, client_group AS "group", token_days AS tokenDays,
  created_at AS createdAt, last_seen_at AS lastSeenAt, last_address AS lastAddress, revoked_at AS revokedAt FROM sync_clients`;

/** Codes are compared case-insensitively and without spaces or dashes. */
function normaliseCode(code: string): string {
  return code.replace(/[\s-]/g, "").toUpperCase();
}
