/**
 * MQTT.js client plumbing for the entity publisher: connect options (Last Will, reconnects),
 * readable broker errors, and a timeout around promises that wait for the broker.
 *
 * Sources: mqttjs/MQTT.js README (v5: `connect`, `publishAsync` resolves on PUBACK for QoS 1 and
 * waits through a disconnect, defaults keepalive 60 s / reconnectPeriod 1000 ms / connectTimeout
 * 30 s, CONNACK refusals retried only with `reconnectOnConnackError`); MQTT 3.1.1 §3.2.2.3 CONNACK
 * return codes (4 bad user name or password, 5 not authorized) and MQTT 5 reason codes 134/135.
 */
import type { IClientOptions } from "mqtt";
import { describeBroker, type BrokerSettings } from "./broker.js";

/** Timing knobs of the connection (all optional). */
export interface ConnectionTimings {
  /** MQTT keepalive, s (the broker fires the Will ~1.5 × this after a silent death). Default 30. */
  keepaliveSeconds?: number;
  /** Delay between reconnect attempts, ms. Default 5000. */
  reconnectPeriodMs?: number;
  /** One connect attempt, ms. Default 10000. */
  connectTimeoutMs?: number;
}

/**
 * MQTT.js options: clean session, no automatic resubscribe (the publisher subscribes itself on
 * every connect), CONNACK refusals retried like transport errors, and the Last Will
 * `willTopic` = `offline` (QoS 1, retained).
 */
export function clientOptions(broker: BrokerSettings, clientId: string, willTopic: string, t: ConnectionTimings = {}): IClientOptions {
  const options: IClientOptions = {
    clientId,
    clean: true,
    protocolVersion: broker.protocolVersion,
    keepalive: t.keepaliveSeconds ?? 30,
    reconnectPeriod: t.reconnectPeriodMs ?? 5_000,
    connectTimeout: t.connectTimeoutMs ?? 10_000,
    reconnectOnConnackError: true,
    resubscribe: false,
    will: { topic: willTopic, payload: Buffer.from("offline"), qos: 1, retain: true },
  };
  if (broker.username !== undefined) options.username = broker.username;
  if (broker.password !== undefined) options.password = broker.password;
  return options;
}

/** `p`, or a rejection "<what>: no answer from the broker within <ms> ms". */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: no answer from the broker within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * A readable sentence for an MQTT.js / socket error, naming the broker (never its password):
 * "cannot reach the MQTT broker at mqtt://h:1883: connection refused", "the MQTT broker at … refused
 * the credentials (Connection refused: Not authorized)", else "MQTT broker …: <message>".
 */
export function brokerErrorMessage(err: unknown, broker: BrokerSettings): string {
  const e = err as { code?: unknown; message?: string } | undefined;
  const where = describeBroker(broker);
  if (e?.code === "ECONNREFUSED") return `cannot reach the MQTT broker at ${where}: connection refused`;
  if (e?.code === "ENOTFOUND" || e?.code === "EAI_AGAIN") return `cannot resolve the MQTT broker's host in ${where}`;
  if (e?.code === 4 || e?.code === 5 || e?.code === 134 || e?.code === 135) {
    return `the MQTT broker at ${where} refused the credentials (${e.message ?? "not authorized"})`;
  }
  return `MQTT broker ${where}: ${e?.message ?? String(err)}`;
}
