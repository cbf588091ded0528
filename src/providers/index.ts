/**
 * Provider factory: settings of one meter's data source → a Provider.
 */
import type { Provider, ProviderId } from "../domain/types.js";
import { ConsoApiProvider } from "./conso-api.js";
import { EnedisDataConnectProvider } from "./enedis-data-connect.js";
import type { RetryOptions } from "./http.js";
import { MyElectricalDataProvider } from "./myelectricaldata.js";
import { MyElectricalDataLegacyProvider } from "./myelectricaldata-legacy.js";
import { OresProvider } from "./ores.js";

export { ConsoApiProvider, CONSO_API_BASE_URL } from "./conso-api.js";
export { MyElectricalDataProvider, MYELECTRICALDATA_BASE_URL } from "./myelectricaldata.js";
export { MyElectricalDataLegacyProvider, MYELECTRICALDATA_LEGACY_BASE_URL } from "./myelectricaldata-legacy.js";
export { parseEnedisBody, parseEnedisMaxPowerBody, recogniseEnedisBody, type EnedisBodyOptions } from "./enedis-body.js";
export { parseEnedisV2, parseEnedisV2MaxPower, type EnedisV2Options } from "./enedis-v2.js";
export type { StampAt } from "./enedis-points.js";
export { EnedisDataConnectProvider, ENEDIS_PRODUCTION_BASE_URL } from "./enedis-data-connect.js";
export type { RetryOptions, HttpOptions } from "./http.js";
export { OresProvider, ORES_BASE_URL, parseOresLoadCurve } from "./ores.js";

/** Credentials and endpoint of one provider, as read from the add-on options. */
export interface ProviderSettings {
  provider: ProviderId;
  /** Conso API token / MyElectricalData secret (v2 gateway) or token (legacy). */
  token?: string;
  /** Base URL override (self-hosted gateway, simulator). */
  baseUrl?: string;
  /** Enedis Data Connect application credentials. */
  enedisClientId?: string;
  enedisClientSecret?: string;
  /** Account whose vault tokens the provider uses when `token` is absent (Ores: `ores_<ean>`). */
  accountId?: string;
}

/** Runtime knobs, mostly for tests: clock, retry timing, per-attempt timeout (ms). */
export interface ProviderRuntimeOptions {
  now?: () => number;
  retry?: RetryOptions;
  timeoutMs?: number;
  /**
   * The access token of a connected account (`ores_<ean>`) from the token vault, for providers
   * whose token comes from a flow (Ores) when no `token` option is given. Rejects when the
   * account is not connected.
   */
  accountToken?: (accountId: string) => Promise<string>;
}

function required(value: string | undefined, field: string, provider: ProviderId): string {
  if (value === undefined || value.trim() === "") throw new Error(`${field} is required for provider ${provider}`);
  return value.trim();
}

/**
 * Builds the provider named by `settings.provider`.
 * @throws Error "token is required for provider conso_api" (or `enedisClientId` /
 *   `enedisClientSecret` for enedis_data_connect) when a credential is missing or blank; the
 *   caller prefixes the option path (e.g. "meters[0].").
 */
export function createProvider(settings: ProviderSettings, opts: ProviderRuntimeOptions = {}): Provider {
  const common = {
    ...(settings.baseUrl !== undefined && settings.baseUrl !== "" ? { baseUrl: settings.baseUrl } : {}),
    ...opts,
  };
  switch (settings.provider) {
    case "conso_api":
      return new ConsoApiProvider({ ...common, token: required(settings.token, "token", settings.provider) });
    case "myelectricaldata":
      return new MyElectricalDataProvider({ ...common, token: required(settings.token, "token", settings.provider) });
    case "myelectricaldata_legacy":
      return new MyElectricalDataLegacyProvider({ ...common, token: required(settings.token, "token", settings.provider) });
    case "enedis_data_connect":
      return new EnedisDataConnectProvider({
        ...common,
        clientId: required(settings.enedisClientId, "enedisClientId", settings.provider),
        clientSecret: required(settings.enedisClientSecret, "enedisClientSecret", settings.provider),
      });
    case "ores": {
      const { accountToken, ...rest } = common;
      const token = settings.token?.trim();
      const account = settings.accountId;
      if (!token && !(accountToken && account)) throw new Error("token is required for provider ores (or connect the Ores account from the add-on's page)");
      return new OresProvider({ ...rest, token: token ? token : () => accountToken!(account!) });
    }
    case "cozy":
      throw new Error("Ecolyo (cozy) is not a meter option: connect the Cozy account from the add-on's page");
    default: {
      const unknown: never = settings.provider;
      throw new Error(`unknown provider ${String(unknown)}`);
    }
  }
}
