#!/usr/bin/env node
/**
 * The command line, nothing else (the service itself is wired in main.ts):
 * `energy-bridge run` — the service: daily sync at a random minute of the provider's window,
 *   backfill on first start, entities re-published after Home Assistant restarts; stops on SIGTERM.
 * `energy-bridge sync --once` — one full cycle for every meter; prints one summary line per meter
 *   and exits 1 if any meter failed (2 for invalid settings).
 * Options: `--options <file>` (standalone options file; see settings.ts for the environment).
 */
import { runService, syncOnce } from "./main.js";

const USAGE = "usage: energy-bridge run | energy-bridge sync --once  [--options <file>]";

function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const optIndex = rest.indexOf("--options");
  const optionsPath = optIndex >= 0 ? rest[optIndex + 1] : undefined;
  if (command === "run") return runService(optionsPath);
  if (command === "sync" && rest.includes("--once")) return syncOnce(optionsPath);
  console.error(USAGE);
  return Promise.resolve(2);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`energy-bridge: ${err.message}`);
    process.exit(1);
  },
);
