/**
 * Cozy / Ecolyo provider (Mango `_find`, index, bookmark pagination, doc parsing) and the Cozy
 * flow's quirks (no discovery, no expires_in, no refresh token on refresh, non-RFC errors), with
 * msw. Expected values are computed from the docs given, not from the code.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { DateTime } from "luxon";
import * as oidc from "openid-client";
import { CozyClient } from "../../../src/providers/cozy-client.js";
import { CozyProvider } from "../../../src/providers/cozy.js";
import { parseEcolyoDocs } from "../../../src/providers/cozy-docs.js";
import { refreshCozyTokens, createCozyFlow, normaliseInstance, COZY_ACCESS_TOKEN_LIFETIME_MS } from "../../../src/auth/flows/cozy.js";
import { createOAuthStateStore } from "../../../src/auth/oauth-state.js";
import { FlowError } from "../../../src/auth/flow.js";
import type { StoredTokens } from "../../../src/auth/token-vault.js";
import type { Meter } from "../../../src/domain/types.js";
import { randomBytes } from "node:crypto";
import { openStore } from "../../../src/store/db.js";
import { TokenVault } from "../../../src/auth/token-vault.js";
import { CountingGate, fastRetry, providerError } from "./fixtures/helpers.js";

const COZY = "https://alice.cozy.test";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const meter: Meter = { id: "ecolyo_x_water", provider: "cozy", kind: "water", unit: "L", timezone: "Europe/Paris", name: "w" };
const doc = (y: number, m: number, d: number, load: unknown, extra: Record<string, unknown> = {}) => ({ _id: `${y}${m}${d}`, _rev: "1-x", load, year: y, month: m, day: d, hour: 0, minute: 0, ...extra });

function client(token = { get: async () => "tok" } as ConstructorParameters<typeof CozyClient>[0]["token"]) {
  return new CozyClient({ instance: COZY, token, retry: fastRetry(1) });
}

/** A Mango endpoint over `docs` for one doctype: paginates by `limit`, records the bodies. */
function mango(doctype: string, docs: unknown[], opts: { status?: number } = {}) {
  const seen: { index: unknown[]; find: Record<string, unknown>[]; auth: string[] } = { index: [], find: [], auth: [] };
  server.use(
    http.post(`${COZY}/data/${doctype}/_index`, async ({ request }) => {
      seen.index.push(await request.json());
      return HttpResponse.json({ result: "created", id: "_design/abc", name: "abc" });
    }),
    http.post(`${COZY}/data/${doctype}/_find`, async ({ request }) => {
      seen.auth.push(request.headers.get("authorization") ?? "");
      if (opts.status) return HttpResponse.json({ status: opts.status, error: "x", reason: "refused" }, { status: opts.status });
      const b = (await request.json()) as { selector: { year: number | { $gte: number }; month?: { $gte: number; $lte: number } }; limit: number; bookmark?: string };
      seen.find.push(b);
      const sel = b.selector;
      const match = (x: { year: number; month: number }) =>
        typeof sel.year === "number" ? x.year === sel.year && (!sel.month || (x.month >= sel.month.$gte && x.month <= sel.month.$lte)) : x.year >= sel.year.$gte;
      const all = (docs as { year: number; month: number }[]).filter(match);
      const from = b.bookmark ? Number(b.bookmark) : 0;
      const page = all.slice(from, from + b.limit);
      return HttpResponse.json({ docs: page, limit: b.limit, next: from + b.limit < all.length, bookmark: String(from + page.length) });
    }),
  );
  return seen;
}

describe("Cozy provider", () => {
  it("creates the index, paginates with bookmark at limit ≤ 1000, and returns every day of the range in litres", async () => {
    const days: ReturnType<typeof doc>[] = [];
    for (let t = DateTime.fromISO("2024-01-01", { zone: "Europe/Paris" }); t.year < 2026; t = t.plus({ days: 1 })) days.push(doc(t.year, t.month, t.day, 100 + t.day));
    const seen = mango("com.grandlyon.egl.day", days);
    const gate = new CountingGate();
    const p = new CozyProvider({ client: client(), kind: "water" });
    const r = await p.fetch(meter, { resolution: "daily", start: "2024-03-01", end: "2025-03-01" }, gate);
    expect(seen.index).toEqual([{ index: { fields: ["year", "month", "day"] } }]);
    expect(seen.find.every((f) => (f.limit as number) <= 1000 && f.use_index === "_design/abc")).toBe(true);
    // 2024 months 3–12 (306 docs) fit in one page; 2025 months 1–3 (90 docs) in one: no bookmark needed
    expect(seen.find.length).toBe(2);
    expect(r.readings.length).toBe(365); // 2024-03-01 … 2025-02-28
    expect(r.rejected).toEqual([]);
    expect(r.endOfHistory).toBe(false);
    const first = r.readings[0]!;
    expect(first.start).toBe(DateTime.fromISO("2024-03-01", { zone: "Europe/Paris" }).toMillis());
    expect(first.value).toBe(101); // L, as given
    // The spring DST day lasts 23 h.
    const dst = r.readings.find((x) => x.start === DateTime.fromISO("2024-03-31", { zone: "Europe/Paris" }).toMillis())!;
    expect(dst.durationMs).toBe(23 * 3_600_000);
    expect(gate.count).toBe(3); // one index + two finds
  });

  it("follows the bookmark over several pages", async () => {
    const days = Array.from({ length: 365 }, (_, i) => {
      const t = DateTime.fromISO("2023-01-01", { zone: "UTC" }).plus({ days: i });
      return doc(t.year, t.month, t.day, 1);
    });
    const c = client();
    mango("com.grandlyon.grdf.day", days);
    const { docs, pages } = await c.find("com.grandlyon.grdf.day", { selector: { year: 2023, month: { $gte: 1, $lte: 12 } }, sort: [{ year: "asc" }], useIndex: "_design/abc", limit: 100 }, new CountingGate());
    expect(docs.length).toBe(365);
    expect(pages).toBe(4);
  });

  it("rejects negative and malformed docs (never stored) and keeps the others", () => {
    const r = parseEcolyoDocs([doc(2024, 5, 1, 3.5), doc(2024, 5, 2, -1), doc(2024, 5, 3, "x"), doc(2024, 2, 30, 1), { nope: true }], {
      resolution: "daily",
      factor: 1000,
      fromDay: "2024-01-01",
      toDay: "2025-01-01",
    });
    expect(r.readings.map((x) => x.value)).toEqual([3500]);
    expect(r.rejected.map((x) => x.reason)).toEqual([
      expect.stringContaining("negative load"),
      expect.stringContaining("load must be a number"),
      expect.stringContaining("no such date"),
      expect.stringContaining("load"),
    ]);
  });

  it("half-hour docs stamped at their end; the repeated autumn hour maps to two instants, the missing spring one is rejected", () => {
    const zone = "Europe/Paris";
    const m = (y: number, mo: number, d: number, h: number, mi: number, load: number) => ({ ...doc(y, mo, d, load), hour: h, minute: mi });
    const r = parseEcolyoDocs([m(2024, 10, 27, 2, 30, 1), m(2024, 10, 27, 2, 30, 2), m(2024, 3, 31, 2, 30, 3), m(2024, 5, 2, 0, 0, 4)], {
      resolution: "load_curve",
      factor: 1000,
      fromDay: "2024-01-01",
      toDay: "2025-01-01",
    });
    const firstEnd = DateTime.fromISO("2024-10-27T02:30:00+02:00").toMillis();
    expect(r.readings.map((x) => [x.start, x.value])).toEqual([
      [DateTime.fromISO("2024-05-01T23:30", { zone }).toMillis(), 4000], // 00:00 end = 23:30 the day before
      [firstEnd - 1_800_000, 1000],
      [firstEnd + 3_600_000 - 1_800_000, 2000],
    ]);
    expect(r.rejected.map((x) => x.reason)).toEqual([expect.stringContaining("does not exist")]);
  });

  it("an empty range before the oldest doc is the end of history; after it, a gap", async () => {
    mango("com.grandlyon.egl.day", [doc(2024, 6, 1, 5), doc(2024, 9, 1, 5)]);
    const p = new CozyProvider({ client: client(), kind: "water" });
    const before = await p.fetch(meter, { resolution: "daily", start: "2023-01-01", end: "2024-01-01" }, new CountingGate());
    expect(before.endOfHistory).toBe(true);
    const gap = await p.fetch(meter, { resolution: "daily", start: "2024-07-01", end: "2024-08-01" }, new CountingGate());
    expect(gap).toEqual({ readings: [], rejected: [], endOfHistory: false });
  });

  it("401 renews the token once and retries; a second 401 is a clear auth error", async () => {
    let renewals = 0;
    const seen = mango("com.grandlyon.egl.day", [doc(2024, 6, 1, 5)], { status: 401 });
    const c = client({ get: async () => "old", renew: async () => (renewals++, "new") });
    const err = await providerError(new CozyProvider({ client: c, kind: "water" }).fetch(meter, { resolution: "daily", start: "2024-06-01", end: "2024-06-02" }, new CountingGate()));
    expect(err.code).toBe("auth");
    expect(err.message).toMatch(/reconnect the Ecolyo account/);
    expect(renewals).toBe(1);
    expect(seen.auth).toEqual(["Bearer old", "Bearer new"]);
  });

  it("malformed JSON is invalid_response; a missing doctype (404) is simply no data", async () => {
    server.use(
      http.post(`${COZY}/data/com.grandlyon.egl.day/_index`, () => HttpResponse.json({ result: "exists", id: "_design/i" })),
      http.post(`${COZY}/data/com.grandlyon.egl.day/_find`, () => new HttpResponse('{"docs": [', { status: 200 })),
      http.post(`${COZY}/data/com.grandlyon.grdf.day/_index`, () => HttpResponse.json({ status: 404, error: "not_found", reason: "Database does not exist." }, { status: 404 })),
    );
    const err = await providerError(new CozyProvider({ client: client(), kind: "water" }).fetch(meter, { resolution: "daily", start: "2024-06-01", end: "2024-06-02" }, new CountingGate()));
    expect(err.code).toBe("invalid_response");
    expect(err.message).toMatch(/malformed JSON/);
    const gas = await new CozyProvider({ client: client(), kind: "gas" }).fetch({ ...meter, kind: "gas" }, { resolution: "daily", start: "2024-06-01", end: "2024-06-02" }, new CountingGate());
    expect(gas).toEqual({ readings: [], rejected: [], endOfHistory: true });
  });
});

describe("Cozy flow quirks", () => {
  const current = (extra: Record<string, unknown> = {}): StoredTokens => ({
    accountId: "cozy_alice.cozy.test",
    provider: "cozy",
    updatedAt: 0,
    accessToken: "a1",
    refreshToken: "r1",
    extra: { clientId: "cid", clientSecret: "csecret", registrationAccessToken: "reg", ...extra },
  });
  const account = { config: { instance: COZY } };

  it("refresh: client_secret_post, no discovery, no expires_in (expiry from the JWT iat), no refresh token returned", async () => {
    const iat = Math.floor(Date.parse("2026-11-01T10:00:00Z") / 1000);
    const jwt = `${Buffer.from('{"alg":"HS256"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iat, sub: "cid" })).toString("base64url")}.sig`;
    let form: URLSearchParams | undefined;
    let discovery = 0;
    server.use(
      http.get(`${COZY}/.well-known/*`, () => (discovery++, new HttpResponse(null, { status: 404 }))),
      http.post(`${COZY}/auth/access_token`, async ({ request }) => {
        form = new URLSearchParams(await request.text());
        return HttpResponse.json({ access_token: jwt, token_type: "bearer", scope: "com.grandlyon.egl.*:GET" });
      }),
    );
    const t = await refreshCozyTokens(account, current(), { now: () => Date.parse("2026-11-01T10:05:00Z") });
    expect(form?.get("grant_type")).toBe("refresh_token");
    expect(form?.get("client_id")).toBe("cid");
    expect(form?.get("client_secret")).toBe("csecret");
    expect(form?.get("refresh_token")).toBe("r1");
    expect(discovery).toBe(0);
    expect(t.accessToken).toBe(jwt);
    expect(t.refreshToken).toBeUndefined(); // the vault keeps the old one
    expect(t.expiresAt).toBe(iat * 1000 + COZY_ACCESS_TOKEN_LIFETIME_MS);
  });

  it("refresh: Cozy's non-RFC error string arrives as ResponseBodyError.error", async () => {
    server.use(http.post(`${COZY}/auth/access_token`, () => HttpResponse.json({ error: "invalid refresh token" }, { status: 400 })));
    const err = await refreshCozyTokens(account, current(), { now: () => 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(oidc.ResponseBodyError);
    expect((err as oidc.ResponseBodyError).error).toBe("invalid refresh token");
  });

  it("begin: a registration refused with a non-RFC error is a plain FlowError, and nothing is pending", async () => {
    server.use(http.post(`${COZY}/auth/register`, () => HttpResponse.json({ error: "the client_name parameter is mandatory" }, { status: 400 })));
    const states = createOAuthStateStore();
    const flow = createCozyFlow({ states, log: { info() {}, warn() {} } as never, now: () => 0 } as never);
    const err = await flow.begin({ instance: "alice.cozy.test" }, { sessionId: "s", callbackUrl: "https://addon/cb" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).message).toContain("the client_name parameter is mandatory");
    expect(states.size()).toBe(0);
  });

  it("disconnect: DELETE /auth/register/:client_id with the registration token, tokens forgotten even when the Cozy is down", async () => {
    const db = openStore(":memory:");
    const vault = new TokenVault(db, randomBytes(32));
    const flow = createCozyFlow({ db, vault, states: createOAuthStateStore(), log: { info() {}, warn() {} } as never, now: () => 0 } as never);
    const account = { id: "cozy_alice.cozy.test", provider: "cozy" as const, label: "alice.cozy.test", status: "connected" as const, detail: null, config: { instance: COZY }, createdAt: 0, updatedAt: 0 };
    vault.put(account.id, "cozy", { accessToken: "a", refreshToken: "r", extra: { clientId: "cid", clientSecret: "cs", registrationAccessToken: "reg-token" } });
    let seen = "";
    server.use(http.delete(`${COZY}/auth/register/cid`, ({ request }) => ((seen = request.headers.get("authorization") ?? ""), new HttpResponse(null, { status: 204 }))));
    await flow.disconnect(account);
    expect(seen).toBe("Bearer reg-token");
    expect(vault.get(account.id)).toBeUndefined();
    vault.put(account.id, "cozy", { accessToken: "a", extra: { clientId: "cid", clientSecret: "cs", registrationAccessToken: "reg-token" } });
    server.use(http.delete(`${COZY}/auth/register/cid`, () => HttpResponse.error()));
    await flow.disconnect(account);
    expect(vault.get(account.id)).toBeUndefined();
  });

  it("instance addresses: https by default, http only on loopback", () => {
    expect(normaliseInstance("alice.mycozy.cloud/")).toBe("https://alice.mycozy.cloud");
    expect(normaliseInstance("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080");
    expect(() => normaliseInstance("http://alice.mycozy.cloud")).toThrow(FlowError);
    expect(() => normaliseInstance("")).toThrow(/address of your Cozy/);
  });
});
