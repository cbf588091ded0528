/**
 * A Tado REST API v2 simulator (providers reference §5.3–5.4, platform reference §4): `GET
 * /api/v2/me`, `/homes/{id}`, `/homes/{id}/zones`, `/homes/{id}/zoneStates`, with a daily quota
 * enforced like Tado's (default 100/day): every answered request counts, over quota → HTTP 429
 * with `Retry-After`; `RateLimit-Policy: "perday";q=<quota>;w=86400` and `RateLimit:
 * "perday";r=<remaining>` on every answer, plus `;t=<seconds to reset>` only once the quota is
 * used up (as observed on the real API). The window resets daily at 12:00 Europe/Berlin
 * ("normally around 12:00 CET", core#153308), configurable.
 *
 * Zone values are synthetic (no real Tado recording is in the project's data): a smooth daily
 * curve per zone computed from the clock, so a test can recompute them independently with
 * {@link expectedZoneValues}. Variants: a tado X home (`generation: "LINE_X"`), and faults a test
 * switches on and off — `malformed_json` (zoneStates body is not JSON), `unknown_zone` (zoneStates
 * names a zone that /zones does not list), `expired_token` (401 for every token), `offline`
 * (every zone's link OFFLINE), `bad_value` (a humidity of 140 %), `no_answer` (the HTTP server drops
 * every connection).
 *
 * `handle(Request)` answers in-process (unit tests pass it as the client's `fetch`); `listen()`
 * serves it on 127.0.0.1 for integration tests.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DateTime } from "luxon";

export interface SimZone {
  id: number;
  name: string;
  type: "HEATING" | "HOT_WATER";
}

export interface TadoSimulatorOptions {
  /** Clock (epoch ms). Default Date.now (so vitest fake timers drive it). */
  now?: () => number;
  /** Requests per window. Default 100. */
  quota?: number;
  /** Hour (local, `resetZone`) the window resets. Default 12. */
  resetHour?: number;
  resetZone?: string;
  homeId?: number;
  homeName?: string;
  /** `LINE_X` = tado X. Default "PRE_LINE_X". */
  generation?: string;
  zones?: SimZone[];
  /** Tokens accepted; default: any non-empty bearer token. */
  acceptToken?: (token: string) => boolean;
}

/** `no_answer`: the HTTP server (listen()) drops the connection without answering — the link is down. */
export type TadoFault = "malformed_json" | "unknown_zone" | "expired_token" | "offline" | "bad_value" | "no_answer";

/** One request as the simulator saw it. */
export interface TadoSimRequest {
  at: number;
  path: string;
  status: number;
}

export const SIM_HOME_ID = 1234;
export const SIM_ZONES: SimZone[] = [
  { id: 1, name: "Living room", type: "HEATING" },
  { id: 2, name: "Bedroom", type: "HEATING" },
  { id: 5, name: "Hot Water", type: "HOT_WATER" },
];
/** Zone id the `unknown_zone` fault adds to zoneStates. */
export const UNKNOWN_ZONE_ID = 99;

/**
 * What zone `zoneId` reports at `at` (epoch ms): temperature (°C, 0.01), humidity (%, 0.1),
 * heating power (%, integer). Hot-water zones report none of them.
 */
export function expectedZoneValues(zone: SimZone, at: number): { temperature: number; humidity: number; heatingPower: number } | null {
  if (zone.type !== "HEATING") return null;
  const h = DateTime.fromMillis(at, { zone: "UTC" });
  const hours = h.hour + h.minute / 60 + h.second / 3600;
  const temperature = Math.round((19.5 + (zone.id % 5) * 0.4 + 1.6 * Math.sin((2 * Math.PI * (hours - 9)) / 24)) * 100) / 100;
  const humidity = Math.round((48 + 6 * Math.cos((2 * Math.PI * hours) / 24) + (zone.id % 5)) * 10) / 10;
  const setpoint = 21;
  const heatingPower = Math.max(0, Math.min(100, Math.round((setpoint - temperature) * 45)));
  return { temperature, humidity, heatingPower };
}

/** See the file comment. */
export class TadoSimulator {
  readonly quota: number;
  readonly homeId: number;
  readonly zones: SimZone[];
  generation: string;
  homeName: string;
  /** Faults currently on. */
  readonly faults = new Set<TadoFault>();
  /** Every request, oldest first. */
  readonly requests: TadoSimRequest[] = [];
  #used = 0;
  #windowStart = -Infinity;
  readonly #now: () => number;
  readonly #resetHour: number;
  readonly #resetZone: string;
  readonly #acceptToken: (t: string) => boolean;
  #server: Server | undefined;
  /** Base URL of the API once listening, e.g. http://127.0.0.1:4321/api/v2. */
  apiUrl = "";

  constructor(opts: TadoSimulatorOptions = {}) {
    this.#now = opts.now ?? (() => Date.now());
    this.quota = opts.quota ?? 100;
    this.#resetHour = opts.resetHour ?? 12;
    this.#resetZone = opts.resetZone ?? "Europe/Berlin";
    this.homeId = opts.homeId ?? SIM_HOME_ID;
    this.homeName = opts.homeName ?? "Test Home";
    this.generation = opts.generation ?? "PRE_LINE_X";
    this.zones = opts.zones ?? SIM_ZONES;
    this.#acceptToken = opts.acceptToken ?? ((t) => t.length > 0);
  }

  /** Start of the current quota window (epoch ms). */
  windowStart(at = this.#now()): number {
    const local = DateTime.fromMillis(at, { zone: this.#resetZone });
    let start = local.set({ hour: this.#resetHour, minute: 0, second: 0, millisecond: 0 });
    if (start > local) start = start.minus({ days: 1 });
    return start.toMillis();
  }

  /** When the current window ends (epoch ms). */
  nextReset(at = this.#now()): number {
    return DateTime.fromMillis(this.windowStart(at), { zone: this.#resetZone }).plus({ days: 1 }).toMillis();
  }

  #roll(): void {
    const ws = this.windowStart();
    if (ws !== this.#windowStart) {
      this.#windowStart = ws;
      this.#used = 0;
    }
  }

  /** Requests counted in the current window. */
  used(): number {
    this.#roll();
    return this.#used;
  }

  /** Requests left in the current window (what `RateLimit` r says). */
  remaining(): number {
    return Math.max(0, this.quota - this.used());
  }

  /** Requests of the whole run whose path ends with `suffix` (e.g. "/zoneStates", "/zones"). */
  count(suffix?: string): number {
    return this.requests.filter((r) => !suffix || r.path.endsWith(suffix)).length;
  }

  #headers(): Record<string, string> {
    const remaining = this.remaining();
    const t = remaining === 0 ? `;t=${Math.ceil((this.nextReset() - this.#now()) / 1000)}` : "";
    return {
      "ratelimit-policy": `"perday";q=${this.quota};w=86400`,
      ratelimit: `"perday";r=${remaining}${t}`,
    };
  }

  /** Answers one request in-process. */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/api\/v2/, "");
    const at = this.#now();
    const reply = (status: number, body: unknown, raw = false): Response => {
      this.requests.push({ at, path, status });
      return new Response(raw ? String(body) : JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...this.#headers() },
      });
    };
    this.#roll();
    if (this.#used >= this.quota) {
      const retryAfter = Math.ceil((this.nextReset() - at) / 1000);
      this.requests.push({ at, path, status: 429 });
      return new Response(JSON.stringify({ errors: [{ code: "tooManyRequests", title: "Too many requests" }] }), {
        status: 429,
        headers: { "content-type": "application/json", "retry-after": String(retryAfter), ...this.#headers() },
      });
    }
    this.#used++;
    const token = (req.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
    if (this.faults.has("expired_token") || !this.#acceptToken(token)) {
      return reply(401, { errors: [{ code: "unauthorized", title: "Full authentication is required to access this resource" }] });
    }
    if (req.method !== "GET") return reply(405, { errors: [{ code: "methodNotAllowed" }] });
    if (path === "/me") {
      return reply(200, {
        name: "Alice Wonderland",
        email: "alice-in@wonder.land",
        username: "alice-in@wonder.land",
        id: "123a1234567b89012cde1f23",
        homes: [{ id: this.homeId, name: this.homeName }],
        locale: "fr_FR",
        mobileDevices: [],
      });
    }
    const m = /^\/homes\/([0-9]+)(\/zones|\/zoneStates)?$/.exec(path);
    if (!m || Number(m[1]) !== this.homeId) return reply(404, { errors: [{ code: "notFound", title: "resource not found" }] });
    if (!m[2]) {
      return reply(200, { id: this.homeId, name: this.homeName, dateTimeZone: "Europe/Paris", generation: this.generation, temperatureUnit: "CELSIUS" });
    }
    if (m[2] === "/zones") {
      return reply(
        200,
        this.zones.map((z) => ({ id: z.id, name: z.name, type: z.type, dateCreated: "2018-06-22T12:00:30.914Z", deviceTypes: ["RU01"], devices: [], reportAvailable: false })),
      );
    }
    if (this.faults.has("malformed_json")) return reply(200, '{"zoneStates": {"1": {"tadoMode": "HOME", ', true);
    const states: Record<string, unknown> = {};
    const iso = new Date(at).toISOString();
    const zones = this.faults.has("unknown_zone") ? [...this.zones, { id: UNKNOWN_ZONE_ID, name: "?", type: "HEATING" as const }] : this.zones;
    for (const z of zones) {
      const v = expectedZoneValues(z, at);
      const offline = this.faults.has("offline");
      states[String(z.id)] = {
        tadoMode: "HOME",
        setting: { type: z.type, power: "ON", temperature: { celsius: 21, fahrenheit: 69.8 } },
        overlay: null,
        openWindow: null,
        link: offline ? { state: "OFFLINE", reason: { code: "disconnected", title: "Disconnected" } } : { state: "ONLINE" },
        activityDataPoints: v ? { heatingPower: { type: "PERCENTAGE", percentage: v.heatingPower, timestamp: iso } } : {},
        sensorDataPoints: v
          ? {
              insideTemperature: { celsius: v.temperature, fahrenheit: v.temperature * 1.8 + 32, timestamp: iso, type: "TEMPERATURE" },
              humidity: { type: "PERCENTAGE", percentage: this.faults.has("bad_value") ? 140 : v.humidity, timestamp: iso },
            }
          : {},
      };
    }
    return reply(200, { zoneStates: states });
  }

  /** Serves `handle` on 127.0.0.1 (free port); sets and returns {@link apiUrl}. */
  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      if (this.faults.has("no_answer")) {
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
        void this.handle(new Request(`http://127.0.0.1${req.url ?? "/"}`, { method: req.method ?? "GET", headers }))
          .then(async (r) => {
            const h: Record<string, string> = {};
            r.headers.forEach((v, k) => (h[k] = v));
            res.writeHead(r.status, h);
            res.end(await r.text());
          })
          .catch((err: Error) => {
            res.writeHead(500);
            res.end(err.message);
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2`;
    return this.apiUrl;
  }

  async close(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** A `fetch` that answers in-process (for the client's `fetch` option). */
  fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => this.handle(new Request(input, init));
}
