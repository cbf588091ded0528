/**
 * Linky meters that come from connected accounts (store/accounts.ts) rather than the `meters`
 * option: an Enedis Data Connect consent account gives its PRMs (metering with the application
 * credentials, `enedis_client_id` / `enedis_client_secret`); a pasted gateway token account
 * (conso_api, myelectricaldata) gives its PRM and its token, read from the token vault.
 * A PRM also listed in the `meters` option is taken from the option (logged once).
 */
import type { Account } from "../../domain/types.js";
import type { Logger } from "../../log.js";
import type { MeterSettings, Settings } from "../../settings.js";
import type { TokenVault } from "../../auth/token-vault.js";

/** Providers whose accounts are Linky meters. */
export const LINKY_ACCOUNT_PROVIDERS = ["enedis_data_connect", "conso_api", "myelectricaldata", "ores"] as const;

/** A meter series source of an account: its settings and the account it belongs to. */
export interface AccountMeterSource extends MeterSettings {
  accountId: string;
}

/** True when `account` yields Linky meters. */
export function isLinkyAccount(account: Pick<Account, "provider">): boolean {
  return (LINKY_ACCOUNT_PROVIDERS as readonly string[]).includes(account.provider);
}

/**
 * The meter settings of one account (none when it is not a Linky account, lacks its token or
 * the Enedis application credentials, or every PRM is already in the `meters` option).
 * `config.prms`: string[] of 14-digit PRMs; `config.baseUrl`: optional gateway URL.
 */
export function accountMeterSources(account: Account, settings: Settings, vault: TokenVault, log: Logger): AccountMeterSource[] {
  if (!isLinkyAccount(account)) return [];
  const prms = Array.isArray(account.config.prms) ? account.config.prms.filter((p): p is string => typeof p === "string" && (account.provider === "ores" ? /^[0-9]{14}(?:[0-9]{4})?$/ : /^[0-9]{14}$/).test(p)) : [];
  const configured = new Set(settings.meters.map((m) => m.prm));
  const base = { production: "auto" as const, accountId: account.id };
  let extra: Pick<MeterSettings, "token" | "baseUrl">;
  if (account.provider === "enedis_data_connect") {
    if (!settings.enedis) {
      log.warn(`account ${account.id}: set enedis_client_id and enedis_client_secret to read its meter`);
      return [];
    }
    extra = settings.enedisConsent?.apiUrl ? { baseUrl: settings.enedisConsent.apiUrl } : {};
  } else if (account.provider === "ores") {
    // Ores (OAuth flow): no static token; the provider reads the vault at each call (meter-jobs gives it the account id).
    extra = typeof account.config.baseUrl === "string" ? { baseUrl: account.config.baseUrl } : {};
  } else {
    let token: string | undefined;
    try {
      token = vault.get(account.id)?.accessToken;
    } catch (err) {
      log.error((err as Error).message);
    }
    if (!token) {
      log.warn(`account ${account.id} has no usable token: connect it again from the add-on's page`);
      return [];
    }
    extra = { token, ...(typeof account.config.baseUrl === "string" ? { baseUrl: account.config.baseUrl } : {}) };
  }
  return prms.flatMap((prm) => {
    if (configured.has(prm)) {
      log.info(`meter ${prm} is in the meters option; its account ${account.id} is not used for it`);
      return [];
    }
    return [{ provider: account.provider as MeterSettings["provider"], prm, name: `${account.provider === "ores" ? "Ores" : "Linky"} ${prm}`, ...extra, ...base }];
  });
}
