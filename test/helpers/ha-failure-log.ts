/**
 * Prints the tail of a harness Home Assistant's log (test/helpers/ha-harness.ts `log()`, HA's
 * stdout/stderr at the harness's `warning` level, plus any `EB_HA_DEBUG` loggers) when a test of
 * the calling suite fails, so a failure that only shows on a loaded CI machine (an HA task that
 * raised, a platform that never loaded) can be read from the CI output afterwards.
 */
import { beforeEach } from "vitest";
import type { HomeAssistantInstance } from "./ha-harness.js";

type LoggedHa = Pick<HomeAssistantInstance, "log" | "version" | "url">;

/**
 * Registers, in the calling `describe`, a hook that prints the last `lines` lines of the log of
 * each instance `getHa()` returns (one, or several for the multi-instance suites) to stderr after
 * any of its tests fails. `getHa` is read at failure time (instances are usually created in
 * `beforeAll`); undefined ones are skipped.
 */
export function printHaLogOnFailure(getHa: () => LoggedHa | readonly (LoggedHa | undefined)[] | undefined, lines = 150): void {
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(() => {
      const got = getHa();
      for (const ha of Array.isArray(got) ? got : [got]) {
        if (!ha) continue;
        const tail = ha.log().split("\n").slice(-lines).join("\n");
        process.stderr.write(`\n--- HA ${ha.version} (${ha.url}) log, last ${lines} lines, after "${task.name}" failed ---\n${tail}\n---\n`);
      }
    });
  });
}
