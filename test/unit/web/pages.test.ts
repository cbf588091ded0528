/**
 * The page shell: relative URLs only (checked by resolving every link as a browser would, under an
 * ingress prefix and without), language from Accept-Language / the switch, flow results handed to
 * the page script, static assets, the same-site bounce of cross-site callbacks, and no secret,
 * code or cookie in any log line.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { ASSETS } from "../../../src/web/static/assets.js";
import { fakeAccountsApi } from "../../helpers/fake-accounts-api.js";
import { cookiePair, server, setCookie } from "./web-test-kit.js";

const INGRESS = "172.30.32.2";
const ORIGIN = "http://homeassistant.local:8123";

/** Every URL-valued attribute of the document. */
function urls(html: string): { attr: string; value: string }[] {
  return [...html.matchAll(/\s(href|src|action)="([^"]*)"/g)].map((m) => ({ attr: m[1]!, value: m[2]!.replace(/&amp;/g, "&") }));
}

function baseOf(html: string): string {
  const m = /<base href="([^"]*)">/.exec(html);
  if (!m) throw new Error("no <base>");
  return m[1]!;
}

describe("page shell", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const prefix = "/api/hassio_ingress/Zx9_k-Q3";
  it.each([
    ["/accounts", true],
    ["/", true],
    ["/accounts?connected=cozy_a", true],
    ["/callback/missing/deeper", true],
    ["/accounts", false],
    ["/", false],
    ["/no/such/page", false],
  ])("every link of %s resolves under the app's root (X-Ingress-Path sent: %s)", async (path, withHeader) => {
    ({ app } = await server({ mode: "addon", pages: [{ path: "dashboard", label: { en: "Dashboard", fr: "Tableau de bord" } }] }));
    const r = await app.inject({
      url: path,
      remoteAddress: INGRESS,
      headers: { accept: "text/html", ...(withHeader ? { "x-ingress-path": prefix } : {}) },
    });
    expect(r.headers["content-type"]).toMatch(/text\/html/);
    const html = r.body;
    const base = baseOf(html);
    if (withHeader) expect(base).toBe(`${prefix}/`);
    else expect(base.startsWith("/")).toBe(false);
    // The browser's address: the ingress prefix + the path the app saw.
    const browserUrl = new URL(`${prefix}${path}`, ORIGIN);
    const root = new URL(base, browserUrl);
    expect(root.href).toBe(`${ORIGIN}${prefix}/`);
    const found = urls(html);
    expect(found.length).toBeGreaterThan(4);
    for (const { attr, value } of found) {
      if (value === base || value.startsWith("data:")) continue;
      expect(value, `${attr}="${value}"`).not.toMatch(/^(\/|[a-z]+:)/i);
      expect(new URL(value, root).href.startsWith(`${ORIGIN}${prefix}/`), `${attr}="${value}"`).toBe(true);
    }
    const nav = urls(/<nav[^>]*>(.*?)<\/nav>/s.exec(html)![1]!).map((u) => u.value);
    expect(nav).toEqual(["accounts", "dashboard"]);
  });

  it("never reflects an unsafe X-Ingress-Path", async () => {
    ({ app } = await server({ mode: "addon" }));
    const r = await app.inject({ url: "/accounts", remoteAddress: INGRESS, headers: { accept: "text/html", "x-ingress-path": '/x"><script>alert(1)</script>' } });
    expect(r.body).not.toMatch(/alert/);
    expect(baseOf(r.body)).toBe("./");
  });

  it("speaks French to a French browser, English otherwise, and remembers the switch", async () => {
    ({ app } = await server({ mode: "addon" }));
    const fr = await app.inject({ url: "/accounts", remoteAddress: INGRESS, headers: { "accept-language": "fr-BE,fr;q=0.9,en;q=0.5" } });
    expect(fr.body).toMatch(/<html lang="fr">/);
    expect(fr.body).toMatch(/<h1>Comptes<\/h1>/);
    const en = await app.inject({ url: "/accounts", remoteAddress: INGRESS, headers: { "accept-language": "de-DE,en;q=0.1,fr;q=0.05" } });
    expect(en.body).toMatch(/<h1>Accounts<\/h1>/);
    const none = await app.inject({ url: "/accounts", remoteAddress: INGRESS });
    expect(none.body).toMatch(/<html lang="en">/);
    const switched = await app.inject({ url: "/accounts?lang=fr", remoteAddress: INGRESS, headers: { "accept-language": "en" } });
    expect(switched.body).toMatch(/<h1>Comptes<\/h1>/);
    const lang = cookiePair(setCookie(switched.headers, "eb_lang"));
    const later = await app.inject({ url: "/accounts", remoteAddress: INGRESS, headers: { "accept-language": "en", cookie: lang } });
    expect(later.body).toMatch(/<h1>Comptes<\/h1>/);
    // The switch link leads to the other language, relative.
    expect(later.body).toMatch(/<a class="lang" href="accounts\?lang=en"/);
  });

  it("hands the flow result to the page script as data, escaped", async () => {
    ({ app } = await server({ mode: "addon" }));
    const r = await app.inject({ url: `/accounts?error=access_denied&message=${encodeURIComponent('</script><b>x</b>')}`, remoteAddress: INGRESS });
    const json = /<script type="application\/json" id="eb-data">(.*?)<\/script>/s.exec(r.body)?.[1];
    expect(json).toBeDefined();
    expect(json).not.toMatch(/<\/script>/);
    const data = JSON.parse(json!) as { flash: unknown; strings: Record<string, string> };
    expect(data.flash).toEqual({ kind: "error", code: "access_denied", message: "</script><b>x</b>" });
    expect(data.strings.err_access_denied).toMatch(/refused access/);
    const ok = await app.inject({ url: "/accounts?connected=cozy_alice", remoteAddress: INGRESS });
    expect(JSON.parse(/id="eb-data">(.*?)<\/script>/s.exec(ok.body)![1]!).flash).toEqual({ kind: "connected", id: "cozy_alice" });
  });

  it("serves the assets; the script is valid JavaScript with relative API paths only", async () => {
    ({ app } = await server({ mode: "addon" }));
    const css = await app.inject({ url: "/static/app.css", remoteAddress: INGRESS });
    expect(css.headers["content-type"]).toMatch(/text\/css/);
    expect(css.body).toMatch(/prefers-color-scheme: dark/);
    const js = await app.inject({ url: "/static/accounts.js", remoteAddress: INGRESS });
    expect(js.headers["content-type"]).toMatch(/javascript/);
    expect(() => new Function(js.body)).not.toThrow();
    expect(js.body).not.toMatch(/["'`]\/(api|callback|static)/);
    expect(js.body).toMatch(/document\.baseURI/);
    expect(js.body).toBe(ASSETS["accounts.js"]!.body);
    expect((await app.inject({ url: "/static/nope.js", remoteAddress: INGRESS })).statusCode).toBe(404);
    expect((await app.inject({ url: "/static/__proto__", remoteAddress: INGRESS })).statusCode).toBe(404);
  });

  it("sends security headers: strict CSP, no Referer, no caching of pages", async () => {
    ({ app } = await server({ mode: "addon" }));
    const r = await app.inject({ url: "/accounts", remoteAddress: INGRESS });
    expect(r.headers["content-security-policy"]).toMatch(/script-src 'self'/);
    expect(r.headers["content-security-policy"]).toMatch(/frame-ancestors 'self'/);
    expect(r.headers["referrer-policy"]).toBe("no-referrer");
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("a cross-site return from a provider without the Strict cookie is reloaded same-site, keeping the query", async () => {
    const fake = fakeAccountsApi();
    ({ app } = await server({ mode: "addon", plugins: [{ module: "accounts", plugin: fake.plugin }] }));
    const nav = { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", accept: "text/html" };
    const bounced = await app.inject({ url: "/callback/fake_oauth?code=abc&state=s1", remoteAddress: INGRESS, headers: nav });
    expect(bounced.statusCode).toBe(200);
    expect(bounced.body).toMatch(/http-equiv="refresh" content="0;url=\.\/fake_oauth\?code=abc&amp;state=s1"/);
    expect(bounced.headers["set-cookie"]).toBeUndefined();
    expect(fake.seen.filter((s) => s.route === "/callback/:provider")).toHaveLength(0);
    // With the cookie (the same-site reload), the callback route runs.
    const first = await app.inject({ url: "/accounts", remoteAddress: INGRESS });
    const cookie = cookiePair(setCookie(first.headers, "eb_session"));
    const passed = await app.inject({ url: "/callback/fake_oauth?code=abc&state=s1", remoteAddress: INGRESS, headers: { ...nav, cookie } });
    expect(passed.statusCode).toBe(302);
    expect(passed.headers.location).toMatch(/^\.\.\/accounts\?error=state_mismatch/);
  });

  it("logs no secret, authorization code, state or cookie", async () => {
    const SECRET = "s3cr3t-value-for-the-log-test";
    const boom: FastifyPluginAsync = async (a) => {
      a.get("/api/boom", async () => {
        throw new Error("provider exploded");
      });
    };
    const fake = fakeAccountsApi();
    const built = await server({
      mode: "standalone",
      secret: SECRET,
      plugins: [{ module: "accounts", plugin: fake.plugin }, { module: "boom", plugin: boom }],
      rateLimit: { max: 1000, windowMs: 1000 },
    });
    app = built.app;
    await app.inject({ method: "POST", url: "/login", payload: { secret: `${SECRET}-wrong` } });
    const ok = await app.inject({ method: "POST", url: "/login", payload: { secret: SECRET } });
    const cookie = cookiePair(setCookie(ok.headers, "eb_session"));
    const sessionId = cookie.split("=")[1]!;
    await app.inject({ url: "/callback/fake_oauth?code=AUTHCODE-4711&state=STATE-0815", headers: { cookie } });
    await app.inject({ url: "/api/boom?token=QUERYTOKEN-99", headers: { cookie } });
    await app.inject({ url: "/accounts", headers: { cookie, authorization: "Bearer HEADERTOKEN-42" } });
    const text = built.lines.join("\n");
    expect(text).toMatch(/provider exploded/); // the log is not empty: the grep below means something
    expect(text).toMatch(/\/callback\/:provider 302/);
    for (const needle of [SECRET, "AUTHCODE-4711", "STATE-0815", "QUERYTOKEN-99", "HEADERTOKEN-42", sessionId, "eb_session"]) {
      expect(text, needle).not.toContain(needle);
    }
  });
});
