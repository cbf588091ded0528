/**
 * The add-on's Log tab shows what the process writes, verbatim: by default one readable line per
 * entry (`[HH:MM:SS] LEVEL: message`, no JSON, no pid/hostname, no colour codes off a terminal);
 * `LOG_FORMAT=json` gives JSON lines for log shippers. Checked on what the logger really writes,
 * to a file descriptor and through a child process's stdout/stderr pipes.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { REPO_ROOT } from "../helpers/dataset.js";

const LINE = /^\[(\d{2}):(\d{2}):(\d{2})\] (TRACE|DEBUG|INFO|WARNING|ERROR|FATAL): /;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Runs `body` with a logger writing to a fresh file; returns what was written. */
function capture(
  body: (log: ReturnType<typeof createLogger>) => void,
  env: NodeJS.ProcessEnv = {},
  level: Parameters<typeof createLogger>[0] = "info",
): string {
  dir = mkdtempSync(join(tmpdir(), "eb-log-"));
  const file = join(dir, "out.log");
  const fd = openSync(file, "w");
  try {
    body(createLogger(level, fd, env));
  } finally {
    closeSync(fd);
  }
  return readFileSync(file, "utf8");
}

describe("readable log lines (default)", () => {
  it("writes one line: local time, level word, message — no JSON, pid or hostname", () => {
    const before = new Date();
    const out = capture((log) => log.info("connected to Home Assistant 2026.11.1, 1 meter(s)"));
    const after = new Date();
    expect(out.endsWith("\n")).toBe(true);
    const lines = out.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(LINE);
    expect(lines[0]).toMatch(/ INFO: connected to Home Assistant 2026\.11\.1, 1 meter\(s\)$/);
    expect(out).not.toMatch(/[{}"]|pid|hostname|"level"/);
    // The time is the process zone's wall clock (the Supervisor sets the host's TZ), not UTC.
    const [, hh, mm] = LINE.exec(lines[0]!)!;
    const wall = (d: Date) => `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
    expect([wall(before), wall(after)]).toContain(`${hh}:${mm}`);
  });

  it("names levels as the add-on option does and honours the level", () => {
    const out = capture((log) => {
      log.debug("not shown at info");
      log.info("shown");
      log.warn("a warning");
      log.error("an error");
    });
    const lines = out.trimEnd().split("\n");
    expect(lines.map((l) => LINE.exec(l)?.[4])).toEqual(["INFO", "WARNING", "ERROR"]);
    expect(out).not.toContain("not shown");
    const debug = capture((log) => log.debug("now shown"), {}, "debug");
    expect(debug).toMatch(/ DEBUG: now shown\n$/);
  });

  it("keeps extra fields on the same line and an error's message and stack readable", () => {
    const fields = capture((log) => log.warn({ meter: "12345678901234" }, "meter 12345678901234: rejected point"));
    expect(fields.trimEnd().split("\n")).toHaveLength(1);
    expect(fields).toMatch(/ WARNING: meter 12345678901234: rejected point .*12345678901234/);

    const err = capture((log) => log.error({ err: new Error("socket hang up") }, "sync cycle failed"));
    const [first, ...rest] = err.trimEnd().split("\n");
    expect(first).toMatch(LINE);
    expect(first).toMatch(/ ERROR: sync cycle failed/);
    expect(rest.join("\n")).toContain("socket hang up");
    expect(rest.join("\n")).toMatch(/at .*log\.test\.ts/);
  });
});

describe("LOG_FORMAT=json", () => {
  it("writes one JSON object per line with level, time and message", () => {
    const out = capture((log) => {
      log.info({ meter: "12345678901234" }, "meter synced");
      log.warn("late");
    }, { LOG_FORMAT: "json" });
    const lines = out.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, msg: "meter synced", meter: "12345678901234" });
    expect(typeof lines[0]!.time).toBe("number");
    expect(lines[1]).toMatchObject({ level: 40, msg: "late" });
    for (const l of lines) {
      expect(l).not.toHaveProperty("pid");
      expect(l).not.toHaveProperty("hostname");
    }
  });

  it("is case-insensitive; any other value keeps readable lines", () => {
    expect(() => JSON.parse(capture((log) => log.info("x"), { LOG_FORMAT: "JSON" }))).not.toThrow();
    expect(capture((log) => log.info("x"), { LOG_FORMAT: "pretty" })).toMatch(/ INFO: x\n$/);
  });
});

describe("through a real process (as the Supervisor runs it: stdout is a pipe)", () => {
  const script = (fd: 1 | 2) =>
    `const { createLogger } = await import(${JSON.stringify(join(REPO_ROOT, "src/log.ts"))});` +
    `createLogger("info", ${fd}).info("daily sync scheduled at 07:43 Europe/Paris"); process.exit(0);`;
  const run = (fd: 1 | 2, env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script(fd)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      encoding: "utf8",
      timeout: 30_000,
    });

  it("prints a readable, colourless line on stdout, flushed before process.exit", () => {
    const r = run(1, { LOG_FORMAT: "" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\[\d{2}:\d{2}:\d{2}\] INFO: daily sync scheduled at 07:43 Europe\/Paris\n$/);
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it("reads LOG_FORMAT from the environment, and writes to stderr when asked (sync --once)", () => {
    const r = run(2, { LOG_FORMAT: "json" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr)).toMatchObject({ level: 30, msg: "daily sync scheduled at 07:43 Europe/Paris" });
  });
});
