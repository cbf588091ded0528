import type { Db } from "./db.js";

/**
 * One row of `account_tokens` (migration 6): the encrypted token set of an account. Only the
 * AES-256-GCM ciphertext, its 12-byte IV and 16-byte tag are stored, never plaintext; the expiry
 * columns are copies (for queries) of values that are also inside the authenticated ciphertext.
 * Instants are UTC epoch ms.
 */
export interface TokenRow {
  accountId: string;
  provider: string;
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  /** When the access token expires; null = unknown / never. */
  expiresAt: number | null;
  /** When the refresh token expires; null = unknown / never. */
  refreshExpiresAt: number | null;
  updatedAt: number;
}

/** Account id, provider and access-token expiry of a row (what the refresh job needs to pick work). */
export interface TokenExpiry {
  accountId: string;
  provider: string;
  expiresAt: number;
}

interface RawRow {
  account_id: string;
  provider: string;
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  expires_at: number | null;
  refresh_expires_at: number | null;
  updated_at: number;
}

/** Inserts or replaces the token row of `row.accountId` (one statement: atomic on its own). */
export function upsertTokenRow(db: Db, row: TokenRow): void {
  db.prepare(
    `INSERT INTO account_tokens (account_id, provider, ciphertext, iv, tag, expires_at, refresh_expires_at, updated_at)
     VALUES (@accountId, @provider, @ciphertext, @iv, @tag, @expiresAt, @refreshExpiresAt, @updatedAt)
     ON CONFLICT(account_id) DO UPDATE SET provider = excluded.provider, ciphertext = excluded.ciphertext,
       iv = excluded.iv, tag = excluded.tag, expires_at = excluded.expires_at,
       refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at`,
  ).run(row);
}

/** The token row of an account, or undefined. */
export function getTokenRow(db: Db, accountId: string): TokenRow | undefined {
  const r = db.prepare(`SELECT * FROM account_tokens WHERE account_id = ?`).get(accountId) as RawRow | undefined;
  return r && fromRaw(r);
}

/** Deletes the token row of an account; true when one existed. */
export function deleteTokenRow(db: Db, accountId: string): boolean {
  return db.prepare(`DELETE FROM account_tokens WHERE account_id = ?`).run(accountId).changes > 0;
}

/**
 * Rows whose access token expires at or before `instant` (UTC epoch ms; already expired ones
 * included), soonest first. Rows without a known expiry are never returned.
 */
export function tokenRowsExpiringBy(db: Db, instant: number): TokenExpiry[] {
  return (
    db
      .prepare(
        `SELECT account_id, provider, expires_at FROM account_tokens
         WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at, account_id`,
      )
      .all(instant) as { account_id: string; provider: string; expires_at: number }[]
  ).map((r) => ({ accountId: r.account_id, provider: r.provider, expiresAt: r.expires_at }));
}

function fromRaw(r: RawRow): TokenRow {
  return {
    accountId: r.account_id,
    provider: r.provider,
    ciphertext: r.ciphertext,
    iv: r.iv,
    tag: r.tag,
    expiresAt: r.expires_at,
    refreshExpiresAt: r.refresh_expires_at,
    updatedAt: r.updated_at,
  };
}
