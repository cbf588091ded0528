/**
 * The entity mirror end to end with TWO real Home Assistant Cores and a real Mosquitto:
 * - server side: HA "S" with a template light (backed by input_number.kitchen_level) and a template
 *   temperature sensor; our composition root (startApp) running the sync-server module on S;
 * - client side: HA "C" with the MQTT integration on Mosquitto; our composition root with the
 *   sync-client module, connected to the server through a loopback TCP proxy (so the test can cut,
 *   freeze or black-hole the link with real sockets).
 *
 * Proves: a state change on S appears on C; `light.turn_on` on C's mirrored light changes S's light,
 * executed exactly once, also when the link freezes mid-call (result lost → watchdog → reconnect →
 * same correlation id → served from the ledger); an unexposed entity is neither mirrored, nor listed,
 * nor callable; stopping the server makes C's entities unavailable with their registry entries and
 * unique ids kept, and they recover by themselves; a hung server (accepts TCP, never answers) is
 * detected by the watchdog; a revoked client is cut off within 1 s and cannot reconnect.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { callService, type HassEvent } from "home-assistant-js-websocket";
import { describeWithHA, haWs, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { describeWithMosquitto, startMosquitto, type MosquittoBroker } from "../helpers/mosquitto.js";
import { addMqttIntegration } from "../helpers/ha-mqtt.js";
import { freePort } from "../helpers/ports.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { startTcpProxy, type TcpProxy } from "../unit/sync/tcp-proxy.js";
import { startApp, type App } from "../../src/main.js";
import { createLogger } from "../../src/log.js";
import type { HaLink } from "../../src/homeassistant/connection.js";
import type { Settings } from "../../src/settings.js";
import { SyncServerModule } from "../../src/modules/sync-server/module.js";
import { SyncClientModule } from "../../src/modules/sync-client/module.js";
import { deviceKeyFor } from "../../src/sync/client/mirror.js";
import { API_PREFIX } from "../../src/sync/protocol.js";

const SERVER_CONFIG = `
input_number:
  kitchen_level: {min: 0, max: 255, step: 1, initial: 0, mode: box}
  outside: {min: -50, max: 50, step: 0.5, initial: 12, mode: box}
  heater_power: {min: 0, max: 1, step: 1, initial: 0, mode: box}
  garage_pos: {min: 0, max: 100, step: 1, initial: 0, mode: box}
switch:
  - platform: template
    switches:
      heater:
        friendly_name: Heater
        value_template: "{{ states('input_number.heater_power') | int > 0 }}"
        turn_on: {service: input_number.set_value, target: {entity_id: input_number.heater_power}, data: {value: 1}}
        turn_off: {service: input_number.set_value, target: {entity_id: input_number.heater_power}, data: {value: 0}}
cover:
  - platform: template
    covers:
      garage:
        friendly_name: Garage
        device_class: garage
        position_template: "{{ states('input_number.garage_pos') | int }}"
        open_cover: {service: input_number.set_value, target: {entity_id: input_number.garage_pos}, data: {value: 100}}
        close_cover: {service: input_number.set_value, target: {entity_id: input_number.garage_pos}, data: {value: 0}}
        stop_cover: {service: input_number.set_value, target: {entity_id: input_number.garage_pos}, data: {value: "{{ states('input_number.garage_pos') | int }}"}}
        set_cover_position: {service: input_number.set_value, target: {entity_id: input_number.garage_pos}, data: {value: "{{ position }}"}}
climate:
  - platform: generic_thermostat
    name: Living room
    heater: switch.heater
    target_sensor: sensor.outside_temperature
    min_temp: 7
    max_temp: 30
    target_temp: 19
    initial_hvac_mode: heat
light:
  - platform: template
    lights:
      kitchen:
        friendly_name: Kitchen
        value_template: "{{ states('input_number.kitchen_level') | int > 0 }}"
        level_template: "{{ states('input_number.kitchen_level') | int }}"
        turn_on: {service: input_number.set_value, target: {entity_id: input_number.kitchen_level}, data: {value: 255}}
        turn_off: {service: input_number.set_value, target: {entity_id: input_number.kitchen_level}, data: {value: 0}}
        set_level: {service: input_number.set_value, target: {entity_id: input_number.kitchen_level}, data: {value: "{{ brightness }}"}}
template:
  - sensor:
      - name: Outside temperature
        unique_id: outside_temperature
        unit_of_measurement: "°C"
        device_class: temperature
        state_class: measurement
        state: "{{ states('input_number.outside') }}"
`;

const TIMING = { connectTimeoutMs: 3000, authTimeoutMs: 2000, snapshotTimeoutMs: 5000, heartbeatMs: 1000, heartbeatTimeoutMs: 1500, maxBackoffMs: 2000 };

const silent = () => createLogger("warning");

function settingsFor(ha: HomeAssistantInstance, dataDir: string, extra: Partial<Settings> = {}): Settings {
  return {
    mode: "standalone",
    dataDir,
    homeAssistant: { wsUrl: ha.wsUrl, apiUrl: `${ha.url}/api`, token: ha.token },
    meters: [],
    anomalyThresholdPercent: 120,
    retentionDays: 730,
    logLevel: "warning",
    ...extra,
  };
}

async function state(ha: HomeAssistantInstance, entityId: string): Promise<{ state: string; attributes: Record<string, unknown> } | null> {
  const r = await fetch(`${ha.url}/api/states/${entityId}`, { headers: { authorization: `Bearer ${ha.token}` } });
  return r.status === 200 ? ((await r.json()) as { state: string; attributes: Record<string, unknown> }) : null;
}

describeWithMosquitto(
  "Entity mirror between two real Home Assistant instances",
  () => {
    let broker: MosquittoBroker;
    let haS: HomeAssistantInstance;
    let haC: HomeAssistantInstance;
    printHaLogOnFailure(() => [haS, haC]);
    let linkS: HaLink;
    let linkC: HaLink;
    let proxy: TcpProxy;
    let syncPort: number;
    const serverDir = mkdtempSync(join(tmpdir(), "eb-sync-server-"));
    const clientDir = mkdtempSync(join(tmpdir(), "eb-sync-client-"));
    let serverApp: App;
    let server: SyncServerModule;
    let clientApp: App;
    let client: SyncClientModule;
    let lightC = "";
    let sensorC = "";
    const lightCalls: { service: string; data: unknown }[] = [];

    const startServer = async () => {
      server = new SyncServerModule({ host: "127.0.0.1", port: syncPort, idleTimeoutMs: 10_000 });
      serverApp = await startApp(settingsFor(haS, serverDir, { sync: { server: { port: syncPort, tokenDays: 365 }, clientServers: [] } }), {
        log: silent(),
        extraModules: [server],
      });
    };

    beforeAll(async () => {
      broker = await startMosquitto();
      [haS, haC] = await Promise.all([startHomeAssistant({ extraConfig: SERVER_CONFIG }), startHomeAssistant()]);
      await addMqttIntegration(haC, { host: broker.host, port: broker.port });
      linkS = await haWs(haS);
      linkC = await haWs(haC);
      await linkS.connection.subscribeEvents((ev: HassEvent) => {
        const d = ev.data as { domain?: string; service?: string; service_data?: { entity_id?: unknown } };
        const ids = d.service_data?.entity_id;
        const list = Array.isArray(ids) ? ids : [ids];
        if (d.domain === "light" && list.includes("light.kitchen")) lightCalls.push({ service: d.service ?? "", data: d.service_data });
      }, "call_service");

      syncPort = await freePort();
      await startServer();
      proxy = await startTcpProxy(syncPort);
      const parts = server.parts!;
      // Nothing is shared until chosen: the light and the sensor, not the input_numbers.
      await waitFor("server states", async () => ["light.kitchen", "sensor.outside_temperature", "switch.heater", "cover.garage", "climate.living_room"].every((id) => parts.hub.states.has(id)));
      parts.exposure.set("all", "", ["light.kitchen", "sensor.outside_temperature"], true);
      const { code } = parts.clients.createPairingCode();

      client = new SyncClientModule({ servers: [{ url: proxy.url, name: "Main house", pairingCode: code, area: "Main house" }], timing: TIMING, unavailableGraceMs: 3000, clientName: "Wall display" });
      clientApp = await startApp(settingsFor(haC, clientDir, { mqtt: { url: broker.url }, sync: { clientServers: [] } }), { log: silent(), extraModules: [client] });
      const dk = deviceKeyFor(parts.serverId);
      lightC = `light.energy_bridge_${dk}_light_kitchen`;
      sensorC = `sensor.energy_bridge_${dk}_sensor_outside_temperature`;
    }, 300_000);

    afterAll(async () => {
      await clientApp?.stop().catch(() => undefined);
      await serverApp?.stop().catch(() => undefined);
      await proxy?.close();
      linkS?.close();
      linkC?.close();
      await Promise.all([haS?.stop(), haC?.stop()]);
      await broker?.stop();
    });

    it("mirrors the exposed entities as MQTT entities of one device per server, and state changes follow", async () => {
      const s = await waitFor("mirrored sensor on C", async () => {
        const st = await state(haC, sensorC);
        return st && st.state === "12.0" ? st : null;
      }, 60_000);
      expect(s.attributes.unit_of_measurement).toBe("°C");
      // The loop markers travel in the real entity's attributes (what a local sync server reads).
      expect(s.attributes.eb_sync_origin).toBe(server.parts!.serverId);
      expect(s.attributes.eb_sync_path).toEqual([server.parts!.serverId]);
      const l = await waitFor("mirrored light on C", async () => state(haC, lightC), 30_000);
      expect(l.state).toBe("off");
      // Registry: real entities with our unique ids, under one device named after the server.
      const reg = await linkC.connection.sendMessagePromise<{ entity_id: string; unique_id: string; platform: string; device_id: string }[]>({ type: "config/entity_registry/list" });
      const mine = reg.filter((e) => e.unique_id.startsWith(`energy_bridge_${deviceKeyFor(server.parts!.serverId)}_`));
      expect(mine.map((e) => e.entity_id).sort()).toEqual([lightC, sensorC].sort());
      expect(new Set(mine.map((e) => e.device_id)).size).toBe(1);
      const devices = await linkC.connection.sendMessagePromise<{ id: string; name: string; area_id: string | null }[]>({ type: "config/device_registry/list" });
      const dev = devices.find((d) => d.id === mine[0]!.device_id)!;
      expect(dev.name).toBe("Main house");

      // A state change on S appears on C.
      const t0 = Date.now();
      await callService(linkS.connection, "input_number", "set_value", { value: 21.5 }, { entity_id: "input_number.outside" });
      await waitFor("21.5 on C", async () => (await state(haC, sensorC))?.state === "21.5", 10_000);
      expect(Date.now() - t0).toBeLessThan(10_000);
    });

    it("an entity not exposed is neither mirrored, listed nor callable", async () => {
      // The client's own token, as stored in its vault (what the client itself uses).
      const token = client.followers[0]!.registration()!;
      const auth = { authorization: `Bearer ${token.token}`, "content-type": "application/json" };
      const list = (await (await fetch(`${proxy.url}${API_PREFIX}/entities`, { headers: auth })).json()) as { entity_id: string }[];
      expect(list.map((e) => e.entity_id).sort()).toEqual(["light.kitchen", "sensor.outside_temperature"]);
      const r = await fetch(`${proxy.url}${API_PREFIX}/call_service`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ correlation_id: "test-unexposed-1", domain: "input_number", service: "set_value", entity_id: "input_number.kitchen_level", data: { value: 99 } }),
      });
      expect(r.status).toBe(404);
      expect((await state(haS, "input_number.kitchen_level"))?.state).toBe("0.0");
      expect(await state(haC, `input_number.energy_bridge_${deviceKeyFor(server.parts!.serverId)}_input_number_kitchen_level`)).toBeNull();
    });

    it("light.turn_on on the client's mirrored light changes the server's light exactly once", async () => {
      lightCalls.length = 0;
      await callService(linkC.connection, "light", "turn_on", { brightness: 128 }, { entity_id: lightC });
      await waitFor("server light on at 128", async () => {
        const st = await state(haS, "light.kitchen");
        return st?.state === "on" && st.attributes.brightness === 128;
      }, 10_000);
      await waitFor("client light shows the server's state", async () => (await state(haC, lightC))?.attributes.brightness === 128, 10_000);
      await sleep(1500);
      expect(lightCalls.filter((c) => c.service === "turn_on")).toHaveLength(1);
    });

    it("runs a call exactly once when the link freezes mid-call (answer lost, or request lost)", async () => {
      const ledger = server.parts!.ledger;
      const f = client.followers[0]!;
      // 1. Answers lost: requests still reach the server, nothing comes back (half-dead link).
      lightCalls.length = 0;
      let replays = ledger.replays;
      let executed = ledger.executed;
      let connects = f.link!.connects;
      proxy.freezeAll("down");
      await callService(linkC.connection, "light", "turn_off", undefined, { entity_id: lightC });
      await waitFor("server light off", async () => (await state(haS, "light.kitchen"))?.state === "off", 10_000);
      // The watchdog notices the dead link, reconnects, re-sends the same id; the ledger answers it.
      await waitFor("client reconnected", async () => f.link!.connects > connects && f.link!.status === "connected", 20_000);
      await waitFor("call replayed from the ledger", async () => ledger.replays > replays, 10_000);
      await sleep(1000);
      expect(ledger.executed - executed).toBe(1);
      expect(lightCalls.filter((c) => c.service === "turn_off")).toHaveLength(1);
      expect((await state(haC, lightC))?.state).toBe("off");

      // 2. Requests lost: the call never reached the server; it runs once after the reconnect.
      lightCalls.length = 0;
      replays = ledger.replays;
      executed = ledger.executed;
      connects = f.link!.connects;
      proxy.freezeAll("both");
      await callService(linkC.connection, "light", "turn_on", { brightness: 200 }, { entity_id: lightC });
      await waitFor("server light on at 200 after the reconnect", async () => (await state(haS, "light.kitchen"))?.attributes.brightness === 200, 20_000);
      expect(f.link!.connects).toBeGreaterThan(connects);
      await sleep(1500);
      expect(ledger.executed - executed).toBe(1);
      expect(lightCalls.filter((c) => c.service === "turn_on")).toHaveLength(1);
      await waitFor("client shows the server's real state", async () => (await state(haC, lightC))?.attributes.brightness === 200, 10_000);
    });

    it("stopping the server makes the client's entities unavailable (registry kept) and they recover by themselves", async () => {
      const before = await linkC.connection.sendMessagePromise<{ entity_id: string; unique_id: string }[]>({ type: "config/entity_registry/list" });
      const ids = before.filter((e) => e.entity_id === lightC || e.entity_id === sensorC).map((e) => e.unique_id).sort();
      expect(ids).toHaveLength(2);
      await serverApp.stop();
      await waitFor("client entities unavailable", async () => (await state(haC, lightC))?.state === "unavailable" && (await state(haC, sensorC))?.state === "unavailable", 15_000);
      const during = await linkC.connection.sendMessagePromise<{ entity_id: string; unique_id: string }[]>({ type: "config/entity_registry/list" });
      expect(during.filter((e) => e.entity_id === lightC || e.entity_id === sensorC).map((e) => e.unique_id).sort()).toEqual(ids);
      await callService(linkS.connection, "input_number", "set_value", { value: -3 }, { entity_id: "input_number.outside" });
      await startServer();
      await waitFor("client recovered with the current state", async () => (await state(haC, sensorC))?.state === "-3.0", 30_000);
      expect((await state(haC, lightC))?.state).toBe((await state(haS, "light.kitchen"))?.state);
    });

    it("detects a hung server (accepts TCP, never answers) with the watchdog", async () => {
      const f = client.followers[0]!;
      proxy.mode = "blackhole";
      proxy.cutAll();
      await waitFor("watchdog fired on a stage", async () => f.link!.status === "disconnected" && /watchdog: no (auth_ok|connection)/.test(f.link!.detail ?? ""), 15_000);
      await waitFor("client entities unavailable", async () => (await state(haC, sensorC))?.state === "unavailable", 15_000);
      proxy.mode = "pass";
      await waitFor("recovered", async () => f.link!.status === "connected" && (await state(haC, sensorC))?.state === "-3.0", 20_000);
    });

    it("controls a switch, a thermostat and a cover through their mirrored MQTT entities", async () => {
      const parts = server.parts!;
      parts.exposure.set("all", "", ["switch.heater", "cover.garage", "climate.living_room"], true);
      parts.http.sessions.resnapshot();
      const dk = deviceKeyFor(parts.serverId);
      const sw = `switch.energy_bridge_${dk}_switch_heater`;
      const cv = `cover.energy_bridge_${dk}_cover_garage`;
      const cl = `climate.energy_bridge_${dk}_climate_living_room`;
      // (The thermostat drives the heater switch itself: compare with the server, not a constant.)
      for (const [id, src] of [[sw, "switch.heater"], [cv, "cover.garage"], [cl, "climate.living_room"]] as const) {
        await waitFor(`mirrored ${id} on C equal to ${src}`, async () => {
          const [c, s] = [await state(haC, id), await state(haS, src)];
          return c && s && c.state === s.state && c.state !== "unavailable";
        }, 30_000);
      }
      await callService(linkC.connection, "climate", "set_hvac_mode", { hvac_mode: "off" }, { entity_id: cl });
      await waitFor("server thermostat off", async () => (await state(haS, "climate.living_room"))?.state === "off", 10_000);
      await callService(linkC.connection, "switch", "turn_off", undefined, { entity_id: sw });
      await waitFor("server switch off", async () => (await state(haS, "switch.heater"))?.state === "off", 10_000);
      await waitFor("client switch off", async () => (await state(haC, sw))?.state === "off", 10_000);
      await callService(linkC.connection, "switch", "turn_on", undefined, { entity_id: sw });
      await waitFor("server switch on", async () => (await state(haS, "switch.heater"))?.state === "on", 10_000);
      await callService(linkC.connection, "climate", "set_temperature", { temperature: 21.5 }, { entity_id: cl });
      await waitFor("server thermostat at 21.5", async () => (await state(haS, "climate.living_room"))?.attributes.temperature === 21.5, 10_000);
      await waitFor("client thermostat shows 21.5", async () => (await state(haC, cl))?.attributes.temperature === 21.5, 10_000);
      await callService(linkC.connection, "climate", "set_hvac_mode", { hvac_mode: "heat" }, { entity_id: cl });
      await waitFor("server thermostat heating again", async () => (await state(haS, "climate.living_room"))?.state === "heat", 10_000);
      await callService(linkC.connection, "cover", "set_cover_position", { position: 40 }, { entity_id: cv });
      await waitFor("server cover at 40", async () => (await state(haS, "cover.garage"))?.attributes.current_position === 40, 10_000).catch(async (err: Error) => {
        const f = client.followers[0]!;
        throw new Error(`${err.message}; client cover ${JSON.stringify(await state(haC, cv))}; server cover ${JSON.stringify(await state(haS, "cover.garage"))}; link ${f.link?.status} ${f.link?.detail}; ledger executed ${parts.ledger.executed}\n${haC.log().split("\n").filter((l) => /cover|mqtt/i.test(l)).slice(-10).join("\n")}`);
      });
      await waitFor("client cover shows 40", async () => (await state(haC, cv))?.attributes.current_position === 40, 10_000);
      await callService(linkC.connection, "cover", "open_cover", undefined, { entity_id: cv });
      await waitFor("server cover open at 100", async () => (await state(haS, "cover.garage"))?.attributes.current_position === 100, 10_000);
    });

    it("a revoked client is cut off within 1 s and cannot reconnect", async () => {
      const f = client.followers[0]!;
      const reg = f.registration()!;
      const t0 = Date.now();
      server.parts!.revoke(reg.clientId);
      await waitFor("client refused", async () => f.link!.status === "refused", 5_000);
      expect(Date.now() - t0).toBeLessThan(1000);
      await waitFor("client entities unavailable", async () => (await state(haC, sensorC))?.state === "unavailable", 15_000);
      const r = await fetch(`${proxy.url}${API_PREFIX}/auth`, { headers: { authorization: `Bearer ${reg.token}` } });
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: string }).error).toBe("revoked");
      await sleep(3000);
      expect(f.link!.status).toBe("refused");
      expect(server.parts!.http.sessions.connectedClients().get(reg.clientId) ?? 0).toBe(0);
    });
  },
  describeWithHA,
);
