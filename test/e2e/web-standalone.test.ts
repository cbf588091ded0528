/**
 * The page without the Supervisor, in headless Chromium: the login with `web_secret` (wrong
 * secret → words and tries left; right one → the accounts page), a redirect provider in the same
 * window on another site (`localhost` vs `127.0.0.1`), whose return — a cross-site navigation
 * without the SameSite=Strict session cookie — is reloaded same-site by the add-on so `state`
 * matches the logged-in session; log out.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import type { ModuleContext } from "../../src/modules/module.js";
import { createWebRoutes } from "../../src/modules/web-routes.js";
import { WebModule } from "../../src/web/web-module.js";
import { createLogger } from "../../src/log.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { fakeAccountsApi, type FakeAccountsApi } from "../helpers/fake-accounts-api.js";

const SECRET = "standalone page secret 42";

describe("standalone page in Chromium", () => {
  let browser: Browser;
  let web: WebModule;
  let provider: Server;
  let fake: FakeAccountsApi;

  beforeAll(async () => {
    provider = createServer((req, res) => {
      const u = new URL(req.url ?? "/", "http://localhost");
      const back = new URL(u.searchParams.get("redirect_uri")!);
      back.searchParams.set("code", "code-standalone");
      back.searchParams.set("state", u.searchParams.get("state") ?? "");
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><title>Provider</title><link rel="icon" href="data:,"><a id="approve" href="${back.href}">Approve</a>`);
    });
    await new Promise<void>((r) => provider.listen(0, "127.0.0.1", r));
    fake = fakeAccountsApi({ authorizeUrl: `http://localhost:${(provider.address() as AddressInfo).port}/authorize` });
    const routes = createWebRoutes();
    routes.add("accounts", fake.plugin);
    const ctx = { settings: { mode: "standalone", web: { secret: SECRET } }, web: routes, log: createLogger("warning"), now: Date.now } as unknown as ModuleContext;
    web = new WebModule({ listen: { host: "127.0.0.1", port: 0 } });
    await web.start(ctx);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await new Promise((r) => provider?.close(r));
  });

  it("login, connect in the same window across sites, log out", async () => {
    const context = await browser.newContext({ locale: "en-GB", viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(web.url!);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill('input[name="secret"]', "not the secret");
    await page.click('button[type="submit"]');
    expect(await page.textContent(".flash.bad")).toContain("Wrong secret. 4 attempt(s) left");
    await screenshot(page, "web-standalone-login-light");
    await page.fill('input[name="secret"]', SECRET);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-provider-card="fake_oauth"]');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "eb_session")!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe("Strict");

    await page.fill("#in-fake_oauth-instance", "erin.mycozy.cloud");
    await page.click('form[data-provider="fake_oauth"] button[type="submit"]');
    await page.waitForURL(/^http:\/\/localhost:\d+\/authorize/); // same window: no ingress, no frame
    await page.click("#approve");
    await page.waitForSelector('[data-account="fake_oauth_erin.mycozy.cloud"] [data-status="connected"]');
    expect(await page.textContent("#flash")).toContain("Account erin.mycozy.cloud connected");
    const callbacks = fake.seen.filter((s) => s.route === "/callback/:provider");
    expect(callbacks).toHaveLength(1); // after the same-site reload, once, in the logged-in session
    expect(callbacks[0]!.sessionId).toBe(session.value);

    await page.click("form.logout button");
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.goto(new URL("accounts", web.url).href);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(errors).toEqual([]);
    await context.close();
  });
});
