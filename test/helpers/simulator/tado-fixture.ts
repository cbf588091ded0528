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
import type { DeviceSpec, DeviceStateMessage, EntitySpec } from "../../../src/homeassistant/entities/device-sink.js";

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

/** A recording DeviceSink (the generic device API of the entity sink), for fast unit tests. */
export class RecordingDeviceSink {
  readonly devices = new Map<string, { device: DeviceSpec; entities: EntitySpec[] }>();
  /** Last payload per `<device>/<entity>`. */
  readonly states = new Map<string, string>();
  readonly available = new Map<string, boolean>();
  /** Every publish, in order. */
  readonly log: { device: string; entity: string; payload: string }[] = [];
  onPublish?: (device: string, entity: string, payload: string) => void;

  async declareDevice(device: DeviceSpec, entities: EntitySpec[]): Promise<void> {
    this.devices.set(device.key, { device, entities });
    if (!this.available.has(device.key)) this.available.set(device.key, true);
  }
  async publishDeviceStates(deviceKey: string, messages: readonly DeviceStateMessage[]): Promise<void> {
    if (!this.devices.has(deviceKey)) throw new Error(`device ${deviceKey} was not declared`);
    for (const m of messages) {
      this.states.set(`${deviceKey}/${m.entity}`, m.payload);
      this.log.push({ device: deviceKey, entity: m.entity, payload: m.payload });
      this.onPublish?.(deviceKey, m.entity, m.payload);
    }
  }
  async setDeviceAvailable(deviceKey: string, available: boolean): Promise<void> {
    this.available.set(deviceKey, available);
  }
  onCommand(): () => void {
    return () => undefined;
  }
  async removeDevice(deviceKey: string): Promise<void> {
    throw new Error(`removeDevice(${deviceKey}) must never be called by the tado module`);
  }
}
