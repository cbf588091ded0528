/**
 * `npm run bench:dashboard`: the dashboard API over three years of real 30-min data for one meter
 * (test/helpers/dataset.ts loadThreeYearSeries, ~54k readings) in a file-backed SQLite store.
 *
 * 1. Month statistics (seed 001's target: < 50 ms): `GET api/meters/:id/statistics?period=month`
 *    for one month (with its two comparisons: previous month, same month last year) and for all
 *    three years (37 months), over a real HTTP socket (fastify listening on loopback, Node fetch).
 *    Median and p95 of 50 runs uncached (a write before each drops the memo) and memoised, and
 *    the first (cold) one.
 * 2. The dashboard's first API response: in this fresh process, from `listen` to the end of the
 *    first `GET api/meters`, then to the end of the page's first month-view statistics call.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Fastify from "fastify";
import { dashboardApi } from "../src/modules/dashboard/api.js";
import { openStore } from "../src/store/db.js";
import { upsertMeter } from "../src/store/meters.js";
import { upsertReadings } from "../src/store/readings.js";
import { loadThreeYearSeries } from "../test/helpers/dataset.js";

const PRM = "12345678901234";
const RUNS = Number(process.env.BENCH_RUNS ?? 50);

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, min ${s[0]!.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "eb-bench-dash-"));
  const db = openStore(join(dir, "store.db"));
  upsertMeter(db, { id: PRM, provider: "conso_api", kind: "electricity", unit: "Wh", timezone: "Europe/Paris", name: "Linky" }, 0);
  const points = loadThreeYearSeries();
  const readings = points.filter((p) => p.wh !== null).map((p) => ({ start: p.start, durationMs: 1_800_000, value: p.wh!, quality: "BRUT" }));
  upsertReadings(db, PRM, readings);

  const app = Fastify();
  await app.register(dashboardApi({ db, now: () => Date.parse("2009-01-01T12:00:00Z") }));
  const t0 = performance.now();
  const base = await app.listen({ host: "127.0.0.1", port: 0 });
  const meters = await (await fetch(`${base}/api/meters`)).json();
  const tMeters = performance.now() - t0;
  const monthUrl = `${base}/api/meters/${PRM}/statistics?period=month&from=2008-12-01&to=2009-01-01`;
  const firstCmp = await fetch(monthUrl);
  await firstCmp.json();
  const tFirstStats = performance.now() - t0;

  const time = async (url: string) => {
    const a = performance.now();
    const r = await fetch(url);
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    await r.json();
    return performance.now() - a;
  };
  const allUrl = `${base}/api/meters/${PRM}/statistics?period=month&from=2005-11-01&to=2009-01-01`;
  const coldAll = await time(allUrl);
  // Uncached: a write (one kv row) before each run drops the day-summary memo (day-cache.ts), so
  // every run reads its readings from SQLite. Cached: the same query repeated with no write between.
  const touch = db.prepare(`INSERT INTO kv (key, value) VALUES ('bench', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`);
  const one: number[] = [];
  const all: number[] = [];
  const oneCached: number[] = [];
  const allCached: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    touch.run(String(i));
    one.push(await time(monthUrl));
    oneCached.push(await time(monthUrl));
    touch.run(String(i));
    all.push(await time(allUrl));
    allCached.push(await time(allUrl));
  }
  await app.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`readings: ${readings.length} half-hours (${points[0] && new Date(points[0].start).toISOString().slice(0, 10)} … 2008-12-31), meters: ${meters.meters.length}`);
  console.log(`first API response (listen → GET api/meters done): ${tMeters.toFixed(1)} ms`);
  console.log(`first month-view statistics (listen → done, cold): ${tFirstStats.toFixed(1)} ms`);
  console.log(`month statistics, one month + comparisons, uncached ×${RUNS}: ${stats(one)}; memoised: ${stats(oneCached)}`);
  console.log(`month statistics, all 3 years (37 months), first ${coldAll.toFixed(1)} ms, uncached ×${RUNS}: ${stats(all)}; memoised: ${stats(allCached)}`);
  const median = [...one].sort((a, b) => a - b)[Math.floor(one.length / 2)]!;
  console.log(median < 50 ? "target < 50 ms: met" : "target < 50 ms: NOT met");
}

await main();
