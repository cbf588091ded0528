import type { Connection } from "home-assistant-js-websocket";

interface Row {
  start: number;
  state: number;
  sum: number;
}

let isoDay = "";
let isoDayMs = 0;

/**
 * `Date.parse` of an ISO instant, cheap for the whole-hour UTC stamps the importer sends
 * (`YYYY-MM-DDTHH:00:00.000Z`: the day is parsed once per day); anything else via `Date.parse`.
 * The fake stands in for Home Assistant in the backfill bench, so it should cost next to nothing.
 */
function parseIso(s: string): number {
  if (s.length !== 24 || s.charCodeAt(10) !== 84 /* T */ || !s.endsWith(":00:00.000Z")) return Date.parse(s);
  const day = s.slice(0, 10);
  if (day !== isoDay) {
    const ms = Date.parse(`${day}T00:00:00.000Z`);
    if (Number.isNaN(ms)) return Date.parse(s);
    isoDay = day;
    isoDayMs = ms;
  }
  const h = (s.charCodeAt(11) - 48) * 10 + (s.charCodeAt(12) - 48);
  return h >= 0 && h < 24 ? isoDayMs + h * 3_600_000 : Date.parse(s);
}

/**
 * An in-memory stand-in for HA's recorder statistics commands, for benchmarks and fast edge-case
 * tests only (never as proof of HA behaviour: the integration tests use a real HA Core).
 * Implements `recorder/import_statistics` (upsert per hour), `recorder/adjust_sum_statistics`
 * (add to every later sum) and `recorder/statistics_during_period` (hourly rows, ms starts).
 */
export function fakeRecorder(): { conn: Connection; rows: Map<string, Map<number, Row>>; sent: { imports: number; rows: number } } {
  const rows = new Map<string, Map<number, Row>>();
  const sent = { imports: 0, rows: 0 };
  const table = (id: string) => rows.get(id) ?? rows.set(id, new Map()).get(id)!;
  const conn = {
    async sendMessagePromise(msg: Record<string, unknown>) {
      switch (msg.type) {
        case "recorder/import_statistics": {
          const meta = msg.metadata as { statistic_id: string };
          const stats = msg.stats as { start: string; state: number; sum: number }[];
          const t = table(meta.statistic_id);
          for (const s of stats) {
            const start = parseIso(s.start);
            t.set(start, { start, state: s.state, sum: s.sum });
          }
          sent.imports++;
          sent.rows += stats.length;
          return null;
        }
        case "recorder/adjust_sum_statistics": {
          const from = Date.parse(msg.start_time as string);
          for (const r of table(msg.statistic_id as string).values()) if (r.start >= from) r.sum += msg.adjustment as number;
          return null;
        }
        case "recorder/statistics_during_period": {
          const [id] = msg.statistic_ids as string[];
          const from = Date.parse(msg.start_time as string);
          const to = Date.parse(msg.end_time as string);
          const out: (Row & { end: number })[] = [];
          let sorted = true;
          for (const r of table(id!).values()) {
            if (r.start < from || r.start >= to) continue;
            if (out.length && r.start < out[out.length - 1]!.start) sorted = false;
            out.push({ start: r.start, state: r.state, sum: r.sum, end: r.start + 3_600_000 });
          }
          if (!sorted) out.sort((a, b) => a.start - b.start);
          return out.length ? { [id!]: out } : {};
        }
        default:
          throw { code: "unknown_command", message: `fake recorder does not implement ${String(msg.type)}` };
      }
    },
  } as unknown as Connection;
  return { conn, rows, sent };
}
