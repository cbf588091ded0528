/**
 * Per-client JWTs of the sync server (jose). The server generates one Ed25519 key pair (JWS alg
 * `EdDSA`) at first start; the private JWK is stored encrypted in the token vault (entry
 * `sync_server_signing_key`), the public JWK in `sync_meta`. No client ever sees the private key.
 *
 * Token claims: `sub` = client id, `jti` = random id (row in `sync_tokens`), `iss` = this
 * server's instance id, `aud` = `energy-bridge-sync`, `iat`, `exp` (default 365 days, per client
 * `token_days`). Verification pins the algorithm to `EdDSA` (so `alg: none`, HS256 keyed with the
 * public key and any other algorithm are refused), checks iss/aud/exp with 30 s of clock
 * tolerance, then the store: the `jti` must exist, belong to `sub`, not be revoked, and the client
 * must not be revoked.
 */
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, errors as joseErrors, type CryptoKey, type JWK } from "jose";
import type { TokenVault } from "../../auth/token-vault.js";
import type { Db } from "../../store/db.js";
import { getMeta, setMeta } from "../store.js";

/** The only signature algorithm issued and accepted. */
export const SYNC_JWT_ALG = "EdDSA";
/** The `aud` of every sync token. */
export const SYNC_JWT_AUDIENCE = "energy-bridge-sync";
const VAULT_ENTRY = "sync_server_signing_key";

/** Why a token was refused. */
export type TokenRejection = "invalid" | "expired" | "revoked";

/** A refused token; `reason` is safe to send to the client, the message never holds the token. */
export class TokenError extends Error {
  override readonly name = "TokenError";
  constructor(
    readonly reason: TokenRejection,
    message: string,
  ) {
    super(message);
  }
}

/** What a valid token proves. `exp` in epoch seconds. */
export interface TokenIdentity {
  clientId: string;
  jti: string;
  exp: number;
}

/** Issues and verifies the server's client tokens. Build with {@link TokenAuthority.load}. */
export class TokenAuthority {
  private constructor(
    private readonly db: Db,
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    readonly issuer: string,
    private readonly now: () => number,
  ) {}

  /**
   * Loads the key pair (making and storing it on first use).
   * @param issuer this server's instance id
   * @throws VaultError when the stored private key cannot be decrypted (vault key changed)
   */
  static async load(db: Db, vault: TokenVault, issuer: string, now: () => number = Date.now): Promise<TokenAuthority> {
    const stored = vault.get(VAULT_ENTRY);
    const publicText = getMeta(db, "server_public_jwk");
    if (stored && publicText) {
      const priv = (await importJWK(JSON.parse(stored.accessToken) as JWK, SYNC_JWT_ALG)) as CryptoKey;
      const pub = (await importJWK(JSON.parse(publicText) as JWK, SYNC_JWT_ALG)) as CryptoKey;
      return new TokenAuthority(db, priv, pub, issuer, now);
    }
    const { privateKey, publicKey } = await generateKeyPair(SYNC_JWT_ALG, { extractable: true });
    const privJwk = await exportJWK(privateKey);
    const pubJwk = await exportJWK(publicKey);
    vault.put(VAULT_ENTRY, "sync", { accessToken: JSON.stringify(privJwk) });
    setMeta(db, "server_public_jwk", JSON.stringify(pubJwk));
    // Re-import the private key as non-extractable for use.
    const priv = (await importJWK(privJwk, SYNC_JWT_ALG)) as CryptoKey;
    return new TokenAuthority(db, priv, publicKey, issuer, now);
  }

  /** The public key as a JWK (for a client that wants to check tokens itself). */
  async publicJwk(): Promise<JWK> {
    return exportJWK(this.publicKey);
  }

  /**
   * Issues a token for `clientId`, valid `days` days, and records its jti. `replaces` = the jti
   * of the token this one rotates (revoked when the new one is first verified).
   * @returns the compact JWT, its jti and expiry (epoch s)
   */
  async issue(clientId: string, days: number, replaces: string | null = null): Promise<{ token: string; jti: string; exp: number }> {
    const jti = randomUUID();
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + Math.round(days * 86_400);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: SYNC_JWT_ALG, typ: "JWT" })
      .setSubject(clientId)
      .setJti(jti)
      .setIssuer(this.issuer)
      .setAudience(SYNC_JWT_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.privateKey);
    this.db
      .prepare("INSERT INTO sync_tokens (jti, client_id, issued_at, expires_at, replaces) VALUES (?, ?, ?, ?, ?)")
      .run(jti, clientId, this.now(), exp, replaces);
    return { token, jti, exp };
  }

  /**
   * Verifies a token (signature with the pinned algorithm, iss, aud, exp, then revocation).
   * @throws TokenError `invalid` (bad signature, algorithm, claims, unknown jti or jti of another
   *   client), `expired`, `revoked` (token or client revoked)
   */
  async verify(token: string): Promise<TokenIdentity> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [SYNC_JWT_ALG],
        issuer: this.issuer,
        audience: SYNC_JWT_AUDIENCE,
        requiredClaims: ["sub", "jti", "exp", "iat"],
        clockTolerance: 30,
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new TokenError("expired", "the token has expired");
      throw new TokenError("invalid", "the token is not valid for this server");
    }
    const identity: TokenIdentity = { clientId: payload.sub!, jti: payload.jti!, exp: payload.exp! };
    this.checkLive(identity);
    // Rotation without a gap: the superseded token stays valid until its successor is first used.
    const r = this.db.prepare("SELECT replaces FROM sync_tokens WHERE jti = ?").get(identity.jti) as { replaces: string | null };
    if (r.replaces) {
      this.revokeToken(r.replaces);
      this.db.prepare("UPDATE sync_tokens SET replaces = NULL WHERE jti = ?").run(identity.jti);
    }
    return identity;
  }

  /**
   * The store part of {@link verify}, cheap enough for every WS message batch: the jti exists,
   * belongs to the client, neither is revoked, and it has not expired since.
   * @throws TokenError
   */
  checkLive(identity: TokenIdentity): void {
    const row = this.db
      .prepare(
        `SELECT t.client_id AS clientId, t.revoked_at AS tokenRevoked, c.revoked_at AS clientRevoked
         FROM sync_tokens t JOIN sync_clients c ON c.id = t.client_id WHERE t.jti = ?`,
      )
      .get(identity.jti) as { clientId: string; tokenRevoked: number | null; clientRevoked: number | null } | undefined;
    if (!row || row.clientId !== identity.clientId) throw new TokenError("invalid", "the token is not valid for this server");
    if (row.tokenRevoked !== null || row.clientRevoked !== null) throw new TokenError("revoked", "access of this client was revoked");
    if (identity.exp + 30 < this.now() / 1000) throw new TokenError("expired", "the token has expired");
  }

  /** Revokes one token id. */
  revokeToken(jti: string): void {
    this.db.prepare("UPDATE sync_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL").run(this.now(), jti);
  }
}
