/**
 * Accounts with a real Home Assistant Core: an Enedis Data Connect consent (consent simulator in
 * front of the provider simulator) connected through the accounts API becomes a Linky meter whose
 * statistic appears in HA's recorder right after the connection (total = served Wh); when Enedis
 * then refuses the meter (403: consent withdrawn), the account turns `revoked`, HA shows a
 * persistent notification with the link back to the page and the `problem` binary sensor is on;
 * a new consent dismisses the notification and turns the sensor off.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectHomeAssistant, type HaLink } from "../../src/homeassistant/connection.js";
import { statisticId } from "../../src/homeassistant/statistics.js";
import { getAccount } from "../../src/store/accounts.js";
import { describeWithHA, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../helpers/dataset.js";
import { startProviderSimulator, ENEDIS_ERRORS, type ProviderSimulator } from "../helpers/provider-simulator.js";
import { haRows } from "../helpers/service-fixture.js";
import { startEnedisConsentSimulator, type EnedisConsentSimulator } from "../helpers/simulator/enedis-consent.js";
import { waitFor } from "../helpers/wait.js";
import { accountsKit, assertNoSecretInLogs, type AccountsKit } from "../unit/accounts/kit.js";

const PRM = "24681357902468";
const ACCOUNT = `enedis_data_connect_${PRM}`;
const CALLBACK = "http://127.0.0.1:8099/base/callback/enedis_data_connect";
const NOTIFICATION = `energy_bridge_account_enedis_data_connect_${PRM}`;

describeWithHA("accounts in Home Assistant", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let link: HaLink;
  let direct: ProviderSimulator;
  let consent: EnedisConsentSimulator;
  let kit: AccountsKit;

  beforeAll(async () => {
    ha = await startHomeAssistant();
    link = await connectHomeAssistant({ wsUrl: ha.wsUrl, token: ha.token });
    direct = await startProviderSimulator({ series: loadHalfHourSeries(SCEAUX_2008_30MIN), prm: PRM });
    consent = await startEnedisConsentSimulator({ clientId: direct.clientId, clientSecret: direct.clientSecret, prms: [PRM], upstream: direct.baseUrl });
    kit = await accountsKit({
      energy: true,
      ha: { link, rest: { apiUrl: `${ha.url}/api`, token: ha.token } },
      settings: {
        publicUrl: "http://192.168.1.10:8099/",
        enedis: { clientId: direct.clientId, clientSecret: direct.clientSecret },
        enedisConsent: { authorizeUrl: consent.authorizeUrl, apiUrl: consent.baseUrl },
      },
    });
  });
  afterAll(async () => {
    if (kit) {
      await kit.close();
      assertNoSecretInLogs(kit.logs, [direct.clientSecret, ha.token, ...consent.consents.map((c) => c.autorisationId)]);
    }
    link?.close();
    await Promise.all([direct?.close(), consent?.close(), ha?.stop()]);
  });

  async function giveConsent(): Promise<void> {
    const start = await kit.api("POST", "/api/accounts/connect", { session: "b", body: { provider: "enedis_data_connect", input: {}, callbackUrl: CALLBACK } });
    const page = await fetch(start.json<{ url: string }>().url, { redirect: "manual" });
    const back = new URL(page.headers.get("location")!);
    const cb = await kit.api("GET", `/callback/enedis_data_connect${back.search}`, { session: "b" });
    expect(cb.headers.location).toBe(`../accounts?connected=${ACCOUNT}`);
    await kit.energy!.firstSync;
    await kit.accounts.settled();
  }

  const notifications = async () =>
    (await link.connection.sendMessagePromise<Record<string, { notification_id: string; message: string; title: string }>>({ type: "persistent_notification/get" })) as unknown;
  const ourNotification = async () => {
    const all = (await notifications()) as Record<string, { notification_id: string; message: string }> | { notification_id: string; message: string }[];
    const list = Array.isArray(all) ? all : Object.values(all);
    return list.find((n) => n.notification_id === NOTIFICATION);
  };
  const state = async (entityId: string) => {
    const res = await fetch(`${ha.url}/api/states/${entityId}`, { headers: { authorization: `Bearer ${ha.token}` } });
    return res.ok ? ((await res.json()) as { state: string; attributes: Record<string, unknown> }) : undefined;
  };

  it("a consent creates the meter; its statistic appears in HA right after", async () => {
    await giveConsent();
    const rows = await haRows(link.connection, statisticId("linky", PRM, "consumption"));
    const served = direct.served().reduce((s, p) => s + p.wh, 0) / 1000;
    expect(rows.length).toBeGreaterThan(24 * 300);
    expect(rows.at(-1)!.sum).toBeCloseTo(served, 3);
    const problem = await state(`binary_sensor.energy_bridge_account_enedis_data_connect_${PRM.toLowerCase()}_problem`);
    expect(problem?.state).toBe("off");
    const expiry = await state(`sensor.energy_bridge_account_enedis_data_connect_${PRM}_expiry`);
    expect(new Date(expiry!.state).getTime()).toBe(getAccount(kit.ctx.db, ACCOUNT)!.config.consentExpiresAt);
  }, 180_000); // a year of statistics into HA: slow on a busy 2-core machine

  it("consent withdrawn (403 on the meter) → revoked, HA notification with the link and problem on; a new consent clears both", async () => {
    // The daily re-check (last 7 days) is always asked first: Enedis refuses it.
    direct.failNext({ ...ENEDIS_ERRORS.notHolder(), times: 1, route: "direct" });
    await kit.energy!.runCycle();
    await kit.accounts.settled();
    const account = getAccount(kit.ctx.db, ACCOUNT)!;
    expect(account.status).toBe("revoked");
    const note = await waitFor("the notification", ourNotification, 10_000);
    expect(note!.message).toContain("consent was withdrawn");
    expect(note!.message).toContain("(http://192.168.1.10:8099/accounts)");
    expect((await state(`binary_sensor.energy_bridge_account_enedis_data_connect_${PRM}_problem`))?.state).toBe("on");

    await giveConsent();
    expect(getAccount(kit.ctx.db, ACCOUNT)!.status).toBe("connected");
    await waitFor("the notification dismissed", async () => (await ourNotification()) === undefined, 10_000);
    expect((await state(`binary_sensor.energy_bridge_account_enedis_data_connect_${PRM}_problem`))?.state).toBe("off");
  });
});
