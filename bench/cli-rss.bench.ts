/**
 * Benchmark: peak RSS of the real `energy-bridge sync --once` process during a 3-year backfill into
 * a real Home Assistant Core, and during a following cycle with nothing new to fetch.
 *
 * - Home Assistant: the test harness (`test/helpers/ha-harness.ts`, the pinned HA Core from
 *   `npm run setup:ha`; `HA_VERSION` picks the release, default the newest one installed).
 * - Provider: the simulator (`test/helpers/provider-simulator.ts`) serving the bundled Sceaux 2008
 *   series tiled over 3 years (ending today), as the Conso API v2 at a self-hosted base URL
 *   (`BENCH_CONSO_API=v5` for a build whose Conso API provider still speaks v5).
 * - The CLI: `node bin/energy-bridge.js sync --once` (the built `dist/cli.js`; `EB_CLI` = another
 *   launcher or entry), no Node flags unless `BENCH_NODE_FLAGS` gives some, budget 500 a day.
 * - RSS: `/proc/<pid>/status` of the child every 10 ms; VmHWM (the kernel's exact high-water mark)
 *   as last read before the child exited, and VmRSS over time for the time of the peak.
 *
 *   npm run bench:cli        (builds dist/ first); BENCH_RUNS=3 for a median over fresh HAs
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadHalfHourSeries, SCEAUX_2008_30MIN, type HalfHourPoint } from "../test/helpers/dataset.js";
import { startProviderSimulator } from "../test/helpers/provider-simulator.js";
import { median } from "./median.js";

type Harness = typeof import("../test/helpers/ha-harness.js");

const YEARS = 3;
const HALF_HOUR = 1_800_000;

/** The harness module for the requested (or newest installed) HA release; HA_VERSION is read at import. */
async function loadHarness(): Promise<Harness> {
  const url = new URL("../test/helpers/ha-harness.js", import.meta.url).href;
  const first = (await import(url)) as Harness;
  if (process.env.HA_VERSION) return first;
  const installed = [...first.HA_VERSIONS].reverse().find((v) => first.haAvailability(v).available);
  if (!installed) throw new Error(`no Home Assistant installed (${first.haAvailability().reason}); run \`npm run setup:ha\``);
  if (installed === first.HA_VERSION) return first;
  process.env.HA_VERSION = installed;
  return (await import(`${url}?ha=${installed}`)) as Harness; // a fresh module instance reads the new HA_VERSION
}

/** The 2008 half-hours repeated `YEARS` times on a continuous grid (the simulator shifts it to end today). */
function tiledSeries(): HalfHourPoint[] {
  const year = loadHalfHourSeries(resolve("data", SCEAUX_2008_30MIN));
  const t0 = year[0]!.start;
  const out: HalfHourPoint[] = [];
  for (let k = 0; k < YEARS; k++) for (let i = 0; i < year.length; i++) out.push({ start: t0 + (k * year.length + i) * HALF_HOUR, wh: year[i]!.wh });
  return out;
}

interface Status {
  hwm: number;
  rss: number;
}

function readStatus(pid: number): Status | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
    return { hwm: kb("VmHWM"), rss: kb("VmRSS") };
  } catch {
    return null; // exited
  }
}

interface CycleResult {
  peakBytes: number;
  /** Seconds from start when VmRSS was highest. */
  peakAtS: number;
  wallS: number;
  code: number | null;
  stdout: string;
  stderrTail: string;
}

/** Runs one `sync --once` and samples its memory. */
function runCycle(cli: string, env: NodeJS.ProcessEnv, optionsFile: string): Promise<CycleResult> {
  const flags = (process.env.BENCH_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean);
  const t0 = performance.now();
  const child = spawn(process.execPath, [...flags, cli, "sync", "--once", "--options", optionsFile], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let hwm = 0;
  let maxRss = 0;
  let peakAt = 0;
  const timer = setInterval(() => {
    const s = readStatus(child.pid!);
    if (!s) return;
    hwm = Math.max(hwm, s.hwm);
    if (s.rss > maxRss) {
      maxRss = s.rss;
      peakAt = (performance.now() - t0) / 1000;
    }
  }, 10);
  return new Promise((ok) => {
    child.on("exit", (code) => {
      clearInterval(timer);
      ok({ peakBytes: Math.max(hwm, maxRss), peakAtS: peakAt, wallS: (performance.now() - t0) / 1000, code, stdout: stdout.trim(), stderrTail: stderr.trim() });
    });
  });
}

async function oneRun(h: Harness, cli: string): Promise<{ backfill: CycleResult; idle: CycleResult; haVersion: string; rows: number }> {
  const ha = await h.startHomeAssistant();
  const sim = await startProviderSimulator({ series: tiledSeries(), consoApi: process.env.BENCH_CONSO_API === "v5" ? "v5" : "v2" });
  const dataDir = mkdtempSync(join(tmpdir(), "eb-cli-rss-"));
  try {
    const optionsFile = join(dataDir, "options.json");
    writeFileSync(
      optionsFile,
      JSON.stringify({
        meters: [{ provider: "conso_api", prm: sim.prm, token: sim.token, base_url: sim.baseUrl, name: "Linky bench", production: "off" }],
        request_budget_per_day: 500,
        log_level: "info",
      }),
    );
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TZ: "Europe/Paris", HA_URL: ha.url, HA_TOKEN: ha.token, DATA_DIR: dataDir };
    const backfill = await runCycle(cli, env, optionsFile);
    const idle = await runCycle(cli, env, optionsFile);
    const link = await h.haWs(ha);
    let rows = 0;
    try {
      const res = await link.connection.sendMessagePromise<Record<string, unknown[]>>({
        type: "recorder/statistics_during_period",
        start_time: "2000-01-01T00:00:00Z",
        end_time: "2100-01-01T00:00:00Z",
        statistic_ids: [`energy_bridge:linky_${sim.prm}_consumption`],
        period: "hour",
        types: ["sum"],
      });
      rows = Object.values(res)[0]?.length ?? 0;
    } finally {
      link.close();
    }
    return { backfill, idle, haVersion: ha.version, rows };
  } finally {
    await sim.close();
    await ha.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const cli = resolve(process.env.EB_CLI ?? "bin/energy-bridge.js");
if (!existsSync(cli)) throw new Error(`${cli} does not exist`);
if (!process.env.EB_CLI && !existsSync(resolve("dist/cli.js"))) throw new Error("dist/cli.js is missing: run `npm run build` first");
const h = await loadHarness();
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));
const results = [];
for (let i = 0; i < runs; i++) {
  const r = await oneRun(h, cli);
  for (const [name, c] of [["backfill", r.backfill], ["idle", r.idle]] as const) {
    if (c.code !== 0) console.error(`${name} cycle exited ${c.code}:\n${c.stderrTail}`);
    console.error(`run ${i + 1} ${name}: peak ${(c.peakBytes / 1048576).toFixed(1)} MB at ${c.peakAtS.toFixed(1)} s of ${c.wallS.toFixed(1)} s — ${c.stdout}`);
  }
  results.push(r);
}
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
const spread = (xs: number[]) => (xs.length > 1 ? ` [${mb(Math.min(...xs))}–${mb(Math.max(...xs))}]` : "");
const b = results.map((r) => r.backfill.peakBytes);
const i = results.map((r) => r.idle.peakBytes);
const r0 = results[0]!;
console.log(
  [
    "| cycle | peak RSS (VmHWM) | wall | summary |",
    "|---|---|---|---|",
    `| 3-year backfill | **${mb(median(b))}**${spread(b)} | ${median(results.map((r) => r.backfill.wallS)).toFixed(1)} s | ${r0.backfill.stdout.replace(/\|/g, "/")} |`,
    `| following cycle, nothing new | **${mb(median(i))}**${spread(i)} | ${median(results.map((r) => r.idle.wallS)).toFixed(1)} s | ${r0.idle.stdout.replace(/\|/g, "/")} |`,
  ].join("\n"),
);
console.log(
  `\n${runs} run(s); HA ${r0.haVersion} (${r0.rows.toLocaleString("en")} hourly rows after the backfill); \`node ${process.env.BENCH_NODE_FLAGS ?? ""} ${pathToFileURL(cli).pathname.replace(resolve(".") + "/", "")} sync --once\`; node ${process.version}`,
);
