/**
 * Shared set-up of the Tado tests: an in-memory store with a vault, a logger that keeps every
 * line (to grep for secrets), and Settings with the `tado_*` options.
 */
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import pino from "pino";
import { TokenVault } from "../../../src/auth/token-vault.js";
import { EventBus } from "../../../src/modules/events.js";
import type { Settings } from "../../../src/settings.js";
import { openStore, type Db } from "../../../src/store/db.js";
import type { Logger } from "../../../src/log.js";

export interface TadoFixture {
  db: Db;
  vault: TokenVault;
  events: EventBus;
  log: Logger;
  /** Every log line written so far (JSON). */
  lines: string[];
  settings: Settings;
}

/** See the file comment. `now` drives the vault's clock. */
export function tadoFixture(tado: Settings["tado"], now: () => number = Date.now, db: Db = openStore(":memory:")): TadoFixture {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  const log = pino({ level: "debug" }, sink) as unknown as Logger;
  const vault = new TokenVault(db, randomBytes(32), { now, log });
  const settings = {
    mode: "standalone",
    dataDir: "/nonexistent",
    homeAssistant: { wsUrl: "ws://127.0.0.1:1/api/websocket", apiUrl: "http://127.0.0.1:1/api", token: "x" },
    meters: [],
    anomalyThresholdPercent: 120,
    retentionDays: 730,
    logLevel: "debug",
    ...(tado ? { tado } : {}),
  } as Settings;
  return { db, vault, events: new EventBus(log), log, lines, settings };
}
