/**
 * Account health as real MQTT discovery entities (a real Mosquitto and Home Assistant Core): a
 * pasted Conso API token whose JWT expires in 3 days gives a device with its expiry timestamp
 * sensor (device_class timestamp, diagnostic), a status enum sensor (`expiring`) and the problem
 * binary sensor (off); a revocation turns the problem on with a persistent notification; the
 * disconnect keeps the device (status `disconnected`) and dismisses the notification.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import { changeAccountStatus } from "../../src/auth/flows/account-store.js";
import type { HaLink } from "../../src/homeassistant/connection.js";
import { EntityPublisher } from "../../src/homeassistant/entities/publisher.js";
import { mqttEntitySink } from "../../src/homeassistant/entities/sink.js";
import { haWs, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { addMqttIntegration, withBirth } from "../helpers/ha-mqtt.js";
import { describeWithMosquitto, startMosquitto, type MosquittoBroker } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/wait.js";
import { accountsKit, assertNoSecretInLogs, type AccountsKit } from "../unit/accounts/kit.js";

const PRM = "13579246801357";
const DEVICE = `account_conso_api_${PRM}`;

describeWithMosquitto("account health through MQTT discovery", () => {
  let broker: MosquittoBroker;
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let link: HaLink;
  let pub: EntityPublisher;
  let kit: AccountsKit;
  let token: string;
  let exp: number;

  const state = async (entityId: string) => {
    const res = await fetch(`${ha.url}/api/states/${entityId}`, { headers: { Authorization: `Bearer ${ha.token}` } });
    return res.status === 404 ? null : ((await res.json()) as { state: string; attributes: Record<string, unknown> });
  };
  const notification = async () => {
    const all = (await link.connection.sendMessagePromise({ type: "persistent_notification/get" })) as Record<string, { notification_id: string; message: string }> | { notification_id: string; message: string }[];
    return (Array.isArray(all) ? all : Object.values(all)).find((n) => n.notification_id === `energy_bridge_${DEVICE}`);
  };

  beforeAll(async () => {
    broker = await startMosquitto();
    ha = await startHomeAssistant();
    await withBirth(broker.url, () => addMqttIntegration(ha, { host: broker.host, port: broker.port }));
    link = await haWs(ha, { keepAliveMs: 0, initialRetries: 3 });
    pub = new EntityPublisher({ broker: { url: broker.url, protocolVersion: 4 }, discovery: { swVersion: "0.1.0-test" }, deleted: { isDeleted: () => false, markDeleted: () => undefined }, reconnectPeriodMs: 500, birthDelayMs: 200 });
    expect(await pub.start()).toBe(true);
    kit = await accountsKit({ ha: { link, rest: { apiUrl: `${ha.url}/api`, token: ha.token }, entities: mqttEntitySink(pub) }, settings: { publicUrl: "http://eb.local:8099/" } });
    exp = Math.floor(Date.now() / 1000) + 3 * 86_400;
    token = await new SignJWT({ sub: [PRM] } as never).setProtectedHeader({ alg: "HS256" }).setExpirationTime(exp).sign(new TextEncoder().encode("k".repeat(32)));
  });
  afterAll(async () => {
    if (kit) {
      await kit.close();
      assertNoSecretInLogs(kit.logs, [token, ha.token]);
    }
    await pub?.stop();
    link?.close();
    await ha?.stop();
    await broker?.stop();
  });

  it("a connected account: expiry timestamp, status, problem off, all under the account's device", async () => {
    const res = await kit.api("POST", "/api/accounts/connect", { session: "s", body: { provider: "conso_api", input: { prm: PRM, token }, callbackUrl: "http://eb.local:8099/callback/conso_api" } });
    expect(res.json()).toMatchObject({ kind: "done" });
    await kit.accounts.refreshJob!.runOnce(); // within 7 days → expiring
    await kit.accounts.settled();
    const expiry = await waitFor("the expiry sensor", async () => {
      const s = await state(`sensor.energy_bridge_${DEVICE}_expiry`);
      return s && s.state !== "unknown" ? s : null;
    });
    expect(new Date(expiry.state).getTime()).toBe(exp * 1000);
    expect(expiry.attributes.device_class).toBe("timestamp");
    // The status changed right after the connection: the later state must win (publications are serial per account).
    const status = await waitFor("status expiring", async () => ((await state(`sensor.energy_bridge_${DEVICE}_status`))?.state === "expiring" ? true : null), 10_000);
    expect(status).toBe(true);
    expect((await state(`binary_sensor.energy_bridge_${DEVICE}_problem`))?.state).toBe("off");
    const entities = (await link.connection.sendMessagePromise<{ entity_id: string; unique_id: string; device_id: string; entity_category: string | null }[]>({ type: "config/entity_registry/list" })).filter((e) =>
      e.unique_id.startsWith(`energy_bridge_${DEVICE}_`),
    );
    expect(entities.map((e) => e.entity_id).sort()).toEqual([`binary_sensor.energy_bridge_${DEVICE}_problem`, `sensor.energy_bridge_${DEVICE}_expiry`, `sensor.energy_bridge_${DEVICE}_status`]);
    expect(new Set(entities.map((e) => e.device_id)).size).toBe(1);
    expect(entities.find((e) => e.entity_id.endsWith("_expiry"))!.entity_category).toBe("diagnostic");
  });

  it("revoked → problem on + notification; disconnect → device kept, status disconnected, notification gone", async () => {
    changeAccountStatus(kit.ctx, `conso_api_${PRM}`, "revoked", "The gateway refused the token.");
    await kit.accounts.settled();
    await waitFor("problem on", async () => ((await state(`binary_sensor.energy_bridge_${DEVICE}_problem`))?.state === "on" ? true : null));
    const note = await waitFor("the notification", notification, 10_000);
    expect(note.message).toContain("The gateway refused the token.");
    expect(note.message).toContain("http://eb.local:8099/accounts");

    await kit.api("POST", `/api/accounts/conso_api_${PRM}/disconnect`, { session: "s" });
    await kit.accounts.settled();
    await waitFor("status disconnected", async () => ((await state(`sensor.energy_bridge_${DEVICE}_status`))?.state === "disconnected" ? true : null));
    expect((await state(`binary_sensor.energy_bridge_${DEVICE}_problem`))?.state).toBe("off");
    await waitFor("the notification dismissed", async () => ((await notification()) === undefined ? true : null), 10_000);
  });
});
