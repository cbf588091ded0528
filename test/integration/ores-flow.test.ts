/**
 * The Ores account flow against a real OAuth server (oidc-provider, test/helpers/oauth-server.ts)
 * standing in for the hypothetical Ores endpoints: authorization code + PKCE S256 + state, code
 * exchange, refresh with rotation through the vault; tampered and replayed `state` rejected with
 * nothing stored. No Home Assistant needed.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FlowError, type AccountFlow } from "../../src/auth/flow.js";
import { createOresFlow } from "../../src/auth/flows/ores.js";
import { createOAuthStateStore } from "../../src/auth/oauth-state.js";
import { TokenVault } from "../../src/auth/token-vault.js";
import { createLogger } from "../../src/log.js";
import { EventBus } from "../../src/modules/events.js";
import type { Settings } from "../../src/settings.js";
import { listAccounts } from "../../src/store/accounts.js";
import { openStore, type Db } from "../../src/store/db.js";
import { startOAuthServer, type OAuthServer } from "../helpers/oauth-server.js";

const EAN = "541449011000012345";
const CALLBACK = "http://127.0.0.1:8099/api/accounts/ores/callback";

describe("Ores flow against a real OAuth server", () => {
  let server: OAuthServer;
  let dir: string;
  let db: Db;
  let vault: TokenVault;
  let flow: AccountFlow;
  const events: string[] = [];

  beforeAll(async () => {
    server = await startOAuthServer({
      clients: [
        {
          client_id: "energy-bridge-ores",
          client_secret: "ores-secret-for-tests",
          redirect_uris: [CALLBACK],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_post",
        },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), "eb-ores-flow-"));
    db = openStore(join(dir, "store.sqlite"));
    vault = new TokenVault(db, randomBytes(32));
    const log = createLogger("silent");
    const bus = new EventBus(log);
    bus.on("account_connected", (e) => events.push(e.accountId));
    const settings = {
      ores: { clientId: "energy-bridge-ores", clientSecret: "ores-secret-for-tests", authorizeUrl: `${server.issuer}/auth`, tokenUrl: `${server.issuer}/token`, scope: "openid offline_access" },
    } as unknown as Settings;
    flow = createOresFlow({ db, vault, events: bus, settings, log, now: Date.now, states: createOAuthStateStore() });
  });
  afterAll(async () => {
    db?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const req = { sessionId: "browser-1", callbackUrl: CALLBACK };

  it("authorization code + PKCE S256 + state, then the account ores_<ean> with its tokens", async () => {
    const start = await flow.begin({ ean: EAN }, req);
    expect(start.kind).toBe("redirect");
    const url = new URL((start as { url: string }).url);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("state")).toBeTruthy();
    const back = await server.authorize(url);
    const query = Object.fromEntries(back.searchParams);
    const account = await flow.callback!(query, req);
    expect(account.id).toBe(`ores_${EAN}`);
    expect(account.config).toEqual({ prms: [EAN] });
    expect(events).toEqual([`ores_${EAN}`]);
    const stored = vault.get(account.id)!;
    expect(stored.accessToken).toBeTruthy();
    expect(stored.refreshToken).toBeTruthy();
    expect(stored.expiresAt).toBeGreaterThan(Date.now());
    // The same callback again (replay): rejected, nothing more stored.
    const replay = await flow.callback!(query, req).catch((e: unknown) => e);
    expect(replay).toBeInstanceOf(FlowError);
    expect((replay as FlowError).code).toBe("state_mismatch");
    expect(listAccounts(db).map((a) => a.id)).toEqual([`ores_${EAN}`]);
  });

  it("refresh through the vault rotates the refresh token; the old one is refused afterwards", async () => {
    const account = listAccounts(db)[0]!;
    const before = vault.get(account.id)!;
    const after = await vault.refresh(account.id, (current) => flow.refresher!(account, current));
    expect(after.refreshToken).toBeTruthy();
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(vault.get(account.id)!.refreshToken).toBe(after.refreshToken);
    const stale = await flow.refresher!(account, before).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(oidc.ResponseBodyError);
    expect((stale as oidc.ResponseBodyError).error).toBe("invalid_grant");
  });

  it("a tampered state or another browser's session is rejected and stores nothing", async () => {
    const start = await flow.begin({ ean: "541449011000099999" }, req);
    const back = await server.authorize((start as { url: string }).url);
    const query = Object.fromEntries(back.searchParams);
    const tampered = await flow.callback!({ ...query, state: `${query.state}x` }, req).catch((e: unknown) => e);
    expect((tampered as FlowError).code).toBe("state_mismatch");
    const other = await flow.callback!(query, { ...req, sessionId: "browser-2" }).catch((e: unknown) => e);
    expect((other as FlowError).code).toBe("state_mismatch");
    expect(listAccounts(db).map((a) => a.id)).toEqual([`ores_${EAN}`]);
    expect(vault.get("ores_541449011000099999")).toBeUndefined();
  });

  it("without ores_client_id the page says what to set", async () => {
    const bare = createOresFlow({ db, vault, events: new EventBus(createLogger("silent")), settings: {} as Settings, log: createLogger("silent"), now: Date.now, states: createOAuthStateStore() });
    await expect(bare.begin({ ean: EAN }, req)).rejects.toThrow(/ores_client_id/);
  });
});
