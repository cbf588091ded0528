/**
 * The demo: a local Home Assistant Core (the test harness), the Conso API simulator serving the
 * bundled real Sceaux household data shifted to recent dates, and Energy Bridge importing it all,
 * then running its daily schedule until Ctrl-C. Prints where to look.
 *
 *   npm run demo            (installs HA Core into a cached virtualenv on first run)
 *   EB_DEMO_PORT=8124 npm run demo
 */
import { createServer } from "node:net";
import { rmSync } from "node:fs";
import { startHomeAssistant } from "../test/helpers/ha-harness.js";
import { mosquittoAvailability, startMosquitto, type MosquittoBroker } from "../test/helpers/mosquitto.js";
import { addMqttIntegration, withBirth } from "../test/helpers/ha-mqtt.js";
import { startProviderSimulator } from "../test/helpers/provider-simulator.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../test/helpers/dataset.js";
import { testSettings } from "../test/helpers/service-fixture.js";
import { createLogger } from "../src/log.js";
import { startApp } from "../src/main.js";
import { addGridConsumption, energyIssuesFor } from "../src/homeassistant/energy-prefs.js";
import { entityIds } from "../src/homeassistant/entities.js";
import { formatSummary } from "../src/jobs/sync-meter.js";
import type { EcolyoModule } from "../src/modules/ecolyo/ecolyo-module.js";
import { defaultModules } from "../src/modules/catalog.js";
import { freePort } from "../test/helpers/ports.js";
import { createCozyFlow } from "../src/auth/flows/cozy.js";
import { createOAuthStateStore } from "../src/auth/oauth-state.js";
import { TokenVault } from "../src/auth/token-vault.js";
import { loadOrCreateVaultKey } from "../src/auth/vault-key.js";
import { addGasSource, addWaterSource } from "../src/homeassistant/energy-prefs.js";
import { startCozySimulator } from "../test/helpers/simulator/cozy.js";
import { ecolyoDocsFromData } from "../test/helpers/simulator/cozy-data.js";

const say = (msg: string) => console.log(`\x1b[1m[demo]\x1b[0m ${msg}`);

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once("error", () => res(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
  });
}

const wanted = Number(process.env.EB_DEMO_PORT ?? 8123);
const port = (await portIsFree(wanted)) ? wanted : undefined;
say(`starting Home Assistant Core in a temporary folder${port ? ` on port ${port}` : ""}…`);
const ha = await startHomeAssistant({
  ...(port ? { port } : {}),
  username: "demo",
  password: "demo-demo",
  completeOnboarding: true,
  allowSetupErrors: true, // onboarding's met/radio_browser/… flows cannot load offline; they only log
});
say(`Home Assistant ${ha.version} is up at ${ha.url} (started in ${(ha.timings.totalMs / 1000).toFixed(1)} s)`);

// Real entities need an MQTT broker: a local Mosquitto (Debian's, from scripts/setup-mosquitto.sh)
// and HA's MQTT integration; without it the add-on falls back to plain REST states.
let broker: MosquittoBroker | undefined;
if (mosquittoAvailability().available) {
  broker = await startMosquitto();
  const b = broker;
  await withBirth(b.url, () => addMqttIntegration(ha, { host: b.host, port: b.port }));
  say(`Mosquitto at ${b.url}, MQTT integration added: entities come through MQTT discovery (device "Linky demo")`);
} else {
  say("no mosquitto installed (bash scripts/setup-mosquitto.sh as root): entities will be plain REST states");
}

const series = loadHalfHourSeries(SCEAUX_2008_30MIN);
const sim = await startProviderSimulator({ series });
say(`Conso API simulator at ${sim.baseUrl}: real 30-min data of a household in Sceaux (UCI dataset, CC BY 4.0), shifted ${Math.round(sim.shiftMs / 604_800_000)} weeks to end yesterday`);

// The real gateway allows ~40 calls a day, so a real backfill spreads the 30-min history over a
// few days; the local simulator has no such limit, so the demo (like the tests) imports it at once.
const settings = testSettings(ha, sim, {
  meters: [{ provider: "conso_api", prm: sim.prm, token: sim.token, baseUrl: sim.baseUrl, name: "Linky demo", production: "off" }],
  logLevel: "info",
  ...(broker ? { mqtt: { url: broker.url } } : {}),
});
const dataDir = settings.dataDir;
const log = createLogger("info");
// The add-on's own page (accounts, dashboard), standalone: a login secret and a loopback port.
const WEB_SECRET = "demo-demo-demo";
settings.web = { host: "127.0.0.1", port: await freePort(), secret: WEB_SECRET };
// The real composition root with the service's modules, started: first start → backfill through
// the daily schedule's runner. Ecolyo (gas and water from a Cozy simulator) runs next to Linky.
const modules = await defaultModules(settings);
const ecolyo = modules.find((m) => m.name === "ecolyo") as EcolyoModule;
const app = await startApp(settings, { log, extraModules: modules });
const job = app.energy.jobs[0]!;

say("importing: daily totals for the whole history first, then the load curve newest-first…");
const t0 = Date.now();
// The first start runs the backfill on the schedule's runner; wait for that cycle to finish.
await new Promise<void>((resolve) => {
  const off = app.events.on("meter_synced", (e) => {
    if (e.meterId === job.meter.id) {
      off();
      resolve();
    }
  });
});
for (const s of app.energy.lastSummaries()) say(`${formatSummary(s)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
await addGridConsumption(app.ha.connection, app.ha.haVersion, job.statistic.statisticId);
const issues = await energyIssuesFor(app.ha.connection, job.statistic.statisticId);
say(issues.length === 0 ? "Energy dashboard: statistic added as grid consumption, energy/validate reports no issue" : `energy/validate issues: ${JSON.stringify(issues)}`);

// Ecolyo: a Cozy simulator serving the real AMPds2 daily gas and water (electricity comes from
// Linky above, so the Cozy holds no Enedis docs), connected through the real Cozy flow.
const docs = ecolyoDocsFromData(Date.now());
const cozy = await startCozySimulator({ docs: { "com.grandlyon.grdf.day": docs["com.grandlyon.grdf.day"]!, "com.grandlyon.egl.day": docs["com.grandlyon.egl.day"]! } });
const vault = new TokenVault(app.db, loadOrCreateVaultKey(dataDir, settings.vaultKey).key);
const cozyFlow = createCozyFlow({ db: app.db, vault, events: app.events, settings, log, now: Date.now, states: createOAuthStateStore() });
const cozyReq = { sessionId: "demo", callbackUrl: "http://127.0.0.1:8099/api/accounts/cozy/callback" };
const begun = await cozyFlow.begin({ instance: cozy.url }, cozyReq);
const consent = await fetch((begun as { url: string }).url, { redirect: "manual" });
await cozyFlow.callback!(Object.fromEntries(new URL(consent.headers.get("location")!).searchParams), cozyReq);
say(`Cozy simulator at ${cozy.url} connected (AMPds2 gas and water, CC BY 4.0); importing…`);
await ecolyo.firstSync;
for (const s of ecolyo.lastSummaries()) say(formatSummary(s));
const [, gasJob, waterJob] = ecolyo.jobs;
if (gasJob && waterJob) {
  await addGasSource(app.ha.connection, gasJob.statistic.statisticId);
  await addWaterSource(app.ha.connection, waterJob.statistic.statisticId);
  const more = [...(await energyIssuesFor(app.ha.connection, gasJob.statistic.statisticId)), ...(await energyIssuesFor(app.ha.connection, waterJob.statistic.statisticId))];
  say(more.length === 0 ? "Energy dashboard: Ecolyo gas and water added, energy/validate reports no issue" : `energy/validate issues: ${JSON.stringify(more)}`);
}

const ids = entityIds(sim.prm);
const nextRun = app.scheduler.nextRuns()[0] ?? null;
console.log(`
\x1b[1m================ Energy Bridge demo is running ================\x1b[0m
  Home Assistant   ${ha.url}
  Login            demo / demo-demo
  Add-on page      http://127.0.0.1:${settings.web.port}/   (secret ${WEB_SECRET}: accounts, dashboard with charts, anomalies, backfill)
  Energy dashboard ${ha.url}/energy   (today is empty: Enedis publishes D-1; press ‹ for yesterday, hourly bars for the past year)
  Statistic        ${job.statistic.statisticId}   (Developer tools → Statistics)
  Gas, water       ${ecolyo.jobs.slice(1).map((j) => j.statistic.statisticId).join(", ")}   (Ecolyo, daily values)
  Entities         ${ids.daily}, ${ids.anomaly}, ${ids.lastSync}
  Events           energy_bridge_anomaly (Developer tools → Events → listen)
  Next daily sync  ${nextRun ? new Date(nextRun).toISOString() : "—"}
  Press Ctrl-C to stop (Home Assistant and its temporary data are removed).
\x1b[1m===============================================================\x1b[0m
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  say("stopping…");
  await app.stop();
  await sim.close();
  await cozy.close();
  await ha.stop();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
if (process.env.EB_DEMO_EXIT_AFTER_IMPORT === "1") await stop();
