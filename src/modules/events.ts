/**
 * The typed in-process event bus modules use to tell each other things (never imports between
 * modules). Listeners run synchronously in registration order; a listener that throws is logged
 * by the bus and never breaks the emitter or the other listeners.
 */
import type { Anomaly } from "../domain/types.js";
import type { Logger } from "../log.js";

/** Every event and its payload. Instants are UTC epoch ms. */
export interface BusEvents {
  /** Home Assistant's WebSocket link is (again) authenticated: re-publish what does not persist. */
  ha_ready: { haVersion: string };
  /** A meter series finished a cycle. `status` as the sync sensor shows it. */
  meter_synced: { meterId: string; status: string; rowsSent: number; at: number };
  /** A new anomaly was found on a recent day. */
  anomaly_found: { anomaly: Anomaly };
  /** An account's token or consent expires soon (the accounts issue emits it). */
  token_expiring: { accountId: string; expiresAt: number };
  /** An account was connected from the add-on's page (the accounts issue emits it). */
  account_connected: { accountId: string; provider: string };
  /** An account was disconnected (its tokens are gone); modules stop using it. */
  account_disconnected: { accountId: string; provider: string };
  /** An account's status changed (store/accounts.ts holds it): e.g. consent revoked → `revoked`. */
  account_status: { accountId: string; provider: string; status: string; detail: string | null };
  /** Readings of a meter were imported from a portal file (dirty hours marked; dashboard module). */
  readings_imported: { meterId: string; file: string; inserted: number; updated: number; at: number };
}

export type BusEventName = keyof BusEvents;
type Listener<K extends BusEventName> = (payload: BusEvents[K]) => void;

/** See the file comment. `on` returns the function that removes the listener. */
export class EventBus {
  private readonly listeners = new Map<BusEventName, Set<Listener<BusEventName>>>();

  constructor(private readonly log: Logger) {}

  on<K extends BusEventName>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<BusEventName>);
    return () => set!.delete(listener as Listener<BusEventName>);
  }

  emit<K extends BusEventName>(event: K, payload: BusEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (err) {
        this.log.error(`a listener of ${event} failed: ${(err as Error).message}`);
      }
    }
  }
}
