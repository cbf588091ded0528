/**
 * Tado zones in a real Home Assistant Core through a real Mosquitto: the tado module (real timers)
 * polling the Tado REST simulator over HTTP, publishing through the real MQTT device sink.
 *
 * Proves: one device per heating zone in HA's device registry, its parent (`via_device`) the Tado
 * home device; the zone's temperature / humidity / heating power entities in the entity registry
 * with our unique ids under that zone device, showing the values the simulator served; the home's
 * quota entities (remaining = the simulator's count); when the Tado link is down (no answer) the
 * zone entities go `unavailable` — still in the registry — and come back when Tado answers again;
 * and through the composition root (main.ts `startApp`, the catalog's tado module): a connected
 * account in the store becomes zone entities in HA.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { haWs, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { describeWithMosquitto, startMosquitto, type MosquittoBroker } from "../helpers/mosquitto.js";
import { addMqttIntegration, withBirth } from "../helpers/ha-mqtt.js";
import type { HaLink } from "../../src/homeassistant/connection.js";
import { EntityPublisher, type DeletedEntities } from "../../src/homeassistant/entities/publisher.js";
import { mqttDeviceSink } from "../../src/homeassistant/entities/device-sink.js";
import type { ModuleContext } from "../../src/modules/module.js";
import { TadoModule } from "../../src/modules/tado/tado-module.js";
import { upsertAccount } from "../../src/store/accounts.js";
import { expectedZoneValues, SIM_HOME_ID, SIM_ZONES, TadoSimulator } from "../helpers/simulator/tado.js";
import { tadoFixture, type TadoFixture } from "../helpers/simulator/tado-fixture.js";
import { waitFor } from "../helpers/wait.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startApp } from "../../src/main.js";
import { createLogger } from "../../src/log.js";
import { defaultModules } from "../../src/modules/catalog.js";
import { openStore } from "../../src/store/db.js";
import { TokenVault } from "../../src/auth/token-vault.js";
import type { Settings } from "../../src/settings.js";
import { haState, mqttDevice, mqttEntities, registryDevices, type RegDevice, type RegEntity } from "../helpers/ha-registry.js";

const noDeletions: DeletedEntities = { isDeleted: () => false, markDeleted: () => undefined };
const ACCOUNT = `tado_${SIM_HOME_ID}`;
const HEATING = SIM_ZONES.filter((z) => z.type === "HEATING");
const KINDS = ["temperature", "humidity", "heating_power"] as const;
const entityId = (zoneId: number, kind: string) => `sensor.energy_bridge_tado_${SIM_HOME_ID}_zone_${zoneId}_${kind}`;


describeWithMosquitto("Tado zones through MQTT discovery in a real Home Assistant", () => {
  let broker: MosquittoBroker;
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let link: HaLink;
  let pub: EntityPublisher;
  let sim: TadoSimulator;
  let fx: TadoFixture;
  let module: TadoModule;

  const registry = async () =>
    mqttEntities(link, `energy_bridge_tado_${SIM_HOME_ID}_`);
  const devices = () => registryDevices(link);
  const deviceOf = mqttDevice;
  const state = (id: string) => haState(ha, id);

  beforeAll(async () => {
    broker = await startMosquitto();
    ha = await startHomeAssistant();
    await withBirth(broker.url, () => addMqttIntegration(ha, { host: broker.host, port: broker.port }));
    link = await haWs(ha, { keepAliveMs: 0, initialRetries: 3 });
    sim = new TadoSimulator();
    await sim.listen();
    pub = new EntityPublisher({ broker: { url: broker.url, protocolVersion: 4 }, discovery: { swVersion: "0.1.0-test" }, deleted: noDeletions, reconnectPeriodMs: 500, birthDelayMs: 200 });
    expect(await pub.start()).toBe(true);
    fx = tadoFixture({ apiUrl: sim.apiUrl });
    upsertAccount(fx.db, { id: ACCOUNT, provider: "tado", label: "Test Home", status: "connected", detail: null, config: { homeId: SIM_HOME_ID, homeName: "Test Home", generation: "PRE_LINE_X" } }, Date.now());
    fx.vault.put(ACCOUNT, "tado", { accessToken: "sim-access", refreshToken: "sim-refresh", expiresAt: Date.now() + 3_600_000 });
    module = new TadoModule();
    const ctx = { settings: fx.settings, db: fx.db, entities: mqttDeviceSink(pub), events: fx.events, vault: fx.vault, log: fx.log, now: Date.now } as unknown as ModuleContext;
    await module.start(ctx);
  });
  afterAll(async () => {
    await module?.stop();
    await pub?.stop();
    link?.close();
    await sim?.close();
    await ha?.stop();
    await broker?.stop();
  });

  it("one device per heating zone under the home device, its entities in the registry with the served values", async () => {
    const want = HEATING.flatMap((z) => KINDS.map((k) => entityId(z.id, k)));
    const entities = await waitFor("the zone entities in the registry", async () => {
      const e = await registry();
      return want.every((id) => e.some((x) => x.entity_id === id)) ? e : null;
    });
    const all = await devices();
    const home = deviceOf(all, `energy_bridge_tado_${SIM_HOME_ID}`)!;
    expect(home).toBeTruthy();
    expect(home.name).toBe("Tado Test Home");
    for (const z of HEATING) {
      const dev = deviceOf(all, `energy_bridge_tado_${SIM_HOME_ID}_zone_${z.id}`)!;
      expect(dev.name).toBe(z.name);
      expect(dev.via_device_id).toBe(home.id);
      const mine = entities.filter((e) => e.device_id === dev.id).map((e) => e.entity_id).sort();
      expect(mine).toEqual(KINDS.map((k) => entityId(z.id, k)).sort());
    }
    // No device for the hot-water zone (it has no sensors).
    expect(deviceOf(all, `energy_bridge_tado_${SIM_HOME_ID}_zone_5`)).toBeUndefined();

    // The values the simulator served at its last zoneStates answer.
    const at = sim.requests.filter((r) => r.path.endsWith("/zoneStates")).at(-1)!.at;
    for (const z of HEATING) {
      const v = expectedZoneValues(z, at)!;
      await waitFor(`zone ${z.id} temperature`, async () => ((await state(entityId(z.id, "temperature")))?.state === String(v.temperature) ? true : null));
      expect((await state(entityId(z.id, "humidity")))?.state).toBe(String(v.humidity));
      expect((await state(entityId(z.id, "heating_power")))?.state).toBe(String(v.heatingPower));
    }
    // The quota entity shows the simulator's own count.
    await waitFor("quota remaining", async () =>
      (await state(`sensor.energy_bridge_tado_${SIM_HOME_ID}_quota_remaining`))?.state === String(sim.remaining()) ? true : null,
    );
    expect(sim.count("/zoneStates")).toBe(1);
  });

  it("the zone entities go unavailable when the Tado link is down, never deleted, and come back", async () => {
    const before = (await registry()).length;
    const poller = module.pollers()[0]!;
    await poller.whenIdle(); // the first poll may still await its last PUBACK
    const calls = sim.requests.length;
    sim.faults.add("no_answer");
    await poller.poll();
    expect(sim.requests.length).toBe(calls); // dropped before the handler: nothing answered
    expect(module.health().detail).toMatch(/did not answer/);
    for (const z of HEATING) {
      for (const k of KINDS) await waitFor(`${entityId(z.id, k)} unavailable`, async () => ((await state(entityId(z.id, k)))?.state === "unavailable" ? true : null));
    }
    expect((await registry()).length).toBe(before);
    // The home's diagnostics stay available (they are meaningful while the link is down).
    expect((await state(`sensor.energy_bridge_tado_${SIM_HOME_ID}_quota_remaining`))?.state).not.toBe("unavailable");

    sim.faults.delete("no_answer");
    await poller.poll();
    for (const z of HEATING) {
      await waitFor(`${entityId(z.id, "temperature")} back`, async () => {
        const s = (await state(entityId(z.id, "temperature")))?.state;
        return s !== undefined && s !== "unavailable" && s !== "unknown" ? true : null;
      });
    }
  });

  it("through the composition root: the catalog's tado module turns a stored account into zone entities", async () => {
    const names = (await defaultModules({ ...fx.settings })).map((m) => m.name);
    expect(names).toContain("tado");
    expect(names.indexOf("tado")).toBeLessThan(names.length - 1); // web stays last
    const homeId = 4321;
    const sim2 = new TadoSimulator({ homeId, homeName: "Second Home" });
    await sim2.listen();
    const dataDir = mkdtempSync(join(tmpdir(), "eb-tado-"));
    const keyHex = randomBytes(32).toString("hex");
    const dbPath = join(dataDir, "energy-bridge.sqlite");
    const seed = openStore(dbPath);
    upsertAccount(seed, { id: `tado_${homeId}`, provider: "tado", label: "Second Home", status: "connected", detail: null, config: { homeId, homeName: "Second Home", generation: "PRE_LINE_X" } }, Date.now());
    new TokenVault(seed, Buffer.from(keyHex, "hex")).put(`tado_${homeId}`, "tado", { accessToken: "a2", refreshToken: "r2", expiresAt: Date.now() + 3_600_000 });
    seed.close();
    const settings: Settings = {
      ...fx.settings,
      dataDir,
      homeAssistant: { wsUrl: ha.wsUrl, apiUrl: `${ha.url}/api`, token: ha.token },
      mqtt: { url: broker.url },
      vaultKey: keyHex,
      tado: { apiUrl: sim2.apiUrl },
    };
    const tado = (await defaultModules(settings)).find((m) => m.name === "tado")!;
    const app = await startApp(settings, { log: createLogger("silent"), extraModules: [tado] });
    try {
      const id = (zone: number, kind: string) => `sensor.energy_bridge_tado_${homeId}_zone_${zone}_${kind}`;
      await waitFor("the second home's zone entities", async () => {
        const e = (await link.connection.sendMessagePromise<RegEntity[]>({ type: "config/entity_registry/list" })).map((x) => x.entity_id);
        return HEATING.every((z) => KINDS.every((k) => e.includes(id(z.id, k)))) ? true : null;
      });
      const at = sim2.requests.filter((r) => r.path.endsWith("/zoneStates")).at(-1)!.at;
      await waitFor("a served temperature", async () =>
        (await state(id(HEATING[0]!.id, "temperature")))?.state === String(expectedZoneValues(HEATING[0]!, at)!.temperature) ? true : null,
      );
      expect(app.health().tado).toEqual({ status: "ok", detail: null });
    } finally {
      await app.stop();
      await sim2.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
