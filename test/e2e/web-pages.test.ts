/**
 * The add-on's page in real headless Chromium, behind an ingress-like proxy
 * (`/api/hassio_ingress/<random>/` + X-Ingress-Path, test/helpers/ingress-proxy.ts), with the web
 * module in add-on mode and a small fake of the accounts JSON API (test/helpers/fake-accounts-api.ts).
 * The fake provider runs on `localhost` while the page is on `127.0.0.1`: the return from the
 * provider is a cross-site navigation, as with a real provider. The proxy emulates Home
 * Assistant's SameSite=Strict `ingress_session` cookie, so that return is refused (401) as it is
 * in real use; the page's sign-in popup and its same-origin replay (or the pasted address) must
 * get the account connected anyway, with `state` bound to the session. Standalone (no ingress):
 * login page, same-window redirect, and the add-on's own same-site reload of the return.
 * Screenshots: test-artifacts/.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { ModuleContext } from "../../src/modules/module.js";
import { createWebRoutes } from "../../src/modules/web-routes.js";
import { WebModule } from "../../src/web/web-module.js";
import { createLogger } from "../../src/log.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { fakeAccountsApi, type FakeAccountsApi } from "../helpers/fake-accounts-api.js";
import { startIngressProxy, type IngressProxy } from "../helpers/ingress-proxy.js";

/** A provider's authorize page: "Approve" / "Refuse" links back to redirect_uri. `coop`: sends Cross-Origin-Opener-Policy (severs the popup from its opener). */
async function startFakeProvider(): Promise<{ server: Server; authorizeUrl: string; coop: boolean }> {
  const state = { coop: false };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://localhost");
    const back = new URL(u.searchParams.get("redirect_uri") ?? "http://invalid/");
    const ok = new URL(back);
    ok.searchParams.set("code", "code-from-provider");
    ok.searchParams.set("state", u.searchParams.get("state") ?? "");
    const no = new URL(back);
    no.searchParams.set("error", "access_denied");
    no.searchParams.set("state", u.searchParams.get("state") ?? "");
    res.writeHead(200, { "content-type": "text/html", ...(state.coop ? { "cross-origin-opener-policy": "same-origin" } : {}) });
    res.end(`<!doctype html><title>Fake provider</title><link rel="icon" href="data:,"><h1>Allow Energy Bridge?</h1><a id="approve" href="${ok.href}">Approve</a> <a id="refuse" href="${no.href}">Refuse</a>`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return Object.assign(state, { server, authorizeUrl: `http://localhost:${(server.address() as AddressInfo).port}/authorize` });
}

describe("accounts page in Chromium under an ingress prefix", () => {
  let browser: Browser;
  let web: WebModule;
  let proxy: IngressProxy;
  let provider: Awaited<ReturnType<typeof startFakeProvider>>;
  let fake: FakeAccountsApi;
  const problems: string[] = [];

  beforeAll(async () => {
    provider = await startFakeProvider();
    fake = fakeAccountsApi({
      authorizeUrl: provider.authorizeUrl,
      deviceExpiresIn: 300,
      deviceInterval: 1,
      initial: [
        { id: "conso_api_old", provider: "conso_api", label: "Linky 0123", status: "revoked", detail: "Access denied - consent may have been revoked. Give it again.", expiresAt: null },
        { id: "conso_api_soon", provider: "conso_api", label: "Linky 4567", status: "expiring", detail: "The token ends in 3 days.", expiresAt: Date.UTC(2030, 0, 2, 12) },
        { id: "conso_api_bad", provider: "conso_api", label: "Linky 8901", status: "error", detail: "The gateway answers 500 since yesterday.", expiresAt: null },
      ],
    });
    const routes = createWebRoutes();
    routes.add("accounts", fake.plugin, { path: "accounts", label: { en: "Accounts", fr: "Comptes" } });
    const ctx = { settings: { mode: "addon" }, web: routes, log: createLogger("warning"), now: Date.now } as unknown as ModuleContext;
    web = new WebModule({ listen: { host: "127.0.0.1", port: 0 }, allowedAddresses: ["127.0.0.1"] });
    await web.start(ctx);
    proxy = await startIngressProxy(web.url!, { ingressSession: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await web?.stop();
    await new Promise((r) => provider?.server.close(r));
  });

  async function open(options: Parameters<Browser["newContext"]>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale: "en-GB", viewport: { width: 1000, height: 800 }, ...options });
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()} (${m.location().url})`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    });
    await page.goto(`${proxy.origin}/`); // Home Assistant's frame: sets the ingress_session cookie
    await page.goto(proxy.url);
    await page.waitForSelector('[data-provider-card="fake_oauth"]');
    return { context, page };
  }

  /** Clicks the provider's Connect and returns the sign-in popup, at the provider's page. */
  async function connectPopup(page: Page, instance: string): Promise<Page> {
    await page.fill("#in-fake_oauth-instance", instance);
    const [popup] = await Promise.all([page.context().waitForEvent("page"), page.click('form[data-provider="fake_oauth"] button[type="submit"]')]);
    await popup.waitForURL(/^http:\/\/localhost:\d+\/authorize/);
    return popup;
  }

  it("connects a redirect provider in a popup: the return is refused by 'Home Assistant', the page replays it; connected", async () => {
    const { context, page } = await open();
    expect(await page.textContent("h1")).toBe("Accounts");
    const refusedBefore = proxy.refused.length;
    const popup = await connectPopup(page, "alice.mycozy.cloud");
    expect(new URL(popup.url()).searchParams.get("redirect_uri")).toBe(`${proxy.url}callback/fake_oauth`);
    expect(await page.textContent("#flash")).toContain("Finish signing in to Fake Cozy in the window that opened.");
    await popup.click("#approve");
    await page.waitForSelector('[data-account="fake_oauth_alice.mycozy.cloud"] [data-status="connected"]');
    expect(await page.textContent("#flash")).toContain("Account alice.mycozy.cloud connected");
    // The provider's return itself was refused for want of the Strict ingress cookie, as in Home Assistant.
    expect(proxy.refused.slice(refusedBefore)).toEqual([`${proxy.prefix}/callback/fake_oauth`]);
    expect(popup.isClosed()).toBe(true);
    // The one-time result left the address bar; the page is still the ingress one.
    expect(page.url()).toBe(`${proxy.url}accounts`);
    // The state was bound to this browser's session: the callback ran in the session that connected.
    const sessions = new Set(fake.seen.filter((s) => s.route === "/api/accounts/connect" || s.route === "/callback/:provider").map((s) => s.sessionId));
    expect(sessions.size).toBe(1);
    await screenshot(page, "web-accounts-connected-light");
    await context.close();
  });

  it.each([
    ["en-GB", "bob.mycozy.cloud", "Your Cozy did not give access (access_denied). Nothing was connected."],
    ["fr-FR", "carole.mycozy.cloud", "Vous avez refusé l'accès chez le fournisseur. Rien n'a été connecté."],
  ])("shows a refusal at the provider in plain words (%s)", async (locale, instance, words) => {
    const { context, page } = await open({ locale });
    const popup = await connectPopup(page, instance);
    await popup.click("#refuse");
    await page.waitForSelector(".flash.bad");
    expect(await page.textContent("#flash")).toContain(words);
    expect(fake.accounts.some((a) => a.label === instance)).toBe(false);
    await context.close();
  });

  it("a provider that severs the popup (COOP): the page offers the paste box; the pasted address connects", async () => {
    provider.coop = true;
    try {
      const { context, page } = await open();
      const popup = await connectPopup(page, "dora.mycozy.cloud");
      await page.waitForSelector("#paste[open]");
      expect(await page.textContent("#flash")).toContain("The sign-in window closed before coming back here");
      await popup.click("#approve");
      await popup.waitForURL(/\/callback\/fake_oauth\?/);
      expect(await popup.textContent("body")).toContain("401: Unauthorized");
      // A wrong address is refused with words; the real one finishes.
      await page.fill('#paste input[name="url"]', "https://example.com/somewhere?x=1");
      await page.click('#paste button[type="submit"]');
      expect(await page.textContent("#flash")).toContain("This is not the address of a sign-in return");
      await page.fill('#paste input[name="url"]', popup.url());
      await page.click('#paste button[type="submit"]');
      await page.waitForSelector('[data-account="fake_oauth_dora.mycozy.cloud"] [data-status="connected"]');
      await context.close();
    } finally {
      provider.coop = false;
    }
  });

  it("pop-ups blocked: a link to the sign-in page and the paste box finish the connection", async () => {
    const { context, page } = await open();
    await page.evaluate(() => {
      window.open = () => null; // what a pop-up blocker does
    });
    await page.fill("#in-fake_oauth-instance", "fred.mycozy.cloud");
    await page.click('form[data-provider="fake_oauth"] button[type="submit"]');
    await page.waitForSelector("[data-signin-link]");
    expect(await page.textContent("#flash")).toContain("The browser blocked the sign-in window.");
    expect(await page.isVisible("#paste[open]")).toBe(true);
    const [tab] = await Promise.all([context.waitForEvent("page"), page.click("[data-signin-link]")]);
    await tab.waitForURL(/^http:\/\/localhost/);
    await tab.click("#approve");
    await tab.waitForURL(/\/callback\/fake_oauth\?/);
    await page.fill('#paste input[name="url"]', tab.url());
    await page.click('#paste button[type="submit"]');
    await page.waitForSelector('[data-account="fake_oauth_fred.mycozy.cloud"] [data-status="connected"]');
    await context.close();
  });

  it("shows each account state with its detail, and disconnects one after confirmation", async () => {
    const { context, page } = await open({ timezoneId: "Europe/Paris" });
    const badge = (id: string) => page.textContent(`[data-account="${id}"] [data-status]`);
    expect(await badge("conso_api_old")).toBe("Consent revoked");
    expect(await page.textContent('[data-account="conso_api_old"] .detail')).toBe("Access denied - consent may have been revoked. Give it again.");
    expect(await badge("conso_api_soon")).toBe("Token expiring");
    expect(await page.textContent('[data-account="conso_api_soon"] .expires')).toBe("Expires 2 Jan 2030, 13:00"); // 12:00 UTC in Paris
    expect(await badge("conso_api_bad")).toBe("Error");
    expect(await page.textContent('[data-account="conso_api_bad"] .detail')).toContain("500 since yesterday");
    expect(await page.textContent('[data-provider-card="tado"] [data-status]')).toBe("Not connected");
    await screenshot(page, "web-accounts-states-light");
    let asked = "";
    page.once("dialog", (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.click('[data-account="conso_api_bad"] [data-action="disconnect"]');
    await page.waitForSelector('[data-account="conso_api_bad"]', { state: "detached" });
    expect(asked).toContain("Disconnect Linky 8901?");
    expect(await page.textContent("#flash")).toContain("Linky 8901 disconnected.");
    expect(fake.accounts.some((a) => a.id === "conso_api_bad")).toBe(false);
    // Dismissing the confirmation keeps the account.
    page.once("dialog", (d) => void d.dismiss());
    await page.click('[data-account="conso_api_old"] [data-action="disconnect"]');
    await page.waitForTimeout(300);
    expect(fake.accounts.some((a) => a.id === "conso_api_old")).toBe(true);
    await context.close();
  });

  it("device code: shows the code, the link and a live countdown; cancel; then approval connects", async () => {
    const { context, page } = await open();
    await page.click('form[data-provider="tado"] button[type="submit"]');
    await page.waitForSelector("[data-user-code]");
    expect(await page.textContent("[data-user-code]")).toBe("WDJB-MJHT");
    expect(await page.getAttribute("[data-verification]", "href")).toBe("https://login.tado.example/device?user_code=WDJB-MJHT");
    const s0 = Number(await page.getAttribute("[data-countdown]", "data-seconds"));
    expect(s0).toBeGreaterThan(290);
    expect(s0).toBeLessThanOrEqual(300);
    await page.waitForTimeout(2300);
    const s1 = Number(await page.getAttribute("[data-countdown]", "data-seconds"));
    expect(s0 - s1).toBeGreaterThanOrEqual(2);
    expect(await page.textContent("[data-countdown]")).toMatch(/^4:\d\d$/);
    await screenshot(page, "web-device-code-light");
    // Polling at the interval: the fake saw polls, all from this session.
    const polls = () => fake.seen.filter((s) => s.route === "/api/accounts/device/:flowId/poll").length;
    expect(polls()).toBeGreaterThanOrEqual(1);

    await page.click('[data-action="cancel"]');
    expect(await page.isHidden("#device")).toBe(true);
    expect(await page.textContent("#flash")).toContain("Connection cancelled.");
    await expect.poll(() => [...fake.deviceFlows.values()].some((f) => f.cancelled)).toBe(true);

    await page.click('form[data-provider="tado"] button[type="submit"]');
    await page.waitForSelector("[data-user-code]");
    fake.approveDevice();
    await page.waitForSelector('[data-account="tado_1"] [data-status="connected"]', { timeout: 10_000 });
    expect(await page.isHidden("#device")).toBe(true);
    expect(await page.textContent("#flash")).toContain("Account Tado home connected");
    await context.close();
  });

  it("never links to a javascript: address a provider sent", async () => {
    const saved = fake.deviceLinks;
    fake.deviceLinks = { verificationUri: "javascript:alert(1)", verificationUriComplete: "javascript:alert(2)" };
    try {
      const { context, page } = await open();
      await page.click('form[data-provider="tado"] button[type="submit"]');
      await page.waitForSelector("[data-user-code]");
      expect(await page.getAttribute("[data-verification]", "href")).toBe("about:blank");
      await page.click('[data-action="cancel"]');
      await context.close();
    } finally {
      fake.deviceLinks = saved;
    }
  });

  it("dark colour scheme and French from the browser, inside Home Assistant's frame", async () => {
    const { context, page } = await open({ colorScheme: "dark", locale: "fr-FR" });
    expect(await page.textContent("h1")).toBe("Comptes");
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe("rgb(17, 19, 24)");
    await screenshot(page, "web-accounts-dark-fr");
    // Start a device flow for the dark screenshot of the code.
    await page.click('form[data-provider="tado"] button[type="submit"]');
    await page.waitForSelector("[data-user-code]");
    expect(await page.textContent("#device")).toContain("Le code expire dans");
    await screenshot(page, "web-device-code-dark-fr");
    await page.click('[data-action="cancel"]');
    // The sidebar panel: the add-on's page in an iframe of the same origin.
    await page.goto(`${proxy.origin}/`);
    const frame = page.frameLocator("#panel");
    await frame.locator('[data-provider-card="tado"]').waitFor();
    expect(await frame.locator("h1").textContent()).toBe("Comptes");
    await context.close();
  });

  it("light default: light background; no console error, no request outside the ingress prefix", async () => {
    const { context, page } = await open({ colorScheme: "light" });
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(246, 247, 249)");
    await context.close();
    expect(problems).toEqual([]);
    expect(proxy.misses).toEqual([]);
  });
});
