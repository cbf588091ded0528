/**
 * The add-on packaging follows the Supervisor's and frenck/action-addon-linter's rules
 * (reference: addon-packaging.md §1.3, §4.2, §5, §6.3; linter src/config.schema.json,
 * src/build.schema.json, src/lint.py): required keys, no unknown key, no key set to its default
 * value, no deprecated arch, options matching the app's parser, translations for every option,
 * no stray config.*, a Dockerfile that builds with or without build.yaml and whose final stage
 * holds only the Node.js runtime the README names (from an official node:<major>-alpine stage on
 * the base image's Alpine release), pruned production node_modules and dist, executable s6 scripts
 * that exec node. No network, no Docker: the Dockerfile is read, not built.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { OPTION_KEYS, parseOptions } from "../../src/settings.js";
import { REPO_ROOT as ROOT } from "../helpers/dataset.js";

const read = (rel: string) => readFileSync(join(ROOT, rel), "utf8");
const readYaml = (rel: string) => parseYaml(read(rel)) as Record<string, unknown>;

/** Every key the linter's config schema knows (`additionalProperties: false`). */
const KNOWN_KEYS = new Set([
  "advanced", "apparmor", "arch", "audio", "auth_api", "auto_uart", "backup", "backup_exclude",
  "backup_pre", "backup_post", "boot", "breaking_versions", "codenotary", "description", "devices",
  "devicetree", "discovery", "docker_api", "environment", "full_access", "gpio", "hassio_api",
  "hassio_role", "homeassistant", "homeassistant_api", "host_dbus", "host_ipc", "host_network",
  "host_pid", "host_uts", "image", "ingress", "ingress_entry", "ingress_port", "ingress_stream",
  "init", "journald", "kernel_modules", "legacy", "machine", "map", "name", "options",
  "panel_admin", "panel_icon", "panel_title", "ports", "ports_description", "privileged",
  "realtime", "schema", "services", "slug", "stage", "startup", "stdin", "timeout", "tmpfs",
  "uart", "udev", "ulimits", "url", "usb", "version", "video", "watchdog", "webui",
]);

/** Defaults from the linter's schema: a key set to one of these is a linter error. */
const DEFAULTS: Record<string, unknown> = {
  advanced: false, apparmor: true, audio: false, auth_api: false, auto_uart: false, backup: "hot",
  boot: "auto", devicetree: false, docker_api: false, full_access: false, gpio: false,
  hassio_api: false, hassio_role: "default", homeassistant: false, homeassistant_api: false,
  host_dbus: false, host_ipc: false, host_network: false, host_pid: false, host_uts: false,
  ingress: false, ingress_port: 8099, ingress_stream: false, init: true, journald: false,
  kernel_modules: false, legacy: false, options: {}, panel_admin: true, panel_icon: "mdi:puzzle",
  realtime: false, schema: {}, stage: "stable", startup: "application", stdin: false, timeout: 10,
  tmpfs: false, uart: false, udev: false, ulimits: {}, usb: false, video: false,
  // Supervisor defaults the linter does not list: pointless to write, so refused too.
  ingress_entry: "/", map: [], privileged: [], breaking_versions: [],
};

const SUPPORTED_ARCHES = ["aarch64", "amd64"];
const DEPRECATED_ARCHES = ["armhf", "armv7", "i386"];

const config = readYaml("config.yaml");
const schema = config.schema as Record<string, unknown>;
const options = config.options as Record<string, unknown>;

describe("config.yaml", () => {
  it("has the required keys with valid values", () => {
    for (const key of ["name", "version", "slug", "description", "arch"]) expect(config, key).toHaveProperty(key);
    expect(config.name).toBe("Energy Bridge");
    expect(typeof config.version).toBe("string"); // unquoted 0.1 would be a number
    expect(config.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(config.version).toBe((JSON.parse(read("package.json")) as { version: string }).version);
    expect(config.slug).toBe("energy_bridge");
    expect(config.slug).toMatch(/^[-_.A-Za-z0-9]+$/);
    expect(typeof config.description).toBe("string");
    expect((config.description as string).length).toBeGreaterThan(10);
    expect(Array.isArray(config.arch)).toBe(true);
  });

  it("uses only keys the linter knows", () => {
    const unknown = Object.keys(config).filter((k) => !KNOWN_KEYS.has(k));
    expect(unknown).toEqual([]);
  });

  it("sets no key to its default value", () => {
    const atDefault = Object.keys(config).filter(
      (k) => k in DEFAULTS && JSON.stringify(config[k]) === JSON.stringify(DEFAULTS[k]),
    );
    expect(atDefault).toEqual([]);
  });

  it("has no obsolete or conflicting keys", () => {
    expect(config).not.toHaveProperty("watchdog");
    expect(config).not.toHaveProperty("auto_uart");
    expect(config).not.toHaveProperty("codenotary");
    if (config.ingress) expect(config).not.toHaveProperty("webui");
    if (config.tmpfs !== undefined) expect(typeof config.tmpfs).toBe("boolean");
  });

  it("targets only supported arches", () => {
    const arch = config.arch as string[];
    expect(arch.filter((a) => DEPRECATED_ARCHES.includes(a))).toEqual([]);
    expect([...arch].sort()).toEqual([...SUPPORTED_ARCHES].sort());
  });

  it("runs under s6-overlay v3 and talks to Core", () => {
    expect(config.init).toBe(false);
    expect(config.homeassistant_api).toBe(true);
    expect(config.homeassistant).toMatch(/^\d{4}\.\d{1,2}\.\d+$/);
  });

  it("gives every option a schema entry, with the agreed options and types", () => {
    for (const key of Object.keys(options)) expect(schema, `schema.${key}`).toHaveProperty(key);
    // request_budget_per_day has no default: absent = the provider's own budget (clamped to its cap).
    expect(options).toEqual({
      meters: [],
      anomaly_threshold_percent: 120,
      retention_days: 730,
      log_level: "info",
    });
    // Same keys as the app's (strict) option parser, both ways, and it accepts the defaults.
    expect(Object.keys(schema).sort()).toEqual([...OPTION_KEYS].sort());
    expect(() => parseOptions(options, "config.yaml")).not.toThrow();
    // An optional (`?`) schema key must not have a default in options (it would become required).
    for (const [key, type] of Object.entries(schema)) {
      if (typeof type === "string" && type.endsWith("?")) expect(options, key).not.toHaveProperty(key);
    }
    expect(schema.request_budget_per_day).toBe("int(1,500)?");
    expect(schema.anomaly_threshold_percent).toBe("int(101,1000)");
    expect(schema.retention_days).toBe("int(30,3650)");
    expect(schema.log_level).toBe("list(trace|debug|info|warning|error)");
    expect(schema.enedis_client_secret).toBe("password?");
  });

  it("describes a meter as provider, PRM, token, base_url, name and production", () => {
    const meters = schema.meters as Array<Record<string, string>>;
    expect(Array.isArray(meters)).toBe(true);
    expect(meters).toHaveLength(1);
    const meter = meters[0]!;
    expect(meter).toEqual({
      provider: "list(conso_api|myelectricaldata|myelectricaldata_legacy|enedis_data_connect)",
      prm: "match(^[0-9]{14}$)",
      token: "password?",
      base_url: "url?",
      name: "str?",
      production: "list(auto|on|off)?",
    });
    const prm = new RegExp(meter.prm!.slice("match(".length, -1));
    expect(prm.test("01234567890123")).toBe(true);
    expect(prm.test("1234567890123")).toBe(false);
  });
});

describe("translations", () => {
  for (const lang of ["en", "fr"]) {
    it(`${lang}.yaml names and describes every schema key`, () => {
      const t = readYaml(`translations/${lang}.yaml`);
      expect(Object.keys(t).every((k) => k === "configuration" || k === "network")).toBe(true);
      const conf = t.configuration as Record<string, { name?: unknown; description?: unknown; fields?: Record<string, { name?: unknown; description?: unknown }> }>;
      expect(Object.keys(conf).sort()).toEqual(Object.keys(schema).sort());
      for (const key of Object.keys(schema)) {
        expect(typeof conf[key]?.name, `${lang} ${key}.name`).toBe("string");
        expect(typeof conf[key]?.description, `${lang} ${key}.description`).toBe("string");
      }
      const meterKeys = Object.keys((schema.meters as Array<Record<string, string>>)[0]!);
      const fields = conf.meters?.fields ?? {};
      expect(Object.keys(fields).sort()).toEqual(meterKeys.sort());
      for (const key of meterKeys) {
        expect(typeof fields[key]?.name, `${lang} meters.${key}.name`).toBe("string");
        expect(typeof fields[key]?.description, `${lang} meters.${key}.description`).toBe("string");
      }
    });
  }
});

/** Files the Supervisor would parse as add-on configs: its glob skips `.*` and `rootfs` parts. */
function findAppConfigs(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "rootfs" || entry.name === "node_modules") continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) findAppConfigs(full, out);
    else if (/^config\.(yaml|yml|json)$/.test(entry.name)) out.push(relative(ROOT, full));
  }
  return out;
}

describe("repository layout", () => {
  it("has config.yaml at the root and no other config.{yaml,yml,json}", () => {
    expect(findAppConfigs(ROOT)).toEqual(["config.yaml"]);
  });

  it("has repository.yaml with a name", () => {
    const repo = readYaml("repository.yaml");
    expect(typeof repo.name).toBe("string");
    expect(Object.keys(repo).every((k) => ["name", "url", "maintainer"].includes(k))).toBe(true);
  });

  it("has the store files next to config.yaml", () => {
    for (const f of ["DOCS.md", "CHANGELOG.md", "icon.png", "logo.png", "Dockerfile"]) {
      expect(existsSync(join(ROOT, f)), f).toBe(true);
    }
    expect(read("CHANGELOG.md")).toContain(`## [${String(config.version)}]`);
  });

  it("ships real PNG images of the recommended sizes", () => {
    const size = (f: string) => {
      const b = readFileSync(join(ROOT, f));
      expect(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), f).toBe(true);
      expect(b.subarray(12, 16).toString("ascii")).toBe("IHDR");
      return { w: b.readUInt32BE(16), h: b.readUInt32BE(20) };
    };
    expect(size("icon.png")).toEqual({ w: 128, h: 128 });
    const logo = size("logo.png");
    expect(logo.w).toBeGreaterThanOrEqual(200);
    expect(logo.w).toBeLessThanOrEqual(300);
    expect(logo.h).toBeGreaterThanOrEqual(80);
    expect(logo.h).toBeLessThanOrEqual(120);
  });
});

describe("build.yaml", () => {
  const build = readYaml("build.yaml");
  it("holds only build_from (+ args), one base image per config arch", () => {
    // The linter's build schema is `additionalProperties: false` over args, build_from, squash;
    // squash is ignored by the Supervisor, so only build_from/args are allowed here.
    expect(Object.keys(build).filter((k) => !["build_from", "args"].includes(k))).toEqual([]);
    const from = build.build_from as Record<string, string>;
    expect(typeof from).toBe("object");
    expect(Object.keys(from).sort()).toEqual([...(config.arch as string[])].sort());
    for (const [arch, image] of Object.entries(from)) {
      expect(image).toMatch(/^([a-zA-Z\-.:\d{}]+\/)*?([-\w{}]+)\/([-\w{}]+)(:[.\-\w{}]+)?$/);
      expect(image).toContain(arch);
    }
  });
});

/** The Dockerfile as instructions (comments dropped, `\\` continuations joined), split into stages. */
function dockerStages(text: string) {
  const instructions: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!current && (!line || line.startsWith("#"))) continue;
    if (current && line.startsWith("#")) continue; // comment inside a continued RUN
    current += (current ? " " : "") + line.replace(/\\$/, "").trim();
    if (!line.endsWith("\\")) {
      instructions.push(current);
      current = "";
    }
  }
  const global = instructions.slice(0, instructions.findIndex((l) => l.startsWith("FROM ")));
  const stages: Array<{ from: string; name?: string; body: string[] }> = [];
  for (const l of instructions.slice(global.length)) {
    const m = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(l);
    if (m) stages.push({ from: m[1]!, ...(m[2] ? { name: m[2] } : {}), body: [] });
    else stages.at(-1)!.body.push(l);
  }
  return { global, stages };
}

describe("Dockerfile", () => {
  const { global, stages } = dockerStages(read("Dockerfile"));
  const final = stages.at(-1)!;
  const finalText = final.body.join("\n");
  const buildFrom = /^ARG BUILD_FROM=(\S+)$/.exec(global.find((l) => l.startsWith("ARG BUILD_FROM=")) ?? "")?.[1];
  const alpineOf = (image: string) => /:(\d+\.\d+)(?:[-.]|$)/.exec(image)?.[1];
  /** Stages running the official Node image: `node:<major>-alpine<x.y>`. */
  const nodeStages = stages
    .map((s) => ({ ...s, tag: /^node:(\d+)(?:\.[\d.]+)?-alpine(\d+\.\d+)$/.exec(s.from) }))
    .filter((s) => s.tag);

  it("declares ARG BUILD_FROM with a default before any FROM; the final stage is FROM ${BUILD_FROM}", () => {
    expect(buildFrom).toMatch(/^ghcr\.io\/home-assistant\/[-\w]*base:[\d.]+/);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(final.from).toBe("${BUILD_FROM}");
    expect(final.name).toBeUndefined();
    // Any other stage is a named build stage, on the base image or on the official Node image.
    for (const s of stages.slice(0, -1)) {
      expect(s.name, s.from).toBeTruthy();
      expect(s.from === "${BUILD_FROM}" || /^node:\d+/.test(s.from), s.from).toBe(true);
    }
  });

  it("runs the Node.js major the README names, built for the base image's Alpine (musl) release", () => {
    // Every "Node.js 20" / "Node.js ≥ 20.19" in the README, and package.json's engines, name one major.
    const readmeMajors = new Set([...read("README.md").matchAll(/Node\.js\s*(?:≥|>=)?\s*(\d+)/g)].map((m) => m[1]));
    expect(readmeMajors.size).toBe(1);
    const major = [...readmeMajors][0]!;
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    expect(/(\d+)/.exec(engines)?.[1]).toBe(major);

    // Alpine's own `nodejs` follows the Alpine release (3.22 → Node 22): never installed.
    for (const s of stages) expect(s.body.join("\n"), s.from).not.toMatch(/apk add[^\n]*\bnodejs\b/);
    // The runtime comes from an official node:<major>-alpine<x.y> stage of the README's major…
    expect(nodeStages.length).toBeGreaterThanOrEqual(1);
    const copies = final.body.filter((l) => /^COPY --from=\S+ \/usr\/local\/bin\/node /.test(l));
    expect(copies).toHaveLength(1);
    const source = nodeStages.find((s) => copies[0]!.startsWith(`COPY --from=${s.name} `));
    expect(source, "node is copied from a node:<major>-alpine stage").toBeDefined();
    expect(source!.tag![1]).toBe(major);
    // …built on the same Alpine release (musl) as the base image, here and in build.yaml.
    const alpine = alpineOf(buildFrom!);
    expect(alpine).toBeDefined();
    expect(source!.tag![2]).toBe(alpine);
    for (const image of Object.values(readYaml("build.yaml").build_from as Record<string, string>)) {
      expect(alpineOf(image), image).toBe(alpine);
    }
    // The image refuses to build if the runtime is another major.
    expect(finalText).toMatch(new RegExp(`^RUN node -e .*process\\.versions\\.node.*'${major}'`, "m"));
  });

  it("builds the app in a build stage that ends with production dependencies only", () => {
    const copied = final.body
      .map((l) => /^COPY --from=(\S+) (\S+) (\S+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ stage: m[1]!, src: m[2]!, dest: m[3]! }));
    const modules = copied.find((c) => c.src === "/app/node_modules");
    expect(modules, "final stage copies node_modules").toBeDefined();
    const build = stages.find((s) => s.name === modules!.stage)!;
    expect(build).toBeDefined();
    const buildText = build.body.join("\n");
    expect(buildText).toMatch(/apk add[^\n]*build-base[^\n]*python3/);
    expect(buildText).toMatch(/npm ci(?![^\n]*--ignore-scripts)/);
    // The prune comes after the install and the compile, and nothing installs after it.
    const at = (re: RegExp) => buildText.search(re);
    expect(at(/npm ci/)).toBeGreaterThanOrEqual(0);
    expect(at(/npm run build/)).toBeGreaterThan(at(/npm ci/));
    expect(at(/npm prune --omit=dev/)).toBeGreaterThan(at(/npm run build/));
    expect(buildText.slice(at(/npm prune --omit=dev/))).not.toMatch(/npm (?:ci|install|i)\b/);
  });

  it("ships only the runtime: node, pruned node_modules, dist — no toolchain, npm or dev dependency", () => {
    const copied = final.body.filter((l) => l.startsWith("COPY --from=")).map((l) => l.split(/\s+/).slice(2, -1).join(" "));
    expect(copied.sort()).toEqual(["/app/dist", "/app/node_modules", "/usr/local/bin/node"]);
    // From the build context only the package.json (for "type": "module") and the s6 scripts.
    const fromContext = final.body.filter((l) => /^(?:COPY|ADD) (?!--from=)/.test(l));
    expect(fromContext.sort()).toEqual(["COPY addon/rootfs /", "COPY package.json ./"]);
    expect(finalText).not.toMatch(/\b(?:build-base|python3|make|gcc|g\+\+|npm|npx|yarn|tsx|tsc)\b/);
    expect(finalText).not.toMatch(/^RUN apk /m);
    const devDeps = Object.keys((JSON.parse(read("package.json")) as { devDependencies: Record<string, string> }).devDependencies);
    for (const dep of devDeps) expect(finalText, dep).not.toContain(`node_modules/${dep}`);
    expect(finalText).toMatch(/^ENV NODE_ENV=production$/m);
    for (const label of ["io.hass.type", "io.hass.arch", "io.hass.version", "io.hass.name"]) {
      expect(finalText).toContain(label);
    }
  });

  it("keeps dependencies, builds and local state out of the build context", () => {
    const ignored = read(".dockerignore").split("\n").map((l) => l.trim());
    for (const p of ["node_modules", "dist", "test", "bench", "data", ".git", "coverage", ".demo"]) {
      expect(ignored, p).toContain(p);
    }
    for (const p of ["src", "package.json", "package-lock.json", "addon"]) expect(ignored).not.toContain(p);
  });
});

describe("s6 service", () => {
  const dir = "addon/rootfs/etc/services.d/energy-bridge";
  const isExecutable = (rel: string) => (statSync(join(ROOT, rel)).mode & 0o111) === 0o111;

  it("run is executable, uses bashio and execs the node service", () => {
    const run = read(`${dir}/run`);
    expect(isExecutable(`${dir}/run`)).toBe(true);
    expect(run.split("\n")[0]).toBe("#!/usr/bin/with-contenv bashio");
    // Node flags may sit between `node` and the entry (e.g. --max-semi-space-size).
    expect(run).toMatch(/^exec node (?:--?\S+ )*\/app\/dist\/cli\.js run\s*$/m);
  });

  it("finish is executable and halts the container on a non-zero exit", () => {
    const finish = read(`${dir}/finish`);
    expect(isExecutable(`${dir}/finish`)).toBe(true);
    expect(finish.split("\n")[0]).toMatch(/^#!\/usr\/bin\/(?:env |with-contenv )?(?:bashio|bash)$/);
    expect(finish).toMatch(/-ne 0/);
    expect(finish).toMatch(/-ne 256/);
    expect(finish).toContain("/run/s6-linux-init-container-results/exitcode");
    expect(finish).toMatch(/exec \/run\/s6\/basedir\/bin\/halt/);
  });

  it("the launcher is executable and falls back to tsx", () => {
    expect(isExecutable("bin/energy-bridge.js")).toBe(true);
    const bin = read("bin/energy-bridge.js");
    expect(bin).toContain("dist/cli.js");
    expect(bin).toContain("tsx/esm/api");
  });
});
