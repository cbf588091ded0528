/**
 * Forwarded service calls, run exactly once per (client, correlation id). A retry of an id that
 * already ran — after a reconnect, or the same call over HTTP — gets the stored result without
 * running again; a retry while the first run is still in flight waits for that run. Results are
 * kept in `sync_calls` for 24 h, so a server restart between the call and the retry is covered.
 */
import type { Db } from "../../store/db.js";

/** The outcome returned to the client. */
export interface CallOutcome {
  success: boolean;
  error?: { code: string; message: string };
}

/** Results kept this long (ms). */
export const CALL_RESULT_TTL_MS = 24 * 3600_000;

/** See the file comment. */
export class CallLedger {
  private readonly inFlight = new Map<string, Promise<CallOutcome>>();
  /** How many times a call really ran, and how many retries got a stored result (tests, page). */
  executed = 0;
  replays = 0;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs `execute` once for `(clientId, correlationId)`; later calls with the same pair resolve
   * with the first outcome. `execute` failures become `{success:false, error}` (code from the
   * error's `code` field when it is a string, e.g. HA's `service_validation_error`).
   */
  async run(clientId: string, correlationId: string, execute: () => Promise<void>): Promise<CallOutcome> {
    const key = `${clientId}\u0000${correlationId}`;
    const pending = this.inFlight.get(key);
    if (pending) {
      this.replays++;
      return pending;
    }
    const row = this.db
      .prepare("SELECT result FROM sync_calls WHERE client_id = ? AND correlation_id = ?")
      .get(clientId, correlationId) as { result: string } | undefined;
    if (row) {
      this.replays++;
      return JSON.parse(row.result) as CallOutcome;
    }
    const p = (async (): Promise<CallOutcome> => {
      let outcome: CallOutcome;
      try {
        this.executed++;
        await execute();
        outcome = { success: true };
      } catch (err) {
        outcome = { success: false, error: describe(err) };
      }
      this.db
        .prepare("INSERT OR REPLACE INTO sync_calls (client_id, correlation_id, result, at) VALUES (?, ?, ?, ?)")
        .run(clientId, correlationId, JSON.stringify(outcome), this.now());
      return outcome;
    })();
    this.inFlight.set(key, p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Drops results older than {@link CALL_RESULT_TTL_MS}. */
  prune(): void {
    this.db.prepare("DELETE FROM sync_calls WHERE at < ?").run(this.now() - CALL_RESULT_TTL_MS);
  }
}

function describe(err: unknown): { code: string; message: string } {
  if (err && typeof err === "object") {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e.code === "string" ? e.code : typeof e.code === "number" ? `ha_error_${e.code}` : "call_failed";
    const message = typeof e.message === "string" ? e.message : JSON.stringify(err).slice(0, 500);
    return { code, message: message.slice(0, 1000) };
  }
  return { code: "call_failed", message: String(err).slice(0, 1000) };
}
