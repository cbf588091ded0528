/**
 * Tado's REST API v2 (base `https://my.tado.com/api/v2`, configurable): `GET /me`,
 * `GET /homes/{id}`, `GET /homes/{id}/zones`, `GET /homes/{id}/zoneStates` (one call for every
 * zone). Shapes: PyTado fixtures and node-tado test responses (providers reference §5.3).
 *
 * Every call goes through `fetch` (global by default, so msw can intercept), with a bearer access
 * token, one attempt only (a retry would spend the daily quota: the next poll is the retry), and
 * reports its rate-limit headers (`onResponse`) whatever the status. `beforeRequest` runs before
 * the request is sent (the module's budget counter: it may throw to refuse the call).
 * Providers never touch the store or Home Assistant.
 */
import { z } from "zod";
import { parseRateLimit, parseRetryAfter, type RateLimitInfo } from "./tado-ratelimit.js";
import { ENERGY_BRIDGE_VERSION } from "./http.js";

/** Default API base URL (PyTado `http.py` `Endpoint.MY_API`). */
export const TADO_API_URL = "https://my.tado.com/api/v2";

/** The generation string of a tado X home (PyTado `_check_x_line_generation`). */
export const TADO_X_GENERATION = "LINE_X";

/**
 * Why a Tado call failed:
 * - `unauthorized`: 401/403 (expired or revoked access token);
 * - `rate_limited`: 429 — `resetS`/`retryAfterS` say when to try again when Tado gave it;
 * - `bad_response`: not JSON, or JSON of a shape we cannot read (nothing from it is used);
 * - `not_found`: 404 (e.g. a home id that is not the user's);
 * - `http`: another non-2xx status;
 * - `network`: no answer (DNS, refused, timeout).
 */
export type TadoErrorCode = "unauthorized" | "rate_limited" | "bad_response" | "not_found" | "http" | "network";

/** A failed Tado call. The message is one plain sentence (no token in it). */
export class TadoApiError extends Error {
  override readonly name = "TadoApiError";
  constructor(
    readonly code: TadoErrorCode,
    message: string,
    readonly details: { status?: number; rateLimit?: RateLimitInfo; retryAfterS?: number } = {},
  ) {
    super(message);
  }
}

/** `GET /me`, trimmed to what is used. */
const meSchema = z
  .object({
    homes: z.array(z.object({ id: z.number().int(), name: z.string() }).passthrough()).optional(),
    homeId: z.number().int().optional(),
  })
  .passthrough();
export type TadoMe = { homes: { id: number; name: string }[] };

const homeSchema = z.object({ id: z.number().int(), name: z.string(), generation: z.string().optional() }).passthrough();
/** `GET /homes/{id}`, trimmed. `generation` `LINE_X` = tado X. */
export type TadoHome = { id: number; name: string; generation?: string };

const zoneSchema = z.object({ id: z.number().int(), name: z.string(), type: z.string() }).passthrough();
/** One zone of `GET /homes/{id}/zones`, trimmed. `type`: HEATING, HOT_WATER, AIR_CONDITIONING. */
export type TadoZone = { id: number; name: string; type: string };

const finite = z.number().finite();
const percent = z.number().finite().min(0).max(100);
const zoneStateSchema = z
  .object({
    link: z.object({ state: z.string(), reason: z.object({ code: z.string().optional(), title: z.string().optional() }).passthrough().nullish() }).passthrough().nullish(),
    sensorDataPoints: z
      .object({
        insideTemperature: z.object({ celsius: finite, timestamp: z.string().optional() }).passthrough().nullish(),
        humidity: z.object({ percentage: percent, timestamp: z.string().optional() }).passthrough().nullish(),
      })
      .passthrough()
      .nullish(),
    activityDataPoints: z
      .object({
        heatingPower: z.object({ percentage: percent, timestamp: z.string().optional() }).passthrough().nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();
const zoneStatesSchema = z.object({ zoneStates: z.record(z.string().regex(/^[0-9]+$/), zoneStateSchema) }).strict();

/**
 * What a zone measures now: inside temperature (°C), relative humidity (%), heating power
 * (% of the valve/boiler demand, `activityDataPoints.heatingPower.percentage`); null = not
 * reported by this zone. `online` = `link.state` is ONLINE (or absent).
 */
export interface TadoZoneReading {
  zoneId: number;
  online: boolean;
  /** `link.reason.title` when offline. */
  offlineReason?: string;
  temperature: number | null;
  humidity: number | null;
  heatingPower: number | null;
}

/** A successful call's data plus what the headers said. */
export interface TadoResult<T> {
  data: T;
  rateLimit: RateLimitInfo;
}

/** Options of {@link createTadoApi}. */
export interface TadoApiOptions {
  /** Default {@link TADO_API_URL}; no trailing slash needed. */
  baseUrl?: string;
  /** Default: the global fetch at call time. */
  fetch?: typeof fetch;
  /** Per-call timeout (ms). Default 20 000. */
  timeoutMs?: number;
  /** Clock for HTTP-date Retry-After (epoch ms). */
  now?: () => number;
  /** Runs before each request is sent, with its path; throwing refuses the call. */
  beforeRequest?: (path: string) => void;
  /** Runs after each answer (any status) with its rate-limit headers. */
  onResponse?: (status: number, rateLimit: RateLimitInfo, path: string) => void;
}

/** The client; every method takes the current access token (never logged). */
export interface TadoApi {
  me(token: string): Promise<TadoResult<TadoMe>>;
  home(token: string, homeId: number): Promise<TadoResult<TadoHome>>;
  zones(token: string, homeId: number): Promise<TadoResult<TadoZone[]>>;
  /** All zones of a home in ONE call. */
  zoneStates(token: string, homeId: number): Promise<TadoResult<TadoZoneReading[]>>;
}

/** See the file comment. */
export function createTadoApi(opts: TadoApiOptions = {}): TadoApi {
  const base = (opts.baseUrl ?? TADO_API_URL).replace(/\/+$/, "");
  const now = opts.now ?? Date.now;

  async function get<T>(token: string, path: string, schema: z.ZodType<T>, what: string): Promise<TadoResult<T>> {
    opts.beforeRequest?.(path);
    let res: Response;
    try {
      res = await (opts.fetch ?? fetch)(`${base}${path}`, {
        headers: { authorization: `Bearer ${token}`, accept: "application/json", "user-agent": `energy-bridge/${ENERGY_BRIDGE_VERSION}` },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000),
      });
    } catch (err) {
      throw new TadoApiError("network", `Tado did not answer ${what} (${(err as Error).message})`);
    }
    const rateLimit = parseRateLimit(res.headers);
    opts.onResponse?.(res.status, rateLimit, path);
    const text = await res.text().catch(() => "");
    if (!res.ok) {
      const status = res.status;
      const retryAfterS = parseRetryAfter(res.headers, now());
      const details = { status, rateLimit, ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
      if (status === 429) {
        const when = rateLimit.resetS ?? retryAfterS;
        throw new TadoApiError(
          "rate_limited",
          `Tado's daily request quota is used up (HTTP 429)${when !== undefined ? `; it resets in ${Math.round(when / 60)} min` : ""}`,
          details,
        );
      }
      if (status === 401 || status === 403) throw new TadoApiError("unauthorized", `Tado refused the access token for ${what} (HTTP ${status})`, details);
      if (status === 404) throw new TadoApiError("not_found", `Tado does not know ${what} (HTTP 404)`, details);
      throw new TadoApiError("http", `Tado answered HTTP ${status} for ${what}`, details);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TadoApiError("bad_response", `Tado's answer for ${what} is not valid JSON; nothing from it was used`, { status: res.status, rateLimit });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const at = issue ? `${issue.path.join(".") || "(top level)"}: ${issue.message}` : "unknown shape";
      throw new TadoApiError("bad_response", `Tado's answer for ${what} has an unexpected shape (${at}); nothing from it was used`, {
        status: res.status,
        rateLimit,
      });
    }
    return { data: parsed.data, rateLimit };
  }

  return {
    async me(token) {
      const r = await get(token, "/me", meSchema, "your account (/me)");
      const homes = r.data.homes ?? (r.data.homeId !== undefined ? [{ id: r.data.homeId, name: `Home ${r.data.homeId}` }] : []);
      return { data: { homes: homes.map((h) => ({ id: h.id, name: h.name })) }, rateLimit: r.rateLimit };
    },
    async home(token, homeId) {
      const r = await get(token, `/homes/${homeId}`, homeSchema, `home ${homeId}`);
      const { id, name, generation } = r.data;
      return { data: { id, name, ...(generation !== undefined ? { generation } : {}) }, rateLimit: r.rateLimit };
    },
    async zones(token, homeId) {
      const r = await get(token, `/homes/${homeId}/zones`, z.array(zoneSchema), `the zones of home ${homeId}`);
      return { data: r.data.map(({ id, name, type }) => ({ id, name, type })), rateLimit: r.rateLimit };
    },
    async zoneStates(token, homeId) {
      const r = await get(token, `/homes/${homeId}/zoneStates`, zoneStatesSchema, `the zone states of home ${homeId}`);
      const readings = Object.entries(r.data.zoneStates).map(([id, s]): TadoZoneReading => {
        const online = !s.link || s.link.state === "ONLINE";
        const reason = s.link?.reason?.title ?? s.link?.reason?.code;
        return {
          zoneId: Number(id),
          online,
          ...(!online && reason ? { offlineReason: reason } : {}),
          temperature: s.sensorDataPoints?.insideTemperature?.celsius ?? null,
          humidity: s.sensorDataPoints?.humidity?.percentage ?? null,
          heatingPower: s.activityDataPoints?.heatingPower?.percentage ?? null,
        };
      });
      return { data: readings.sort((a, b) => a.zoneId - b.zoneId), rateLimit: r.rateLimit };
    },
  };
}

/** The plain sentence shown for a tado X home (account health detail and log). */
export function tadoXNotSupported(homeName: string): string {
  return (
    `"${homeName}" is a tado X home (generation LINE_X). tado X uses another Tado API (hops.tado.com) ` +
    "that Energy Bridge does not support yet, so no zone is read from it. Older tado (V3+) homes work."
  );
}
