import type { Connection } from "home-assistant-js-websocket";

interface Row {
  start: number;
  state: number;
  sum: number;
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
          for (const s of stats) t.set(Date.parse(s.start), { start: Date.parse(s.start), state: s.state, sum: s.sum });
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
          const out = [...table(id!).values()].filter((r) => r.start >= from && r.start < to).sort((a, b) => a.start - b.start);
          return out.length ? { [id!]: out.map((r) => ({ ...r, end: r.start + 3_600_000 })) } : {};
        }
        default:
          throw { code: "unknown_command", message: `fake recorder does not implement ${String(msg.type)}` };
      }
    },
  } as unknown as Connection;
  return { conn, rows, sent };
}
