/**
 * Protocol: valid frames round-trip; a seeded fuzz of mutated frames (dropped, retyped, extra and
 * oversized fields, truncation, random bytes) never throws from `decodeFrame` and never yields a
 * message that fails the schema; snapshot chunking keeps every state exactly once.
 */
import { describe, expect, it } from "vitest";
import {
  clientMessageSchema,
  decodeFrame,
  encodeFrame,
  serverMessageSchema,
  snapshotFrames,
  type ClientMessage,
  type EntityState,
  type ServerMessage,
} from "../../../src/sync/protocol.js";

const ID = "12345678-0000-4000-8000-000000000000";
const state = (i: number): EntityState => ({ entity_id: `sensor.s${i}`, state: String(i), attributes: { unit_of_measurement: "W", big: "y".repeat(i % 400) }, origin: ID, path: [ID] });

const VALID_CLIENT: ClientMessage[] = [
  { type: "auth", token: "a".repeat(40), instance_id: ID, protocol: 1 },
  { type: "ping", id: 3 },
  { type: "call_service", id: "corr-123456", domain: "light", service: "turn_on", entity_id: "light.kitchen", data: { brightness: 3 } },
];
const VALID_SERVER: ServerMessage[] = [
  { type: "auth_ok", server_id: ID, server_name: "Home", client_id: "c", temperature_unit: "C" },
  { type: "snapshot", part: 0, last: true, entities: [state(1)] },
  { type: "diff", changed: [state(2)], removed: ["sensor.s3"] },
  { type: "call_result", id: "corr-123456", success: false, error: { code: "not_found", message: "no" } },
];

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [null, 0, -1, 1.5, 1e308, "", "x".repeat(10_000), true, [], {}, [1, "a"], { nested: { deep: [null] } }, "light.kitchen", "../../etc"];

function mutate(obj: Record<string, unknown>, r: () => number): string {
  const o: Record<string, unknown> = JSON.parse(JSON.stringify(obj));
  const keys = Object.keys(o);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)]!;
  switch (Math.floor(r() * 7)) {
    case 0: delete o[pick(keys)]; break;
    case 1: o[pick(keys)] = pick(WEIRD); break;
    case 2: o[`extra${Math.floor(r() * 9)}`] = pick(WEIRD); break;
    case 3: o.type = pick(["auth", "ping", "call_service", "snapshot", "diff", "AUTH", "", "constructor", "__proto__"]); break;
    case 4: return JSON.stringify(o).slice(0, Math.floor(r() * JSON.stringify(o).length));
    case 5: return Array.from({ length: Math.floor(r() * 64) }, () => String.fromCharCode(Math.floor(r() * 256))).join("");
    default: o[pick(keys)] = pick(WEIRD); o[pick(keys)] = pick(WEIRD);
  }
  return JSON.stringify(o);
}

describe("sync protocol", () => {
  it("round-trips every valid frame", () => {
    for (const m of VALID_CLIENT) expect(decodeFrame(clientMessageSchema, encodeFrame(m))).toEqual({ ok: true, message: m });
    for (const m of VALID_SERVER) expect(decodeFrame(serverMessageSchema, encodeFrame(m))).toEqual({ ok: true, message: m });
  });

  it("fuzz: 20,000 mutated frames never throw and never pass invalid", () => {
    const r = rng(9);
    let rejected = 0;
    const wrong: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const client = i % 2 === 0;
      const base = (client ? VALID_CLIENT : VALID_SERVER)[Math.floor(r() * (client ? VALID_CLIENT.length : VALID_SERVER.length))]!;
      const text = mutate(base as unknown as Record<string, unknown>, r);
      const schema = client ? clientMessageSchema : serverMessageSchema;
      const d = decodeFrame(schema as never, i % 3 === 0 ? Buffer.from(text) : text);
      if (d.ok) {
        if (!schema.safeParse(d.message).success) wrong.push(text.slice(0, 100));
      } else {
        rejected++;
        if (d.message.length > 300 || (d.code !== "bad_message" && d.code !== "too_big")) wrong.push(text.slice(0, 100));
      }
    }
    expect(wrong).toEqual([]);
    expect(rejected).toBeGreaterThan(15_000);
  });

  it("rejects frames over the size limit and non-text data", () => {
    expect(decodeFrame(clientMessageSchema, "x".repeat(2 * 1024 * 1024))).toMatchObject({ ok: false, code: "too_big" });
    expect(decodeFrame(clientMessageSchema, 42)).toMatchObject({ ok: false, code: "bad_message" });
  });

  it("chunks a snapshot under the bound, each state exactly once, last flag on the final frame", () => {
    const states = Array.from({ length: 500 }, (_, i) => state(i));
    const frames = snapshotFrames(states, 16 * 1024);
    expect(frames.length).toBeGreaterThan(3);
    for (const f of frames) expect(Buffer.byteLength(JSON.stringify(f))).toBeLessThanOrEqual(16 * 1024);
    expect(frames.flatMap((f) => f.entities)).toEqual(states);
    expect(frames.map((f) => f.last)).toEqual(frames.map((_, i) => i === frames.length - 1));
    expect(snapshotFrames([])).toEqual([{ type: "snapshot", part: 0, last: true, entities: [] }]);
  });
});
