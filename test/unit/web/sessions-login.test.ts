/**
 * Sessions and the standalone login: cookie flags, a stable sessionId per cookie, login required,
 * constant-time secret check, lockout after 5 failed logins from one address (and not before),
 * per-session rate limit (429 + Retry-After). Add-on mode gets a session cookie too.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { secretMatches } from "../../../src/web/login.js";
import { WEB_DEFAULTS } from "../../../src/web/server.js";
import { cookiePair, server, setCookie } from "./web-test-kit.js";

const SECRET = "correct horse battery staple";
const INGRESS = "172.30.32.2";

describe("web sessions and login", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("add-on mode: HttpOnly SameSite=Strict session cookie under the ingress path; sessionId stable per cookie", async () => {
    ({ app } = await server({ mode: "addon" }));
    const headers = { "x-ingress-path": "/api/hassio_ingress/abc123" };
    const first = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS, headers });
    const line = setCookie(first.headers, "eb_session");
    expect(line).toBeDefined();
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Strict/);
    expect(line).toMatch(/; Path=\/api\/hassio_ingress\/abc123\//);
    expect(line).not.toMatch(/; Secure/);
    const id = first.json().sessionId as string;
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(cookiePair(line)).toBe(`eb_session=${id}`);
    for (let i = 0; i < 3; i++) {
      const again = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS, headers: { ...headers, cookie: cookiePair(line) } });
      expect(again.json().sessionId).toBe(id);
    }
    const other = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS });
    expect(other.json().sessionId).not.toBe(id);
    expect(setCookie(other.headers, "eb_session")).toMatch(/; Path=\/;/);
    // A forged or unknown cookie gets a fresh session, never the value it brought.
    const forged = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS, headers: { cookie: `eb_session=${"A".repeat(43)}` } });
    expect(forged.json().sessionId).not.toBe("A".repeat(43));
    // Behind HTTPS (X-Forwarded-Proto from Home Assistant's ingress) the cookie is Secure.
    const https = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS, headers: { "x-forwarded-proto": "https" } });
    expect(setCookie(https.headers, "eb_session")).toMatch(/; Secure/);
  });

  it("a path prefix that is not a plain path is not reflected into the cookie", async () => {
    ({ app } = await server({ mode: "addon" }));
    const r = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS, headers: { "x-ingress-path": "/x;Domain=evil.example" } });
    expect(setCookie(r.headers, "eb_session")).toMatch(/; Path=\/;/);
    expect(setCookie(r.headers, "eb_session")).not.toMatch(/evil/);
  });

  it("sessions expire after the idle lifetime", async () => {
    let now = 1_000_000;
    ({ app } = await server({ mode: "addon", now: () => now, sessionTtlMs: 60_000 }));
    const first = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS });
    const cookie = cookiePair(setCookie(first.headers, "eb_session"));
    now += 59_000;
    expect((await app.inject({ url: "/api/whoami", remoteAddress: INGRESS, headers: { cookie } })).json().sessionId).toBe(first.json().sessionId);
    now += 61_000;
    expect((await app.inject({ url: "/api/whoami", remoteAddress: INGRESS, headers: { cookie } })).json().sessionId).not.toBe(first.json().sessionId);
  });

  it("standalone refuses to build without a secret", async () => {
    await expect(server({ mode: "standalone" })).rejects.toThrow(/web_secret/);
  });

  it("standalone: pages redirect to the login, the API answers 401, until the right secret is given", async () => {
    ({ app } = await server({ mode: "standalone", secret: SECRET }));
    const page = await app.inject({ url: "/accounts", headers: { accept: "text/html" } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe("./login");
    const deep = await app.inject({ url: "/callback/x?code=1", headers: { accept: "text/html" } });
    expect(deep.headers.location).toBe("../login");
    const cookie = cookiePair(setCookie(page.headers, "eb_session"));
    const api = await app.inject({ url: "/api/whoami", headers: { cookie } });
    expect(api.statusCode).toBe(401);
    expect(api.json().error).toBe("login_required");
    expect((await app.inject({ url: "/login", headers: { cookie } })).statusCode).toBe(200);
    expect((await app.inject({ url: "/static/app.css", headers: { cookie } })).statusCode).toBe(200);

    const wrong = await app.inject({ method: "POST", url: "/login", headers: { cookie }, payload: { secret: "nope" } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toMatch(/Wrong secret\. 4 attempt/);

    const ok = await app.inject({
      method: "POST",
      url: "/login",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ secret: SECRET }).toString(),
    });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("./");
    const authed = cookiePair(setCookie(ok.headers, "eb_session"));
    expect(authed).not.toBe(cookie); // a new session id at login (no fixation)
    expect((await app.inject({ url: "/api/whoami", headers: { cookie } })).statusCode).toBe(401);
    const me = await app.inject({ url: "/api/whoami", headers: { cookie: authed } });
    expect(me.statusCode).toBe(200);
    expect(`eb_session=${me.json().sessionId}`).toBe(authed);
    expect((await app.inject({ url: "/accounts", headers: { cookie: authed, accept: "text/html" } })).statusCode).toBe(200);

    const out = await app.inject({ method: "POST", url: "/logout", headers: { cookie: authed } });
    expect(out.statusCode).toBe(303);
    expect((await app.inject({ url: "/api/whoami", headers: { cookie: authed } })).statusCode).toBe(401);
  });

  it("compares the secret exactly", () => {
    expect(secretMatches(SECRET, SECRET)).toBe(true);
    expect(secretMatches(`${SECRET} `, SECRET)).toBe(false);
    expect(secretMatches("", SECRET)).toBe(false);
    expect(secretMatches(SECRET.slice(0, -1), SECRET)).toBe(false);
  });

  it("locks an address after 5 failed logins for 15 minutes, not before, and not other addresses", async () => {
    let now = Date.UTC(2026, 11, 1, 12);
    ({ app } = await server({ mode: "standalone", secret: SECRET, now: () => now, rateLimit: { max: 1000, windowMs: 1000 } }));
    const login = (secret: string, remoteAddress: string) =>
      app!.inject({ method: "POST", url: "/login", remoteAddress, payload: { secret } });
    // 4 failures, then the right secret still works (not locked before the 5th).
    for (let i = 0; i < 4; i++) expect((await login("bad", "192.0.2.1")).statusCode).toBe(401);
    expect((await login(SECRET, "192.0.2.1")).statusCode).toBe(303);
    // The success cleared the count: 4 more failures are again not a lock.
    for (let i = 0; i < 4; i++) expect((await login("bad", "192.0.2.1")).statusCode).toBe(401);
    // The 5th failure locks.
    const fifth = await login("bad", "192.0.2.1");
    expect(fifth.statusCode).toBe(429);
    expect(fifth.headers["retry-after"]).toBe(String(15 * 60));
    expect(fifth.body).toMatch(/Try again in 15 minute\(s\)/);
    // Locked: even the right secret is refused, with the time left.
    now += 6 * 60_000 + 1;
    const locked = await login(SECRET, "192.0.2.1");
    expect(locked.statusCode).toBe(429);
    expect(locked.body).toMatch(/Try again in 9 minute\(s\)/);
    expect(Number(locked.headers["retry-after"])).toBe(Math.ceil((15 * 60_000 - 6 * 60_000 - 1) / 1000));
    // IPv4-mapped form of the same address is the same address.
    expect((await login(SECRET, "::ffff:192.0.2.1")).statusCode).toBe(429);
    // Another address is not locked.
    expect((await login(SECRET, "192.0.2.2")).statusCode).toBe(303);
    // French message.
    const fr = await app.inject({ method: "POST", url: "/login", remoteAddress: "192.0.2.1", headers: { "accept-language": "fr-FR,fr;q=0.9" }, payload: { secret: SECRET } });
    expect(fr.body).toMatch(/Réessayez dans 9 minute\(s\)/);
    // After 15 minutes the lock is gone.
    now += 9 * 60_000;
    expect((await login(SECRET, "192.0.2.1")).statusCode).toBe(303);
  });

  it("rate-limits a session to 5 requests per second averaged over 5 s (25) with 429 and Retry-After", async () => {
    ({ app } = await server({ mode: "addon" }));
    const first = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS });
    const cookie = cookiePair(setCookie(first.headers, "eb_session"));
    const codes: number[] = [];
    let limited: Awaited<ReturnType<FastifyInstance["inject"]>> | undefined;
    const { max, windowMs } = WEB_DEFAULTS.rateLimit;
    expect(max / (windowMs / 1000)).toBe(5);
    for (let i = 0; i <= max; i++) {
      const r = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS, headers: { cookie } });
      codes.push(r.statusCode);
      if (r.statusCode === 429) limited = r;
    }
    expect(codes.slice(0, max)).toEqual(Array(max).fill(200));
    expect(codes[max]).toBe(429);
    expect(Number(limited!.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(limited!.json()).toMatchObject({ error: "rate_limited" });
    expect(limited!.json().message).toMatch(/Too many requests\. Try again in [1-5] second/);
    // Static assets are not counted, and another session is not affected.
    expect((await app.inject({ url: "/static/app.css", remoteAddress: INGRESS, headers: { cookie } })).statusCode).toBe(200);
    const other = await app.inject({ url: "/api/whoami", remoteAddress: INGRESS });
    expect(other.statusCode).toBe(200);
    // After the window the session is served again.
    await new Promise((r) => setTimeout(r, WEB_DEFAULTS.rateLimit.windowMs + 100));
    expect((await app.inject({ url: "/api/whoami", remoteAddress: INGRESS, headers: { cookie } })).statusCode).toBe(200);
  });
});
