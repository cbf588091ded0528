/**
 * Ecolyo entities in a real Home Assistant through a real Mosquitto (MQTT discovery), from the
 * composition root: a connected Cozy account in the store → electricity as meter entities, gas and
 * water as devices whose latest-day sensors show the served data in their own unit (kWh, L), the
 * water leak sensor `unknown` (daily data cannot show a night flow).
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TokenVault } from "../../src/auth/token-vault.js";
import { entityIds } from "../../src/homeassistant/entities.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { EcolyoModule } from "../../src/modules/ecolyo/ecolyo-module.js";
import type { Settings } from "../../src/settings.js";
import { upsertAccount } from "../../src/store/accounts.js";
import { openStore } from "../../src/store/db.js";
import { startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { addMqttIntegration, withBirth } from "../helpers/ha-mqtt.js";
import { haState, mqttEntities } from "../helpers/ha-registry.js";
import { describeWithMosquitto, startMosquitto, type MosquittoBroker } from "../helpers/mosquitto.js";
import { ecolyoDocsFromData, type EcolyoSimDoc } from "../helpers/simulator/cozy-data.js";
import { startCozySimulator, type CozySimulator } from "../helpers/simulator/cozy.js";
import { waitFor } from "../helpers/wait.js";
import { haSettings } from "../helpers/service-fixture.js";

describeWithMosquitto("Ecolyo entities through MQTT discovery in a real Home Assistant", () => {
  let broker: MosquittoBroker;
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let sim: CozySimulator;
  let app: App;
  let settings: Settings;
  const ecolyo = new EcolyoModule({ schedule: false });
  const docs = ecolyoDocsFromData(Date.now(), { days: 30 });

  beforeAll(async () => {
    broker = await startMosquitto();
    ha = await startHomeAssistant();
    await withBirth(broker.url, () => addMqttIntegration(ha, { host: broker.host, port: broker.port }));
    sim = await startCozySimulator({ docs });
    const key = randomBytes(32).toString("hex");
    settings = haSettings(ha, { vaultKey: key, mqtt: { url: broker.url } }, "ecolyo-mqtt");
    // An account connected earlier (the flow itself is proven in ecolyo-statistics.test.ts).
    const db = openStore(join(settings.dataDir, "energy-bridge.sqlite"));
    const t = await sim.issueTokens();
    upsertAccount(db, { id: `cozy_${new URL(sim.url).host}`, provider: "cozy", label: "test", status: "connected", detail: null, config: { instance: sim.url } }, Date.now());
    new TokenVault(db, Buffer.from(key, "hex")).put(`cozy_${new URL(sim.url).host}`, "cozy", {
      accessToken: t.accessToken,
      refreshToken: t.refreshToken,
      extra: { clientId: t.clientId, clientSecret: t.clientSecret, registrationAccessToken: t.registrationAccessToken },
    });
    db.close();
    app = await startApp(settings, { log: createLogger("silent"), extraModules: [ecolyo] });
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.close();
    await ha?.stop();
    await broker?.stop();
    if (settings) rmSync(settings.dataDir, { recursive: true, force: true });
  });

  it("gas and water devices show the latest day in kWh and L; electricity has the meter entities; leak unknown", async () => {
    const summaries = await ecolyo.runCycle();
    expect(summaries.map((s) => s.status)).toEqual(["ok", "ok", "ok"]);
    const [elec, gas, water] = ecolyo.jobs.map((j) => j.meter.id) as [string, string, string];
    const lastLoad = (doctype: string) => (docs[doctype] as EcolyoSimDoc[]).at(-1)!.load;
    const want = [`sensor.energy_bridge_${gas}_daily`, `sensor.energy_bridge_${water}_daily`, `binary_sensor.energy_bridge_${water}_leak`, entityIds(elec).daily];
    const entities = await waitFor("the Ecolyo entities in the registry", async () => {
      const e = await mqttEntities(app.ha, "energy_bridge_ecolyo_");
      return want.every((id) => e.some((x) => x.entity_id === id)) ? e : null;
    }, 60_000);
    expect(entities.length).toBeGreaterThanOrEqual(want.length);
    const water1 = await waitFor("water daily state", async () => {
      const s = await haState(ha, `sensor.energy_bridge_${water}_daily`);
      return s && s.state !== "unknown" ? s : null;
    });
    expect(Number(water1.state)).toBeCloseTo(lastLoad("com.grandlyon.egl.day"), 3);
    expect(water1.attributes.unit_of_measurement).toBe("L");
    expect(water1.attributes.device_class).toBe("water");
    const gas1 = await haState(ha, `sensor.energy_bridge_${gas}_daily`);
    expect(Number(gas1!.state)).toBeCloseTo(lastLoad("com.grandlyon.grdf.day"), 3);
    expect(gas1!.attributes.unit_of_measurement).toBe("kWh");
    expect((await haState(ha, `binary_sensor.energy_bridge_${water}_leak`))?.state).toBe("unknown");
    const elec1 = await waitFor("electricity daily", async () => {
      const s = await haState(ha, entityIds(elec).daily);
      return s && s.state !== "unknown" ? s : null;
    });
    expect(Number(elec1.state)).toBeCloseTo(lastLoad("com.grandlyon.enedis.day"), 2);
  }, 300_000);
});
