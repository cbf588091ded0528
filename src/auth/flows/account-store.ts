/**
 * What every flow does once the provider said yes: write the account row (store/accounts.ts) and,
 * when there are any, its tokens (vault) in one transaction, then emit `account_connected` so the
 * modules that use the account (energy, ecolyo, tado) start. Used by every flow (Enedis, gateway
 * tokens, Cozy, Ores, Tado) so the order and the event are the same everywhere.
 */
import type { Account, AccountProvider } from "../../domain/types.js";
import type { Logger } from "../../log.js";
import type { EventBus } from "../../modules/events.js";
import type { Db } from "../../store/db.js";
import { getAccount, setAccountStatus, upsertAccount } from "../../store/accounts.js";
import type { TokenSet, TokenVault } from "../token-vault.js";

/** The account to save: `id` (`<provider>_<provider's id>`), `label`, public `config`. */
export interface ConnectedAccount {
  id: string;
  provider: AccountProvider;
  label: string;
  config: Record<string, unknown>;
}

/**
 * Saves `account` as `connected` (replacing an older row with the same id: reconnecting after a
 * revocation keeps the id, so the meter and its history stay) with `tokens` in the vault (the
 * previous tokens are replaced; none given = none kept), then emits `account_connected`.
 * Throws VaultError (nothing stored then) on an invalid token set.
 */
export function saveConnectedAccount(
  deps: { db: Db; vault: TokenVault; events: EventBus; log: Logger; now: () => number },
  account: ConnectedAccount,
  tokens?: TokenSet,
): Account {
  const saved = deps.db.transaction(() => {
    if (tokens) deps.vault.put(account.id, account.provider, tokens);
    else deps.vault.remove(account.id);
    return upsertAccount(deps.db, { ...account, status: "connected", detail: null }, deps.now());
  })();
  deps.log.info({ account: saved.id, provider: saved.provider }, `account ${saved.label} connected`);
  deps.events.emit("account_connected", { accountId: saved.id, provider: saved.provider });
  return saved;
}

/**
 * Sets an account's status and detail when they differ from what is stored, and then emits
 * `account_status` (the accounts module's health shows it in Home Assistant). Returns the
 * account as stored afterwards, or undefined when it does not exist.
 */
export function changeAccountStatus(
  deps: { db: Db; events: EventBus; log: Logger; now: () => number },
  accountId: string,
  status: Account["status"],
  detail: string | null,
): Account | undefined {
  const current = getAccount(deps.db, accountId);
  if (!current) return undefined;
  if (current.status === status && current.detail === detail) return current;
  setAccountStatus(deps.db, accountId, status, detail, deps.now());
  deps.log.info({ account: accountId, status }, `account ${current.label}: ${status}${detail ? ` (${detail})` : ""}`);
  deps.events.emit("account_status", { accountId, provider: current.provider, status, detail });
  return getAccount(deps.db, accountId);
}
