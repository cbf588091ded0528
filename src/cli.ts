#!/usr/bin/env node
/**
 * `energy-bridge run` — the service: daily sync at a random minute of the provider's window,
 *   backfill on first start, entities re-published after Home Assistant restarts; stops on SIGTERM.
 * `energy-bridge sync --once` — one full cycle for every meter; prints one summary line per meter
 *   and exits 1 if any meter failed (2 for invalid settings).
 * Options: `--options <file>` (standalone options file; see settings.ts for the environment).
 */
import { createLogger } from "./log.js";
import { loadSettings, SettingsError } from "./settings.js";
import { createService } from "./service.js";
import { formatSummary } from "./jobs/sync-meter.js";
import { startSchedule } from "./jobs/scheduler.js";
import { getSyncState } from "./store/sync-state.js";

const USAGE = "usage: energy-bridge run | energy-bridge sync --once  [--options <file>]";

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const optIndex = rest.indexOf("--options");
  const optionsPath = optIndex >= 0 ? rest[optIndex + 1] : undefined;
  if (command !== "run" && !(command === "sync" && rest.includes("--once"))) {
    console.error(USAGE);
    return 2;
  }
  let settings;
  try {
    settings = loadSettings(process.env, optionsPath);
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(`energy-bridge: cannot start: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const log =
    command === "sync"
      ? createLogger(settings.logLevel === "info" ? "warning" : settings.logLevel, 2)
      : createLogger(settings.logLevel);
  if (settings.meters.length === 0) log.warn("no meter configured: add one under `meters` in the options");
  const service = await createService(settings, { log, waitForHomeAssistant: command === "run" });

  if (command === "sync") {
    try {
      const summaries = await service.runCycle();
      for (const s of summaries) console.log(formatSummary(s));
      return summaries.some((s) => s.status === "error" || s.status === "auth_error") ? 1 : 0;
    } finally {
      service.close();
    }
  }

  const window = service.jobs[0]?.provider.capabilities.scheduleWindow ?? ["06:00", "10:00"];
  const timezone = service.jobs[0]?.provider.capabilities.timezone ?? "Europe/Paris";
  const firstStart = service.jobs.some((j) => getSyncState(service.db, j.meter.id).lastSuccessAt === null);
  const schedule = startSchedule({
    db: service.db,
    window,
    timezone,
    runNow: firstStart,
    log,
    cycle: async () => {
      const summaries = await service.runCycle();
      for (const s of summaries) log.info(formatSummary(s));
      const late = summaries.filter((s) => !s.upToDate && s.status !== "auth_error").map((s) => s.meterId);
      if (late.length) log.info(`yesterday's data is not published yet for ${late.join(", ")} (Enedis publishes D-1 from about 08:00)`);
      return summaries.some((s) => s.status === "error") || late.length > 0;
    },
  });
  await service.republish();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal} received, stopping`);
      // Let a running cycle finish (the Supervisor allows ~10 s before SIGKILL), then close.
      void schedule.stop(8_000).then((finished) => {
        if (!finished) log.warn("a sync cycle was still running; stopping without waiting for it");
        service.close();
        resolve();
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`energy-bridge: ${err.message}`);
    process.exit(1);
  },
);
