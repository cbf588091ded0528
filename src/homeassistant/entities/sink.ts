/**
 * Where the add-on's entities go: real entities through MQTT discovery when a broker exists
 * ({@link EntityPublisher}), REST states otherwise (the fallback of `../entities.ts`). Modules
 * publish through this one interface and never know which is in use.
 */
import type { Meter } from "../../domain/types.js";
import type { Logger } from "../../log.js";
import { publishMeter, type MeterSnapshot } from "../entities.js";
import type { HaRest } from "../rest.js";
import { resolveBroker, describeBroker, type BrokerResolution } from "./broker.js";
import type { MeterFeatures } from "./discovery.js";
import { EntityPublisher, type DeletedEntities } from "./publisher.js";
import type { HistoryCoverage } from "./states.js";
import { mqttDeviceSink, restDeviceSink, type DeviceSink } from "./device-sink.js";

/** What a module publishes about one meter series: the REST snapshot plus history coverage. */
export type MeterEntities = MeterSnapshot & { history?: HistoryCoverage | null };

/** See the file comment; the generic devices part is in device-sink.ts. */
export interface EntitySink extends DeviceSink {
  readonly mode: "mqtt" | "rest";
  /** Declares a meter's entities (MQTT: discovery configs, device, availability). */
  declareMeter(meter: Meter, features: MeterFeatures): Promise<void>;
  publish(entities: MeterEntities): Promise<void>;
  /** Marks a meter's entities available or not (MQTT only: REST states have no availability). */
  setAvailable(meterId: string, available: boolean): Promise<void>;
  /**
   * MQTT: publishes `offline` (entities go unavailable, never deleted); `{ offline: false }`
   * leaves them available with their last state (one-shot runs, see EntityPublisher.stop).
   */
  stop(opts?: { offline?: boolean }): Promise<void>;
}

/** What the REST fallback cannot do, said once in the log (and later on the add-on's page). */
export const REST_FALLBACK_LIMITS =
  "entities are REST states without a unique_id: they cannot be renamed, given an area or a device, " +
  "they disappear on every Home Assistant restart until re-published, and show no 'unavailable' when the add-on stops";

/** The REST-state fallback. */
export function restEntitySink(rest: HaRest): EntitySink {
  return {
    ...restDeviceSink(rest),
    mode: "rest",
    declareMeter: async () => undefined,
    publish: (e) => publishMeter(rest, e),
    setAvailable: async () => undefined,
    stop: async () => undefined,
  };
}

/** The MQTT discovery sink over a started publisher. */
export function mqttEntitySink(publisher: EntityPublisher): EntitySink {
  return {
    ...mqttDeviceSink(publisher),
    mode: "mqtt",
    declareMeter: (meter, features) => publisher.declareMeter(meter, features),
    publish: (e) => publisher.publishMeterStates(e),
    setAvailable: (id, available) => publisher.setMeterAvailable(id, available),
    stop: (opts) => publisher.stop(opts),
  };
}

/**
 * Resolves the broker (add-on: the Supervisor's MQTT service; standalone: the `mqtt_url` option)
 * and returns the MQTT sink, connected (or reconnecting by itself), or the REST fallback when
 * there is no broker — logging once which, and what the fallback cannot do.
 */
export async function createEntitySink(opts: {
  rest: HaRest;
  log: Logger;
  deleted: DeletedEntities;
  swVersion: string;
  supervisorToken?: string;
  mqtt?: { url: string; username?: string; password?: string };
  /** How long the first connect may take before the service goes on (it keeps trying). */
  connectWaitMs?: number;
}): Promise<EntitySink> {
  const resolution: BrokerResolution = await resolveBroker({
    ...(opts.supervisorToken ? { supervisorToken: opts.supervisorToken } : {}),
    ...(opts.mqtt
      ? { options: { mqtt_url: opts.mqtt.url, ...(opts.mqtt.username ? { mqtt_username: opts.mqtt.username } : {}), ...(opts.mqtt.password ? { mqtt_password: opts.mqtt.password } : {}) } }
      : {}),
  });
  if (resolution.kind !== "broker") {
    const why = resolution.kind === "none" ? resolution.reason : `the MQTT broker cannot be used (${resolution.reason})`;
    opts.log.warn(`no MQTT discovery: ${why}; ${REST_FALLBACK_LIMITS}`);
    return restEntitySink(opts.rest);
  }
  const publisher = new EntityPublisher({
    broker: resolution.settings,
    discovery: { swVersion: opts.swVersion },
    deleted: opts.deleted,
    log: { debug: (m) => opts.log.debug(m), info: (m) => opts.log.info(m), warn: (m) => opts.log.warn(m) },
    onDeleted: (_id, entityId) => opts.log.info(`${entityId} was deleted in Home Assistant; it will not be re-created`),
  });
  const connected = await publisher.start(opts.connectWaitMs ?? 5_000);
  opts.log.info(
    connected
      ? `entities through MQTT discovery on ${describeBroker(resolution.settings)} (${resolution.source})`
      : `MQTT broker ${describeBroker(resolution.settings)} not reachable yet (${publisher.lastError ?? "no answer"}); retrying in the background`,
  );
  return mqttEntitySink(publisher);
}
