/**
 * Follows one sync server: registers once (pairing code), keeps the link up (link.ts), and mirrors
 * what it receives into the local HA through the generic device API — one device per server,
 * `unavailable` while disconnected (after a grace period; never deleted by a disconnect), commands forwarded back with
 * a correlation id and an optimistic state shown at once. States that originate here (or went
 * through here) are refused, so a chain of instances never loops.
 */
import type { TokenVault } from "../../auth/token-vault.js";
import type { DeviceSink } from "../../homeassistant/entities/device-sink.js";
import type { Logger } from "../../log.js";
import type { Db } from "../../store/db.js";
import type { EntityState } from "../protocol.js";
import { ServerLink, type LinkStatus, type LinkTiming } from "./link.js";
import { commandToCall, deviceKeyFor, entityKeyFor, entitySpec, isOwnState, stateMessages } from "./mirror.js";
import { loadRegistration, register, RegistrationError, rotate, type LinkRegistration } from "./register.js";

/** One configured server. */
export interface FollowedServer {
  url: string;
  name: string;
  pairingCode?: string;
  registrationSecret?: string;
  area?: string;
}

/** Dependencies of a follower. */
export interface FollowerDeps {
  db: Db;
  vault: TokenVault;
  entities: DeviceSink;
  log: Logger;
  now: () => number;
  /** This instance's id and the name it registers under. */
  instanceId: string;
  clientName: string;
  timing?: Partial<LinkTiming>;
  /** After a drop, entities turn unavailable only if the link is still down after this (ms, default 10 s). */
  unavailableGraceMs?: number;
  /** Rotate the token when it expires within this many days (default 30). */
  rotateWithinDays?: number;
}

/** What the page shows about one followed server. */
export interface FollowerView {
  url: string;
  name: string;
  status: LinkStatus | "unregistered";
  detail: string | null;
  serverId: string | null;
  entities: string[];
  refusedLoops: number;
}

/** See the file comment. */
export class Follower {
  link?: ServerLink;
  private reg?: LinkRegistration;
  private readonly states = new Map<string, EntityState>();
  private declared = "";
  private deviceKey?: string;
  private offCommand?: () => void;
  private retry?: NodeJS.Timeout;
  private rotation?: NodeJS.Timeout;
  private graceTimer?: NodeJS.Timeout;
  private stopped = false;
  private temperatureUnit: "C" | "F" = "C";
  private detail: string | null = null;
  refusedLoops = 0;

  constructor(
    readonly server: FollowedServer,
    private readonly d: FollowerDeps,
  ) {}

  /** The stored registration (client id, server id, token), once registered. */
  registration(): LinkRegistration | undefined {
    return this.reg;
  }

  view(): FollowerView {
    return {
      url: this.server.url,
      name: this.server.name,
      status: this.link ? this.link.status : "unregistered",
      detail: this.link?.detail ?? this.detail,
      serverId: this.reg?.serverId ?? null,
      entities: [...this.states.keys()].sort(),
      refusedLoops: this.refusedLoops,
    };
  }

  /** Registers when needed, then starts the link; registration failures retry every minute. */
  async start(): Promise<void> {
    this.stopped = false;
    try {
      this.reg = loadRegistration(this.d.db, this.d.vault, this.server.url);
      if (!this.reg) {
        this.reg = await register(this.d.db, this.d.vault, this.server, this.d.clientName, this.d.instanceId, this.d.now());
        this.d.log.info(`sync: registered with ${this.server.name} (${this.server.url})`);
      } else {
        await this.rotateIfDue();
      }
    } catch (err) {
      this.detail = (err as Error).message;
      this.d.log.warn(`sync: ${this.detail}`);
      // A wrong code will not get better by itself; an unreachable server may.
      if (!(err instanceof RegistrationError && (err.status === 401 || err.status === 400)) && !this.stopped) {
        this.retry = setTimeout(() => void this.start(), 60_000);
        this.retry.unref();
      }
      return;
    }
    if (this.reg.serverId === this.d.instanceId) {
      this.detail = "this server is this instance itself: refusing to mirror it";
      this.d.log.warn(`sync: ${this.server.url}: ${this.detail}`);
      return;
    }
    this.deviceKey = deviceKeyFor(this.reg.serverId);
    this.offCommand = this.d.entities.onCommand(this.deviceKey, (entity, command, payload) => this.onCommand(entity, command, payload));
    // The token is read at every connect, so a rotation takes effect at the next reconnect.
    this.link = new ServerLink(this.server.url, () => this.reg!.token, this.d.instanceId, {
      onSnapshot: (states, server) => void this.onSnapshot(states, server.temperatureUnit).catch((e) => this.warn(e)),
      onDiff: (changed, removed) => void this.onDiff(changed, removed).catch((e) => this.warn(e)),
      onStatus: (status, detail) => {
        // A refusal is final: unavailable at once. A drop gets a grace period, so a blip (one
        // reconnect) does not flap every entity — and does not make HA skip a call meanwhile.
        if (status === "refused") this.markUnavailable();
        else if (status === "disconnected" && !this.graceTimer) {
          this.graceTimer = setTimeout(() => this.markUnavailable(), this.d.unavailableGraceMs ?? 10_000);
          this.graceTimer.unref();
        }
        if (status === "disconnected" || status === "refused") this.d.log.info(`sync: ${this.server.name}: ${status}${detail ? ` (${detail})` : ""}`);
      },
      onRefused: (reason, message) => this.d.log.warn(`sync: ${this.server.name} refused this client (${reason}): ${message}`),
    }, this.d.timing);
    this.link.start();
    this.rotation = setInterval(() => void this.rotateIfDue(), 86_400_000);
    this.rotation.unref();
  }

  /** Rotates the token when it expires within `rotateWithinDays` (the old one stays valid until the new one is used). */
  private async rotateIfDue(): Promise<void> {
    const reg = this.reg;
    if (!reg || reg.expiresAt * 1000 - this.d.now() >= (this.d.rotateWithinDays ?? 30) * 86_400_000) return;
    try {
      this.reg = await rotate(this.d.db, this.d.vault, reg, this.d.now());
      this.d.log.info(`sync: token for ${this.server.name} renewed`);
    } catch (err) {
      this.d.log.warn(`sync: token rotation with ${this.server.name} failed: ${(err as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.rotation);
    clearTimeout(this.graceTimer);
    this.offCommand?.();
    this.link?.stop();
    if (this.declared && this.deviceKey) await this.d.entities.setDeviceAvailable(this.deviceKey, false).catch(() => undefined);
  }

  private markUnavailable(): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (this.declared && this.link?.status !== "connected") {
      void this.d.entities.setDeviceAvailable(this.deviceKey!, false).catch((e) => this.warn(e));
    }
  }

  private warn(err: unknown): void {
    this.d.log.warn(`sync: ${this.server.name}: ${(err as Error).message}`);
  }

  private accept(states: EntityState[]): EntityState[] {
    return states.filter((s) => {
      if (isOwnState(s, this.d.instanceId)) {
        this.refusedLoops++;
        return false;
      }
      return entitySpec(s) !== null;
    });
  }

  private async declare(): Promise<void> {
    const specs = [...this.states.values()].map((s) => entitySpec(s, this.temperatureUnit)!).sort((a, b) => a.key.localeCompare(b.key));
    const text = JSON.stringify(specs);
    if (text === this.declared) return;
    await this.d.entities.declareDevice(
      { key: this.deviceKey!, name: this.server.name, manufacturer: "Home Assistant", model: "Mirrored instance", suggestedArea: this.server.area ?? this.server.name },
      specs,
    );
    this.declared = text;
  }

  private async onSnapshot(states: EntityState[], temperatureUnit: "C" | "F"): Promise<void> {
    this.temperatureUnit = temperatureUnit;
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    const fresh = this.accept(states);
    const gone = [...this.states.keys()].filter((id) => !fresh.some((s) => s.entity_id === id));
    for (const s of fresh) this.states.set(s.entity_id, s);
    // Entities no longer shared keep their registry entry (never deleted here) but show unknown.
    await this.declare();
    await this.d.entities.publishDeviceStates(this.deviceKey!, [
      ...fresh.flatMap(stateMessages),
      ...gone.flatMap((id) => stateMessages({ ...this.states.get(id)!, state: "unknown" })),
    ]);
    for (const id of gone) this.states.delete(id);
    await this.d.entities.setDeviceAvailable(this.deviceKey!, true);
  }

  private async onDiff(changed: EntityState[], removed: string[]): Promise<void> {
    const fresh = this.accept(changed);
    for (const s of fresh) this.states.set(s.entity_id, s);
    await this.declare();
    const msgs = fresh.flatMap(stateMessages);
    for (const id of removed) {
      const s = this.states.get(id);
      if (s) msgs.push(...stateMessages({ ...s, state: "unknown" }));
    }
    if (msgs.length) await this.d.entities.publishDeviceStates(this.deviceKey!, msgs);
  }

  private onCommand(entityKey: string, command: string, payload: string): void {
    const state = [...this.states.values()].find((s) => entityKeyFor(s.entity_id) === entityKey);
    if (!state || !this.link) return;
    const call = commandToCall(state, command, payload);
    if (!call) {
      this.d.log.warn(`sync: ${this.server.name}: ignored command ${command} on ${state.entity_id}`);
      return;
    }
    if (call.optimistic) void this.d.entities.publishDeviceStates(this.deviceKey!, stateMessages(call.optimistic)).catch((e) => this.warn(e));
    void this.link.call(call.domain, call.service, state.entity_id, call.data).then(async (r) => {
      if (r.success) return;
      this.d.log.warn(`sync: ${this.server.name}: ${call.domain}.${call.service} on ${state.entity_id} failed: ${r.error?.code} ${r.error?.message ?? ""}`);
      // Back to the server's real state.
      const real = this.states.get(state.entity_id);
      if (real) await this.d.entities.publishDeviceStates(this.deviceKey!, stateMessages(real));
    });
  }
}
