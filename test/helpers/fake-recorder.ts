import type { Connection } from "home-assistant-js-websocket";

/** One hourly statistics row as the fake holds it (start UTC ms; state and sum in the statistic's unit). */
export interface FakeRow {
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
 * One statistic's rows in start order, as three parallel number arrays (no object per row: in
 * the backfill bench the fake should cost next to nothing). Imports in time order append.
 */
class Series {
  readonly starts: number[] = [];
  readonly states: number[] = [];
  readonly sums: number[] = [];

  /** Index of the first row with start ≥ t. */
  lowerBound(t: number): number {
    const s = this.starts;
    if (s.length === 0 || t > s[s.length - 1]!) return s.length;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts or replaces the row at `start` (HA upserts per statistic and hour). */
  upsert(start: number, state: number, sum: number): void {
    const i = this.lowerBound(start);
    if (i < this.starts.length && this.starts[i] === start) {
      this.states[i] = state;
      this.sums[i] = sum;
    } else if (i === this.starts.length) {
      this.starts.push(start);
      this.states.push(state);
      this.sums.push(sum);
    } else {
      this.starts.splice(i, 0, start);
      this.states.splice(i, 0, state);
      this.sums.splice(i, 0, sum);
    }
  }

  /** Removes the row at `start`, if any. */
  delete(start: number): void {
    const i = this.lowerBound(start);
    if (i < this.starts.length && this.starts[i] === start) {
      this.starts.splice(i, 1);
      this.states.splice(i, 1);
      this.sums.splice(i, 1);
    }
  }
}

/** The fake recorder: its connection, what it holds, and what it was sent. */
export interface FakeRecorder {
  conn: Connection;
  /** Rows of `statisticId`, start order (a copy). */
  rowsOf(statisticId: string): FakeRow[];
  /** Deletes rows of `statisticId` by start (HA losing rows: a restored database, a deleted statistic). */
  deleteRows(statisticId: string, starts: readonly number[]): void;
  /** Forgets every statistic. */
  clear(): void;
  /** `recorder/import_statistics` calls and rows received. */
  sent: { imports: number; rows: number };
}

/**
 * An in-memory stand-in for HA's recorder statistics commands, for benchmarks and fast edge-case
 * tests only (never as proof of HA behaviour: the integration tests use a real HA Core).
 * Implements `recorder/import_statistics` (upsert per hour), `recorder/adjust_sum_statistics`
 * (add to every later sum) and `recorder/statistics_during_period` (hourly rows, ms starts).
 */
export function fakeRecorder(): FakeRecorder {
  const series = new Map<string, Series>();
  const sent = { imports: 0, rows: 0 };
  const table = (id: string) => series.get(id) ?? series.set(id, new Series()).get(id)!;
  const conn = {
    async sendMessagePromise(msg: Record<string, unknown>) {
      switch (msg.type) {
        case "recorder/import_statistics": {
          const meta = msg.metadata as { statistic_id: string };
          const stats = msg.stats as { start: string; state: number; sum: number }[];
          const t = table(meta.statistic_id);
          for (const s of stats) t.upsert(parseIso(s.start), s.state, s.sum);
          sent.imports++;
          sent.rows += stats.length;
          return null;
        }
        case "recorder/adjust_sum_statistics": {
          const t = table(msg.statistic_id as string);
          for (let i = t.lowerBound(Date.parse(msg.start_time as string)); i < t.starts.length; i++) t.sums[i]! += msg.adjustment as number;
          return null;
        }
        case "recorder/statistics_during_period": {
          const [id] = msg.statistic_ids as string[];
          const t = table(id!);
          const to = Date.parse(msg.end_time as string);
          const out: (FakeRow & { end: number })[] = [];
          for (let i = t.lowerBound(Date.parse(msg.start_time as string)); i < t.starts.length && t.starts[i]! < to; i++) {
            out.push({ start: t.starts[i]!, state: t.states[i]!, sum: t.sums[i]!, end: t.starts[i]! + 3_600_000 });
          }
          return out.length ? { [id!]: out } : {};
        }
        default:
          throw { code: "unknown_command", message: `fake recorder does not implement ${String(msg.type)}` };
      }
    },
  } as unknown as Connection;
  return {
    conn,
    rowsOf: (id) => {
      const t = series.get(id);
      return t ? t.starts.map((start, i) => ({ start, state: t.states[i]!, sum: t.sums[i]! })) : [];
    },
    deleteRows: (id, starts) => {
      const t = series.get(id);
      if (t) for (const s of starts) t.delete(s);
    },
    clear: () => series.clear(),
    sent,
  };
}
