import { isatty } from "node:tty";
import { destination, pino, type Logger } from "pino";
import { prettyFactory } from "pino-pretty";

export type { Logger };

/** Output formats: `pretty` (default) = one readable line per entry; `json` = pino's JSON lines. */
export type LogFormat = "pretty" | "json";

/** `LOG_FORMAT=json` selects JSON lines (for log shippers); anything else, or unset, readable lines. */
export function logFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  return env.LOG_FORMAT?.trim().toLowerCase() === "json" ? "json" : "pretty";
}

/**
 * Level labels as the add-on option and bashio name them (`WARNING`, not pino's `WARN`), so the
 * app's lines look like the run script's `[12:00:00] INFO: Starting Energy Bridge`.
 */
const LEVEL_LABELS = "trace:10,debug:20,info:30,warning:40,error:50,fatal:60";

/**
 * The service logger. Readable lines by default — `[HH:MM:SS] LEVEL: message`, local time of the
 * process zone (the Supervisor sets the host's `TZ`), extra fields as compact JSON on the same line,
 * an error's stack below it, colours only on a terminal — as the add-on's Log tab shows raw JSON
 * verbatim. `LOG_FORMAT=json` keeps pino's JSON lines. Writes are synchronous, so nothing is lost
 * when the process exits right after a line.
 * `level` uses the add-on option names (`warning` maps to pino's `warn`).
 */
export function createLogger(
  level: "trace" | "debug" | "info" | "warning" | "error" | "silent" = "info",
  /** 1 = stdout (the service), 2 = stderr (`sync --once`, whose stdout is the summary); any open fd. */
  fd: number = 1,
  env: NodeJS.ProcessEnv = process.env,
): Logger {
  const out = destination({ fd, sync: true });
  const options = { level: level === "warning" ? "warn" : level, base: undefined };
  if (logFormat(env) === "json") return pino(options, out);
  const prettify = prettyFactory({
    colorize: isatty(fd),
    translateTime: "SYS:HH:MM:ss",
    ignore: "pid,hostname",
    singleLine: true,
    customLevels: LEVEL_LABELS,
  });
  return pino(options, {
    write(line: string) {
      out.write(prettify(line));
    },
  });
}
