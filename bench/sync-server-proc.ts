/**
 * Child process of bench/sync.bench.ts: the real composition root (startApp) with the sync-server
 * module against a real Home Assistant, so its RSS is the service's. Environment: HA_URL, HA_TOKEN,
 * DATA_DIR, BENCH_ENTITIES (entity ids, comma-separated), BENCH_CLIENTS (count), BENCH_ACL (size of
 * the small per-client ACL), BENCH_MINIMAL=1 (only the sync server's own services, no energy
 * module or MQTT: its own footprint). Half the clients see every entity, half a BENCH_ACL-entity slice.
 * Prints one line `READY {"port":…,"clients":[{"token":…,"acl":"all"|"small","entities":[…]}]}`;
 * on the stdin line `stats` prints `STATS {"bytes":{clientIndex:{payload,wire}}}`.
 */
import { createInterface } from "node:readline";
import { createLogger } from "../src/log.js";
import { SyncServerModule } from "../src/modules/sync-server/module.js";
import { join } from "node:path";
import { connectHomeAssistant } from "../src/homeassistant/connection.js";
import { openStore } from "../src/store/db.js";
import { TokenVault } from "../src/auth/token-vault.js";
import { loadOrCreateVaultKey } from "../src/auth/vault-key.js";
import { createWebRoutes } from "../src/modules/web-routes.js";
import type { ModuleContext } from "../src/modules/module.js";

const env = process.env;
const entities = (env.BENCH_ENTITIES ?? "").split(",").filter(Boolean);
const nClients = Number(env.BENCH_CLIENTS ?? 10);
const acl = Number(env.BENCH_ACL ?? 50);
const server = new SyncServerModule({ host: "127.0.0.1", port: 0 });
const settings = {
  mode: "standalone" as const,
  dataDir: env.DATA_DIR!,
  homeAssistant: { wsUrl: `${env.HA_URL!.replace(/^http/, "ws")}/api/websocket`, apiUrl: `${env.HA_URL}/api`, token: env.HA_TOKEN! },
  meters: [],
  anomalyThresholdPercent: 120,
  retentionDays: 730,
  logLevel: "error" as const,
  sync: { server: { port: 0, tokenDays: 365 }, clientServers: [] },
};
const log = createLogger("error", 2);
let stop: () => Promise<void>;
if (env.BENCH_MINIMAL === "1") {
  // Only what the sync server uses: store, vault, HA link, route registry (no energy module, no MQTT).
  const db = openStore(join(env.DATA_DIR!, "store.sqlite"));
  const ha = await connectHomeAssistant({ wsUrl: settings.homeAssistant.wsUrl, token: settings.homeAssistant.token });
  const vault = new TokenVault(db, loadOrCreateVaultKey(env.DATA_DIR!).key);
  const ctx = { settings, db, ha, vault, web: createWebRoutes(), log, now: Date.now } as unknown as ModuleContext;
  await server.start(ctx);
  stop = async () => {
    await server.stop();
    ha.close();
  };
} else {
  // Imported only here, so the minimal mode does not load the whole service.
  const { startApp } = await import("../src/main.js");
  const app = await startApp(settings, { log, extraModules: [server] });
  stop = () => app.stop();
}
const p = server.parts!;
while (!entities.every((e) => p.hub.states.has(e))) await new Promise((r) => setTimeout(r, 100));
const clients: { id: string; token: string; acl: "all" | "small"; entities: string[] }[] = [];
for (let i = 0; i < nClients; i++) {
  const c = p.clients.add(`bench ${i}`, `bbbbbbbb-0000-4000-8000-${String(i).padStart(12, "0")}`, null, 365);
  const small = i >= nClients / 2;
  const seen = small ? entities.slice((i * acl) % entities.length, ((i * acl) % entities.length) + acl) : entities;
  p.exposure.set("client", c.id, seen, true);
  clients.push({ id: c.id, token: (await p.authority.issue(c.id, 365)).token, acl: small ? "small" : "all", entities: seen });
}
process.stdout.write(`READY ${JSON.stringify({ port: p.http.port, clients: clients.map(({ token, acl: a, entities: e }) => ({ token, acl: a, entities: e })) })}\n`);
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "stats") return;
  const bytes = p.http.sessions.bytesPerClient();
  const out: Record<number, { payload: number; wire: number }> = {};
  clients.forEach((c, i) => (out[i] = bytes.get(c.id) ?? { payload: 0, wire: 0 }));
  process.stdout.write(`STATS ${JSON.stringify({ bytes: out })}\n`);
});
process.on("SIGTERM", () => void stop().then(() => process.exit(0)));
