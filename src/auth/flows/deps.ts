/**
 * What every account flow may use (the flows import this file, never the registry in index.ts,
 * so no import circle forms). `now`: UTC epoch ms clock; `fetch`: injected in tests (defaults to
 * the global fetch); `states`: the `state`/PKCE store shared by every redirect flow.
 */
import type { Logger } from "../../log.js";
import type { EventBus } from "../../modules/events.js";
import type { Settings } from "../../settings.js";
import type { Db } from "../../store/db.js";
import type { OAuthStateStore } from "../oauth-state.js";
import type { TokenVault } from "../token-vault.js";

/** See the file comment. */
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
