/**
 * MQTT discovery entities against a real Mosquitto broker and a real Home Assistant Core (both
 * pinned releases: vitest projects integration-ha2025.4 / integration-ha2026.2).
 *
 * Proves: registry entries with our unique ids and the DESIGN entity ids under one device per
 * meter (via the bridge device), no `_2` after a publisher restart, Last Will → `unavailable`
 * within seconds when the publishing process dies, a user rename surviving publisher and HA
 * restarts, a device deleted in HA staying deleted, an HA restart re-creating nothing twice; and,
 * against the broker alone, deletion bookkeeping, password auth errors, broker restarts.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWithHA, haWs, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { describeWithMosquitto, startMosquitto, type MosquittoBroker } from "../helpers/mosquitto.js";
import { addMqttIntegration, withBirth } from "../helpers/ha-mqtt.js";
import type { HaLink } from "../../src/homeassistant/connection.js";
import { EntityPublisher, type DeletedEntities } from "../../src/homeassistant/entities/publisher.js";
import {
  bridgeStateTopic,
  configTopicFilter,
  meterConfigs,
  type MeterDescriptor,
  type MeterFeatures,
} from "../../src/homeassistant/entities/discovery.js";
import type { MeterStateInput } from "../../src/homeassistant/entities/states.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { haState, mqttDevice, mqttEntities, registryDevices, type RegDevice, type RegEntity } from "../helpers/ha-registry.js";


class MemoryDeleted implements DeletedEntities {
  readonly deleted = new Set<string>();
  readonly published = new Set<string>();
  isDeleted(id: string) {
    return this.deleted.has(id);
  }
  markDeleted(id: string) {
    this.deleted.add(id);
  }
  wasPublished(id: string) {
    return this.published.has(id);
  }
  markPublished(id: string) {
    this.published.add(id);
  }
  forget(id: string) {
    this.deleted.delete(id);
    this.published.delete(id);
  }
}

const M1: MeterDescriptor = { id: "12345678901234", name: "Linky 12345678901234" };
const M1_FEATURES: MeterFeatures = { maxPower: true };
const M2: MeterDescriptor = {
  id: "98765432109876_production",
  usagePoint: "98765432109876",
  flow: "production",
  name: "Linky 98765432109876 production",
};
const OPTS = { swVersion: "0.1.0-test" };
const LAST_SYNC = Date.parse("2026-01-15T06:12:03Z");

function m1States(totalWh = 12_345): MeterStateInput {
  return {
    meter: M1,
    latestDay: { day: "2026-01-14", totalWh },
    latestAnomaly: {
      meterId: M1.id,
      day: "2026-01-14",
      value: totalWh,
      average7d: 8_000,
      variancePercent: 54.31,
      severity: "major",
    },
    maxPower: { day: "2026-01-14", valueVa: 6123.4, at: Date.parse("2026-01-14T18:30:00Z") },
    sync: { status: "ok", lastError: null, lastSuccessAt: LAST_SYNC, requestsRemaining: 42 },
    history: { firstDay: "2025-01-15", lastDay: "2026-01-14" },
  };
}
const m2States = (): MeterStateInput => ({
  meter: M2,
  latestDay: { day: "2026-01-14", totalWh: 3_210 },
  latestAnomaly: null,
  sync: { status: "ok", lastError: null, lastSuccessAt: LAST_SYNC, requestsRemaining: 42 },
  history: { firstDay: "2026-01-01", lastDay: "2026-01-14" },
});

function newPublisher(url: string, deleted: DeletedEntities, extra: Partial<ConstructorParameters<typeof EntityPublisher>[0]> = {}) {
  return new EntityPublisher({
    broker: { url, protocolVersion: 4 },
    discovery: OPTS,
    deleted,
    reconnectPeriodMs: 500,
    birthDelayMs: 200,
    ...extra,
  });
}

/** Retained messages under `filter`, as a fresh subscriber sees them. */
async function retained(url: string, filter: string, ms = 700): Promise<Map<string, string>> {
  const c = await mqtt.connectAsync(url, { clientId: `eb_test_peek_${Math.random().toString(16).slice(2, 10)}` });
  const out = new Map<string, string>();
  c.on("message", (t, p, packet) => {
    if (packet.retain) out.set(t, p.toString());
  });
  await c.subscribeAsync(filter, { qos: 1 });
  await sleep(ms);
  await c.endAsync();
  return out;
}



describeWithMosquitto(
  "MQTT discovery entities in a real Home Assistant",
  () => {
    let broker: MosquittoBroker;
    let ha: HomeAssistantInstance;
    printHaLogOnFailure(() => ha);
    let link: HaLink;
    let entryId: string;
    let pub: EntityPublisher;
    const store = new MemoryDeleted();
    const deletedEvents: string[] = [];
    const m1 = meterConfigs(M1, M1_FEATURES, OPTS);
    const m2 = meterConfigs(M2, {}, OPTS);
    const daily = "sensor.energy_bridge_12345678901234_daily";

    const ours = async () =>
      mqttEntities(link, "energy_bridge_");
    const devices = () => registryDevices(link);
    const deviceOf = mqttDevice;
    const state = (id: string) => haState(ha, id);
    const startPublisher = async (extra: Partial<ConstructorParameters<typeof EntityPublisher>[0]> = {}) => {
      const p = newPublisher(broker.url, store, { onDeleted: (id) => deletedEvents.push(id), ...extra });
      expect(await p.start()).toBe(true);
      await p.declareMeter(M1, M1_FEATURES);
      await p.declareMeter(M2);
      await p.publishMeterStates(m1States());
      await p.publishMeterStates(m2States());
      return p;
    };
    const registrySnapshot = async () =>
      (await ours())
        .map((e) => ({ entity_id: e.entity_id, unique_id: e.unique_id, device_id: e.device_id, name: e.name }))
        .sort((a, b) => a.unique_id.localeCompare(b.unique_id));

    beforeAll(async () => {
      broker = await startMosquitto();
      ha = await startHomeAssistant();
      entryId = await withBirth(broker.url, () => addMqttIntegration(ha, { host: broker.host, port: broker.port }));
      link = await haWs(ha, { keepAliveMs: 0, initialRetries: 3 });
      pub = await startPublisher();
    });
    afterAll(async () => {
      await pub?.stop();
      link?.close();
      await ha?.stop();
      await broker?.stop();
    });

    it("creates registry entities with our unique ids and entity ids, one device per meter under the bridge", async () => {
      const expected = [...m1, ...m2];
      const entities = await waitFor("every entity in the registry", async () => {
        const e = await ours();
        return expected.every((c) => e.some((x) => x.unique_id === c.uniqueId)) && e.some((x) => x.unique_id === "energy_bridge_bridge_version") ? e : null;
      });
      expect(entities).toHaveLength(expected.length + 1);
      for (const c of expected) {
        const e = entities.find((x) => x.unique_id === c.uniqueId)!;
        expect(e.entity_id, c.uniqueId).toBe(c.entityId);
        expect(e.config_entry_id).toBe(entryId);
      }
      // DESIGN naming, literally.
      expect(entities.map((e) => e.entity_id)).toEqual(
        expect.arrayContaining([
          daily,
          "binary_sensor.energy_bridge_12345678901234_anomaly",
          "sensor.energy_bridge_12345678901234_last_sync",
          "sensor.energy_bridge_12345678901234_max_power",
          "sensor.energy_bridge_98765432109876_production_daily",
          "sensor.energy_bridge_version",
        ]),
      );
      expect(entities.some((e) => /_\d+$/.test(e.entity_id))).toBe(false);
      expect(entities.find((e) => e.entity_id === "sensor.energy_bridge_12345678901234_last_sync")!.entity_category).toBe("diagnostic");

      const devs = await devices();
      const bridge = deviceOf(devs, "energy_bridge_bridge")!;
      const d1 = deviceOf(devs, "energy_bridge_12345678901234")!;
      const d2 = deviceOf(devs, "energy_bridge_98765432109876_production")!;
      expect(bridge).toMatchObject({ name: "Energy Bridge", model: "Home Assistant add-on", sw_version: "0.1.0-test" });
      expect(d1).toMatchObject({ name: "Linky 12345678901234", manufacturer: "Enedis", model: "Linky", via_device_id: bridge.id });
      expect(d2).toMatchObject({ name: "Linky 98765432109876 production", manufacturer: "Enedis", model: "Linky", via_device_id: bridge.id });
      for (const c of m1) expect(entities.find((e) => e.unique_id === c.uniqueId)!.device_id).toBe(d1.id);
      for (const c of m2) expect(entities.find((e) => e.unique_id === c.uniqueId)!.device_id).toBe(d2.id);

      const s = await waitFor("daily state", async () => ((await state(daily))?.state === "12.345" ? state(daily) : null));
      expect(s!.attributes).toMatchObject({ day: "2026-01-14", unit_of_measurement: "kWh", device_class: "energy", friendly_name: "Linky 12345678901234 Daily consumption" });
      expect(s!.attributes.state_class).toBeUndefined();
      const anomaly = (await state("binary_sensor.energy_bridge_12345678901234_anomaly"))!;
      expect(anomaly.state).toBe("on");
      expect(anomaly.attributes).toMatchObject({ severity: "major", variance_percent: 54.3, value_kwh: 12.345, avg_7d_kwh: 8, day: "2026-01-14" });
      const lastSync = (await state("sensor.energy_bridge_12345678901234_last_sync"))!;
      expect(Date.parse(lastSync.state)).toBe(LAST_SYNC);
      expect(lastSync.attributes).toMatchObject({ status: "ok", last_error: null });
      expect((await state("sensor.energy_bridge_12345678901234_requests_left"))!.state).toBe("42");
      expect((await state("sensor.energy_bridge_12345678901234_history"))!).toMatchObject({
        state: "365",
        attributes: { first_day: "2025-01-15", last_day: "2026-01-14" },
      });
      expect((await state("sensor.energy_bridge_12345678901234_max_power"))!).toMatchObject({
        state: "6123",
        attributes: { day: "2026-01-14", peak_at: "2026-01-14T18:30:00.000Z", unit_of_measurement: "VA" },
      });
      expect((await state("sensor.energy_bridge_version"))!.state).toBe("0.1.0-test");
    });

    it("a user rename survives a publisher restart, which makes no `_2` entity", async () => {
      await link.connection.sendMessagePromise({ type: "config/entity_registry/update", entity_id: daily, name: "House daily" });
      const before = await registrySnapshot();
      await pub.stop();
      await waitFor("offline → unavailable", async () => (await state(daily))?.state === "unavailable", 10_000);
      pub = await startPublisher();
      await waitFor("available again", async () => (await state(daily))?.state === "12.345", 10_000);
      expect(await registrySnapshot()).toEqual(before);
      expect(before.find((e) => e.entity_id === daily)!.name).toBe("House daily");
      expect((await state(daily))!.attributes.friendly_name).toBe("House daily");
    });

    it("a killed publisher process goes unavailable through its Last Will within seconds; a new one brings it back", async () => {
      await pub.stop();
      const publisherUrl = new URL("../../src/homeassistant/entities/publisher.ts", import.meta.url).href;
      const code = `
        const { EntityPublisher } = await import(${JSON.stringify(publisherUrl)});
        const p = new EntityPublisher({ broker: { url: ${JSON.stringify(broker.url)}, protocolVersion: 4 }, discovery: ${JSON.stringify(OPTS)},
          deleted: { isDeleted: () => false, markDeleted: () => {} } });
        if (!(await p.start())) process.exit(3);
        await p.declareMeter(${JSON.stringify(M1)}, ${JSON.stringify(M1_FEATURES)});
        await p.publishMeterStates(${JSON.stringify(m1States(20_000))});
        process.stdout.write("READY\\n");
        setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
        cwd: fileURLToPath(new URL("../..", import.meta.url)),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      try {
        await waitFor("child publisher ready", async () => out.includes("READY") || (child.exitCode !== null && Promise.reject(new Error(out))), 30_000);
        await waitFor("child's state", async () => (await state(daily))?.state === "20.0" || (await state(daily))?.state === "20", 10_000);
        const killedAt = Date.now();
        child.kill("SIGKILL");
        await waitFor("Last Will → unavailable", async () => (await state(daily))?.state === "unavailable", 10_000);
        expect(Date.now() - killedAt).toBeLessThan(5_000);
        // Entities only become unavailable: the registry is untouched.
        expect((await ours()).find((e) => e.entity_id === daily)!.name).toBe("House daily");
      } finally {
        child.kill("SIGKILL");
      }
      pub = await startPublisher();
      await waitFor("back after restart", async () => (await state(daily))?.state === "12.345", 10_000);
    });

    it("a device deleted in HA is removed for good: later publishes do not re-create it", async () => {
      const d2 = deviceOf(await devices(), "energy_bridge_98765432109876_production")!;
      await link.connection.sendMessagePromise({ type: "config/device_registry/remove_config_entry", config_entry_id: entryId, device_id: d2.id });
      await waitFor("M2 entities gone", async () => !(await ours()).some((e) => m2.some((c) => c.uniqueId === e.unique_id)), 10_000);
      await waitFor("deletions recorded", async () => m2.every((c) => store.isDeleted(c.uniqueId)), 10_000);
      expect(deletedEvents.sort()).toEqual(m2.map((c) => c.uniqueId).sort());
      expect(m1.some((c) => store.isDeleted(c.uniqueId))).toBe(false);

      // Publish again, restart the publisher, declare again: nothing of M2 comes back.
      await pub.declareMeter(M2);
      await pub.publishMeterStates(m2States());
      await pub.stop();
      pub = await startPublisher();
      await sleep(3_000);
      expect((await ours()).some((e) => m2.some((c) => c.uniqueId === e.unique_id))).toBe(false);
      expect(deviceOf(await devices(), "energy_bridge_98765432109876_production")).toBeUndefined();
      const configs = await retained(broker.url, configTopicFilter());
      for (const c of m2) expect(configs.has(c.topic), c.topic).toBe(false);
      for (const c of m1) expect(configs.has(c.topic), c.topic).toBe(true);
    });

    it("a single entity removed from the registry stays removed too", async () => {
      const history = m1.find((c) => c.uniqueId.endsWith("_history"))!;
      await link.connection.sendMessagePromise({ type: "config/entity_registry/remove", entity_id: history.entityId });
      await waitFor("deletion recorded", async () => store.isDeleted(history.uniqueId), 10_000);
      await pub.stop();
      pub = await startPublisher(); // a new connection: nothing is skipped as already sent
      await sleep(2_000);
      expect((await ours()).some((e) => e.unique_id === history.uniqueId)).toBe(false);
      expect(await state(history.entityId)).toBeNull();
      expect(m1.filter((c) => store.isDeleted(c.uniqueId)).map((c) => c.uniqueId)).toEqual([history.uniqueId]);
    });

    it("an HA restart re-creates nothing twice and keeps the rename; entities come back available", async () => {
      const before = await registrySnapshot();
      const devsBefore = (await devices()).filter((d) => d.identifiers.some(([a, b]) => a === "mqtt" && b.startsWith("energy_bridge_")));
      await withBirth(broker.url, () => ha.restart(), 120_000);
      await waitFor("available after the HA restart", async () => (await state(daily))?.state === "12.345", 30_000);
      await sleep(2_000); // the publisher's birth re-publish
      expect(await registrySnapshot()).toEqual(before);
      const devsAfter = (await devices()).filter((d) => d.identifiers.some(([a, b]) => a === "mqtt" && b.startsWith("energy_bridge_")));
      expect(devsAfter.map((d) => d.id).sort()).toEqual(devsBefore.map((d) => d.id).sort());
      expect(before.find((e) => e.entity_id === daily)!.name).toBe("House daily");
      expect((await state("binary_sensor.energy_bridge_12345678901234_anomaly"))!.state).toBe("on");
      expect(await state("sensor.energy_bridge_98765432109876_production_daily")).toBeNull();
      expect(await state("sensor.energy_bridge_12345678901234_history")).toBeNull();
      expect(ha.log()).not.toMatch(/is already used by|conflicting MQTT discovery|Invalid state message/);
      // Nothing from MQTT, sensors or about our entities at WARNING or above (deprecations included).
      const complaints = ha
        .log()
        .split("\n")
        .filter((l) => /(WARNING|ERROR|CRITICAL)/.test(l) && /components\.(mqtt|sensor|binary_sensor)|energy_bridge|deprecat/i.test(l));
      expect(complaints).toEqual([]);
    });
  },
  (title, fn) => describeWithHA(title, fn),
);

describeWithMosquitto("EntityPublisher against Mosquitto alone", () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("records a deletion (empty retained config from HA) and never re-publishes it, also from a new process", async () => {
    const store = new MemoryDeleted();
    const p = newPublisher(broker.url, store);
    expect(await p.start()).toBe(true);
    await p.declareMeter(M1, M1_FEATURES);
    await p.publishMeterStates(m1States());
    const [dailyCfg] = meterConfigs(M1, M1_FEATURES, OPTS);
    await waitFor("config retained", async () => (await retained(broker.url, dailyCfg!.topic, 200)).has(dailyCfg!.topic));
    const ha = await mqtt.connectAsync(broker.url, { clientId: "eb_test_fake_ha" });
    await ha.publishAsync(dailyCfg!.topic, "", { qos: 1, retain: true });
    await waitFor("deletion recorded", async () => store.isDeleted(dailyCfg!.uniqueId), 5_000);
    await p.publishMeterStates(m1States(30_000));
    await p.stop();
    const p2 = newPublisher(broker.url, store);
    expect(await p2.start()).toBe(true);
    await p2.declareMeter(M1, M1_FEATURES);
    const r = await retained(broker.url, "#");
    expect(r.has(dailyCfg!.topic)).toBe(false);
    expect(r.get(dailyCfg!.stateTopic)).toBe("12.345"); // the deleted entity's state was not re-sent
    expect(r.get(bridgeStateTopic())).toBe("online");

    // Deleted while no publisher ran: noticed from the broker's replay via wasPublished.
    const [, anomalyCfg] = meterConfigs(M1, M1_FEATURES, OPTS);
    await p2.stop();
    await ha.publishAsync(anomalyCfg!.topic, "", { qos: 1, retain: true });
    const p3 = newPublisher(broker.url, store);
    expect(await p3.start()).toBe(true);
    await p3.declareMeter(M1, M1_FEATURES);
    expect(store.isDeleted(anomalyCfg!.uniqueId)).toBe(true);
    expect((await retained(broker.url, configTopicFilter())).has(anomalyCfg!.topic)).toBe(false);
    await p3.stop();
    await ha.endAsync();

    // Stopping says offline and never empties configs.
    const after = await retained(broker.url, "#");
    expect(after.get(bridgeStateTopic())).toBe("offline");
    expect(after.has(meterConfigs(M1, M1_FEATURES, OPTS)[2]!.topic)).toBe(true);
  });

  it("removeMeter empties the meter's topics without counting it as a user deletion; a meter added back is published again", async () => {
    const store = new MemoryDeleted();
    const deletions: string[] = [];
    const p = newPublisher(broker.url, store, { onDeleted: (id) => deletions.push(id) });
    expect(await p.start()).toBe(true);
    const other: MeterDescriptor = { id: "11111111111111", name: "Linky 11111111111111" };
    await p.declareMeter(other);
    await p.publishMeterStates({ ...m1States(), meter: other, maxPower: null });
    const cfgs = meterConfigs(other, {}, OPTS);
    await waitFor("configs retained", async () => {
      const r = await retained(broker.url, "#", 300);
      return cfgs.every((c) => r.has(c.topic)) && r.has(cfgs[0]!.stateTopic);
    }, 5_000);
    await p.removeMeter(other.id);
    await waitFor("topics emptied", async () => {
      const r = await retained(broker.url, "#", 300);
      return ![...r.keys()].some((t) => t.includes("11111111111111"));
    }, 5_000);
    await sleep(300);
    expect(deletions).toEqual([]);
    expect(cfgs.some((c) => store.isDeleted(c.uniqueId))).toBe(false);
    await p.declareMeter(other);
    await waitFor("published again", async () => {
      const r = await retained(broker.url, configTopicFilter(), 300);
      return cfgs.every((c) => r.has(c.topic));
    }, 5_000);
    await p.stop();
    // A new process (its store remembers what was published) keeps it too.
    const p2 = newPublisher(broker.url, store, { onDeleted: (id) => deletions.push(id) });
    expect(await p2.start()).toBe(true);
    await p2.declareMeter(other);
    expect(deletions).toEqual([]);
    await p2.removeMeter(other.id);
    await p2.stop();
  });

  it("stop() says offline; stop({ offline: false }) (sync --once) leaves the bridge online, and no Last Will fires", async () => {
    const p1 = newPublisher(broker.url, new MemoryDeleted());
    expect(await p1.start()).toBe(true);
    await p1.declareMeter(M1, M1_FEATURES);
    await p1.stop({ offline: false });
    await sleep(500);
    expect((await retained(broker.url, bridgeStateTopic(), 300)).get(bridgeStateTopic())).toBe("online");
    const p2 = newPublisher(broker.url, new MemoryDeleted());
    expect(await p2.start()).toBe(true);
    await p2.stop();
    expect((await retained(broker.url, bridgeStateTopic(), 300)).get(bridgeStateTopic())).toBe("offline");
  });

  it("re-publishes everything after a broker restart that lost its retained store", async () => {
    const b = await startMosquitto({ persistence: false });
    try {
      const p = newPublisher(b.url, new MemoryDeleted());
      expect(await p.start()).toBe(true);
      await p.declareMeter(M1, M1_FEATURES);
      await p.publishMeterStates(m1States());
      await b.restart();
      const cfgs = meterConfigs(M1, M1_FEATURES, OPTS);
      await waitFor("configs back", async () => {
        const r = await retained(b.url, "#", 300);
        return cfgs.every((c) => r.has(c.topic)) && r.get(bridgeStateTopic()) === "online" && r.get(cfgs[0]!.stateTopic) === "12.345";
      }, 15_000);
      await p.stop();
    } finally {
      await b.stop();
    }
  });

  describe("with a password file", () => {
    let secured: MosquittoBroker;
    beforeAll(async () => {
      secured = await startMosquitto({ users: { energy: "s3cret" } });
    });
    afterAll(async () => {
      await secured?.stop();
    });

    it("a refused login never throws: start() says false and lastError is readable", async () => {
      const warnings: string[] = [];
      const p = new EntityPublisher({
        broker: { url: secured.url, protocolVersion: 4, username: "energy", password: "wrong" },
        discovery: OPTS,
        deleted: new MemoryDeleted(),
        reconnectPeriodMs: 300,
        log: { debug: () => undefined, info: () => undefined, warn: (m) => warnings.push(m) },
      });
      expect(await p.start(1_500)).toBe(false);
      expect(p.lastError).toMatch(/refused the credentials/);
      // Several refused attempts, one warning (the start() summary aside).
      expect(warnings.filter((w) => w.startsWith("MQTT: the MQTT broker") && /refused the credentials/.test(w))).toHaveLength(1);
      await p.stop();
      const ok = new EntityPublisher({
        broker: { url: secured.url, protocolVersion: 4, username: "energy", password: "s3cret" },
        discovery: OPTS,
        deleted: new MemoryDeleted(),
      });
      expect(await ok.start()).toBe(true);
      await ok.stop();
    });

    it("an unreachable broker never throws either", async () => {
      const p = new EntityPublisher({ broker: { url: "mqtt://127.0.0.1:1", protocolVersion: 4 }, discovery: OPTS, deleted: new MemoryDeleted(), reconnectPeriodMs: 300 });
      expect(await p.start(1_000)).toBe(false);
      expect(p.lastError).toMatch(/cannot reach the MQTT broker at mqtt:\/\/127\.0\.0\.1:1: connection refused/);
      await p.declareMeter(M1);
      await p.publishMeterStates(m1States());
      await p.stop();
    });
  });
});

