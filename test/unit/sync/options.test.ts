/**
 * Mirror options → Settings → modules: the server only when `sync_server_enabled`, the client only
 * with servers listed, both before the web module (which mounts their pages); bad values are named.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadSettings, SettingsError } from "../../../src/settings.js";
import { defaultModules } from "../../../src/modules/catalog.js";

function settingsWith(options: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "eb-sync-opts-"));
  const file = join(dir, "options.yaml");
  writeFileSync(file, stringify(options));
  return loadSettings({ HA_URL: "http://127.0.0.1:8123", HA_TOKEN: "t", DATA_DIR: dir }, file);
}

describe("mirror options", () => {
  it("enables nothing by default", async () => {
    const s = settingsWith({});
    expect(s.sync).toEqual({ clientServers: [] });
    expect((await defaultModules(s)).map((m) => m.name)).not.toContain("sync-server");
    expect((await defaultModules(s)).map((m) => m.name)).not.toContain("sync-client");
  });

  it("builds server and client settings and registers both modules before web", async () => {
    const s = settingsWith({
      sync_server_enabled: true,
      sync_server_tls_cert: "/ssl/fullchain.pem",
      sync_server_tls_key: "/ssl/privkey.pem",
      sync_server_registration_secret: "long-enough-secret",
      sync_server_token_days: 90,
      sync_client_servers: [{ url: "https://main.example:8765/", name: "Main house", pairing_code: "K7QH3MZP" }],
    });
    expect(s.sync).toEqual({
      server: { port: 8765, tls: { certPath: "/ssl/fullchain.pem", keyPath: "/ssl/privkey.pem" }, registrationSecret: "long-enough-secret", tokenDays: 90 },
      clientServers: [{ url: "https://main.example:8765", name: "Main house", pairingCode: "K7QH3MZP" }],
    });
    const names = (await defaultModules(s)).map((m) => m.name);
    expect(names).toContain("sync-server");
    expect(names).toContain("sync-client");
    expect(names.at(-1)).toBe("web");
  });

  it("names a bad server address or a short secret", () => {
    expect(() => settingsWith({ sync_client_servers: [{ url: "main.example", name: "x" }] })).toThrow(/sync_client_servers\[0\]\.url: must be the sync server's address/);
    expect(() => settingsWith({ sync_server_registration_secret: "short" })).toThrow(SettingsError);
  });
});
