/**
 * Account health in Home Assistant, per account: a device `account_<id>` (through the entity
 * sink's generic devices) with
 * - `expiry`: sensor, device_class `timestamp`, diagnostic — when the consent / refresh token /
 *   gateway token ends (refresh-job.ts `accountExpiry`), unknown when it never does;
 * - `status`: sensor, device_class `enum` (connected, expiring, revoked, error, disconnected);
 * - `problem`: binary_sensor, device_class `problem` — on when the account is revoked or in error
 *   (automations can use it);
 * and, when an account becomes revoked / error, a persistent notification with the link back to
 * the add-on's page (notifications.ts), dismissed once it is connected again (or disconnected).
 */
import type { Account } from "../../domain/types.js";
import type { EntitySink } from "../../homeassistant/entities/sink.js";
import type { HaRest } from "../../homeassistant/rest.js";
import type { Logger } from "../../log.js";
import { accountExpiry } from "../../auth/refresh-job.js";
import type { TokenVault } from "../../auth/token-vault.js";
import { dismissAccountProblem, notifyAccountProblem } from "./notifications.js";

/** Device key of an account: `account_<id reduced to a-z0-9_>`. */
export function accountDeviceKey(accountId: string): string {
  return `account_${accountId.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`;
}

/** The status values of the `status` sensor. */
export const STATUS_OPTIONS = ["connected", "expiring", "revoked", "error", "disconnected"] as const;

/** What the health publisher needs. `link`: the page link for notifications (resolved once). */
export interface HealthDeps {
  entities: EntitySink;
  rest: HaRest;
  vault: TokenVault;
  log: Logger;
  link: () => Promise<string | null>;
  fetchImpl?: typeof fetch;
  providerLabel: (provider: string) => string;
}

/** See the file comment. Every method logs and swallows HA failures (health never breaks a flow). */
export class AccountHealth {
  readonly #d: HealthDeps;
  readonly #declared = new Set<string>();
  /** Accounts whose notification is (believed) shown. */
  readonly #notified = new Set<string>();

  constructor(deps: HealthDeps) {
    this.#d = deps;
  }

  /**
   * Declares the account's device (once per process) and publishes its states; notifies when
   * revoked / error, else dismisses a notification shown earlier (always with `reconnected`: it
   * may predate this process).
   */
  async publish(account: Account, opts: { reconnected?: boolean } = {}): Promise<void> {
    const d = this.#d;
    const key = accountDeviceKey(account.id);
    try {
      if (!this.#declared.has(key)) {
        await d.entities.declareDevice(
          { key, name: `${d.providerLabel(account.provider)} ${account.label}`, manufacturer: "Energy Bridge", model: `${d.providerLabel(account.provider)} account` },
          [
            { key: "expiry", component: "sensor", name: "Access expires", config: { device_class: "timestamp", entity_category: "diagnostic" } },
            { key: "status", component: "sensor", name: "Status", config: { device_class: "enum", options: [...STATUS_OPTIONS], entity_category: "diagnostic" } },
            { key: "problem", component: "binary_sensor", name: "Problem", config: { device_class: "problem", payload_on: "on", payload_off: "off" } },
          ],
        );
        this.#declared.add(key);
      }
      await d.entities.setDeviceAvailable(key, true);
      let tokens;
      try {
        tokens = d.vault.get(account.id);
      } catch {
        tokens = undefined;
      }
      const exp = accountExpiry(account, tokens);
      const problem = account.status === "revoked" || account.status === "error";
      await d.entities.publishDeviceStates(key, [
        { entity: "expiry", payload: exp === null ? (d.entities.mode === "rest" ? "unknown" : "None") : new Date(exp).toISOString() },
        { entity: "status", payload: account.status },
        { entity: "status", topic: "attributes", payload: JSON.stringify({ detail: account.detail, provider: account.provider }) },
        { entity: "problem", payload: problem ? "on" : "off" },
        { entity: "problem", topic: "attributes", payload: JSON.stringify({ detail: account.detail }) },
      ]);
    } catch (err) {
      d.log.warn(`account ${account.id}: publishing its health failed: ${(err as Error).message}`);
    }
    if (account.status === "revoked" || account.status === "error") await this.#notify(account);
    else await this.#dismiss(account.id, opts.reconnected === true);
  }

  /** The account was disconnected: status `disconnected`, problem off, notification dismissed (device kept). */
  async disconnected(accountId: string): Promise<void> {
    const d = this.#d;
    const key = accountDeviceKey(accountId);
    try {
      if (this.#declared.has(key)) {
        await d.entities.publishDeviceStates(key, [
          { entity: "status", payload: "disconnected" },
          { entity: "problem", payload: "off" },
          { entity: "expiry", payload: d.entities.mode === "rest" ? "unknown" : "None" },
        ]);
      }
    } catch (err) {
      d.log.warn(`account ${accountId}: publishing its health failed: ${(err as Error).message}`);
    }
    await this.#dismiss(accountId, true);
  }

  async #notify(account: Account): Promise<void> {
    const d = this.#d;
    try {
      await notifyAccountProblem(
        d.rest,
        {
          id: account.id,
          label: `${d.providerLabel(account.provider)} ${account.label}`,
          message: account.detail ?? "This account stopped working.",
          link: await d.link(),
          status: account.status === "error" ? "error" : "revoked",
        },
        d.fetchImpl,
      );
      this.#notified.add(account.id);
    } catch (err) {
      d.log.warn(`account ${account.id}: the Home Assistant notification failed: ${(err as Error).message}`);
    }
  }

  async #dismiss(accountId: string, always = false): Promise<void> {
    if (!always && !this.#notified.has(accountId)) return;
    try {
      await dismissAccountProblem(this.#d.rest, accountId, this.#d.fetchImpl);
      this.#notified.delete(accountId);
    } catch (err) {
      this.#d.log.warn(`account ${accountId}: dismissing the Home Assistant notification failed: ${(err as Error).message}`);
    }
  }
}
