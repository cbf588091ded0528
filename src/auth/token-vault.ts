import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";
import { deleteTokenRow, getTokenRow, tokenRowsExpiringBy, upsertTokenRow, type TokenExpiry } from "../store/tokens.js";
import { VAULT_KEY_BYTES } from "./vault-key.js";

/** The refresh job renews access tokens expiring within this window (2 h, in ms). */
export const REFRESH_WINDOW_MS = 2 * 60 * 60 * 1000;

/**
 * A token set as given to `put` or returned by a refresher. Instants are UTC epoch ms.
 * `extra` is any JSON-serialisable provider data that must be kept secret too (e.g. a Cozy
 * client secret / registration access token, an id token).
 */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** When the access token expires (epoch ms); absent = unknown / never. */
  expiresAt?: number;
  /** When the refresh token expires (epoch ms); absent = unknown / never. */
  refreshExpiresAt?: number;
  scope?: string;
  extra?: Record<string, unknown>;
}

/** A decrypted token set with its account, provider and last write instant (epoch ms). */
export interface StoredTokens extends TokenSet {
  accountId: string;
  provider: string;
  updatedAt: number;
}

/**
 * Raised for unusable vault data: a row that cannot be decrypted (wrong key, altered or swapped
 * row), a missing account on refresh, an invalid token set, or a failed write of rotated tokens.
 * Messages name the account, never a token or the key. `accountId` is set when one is involved.
 */
export class VaultError extends Error {
  override readonly name = "VaultError";
  constructor(
    message: string,
    readonly accountId?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Options of `TokenVault`: `now` (epoch ms clock, for `updatedAt`), `log` (never given token values). */
export interface TokenVaultOptions {
  now?: () => number;
  log?: Logger;
}

/** What is encrypted: everything secret plus the expiries (so they are authenticated too). */
type Payload = TokenSet & { v: 1 };

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Tokens of connected accounts, encrypted at rest in `account_tokens` (store/tokens.ts) with
 * AES-256-GCM: a fresh random 12-byte IV per write, and `energy-bridge/tokens/v1 <accountId>` as
 * additional authenticated data, so a row copied onto another account does not decrypt. The key
 * comes from `loadOrCreateVaultKey` (auth/vault-key.ts).
 *
 * Durability of rotated tokens: the store runs WAL with `synchronous = NORMAL`, where a commit is
 * written to the WAL file before `COMMIT` returns (durable against a process kill or crash) but
 * fsynced only at the next checkpoint (not durable against a power loss or OS crash). A provider
 * that rotates refresh tokens invalidates the old one as soon as it answers, so `refresh` writes
 * the rotated set with `synchronous = FULL` for that one transaction (the WAL is fsynced before
 * `COMMIT` returns; restored to the previous level right after — better-sqlite3 is synchronous,
 * so no other statement of this connection runs in between) and resolves only after the commit.
 * `put` uses the store's level (a lost first write means the user connects again; nothing is
 * invalidated).
 */
export class TokenVault {
  readonly #db: Db;
  readonly #key: Buffer;
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  readonly #inFlight = new Map<string, Promise<StoredTokens>>();

  /** `key`: 32 bytes. Throws `VaultError` on another length. */
  constructor(db: Db, key: Buffer, options: TokenVaultOptions = {}) {
    if (key.length !== VAULT_KEY_BYTES) throw new VaultError(`the vault key must be ${VAULT_KEY_BYTES} bytes, got ${key.length}`);
    this.#db = db;
    this.#key = Buffer.from(key);
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
  }

  /** Encrypts and stores (replaces) the tokens of `accountId`. Throws `VaultError` on an invalid set. */
  put(accountId: string, provider: string, tokens: TokenSet): StoredTokens {
    const stored = this.#write(accountId, provider, tokens, false);
    this.#log?.debug({ account: accountId, provider, expiresAt: stored.expiresAt ?? null }, "stored account tokens");
    return stored;
  }

  /**
   * The decrypted tokens of `accountId`, or undefined when none are stored. Throws `VaultError`
   * ("cannot decrypt the tokens of account X: the vault key changed or the data was altered")
   * when the row does not authenticate.
   */
  get(accountId: string): StoredTokens | undefined {
    const row = getTokenRow(this.#db, accountId);
    if (!row) return undefined;
    const fail = (cause?: unknown) =>
      new VaultError(
        `cannot decrypt the tokens of account ${accountId}: the vault key changed or the data was altered`,
        accountId,
        cause instanceof Error ? { cause: new Error(cause.message) } : undefined,
      );
    if (row.iv.length !== IV_BYTES || row.tag.length !== TAG_BYTES) throw fail();
    let plain: Buffer;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, row.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(accountId));
      decipher.setAuthTag(row.tag);
      plain = Buffer.concat([decipher.update(row.ciphertext), decipher.final()]);
    } catch (err) {
      throw fail(err);
    }
    let payload: Payload;
    try {
      payload = JSON.parse(plain.toString("utf8")) as Payload;
    } catch {
      throw fail();
    } finally {
      plain.fill(0);
    }
    if (payload.v !== 1 || typeof payload.accessToken !== "string") throw fail();
    return {
      accountId,
      provider: row.provider,
      updatedAt: row.updatedAt,
      ...pick(payload),
    };
  }

  /** Deletes the tokens of `accountId`; true when some were stored. */
  remove(accountId: string): boolean {
    return deleteTokenRow(this.#db, accountId);
  }

  /**
   * Accounts whose access token expires within `ms` of `now` (epoch ms), already expired ones
   * included, soonest first; accounts without a known expiry are never listed. The refresh job
   * calls it with `REFRESH_WINDOW_MS`.
   */
  expiringWithin(ms: number, now: number = this.#now()): TokenExpiry[] {
    return tokenRowsExpiringBy(this.#db, now + ms);
  }

  /**
   * Renews the tokens of `accountId` with `refresher` (given the current decrypted set; it calls
   * the provider's token endpoint) and resolves with the new set only once it is committed (see
   * the class note on durability), so a rotated refresh token is on disk before the new access
   * token can be used. Concurrent calls for one account share one refresher call and one result.
   * When the provider returns no refresh token (Cozy), the old one (and its expiry) is kept;
   * `scope` and `extra` are kept when not returned; `expiresAt` is the returned one (absent =
   * unknown).
   *
   * Rejects with `VaultError` when no tokens are stored, or when the rotated set cannot be written
   * (the old refresh token may then be revoked: the account must be connected again); rejects
   * with the refresher's own error when it fails (nothing is written then).
   */
  refresh(accountId: string, refresher: (current: StoredTokens) => Promise<TokenSet>): Promise<StoredTokens> {
    const pending = this.#inFlight.get(accountId);
    if (pending) return pending;
    const run = this.#refresh(accountId, refresher).finally(() => this.#inFlight.delete(accountId));
    this.#inFlight.set(accountId, run);
    return run;
  }

  async #refresh(accountId: string, refresher: (current: StoredTokens) => Promise<TokenSet>): Promise<StoredTokens> {
    const current = this.get(accountId);
    if (!current) throw new VaultError(`no tokens stored for account ${accountId}: connect the account first`, accountId);
    const fresh = await refresher(current);
    const keepRefresh = fresh.refreshToken === undefined || fresh.refreshToken === "";
    const merged: TokenSet = {
      accessToken: fresh.accessToken,
      refreshToken: keepRefresh ? current.refreshToken : fresh.refreshToken,
      expiresAt: fresh.expiresAt,
      refreshExpiresAt: keepRefresh ? (fresh.refreshExpiresAt ?? current.refreshExpiresAt) : fresh.refreshExpiresAt,
      scope: fresh.scope ?? current.scope,
      extra: fresh.extra ?? current.extra,
    };
    let stored: StoredTokens;
    try {
      stored = this.#write(accountId, current.provider, merged, true);
    } catch (err) {
      if (err instanceof VaultError) throw err;
      throw new VaultError(
        `cannot store the renewed tokens of account ${accountId} (${(err as Error).message}); ` +
          "if the provider rotated the refresh token, the account must be connected again",
        accountId,
      );
    }
    this.#log?.info(
      { account: accountId, provider: current.provider, expiresAt: stored.expiresAt ?? null, rotated: !keepRefresh },
      "renewed account tokens",
    );
    return stored;
  }

  #write(accountId: string, provider: string, tokens: TokenSet, durable: boolean): StoredTokens {
    const payload = validate(accountId, tokens);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(accountId));
    const plain = Buffer.from(JSON.stringify(payload), "utf8");
    const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
    plain.fill(0);
    const tag = cipher.getAuthTag();
    const updatedAt = this.#now();
    const row = {
      accountId,
      provider,
      ciphertext,
      iv,
      tag,
      expiresAt: payload.expiresAt ?? null,
      refreshExpiresAt: payload.refreshExpiresAt ?? null,
      updatedAt,
    };
    const db = this.#db;
    if (!durable || db.inTransaction) {
      // Inside a caller's transaction the caller's COMMIT decides durability.
      upsertTokenRow(db, row);
    } else {
      const previous = db.pragma("synchronous", { simple: true }) as number;
      db.pragma("synchronous = FULL");
      try {
        db.transaction(() => upsertTokenRow(db, row)).immediate();
      } finally {
        db.pragma(`synchronous = ${previous}`);
      }
    }
    return { accountId, provider, updatedAt, ...pick(payload) };
  }
}

function aad(accountId: string): Buffer {
  return Buffer.from(`energy-bridge/tokens/v1 ${accountId}`, "utf8");
}

function validate(accountId: string, t: TokenSet): Payload {
  const bad = (what: string) => new VaultError(`invalid tokens for account ${accountId}: ${what}`, accountId);
  if (typeof t.accessToken !== "string" || t.accessToken === "") throw bad("the access token is missing");
  if (t.refreshToken !== undefined && typeof t.refreshToken !== "string") throw bad("the refresh token is not a string");
  for (const [name, v] of [["expiresAt", t.expiresAt], ["refreshExpiresAt", t.refreshExpiresAt]] as const) {
    if (v !== undefined && !Number.isSafeInteger(v)) throw bad(`${name} is not an epoch-ms integer`);
  }
  const p: Payload = { v: 1, accessToken: t.accessToken };
  if (t.refreshToken !== undefined && t.refreshToken !== "") p.refreshToken = t.refreshToken;
  if (t.expiresAt !== undefined) p.expiresAt = t.expiresAt;
  if (t.refreshExpiresAt !== undefined) p.refreshExpiresAt = t.refreshExpiresAt;
  if (t.scope !== undefined) p.scope = t.scope;
  if (t.extra !== undefined) p.extra = t.extra;
  return p;
}

function pick(p: Payload): TokenSet {
  const t: TokenSet = { accessToken: p.accessToken };
  if (p.refreshToken !== undefined) t.refreshToken = p.refreshToken;
  if (p.expiresAt !== undefined) t.expiresAt = p.expiresAt;
  if (p.refreshExpiresAt !== undefined) t.refreshExpiresAt = p.refreshExpiresAt;
  if (p.scope !== undefined) t.scope = p.scope;
  if (p.extra !== undefined) t.extra = p.extra;
  return t;
}
