/** The web options (`web_host`, `web_port`, `web_secret`) from the options file into Settings. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings, parseOptions, SettingsError } from "../../../src/settings.js";

describe("web options", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("reads web_host, web_port and web_secret (standalone)", () => {
    dir = mkdtempSync(join(tmpdir(), "eb-web-opts-"));
    const file = join(dir, "options.yaml");
    writeFileSync(file, 'web_host: 0.0.0.0\nweb_port: 8123\nweb_secret: "twelve chars!"\n');
    const s = loadSettings({ HA_URL: "http://127.0.0.1:8123", HA_TOKEN: "t", DATA_DIR: dir }, file);
    expect(s.web).toEqual({ host: "0.0.0.0", port: 8123, secret: "twelve chars!" });
  });

  it("absent options leave web unset (the module's defaults apply)", () => {
    dir = mkdtempSync(join(tmpdir(), "eb-web-opts-"));
    const file = join(dir, "options.json");
    writeFileSync(file, "{}");
    expect(loadSettings({ HA_URL: "http://127.0.0.1:8123", HA_TOKEN: "t", DATA_DIR: dir }, file).web).toBeUndefined();
  });

  it.each([
    [{ web_secret: "short" }, /option web_secret: must be at least 12 characters/],
    [{ web_port: 0 }, /option web_port/],
    [{ web_port: 70000 }, /option web_port/],
    [{ web_host: "" }, /option web_host/],
  ])("refuses %j with the option named", (raw, message) => {
    expect(() => parseOptions(raw, "options.yaml")).toThrow(SettingsError);
    expect(() => parseOptions(raw, "options.yaml")).toThrow(message);
  });
});
