/**
 * 10,000 malformed WebSocket frames (before and after auth, text and binary, non-JSON, wrong
 * shapes, unknown types, oversized fields) against the real sync server in this process: each is
 * answered with an `error` frame or closes only the offending session; the server stays up, a
 * genuine client still gets served, and the process RSS does not grow beyond a generous bound.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { API_PREFIX } from "../../../src/sync/protocol.js";
import { directClient, makeInstance, serve, type Instance } from "./fixture.js";

const FRAMES = 10_000;

// A real full GC before each RSS reading, so heap slack does not pass for a leak (or hide one).
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const settledRss = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().rss;
};
const PER_SOCKET = 500;

function badFrame(i: number, token: string): string | Buffer {
  switch (i % 12) {
    case 0: return "not json";
    case 1: return Buffer.from([0xff, 0xfe, 0x00, i & 0xff]);
    case 2: return JSON.stringify({ type: "nope", i });
    case 3: return JSON.stringify([1, 2, 3]);
    case 4: return JSON.stringify({ type: "call_service", id: "short", domain: "light" });
    case 5: return JSON.stringify({ type: "auth", token: 42 });
    case 6: return JSON.stringify({ type: "ping", id: "x".repeat(1000) });
    case 7: return "{".repeat(5000);
    case 8: return JSON.stringify({ type: "call_service", id: `c${i}xxxxxxxx`, domain: "light", service: "turn_on", entity_id: "NOT AN ID", data: {} });
    case 9: return JSON.stringify({ type: "auth", token: "a.b.c", instance_id: "short", protocol: 1, extra: true });
    case 10: return '{"type":"pong","id":1,"__proto__":{"polluted":true}}';
    default: return JSON.stringify({ type: "auth", token: `${token.slice(0, -3)}xyz`, instance_id: "eeeeeeee-0000-4000-8000-00000000000e", protocol: 1 });
  }
}

async function blast(url: string, frames: (string | Buffer)[], authToken?: string): Promise<{ errors: number; closed: boolean }> {
  const ws = new WebSocket(`${url.replace("http", "ws")}${API_PREFIX}/ws`);
  let errors = 0;
  let closed = false;
  await new Promise<void>((res, rej) => {
    ws.on("open", () => res());
    ws.on("error", rej);
  });
  ws.on("message", (d) => {
    const m = JSON.parse(d.toString()) as { type: string };
    if (m.type === "error" || m.type === "auth_invalid") errors++;
  });
  ws.on("close", () => (closed = true));
  if (authToken) {
    ws.send(JSON.stringify({ type: "auth", token: authToken, instance_id: "ffffffff-0000-4000-8000-00000000000f", protocol: 1 }));
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const f of frames) if (ws.readyState === ws.OPEN) ws.send(f);
  // Wait for every answer (deflate runs asynchronously), or 10 s.
  const deadline = Date.now() + 10_000;
  while (errors < frames.length && !closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  ws.terminate();
  return { errors, closed };
}

describe("sync server: malformed frames", () => {
  let inst: Instance;
  let server: NonNullable<Instance["server"]>;
  let token: string;

  beforeAll(async () => {
    inst = makeInstance();
    server = await serve(inst, { authTimeoutMs: 60_000 });
    inst.ha.set("light.kitchen", "on", { friendly_name: "Kitchen" });
    server.exposure.set("all", "", ["light.kitchen"], true);
    token = (await directClient(server)).token;
  });

  afterAll(async () => {
    await server.http.close();
  });

  it(`survives ${FRAMES} malformed frames with RSS flat and keeps serving`, async () => {
    const round = async () => {
      let sent = 0;
      let errors = 0;
      for (let s = 0; sent < FRAMES; s++) {
        const authed = s % 2 === 0;
        // A refused auth frame ends an unauthenticated session by design: those only go to authed ones.
        const frames = Array.from({ length: Math.min(PER_SOCKET, FRAMES - sent) }, (_, i) => badFrame(authed || (sent + i) % 12 !== 11 ? sent + i : 0, token));
        const r = await blast(server.url, frames, authed ? token : undefined);
        sent += frames.length;
        errors += r.errors;
      }
      return errors;
    };
    // Round 1 warms up (JIT, heap growth, zlib pools); round 2 must not grow RSS further: a leak
    // would grow it linearly with the frames.
    const rss0 = await settledRss();
    const errors1 = await round();
    const rss1 = await settledRss();
    const errors2 = await round();
    const rss2 = await settledRss();
    const first = (rss1 - rss0) / 1e6;
    const second = (rss2 - rss1) / 1e6;
    console.log(`malformed frames: 2 × ${FRAMES} sent, ${errors1} + ${errors2} error answers, RSS growth round 1 ${first.toFixed(1)} MB, round 2 ${second.toFixed(1)} MB`);
    // Every malformed frame got an error answer.
    expect(errors1).toBe(FRAMES);
    expect(errors2).toBe(FRAMES);
    // Generous bound on round 2: a leak of 2 kB per frame would already be 20 MB.
    expect(second).toBeLessThan(20);
    // Still up and serving a genuine client.
    const r = await fetch(`${server.url}${API_PREFIX}/entities`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { entity_id: string }[]).map((e) => e.entity_id)).toEqual(["light.kitchen"]);
  }, 180_000);
});
