/**
 * Every account connection flow the add-on offers, built from shared dependencies. Each flow's
 * helper adds ONE line to the list in {@link createFlows}; the accounts module
 * (src/modules/accounts/) serves them through its JSON API and runs their refreshers.
 */
import type { Logger } from "../../log.js";
import type { EventBus } from "../../modules/events.js";
import type { Settings } from "../../settings.js";
import type { Db } from "../../store/db.js";
import type { AccountFlow } from "../flow.js";
import type { OAuthStateStore } from "../oauth-state.js";
import type { TokenVault } from "../token-vault.js";
import { createEnedisConsentFlow } from "./enedis-consent.js";
import { createGatewayTokenFlows } from "./gateway-token.js";
import { createTadoFlow } from "./tado.js";
import { createCozyFlow } from "./cozy.js";
import { createOresFlow } from "./ores.js";

/** What every flow may use. `now`: UTC epoch ms clock; `fetch`: injected in tests (defaults to global). */
export interface FlowDeps {
  db: Db;
  vault: TokenVault;
  events: EventBus;
  settings: Settings;
  log: Logger;
  now: () => number;
  /** The `state`/PKCE store shared by every redirect flow (auth/oauth-state.ts). */
  states: OAuthStateStore;
  fetch?: typeof fetch;
}

/** Every flow, in the order the page lists them. Add yours with one line. */
export function createFlows(deps: FlowDeps): AccountFlow[] {
  return [
    createEnedisConsentFlow(deps),
    ...createGatewayTokenFlows(deps),
    createTadoFlow(deps),
    createCozyFlow(deps),
    createOresFlow(deps),
  ];
}
