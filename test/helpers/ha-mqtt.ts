/**
 * Connects a harness Home Assistant (test/helpers/ha-harness.ts) to a broker
 * (test/helpers/mosquitto.ts) the way a user does: the MQTT integration's config flow over REST.
 * There is no YAML `mqtt: broker:` any more (removed by 2024.3).
 *
 * Flow (HA core `components/config/config_entries.py`, `components/mqtt/config_flow.py`; the same
 * on 2025.4.4 and 2026.2.3 — off-Supervisor `async_step_user` goes straight to the broker form):
 * 1. `POST /api/config/config_entries/flow` `{"handler":"mqtt","show_advanced_options":false}`
 *    → `{"type":"form","flow_id":…,"step_id":"broker"}`;
 * 2. `POST /api/config/config_entries/flow/<flow_id>` `{"broker":"127.0.0.1","port":<port>}`
 *    (+ `username`/`password`) → HA connects with paho (`try_connection`) →
 *    `{"type":"create_entry","result":{"entry_id":…,"state":…}}`; a failed connect answers the form
 *    again with `errors.base = "cannot_connect"`; a second entry aborts `single_instance_allowed`.
 * Requires `paho-mqtt` in HA's virtualenv (HA runs with `--skip-pip`; scripts/setup-ha.sh has it).
 * Discovery is then on with prefix `homeassistant`, birth `homeassistant/status` = `online`
 * (not retained, sent ≥ 5 s after the last discovery message).
 */
import mqtt from "mqtt";
import type { HomeAssistantInstance } from "./ha-harness.js";

/** Broker coordinates as HA's config flow takes them. */
export interface HaBrokerInput {
  host: string;
  port: number;
  username?: string;
  password?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(ha: Pick<HomeAssistantInstance, "url" | "token">, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${ha.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${ha.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** A config entry as `GET /api/config/config_entries/entry` lists it. */
export interface ConfigEntryInfo {
  entry_id: string;
  domain: string;
  title: string;
  state: string;
  reason?: string | null;
}

/** The MQTT config entry, if any. */
export async function mqttEntry(ha: Pick<HomeAssistantInstance, "url" | "token">): Promise<ConfigEntryInfo | undefined> {
  const r = await call(ha, "/api/config/config_entries/entry?domain=mqtt");
  if (r.status !== 200) throw new Error(`listing config entries: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as ConfigEntryInfo[])[0];
}

/**
 * Adds the MQTT integration through the config flow and waits until its entry is `loaded`.
 * @returns the config entry id
 * @throws Error with HA's answer when a step fails (e.g. `cannot_connect`) or the entry does not
 *   load within `timeoutMs` (default 60 s).
 */
export async function addMqttIntegration(
  ha: Pick<HomeAssistantInstance, "url" | "token" | "log">,
  broker: HaBrokerInput,
  timeoutMs = 60_000,
): Promise<string> {
  const start = await call(ha, "/api/config/config_entries/flow", { handler: "mqtt", show_advanced_options: false });
  const form = start.body as { type?: string; flow_id?: string; step_id?: string };
  if (start.status !== 200 || form.type !== "form" || form.step_id !== "broker" || !form.flow_id) {
    throw new Error(`MQTT config flow did not offer the broker step: HTTP ${start.status} ${JSON.stringify(start.body)}`);
  }
  const input: Record<string, unknown> = { broker: broker.host, port: broker.port };
  if (broker.username !== undefined) input.username = broker.username;
  if (broker.password !== undefined) input.password = broker.password;
  const done = await call(ha, `/api/config/config_entries/flow/${form.flow_id}`, input);
  const result = done.body as { type?: string; errors?: unknown; result?: { entry_id?: string } };
  if (done.status !== 200 || result.type !== "create_entry" || !result.result?.entry_id) {
    throw new Error(`MQTT broker step failed: HTTP ${done.status} ${JSON.stringify(done.body)}\n${ha.log().split("\n").slice(-30).join("\n")}`);
  }
  const entryId = result.result.entry_id;
  await waitForMqttLoaded(ha, timeoutMs);
  return entryId;
}

/** Polls until the MQTT entry is `loaded`. @throws Error naming its state and reason after `timeoutMs`. */
export async function waitForMqttLoaded(ha: Pick<HomeAssistantInstance, "url" | "token">, timeoutMs = 60_000): Promise<ConfigEntryInfo> {
  const deadline = Date.now() + timeoutMs;
  let last: ConfigEntryInfo | undefined;
  for (;;) {
    last = await mqttEntry(ha);
    if (last?.state === "loaded") return last;
    if (Date.now() > deadline) throw new Error(`MQTT entry not loaded within ${timeoutMs} ms: ${JSON.stringify(last)}`);
    await sleep(250);
  }
}

/**
 * Subscribes to HA's birth topic on `brokerUrl`, runs `trigger` (add the integration, restart HA,
 * restart the broker…), and resolves when a live `online` arrives after it.
 * @throws Error when no birth arrives within `timeoutMs` (default 60 s).
 */
export async function withBirth<T>(brokerUrl: string, trigger: () => Promise<T>, timeoutMs = 60_000, birthTopic = "homeassistant/status"): Promise<T> {
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `eb_test_birth_${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 500 });
  client.on("error", () => undefined);
  try {
    let armed = false;
    let resolveBirth: () => void = () => undefined;
    const birth = new Promise<void>((res) => (resolveBirth = res));
    client.on("message", (topic, payload, packet) => {
      if (armed && topic === birthTopic && payload.toString() === "online" && !packet.retain) resolveBirth();
    });
    await client.subscribeAsync(birthTopic, { qos: 0 });
    armed = true;
    const value = await trigger();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      birth,
      new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`no Home Assistant birth on ${birthTopic} within ${timeoutMs} ms`)), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    return value;
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
