/**
 * Which MQTT broker the entity publisher uses, if any.
 *
 * Order: the user's `mqtt_url` option (add-on or standalone) → under the Supervisor (a
 * `SUPERVISOR_TOKEN`), the broker service it provides (`GET http://supervisor/services/mqtt`, needs
 * `services: ["mqtt:want"]` in config.yaml) → none, and entities fall back to REST states.
 *
 * Supervisor answer (`supervisor/api/services.py`, schema `supervisor/services/modules/mqtt.py`):
 * 200 `{"result":"ok","data":{"host":"core-mosquitto","port":1883,"ssl":false,"protocol":"3.1.1",
 * "username":"addons","password":"…","addon":"core_mosquitto"}}` (host, port required; username,
 * password optional; ssl default false; protocol `3.1` | `3.1.1`); 400 "Service not enabled" when
 * no broker add-on provides it; 403 "No access to mqtt service!" when config.yaml does not declare
 * it; 404 on Supervisors without the endpoint.
 */

/** Connection settings for MQTT.js. */
export interface BrokerSettings {
  /** `mqtt://host:port` or `mqtts://host:port` (also `ws://`, `wss://` from the option); never carries credentials. */
  url: string;
  username?: string;
  password?: string;
  /** MQTT.js `protocolVersion`: 3 = MQTT 3.1, 4 = 3.1.1, 5 = 5.0. */
  protocolVersion: 3 | 4 | 5;
}

/** Result of {@link resolveBroker}. */
export type BrokerResolution =
  | { kind: "broker"; source: "options" | "supervisor"; settings: BrokerSettings }
  /** No broker configured or offered: use the REST-state fallback. `reason` is readable. */
  | { kind: "none"; reason: string }
  /**
   * A broker should exist but could not be had: the option is malformed, or the Supervisor could
   * not be reached / answered oddly. `retryable` is true for transport errors and 5xx.
   */
  | { kind: "error"; reason: string; retryable: boolean };

/** Inputs of {@link resolveBroker}. */
export interface BrokerInputs {
  /** `SUPERVISOR_TOKEN` (absent when standalone). */
  supervisorToken?: string;
  /** Supervisor API root. Default `http://supervisor`. */
  supervisorUrl?: string;
  /** Add-on / standalone options; empty strings count as absent. */
  options?: { mqtt_url?: string; mqtt_username?: string; mqtt_password?: string };
  /** HTTP timeout for the Supervisor call, ms. Default 10000. */
  timeoutMs?: number;
  /** Injected for tests; default global `fetch`. */
  fetch?: typeof fetch;
}

const blank = (s: string | undefined): s is undefined => s === undefined || s.trim() === "";

/**
 * Parses the `mqtt_url` option: `mqtt[s]://[user[:password]@]host[:port]` (also `ws[s]://…/path`).
 * Credentials in the URL are moved out of it; explicit username/password win over them.
 * Default port 1883 (`mqtt`) / 8883 (`mqtts`). Returns the error kind for anything else.
 */
export function brokerFromUrl(
  raw: string,
  username?: string,
  password?: string,
): { kind: "broker"; source: "options"; settings: BrokerSettings } | { kind: "error"; reason: string; retryable: false } {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return { kind: "error", reason: `mqtt_url "${raw}" is not a URL (expected mqtt://host:1883)`, retryable: false };
  }
  const scheme = u.protocol.replace(/:$/, "");
  if (!["mqtt", "mqtts", "ws", "wss"].includes(scheme)) {
    return { kind: "error", reason: `mqtt_url must start with mqtt://, mqtts://, ws:// or wss:// (got ${scheme}://)`, retryable: false };
  }
  if (!u.hostname) return { kind: "error", reason: `mqtt_url "${raw}" has no host`, retryable: false };
  const user = blank(username) ? (u.username ? decodeURIComponent(u.username) : undefined) : username;
  const pass = blank(password) ? (u.password ? decodeURIComponent(u.password) : undefined) : password;
  const defaultPort = scheme === "mqtts" ? 8883 : scheme === "mqtt" ? 1883 : undefined;
  const port = u.port || (defaultPort ? String(defaultPort) : "");
  const path = scheme.startsWith("ws") ? u.pathname : "";
  const url = `${scheme}://${u.hostname}${port ? `:${port}` : ""}${path}`;
  const settings: BrokerSettings = { url, protocolVersion: 4 };
  if (user !== undefined) settings.username = user;
  if (pass !== undefined) settings.password = pass;
  return { kind: "broker", source: "options", settings };
}

/** Settings from the Supervisor's service data (`ssl` → mqtts, protocol `3.1` → v3, else v4). */
export function brokerFromSupervisor(data: {
  host: string;
  port: number;
  ssl?: boolean;
  protocol?: string;
  username?: string;
  password?: string;
}): BrokerSettings {
  const host = data.host.includes(":") && !data.host.startsWith("[") ? `[${data.host}]` : data.host;
  const s: BrokerSettings = {
    url: `${data.ssl ? "mqtts" : "mqtt"}://${host}:${data.port}`,
    protocolVersion: data.protocol === "3.1" ? 3 : 4,
  };
  if (data.username) s.username = data.username;
  if (data.password) s.password = data.password;
  return s;
}

/** The settings without the password, for logs: `mqtt://core-mosquitto:1883 as addons`. */
export function describeBroker(s: BrokerSettings): string {
  return `${s.url}${s.username ? ` as ${s.username}` : ""}`;
}

/**
 * Resolves the broker (order in the module docstring). Never throws: transport failures and
 * unexpected answers become `{kind: "error"}`; "no MQTT service" (400/403/404) becomes
 * `{kind: "none"}` with the Supervisor's message.
 */
export async function resolveBroker(inputs: BrokerInputs): Promise<BrokerResolution> {
  const o = inputs.options ?? {};
  if (!blank(o.mqtt_url)) return brokerFromUrl(o.mqtt_url, o.mqtt_username, o.mqtt_password);
  if (blank(inputs.supervisorToken)) {
    return { kind: "none", reason: "no mqtt_url option and not running under the Supervisor" };
  }
  const url = `${(inputs.supervisorUrl ?? "http://supervisor").replace(/\/$/, "")}/services/mqtt`;
  const doFetch = inputs.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      headers: { Authorization: `Bearer ${inputs.supervisorToken}` },
      signal: AbortSignal.timeout(inputs.timeoutMs ?? 10_000),
    });
  } catch (err) {
    return { kind: "error", reason: `cannot reach the Supervisor at ${url}: ${(err as Error).message}`, retryable: true };
  }
  const text = await res.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  const said = typeof message === "string" && message ? `: ${message}` : "";
  if (res.status === 400 || res.status === 403 || res.status === 404) {
    return { kind: "none", reason: `the Supervisor offers no MQTT broker (HTTP ${res.status}${said})` };
  }
  if (!res.ok) {
    return { kind: "error", reason: `the Supervisor answered HTTP ${res.status} on ${url}${said}`, retryable: res.status >= 500 };
  }
  const data = (body as { data?: Record<string, unknown> } | undefined)?.data;
  const host = data?.host;
  const port = typeof data?.port === "string" ? Number(data.port) : data?.port;
  if (typeof host !== "string" || !host || typeof port !== "number" || !Number.isInteger(port) || port <= 0) {
    return { kind: "error", reason: `the Supervisor's MQTT service data has no usable host/port: ${text.slice(0, 200)}`, retryable: false };
  }
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const input: Parameters<typeof brokerFromSupervisor>[0] = { host, port, ssl: data?.ssl === true };
  const protocol = str(data?.protocol);
  const username = str(data?.username);
  const password = str(data?.password);
  if (protocol) input.protocol = protocol;
  if (username) input.username = username;
  if (password) input.password = password;
  return { kind: "broker", source: "supervisor", settings: brokerFromSupervisor(input) };
}
