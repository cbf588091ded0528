/**
 * The whole service as it runs standalone (startApp with the catalog's modules: accounts, the web
 * module on a loopback port with a login) against a real Home Assistant: log in with `web_secret`,
 * connect an Enedis Data Connect consent through the real page API (session cookie), and the
 * meter's statistic appears in HA. Proves the composition root's wiring (accounts before web,
 * energy listening to `account_connected`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pino } from "pino";
import type { Logger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { defaultModules } from "../../src/modules/catalog.js";
import { statisticId } from "../../src/homeassistant/statistics.js";
import type { Settings } from "../../src/settings.js";
import { describeWithHA, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../helpers/dataset.js";
import { freePort } from "../helpers/ports.js";
import { startProviderSimulator, type ProviderSimulator } from "../helpers/provider-simulator.js";
import { haRows } from "../helpers/service-fixture.js";
import { startEnedisConsentSimulator, type EnedisConsentSimulator } from "../helpers/simulator/enedis-consent.js";
import { waitFor } from "../helpers/wait.js";
import { assertNoSecretInLogs } from "../unit/accounts/kit.js";

const PRM = "97531864209753";
const SECRET = "web-secret-for-the-root-test";

describeWithHA("the service connects an Enedis consent from its page", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let direct: ProviderSimulator;
  let consent: EnedisConsentSimulator;
  let app: App;
  let base: string;
  let dataDir: string;
  const logs: string[] = [];

  beforeAll(async () => {
    ha = await startHomeAssistant();
    direct = await startProviderSimulator({ series: loadHalfHourSeries(SCEAUX_2008_30MIN), prm: PRM });
    consent = await startEnedisConsentSimulator({ clientId: direct.clientId, clientSecret: direct.clientSecret, prms: [PRM], upstream: direct.baseUrl });
    dataDir = mkdtempSync(join(tmpdir(), "eb-root-"));
    const port = await freePort();
    base = `http://127.0.0.1:${port}/`;
    const settings: Settings = {
      mode: "standalone",
      dataDir,
      homeAssistant: { wsUrl: ha.wsUrl, apiUrl: `${ha.url}/api`, token: ha.token },
      meters: [],
      requestBudgetPerDay: 500,
      anomalyThresholdPercent: 120,
      retentionDays: 730,
      logLevel: "info",
      enedis: { clientId: direct.clientId, clientSecret: direct.clientSecret },
      enedisConsent: { authorizeUrl: consent.authorizeUrl, apiUrl: consent.baseUrl },
      web: { host: "127.0.0.1", port, secret: SECRET },
      publicUrl: base,
    };
    const log = pino({ level: "debug", base: undefined }, { write: (s: string) => void logs.push(s) }) as unknown as Logger;
    app = await startApp(settings, { log, extraModules: await defaultModules(settings), providerRuntime: { retry: { minTimeout: 5, maxTimeout: 20, retries: 1 } } });
  });
  afterAll(async () => {
    await app?.stop();
    await Promise.all([direct?.close(), consent?.close(), ha?.stop()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    assertNoSecretInLogs(logs, [SECRET, direct.clientSecret, ha.token, ...consent.consents.map((c) => c.autorisationId), ...consent.consents.map((c) => c.state)]);
  });

  it("login → connect → consent → callback → meter statistic in HA", async () => {
    expect(app.health().accounts).toEqual({ status: "ok", detail: null });
    const login = await fetch(new URL("login", base), { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ secret: SECRET }) });
    expect(login.status).toBe(303);
    const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const headers = { cookie, "content-type": "application/json" };
    const list = await fetch(new URL("api/accounts", base), { headers });
    expect((await list.json()) as unknown).toMatchObject({ accounts: [], providers: expect.arrayContaining([expect.objectContaining({ provider: "enedis_data_connect", kind: "redirect" })]) });

    const start = await fetch(new URL("api/accounts/connect", base), {
      method: "POST",
      headers,
      body: JSON.stringify({ provider: "enedis_data_connect", input: {}, callbackUrl: new URL("callback/enedis_data_connect", base).href }),
    });
    const { url } = (await start.json()) as { url: string };
    const page = await fetch(url, { redirect: "manual" });
    const back = page.headers.get("location")!;
    const cb = await fetch(back, { redirect: "manual", headers: { cookie } });
    expect(cb.status).toBe(302);
    expect(cb.headers.get("location")).toBe(`../accounts?connected=enedis_data_connect_${PRM}`);

    const served = direct.served().reduce((s, p) => s + p.wh, 0) / 1000;
    const rows = await waitFor("the meter's statistic in HA", async () => {
      const r = await haRows(app.ha.connection, statisticId("linky", PRM, "consumption"));
      return r.length > 0 && Math.abs(r.at(-1)!.sum - served) < 1e-3 ? r : null;
    }, 120_000);
    expect(rows.at(-1)!.sum).toBeCloseTo(served, 3);
  }, 180_000);
});
