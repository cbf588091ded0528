/**
 * Benchmark: the entity mirror on loopback — a real Home Assistant (test harness) with 1,000
 * entities, our sync server in its own process (the real composition root, bundled with esbuild
 * and run on plain Node so no loader inflates its memory), and 10 clients (the real client link,
 * src/sync/client/link.ts) in this process: 5 see all 1,000 entities, 5 a 50-entity ACL.
 *
 * Measured: state-change-to-client latency (from just before `POST /api/states` on HA to the diff
 * arriving at a client that may see the entity), p50/p99 over every delivery, at 50 changes/s for
 * BENCH_SECONDS (default 60); bytes per client (JSON payload and TCP wire bytes after
 * permessage-deflate, snapshot + diffs) for the 50-entity ACL vs all; the server's RSS idle
 * (10 s after the snapshots, /proc VmRSS every 100 ms) and under load.
 *
 *   npm run bench:sync
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { startHomeAssistant } from "../test/helpers/ha-harness.js";
import { ServerLink } from "../src/sync/client/link.js";

const N = 1000;
const CLIENTS = 10;
const RATE = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssOf = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
const mb = (b: number) => (b / 1048576).toFixed(1);
const pct = (a: number[], p: number) => a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))]!;

const ha = await startHomeAssistant();
const post = (id: string, state: string) =>
  fetch(`${ha.url}/api/states/${id}`, {
    method: "POST",
    headers: { authorization: `Bearer ${ha.token}`, "content-type": "application/json" },
    body: JSON.stringify({ state, attributes: { unit_of_measurement: "W", friendly_name: `Bench ${id}` } }),
  });
const ids = Array.from({ length: N }, (_, i) => `sensor.bench_${i}`);
for (let i = 0; i < N; i += 50) await Promise.all(ids.slice(i, i + 50).map((id) => post(id, "0")));

// Inside the project, so the bundle resolves node_modules (packages stay external).
// Code splitting keeps the full service (dynamic import) and its packages out of the minimal mode.
const outdir = join(process.cwd(), ".bench-build", "sync-server");
await build({ entryPoints: ["bench/sync-server-proc.ts"], bundle: true, splitting: true, platform: "node", format: "esm", packages: "external", outdir, outExtension: { ".js": ".mjs" }, logLevel: "error" });
const outfile = join(outdir, "sync-server-proc.mjs");
const child = spawn(process.execPath, ["--max-semi-space-size=4", outfile], {
  env: { ...process.env, HA_URL: ha.url, HA_TOKEN: ha.token, DATA_DIR: mkdtempSync(join(tmpdir(), "eb-bench-sync-data-")), BENCH_ENTITIES: ids.join(","), BENCH_CLIENTS: String(CLIENTS), BENCH_ACL: "50", BENCH_MINIMAL: process.env.BENCH_MINIMAL ?? "0" },
  stdio: ["pipe", "pipe", "inherit"],
});
let out = "";
const lines: ((l: string) => void)[] = [];
child.stdout!.on("data", (d: Buffer) => {
  out += d.toString();
  let i;
  while ((i = out.indexOf("\n")) >= 0) {
    const line = out.slice(0, i);
    out = out.slice(i + 1);
    for (const l of lines) l(line);
  }
});
const nextLine = (prefix: string) => new Promise<string>((res) => lines.push((l) => l.startsWith(prefix) && res(l.slice(prefix.length))));
const ready = JSON.parse(await nextLine("READY ")) as { port: number; clients: { token: string; acl: "all" | "small"; entities: string[] }[] };

const sentAt = new Map<string, number>();
const latencies: number[] = [];
/** From HA's own `last_updated` (state written in HA) to the client: our path only (HA → server → client). */
const pathLatencies: number[] = [];
let snapshots = 0;
const links = ready.clients.map((c, i) => {
  const l = new ServerLink(`http://127.0.0.1:${ready.port}`, () => c.token, `cccccccc-0000-4000-8000-${String(i).padStart(12, "0")}`, {
    onSnapshot: () => snapshots++,
    onDiff: (changed) => {
      const now = performance.now();
      for (const s of changed) {
        const t = sentAt.get(s.state);
        if (t !== undefined) {
          latencies.push(now - t);
          if (s.last_updated) pathLatencies.push(Date.now() - Date.parse(s.last_updated));
        }
      }
    },
    onStatus: () => undefined,
  });
  l.start();
  return l;
});
while (snapshots < CLIENTS) await sleep(50);

const idle: number[] = [];
for (let i = 0; i < 100; i++) {
  idle.push(rssOf(child.pid!));
  await sleep(100);
}
idle.sort((a, b) => a - b);

// Load: 50 changes/s to random entities, each with a unique state value.
const load: number[] = [];
let seq = 0;
let expected = 0;
const t0 = performance.now();
const sampler = setInterval(() => load.push(rssOf(child.pid!)), 200);
while (performance.now() - t0 < SECONDS * 1000) {
  const id = ids[Math.floor(Math.random() * N)]!;
  const value = `v${++seq}`;
  expected += ready.clients.filter((c) => c.acl === "all" || c.entities.includes(id)).length;
  sentAt.set(value, performance.now());
  void post(id, value);
  const next = t0 + (seq * 1000) / RATE;
  await sleep(Math.max(0, next - performance.now()));
}
await sleep(2000);
clearInterval(sampler);
load.sort((a, b) => a - b);
child.stdin!.write("stats\n");
const stats = JSON.parse(await nextLine("STATS ")) as { bytes: Record<string, { payload: number; wire: number }> };
latencies.sort((a, b) => a - b);
pathLatencies.sort((a, b) => a - b);

const avg = (acl: "all" | "small", k: "payload" | "wire") => {
  const idx = ready.clients.map((c, i) => (c.acl === acl ? i : -1)).filter((i) => i >= 0);
  return idx.reduce((s, i) => s + stats.bytes[i]![k], 0) / idx.length;
};
console.log(`\nentity mirror bench (${process.env.BENCH_MINIMAL === "1" ? "sync server alone" : "full service process"}, HA ${ha.version}, ${N} entities, ${CLIENTS} clients, ${RATE} changes/s for ${SECONDS} s, ${seq} changes)`);
console.log(`| measure | value |\n|---|---|`);
console.log(`| load average at the end (1 min) | ${(await import("node:os")).loadavg()[0]!.toFixed(1)} |`);
console.log(`| deliveries received / expected | ${latencies.length} / ${expected} |`);
console.log(`| latency HA state change → client, p50 | ${pct(latencies, 50).toFixed(1)} ms |`);
console.log(`| latency p99 | ${pct(latencies, 99).toFixed(1)} ms (max ${latencies.at(-1)?.toFixed(1)} ms) |`);
console.log(`| latency HA state written (last_updated) → client, p50 / p99 | ${pct(pathLatencies, 50).toFixed(0)} ms / ${pct(pathLatencies, 99).toFixed(0)} ms (ms clock) |`);
console.log(`| bytes per client, all ${N} entities (payload / wire) | ${(avg("all", "payload") / 1024).toFixed(1)} kB / ${(avg("all", "wire") / 1024).toFixed(1)} kB |`);
console.log(`| bytes per client, 50-entity ACL (payload / wire) | ${(avg("small", "payload") / 1024).toFixed(1)} kB / ${(avg("small", "wire") / 1024).toFixed(1)} kB |`);
console.log(`| server RSS idle (median / max of 10 s) | ${mb(pct(idle, 50))} MB / ${mb(idle.at(-1)!)} MB |`);
console.log(`| server RSS under load (median / max) | ${mb(pct(load, 50))} MB / ${mb(load.at(-1)!)} MB |`);

for (const l of links) l.stop();
child.kill("SIGTERM");
await new Promise((r) => child.on("exit", r));
await ha.stop();
process.exit(0);
