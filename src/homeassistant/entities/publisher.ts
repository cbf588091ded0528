/**
 * EntityPublisher: publishes the add-on's entities to Home Assistant through MQTT discovery over an
 * MQTT.js client, and keeps them right across publisher restarts, reconnects, broker restarts and
 * HA restarts.
 *
 * Lifecycle (HA core `components/mqtt/` `client.py`, `discovery.py`, `entity.py`; z2m
 * `lib/extension/homeassistant.ts`):
 * - connects with the Last Will `energy_bridge/bridge/state` = `offline` (QoS 1, retained); on every
 *   (re)connect it subscribes to its own config topics (`<prefix>/+/energy_bridge/+/config`), HA's
 *   birth topic and a private echo topic, waits for the broker's retained replay (the echo comes
 *   back after it), then publishes `online`, every config (retained, QoS 1), every availability and
 *   every state (retained, QoS 1), in that order (configs first: HA's birth waits for 5 s of
 *   discovery silence);
 * - on HA's birth (`homeassistant/status` = `online`, not retained) it re-publishes availability,
 *   states and configs (HA ignores an unchanged config; this repairs a broker that lost its
 *   retained store);
 * - **a deleted entity stays deleted**: when the user deletes an entity or a device, HA clears our
 *   retained config (empty retained publish, received here live with retain=false). The publisher
 *   records it (`DeletedEntities.markDeleted`) and never publishes that config again — nor its
 *   states. With the optional `wasPublished`/`markPublished` pair (or within one process), a config
 *   it published before that is missing from the broker's replay while other configs of ours are
 *   there counts as deleted while we were away; if none of ours is there, the broker lost its
 *   store and everything is re-published;
 * - `stop()` publishes `offline` and disconnects; configs are never emptied on disconnect or
 *   shutdown (only {@link EntityPublisher.removeMeter} empties them, for a meter the user removed
 *   from the add-on);
 * - reconnects are MQTT.js's (`reconnectPeriod`); a broker error never throws out of the client:
 *   it is logged once per distinct message and kept in {@link EntityPublisher.lastError}.
 */
import { randomBytes } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import { describeBroker, type BrokerSettings } from "./broker.js";
import { brokerErrorMessage, clientOptions, withTimeout, type ConnectionTimings } from "./client.js";

export { brokerErrorMessage } from "./client.js";
import {
  bridgeConfigs,
  bridgeStateTopic,
  bridgeVersionTopic,
  configTopicFilter,
  DEFAULT_BASE_TOPIC,
  DEFAULT_PREFIX,
  meterAvailabilityTopic,
  meterConfigs,
  OFFLINE,
  ONLINE,
  type DiscoveryConfig,
  type DiscoveryOptions,
  type MeterDescriptor,
  type MeterFeatures,
} from "./discovery.js";
import { meterStateMessages, type MeterStateInput, type StateMessage } from "./states.js";

/** Remembers the entities the user deleted in HA (the service backs it by SQLite). */
export interface DeletedEntities {
  isDeleted(uniqueId: string): boolean;
  markDeleted(uniqueId: string): void;
  /** Optional: whether this config was ever published (lets a fresh process notice deletions made while it was down). */
  wasPublished?(uniqueId: string): boolean;
  /** Optional: records a published config (called once per unique id and process). */
  markPublished?(uniqueId: string): void;
  /**
   * Optional: drops both marks of an entity the add-on removed itself ({@link EntityPublisher.removeMeter}),
   * so a meter added back later is published afresh instead of being taken for a user deletion.
   */
  forget?(uniqueId: string): void;
}

/** A minimal logger (pino's fits). */
export interface PublisherLog {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

/** Options of {@link EntityPublisher} (timings: keepaliveSeconds 30, reconnectPeriodMs 5000, connectTimeoutMs 10000). */
export interface EntityPublisherOptions extends ConnectionTimings {
  broker: BrokerSettings;
  discovery: DiscoveryOptions;
  deleted: DeletedEntities;
  /** HA's birth topic (an MQTT integration option). Default `homeassistant/status`; payload `online`. */
  birthTopic?: string;
  /** Default `energy_bridge_<8 hex>`; must be unique on the broker (it drops the older client). */
  clientId?: string;
  log?: PublisherLog;
  /** Called after a deletion in HA was recorded. */
  onDeleted?: (uniqueId: string, entityId: string) => void;
  /** Longest wait for one PUBACK before giving up on that publish (it stays queued), ms. Default 10000. */
  publishTimeoutMs?: number;
  /** Wait after HA's birth before re-publishing, ms. Default 1000. */
  birthDelayMs?: number;
}

const noop = () => undefined;
const NO_LOG: PublisherLog = { debug: noop, info: noop, warn: noop };

/** Publishes and maintains the add-on's MQTT discovery entities (see the module docstring). */
export class EntityPublisher {
  private client: MqttClient | undefined;
  private readonly log: PublisherLog;
  private readonly prefix: string;
  private readonly base: string;
  private readonly birthTopic: string;
  readonly clientId: string;
  private readonly echoTopic: string;
  /** Every config declared, by config topic (deleted ones included, for lookups). */
  private readonly configs = new Map<string, DiscoveryConfig>();
  /** Retained payload by topic: states, attributes, bridge version. */
  private readonly states = new Map<string, string>();
  /** Meter availability by topic. */
  private readonly availability = new Map<string, string>();
  /** Config topics of ours the broker holds now, as seen on the current connection (replay + live). */
  private readonly present = new Set<string>();
  /** How many configs of ours the broker replayed on this connection (0: it lost its store, or first run). */
  private replayed = 0;
  /** Unique ids published by this process. */
  private readonly publishedHere = new Set<string>();
  /** Config topics this publisher is emptying itself (removeMeter). */
  private readonly selfCleared = new Set<string>();
  /** Retained topics of removed meters still to be emptied. */
  private readonly toEmpty = new Set<string>();
  /** Command topics of declared entities, and those subscribed on the current connection. */
  private readonly commandTopics = new Set<string>();
  private readonly subscribed = new Set<string>();
  private readonly commandHandlers = new Set<(topic: string, payload: string) => void>();
  /** Last payload sent per topic on the current connection (skip identical re-sends). */
  private readonly sent = new Map<string, string>();
  private generation = 0;
  private replaying = false;
  private echoWaiter: { nonce: string; resolve: () => void } | undefined;
  private birthTimer: NodeJS.Timeout | undefined;
  private firstSync: Promise<void> | undefined;
  private resolveFirstSync: (() => void) | undefined;
  private lastLogged: string | undefined;
  private stopped = false;
  /** Last broker error (readable), null after a successful connect. */
  lastError: string | null = null;

  constructor(private readonly opts: EntityPublisherOptions) {
    this.log = opts.log ?? NO_LOG;
    this.prefix = opts.discovery.prefix ?? DEFAULT_PREFIX;
    this.base = opts.discovery.baseTopic ?? DEFAULT_BASE_TOPIC;
    this.birthTopic = opts.birthTopic ?? `${DEFAULT_PREFIX}/status`;
    this.clientId = opts.clientId ?? `energy_bridge_${randomBytes(4).toString("hex")}`;
    this.echoTopic = `${this.base}/bridge/echo/${this.clientId}`;
    for (const c of bridgeConfigs(opts.discovery)) this.configs.set(c.topic, c);
    this.states.set(bridgeVersionTopic(opts.discovery), opts.discovery.swVersion);
  }

  /** Where and as what configs are published (prefix, base topic, version). */
  get discovery(): DiscoveryOptions {
    return this.opts.discovery;
  }

  /** True while connected and past the first publish round of this connection. */
  get connected(): boolean {
    return !!this.client?.connected && !this.replaying;
  }

  /**
   * Connects (in the background from then on). Resolves `true` once connected and everything
   * declared so far is published, `false` when the first connection did not succeed within
   * `waitMs` (default: connectTimeoutMs); MQTT.js keeps retrying and everything is published on
   * connect. Never rejects for broker errors.
   */
  async start(waitMs?: number): Promise<boolean> {
    if (this.client) throw new Error("EntityPublisher.start() called twice");
    this.stopped = false;
    const b = this.opts.broker;
    const options = clientOptions(b, this.clientId, bridgeStateTopic(this.opts.discovery), this.opts);
    this.firstSync = new Promise((res) => (this.resolveFirstSync = res));
    const client = mqtt.connect(b.url, options);
    this.client = client;
    client.on("error", (err) => this.reportError(err));
    client.on("connect", () => void this.onConnect(client));
    client.on("close", () => {
      this.generation++;
      this.replaying = false;
      this.sent.clear();
      this.subscribed.clear();
    });
    client.on("offline", () => this.log.debug(`MQTT: disconnected from ${describeBroker(b)}; reconnecting`));
    client.on("message", (topic, payload, packet) => this.onMessage(topic, payload.toString(), packet.retain));
    const wait = waitMs ?? this.opts.connectTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      this.firstSync.then(() => this.connected),
      new Promise<boolean>((res) => (timer = setTimeout(() => res(false), wait))),
    ]);
    clearTimeout(timer);
    if (!ok) this.log.warn(`MQTT: not connected to ${describeBroker(b)} yet (${this.lastError ?? "no answer"}); retrying in the background`);
    return ok;
  }

  /**
   * Declares a meter's entities (configs from `meterConfigs`) and sets its availability `online`
   * unless set before. Publishes them now when connected; deleted ones are skipped.
   */
  declareMeter(meter: MeterDescriptor, features: MeterFeatures = {}): Promise<void> {
    return this.declareGroup(meterConfigs(meter, features, this.opts.discovery), meterAvailabilityTopic(meter.id, this.opts.discovery));
  }

  /** Sets a meter's availability topic (`online`/`offline`); its measurements follow it. */
  setMeterAvailable(meterId: string, available: boolean): Promise<void> {
    return this.setAvailability(meterAvailabilityTopic(meterId, this.opts.discovery), available);
  }

  /**
   * Publishes a meter's states and attributes (retained; see `states.ts` for payloads). Kept in
   * memory and re-sent on reconnect and HA birth; unchanged payloads are not re-sent; states of a
   * deleted entity are dropped.
   */
  publishMeterStates(input: MeterStateInput): Promise<void> {
    return this.publishStates(meterStateMessages(input, this.opts.discovery));
  }

  /**
   * Removes a meter the user took out of the add-on: empties its retained configs (HA removes the
   * entities and the device), states and availability — now, or on the next connect — and
   * `forget`s its unique ids in the store. Not for disconnects or shutdown.
   */
  removeMeter(meterId: string): Promise<void> {
    return this.removeGroup(meterId, meterAvailabilityTopic(meterId, this.opts.discovery));
  }

  /**
   * Declares one group of configs (a meter's, or a generic device's: all with the same
   * `meterId` group key) with its own availability topic, set `online` unless set before.
   * Publishes now when connected; configs the user deleted are skipped.
   */
  async declareGroup(cfgs: DiscoveryConfig[], availabilityTopic: string): Promise<void> {
    for (const c of cfgs) {
      this.configs.set(c.topic, c);
      this.toEmpty.delete(c.topic);
      this.toEmpty.delete(c.stateTopic);
      if (c.attributesTopic) this.toEmpty.delete(c.attributesTopic);
    }
    this.toEmpty.delete(availabilityTopic);
    if (!this.availability.has(availabilityTopic)) this.availability.set(availabilityTopic, ONLINE);
    for (const c of cfgs) for (const t of c.commandTopics ?? []) this.commandTopics.add(t);
    if (!this.connected) return;
    const gen = this.generation;
    this.noticeDeletionsWhileAway(cfgs);
    await this.publishConfigs(cfgs, gen);
    await this.send(availabilityTopic, this.availability.get(availabilityTopic)!, gen);
    await this.subscribeCommands(gen);
  }

  /** Sets an availability topic (`online`/`offline`), kept and re-sent on reconnect. */
  async setAvailability(topic: string, available: boolean): Promise<void> {
    this.availability.set(topic, available ? ONLINE : OFFLINE);
    if (this.connected) await this.send(topic, available ? ONLINE : OFFLINE, this.generation);
  }

  /** Publishes retained state messages (kept and re-sent on reconnect/birth; a deleted entity's dropped). */
  async publishStates(messages: readonly StateMessage[]): Promise<void> {
    const msgs = messages.filter((m) => !this.isDeletedTopic(m.topic));
    for (const m of msgs) this.states.set(m.topic, m.payload);
    if (!this.connected) return;
    const gen = this.generation;
    await Promise.all(msgs.map((m) => this.send(m.topic, m.payload, gen)));
  }

  /**
   * Receives the non-retained messages on declared command topics (`DiscoveryConfig.commandTopics`),
   * subscribed on every connect. Returns the function that removes the handler.
   */
  onCommand(handler: (topic: string, payload: string) => void): () => void {
    this.commandHandlers.add(handler);
    return () => this.commandHandlers.delete(handler);
  }

  /** Removes one group of configs (see `removeMeter`): emptied now or on the next connect. */
  async removeGroup(groupId: string, availabilityTopic: string): Promise<void> {
    const mine = [...this.configs.values()].filter((c) => c.meterId === groupId);
    const topics = new Set<string>();
    for (const c of mine) {
      this.configs.delete(c.topic);
      this.publishedHere.delete(c.uniqueId);
      this.opts.deleted.forget?.(c.uniqueId);
      topics.add(c.stateTopic);
      if (c.attributesTopic) topics.add(c.attributesTopic);
      for (const t of c.commandTopics ?? []) this.commandTopics.delete(t);
    }
    for (const [t] of this.states) if (mine.some((c) => c.topicRoot && t.startsWith(`${c.topicRoot}/`))) topics.add(t);
    this.availability.delete(availabilityTopic);
    for (const t of topics) this.states.delete(t);
    for (const c of mine) this.toEmpty.add(c.topic);
    for (const t of [...topics, availabilityTopic]) this.toEmpty.add(t);
    if (this.connected) await this.emptyRemoved(this.generation);
  }

  private async subscribeCommands(gen: number): Promise<void> {
    const client = this.client;
    const todo = [...this.commandTopics].filter((t) => !this.subscribed.has(t));
    if (!client?.connected || gen !== this.generation || todo.length === 0) return;
    for (const t of todo) this.subscribed.add(t);
    try {
      await withTimeout(client.subscribeAsync(todo, { qos: 1 }), this.opts.publishTimeoutMs ?? 10_000, "subscribing to command topics");
    } catch (err) {
      for (const t of todo) this.subscribed.delete(t);
      this.reportError(err);
    }
  }

  /** Empties the retained topics of removed meters (now, or on the next connect). */
  private async emptyRemoved(gen: number): Promise<void> {
    const todo = [...this.toEmpty];
    for (const t of todo) if (!this.configs.has(t) && t.endsWith("/config")) this.selfCleared.add(t);
    await Promise.all(
      todo.map(async (t) => {
        if (await this.send(t, "", gen, true)) this.toEmpty.delete(t);
      }),
    );
  }

  /**
   * Publishes `offline` on the bridge topic and disconnects. Configs stay. `{ offline: false }`
   * (a one-shot `sync --once` run from cron): disconnects cleanly without `offline`, so the
   * entities keep their last state until the next run (a clean DISCONNECT suppresses the Will).
   */
  async stop(opts: { offline?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.birthTimer);
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.resolveFirstSync?.();
    if (client.connected) {
      try {
        if (opts.offline !== false) {
          await withTimeout(
            client.publishAsync(bridgeStateTopic(this.opts.discovery), OFFLINE, { qos: 1, retain: true }),
            3_000,
            "publishing offline",
          );
        }
        await withTimeout(client.endAsync(), 3_000, "disconnecting");
        return;
      } catch (err) {
        this.log.warn(`MQTT: ${(err as Error).message}; closing the connection (the broker then sends the Last Will)`);
      }
    }
    await client.endAsync(true).catch(noop);
  }

  private reportError(err: unknown): void {
    const msg = brokerErrorMessage(err, this.opts.broker);
    this.lastError = msg;
    if (msg !== this.lastLogged) {
      this.lastLogged = msg;
      this.log.warn(`MQTT: ${msg}`);
    }
  }

  private isDeletedTopic(topic: string): boolean {
    for (const c of this.configs.values()) {
      const mine = c.stateTopic === topic || c.attributesTopic === topic || (c.topicRoot !== undefined && topic.startsWith(`${c.topicRoot}/`));
      if (mine && this.opts.deleted.isDeleted(c.uniqueId)) return true;
    }
    return false;
  }

  private async onConnect(client: MqttClient): Promise<void> {
    const gen = ++this.generation;
    this.replaying = true;
    this.present.clear();
    this.sent.clear();
    this.lastError = null;
    this.lastLogged = undefined;
    const timeout = this.opts.publishTimeoutMs ?? 10_000;
    try {
      const granted = await withTimeout(
        client.subscribeAsync([configTopicFilter({ prefix: this.prefix }), this.birthTopic, this.echoTopic], { qos: 1 }),
        timeout,
        "subscribing",
      );
      if (granted.some((g) => g.qos === 128)) {
        this.log.warn("MQTT: the broker refused a subscription; deletions made in Home Assistant may go unnoticed");
      }
      // The retained replay of our config topics is queued before this echo comes back.
      const nonce = randomBytes(6).toString("hex");
      const echoed = new Promise<void>((resolve) => (this.echoWaiter = { nonce, resolve }));
      await withTimeout(client.publishAsync(this.echoTopic, nonce, { qos: 1, retain: false }), timeout, "echo");
      await withTimeout(echoed, timeout, "echo").catch(() => this.log.warn("MQTT: the broker did not echo; continuing"));
      if (gen !== this.generation) return;
      this.replayed = this.present.size;
      this.noticeDeletionsWhileAway([...this.configs.values()]);
      this.replaying = false;
      this.log.info(`MQTT: connected to ${describeBroker(this.opts.broker)}`);
      await this.publishAll(gen);
      await this.subscribeCommands(gen);
    } catch (err) {
      if (gen === this.generation) this.reportError(err);
    } finally {
      if (gen === this.generation) this.replaying = false;
      if (this.stopped || gen === this.generation) this.resolveFirstSync?.();
    }
  }

  /**
   * A config published before (by this process, or per `wasPublished`) that the broker no longer
   * holds while it replayed others of ours: HA emptied it while we were away (user deletion).
   */
  private noticeDeletionsWhileAway(cfgs: DiscoveryConfig[]): void {
    if (this.replayed === 0) return; // nothing of ours retained: the broker lost its store (or first run ever)
    for (const c of cfgs) {
      if (this.present.has(c.topic) || this.opts.deleted.isDeleted(c.uniqueId)) continue;
      const before = this.publishedHere.has(c.uniqueId) || this.opts.deleted.wasPublished?.(c.uniqueId) === true;
      if (before) this.recordDeletion(c, "while the publisher was away");
    }
  }

  private recordDeletion(c: DiscoveryConfig, when: string): void {
    this.opts.deleted.markDeleted(c.uniqueId);
    this.log.info(`MQTT: ${c.entityId} (${c.uniqueId}) was deleted in Home Assistant ${when}; it will not be published again`);
    this.opts.onDeleted?.(c.uniqueId, c.entityId);
  }

  private onMessage(topic: string, payload: string, retained: boolean): void {
    if (this.commandTopics.has(topic)) {
      if (retained) return; // a stale retained command is never executed
      for (const h of this.commandHandlers) {
        try {
          h(topic, payload);
        } catch (err) {
          this.log.warn(`MQTT: a command handler for ${topic} failed: ${(err as Error).message}`);
        }
      }
      return;
    }
    if (topic === this.echoTopic) {
      if (this.echoWaiter && payload === this.echoWaiter.nonce) {
        this.echoWaiter.resolve();
        this.echoWaiter = undefined;
      }
      return;
    }
    if (topic === this.birthTopic) {
      if (payload === ONLINE && !retained) this.scheduleBirthRepublish();
      return;
    }
    if (payload !== "") {
      this.present.add(topic);
      return;
    }
    this.present.delete(topic);
    if (this.selfCleared.delete(topic)) return;
    const c = this.configs.get(topic);
    if (!c || this.opts.deleted.isDeleted(c.uniqueId)) return;
    this.recordDeletion(c, "by the user");
  }

  private scheduleBirthRepublish(): void {
    clearTimeout(this.birthTimer);
    this.birthTimer = setTimeout(() => {
      if (!this.connected) return;
      this.log.debug("MQTT: Home Assistant came online; re-publishing availability, states and configs");
      this.sent.clear();
      void this.publishAll(this.generation, true);
    }, this.opts.birthDelayMs ?? 1_000);
  }

  /** online → configs → availability → states (on birth: availability and states before configs). */
  private async publishAll(gen: number, birth = false): Promise<void> {
    const live = [...this.configs.values()];
    const avail = async () => {
      await this.send(bridgeStateTopic(this.opts.discovery), ONLINE, gen);
      await Promise.all([...this.availability].map(([t, p]) => this.send(t, p, gen)));
    };
    const states = () => Promise.all([...this.states].filter(([t]) => !this.isDeletedTopic(t)).map(([t, p]) => this.send(t, p, gen)));
    if (birth) {
      await avail();
      await states();
      await this.publishConfigs(live, gen);
    } else {
      await this.send(bridgeStateTopic(this.opts.discovery), ONLINE, gen);
      await this.emptyRemoved(gen);
      await this.publishConfigs(live, gen);
      await avail();
      await states();
    }
  }

  private async publishConfigs(cfgs: DiscoveryConfig[], gen: number): Promise<void> {
    const todo = cfgs.filter((c) => !this.opts.deleted.isDeleted(c.uniqueId));
    await Promise.all(
      todo.map(async (c) => {
        const ok = await this.send(c.topic, JSON.stringify(c.payload), gen);
        if (ok) this.present.add(c.topic);
        if (ok && !this.publishedHere.has(c.uniqueId)) {
          this.publishedHere.add(c.uniqueId);
          this.opts.deleted.markPublished?.(c.uniqueId);
        }
      }),
    );
  }

  /** One retained QoS 1 publish; false when skipped (stale connection) or failed (logged). */
  private async send(topic: string, payload: string, gen: number, force = false): Promise<boolean> {
    const client = this.client;
    if (!client?.connected || gen !== this.generation) return false;
    if (!force && this.sent.get(topic) === payload) return true;
    this.sent.set(topic, payload);
    try {
      await withTimeout(client.publishAsync(topic, payload, { qos: 1, retain: true }), this.opts.publishTimeoutMs ?? 10_000, `publishing ${topic}`);
      return true;
    } catch (err) {
      this.sent.delete(topic);
      this.reportError(err);
      return false;
    }
  }
}
