import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { GRID_METER_PROVIDERS } from "./domain/meter-providers.js";
import type { ProviderId } from "./domain/types.js";

/** Log levels, named as in the add-on option (`warning`, not `warn`). */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error"] as const;

/** Values of a meter's `production` option. */
export const PRODUCTION_MODES = ["auto", "on", "off"] as const;

const meterOption = z
  .object({
    provider: z.enum(GRID_METER_PROVIDERS),
    prm: z
      .string({
        invalid_type_error: "must be the 14-digit PRM written in quotes (e.g. \"01234567890123\"): unquoted, YAML reads it as a number and drops leading zeros",
      })
      .regex(/^[0-9]{14}(?:[0-9]{4})?$/, "must be the 14-digit PRM (usage point id) shown on the Linky meter and in the Enedis account"),
    token: z.string().min(1, "must not be empty").optional(),
    base_url: z.string().url("must be a URL such as https://conso.boris.sh").optional(),
    name: z.string().min(1).optional(),
    /**
     * Solar production of the usage point: `auto` probes once (one request) and remembers the
     * answer, `on` always fetches it, `off` never spends a request on it.
     */
    production: z.enum(PRODUCTION_MODES).default("auto"),
  })
  .strict();

const optionsObject = z
  .object({
    meters: z.array(meterOption).default([]),
    enedis_client_id: z.string().min(1).optional(),
    enedis_client_secret: z.string().min(1).optional(),
    /** Redirect URI registered for the Data Connect application (default: the add-on's own callback URL). */
    enedis_redirect_uri: z.string().url("must be the redirect URL registered on Enedis' DataHub").optional(),
    /** ISO 8601 duration of a new Data Connect consent, at most 3 years (default P3Y). */
    enedis_consent_duration: z
      .string()
      .regex(/^P(?!$)([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?$/, "must be an ISO 8601 duration of at most 3 years, such as P3Y or P1Y6M")
      .optional(),
    /** Consent page and API host of Data Connect (defaults: Enedis production; tests: a simulator). */
    enedis_authorize_url: z.string().url().optional(),
    enedis_api_url: z.string().url().optional(),
    /** Address of the add-on's page for links in Home Assistant notifications (standalone; as an add-on the ingress page is used). */
    public_url: z.string().url("must be the address of the add-on's page, such as http://192.168.1.10:8099/").optional(),
    /** Tado: API calls per day (default 100, Tado's quota without Auto-Assist; hard cap 20 000). */
    tado_budget_per_day: z.number().int().min(1).max(20000).optional(),
    /** Tado: calls of the daily budget never spent by polling, kept for the user's own actions (default 10). */
    tado_reserve: z.number().int().min(0).max(10000).optional(),
    /** Tado endpoints (defaults: login.tado.com and my.tado.com; tests: oidc-provider and a simulator). */
    tado_device_authorization_url: z.string().url().optional(),
    tado_token_url: z.string().url().optional(),
    tado_api_url: z.string().url().optional(),
    /** Ores OAuth application (hypothetical API, src/providers/ores.ts); endpoints default to the seed's. */
    ores_client_id: z.string().min(1).optional(),
    ores_client_secret: z.string().min(1).optional(),
    ores_authorize_url: z.string().url().optional(),
    ores_token_url: z.string().url().optional(),
    ores_scope: z.string().min(1).optional(),
    /** Absent = each provider's own default; always clamped to the provider's hard cap. */
    request_budget_per_day: z.number().int().min(1).max(500).optional(),
    anomaly_threshold_percent: z.number().int().min(101).max(1000).default(120),
    retention_days: z.number().int().min(30).max(3650).default(730),
    log_level: z.enum(LOG_LEVELS).default("info"),
    /** Standalone broker for MQTT discovery (as an add-on the Supervisor's Mosquitto service is used). */
    mqtt_url: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, "must be a broker URL such as mqtt://192.168.1.10:1883 or mqtts://broker:8883")
      .optional(),
    mqtt_username: z.string().min(1).optional(),
    mqtt_password: z.string().min(1).optional(),
    /** Key of the token vault (64 hex or base64 of 32 bytes); absent = generated into the data folder. */
    vault_key: z.string().min(1).optional(),
    /** Entity mirror, server side (src/sync/server): off unless enabled; its own port (config.yaml `ports:`). */
    sync_server_enabled: z.boolean().default(false),
    sync_server_port: z.number().int().min(1).max(65535).default(8765),
    sync_server_tls_cert: z.string().min(1).optional(),
    sync_server_tls_key: z.string().min(1).optional(),
    /** Seed-compatible registration secret (never the signing key); absent = pairing codes only. */
    sync_server_registration_secret: z.string().min(8, "must be at least 8 characters").optional(),
    sync_server_token_days: z.number().int().min(1).max(3650).default(365),
    /** Entity mirror, client side (src/sync/client): the servers to follow. */
    sync_client_servers: z
      .array(
        z
          .object({
            url: z.string().regex(/^https?:\/\/[^\s]+$/, "must be the sync server's address, such as http://192.168.1.10:8765"),
            name: z.string().min(1).max(60),
            pairing_code: z.string().min(4).optional(),
            registration_secret: z.string().min(1).optional(),
            area: z.string().min(1).optional(),
          })
          .strict(),
      )
      .default([]),
    /** Standalone only: where the add-on's page listens (default 127.0.0.1:8099) and its login secret. */
    web_host: z.string().min(1).optional(),
    web_port: z.number().int().min(1).max(65535).optional(),
    web_secret: z.string().min(12, "must be at least 12 characters").optional(),
  })
  .strict();

/** Every top-level option key the app understands (config.yaml's schema must not use others). */
export const OPTION_KEYS: readonly string[] = Object.keys(optionsObject.shape);

/**
 * The add-on options (`/data/options.json`, validated by the Supervisor against config.yaml's
 * schema) and, with the same keys, the standalone options file (YAML or JSON).
 */
export const optionsSchema = optionsObject.superRefine((o, ctx) => {
    const seen = new Set<string>();
    o.meters.forEach((m, i) => {
      if (m.provider !== "ores" && m.prm.length !== 14) {
        ctx.addIssue({ code: "custom", path: ["meters", i, "prm"], message: "must be the 14-digit PRM (usage point id) shown on the Linky meter and in the Enedis account" });
      }
      // Ores: the token comes from the Ores account connected on the add-on's page when not given here.
      if (m.provider !== "enedis_data_connect" && m.provider !== "ores" && !m.token) {
        ctx.addIssue({ code: "custom", path: ["meters", i, "token"], message: `is required for provider ${m.provider}` });
      }
      if (m.provider === "enedis_data_connect" && (!o.enedis_client_id || !o.enedis_client_secret)) {
        ctx.addIssue({
          code: "custom",
          path: ["enedis_client_id"],
          message: "enedis_client_id and enedis_client_secret are required when a meter uses enedis_data_connect",
        });
      }
      if (seen.has(m.prm)) ctx.addIssue({ code: "custom", path: ["meters", i, "prm"], message: `${m.prm} is listed twice` });
      seen.add(m.prm);
    });
  });

/** Parsed add-on options (snake_case, as the user writes them). */
export type Options = z.infer<typeof optionsSchema>;

/** One configured meter. */
export interface MeterSettings {
  provider: ProviderId;
  prm: string;
  token?: string;
  baseUrl?: string;
  name: string;
  production: (typeof PRODUCTION_MODES)[number];
}

/** Everything the service needs, whichever way it runs. */
export interface Settings {
  mode: "addon" | "standalone";
  /** Folder of the SQLite store (`/data` as an add-on). */
  dataDir: string;
  homeAssistant: {
    /** `ws://supervisor/core/websocket` or `<HA_URL>/api/websocket`. */
    wsUrl: string;
    /** `http://supervisor/core/api` or `<HA_URL>/api`. */
    apiUrl: string;
    token: string;
  };
  meters: MeterSettings[];
  enedis?: { clientId: string; clientSecret: string };
  /** Data Connect consent options (auth/flows/enedis-consent.ts has the defaults). */
  enedisConsent?: { redirectUri?: string; duration?: string; authorizeUrl?: string; apiUrl?: string };
  /** The `public_url` option: the add-on page's address used in notification links (standalone). */
  publicUrl?: string;
  /** Tado options (modules/tado/tado-budget.ts and auth/flows/tado.ts have the defaults). */
  tado?: { budgetPerDay?: number; reserve?: number; deviceAuthorizationUrl?: string; tokenUrl?: string; apiUrl?: string };
  /** The `ores_*` options (auth/flows/ores.ts has the default endpoints). */
  ores?: { clientId: string; clientSecret?: string; authorizeUrl?: string; tokenUrl?: string; scope?: string };
  /** The `request_budget_per_day` option; undefined = the provider's default (see request-budget.ts). */
  requestBudgetPerDay?: number;
  anomalyThresholdPercent: number;
  retentionDays: number;
  logLevel: (typeof LOG_LEVELS)[number];
  /** The `mqtt_url` / `mqtt_username` / `mqtt_password` options, when set. */
  mqtt?: { url: string; username?: string; password?: string };
  /** The `vault_key` option (auth/vault-key.ts parses it); absent = key file in `dataDir`. */
  vaultKey?: string;
  /** Entity mirror options (src/sync): `server` absent = server mode off. */
  sync?: {
    server?: { port: number; tls?: { certPath: string; keyPath: string }; registrationSecret?: string; tokenDays: number };
    clientServers: { url: string; name: string; pairingCode?: string; registrationSecret?: string; area?: string }[];
  };
  /** The `web_host` / `web_port` / `web_secret` options (standalone page; web/web-module.ts has the defaults). */
  web?: { host?: string; port?: number; secret?: string };
}

/** Invalid or missing configuration: the message names the option and what is wrong. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

/**
 * Validates raw options. Throws SettingsError listing every problem as
 * `option <path>: <what is wrong>` (e.g. `option meters[0].prm: must be the 14-digit PRM …`).
 */
export function parseOptions(raw: unknown, source: string): Options {
  const result = optionsSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const path = i.path.reduce<string>(
      (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
      "",
    );
    const message = i.code === "unrecognized_keys" ? `unknown option(s) ${i.keys.join(", ")}` : i.message;
    return `  option ${path || "(root)"}: ${message}`;
  });
  throw new SettingsError(`invalid options in ${source}:\n${lines.join("\n")}`);
}

function readOptionsFile(path: string): unknown {
  if (!existsSync(path)) throw new SettingsError(`options file ${path} does not exist`);
  const text = readFileSync(path, "utf8");
  try {
    return path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SettingsError(`options file ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`);
  }
}

/**
 * Builds Settings from the environment.
 * - Add-on (SUPERVISOR_TOKEN set): options from `/data/options.json`, store in `/data`,
 *   Home Assistant through the Supervisor proxy.
 * - Standalone: `HA_URL` and `HA_TOKEN` (a long-lived access token) are required; options from
 *   `optionsPath` / `ENERGY_BRIDGE_OPTIONS` (YAML or JSON, same keys as the add-on), else
 *   `$DATA_DIR/options.yaml` or `$DATA_DIR/options.json`; `DATA_DIR` defaults to `./energy-bridge-data`.
 * Throws SettingsError with a message naming the variable or option at fault.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, optionsPath?: string): Settings {
  const addon = Boolean(env.SUPERVISOR_TOKEN);
  let dataDir: string;
  let homeAssistant: Settings["homeAssistant"];
  let file: string;
  if (addon) {
    dataDir = env.DATA_DIR ?? "/data";
    homeAssistant = {
      wsUrl: "ws://supervisor/core/websocket",
      apiUrl: "http://supervisor/core/api",
      token: env.SUPERVISOR_TOKEN!,
    };
    file = optionsPath ?? env.ENERGY_BRIDGE_OPTIONS ?? join(dataDir, "options.json");
  } else {
    if (!env.HA_URL) throw new SettingsError("HA_URL is not set: give the URL of Home Assistant, e.g. http://homeassistant.local:8123");
    if (!env.HA_TOKEN) throw new SettingsError("HA_TOKEN is not set: create a long-lived access token in your Home Assistant profile");
    let url: URL;
    try {
      url = new URL(env.HA_URL);
    } catch {
      throw new SettingsError(`HA_URL "${env.HA_URL}" is not a URL`);
    }
    const base = url.toString().replace(/\/$/, "");
    homeAssistant = { wsUrl: `${base.replace(/^http/, "ws")}/api/websocket`, apiUrl: `${base}/api`, token: env.HA_TOKEN };
    dataDir = resolve(env.DATA_DIR ?? "energy-bridge-data");
    file =
      optionsPath ??
      env.ENERGY_BRIDGE_OPTIONS ??
      [join(dataDir, "options.yaml"), join(dataDir, "options.json")].find((p) => existsSync(p)) ??
      join(dataDir, "options.yaml");
  }
  const o = parseOptions(readOptionsFile(file), file);
  return {
    mode: addon ? "addon" : "standalone",
    dataDir,
    homeAssistant,
    meters: o.meters.map((m) => ({
      provider: m.provider,
      prm: m.prm,
      ...(m.token ? { token: m.token } : {}),
      ...(m.base_url ? { baseUrl: m.base_url } : {}),
      name: m.name ?? `${m.provider === "ores" ? "Ores" : "Linky"} ${m.prm}`,
      production: m.production,
    })),
    ...(o.enedis_client_id && o.enedis_client_secret
      ? { enedis: { clientId: o.enedis_client_id, clientSecret: o.enedis_client_secret } }
      : {}),
    ...(o.enedis_redirect_uri || o.enedis_consent_duration || o.enedis_authorize_url || o.enedis_api_url
      ? {
          enedisConsent: {
            ...(o.enedis_redirect_uri ? { redirectUri: o.enedis_redirect_uri } : {}),
            ...(o.enedis_consent_duration ? { duration: o.enedis_consent_duration } : {}),
            ...(o.enedis_authorize_url ? { authorizeUrl: o.enedis_authorize_url } : {}),
            ...(o.enedis_api_url ? { apiUrl: o.enedis_api_url } : {}),
          },
        }
      : {}),
    ...(o.public_url ? { publicUrl: o.public_url } : {}),
    ...(o.ores_client_id
      ? {
          ores: {
            clientId: o.ores_client_id,
            ...(o.ores_client_secret ? { clientSecret: o.ores_client_secret } : {}),
            ...(o.ores_authorize_url ? { authorizeUrl: o.ores_authorize_url } : {}),
            ...(o.ores_token_url ? { tokenUrl: o.ores_token_url } : {}),
            ...(o.ores_scope ? { scope: o.ores_scope } : {}),
          },
        }
      : {}),
    ...(o.tado_budget_per_day !== undefined || o.tado_reserve !== undefined || o.tado_device_authorization_url || o.tado_token_url || o.tado_api_url
      ? {
          tado: {
            ...(o.tado_budget_per_day !== undefined ? { budgetPerDay: o.tado_budget_per_day } : {}),
            ...(o.tado_reserve !== undefined ? { reserve: o.tado_reserve } : {}),
            ...(o.tado_device_authorization_url ? { deviceAuthorizationUrl: o.tado_device_authorization_url } : {}),
            ...(o.tado_token_url ? { tokenUrl: o.tado_token_url } : {}),
            ...(o.tado_api_url ? { apiUrl: o.tado_api_url } : {}),
          },
        }
      : {}),
    ...(o.request_budget_per_day !== undefined ? { requestBudgetPerDay: o.request_budget_per_day } : {}),
    anomalyThresholdPercent: o.anomaly_threshold_percent,
    retentionDays: o.retention_days,
    logLevel: o.log_level,
    ...(o.mqtt_url
      ? {
          mqtt: {
            url: o.mqtt_url,
            ...(o.mqtt_username ? { username: o.mqtt_username } : {}),
            ...(o.mqtt_password ? { password: o.mqtt_password } : {}),
          },
        }
      : {}),
    ...(o.vault_key ? { vaultKey: o.vault_key } : {}),
    sync: {
      ...(o.sync_server_enabled
        ? {
            server: {
              port: o.sync_server_port,
              ...(o.sync_server_tls_cert && o.sync_server_tls_key ? { tls: { certPath: o.sync_server_tls_cert, keyPath: o.sync_server_tls_key } } : {}),
              ...(o.sync_server_registration_secret ? { registrationSecret: o.sync_server_registration_secret } : {}),
              tokenDays: o.sync_server_token_days,
            },
          }
        : {}),
      clientServers: o.sync_client_servers.map((c) => ({
        url: c.url.replace(/\/+$/, ""),
        name: c.name,
        ...(c.pairing_code ? { pairingCode: c.pairing_code } : {}),
        ...(c.registration_secret ? { registrationSecret: c.registration_secret } : {}),
        ...(c.area ? { area: c.area } : {}),
      })),
    },
    ...(o.web_host || o.web_port !== undefined || o.web_secret
      ? {
          web: {
            ...(o.web_host ? { host: o.web_host } : {}),
            ...(o.web_port !== undefined ? { port: o.web_port } : {}),
            ...(o.web_secret ? { secret: o.web_secret } : {}),
          },
        }
      : {}),
  };
}
