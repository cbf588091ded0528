/**
 * Benchmark: the running service (`energy-bridge run`, the built CLI) with the Linky module and
 * MQTT discovery connected — idle RSS once the first-start backfill is done, time from process
 * start to "ready" (Home Assistant and the broker already up), and shutdown time on SIGTERM.
 *
 * - Home Assistant: the test harness (newest installed release, or `HA_VERSION`), with the MQTT
 *   integration added through its config flow; Mosquitto: the test harness (Debian's mosquitto).
 * - Provider: the simulator serving one real year (Sceaux 2008) as the Conso API v2.
 * - RSS: /proc/<pid>/status VmRSS sampled every 100 ms over 10 s of idle, median and max.
 *
 *   npm run bench:service      (builds dist/ first)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../test/helpers/dataset.js";
import { startProviderSimulator } from "../test/helpers/provider-simulator.js";
import { startHomeAssistant } from "../test/helpers/ha-harness.js";
import { startMosquitto } from "../test/helpers/mosquitto.js";
import { addMqttIntegration, withBirth } from "../test/helpers/ha-mqtt.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssOf = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
const mb = (b: number) => (b / 1048576).toFixed(1);

/** Spawns the service; resolves with the child and a function waiting for a log line. */
function startService(env: NodeJS.ProcessEnv): { child: ChildProcess; t0: number; waitFor(re: RegExp, ms: number): Promise<number> } {
  const t0 = performance.now();
  const child = spawn(process.execPath, [resolve("bin/energy-bridge.js"), "run"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const waiters: { re: RegExp; resolve: (t: number) => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) (w.re.test(out) ? w.resolve(performance.now() - t0) : waiters.push(w));
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  return {
    child,
    t0,
    waitFor: (re, ms) =>
      new Promise((res, rej) => {
        if (re.test(out)) return res(performance.now() - t0);
        waiters.push({ re, resolve: res });
        setTimeout(() => rej(new Error(`no ${re} within ${ms} ms; output:\n${out.slice(-2000)}`)), ms).unref();
      }),
  };
}

async function idleRss(pid: number): Promise<{ median: number; max: number }> {
  const samples: number[] = [];
  for (let i = 0; i < 100; i++) {
    samples.push(rssOf(pid));
    await sleep(100);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[50]!, max: samples.at(-1)! };
}

async function stopTime(child: ChildProcess): Promise<number> {
  const t = performance.now();
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  await exited;
  return performance.now() - t;
}

const broker = await startMosquitto();
const ha = await startHomeAssistant();
const dir = mkdtempSync(join(tmpdir(), "eb-bench-service-"));
const sim = await startProviderSimulator({ series: loadHalfHourSeries(resolve("data", SCEAUX_2008_30MIN)) });
try {
  await withBirth(broker.url, () => addMqttIntegration(ha, { host: broker.host, port: broker.port }));
  const options = join(dir, "options.json");
  writeFileSync(
    options,
    JSON.stringify({ meters: [{ provider: "conso_api", prm: sim.prm, token: sim.token, base_url: sim.baseUrl, production: "off" }], mqtt_url: broker.url, request_budget_per_day: 500 }),
  );
  const env = { ...process.env, HA_URL: ha.url, HA_TOKEN: ha.token, DATA_DIR: dir, ENERGY_BRIDGE_OPTIONS: options, LOG_FORMAT: "json" };

  // 1. First start: backfill one real year, then idle.
  const first = startService(env);
  await first.waitFor(/"msg":"meter \d+: ok \|/, 300_000);
  await sleep(5_000);
  const idleAfterBackfill = await idleRss(first.child.pid!);
  const stop1 = await stopTime(first.child);

  // 2. A restart with everything synced: time to ready, idle RSS.
  const second = startService(env);
  const readyMs = await second.waitFor(/"msg":"ready:/, 60_000);
  await sleep(5_000);
  const idle = await idleRss(second.child.pid!);
  const stop2 = await stopTime(second.child);

  const rows = [
    ["Home Assistant", ha.version],
    ["start → ready (spawn to the `ready` log line; HA and broker up, store synced)", `${readyMs.toFixed(0)} ms`],
    ["idle RSS, restarted service (median / max of 100 samples over 10 s)", `${mb(idle.median)} / ${mb(idle.max)} MB`],
    ["idle RSS right after a one-year first-start backfill", `${mb(idleAfterBackfill.median)} / ${mb(idleAfterBackfill.max)} MB`],
    ["SIGTERM → exit (idle)", `${stop1.toFixed(0)} ms, ${stop2.toFixed(0)} ms`],
  ];
  console.log("| measure | value |\n|---|---|");
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
} finally {
  await sim.close();
  await ha.stop();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
