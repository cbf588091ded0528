/**
 * The accounts module against a REAL OAuth server (oidc-provider, test/helpers/oauth-server.ts):
 * authorization code + PKCE (S256) + state through the accounts API, refresh with rotation
 * through the refresh job and the vault, a refused refresh → `revoked` with a Home Assistant
 * notification and the problem sensor on; and a child process SIGKILLed right after a rotation →
 * the next start refreshes with the rotated token, no new consent. No token, code or verifier in
 * any log line.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAccount } from "../../src/store/accounts.js";
import { startOAuthServer, type OAuthServer } from "../helpers/oauth-server.js";
import { accountsKit, assertNoSecretInLogs, type AccountsKit } from "../unit/accounts/kit.js";
import { oidcTestFlow, testClient } from "./accounts-oidc-flow.js";

const CLIENT_ID = "eb-e2e-accounts";
const CALLBACK = "http://127.0.0.1:8099/base/callback/ores";
const ACCOUNT = "ores_test-user";

let server: OAuthServer;
const secrets: string[] = [];
const logs: string[] = [];

beforeAll(async () => {
  server = await startOAuthServer({ clients: [testClient(CLIENT_ID, [CALLBACK])], accessTokenTtl: 60, refreshTokenTtl: 600 });
});
afterAll(async () => {
  await server?.close();
  expect(logs.length).toBeGreaterThan(10);
  assertNoSecretInLogs(logs, secrets);
});

function kitFor(extra: { dataDir?: string; vaultKey?: Buffer } = {}): Promise<AccountsKit> {
  return accountsKit({ ...extra, module: { flows: (deps) => [oidcTestFlow(deps, { issuer: server.issuer, clientId: CLIENT_ID })] } });
}

/** Connects through the API as a browser session would; returns the account's first token set. */
async function connect(kit: AccountsKit, session = "browser-1") {
  const start = await kit.api("POST", "/api/accounts/connect", { session, body: { provider: "ores", input: {}, callbackUrl: CALLBACK } });
  expect(start.statusCode, start.body).toBe(200);
  const url = new URL(start.json<{ url: string }>().url);
  expect(url.searchParams.get("code_challenge_method")).toBe("S256");
  expect(url.searchParams.get("code_verifier")).toBeNull();
  const back = await server.authorize(url);
  const code = back.searchParams.get("code")!;
  secrets.push(code, back.searchParams.get("state")!);
  const res = await kit.api("GET", `/callback/ores${back.search}`, { session });
  expect(res.headers.location).toBe(`../accounts?connected=${ACCOUNT}`);
  const tokens = kit.ctx.vault.get(ACCOUNT)!;
  secrets.push(tokens.accessToken, tokens.refreshToken!);
  return { tokens, code, back };
}

async function oauthError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { error?: string }).error ?? String(err);
  }
  throw new Error("expected the grant to be refused");
}

describe("accounts with a real OAuth server", () => {
  it("code + PKCE → account; refresh job rotates; a refused refresh → revoked, HA told; reconnect clears it", async () => {
    const kit = await kitFor();
    try {
      const { tokens: first, back } = await connect(kit);
      expect(first.refreshToken).toBeTruthy();
      expect(first.expiresAt! - Date.now()).toBeLessThanOrEqual(60_000);
      // The code cannot be redeemed twice (replayed callback, with a fresh state of the same session, is refused by our state check first).
      const replay = await kit.api("GET", `/callback/ores${back.search}`, { session: "browser-1" });
      expect(replay.headers.location).toMatch(/error=state_mismatch/);

      const report = await kit.accounts.refreshJob!.runOnce();
      expect(report.refreshed).toEqual([ACCOUNT]);
      const second = kit.ctx.vault.get(ACCOUNT)!;
      secrets.push(second.accessToken, second.refreshToken!);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(second.accessToken).not.toBe(first.accessToken);
      // The rotated access token is one the server accepts.
      const config = await oidc.discovery(new URL(server.issuer), CLIENT_ID, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
      expect((await oidc.fetchUserInfo(config, second.accessToken, oidc.skipSubjectCheck)).sub).toBe(server.accountId);

      // Replaying the consumed refresh token makes oidc-provider revoke the whole grant.
      expect(await oauthError(oidc.refreshTokenGrant(config, first.refreshToken!))).toBe("invalid_grant");
      const again = await kit.accounts.refreshJob!.runOnce();
      expect(again.revoked).toEqual([ACCOUNT]);
      await kit.accounts.settled();
      const revoked = getAccount(kit.ctx.db, ACCOUNT)!;
      expect(revoked.status).toBe("revoked");
      expect(revoked.detail).toMatch(/Connect the account again/);
      expect(kit.events.filter((e) => e.name === "account_status").map((e) => (e.payload as { status: string }).status)).toEqual(["revoked"]);
      const notes = kit.haCalls.filter((c) => c.path === "/api/services/persistent_notification/create");
      expect(notes).toHaveLength(1);
      expect(notes[0]!.body).toMatchObject({ notification_id: "energy_bridge_account_ores_test_user", message: expect.stringContaining(revoked.detail!) });
      const problem = kit.haCalls.filter((c) => c.path === "/api/states/binary_sensor.energy_bridge_account_ores_test_user_problem");
      expect(problem.at(-1)!.body.state).toBe("on");
      // A revoked account is not refreshed again (no request storm).
      expect((await kit.accounts.refreshJob!.runOnce()).revoked).toEqual([]);

      await connect(kit);
      await kit.accounts.settled();
      expect(getAccount(kit.ctx.db, ACCOUNT)!.status).toBe("connected");
      expect(kit.haCalls.filter((c) => c.path === "/api/services/persistent_notification/dismiss").at(-1)!.body).toEqual({ notification_id: "energy_bridge_account_ores_test_user" });
      expect(problem.length).toBeGreaterThan(0);
      expect(kit.haCalls.filter((c) => c.path === "/api/states/binary_sensor.energy_bridge_account_ores_test_user_problem").at(-1)!.body.state).toBe("off");

      // Disconnect revokes at the server and forgets everything.
      const rt = kit.ctx.vault.get(ACCOUNT)!.refreshToken!;
      secrets.push(rt);
      expect((await kit.api("POST", `/api/accounts/${ACCOUNT}/disconnect`, { session: "browser-1" })).json()).toEqual({ ok: true });
      expect(getAccount(kit.ctx.db, ACCOUNT)).toBeUndefined();
      expect(kit.ctx.vault.get(ACCOUNT)).toBeUndefined();
      expect(await oauthError(oidc.refreshTokenGrant(config, rt))).toBe("invalid_grant");
    } finally {
      logs.push(...kit.logs);
      await kit.close();
    }
  });

  it("a child SIGKILLed right after a rotation: the next start refreshes with the rotated token, no re-consent", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "eb-accounts-kill-"));
    const vaultKey = randomBytes(32);
    try {
      const kit = await kitFor({ dataDir, vaultKey });
      const { tokens: before } = await connect(kit);
      logs.push(...kit.logs);
      await kit.close();

      const script = fileURLToPath(new URL("./accounts-refresh-child.ts", import.meta.url));
      const child = spawn(process.execPath, ["--import", "tsx", script, join(dataDir, "energy-bridge.sqlite"), vaultKey.toString("hex"), server.issuer, CLIENT_ID], {
        cwd: fileURLToPath(new URL("../../", import.meta.url)),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += String(d)));
      const exit = new Promise<NodeJS.Signals | number | null>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code)));
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += String(d);
          if (out.includes("\n")) {
            child.kill("SIGKILL");
            resolve(out);
          }
        });
        child.on("exit", () => reject(new Error(`child exited before rotating: ${stderr}`)));
      });
      expect(await exit).toBe("SIGKILL");
      expect(line).toContain(`rotated ${ACCOUNT} `);
      logs.push(...stderr.split("\n"));

      const next = await kitFor({ dataDir, vaultKey });
      try {
        const rotated = next.ctx.vault.get(ACCOUNT)!;
        secrets.push(rotated.accessToken, rotated.refreshToken!);
        expect(rotated.refreshToken).not.toBe(before.refreshToken);
        // The next start's refresh works with it (the old one would make the server revoke the grant).
        const report = await next.accounts.refreshJob!.runOnce();
        expect(report).toMatchObject({ refreshed: [ACCOUNT], revoked: [], retry: [] });
        const third = next.ctx.vault.get(ACCOUNT)!;
        secrets.push(third.accessToken, third.refreshToken!);
        expect(getAccount(next.ctx.db, ACCOUNT)!.status).toBe("connected");
        expect(next.events.filter((e) => e.name === "account_connected")).toEqual([]);
        // And the pre-kill token really was rotated away at the server.
        const config = await oidc.discovery(new URL(server.issuer), CLIENT_ID, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
        expect(await oauthError(oidc.refreshTokenGrant(config, before.refreshToken!))).toBe("invalid_grant");
      } finally {
        logs.push(...next.logs);
        await next.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
