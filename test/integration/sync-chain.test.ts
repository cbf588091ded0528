/**
 * Three real Home Assistant instances in a ring, A → B → C → A, each with its own Mosquitto and our
 * composition root running both the sync server and the sync client; B and C re-export mirrored
 * entities (off by default) so the ring is real. A's temperature sensor reaches B (path [A]) and C
 * (path [A, B]) as MQTT entities, follows changes, and never comes back into A; no instance grows
 * new mirrored entities over time.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { callService } from "home-assistant-js-websocket";
import { describeWithHA, haWs, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { describeWithMosquitto, startMosquitto, type MosquittoBroker } from "../helpers/mosquitto.js";
import { addMqttIntegration } from "../helpers/ha-mqtt.js";
import { freePort } from "../helpers/ports.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { startApp, type App } from "../../src/main.js";
import { createLogger } from "../../src/log.js";
import { openStore } from "../../src/store/db.js";
import type { Settings } from "../../src/settings.js";
import { SyncServerModule } from "../../src/modules/sync-server/module.js";
import { SyncClientModule } from "../../src/modules/sync-client/module.js";
import { deviceKeyFor, entityKeyFor } from "../../src/sync/client/mirror.js";
import { instanceId, migrateSync } from "../../src/sync/store.js";
import { ClientRegistry } from "../../src/sync/server/clients.js";
import { Exposure } from "../../src/sync/server/acl.js";

const A_CONFIG = `
input_number:
  outside: {min: -50, max: 50, step: 0.5, initial: 12, mode: box}
template:
  - sensor:
      - name: Outside temperature
        unique_id: outside_temperature
        unit_of_measurement: "°C"
        state: "{{ states('input_number.outside') }}"
`;
const TIMING = { connectTimeoutMs: 3000, authTimeoutMs: 2000, snapshotTimeoutMs: 5000, heartbeatMs: 1000, heartbeatTimeoutMs: 3000, maxBackoffMs: 2000 };

interface Node {
  ha: HomeAssistantInstance;
  broker: MosquittoBroker;
  dir: string;
  id: string;
  port: number;
  code: string;
  app?: App;
}

async function state(ha: HomeAssistantInstance, entityId: string) {
  const r = await fetch(`${ha.url}/api/states/${entityId}`, { headers: { authorization: `Bearer ${ha.token}` } });
  return r.status === 200 ? ((await r.json()) as { state: string; attributes: Record<string, unknown> }) : null;
}
async function ids(ha: HomeAssistantInstance): Promise<string[]> {
  const r = await fetch(`${ha.url}/api/states`, { headers: { authorization: `Bearer ${ha.token}` } });
  return ((await r.json()) as { entity_id: string }[]).map((s) => s.entity_id).filter((id) => id.includes("energy_bridge_sync_")).sort();
}

describeWithMosquitto(
  "Three real Home Assistant instances in a mirror ring",
  () => {
    const nodes: Node[] = [];
    printHaLogOnFailure(() => nodes.map((n) => n.ha));
    const mirrored = (from: Node, entityId: string) => `${entityId.split(".")[0]}.energy_bridge_${deviceKeyFor(from.id)}_${entityKeyFor(entityId)}`;
    let onB = "";
    let onC = "";

    beforeAll(async () => {
      const has = await Promise.all([startHomeAssistant({ extraConfig: A_CONFIG }), startHomeAssistant(), startHomeAssistant()]);
      for (const ha of has) {
        const broker = await startMosquitto();
        await addMqttIntegration(ha, { host: broker.host, port: broker.port });
        const dir = mkdtempSync(join(tmpdir(), "eb-sync-ring-"));
        // Prepare each store before start: instance id, a pairing code for the next node.
        const db = openStore(join(dir, "energy-bridge.sqlite"));
        migrateSync(db);
        const id = instanceId(db);
        const code = new ClientRegistry(db).createPairingCode(null, 3600_000).code;
        db.close();
        nodes.push({ ha, broker, dir, id, port: await freePort(), code });
      }
      const [a, b, c] = nodes as [Node, Node, Node];
      onB = mirrored(a, "sensor.outside_temperature");
      onC = mirrored(b, onB);
      const expose: [Node, string][] = [[a, "sensor.outside_temperature"], [b, onB], [c, onC]];
      for (const [n, id] of expose) {
        const db = openStore(join(n.dir, "energy-bridge.sqlite"));
        new Exposure(db).set("all", "", [id], true);
        db.close();
      }
      // Ring: B follows A, C follows B, A follows C.
      const upstream = new Map([[a, c], [b, a], [c, b]]);
      for (const n of nodes) {
        const up = upstream.get(n)!;
        const settings: Settings = {
          mode: "standalone",
          dataDir: n.dir,
          homeAssistant: { wsUrl: n.ha.wsUrl, apiUrl: `${n.ha.url}/api`, token: n.ha.token },
          meters: [],
          anomalyThresholdPercent: 120,
          retentionDays: 730,
          logLevel: "warning",
          mqtt: { url: n.broker.url },
          sync: { server: { port: n.port, tokenDays: 365 }, clientServers: [] },
        };
        n.app = await startApp(settings, {
          log: createLogger("warning"),
          extraModules: [
            new SyncServerModule({ host: "127.0.0.1", port: n.port, reexportMirrored: n !== a }),
            new SyncClientModule({ servers: [{ url: `http://127.0.0.1:${up.port}`, name: `from ${nodes.indexOf(up)}`, pairingCode: up.code }], timing: TIMING }),
          ],
        });
      }
    }, 400_000);

    afterAll(async () => {
      for (const n of nodes) await n.app?.stop().catch(() => undefined);
      await Promise.all(nodes.map((n) => n.ha.stop()));
      for (const n of nodes) await n.broker.stop();
    });

    it("A's entity travels A → B → C with origin and path, follows changes, and never comes back into A", async () => {
      const [a, b, c] = nodes as [Node, Node, Node];
      await waitFor("A's sensor on B", async () => (await state(b.ha, onB))?.state === "12.0", 60_000);
      await waitFor("A's sensor on C", async () => (await state(c.ha, onC))?.state === "12.0", 60_000);
      const sc = (await state(c.ha, onC))!;
      expect(sc.attributes.eb_sync_origin).toBe(a.id);
      expect(sc.attributes.eb_sync_path).toEqual([a.id, b.id]);
      const linkA = await haWs(a.ha);
      try {
        for (const v of [13, 14.5, 15]) {
          await callService(linkA.connection, "input_number", "set_value", { value: v }, { entity_id: "input_number.outside" });
          await sleep(300);
        }
      } finally {
        linkA.close();
      }
      await waitFor("C follows", async () => (await state(c.ha, onC))?.state === "15.0", 20_000);
      await sleep(3000);
      // A holds no mirrored entity at all (its only upstream, C, has only A's own entity to offer).
      expect(await ids(a.ha)).toEqual([]);
      expect(await ids(b.ha)).toEqual([onB]);
      expect(await ids(c.ha)).toEqual([onC]);
    });
  },
  describeWithHA,
);
