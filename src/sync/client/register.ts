/**
 * Client side of pairing and token rotation: `POST register_client` with the one-time pairing code
 * (or the seed-compatible registration secret), `POST rotate_token` when the token nears expiry.
 * The registration (client id, server id, expiry) goes to `sync_links`, the token into the vault
 * (`sync_link:<url>`), so one place holds it and a restart reuses it.
 */
import type { TokenVault } from "../../auth/token-vault.js";
import type { Db } from "../../store/db.js";
import { API_PREFIX, registerResultSchema, type RegisterResult } from "../protocol.js";

/** A stored registration with its token. `expiresAt` epoch seconds. */
export interface LinkRegistration {
  url: string;
  clientId: string;
  serverId: string;
  serverName: string;
  expiresAt: number;
  token: string;
}

/** Registration refused or impossible; `status` is the HTTP status (0 = no answer). */
export class RegistrationError extends Error {
  override readonly name = "RegistrationError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const vaultKey = (url: string) => `sync_link:${url}`;

/** The stored registration for `url`, if any. */
export function loadRegistration(db: Db, vault: TokenVault, url: string): LinkRegistration | undefined {
  const row = db
    .prepare("SELECT url, client_id AS clientId, server_id AS serverId, server_name AS serverName, expires_at AS expiresAt FROM sync_links WHERE url = ?")
    .get(url) as Omit<LinkRegistration, "token"> | undefined;
  const t = vault.get(vaultKey(url));
  if (!row || !t) return undefined;
  return { ...row, token: t.accessToken };
}

function save(db: Db, vault: TokenVault, url: string, r: RegisterResult, now: number): LinkRegistration {
  // No expiresAt in the vault: its refresh job is for account tokens; the expiry lives in sync_links
  // and the follower rotates the token itself.
  vault.put(vaultKey(url), "sync", { accessToken: r.token });
  db.prepare(
    `INSERT INTO sync_links (url, client_id, server_id, server_name, expires_at, registered_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(url) DO UPDATE SET client_id = excluded.client_id, server_id = excluded.server_id,
       server_name = excluded.server_name, expires_at = excluded.expires_at`,
  ).run(url, r.client_id, r.server_id, r.server_name, r.expires_at, now);
  return { url, clientId: r.client_id, serverId: r.server_id, serverName: r.server_name, expiresAt: r.expires_at, token: r.token };
}

async function post(url: string, path: string, body: unknown, token?: string): Promise<RegisterResult> {
  let res: Response;
  try {
    res = await fetch(`${url}${API_PREFIX}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new RegistrationError(`cannot reach the sync server at ${url}: ${(err as Error).message}`, 0);
  }
  const json = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) {
    const msg = (json as { message?: unknown }).message;
    throw new RegistrationError(`the sync server at ${url} answered ${res.status}: ${typeof msg === "string" ? msg : "refused"}`, res.status);
  }
  const r = registerResultSchema.safeParse(json);
  if (!r.success) throw new RegistrationError(`the sync server at ${url} sent an unexpected answer`, res.status);
  return r.data;
}

/**
 * Registers this instance with a server.
 * @throws RegistrationError (401 bad code/secret, 429 locked out, 0 unreachable)
 */
export async function register(
  db: Db,
  vault: TokenVault,
  server: { url: string; pairingCode?: string; registrationSecret?: string },
  name: string,
  instanceId: string,
  now: number,
): Promise<LinkRegistration> {
  if (!server.pairingCode && !server.registrationSecret) {
    throw new RegistrationError(`no pairing code for ${server.url}: create one on the server's Mirror page and add it to the options`, 0);
  }
  const r = await post(server.url, "register_client", {
    name,
    instance_id: instanceId,
    ...(server.pairingCode ? { pairing_code: server.pairingCode } : { registration_secret: server.registrationSecret }),
  });
  return save(db, vault, server.url, r, now);
}

/** Rotates the token of a registration (the old one stays valid until the new one is used). */
export async function rotate(db: Db, vault: TokenVault, reg: LinkRegistration, now: number): Promise<LinkRegistration> {
  const r = await post(reg.url, "rotate_token", {}, reg.token);
  return save(db, vault, reg.url, r, now);
}
