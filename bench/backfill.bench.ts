/**
 * Benchmark: full backfill of 3 years of 30-min load curve for one meter — parse (Enedis
 * "mesure synchrone v2" JSON, the flat v2 object the Conso API passes through) + store (SQLite
 * upsert, coverage, dirty hours) + statistics rows (rebuild, running sums, diff, import payloads)
 * + anomalies — then one daily sync. The data is the bundled real Sceaux 2008 series tiled over
 * 3 years. Home Assistant's recorder is replaced by an in-memory fake here (timing our code, not
 * HA's).
 *
 * Each run is a fresh Node process (cold JIT, fresh heap, as the CLI's cycle is); the table gives
 * the median of `BENCH_RUNS` runs (default 9) and the min–max spread.
 *
 *   npm run bench            prints a Markdown table (copied into bench/README.md)
 *   BENCH_RUNS=1 npm run bench
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DateTime } from "luxon";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../test/helpers/dataset.js";
import { fakeRecorder } from "../test/helpers/fake-recorder.js";
import { parseEnedisV2 } from "../src/providers/enedis-v2.js";
import { openStore } from "../src/store/db.js";
import { upsertMeter } from "../src/store/meters.js";
import { storeFetched } from "../src/jobs/fetch-meter.js";
import { writeStatistics } from "../src/jobs/write-statistics.js";
import { updateAnomalies } from "../src/jobs/detect-anomalies.js";
import { createLogger } from "../src/log.js";
import type { Meter } from "../src/domain/types.js";
import { median } from "./median.js";

const ZONE = "Europe/Paris";
const HALF_HOUR = 1_800_000;
const YEARS = 3;
const PRM = "12345678901234";

/** What one run measures (ms, counts, bytes). */
interface RunResult {
  points: number;
  weeks: number;
  parseMs: number;
  storeMs: number;
  statsMs: number;
  anomaliesMs: number;
  totalMs: number;
  rows: number;
  flagged: number;
  recent: number;
  rssBefore: number;
  peakRss: number;
  maxRss: number;
  dailyPoints: number;
  dailyRows: number;
  dailyAdjustments: number;
  dailyMs: number;
}

/**
 * Weekly Conso API v2 bodies (flat mesure synchrone v2 object: `grandeur[0]` CONS/PA in W,
 * `d` = END of the interval in naive Paris time, `p` = PT30M) over [from, to), as the JSON text
 * an HTTP response carries.
 */
function buildBodies(source: readonly (number | null)[], from: DateTime, to: DateTime): { range: { start: string; end: string }; body: string }[] {
  const out: { range: { start: string; end: string }; body: string }[] = [];
  let i = 0;
  for (let w = from; w < to; w = w.plus({ days: 7 })) {
    const wEnd = DateTime.min(w.plus({ days: 7 }), to);
    const points: object[] = [];
    for (let t = w.toMillis(); t < wEnd.toMillis(); t += HALF_HOUR, i++) {
      const wh = source[i % source.length];
      if (wh === null || wh === undefined) continue;
      points.push({
        v: String(Math.round(wh * 2 * 1000) / 1000),
        d: DateTime.fromMillis(t + HALF_HOUR, { zone: ZONE }).toFormat("yyyy-MM-dd HH:mm:ss"),
        p: "PT30M",
        n: "B",
        iv: "0",
        ec: "0",
      });
    }
    const range = { start: w.toISODate()!, end: wEnd.toISODate()! };
    out.push({
      range,
      body: JSON.stringify({
        idPrm: PRM,
        etapeMetier: "BRUT",
        periode: { dateDebut: range.start, dateFin: range.end },
        modeCalcul: "MESURE",
        grandeur: [{ grandeurMetier: "CONS", grandeurPhysique: "PA", unite: "W", points, calendrier: [] }],
        contexte: [],
      }),
    });
  }
  return out;
}

/** One backfill + daily sync in this process. */
async function runOnce(): Promise<RunResult> {
  // Resolved from the working directory (npm runs scripts at the repo root), so the compiled copy finds data/ too.
  const source = loadHalfHourSeries(resolve("data", SCEAUX_2008_30MIN)).map((p) => p.wh);
  const end = DateTime.now().setZone(ZONE).startOf("day");
  const start = end.minus({ years: YEARS });
  const now = end.toMillis() + 3_600_000;
  // Making the test input is not part of the measure: every body is rendered before the clock starts.
  const bodies = buildBodies(source, start, end.minus({ days: 1 }));
  const daily = buildBodies(source, end.minus({ days: 1 }), end)[0]!;

  const dir = mkdtempSync(join(tmpdir(), "eb-bench-"));
  const db = openStore(join(dir, "bench.sqlite"));
  const meter: Meter = { id: PRM, provider: "conso_api", kind: "electricity", unit: "Wh", timezone: ZONE, name: "bench" };
  upsertMeter(db, meter);
  const statistic = { statisticId: `energy_bridge:linky_${PRM}_consumption`, name: "bench", unit: "kWh" as const, unitClass: "energy" as const };
  const log = createLogger("silent");
  const ha = fakeRecorder();
  const parseOpts = { usagePoint: PRM, resolution: "load_curve" as const, timezone: ZONE, now: () => now, source: "Conso API" };

  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  // memoryUsage.rss(): the RSS alone (memoryUsage() also walks the heap spaces, which costs time in the measure).
  const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage.rss()));
  let points = 0;
  let parseMs = 0;
  let storeMs = 0;
  const t0 = performance.now();
  for (const { range, body } of bodies) {
    const p0 = performance.now();
    const result = parseEnedisV2(JSON.parse(body), parseOpts);
    const p1 = performance.now();
    storeFetched(db, meter, { resolution: "load_curve", ...range }, result.readings, now);
    const p2 = performance.now();
    parseMs += p1 - p0;
    storeMs += p2 - p1;
    points += result.readings.length;
    sample();
  }
  const tStored = performance.now();
  const written = await writeStatistics(db, ha.conn, "2025.4.4", meter, statistic, { log });
  const tStats = performance.now();
  sample();
  const found = updateAnomalies(db, meter, written.fromDay!, end.minus({ days: 1 }).toISODate()!, {
    thresholdPercent: 120,
    now,
    days: written.days,
  });
  const tDone = performance.now();
  sample();

  // A following daily sync: yesterday's 48 half-hours arrive.
  const sentBefore = ha.sent.rows;
  const t1 = performance.now();
  const r = parseEnedisV2(JSON.parse(daily.body), parseOpts);
  storeFetched(db, meter, { resolution: "load_curve", ...daily.range }, r.readings, now);
  const dailyWrite = await writeStatistics(db, ha.conn, "2025.4.4", meter, statistic, { log });
  updateAnomalies(db, meter, dailyWrite.fromDay!, end.toISODate()!, { thresholdPercent: 120, now, days: dailyWrite.days });
  const t2 = performance.now();

  const flagged = (db.prepare("SELECT COUNT(*) AS n FROM anomalies").get() as { n: number }).n;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    points,
    weeks: bodies.length,
    parseMs,
    storeMs,
    statsMs: tStats - tStored,
    anomaliesMs: tDone - tStats,
    totalMs: tDone - t0,
    rows: written.rowsSent,
    flagged,
    recent: found.length,
    rssBefore,
    peakRss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    dailyPoints: r.readings.length,
    dailyRows: ha.sent.rows - sentBefore,
    dailyAdjustments: dailyWrite.adjustments,
    dailyMs: t2 - t1,
  };
}

function table(runs: RunResult[]): string {
  const pick = (f: (r: RunResult) => number) => runs.map(f);
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const n = (x: number) => Math.round(x).toLocaleString("en");
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
  const r0 = runs[0]!;
  const pts = r0.points;
  /** "median (min–max)" of a duration and the matching points/s. */
  const stage = (f: (r: RunResult) => number) => {
    const xs = pick(f);
    const spread = runs.length > 1 ? ` [${s(Math.min(...xs))}–${s(Math.max(...xs))}]` : "";
    return `${s(median(xs))}${spread} (${n(pts / (median(xs) / 1000))} points/s)`;
  };
  const spreadPps = (() => {
    const xs = pick((r) => r.totalMs);
    return runs.length > 1 ? `, runs ${n(pts / (Math.max(...xs) / 1000))}–${n(pts / (Math.min(...xs) / 1000))}` : "";
  })();
  return [
    "| measure | value |",
    "|---|---|",
    `| points (3 years × 30 min, real data tiled) | ${n(pts)} in ${r0.weeks} weekly v2 responses |`,
    `| parse (JSON.parse + v2 validation + DST-aware dates) | ${stage((r) => r.parseMs)} |`,
    `| store (upsert, dirty span, coverage; one transaction per response) | ${stage((r) => r.storeMs)} |`,
    `| statistics rows (rebuild, sums, diff, payloads, mirror) | ${stage((r) => r.statsMs)}, ${n(r0.rows)} hourly rows |`,
    `| anomalies (${YEARS * 365} days judged) | ${stage((r) => r.anomaliesMs)}, ${r0.flagged} flagged (${r0.recent} recent) |`,
    `| **full backfill throughput** | **${n(pts / (median(pick((r) => r.totalMs)) / 1000))} points/s** (${s(median(pick((r) => r.totalMs)))}${spreadPps}) |`,
    `| RSS during the backfill (sampled peak) | ${mb(median(pick((r) => r.peakRss)))} (before: ${mb(median(pick((r) => r.rssBefore)))}; process max ${mb(median(pick((r) => r.maxRss)))}) |`,
    `| following daily sync | ${r0.dailyPoints} points → **${r0.dailyRows} rows sent**, ${r0.dailyAdjustments} adjustments, ${s(median(pick((r) => r.dailyMs)))} |`,
  ].join("\n");
}

if (process.env.BENCH_CHILD === "1") {
  process.stdout.write(JSON.stringify(await runOnce()));
} else {
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 9));
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_CHILD: "1" },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (child.status !== 0) throw new Error(`bench run ${i + 1} failed (exit ${child.status})`);
    results.push(JSON.parse(child.stdout) as RunResult);
  }
  console.log(table(results));
  console.log(`\n${runs} run(s), median [min–max]; node ${process.version}, ${process.arch}, ${process.execArgv.join(" ")}, ${DateTime.now().toISODate()}`);
}
