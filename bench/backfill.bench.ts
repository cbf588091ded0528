/**
 * Benchmark: full backfill of 3 years of 30-min load curve for one meter — parse (Enedis
 * meter_reading JSON, as the Conso API returns it) + store (SQLite upsert, coverage, dirty hours)
 * + statistics rows (rebuild, running sums, diff, import payloads) + anomalies — then one daily
 * sync. The data is the bundled real Sceaux 2008 series tiled over 3 years. Home Assistant's
 * recorder is replaced by an in-memory fake here (timing our code, not HA's).
 *
 *   npm run bench            prints a Markdown table (copied into bench/README.md)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DateTime } from "luxon";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../test/helpers/dataset.js";
import { fakeRecorder } from "../test/helpers/fake-recorder.js";
import { parseMeterReading } from "../src/providers/enedis-meter-reading.js";
import { openStore } from "../src/store/db.js";
import { upsertMeter } from "../src/store/meters.js";
import { upsertReadings } from "../src/store/readings.js";
import { recordCoverage } from "../src/store/coverage.js";
import { dayCompleteness } from "../src/jobs/fetch-meter.js";
import { writeStatistics } from "../src/jobs/write-statistics.js";
import { updateAnomalies } from "../src/jobs/detect-anomalies.js";
import { createLogger } from "../src/log.js";
import type { Meter } from "../src/domain/types.js";

const ZONE = "Europe/Paris";
const HALF_HOUR = 1_800_000;
const YEARS = 3;
const PRM = "12345678901234";

// Resolved from the working directory (npm runs scripts at the repo root), so the compiled copy finds data/ too.
const source = loadHalfHourSeries(resolve("data", SCEAUX_2008_30MIN)).map((p) => p.wh);
const end = DateTime.now().setZone(ZONE).startOf("day");
const start = end.minus({ years: YEARS });
const now = end.toMillis() + 3_600_000;

/** Weekly Conso API bodies (W averages, end-stamped naive Paris time) over [start, end), built lazily. */
function* buildBodies(from: DateTime, to: DateTime): Generator<{ range: { start: string; end: string }; body: string }> {
  let i = 0;
  for (let w = from; w < to; w = w.plus({ days: 7 })) {
    const wEnd = DateTime.min(w.plus({ days: 7 }), to);
    const points: object[] = [];
    for (let t = w.toMillis(); t < wEnd.toMillis(); t += HALF_HOUR, i++) {
      const wh = source[i % source.length];
      if (wh === null || wh === undefined) continue;
      points.push({
        value: String(Math.round(wh * 2 * 1000) / 1000),
        date: DateTime.fromMillis(t + HALF_HOUR, { zone: ZONE }).toFormat("yyyy-MM-dd HH:mm:ss"),
        interval_length: "PT30M",
        measure_type: "B",
      });
    }
    const range = { start: w.toISODate()!, end: wEnd.toISODate()! };
    yield {
      range,
      body: JSON.stringify({
        usage_point_id: PRM,
        start: range.start,
        end: range.end,
        quality: "BRUT",
        reading_type: { unit: "W", measurement_kind: "power", aggregate: "average" },
        interval_reading: points,
      }),
    };
  }
}

const dir = mkdtempSync(join(tmpdir(), "eb-bench-"));
const db = openStore(join(dir, "bench.sqlite"));
const meter: Meter = { id: PRM, provider: "conso_api", kind: "electricity", unit: "Wh", timezone: ZONE, name: "bench" };
upsertMeter(db, meter);
const statistic = { statisticId: `energy_bridge:linky_${PRM}_consumption`, name: "bench", unit: "kWh" as const, unitClass: "energy" as const };
const log = createLogger("silent");
const ha = fakeRecorder();

const rssBefore = process.memoryUsage().rss;
let peakRss = rssBefore;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
let points = 0;
let parseMs = 0;
let buildMs = 0;
let weeks = 0;
const t0 = performance.now();
const bodies = buildBodies(start, end.minus({ days: 1 }));
for (;;) {
  const b0 = performance.now();
  const next = bodies.next(); // making the test input is not part of the measure
  buildMs += performance.now() - b0;
  if (next.done) break;
  const { range, body } = next.value;
  weeks++;
  const p0 = performance.now();
  const result = parseMeterReading(JSON.parse(body), { prm: PRM, resolution: "load_curve", timezone: ZONE, now: () => now });
  parseMs += performance.now() - p0;
  upsertReadings(db, PRM, result.readings, now);
  recordCoverage(db, PRM, "load_curve", dayCompleteness(result.readings, { resolution: "load_curve", ...range }, ZONE), now);
  points += result.readings.length;
  sample();
}
const tParsed = performance.now() - buildMs;
const written = await writeStatistics(db, ha.conn, "2025.4.4", meter, statistic, { log });
const tStats = performance.now() - buildMs;
sample();
const firstDay = written.fromDay!;
const found = updateAnomalies(db, meter, firstDay, end.minus({ days: 1 }).toISODate()!, { thresholdPercent: 120, now, days: written.days });
const tDone = performance.now() - buildMs;
sample();

// A following daily sync: yesterday's 48 half-hours arrive.
const daily = buildBodies(end.minus({ days: 1 }), end).next().value;
const sentBefore = ha.sent.rows;
const t1 = performance.now();
const r = parseMeterReading(JSON.parse(daily!.body), { prm: PRM, resolution: "load_curve", timezone: ZONE, now: () => now });
upsertReadings(db, PRM, r.readings, now);
const dailyWrite = await writeStatistics(db, ha.conn, "2025.4.4", meter, statistic, { log });
updateAnomalies(db, meter, dailyWrite.fromDay!, end.toISODate()!, { thresholdPercent: 120, now, days: dailyWrite.days });
const t2 = performance.now();

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const table = [
  "| measure | value |",
  "|---|---|",
  `| points (3 years × 30 min, real data tiled) | ${points.toLocaleString("en")} in ${weeks} weekly responses |`,
  `| parse (JSON + validation + DST-aware dates) | ${s(parseMs)} (${Math.round(points / (parseMs / 1000)).toLocaleString("en")} points/s) |`,
  `| store (upsert, dirty hours, coverage) | ${s(tParsed - t0 - parseMs)} (${Math.round(points / ((tParsed - t0 - parseMs) / 1000)).toLocaleString("en")} points/s) |`,
  `| statistics rows (rebuild, sums, diff, payloads) | ${s(tStats - tParsed)}, ${written.rowsSent.toLocaleString("en")} hourly rows |`,
  `| anomalies (${YEARS * 365} days judged) | ${s(tDone - tStats)}, ${db.prepare("SELECT COUNT(*) n FROM anomalies").get() && (db.prepare("SELECT COUNT(*) AS n FROM anomalies").get() as { n: number }).n} flagged (${found.length} recent) |`,
  `| **full backfill throughput** | **${Math.round(points / ((tDone - t0) / 1000)).toLocaleString("en")} points/s** (${s(tDone - t0)}) |`,
  `| RSS during the backfill (sampled peak) | ${mb(peakRss)} (before: ${mb(rssBefore)}; process lifetime max ${mb(process.resourceUsage().maxRSS * 1024)}) |`,
  `| following daily sync | ${r.readings.length} points → **${ha.sent.rows - sentBefore} rows sent**, ${dailyWrite.adjustments} adjustments, ${s(t2 - t1)} |`,
];
console.log(table.join("\n"));
console.log(`\nnode ${process.version}, ${process.arch}, ${DateTime.now().toISODate()}`);
db.close();
rmSync(dir, { recursive: true, force: true });
