/**
 * Refresh job edge cases with a fake refresher (the real OAuth round trips are in
 * test/e2e/accounts-refresh.test.ts): what is refreshed (only within 2 h, only with a refresher,
 * not revoked accounts), how failures are classified (invalid_grant / 401 / 403 → revoked;
 * network → retry, status unchanged), coalescing, and the 7-day expiry warning.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as oidc from "openid-client";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { saveConnectedAccount } from "../../../src/auth/flows/account-store.js";
import { classifyRefreshError, EXPIRY_WARNING_MS, RefreshJob, type Refresher } from "../../../src/auth/refresh-job.js";
import { REFRESH_WINDOW_MS, TokenVault, VaultError } from "../../../src/auth/token-vault.js";
import type { Logger } from "../../../src/log.js";
import { EventBus } from "../../../src/modules/events.js";
import { getAccount } from "../../../src/store/accounts.js";
import { openStore } from "../../../src/store/db.js";
import type { Db } from "../../../src/store/db.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let dir: string;
let db: Db;
let vault: TokenVault;
let bus: EventBus;
let events: { name: string; payload: unknown }[];
let t: number;
const log = pino({ level: "silent" }) as unknown as Logger;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "eb-refresh-"));
  db = openStore(join(dir, "s.sqlite"));
  t = Date.UTC(2026, 11, 1, 12);
  vault = new TokenVault(db, randomBytes(32), { now: () => t });
  bus = new EventBus(log);
  events = [];
  for (const n of ["account_status", "token_expiring", "account_connected"] as const) bus.on(n, (p) => void events.push({ name: n, payload: p }));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function job(refreshers: Record<string, Refresher>): RefreshJob {
  return new RefreshJob({ db, vault, events: bus, log, now: () => t, refreshers: new Map(Object.entries(refreshers)) });
}
function connect(id: string, provider: "ores" | "cozy" | "tado" | "conso_api" | "enedis_data_connect", tokens?: Parameters<TokenVault["put"]>[2], config: Record<string, unknown> = {}) {
  return saveConnectedAccount({ db, vault, events: bus, log, now: () => t }, { id, provider, label: id, config }, tokens);
}
function bodyError(status: number, error: string): oidc.ResponseBodyError {
  const e = Object.create(oidc.ResponseBodyError.prototype) as oidc.ResponseBodyError;
  Object.assign(e, { status, error, name: "ResponseBodyError", message: error });
  return e;
}

describe("refresh job", () => {
  it("refreshes only tokens expiring within 2 h, with a refresher, and keeps the rotated refresh token", async () => {
    connect("ores_soon", "ores", { accessToken: "A1", refreshToken: "R1", expiresAt: t + REFRESH_WINDOW_MS - 1 });
    connect("ores_later", "ores", { accessToken: "B1", refreshToken: "S1", expiresAt: t + REFRESH_WINDOW_MS + 60_000 });
    connect("tado_soon", "tado", { accessToken: "C1", refreshToken: "T1", expiresAt: t + 60_000 });
    const calls: string[] = [];
    const report = await job({
      ores: async (account, current) => {
        calls.push(`${account.id}:${current.refreshToken}`);
        return { accessToken: "A2", refreshToken: "R2", expiresAt: t + HOUR * 10 };
      },
    }).runOnce();
    expect(calls).toEqual(["ores_soon:R1"]);
    expect(report.refreshed).toEqual(["ores_soon"]);
    expect(vault.get("ores_soon")).toMatchObject({ accessToken: "A2", refreshToken: "R2" });
    expect(vault.get("tado_soon")!.accessToken).toBe("C1");
  });

  it.each([
    ["400 invalid_grant", bodyError(400, "invalid_grant"), "revoked"],
    ["Cozy's non-RFC 'invalid refresh token'", bodyError(400, "invalid refresh token"), "revoked"],
    ["401", bodyError(401, "invalid_token"), "revoked"],
    ["403 (plain status)", Object.assign(new Error("forbidden"), { status: 403 }), "revoked"],
    ["network", new TypeError("fetch failed"), "retry"],
    ["503", bodyError(503, "temporarily_unavailable"), "retry"],
    ["vault", new VaultError("cannot decrypt"), "error"],
  ] as const)("%s → %s", async (_w, err, kind) => {
    expect(classifyRefreshError(err)).toBe(kind);
    connect("ores_x", "ores", { accessToken: "A", refreshToken: "R", expiresAt: t + 1000 });
    const report = await job({ ores: async () => Promise.reject(err) }).runOnce();
    const account = getAccount(db, "ores_x")!;
    if (kind === "retry") {
      expect(report.retry).toEqual(["ores_x"]);
      expect(account.status).toBe("connected");
      expect(events.filter((e) => e.name === "account_status")).toEqual([]);
    } else {
      expect(account.status).toBe(kind === "revoked" ? "revoked" : "error");
      expect(account.detail).toMatch(/Connect the account again/);
      expect(events.filter((e) => e.name === "account_status")).toEqual([
        { name: "account_status", payload: { accountId: "ores_x", provider: "ores", status: account.status, detail: account.detail } },
      ]);
    }
    // Nothing written on failure.
    expect(vault.get("ores_x")).toMatchObject({ accessToken: "A", refreshToken: "R" });
  });

  it("a network failure is retried by the next pass and the account stays connected", async () => {
    connect("ores_n", "ores", { accessToken: "A", refreshToken: "R", expiresAt: t + 1000 });
    let fail = true;
    const j = job({ ores: async () => (fail ? Promise.reject(new TypeError("fetch failed")) : { accessToken: "A2", expiresAt: t + 10 * HOUR }) });
    expect((await j.runOnce()).retry).toEqual(["ores_n"]);
    fail = false;
    expect((await j.runOnce()).refreshed).toEqual(["ores_n"]);
    // No refresh token returned: the old one is kept (Cozy).
    expect(vault.get("ores_n")).toMatchObject({ accessToken: "A2", refreshToken: "R" });
  });

  it("concurrent passes share one refresher call", async () => {
    connect("ores_c", "ores", { accessToken: "A", refreshToken: "R", expiresAt: t + 1000 });
    let n = 0;
    const j = job({ ores: async () => (n++, await new Promise((r) => setTimeout(r, 20)), { accessToken: "A2", refreshToken: "R2", expiresAt: t + 10 * HOUR }) });
    await Promise.all([j.runOnce(), j.runOnce(), vault.refresh("ores_c", async () => ({ accessToken: "never" }))]);
    expect(n).toBe(1);
  });

  it("warns once within 7 days of a consent's end (status expiring), revokes past it", async () => {
    connect("enedis_data_connect_1", "enedis_data_connect", undefined, { prms: ["1"], consentExpiresAt: t + EXPIRY_WARNING_MS + HOUR });
    const j = job({});
    expect((await j.runOnce()).warned).toEqual([]);
    t += 2 * HOUR;
    expect((await j.runOnce()).warned).toEqual(["enedis_data_connect_1"]);
    expect((await j.runOnce()).warned).toEqual([]);
    const expiring = getAccount(db, "enedis_data_connect_1")!;
    expect(expiring.status).toBe("expiring");
    expect(expiring.detail).toMatch(/ends on \d{4}-\d{2}-\d{2}/);
    expect(events.filter((e) => e.name === "token_expiring")).toEqual([
      { name: "token_expiring", payload: { accountId: "enedis_data_connect_1", expiresAt: t - 2 * HOUR + EXPIRY_WARNING_MS + HOUR } },
    ]);
    t += 8 * DAY;
    await j.runOnce();
    expect(getAccount(db, "enedis_data_connect_1")!.status).toBe("revoked");
  });

  it("a pasted gateway token's own expiry counts; a refresh token without expiry never warns", async () => {
    connect("conso_api_1", "conso_api", { accessToken: "JWT", expiresAt: t + 3 * DAY });
    connect("ores_r", "ores", { accessToken: "A", refreshToken: "R", expiresAt: t + 10 * HOUR });
    const report = await job({}).runOnce();
    expect(report.warned).toEqual(["conso_api_1"]);
    expect(getAccount(db, "ores_r")!.status).toBe("connected");
  });
});
