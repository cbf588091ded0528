import { destination, pino, type Logger } from "pino";

export type { Logger };

/**
 * The service logger (pino, JSON lines on stdout; the Supervisor shows them in the add-on log).
 * `level` uses the add-on option names (`warning` maps to pino's `warn`).
 */
export function createLogger(
  level: "trace" | "debug" | "info" | "warning" | "error" | "silent" = "info",
  /** 1 = stdout (the service), 2 = stderr (`sync --once`, whose stdout is the summary). */
  fd: 1 | 2 = 1,
): Logger {
  return pino({ level: level === "warning" ? "warn" : level, base: undefined }, destination({ fd, sync: true }));
}
