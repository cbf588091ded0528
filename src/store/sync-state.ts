import type { LocalDate, Resolution } from "../domain/types.js";
import type { Db } from "./db.js";

/**
 * Health of a meter's sync: `pending` (never ran), `ok`, `partial` (stopped early: budget or
 * quota, continues next cycle), `error` (provider or HA unavailable), `auth_error` (token invalid
 * or consent revoked: needs the user).
 */
export type SyncStatus = "pending" | "ok" | "partial" | "error" | "auth_error";

/** Persistent sync state of one meter. */
export interface SyncState {
  status: SyncStatus;
  lastError: string | null;
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  /** First local day the provider has, per resolution, once it said "no data before". */
  historyStart: Partial<Record<Resolution, LocalDate>>;
}

/** Reads a meter's sync state (a default `pending` state when the meter has none yet). */
export function getSyncState(db: Db, meterId: string): SyncState {
  const row = db.prepare(`SELECT * FROM sync_state WHERE meter_id = ?`).get(meterId) as
    | {
        status: SyncStatus;
        last_error: string | null;
        last_attempt_at: number | null;
        last_success_at: number | null;
        daily_history_start: string | null;
        load_curve_history_start: string | null;
      }
    | undefined;
  if (!row) return { status: "pending", lastError: null, lastAttemptAt: null, lastSuccessAt: null, historyStart: {} };
  const historyStart: SyncState["historyStart"] = {};
  if (row.daily_history_start) historyStart.daily = row.daily_history_start;
  if (row.load_curve_history_start) historyStart.load_curve = row.load_curve_history_start;
  return {
    status: row.status,
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at,
    lastSuccessAt: row.last_success_at,
    historyStart,
  };
}

/** Records the outcome of a sync attempt. `lastSuccessAt` is set only when `success` is given. */
export function recordSyncOutcome(
  db: Db,
  meterId: string,
  outcome: { status: SyncStatus; error?: string | null; at: number; success?: boolean },
): void {
  db.prepare(
    `UPDATE sync_state SET status = ?, last_error = ?, last_attempt_at = ?,
       last_success_at = CASE WHEN ? THEN ? ELSE last_success_at END WHERE meter_id = ?`,
  ).run(outcome.status, outcome.error ?? null, outcome.at, outcome.success ? 1 : 0, outcome.at, meterId);
}

/** Remembers the first day the provider has at `resolution` (it answered "end of history" before it). */
export function setHistoryStart(db: Db, meterId: string, resolution: Resolution, day: LocalDate): void {
  const column = resolution === "daily" ? "daily_history_start" : "load_curve_history_start";
  db.prepare(`UPDATE sync_state SET ${column} = ? WHERE meter_id = ?`).run(day, meterId);
}
