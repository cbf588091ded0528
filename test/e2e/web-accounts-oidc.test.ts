/**
 * The add-on's page with the REAL accounts module (src/modules/accounts/, its JSON API plugin)
 * in headless Chromium behind the ingress-like proxy: a redirect provider through a real OAuth
 * server (oidc-provider, test/helpers/oauth-server.ts; authorization code + PKCE + state, the
 * generic test flow of test/e2e/accounts-oidc-flow.ts) and the real Tado device code flow
 * (auth/flows/tado.ts) against the same server's device endpoint and the Tado REST simulator.
 * The page is served as `localhost`, the OAuth server is `127.0.0.1`: the return from the
 * authorize page is cross-site, as in real use; the proxy emulates Home Assistant's Strict
 * `ingress_session` cookie, so the provider's pages go through the page's sign-in popup. No
 * token, code or state in any log line.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { createTadoFlow, TADO_CLIENT_ID } from "../../src/auth/flows/tado.js";
import { getAccount } from "../../src/store/accounts.js";
import { WebModule } from "../../src/web/web-module.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { startIngressProxy, type IngressProxy } from "../helpers/ingress-proxy.js";
import { publicDeviceClient, startOAuthServer, type OAuthServer } from "../helpers/oauth-server.js";
import { TadoSimulator } from "../helpers/simulator/tado.js";
import { accountsKit, assertNoSecretInLogs, type AccountsKit } from "../unit/accounts/kit.js";
import { oidcTestFlow, testClient } from "./accounts-oidc-flow.js";

const CLIENT_ID = "eb-e2e-web-page";

describe("accounts page with the real accounts module and a real OAuth server", () => {
  let browser: Browser;
  let proxy: IngressProxy;
  let server: OAuthServer;
  let sim: TadoSimulator;
  let kit: AccountsKit;
  let web: WebModule;
  const secrets: string[] = [];

  beforeAll(async () => {
    proxy = await startIngressProxy(() => web.url!, { host: "localhost", ingressSession: true });
    server = await startOAuthServer({
      deviceInterval: 1,
      deviceCodeTtl: 120,
      clients: [
        testClient(CLIENT_ID, [`${proxy.url}callback/ores`]),
        publicDeviceClient(TADO_CLIENT_ID),
      ],
    });
    sim = new TadoSimulator();
    await sim.listen();
    kit = await accountsKit({
      settings: { tado: { deviceAuthorizationUrl: `${server.issuer}/device/auth`, tokenUrl: `${server.issuer}/token`, apiUrl: sim.apiUrl } },
      module: { flows: (deps) => [oidcTestFlow(deps, { issuer: server.issuer, clientId: CLIENT_ID }), createTadoFlow(deps)] },
    });
    web = new WebModule({ listen: { host: "127.0.0.1", port: 0 }, allowedAddresses: ["127.0.0.1"] });
    await web.start({ ...kit.ctx, settings: { ...kit.ctx.settings, mode: "addon" } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await proxy?.close();
    await kit?.close();
    await sim?.close();
    await server?.close();
  });

  it("connects through oidc-provider and with the Tado device code; both accounts shown connected", async () => {
    const context = await browser.newContext({ locale: "en-GB", viewport: { width: 1000, height: 800 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("request", (r) => {
      const u = new URL(r.url());
      for (const k of ["code", "state"]) {
        const v = u.searchParams.get(k);
        if (v) secrets.push(v);
      }
    });
    await page.goto(`${proxy.origin}/`); // Home Assistant's frame: the ingress_session cookie
    await page.goto(proxy.url);
    await page.waitForSelector('[data-provider-card="ores"]');
    expect(await page.textContent('[data-provider-card="ores"] h2')).toBe("Test OAuth");

    // Redirect provider: out to oidc-provider (login + consent answered by the harness) and back.
    const [popup] = await Promise.all([context.waitForEvent("page"), page.click('form[data-provider="ores"] button[type="submit"]')]);
    popup.on("request", (r) => {
      const u = new URL(r.url());
      for (const k of ["code", "state"]) {
        const v = u.searchParams.get(k);
        if (v) secrets.push(v);
      }
    });
    await page.waitForSelector('[data-account="ores_test-user"] [data-status="connected"]', { timeout: 20_000 });
    expect(popup.isClosed()).toBe(true);
    expect(await page.textContent("#flash")).toContain("Account test-user connected");
    expect(page.url()).toBe(`${proxy.url}accounts`);
    const tokens = kit.ctx.vault.get("ores_test-user");
    expect(tokens?.accessToken).toBeTruthy();
    secrets.push(tokens!.accessToken, tokens!.refreshToken ?? "");
    expect(getAccount(kit.ctx.db, "ores_test-user")?.status).toBe("connected");

    // Device code (Tado flow → oidc-provider device endpoint).
    await page.click('form[data-provider="tado"] button[type="submit"]');
    await page.waitForSelector("[data-user-code]");
    const userCode = (await page.textContent("[data-user-code]"))!;
    expect(userCode).toMatch(/\S{4,}/);
    expect(await page.getAttribute("[data-verification]", "href")).toContain(`${server.issuer}/device`);
    const s0 = Number(await page.getAttribute("[data-countdown]", "data-seconds"));
    await page.waitForTimeout(2200);
    const s1 = Number(await page.getAttribute("[data-countdown]", "data-seconds"));
    expect(s0).toBeLessThanOrEqual(120);
    expect(s0 - s1).toBeGreaterThanOrEqual(2);
    await screenshot(page, "web-real-device-code-light");
    await server.approveDeviceCode(userCode);
    await page.waitForSelector('[data-provider-card="tado"] [data-status="connected"]', { timeout: 20_000 });
    expect(await page.isHidden("#device")).toBe(true);
    await screenshot(page, "web-real-accounts-connected-light");
    const tado = kit.ctx.db.prepare("SELECT id FROM accounts WHERE provider = 'tado'").all() as { id: string }[];
    expect(tado).toHaveLength(1);
    const tadoTokens = kit.ctx.vault.get(tado[0]!.id);
    secrets.push(tadoTokens!.accessToken, tadoTokens!.refreshToken ?? "");

    // Dark, French, same accounts.
    const dark = await browser.newContext({ colorScheme: "dark", locale: "fr-FR", viewport: { width: 1000, height: 800 } });
    const p2 = await dark.newPage();
    await p2.goto(`${proxy.origin}/`);
    await p2.goto(proxy.url);
    await p2.waitForSelector('[data-account="ores_test-user"] [data-status="connected"]');
    expect(await p2.textContent('[data-account="ores_test-user"] [data-status]')).toBe("Connecté");
    await screenshot(p2, "web-real-accounts-dark-fr");

    // Disconnect from the page.
    page.on("dialog", (d) => void d.accept());
    await page.click('[data-account="ores_test-user"] [data-action="disconnect"]');
    await page.waitForSelector('[data-account="ores_test-user"]', { state: "detached" });
    expect(getAccount(kit.ctx.db, "ores_test-user")).toBeUndefined();
    expect(proxy.misses).toEqual([]);
    expect(problems).toEqual([]);
    await dark.close();
    await context.close();
    assertNoSecretInLogs(kit.logs, secrets.filter(Boolean));
    expect(kit.logs.length).toBeGreaterThan(3);
  });
});
