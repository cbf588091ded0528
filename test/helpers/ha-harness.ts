/**
 * Test harness: a real Home Assistant Core (pinned, from the cached virtualenv built by
 * `scripts/setup-ha.sh`) started headless on a free loopback port, onboarded over REST, with a
 * long-lived admin token.
 *
 * Sources: HA core `onboarding/views.py` (user step → auth_code), `auth/__init__.py::GrantTokenView`
 * (`/auth/token` authorization_code grant), `auth/__init__.py` WS `auth/long_lived_access_token`,
 * `bootstrap.py` (DEFAULT_INTEGRATIONS, frontend is CRITICAL), `__main__.py` (`--skip-pip`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { stringify } from "yaml";
import { connectHomeAssistant, type ConnectOptions, type HaLink } from "../../src/homeassistant/connection.js";
import { freePort } from "./ports.js";

/** The Home Assistant Core releases `scripts/setup-ha.sh` installs, oldest first. */
export const HA_VERSIONS = ["2025.4.4", "2026.2.3"] as const;
export type HaVersion = (typeof HA_VERSIONS)[number];

/**
 * The release this process runs against: `HA_VERSION` from the environment (vitest.config.ts sets
 * it per integration project), else the newest of {@link HA_VERSIONS}.
 */
export const HA_VERSION: HaVersion = pickVersion(process.env.HA_VERSION);

function pickVersion(env: string | undefined): HaVersion {
  if (!env) return HA_VERSIONS[HA_VERSIONS.length - 1]!;
  const v = HA_VERSIONS.find((x) => x === env);
  if (!v) throw new Error(`HA_VERSION=${env} is not one of the installed releases (${HA_VERSIONS.join(", ")})`);
  return v;
}

const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const STOP_TIMEOUT_MS = 20_000;
const LOG_LINES = 2000;

/** The pinned lock file of a release (scripts/ha-requirements-<version>.txt). */
function lockFile(version: string): string {
  return join(REPO_ROOT, "scripts", `ha-requirements-${version}.txt`);
}

/** Path of the cached virtualenv of `version` (same rule as scripts/setup-ha.sh). */
export function haVenvPath(version: string = HA_VERSION): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "energy-bridge", `ha-${version}-py3.13`);
}

/**
 * Whether the pinned HA virtualenv of `version` is installed and matches its lock file.
 * `reason` says what is missing when `available` is false.
 */
export function haAvailability(version: string = HA_VERSION): { available: boolean; reason?: string; venv: string } {
  const venv = haVenvPath(version);
  const hass = join(venv, "bin", "hass");
  const marker = join(venv, ".energy-bridge-ready");
  if (!existsSync(hass)) return { available: false, reason: `no Home Assistant virtualenv at ${venv}`, venv };
  if (!existsSync(marker)) return { available: false, reason: `the install in ${venv} is incomplete (no marker)`, venv };
  const sha = createHash("sha256").update(readFileSync(lockFile(version))).digest("hex");
  // Marker written by setup-ha.sh: "homeassistant==<version> python=<x.y.z> lock-sha256=<sha>".
  const got = readFileSync(marker, "utf8").trim();
  if (!got.startsWith(`homeassistant==${version} `) || !got.endsWith(` lock-sha256=${sha}`)) {
    return { available: false, reason: `${venv} was built from an older scripts/ha-requirements-${version}.txt`, venv };
  }
  return { available: true, venv };
}

/**
 * `describe` when the HA virtualenv is ready; otherwise `describe.skip` with a loud warning naming
 * the fix (`npm run setup:ha`). With `CI=true` a missing HA throws instead: CI must run these tests.
 */
export function describeWithHA(title: string, fn: () => void): void {
  // The release in every test name, so both runs are told apart in reports.
  const name = `[HA ${HA_VERSION}] ${title}`;
  const a = haAvailability();
  if (a.available) {
    describe(name, fn);
    return;
  }
  const msg =
    `Home Assistant ${HA_VERSION} is not available: ${a.reason}.\n` +
    `  Run \`npm run setup:ha\` (bash scripts/setup-ha.sh ${HA_VERSION}) to install it.`;
  if (process.env.CI === "true") throw new Error(`${msg}\n  CI=true: refusing to skip "${name}".`);
  console.warn(`\n${"!".repeat(78)}\n!! SKIPPING "${name}"\n!! ${msg.replace(/\n/g, "\n!! ")}\n${"!".repeat(78)}\n`);
  describe.skip(name, fn);
}

/** A running Home Assistant started by {@link startHomeAssistant}. */
export interface HomeAssistantInstance {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `ws://127.0.0.1:PORT/api/websocket` */
  wsUrl: string;
  /** Long-lived access token of the admin user (valid across restarts). */
  token: string;
  username: string;
  password: string;
  configDir: string;
  /** `version` from GET /api/config, e.g. "2026.2.3" (always {@link HA_VERSION}). */
  version: string;
  /** Milliseconds: process start → HTTP answers; onboarding + token; full start until RUNNING. */
  timings: { httpUpMs: number; onboardingMs: number; totalMs: number };
  /** SIGTERM, wait for exit (SIGKILL after 20 s); removes the temp config dir unless EB_KEEP_HA=1. */
  stop(): Promise<void>;
  /** Stops and starts the same config dir and port; resolves when the API answers again. */
  restart(): Promise<void>;
  /** The last lines of HA's stdout/stderr. */
  log(): string;
}

/** Options of {@link startHomeAssistant}. */
export interface StartOptions {
  /** YAML appended to configuration.yaml (top-level keys not already written by the harness). */
  extraConfig?: string;
  /** Automations written to automations.yaml (included by `automation: !include automations.yaml`). */
  automations?: unknown[];
  /** Use this (existing or new) config dir instead of a temp dir; it is never deleted. */
  configDir?: string;
  /** Loopback port to listen on (default: a free one). */
  port?: number;
  /** Admin login created at onboarding (default "energy-bridge" and a random password). */
  username?: string;
  password?: string;
  /**
   * By default an "Invalid config for …" or "Setup failed for …" line in HA's log fails the start
   * (a typo in `extraConfig` must not pass silently). Set true to tolerate them.
   */
  allowSetupErrors?: boolean;
  /**
   * Also finish the `core_config` onboarding step, so a person logging in lands on the dashboard
   * instead of the "Home location" page (the demo). HA then starts config flows for met,
   * radio_browser, google_translate and shopping_list, which cannot load offline; that only logs.
   */
  completeOnboarding?: boolean;
}

/**
 * Log lines that mean HA will not run as configured (recovery mode binds 0.0.0.0:8123!). A port
 * taken by another server (HA's http component logs it and runs on without HTTP) would otherwise
 * have the harness talk to that server instead.
 */
const FATAL_LINES = [/Failed to parse configuration\.yaml/, /recovery mode/i, /Unable to set up core integrations/, /Failed to create HTTP server at port/];
const SETUP_ERROR_LINES = [/Invalid config for /, /Setup failed for /];

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave an HA behind when the test worker dies.
  process.on("exit", () => {
    for (const c of liveChildren) c.kill("SIGKILL");
  });
}


function configurationYaml(port: number, extraConfig?: string): string {
  // No default_config (it pulls discovery integrations: bluetooth, dhcp, ssdp, zeroconf, cloud, …).
  const base = {
    homeassistant: {
      name: "Energy Bridge Test",
      latitude: 48.85,
      longitude: 2.35,
      elevation: 35,
      unit_system: "metric",
      time_zone: "Europe/Paris",
      currency: "EUR",
      country: "FR",
    },
    http: { server_host: "127.0.0.1", server_port: port },
    api: null,
    websocket_api: null,
    recorder: { commit_interval: 1 },
    history: null,
    energy: null,
    onboarding: null,
    input_boolean: null,
    logger: {
      default: "warning",
      // Known, harmless noise on this minimal install: no libturbojpeg, no isal/zlib-ng.
      logs: {
        "homeassistant.components.camera.img_util": "critical",
        aiohttp_fast_zlib: "error",
        // EB_HA_DEBUG=homeassistant.components.mqtt,… : those loggers at debug (with EB_KEEP_HA=1,
        // read them afterwards in <configDir>/home-assistant.log).
        ...Object.fromEntries((process.env.EB_HA_DEBUG ?? "").split(",").filter(Boolean).map((l) => [l.trim(), "debug"])),
      },
    },
  };
  return (
    stringify(base, { nullStr: "" }) +
    "automation: !include automations.yaml\n" +
    (extraConfig ? `\n# extraConfig\n${extraConfig.trimEnd()}\n` : "")
  );
}

class RingLog {
  private lines: string[] = [];
  private partial = "";
  constructor(private readonly onLine: (line: string) => void = () => undefined) {}
  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split("\n");
    this.partial = parts.pop() ?? "";
    for (const p of parts) {
      this.lines.push(p);
      this.onLine(p);
    }
    if (this.lines.length > LOG_LINES) this.lines.splice(0, this.lines.length - LOG_LINES);
  }
  text(): string {
    return [...this.lines, this.partial].join("\n");
  }
  tail(n = 60): string {
    return [...this.lines, this.partial].slice(-n).join("\n");
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fetchJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: "1", PYTHONWARNINGS: "ignore" };
  // A SUPERVISOR variable would make HA load hassio; keep the child away from any real Supervisor.
  for (const k of Object.keys(env)) if (k.startsWith("SUPERVISOR") || k.startsWith("HASSIO")) delete env[k];
  // setup-ha.sh installs with `pip --no-compile` (compiling ~10,000 files took minutes); HA's first
  // start then writes the bytecode of what it imports into the venv, and later starts reuse it.
  delete env.PYTHONDONTWRITEBYTECODE;
  return env;
}

/**
 * Starts a fresh, offline Home Assistant Core and onboards it.
 *
 * Writes a minimal configuration.yaml (homeassistant with Paris coordinates/zone/EUR/FR, http on a
 * free loopback port, api, websocket_api, recorder with commit_interval 1, history, energy,
 * onboarding, automation from automations.yaml, input_boolean, logger at warning) plus
 * `extraConfig`, runs `hass -c <dir> --skip-pip`, waits for HTTP, creates the admin user via
 * onboarding, exchanges the auth code for an access token, creates a long-lived token over the
 * WebSocket, checks it on GET /api/, and waits until HA reports state RUNNING.
 *
 * @throws Error with HA's log tail when HA exits early or is not up within 120 s
 *   (EB_HA_START_TIMEOUT_MS), or when onboarding fails.
 */
export async function startHomeAssistant(opts: StartOptions = {}): Promise<HomeAssistantInstance> {
  const { venv, available, reason } = haAvailability();
  if (!available) throw new Error(`Home Assistant ${HA_VERSION} is not installed: ${reason}. Run \`npm run setup:ha\`.`);
  installExitHook();

  const ownsDir = !opts.configDir;
  const configDir = opts.configDir ?? mkdtempSync(join(tmpdir(), "eb-ha-"));
  mkdirSync(configDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/api/websocket`;
  writeFileSync(join(configDir, "configuration.yaml"), configurationYaml(port, opts.extraConfig));
  // JSON is valid YAML and quotes every string: HA reads YAML 1.1, where a bare `on`/`off` is a boolean.
  writeFileSync(join(configDir, "automations.yaml"), JSON.stringify(opts.automations ?? [], null, 2));

  const startTimeoutMs = Number(process.env.EB_HA_START_TIMEOUT_MS ?? 120_000);
  const fatalPatterns = opts.allowSetupErrors ? FATAL_LINES : [...FATAL_LINES, ...SETUP_ERROR_LINES];
  let fatalLine: string | undefined;
  const ring = new RingLog((line) => {
    if (!fatalLine && fatalPatterns.some((re) => re.test(line))) fatalLine = line;
  });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let exitInfo: string | undefined;

  const spawnHass = () => {
    exitInfo = undefined;
    fatalLine = undefined;
    const c = spawn(join(venv, "bin", "hass"), ["-c", configDir, "--skip-pip", "--log-no-color"], {
      cwd: configDir,
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = c;
    liveChildren.add(c);
    c.stdout?.on("data", (d: Buffer) => ring.push(d));
    c.stderr?.on("data", (d: Buffer) => ring.push(d));
    exited = new Promise<void>((res) => {
      c.on("exit", (code, signal) => {
        exitInfo = `hass exited (code ${code}, signal ${signal})`;
        ring.push(`\n[harness] ${exitInfo}\n`);
        liveChildren.delete(c);
        res();
      });
      c.on("error", (err) => {
        exitInfo = `cannot run hass: ${err.message}`;
        liveChildren.delete(c);
        res();
      });
    });
  };

  const failStart = (what: string): Error =>
    new Error(`Home Assistant ${what}\n--- last lines of the HA log (${configDir}) ---\n${ring.tail(80)}\n---`);

  /** Polls `probe` until it returns a value, HA exits, or the deadline passes. */
  const waitFor = async <T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<T> => {
    for (;;) {
      if (exitInfo) throw failStart(`${what}: ${exitInfo}`);
      if (fatalLine) throw failStart(`failed to start as configured: HA logged "${fatalLine.slice(0, 400)}"`);
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw failStart(`${what}: timed out after ${startTimeoutMs / 1000} s`);
      await sleep(250);
    }
  };

  let token = "";
  const waitRunning = (deadline: number) =>
    waitFor("did not reach state RUNNING", deadline, async () => {
      const r = await fetchJson(`${url}/api/config`, { headers: { authorization: `Bearer ${token}` } });
      const body = r.body as { state?: string; version?: string };
      return r.status === 200 && body.state === "RUNNING" ? body : undefined;
    });

  const killChild = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const username = opts.username ?? "energy-bridge";
  const password = opts.password ?? randomBytes(12).toString("hex");
  const t0 = Date.now();
  const deadline = t0 + startTimeoutMs;
  let version = "";
  let httpUpMs = 0;
  let onboardingMs = 0;
  spawnHass();
  try {
    // 1. HTTP up: the onboarding view answers without auth.
    const steps = await waitFor("did not answer over HTTP", deadline, async () => {
      const r = await fetchJson(`${url}/api/onboarding`);
      return r.status === 200 ? (r.body as { step: string; done: boolean }[]) : undefined;
    });
    httpUpMs = Date.now() - t0;
    if (steps.find((s) => s.step === "user")?.done) {
      throw failStart(`in ${configDir} is already onboarded; the harness needs a fresh config dir`);
    }

    // 2. Onboarding: admin user → auth code → access token.
    const t1 = Date.now();
    const clientId = `${url}/`;
    const user = await fetchJson(`${url}/api/onboarding/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: clientId, name: "Energy Bridge Test", username, password, language: "en" }),
    });
    const authCode = (user.body as { auth_code?: string }).auth_code;
    if (user.status !== 200 || !authCode) throw failStart(`onboarding user step failed: ${user.status} ${JSON.stringify(user.body)}`);
    const tok = await fetchJson(`${url}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: authCode, client_id: clientId }).toString(),
    });
    const accessToken = (tok.body as { access_token?: string }).access_token;
    if (tok.status !== 200 || !accessToken) throw failStart(`token exchange failed: ${tok.status} ${JSON.stringify(tok.body)}`);
    const bearer = { authorization: `Bearer ${accessToken}`, "content-type": "application/json" };
    // Remaining steps, except core_config: that one starts config flows for met, radio_browser,
    // google_translate and shopping_list (network + requirements we do not install).
    if (opts.completeOnboarding) {
      await fetchJson(`${url}/api/onboarding/core_config`, { method: "POST", headers: bearer, body: "{}" });
    }
    await fetchJson(`${url}/api/onboarding/analytics`, { method: "POST", headers: bearer, body: "{}" });
    await fetchJson(`${url}/api/onboarding/integration`, {
      method: "POST",
      headers: bearer,
      body: JSON.stringify({ client_id: clientId, redirect_uri: `${clientId}?auth_callback=1` }),
    });

    // 3. Long-lived token over the WebSocket.
    const link = await connectHomeAssistant({ wsUrl, token: accessToken, initialRetries: 3, keepAliveMs: 0 });
    try {
      token = await link.connection.sendMessagePromise<string>({
        type: "auth/long_lived_access_token",
        client_name: `energy-bridge-tests-${randomBytes(4).toString("hex")}`,
        lifespan: 3650,
      });
    } finally {
      link.close();
    }
    const check = await fetchJson(`${url}/api/`, { headers: { authorization: `Bearer ${token}` } });
    if (check.status !== 200) throw failStart(`rejected the new long-lived token on GET /api/: ${check.status}`);
    onboardingMs = Date.now() - t1;

    // 4. Everything set up.
    version = (await waitRunning(deadline)).version ?? "";
  } catch (err) {
    await killChild();
    const e = err instanceof Error ? err : new Error(String(err));
    console.error(e.message);
    if (ownsDir && process.env.EB_KEEP_HA !== "1") rmSync(configDir, { recursive: true, force: true });
    throw e;
  }
  const totalMs = Date.now() - t0;

  return {
    url,
    wsUrl,
    token,
    username,
    password,
    configDir,
    version,
    timings: { httpUpMs, onboardingMs, totalMs },
    log: () => ring.text(),
    async stop() {
      await killChild();
      if (ownsDir && process.env.EB_KEEP_HA !== "1") rmSync(configDir, { recursive: true, force: true });
    },
    async restart() {
      await killChild();
      ring.push("\n[harness] ---- restart ----\n");
      spawnHass();
      try {
        await waitRunning(Date.now() + startTimeoutMs);
      } catch (err) {
        await killChild();
        console.error((err as Error).message);
        throw err;
      }
    },
  };
}

/**
 * Opens an authenticated js-websocket link to a harness instance (admin token) with
 * {@link connectHomeAssistant}; close it with `link.close()`.
 */
export function haWs(
  instance: Pick<HomeAssistantInstance, "wsUrl" | "token">,
  opts: Omit<ConnectOptions, "wsUrl" | "token"> = {},
): Promise<HaLink> {
  return connectHomeAssistant({ wsUrl: instance.wsUrl, token: instance.token, ...opts });
}
