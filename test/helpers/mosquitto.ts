/**
 * Test harness: a real Mosquitto broker (Debian's `mosquitto` package, installed by
 * `scripts/setup-mosquitto.sh`) started in the foreground as `mosquitto -c <temp conf>` on a free
 * loopback port, with its persistence file in a temp dir, so a restart keeps retained messages
 * (unless `persistence: false`, the "broker lost everything" case).
 *
 * Config written (mosquitto.conf(5), Mosquitto 2.0: a `listener` makes `allow_anonymous` default
 * to false, so it is always explicit):
 * ```
 * listener <port> 127.0.0.1
 * allow_anonymous true            # or false + password_file <dir>/passwd with `users`
 * persistence true
 * persistence_location <dir>/
 * autosave_interval 1
 * log_dest stderr                 # unbuffered: the harness waits for the "running" line
 * user <current user>             # when root: stay root instead of switching to `mosquitto`
 * ```
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe } from "vitest";
import { freePort } from "./ports.js";

const CANDIDATES = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/bin/mosquitto"];
const PASSWD_CANDIDATES = ["/usr/bin/mosquitto_passwd", "/usr/local/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd"];

function findBinary(name: string, candidates: string[]): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return candidates.find((p) => existsSync(p));
}

/** Whether a `mosquitto` binary exists (PATH, then /usr/sbin etc.); `reason` when not. */
export function mosquittoAvailability(): { available: boolean; binary?: string; reason?: string } {
  const binary = findBinary("mosquitto", CANDIDATES);
  if (!binary) return { available: false, reason: "no mosquitto binary on PATH or in /usr/sbin" };
  return { available: true, binary };
}

/**
 * `describe` when Mosquitto is installed; otherwise `describe.skip` with a loud warning naming the
 * fix (`bash scripts/setup-mosquitto.sh`). With `CI=true` a missing broker throws instead.
 * Pass `describeImpl` to nest another guard (e.g. the HA harness's `describeWithHA`).
 */
export function describeWithMosquitto(
  title: string,
  fn: () => void,
  describeImpl: (title: string, fn: () => void) => void = describe,
): void {
  const a = mosquittoAvailability();
  if (a.available) {
    describeImpl(title, fn);
    return;
  }
  const msg = `Mosquitto is not available: ${a.reason}.\n  Run \`bash scripts/setup-mosquitto.sh\` (as root: apt-get install -y mosquitto).`;
  if (process.env.CI === "true") throw new Error(`${msg}\n  CI=true: refusing to skip "${title}".`);
  console.warn(`\n${"!".repeat(78)}\n!! SKIPPING "${title}"\n!! ${msg.replace(/\n/g, "\n!! ")}\n${"!".repeat(78)}\n`);
  describe.skip(title, fn);
}

/** A running broker started by {@link startMosquitto}. */
export interface MosquittoBroker {
  host: "127.0.0.1";
  port: number;
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  /** Temp dir holding the config, password file and persistence db. */
  dir: string;
  /** SIGTERM (SIGKILL after 5 s), then removes the temp dir. */
  stop(): Promise<void>;
  /**
   * Stops and starts again on the same port and dir; resolves when it accepts connections. With
   * persistence the retained messages survive (Mosquitto writes its db on SIGTERM).
   */
  restart(): Promise<void>;
  /** The broker's log so far. */
  log(): string;
}

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /** Users and passwords; when given, anonymous clients are refused (password_file). */
  users?: Record<string, string>;
  /** Keep retained messages across restarts (default true). */
  persistence?: boolean;
  /** Port (default: a free one). */
  port?: number;
}

const live = new Set<ChildProcess>();
let hook = false;


/** The line Mosquitto 2 logs once its listeners are bound (`mosquitto version 2.0.11 running`). */
const RUNNING = /mosquitto version \S+ running/;

/**
 * Starts Mosquitto (see the module docstring). Resolves when it has logged `running` (its listener
 * is bound); a free port taken by someone else before the bind is replaced (up to two retries, not
 * with `opts.port`).
 * @throws Error with the broker's log when it is missing, exits early or is not up within 10 s.
 */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const a = mosquittoAvailability();
  if (!a.available || !a.binary) throw new Error(`${a.reason}; run \`bash scripts/setup-mosquitto.sh\``);
  const binary = a.binary;
  if (!hook) {
    hook = true;
    process.on("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
  const dir = mkdtempSync(join(tmpdir(), "eb-mosquitto-"));
  let port = opts.port ?? (await freePort());
  const lines: string[] = [];
  if (opts.users) {
    const passwd = join(dir, "passwd");
    writeFileSync(passwd, Object.entries(opts.users).map(([u, p]) => `${u}:${p}`).join("\n") + "\n", { mode: 0o600 });
    const tool = findBinary("mosquitto_passwd", PASSWD_CANDIDATES);
    if (!tool) throw new Error("mosquitto_passwd is missing (package mosquitto)");
    await promisify(execFile)(tool, ["-U", passwd]); // hashes the plain-text file in place
    lines.push("allow_anonymous false", `password_file ${passwd}`);
  } else {
    lines.push("allow_anonymous true");
  }
  if (opts.persistence === false) lines.push("persistence false");
  else lines.push("persistence true", `persistence_location ${dir}/`, "autosave_interval 1");
  // stderr: unbuffered, so the "running" line arrives when it is written (stdout to a pipe is block-buffered).
  lines.push("log_dest stderr", "log_type error", "log_type warning", "log_type notice", "log_type information");
  if (process.getuid?.() === 0) lines.push("user root");
  else lines.push(`user ${userInfo().username}`);
  const conf = join(dir, "mosquitto.conf");
  const writeConf = () => writeFileSync(conf, [`listener ${port} 127.0.0.1`, ...lines].join("\n") + "\n");
  writeConf();

  let out = "";
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const spawnIt = async () => {
    const from = out.length;
    const c = spawn(binary, ["-c", conf], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    live.add(c);
    let gone = false;
    c.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    exited = new Promise((res) =>
      c.on("exit", (code, sig) => {
        gone = true;
        live.delete(c);
        out += `\n[harness] mosquitto exited (code ${code}, signal ${sig})\n`;
        res();
      }),
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (gone) throw new Error(`mosquitto exited at start:\n${out}`);
      // Its own "running" line (logged once the listener is bound), not a connect probe: something
      // else may already listen on the port (it took it after freePort released it).
      if (RUNNING.test(out.slice(from))) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not report running on ${port} within 10 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill("SIGTERM");
    const t = setTimeout(() => c.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(t);
  };
  for (let attempt = 1; ; attempt++) {
    const attemptLog = out.length;
    try {
      await spawnIt();
      break;
    } catch (err) {
      await kill();
      // The free port was taken between freePort() and the bind: take another one (twice at most).
      if (opts.port === undefined && attempt < 3 && /Address already in use/.test(out.slice(attemptLog))) {
        port = await freePort();
        writeConf();
        out += `\n[harness] port taken; retrying on ${port}\n`;
        continue;
      }
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  return {
    host: "127.0.0.1",
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    log: () => out,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      out += "\n[harness] ---- restart ----\n";
      await spawnIt();
    },
  };
}
