/**
 * The add-on packaging follows the Supervisor's and frenck/action-addon-linter's rules
 * (reference: addon-packaging.md §1.3, §4.2, §5, §6.3): required keys, no unknown key, no key set
 * to its default value, no deprecated arch, translations for every option, no stray config.*,
 * a Dockerfile that builds with or without build.yaml, executable s6 scripts that exec node.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../helpers/dataset.js";

const read = (f: string) => readFileSync(join(REPO_ROOT, f), "utf8");
const config = parse(read("config.yaml")) as Record<string, unknown>;

/** Keys of the linter's config.schema.json (additionalProperties: false). */
const KNOWN_KEYS = new Set([
  "name", "version", "slug", "description", "url", "arch", "machine", "startup", "boot", "init", "stage", "ports",
  "ports_description", "host_network", "host_ipc", "host_dbus", "host_pid", "host_uts", "devices", "homeassistant",
  "hassio_api", "hassio_role", "homeassistant_api", "docker_api", "privileged", "full_access", "apparmor", "map",
  "environment", "audio", "video", "gpio", "usb", "uart", "udev", "devicetree", "kernel_modules", "stdin", "legacy",
  "options", "schema", "image", "timeout", "tmpfs", "discovery", "services", "auth_api", "ingress", "ingress_port",
  "ingress_entry", "ingress_stream", "panel_icon", "panel_title", "panel_admin", "backup", "backup_pre", "backup_post",
  "backup_exclude", "advanced", "realtime", "journald", "breaking_versions", "webui", "ulimits", "watchdog", "codenotary",
]);

/** Supervisor defaults: a key set to one of these is a linter error ("uses a default value"). */
const DEFAULTS: Record<string, unknown> = {
  startup: "application", boot: "auto", init: true, stage: "stable", ingress: false, ingress_port: 8099, ingress_entry: "/",
  ingress_stream: false, panel_icon: "mdi:puzzle", panel_admin: true, hassio_api: false, hassio_role: "default",
  homeassistant_api: false, auth_api: false, docker_api: false, host_network: false, host_ipc: false, host_dbus: false,
  host_pid: false, host_uts: false, full_access: false, apparmor: true, audio: false, video: false, gpio: false,
  usb: false, uart: false, udev: false, devicetree: false, kernel_modules: false, stdin: false, legacy: false,
  timeout: 10, tmpfs: false, backup: "hot", map: [], options: {}, privileged: [], advanced: false, realtime: false,
  journald: false, breaking_versions: [],
};

describe("config.yaml follows the add-on linter rules", () => {
  it("has the required keys with valid values", () => {
    for (const k of ["name", "version", "slug", "description", "arch"]) expect(config, k).toHaveProperty(k);
    expect(config.slug).toMatch(/^[-_.A-Za-z0-9]+$/);
    expect(typeof config.version).toBe("string");
    expect(config.version).toBe(JSON.parse(read("package.json")).version);
  });

  it("has no unknown key, no obsolete key, no deprecated arch", () => {
    expect(Object.keys(config).filter((k) => !KNOWN_KEYS.has(k))).toEqual([]);
    expect(config).not.toHaveProperty("watchdog");
    expect(config).not.toHaveProperty("codenotary");
    expect((config.arch as string[]).filter((a) => ["armhf", "armv7", "i386"].includes(a))).toEqual([]);
  });

  it("sets no key to its default value", () => {
    const same = Object.entries(DEFAULTS).filter(([k, v]) => k in config && JSON.stringify(config[k]) === JSON.stringify(v));
    expect(same.map(([k]) => k)).toEqual([]);
  });

  it("declares a schema entry for every option, and the app's own option parser accepts the defaults", async () => {
    const options = config.options as Record<string, unknown>;
    const schema = config.schema as Record<string, unknown>;
    expect(Object.keys(options).filter((k) => !(k in schema))).toEqual([]);
    const { parseOptions } = await import("../../src/settings.js");
    expect(() => parseOptions(options, "config.yaml")).not.toThrow();
    // Every schema key is an option the app knows (its zod schema is strict).
    const { OPTION_KEYS } = await import("../../src/settings.js");
    expect(Object.keys(schema).filter((k) => !OPTION_KEYS.includes(k))).toEqual([]);
  });

  it("has English and French labels for every option and its fields", () => {
    const schema = config.schema as Record<string, unknown>;
    for (const lang of ["en", "fr"]) {
      const t = parse(read(`translations/${lang}.yaml`)) as { configuration: Record<string, { name: string; fields?: Record<string, { name: string }> }> };
      for (const [key, value] of Object.entries(schema)) {
        expect(t.configuration[key]?.name, `${lang}: ${key}`).toBeTruthy();
        if (Array.isArray(value) && typeof value[0] === "object") {
          for (const field of Object.keys(value[0] as object)) expect(t.configuration[key]!.fields?.[field]?.name, `${lang}: ${key}.${field}`).toBeTruthy();
        }
      }
    }
  });
});

describe("the rest of the add-on folder", () => {
  it("has no other file the Supervisor would load as an add-on (config.yaml/.yml/.json)", () => {
    const stray: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name.startsWith(".") || name === "node_modules" || name === "rootfs") continue;
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/^config\.(ya?ml|json)$/.test(name)) stray.push(relative(REPO_ROOT, p));
      }
    };
    walk(REPO_ROOT);
    expect(stray).toEqual(["config.yaml"]);
  });

  it("builds with or without build.yaml: ARG BUILD_FROM has a default before FROM", () => {
    const docker = read("Dockerfile");
    const arg = docker.search(/^ARG BUILD_FROM=\S+/m);
    const from = docker.search(/^FROM \$\{BUILD_FROM\}/m);
    expect(arg).toBeGreaterThanOrEqual(0);
    expect(from).toBeGreaterThan(arg);
    const build = parse(read("build.yaml")) as Record<string, unknown>;
    expect(Object.keys(build).filter((k) => !["build_from", "args", "labels"].includes(k))).toEqual([]);
    expect(Object.keys(build.build_from as object).sort()).toEqual([...(config.arch as string[])].sort());
  });

  it("ships executable s6 scripts; run execs the built CLI", () => {
    for (const f of ["run", "finish"]) {
      const p = join(REPO_ROOT, "addon/rootfs/etc/services.d/energy-bridge", f);
      expect(existsSync(p), f).toBe(true);
      expect(statSync(p).mode & 0o111, `${f} is executable`).not.toBe(0);
    }
    expect(read("addon/rootfs/etc/services.d/energy-bridge/run")).toMatch(/^exec node .*\/app\/dist\/cli\.js run$/m);
  });

  it("has the store face next to config.yaml", () => {
    for (const f of ["DOCS.md", "CHANGELOG.md", "icon.png", "logo.png", "repository.yaml"]) expect(existsSync(join(REPO_ROOT, f)), f).toBe(true);
    const png = readFileSync(join(REPO_ROOT, "icon.png"));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.readUInt32BE(16)).toBe(png.readUInt32BE(20)); // square
  });
});
