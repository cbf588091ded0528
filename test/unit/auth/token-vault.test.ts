import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { REFRESH_WINDOW_MS, TokenVault, VaultError, type TokenSet } from "../../../src/auth/token-vault.js";
import { openStore, type Db } from "../../../src/store/db.js";

const NOW = Date.UTC(2026, 2, 29, 10, 0, 0);
const HOUR = 3_600_000;
const SECRETS = { accessToken: "AT-secret-aaaa", refreshToken: "RT-secret-bbbb" };

let db: Db;
let key: Buffer;
let vault: TokenVault;
beforeEach(() => {
  db = openStore(":memory:");
  key = randomBytes(32);
  vault = new TokenVault(db, key, { now: () => NOW });
});
afterEach(() => {
  if (db.open) db.close();
});

/** Runs fn, expects a VaultError whose message names the account and contains none of `secrets`. */
function expectVaultError(fn: () => unknown, accountId: string, secrets: string[] = Object.values(SECRETS)): VaultError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(VaultError);
  const err = caught as VaultError;
  expect(err.message).toBe(`cannot decrypt the tokens of account ${accountId}: the vault key changed or the data was altered`);
  const everything = `${err.message} ${err.stack} ${String((err.cause as Error | undefined)?.message)}`;
  for (const s of secrets) expect(everything).not.toContain(s);
  return err;
}

describe("TokenVault: encryption at rest", () => {
  it("round-trips a token set and stores only ciphertext", () => {
    const tokens: TokenSet = {
      ...SECRETS,
      expiresAt: NOW + HOUR,
      refreshExpiresAt: NOW + 90 * 24 * HOUR,
      scope: "io.cozy.files io.cozy.triggers",
      extra: { clientSecret: "CS-secret-cccc", registrationToken: "REG-secret-dddd" },
    };
    vault.put("cozy-1", "ecolyo", tokens);
    expect(vault.get("cozy-1")).toEqual({ accountId: "cozy-1", provider: "ecolyo", updatedAt: NOW, ...tokens });
    expect(vault.get("nobody")).toBeUndefined();

    const row = db.prepare(`SELECT * FROM account_tokens`).get() as Record<string, unknown>;
    expect((row.iv as Buffer).length).toBe(12);
    expect((row.tag as Buffer).length).toBe(16);
    expect(row.expires_at).toBe(NOW + HOUR);
    expect(row.refresh_expires_at).toBe(NOW + 90 * 24 * HOUR);
    const dump = Object.values(row)
      .map((v) => (Buffer.isBuffer(v) ? v.toString("latin1") : String(v)))
      .join("|");
    for (const s of ["AT-secret", "RT-secret", "CS-secret", "REG-secret", "io.cozy.files"]) expect(dump).not.toContain(s);
  });

  it("uses a fresh IV per write (same tokens, different ciphertext)", () => {
    vault.put("a", "tado", SECRETS);
    const first = db.prepare(`SELECT iv, ciphertext FROM account_tokens`).get() as { iv: Buffer; ciphertext: Buffer };
    vault.put("a", "tado", SECRETS);
    const second = db.prepare(`SELECT iv, ciphertext FROM account_tokens`).get() as { iv: Buffer; ciphertext: Buffer };
    expect(first.iv.equals(second.iv)).toBe(false);
    expect(first.ciphertext.equals(second.ciphertext)).toBe(false);
  });

  it("a different key → VaultError, no plaintext in the message", () => {
    vault.put("linky-1", "enedis", SECRETS);
    const other = new TokenVault(db, randomBytes(32));
    expectVaultError(() => other.get("linky-1"), "linky-1");
  });

  it("a flipped ciphertext, IV or tag byte → VaultError", () => {
    for (const column of ["ciphertext", "iv", "tag"]) {
      vault.put("linky-1", "enedis", SECRETS);
      const blob = (db.prepare(`SELECT ${column} AS b FROM account_tokens`).get() as { b: Buffer }).b;
      blob[blob.length >> 1]! ^= 0x01;
      db.prepare(`UPDATE account_tokens SET ${column} = ?`).run(blob);
      expectVaultError(() => vault.get("linky-1"), "linky-1");
    }
  });

  it("a row swapped onto another account → VaultError (the account id is authenticated)", () => {
    vault.put("alice", "tado", SECRETS);
    vault.put("bob", "tado", { accessToken: "AT-bob", refreshToken: "RT-bob" });
    db.prepare(
      `UPDATE account_tokens SET (ciphertext, iv, tag) =
         (SELECT ciphertext, iv, tag FROM account_tokens WHERE account_id = 'alice') WHERE account_id = 'bob'`,
    ).run();
    expect(vault.get("alice")?.accessToken).toBe(SECRETS.accessToken);
    expectVaultError(() => vault.get("bob"), "bob", [...Object.values(SECRETS), "AT-bob", "RT-bob"]);
  });

  it("removes tokens; refuses an invalid set or a key of the wrong size", () => {
    vault.put("a", "tado", SECRETS);
    expect(vault.remove("a")).toBe(true);
    expect(vault.remove("a")).toBe(false);
    expect(vault.get("a")).toBeUndefined();
    expect(() => vault.put("a", "tado", { accessToken: "" })).toThrow(VaultError);
    expect(() => vault.put("a", "tado", { accessToken: "x", expiresAt: 1.5 })).toThrow(/expiresAt/);
    expect(() => new TokenVault(db, randomBytes(16))).toThrow(VaultError);
  });
});

describe("TokenVault: expiry", () => {
  it("expiringWithin lists expired and soon-expiring tokens, soonest first, never unknown expiries", () => {
    vault.put("expired", "tado", { accessToken: "x", expiresAt: NOW - HOUR });
    vault.put("soon", "enedis", { accessToken: "x", expiresAt: NOW + HOUR });
    vault.put("edge", "enedis", { accessToken: "x", expiresAt: NOW + REFRESH_WINDOW_MS });
    vault.put("later", "ecolyo", { accessToken: "x", expiresAt: NOW + REFRESH_WINDOW_MS + 1 });
    vault.put("unknown", "ecolyo", { accessToken: "x" });
    expect(vault.expiringWithin(REFRESH_WINDOW_MS, NOW)).toEqual([
      { accountId: "expired", provider: "tado", expiresAt: NOW - HOUR },
      { accountId: "soon", provider: "enedis", expiresAt: NOW + HOUR },
      { accountId: "edge", provider: "enedis", expiresAt: NOW + REFRESH_WINDOW_MS },
    ]);
    expect(vault.expiringWithin(0).map((e) => e.accountId)).toEqual(["expired"]); // default now = the clock
  });
});

describe("TokenVault: refresh", () => {
  it("coalesces concurrent refreshes of one account: one refresher call, same tokens for all", async () => {
    vault.put("a", "tado", { ...SECRETS, expiresAt: NOW + 60_000 });
    vault.put("b", "tado", { accessToken: "AT-b", refreshToken: "RT-b" });
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const refresher = async (current: { refreshToken?: string }) => {
      calls++;
      expect(current.refreshToken).toBe(SECRETS.refreshToken);
      await gate;
      return { accessToken: "AT-new", refreshToken: "RT-new", expiresAt: NOW + HOUR };
    };
    const all = Promise.all([vault.refresh("a", refresher), vault.refresh("a", refresher), vault.refresh("a", refresher)]);
    let bCalls = 0;
    const other = vault.refresh("b", async () => (bCalls++, { accessToken: "AT-b2" }));
    release();
    const results = await all;
    await other;
    expect(calls).toBe(1);
    expect(bCalls).toBe(1); // another account is not coalesced with it
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(["AT-new"]));
    expect(results[0]).toBe(results[2]);
    expect(vault.get("a")).toMatchObject({ accessToken: "AT-new", refreshToken: "RT-new", expiresAt: NOW + HOUR });
    // Once settled, a new refresh calls the refresher again.
    await vault.refresh("a", async () => ({ accessToken: "AT-3", refreshToken: "RT-3" }));
    expect(vault.get("a")?.refreshToken).toBe("RT-3");
  });

  it("keeps the old refresh token (and its expiry, scope, extra) when the provider returns none, as Cozy does", async () => {
    vault.put("cozy", "ecolyo", {
      ...SECRETS,
      expiresAt: NOW,
      refreshExpiresAt: NOW + 30 * 24 * HOUR,
      scope: "io.cozy.triggers",
      extra: { clientId: "c1" },
    });
    const fresh = await vault.refresh("cozy", async () => ({ accessToken: "AT-cozy-2", expiresAt: NOW + HOUR }));
    const expected = {
      accessToken: "AT-cozy-2",
      refreshToken: SECRETS.refreshToken,
      expiresAt: NOW + HOUR,
      refreshExpiresAt: NOW + 30 * 24 * HOUR,
      scope: "io.cozy.triggers",
      extra: { clientId: "c1" },
    };
    expect(fresh).toMatchObject(expected);
    expect(vault.get("cozy")).toMatchObject(expected);
  });

  it("a failed refresher writes nothing and the next call retries; unknown account → VaultError", async () => {
    vault.put("a", "tado", SECRETS);
    const p1 = vault.refresh("a", async () => Promise.reject(new Error("invalid_grant")));
    const p2 = vault.refresh("a", async () => ({ accessToken: "never" }));
    await expect(p1).rejects.toThrow("invalid_grant");
    await expect(p2).rejects.toThrow("invalid_grant"); // coalesced onto the failing call
    expect(vault.get("a")).toMatchObject(SECRETS);
    await expect(vault.refresh("a", async () => ({ accessToken: "AT-ok" }))).resolves.toMatchObject({ accessToken: "AT-ok" });
    await expect(vault.refresh("ghost", async () => ({ accessToken: "x" }))).rejects.toThrow(/no tokens stored for account ghost/);
  });

  it("does not hand out the new access token when the rotated tokens cannot be written", async () => {
    vault.put("a", "tado", SECRETS);
    db.exec(`CREATE TRIGGER no_write BEFORE UPDATE ON account_tokens BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    const attempt = vault.refresh("a", async () => ({ accessToken: "AT-new-secret", refreshToken: "RT-new-secret" }));
    await expect(attempt).rejects.toBeInstanceOf(VaultError);
    await attempt.catch((err: Error) => {
      expect(err.message).toMatch(/cannot store the renewed tokens of account a \(disk full\)/);
      expect(err.message).not.toMatch(/secret/);
    });
    expect(vault.get("a")).toMatchObject(SECRETS);
    expect(db.pragma("synchronous", { simple: true })).toBe(1); // NORMAL restored after the FULL write
  });

  it("writes the rotation with synchronous = FULL and restores NORMAL; logs no token", async () => {
    const lines: string[] = [];
    const log = pino(
      { level: "trace" },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const logged = new TokenVault(db, key, { now: () => NOW, log });
    logged.put("a", "tado", { ...SECRETS, extra: { secret: "EXTRA-secret" } });
    const pragmas = vi.spyOn(db, "pragma");
    await logged.refresh("a", async () => ({
      accessToken: "AT-rotated-secret",
      refreshToken: "RT-rotated-secret",
      expiresAt: NOW + HOUR,
    }));
    expect(pragmas.mock.calls.map((c) => c[0])).toEqual(["synchronous", "synchronous = FULL", "synchronous = 1"]);
    pragmas.mockRestore();
    expect(db.pragma("synchronous", { simple: true })).toBe(1);
    expect(logged.get("a")?.refreshToken).toBe("RT-rotated-secret");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.join("")).toMatch(/renewed account tokens/);
    for (const s of ["AT-", "RT-", "EXTRA-secret", key.toString("hex"), key.toString("base64")]) {
      expect(lines.join("")).not.toContain(s);
    }
  });
});

describe("TokenVault: durability of a rotation", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "eb-vault-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a child process SIGKILLed right after the rotation: the rotated refresh token is on disk", async () => {
    const path = join(dir, "store.sqlite");
    const setup = openStore(path);
    new TokenVault(setup, key).put("linky-1", "enedis", { ...SECRETS, expiresAt: NOW });
    setup.close();

    const script = fileURLToPath(new URL("./fixtures/rotate-child.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script, path, key.toString("hex"), "linky-1", "RT-rotated-1"], {
      cwd: fileURLToPath(new URL("../../../", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += String(d)));
    const exit = new Promise<NodeJS.Signals | number | null>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code)));
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += String(d);
        if (out.includes("rotated")) {
          child.kill("SIGKILL");
          resolve();
        }
      });
      child.on("exit", () => reject(new Error(`child exited before rotating: ${stderr}`)));
    });
    expect(await exit).toBe("SIGKILL");

    const reopened = openStore(path);
    try {
      const tokens = new TokenVault(reopened, key).get("linky-1");
      expect(tokens).toMatchObject({ accessToken: "access-RT-rotated-1", refreshToken: "RT-rotated-1" });
      expect(tokens!.expiresAt).toBeGreaterThan(NOW);
    } finally {
      reopened.close();
    }
  }, 30_000);
});
