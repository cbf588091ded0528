import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadSettings, parseOptions, SettingsError } from "../../src/settings.js";

const PRM = "12345678901234";
const DEFAULTS = {
  meters: [],
  anomaly_threshold_percent: 120,
  retention_days: 730,
  log_level: "info",
  // The entity mirror is off until the user turns a side on.
  sync_server_enabled: false,
  sync_server_port: 8765,
  sync_server_token_days: 365,
  sync_client_servers: [],
};
const ADDON_MANIFEST = fileURLToPath(new URL("../../config.yaml", import.meta.url));

function errorOf(fn: () => unknown): SettingsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return err as SettingsError;
  }
  throw new Error("expected a SettingsError");
}

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), "energy-bridge-settings-"));
  dirs.push(d);
  return d;
}

describe("parseOptions", () => {
  it("accepts the add-on defaults", () => {
    expect(parseOptions(DEFAULTS, "test")).toEqual(DEFAULTS);
    expect(parseOptions({}, "test")).toEqual(DEFAULTS);
    expect(parseOptions(undefined, "test")).toEqual(DEFAULTS);
  });

  it.skipIf(!existsSync(ADDON_MANIFEST))("accepts the options block of the add-on manifest as the Supervisor writes it", () => {
    const manifest = parseYaml(readFileSync(ADDON_MANIFEST, "utf8")) as { options: Record<string, unknown> };
    expect(parseOptions(manifest.options, "manifest")).toEqual({ ...DEFAULTS, ...manifest.options });
  });

  it("accepts a full meter list", () => {
    const o = parseOptions(
      {
        ...DEFAULTS,
        meters: [
          { provider: "conso_api", prm: PRM, token: "t1" },
          { provider: "myelectricaldata", prm: "98765432109876", token: "t2", base_url: "https://med.example", name: "Garage" },
          { provider: "enedis_data_connect", prm: "11111111111111", production: "on" },
        ],
        enedis_client_id: "id",
        enedis_client_secret: "secret",
      },
      "test",
    );
    expect(o.meters).toHaveLength(3);
    expect(o.meters[1]).toEqual({ provider: "myelectricaldata", prm: "98765432109876", token: "t2", base_url: "https://med.example", name: "Garage", production: "auto" });
    expect(o.meters[2]!.production).toBe("on");
  });

  it("rejects a 13-digit PRM, naming option meters[0].prm and the source", () => {
    const err = errorOf(() => parseOptions({ meters: [{ provider: "conso_api", prm: "1234567890123", token: "t" }] }, "/data/options.json"));
    expect(err.message).toContain("option meters[0].prm");
    expect(err.message).toContain("14-digit");
    expect(err.message).toContain("/data/options.json");
  });

  it("requires a token for conso_api (and myelectricaldata), not for enedis_data_connect", () => {
    const err = errorOf(() => parseOptions({ meters: [{ provider: "conso_api", prm: PRM }] }, "test"));
    expect(err.message).toMatch(/option meters\[0\]\.token: .*conso_api/);
    const med = errorOf(() => parseOptions({ meters: [{ provider: "conso_api", prm: PRM, token: "x" }, { provider: "myelectricaldata", prm: "22222222222222" }] }, "test"));
    expect(med.message).toContain("option meters[1].token");
    expect(() =>
      parseOptions({ meters: [{ provider: "enedis_data_connect", prm: PRM }], enedis_client_id: "a", enedis_client_secret: "b" }, "test"),
    ).not.toThrow();
  });

  it("enedis_data_connect needs the client id and secret", () => {
    const err = errorOf(() => parseOptions({ meters: [{ provider: "enedis_data_connect", prm: PRM }], enedis_client_id: "a" }, "test"));
    expect(err.message).toContain("option enedis_client_id");
  });

  it("an unknown key is named, at the root and inside a meter", () => {
    expect(errorOf(() => parseOptions({ ...DEFAULTS, retention: 30 }, "test")).message).toMatch(/option \(root\): .*retention/);
    const err = errorOf(() => parseOptions({ meters: [{ provider: "conso_api", prm: PRM, token: "t", colour: "red" }] }, "test"));
    expect(err.message).toMatch(/option meters\[0\]: .*colour/);
  });

  it("a duplicate PRM is refused", () => {
    const err = errorOf(() =>
      parseOptions(
        { meters: [{ provider: "conso_api", prm: PRM, token: "a" }, { provider: "myelectricaldata", prm: PRM, token: "b" }] },
        "test",
      ),
    );
    expect(err.message).toContain("option meters[1].prm");
    expect(err.message).toContain(PRM);
  });

  it("lists every problem at once and checks ranges", () => {
    const err = errorOf(() => parseOptions({ request_budget_per_day: 0, anomaly_threshold_percent: 100, retention_days: 10, log_level: "warn" }, "test"));
    for (const key of ["request_budget_per_day", "anomaly_threshold_percent", "retention_days", "log_level"]) {
      expect(err.message).toContain(`option ${key}:`);
    }
  });
});

describe("loadSettings: add-on mode", () => {
  it("uses the Supervisor proxy and the options file named by ENERGY_BRIDGE_OPTIONS", () => {
    const dir = temp();
    const file = join(dir, "options.json");
    writeFileSync(
      file,
      JSON.stringify({ ...DEFAULTS, meters: [{ provider: "conso_api", prm: PRM, token: "tok", base_url: "http://conso.local" }], retention_days: 365 }),
    );
    const s = loadSettings({ SUPERVISOR_TOKEN: "sup-token", ENERGY_BRIDGE_OPTIONS: file });
    expect(s.mode).toBe("addon");
    expect(s.homeAssistant).toEqual({ wsUrl: "ws://supervisor/core/websocket", apiUrl: "http://supervisor/core/api", token: "sup-token" });
    expect(s.dataDir).toBe("/data");
    expect(s.meters).toEqual([{ provider: "conso_api", prm: PRM, token: "tok", baseUrl: "http://conso.local", name: `Linky ${PRM}`, production: "auto" }]);
    expect(s.retentionDays).toBe(365);
    expect(s.requestBudgetPerDay).toBeUndefined(); // the provider's default applies
    expect(s.anomalyThresholdPercent).toBe(120);
    expect(s.logLevel).toBe("info");
    expect(s.enedis).toBeUndefined();
  });

  it("an explicit options path wins, and invalid options name the file", () => {
    const dir = temp();
    const file = join(dir, "addon-options.json");
    writeFileSync(file, JSON.stringify({ meters: [{ provider: "conso_api", prm: "123", token: "t" }] }));
    const err = errorOf(() => loadSettings({ SUPERVISOR_TOKEN: "x", ENERGY_BRIDGE_OPTIONS: "/nonexistent.json" }, file));
    expect(err.message).toContain(file);
    expect(err.message).toContain("option meters[0].prm");
  });

  it("a missing or malformed options file is a SettingsError naming it", () => {
    const dir = temp();
    const missing = join(dir, "missing.json");
    expect(errorOf(() => loadSettings({ SUPERVISOR_TOKEN: "x", ENERGY_BRIDGE_OPTIONS: missing })).message).toContain(missing);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    expect(errorOf(() => loadSettings({ SUPERVISOR_TOKEN: "x", ENERGY_BRIDGE_OPTIONS: bad })).message).toMatch(/bad\.json.*JSON/);
  });
});

describe("loadSettings: standalone", () => {
  const yamlOptions = [
    "meters:",
    `  - provider: myelectricaldata`,
    `    prm: "${PRM}"`,
    "    token: abc",
    "    name: Maison",
    "anomaly_threshold_percent: 160",
    "log_level: debug",
    "",
  ].join("\n");

  it("derives the WebSocket and REST URLs from HA_URL and reads a YAML options file", () => {
    const dir = temp();
    writeFileSync(join(dir, "options.yaml"), yamlOptions);
    const s = loadSettings({ HA_URL: "http://h:8123/", HA_TOKEN: "llt", DATA_DIR: dir });
    expect(s.mode).toBe("standalone");
    expect(s.homeAssistant).toEqual({ wsUrl: "ws://h:8123/api/websocket", apiUrl: "http://h:8123/api", token: "llt" });
    expect(s.dataDir).toBe(resolve(dir));
    expect(s.meters).toEqual([{ provider: "myelectricaldata", prm: PRM, token: "abc", name: "Maison", production: "auto" }]);
    expect(s.anomalyThresholdPercent).toBe(160);
    expect(s.logLevel).toBe("debug");
    expect(s.retentionDays).toBe(730);
  });

  it("https becomes wss; ENERGY_BRIDGE_OPTIONS points at any YAML file", () => {
    const dir = temp();
    const file = join(dir, "energy-bridge.yml");
    writeFileSync(file, yamlOptions);
    const s = loadSettings({ HA_URL: "https://ha.example.org", HA_TOKEN: "llt", DATA_DIR: dir, ENERGY_BRIDGE_OPTIONS: file });
    expect(s.homeAssistant.wsUrl).toBe("wss://ha.example.org/api/websocket");
    expect(s.homeAssistant.apiUrl).toBe("https://ha.example.org/api");
    expect(s.meters[0]!.name).toBe("Maison");
  });

  it("falls back to options.json in DATA_DIR", () => {
    const dir = temp();
    writeFileSync(join(dir, "options.json"), JSON.stringify({ retention_days: 100 }));
    expect(loadSettings({ HA_URL: "http://h:8123", HA_TOKEN: "t", DATA_DIR: dir }).retentionDays).toBe(100);
  });

  it("missing HA_URL or HA_TOKEN → SettingsError naming the variable", () => {
    expect(errorOf(() => loadSettings({ HA_TOKEN: "t" })).message).toContain("HA_URL");
    expect(errorOf(() => loadSettings({ HA_URL: "http://h:8123" })).message).toContain("HA_TOKEN");
    expect(errorOf(() => loadSettings({ HA_URL: "not a url", HA_TOKEN: "t" })).message).toContain("HA_URL");
  });

  it("an empty YAML file means the defaults; an unquoted PRM is refused with the option named", () => {
    const dir = temp();
    const empty = join(dir, "empty.yaml");
    writeFileSync(empty, "");
    expect(loadSettings({ HA_URL: "http://h:8123", HA_TOKEN: "t", ENERGY_BRIDGE_OPTIONS: empty }).retentionDays).toBe(730);
    const unquoted = join(dir, "unquoted.yaml");
    writeFileSync(unquoted, `meters:\n  - provider: conso_api\n    prm: ${PRM}\n    token: t\n`);
    const err = errorOf(() => loadSettings({ HA_URL: "http://h:8123", HA_TOKEN: "t", ENERGY_BRIDGE_OPTIONS: unquoted }));
    expect(err.message).toContain("option meters[0].prm");
  });

  it("invalid YAML is a SettingsError naming the file", () => {
    const dir = temp();
    const file = join(dir, "options.yaml");
    writeFileSync(file, "meters: [\n  - : :");
    expect(errorOf(() => loadSettings({ HA_URL: "http://h:8123", HA_TOKEN: "t", ENERGY_BRIDGE_OPTIONS: file })).message).toMatch(
      /options\.yaml.*YAML/,
    );
  });
});
