#!/usr/bin/env node
// Launcher for the `energy-bridge` command.
// - Built install (dist/cli.js present, e.g. the add-on image): run it.
// - Source checkout without a build: run src/cli.ts through tsx.
// Arguments are passed through unchanged (`energy-bridge run`,
// `energy-bridge sync --once`). process.argv[1] is pointed at the real entry
// so an "am I the main module?" check in cli works the same either way.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";

// Small V8 young generation, as the add-on's run script gets with `--max-semi-space-size=4`:
// Node's default lets it grow to 2 × 16 MB of mostly garbage, which is most of the difference
// between a ~100 MB and a ~150 MB process during a 3-year backfill (bench/README.md). The size
// limit is only read at start-up, but the growth factor is read each time V8 considers growing
// the young generation, so setting it to 1 here (before anything is allocated) keeps it at its
// initial size. Left alone when the command line or NODE_OPTIONS already sizes it.
const v8Sizing = /--(max-semi-space-size|semi-space-growth-factor|max-new-space-size)\b/;
if (!process.execArgv.some((a) => v8Sizing.test(a)) && !v8Sizing.test(process.env.NODE_OPTIONS ?? "")) {
  setFlagsFromString("--semi-space-growth-factor=1");
}

const built = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const source = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

if (existsSync(built)) {
  process.argv[1] = built;
  await import(pathToFileURL(built).href);
} else if (existsSync(source)) {
  let register;
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    console.error(
      "energy-bridge: dist/cli.js is missing and tsx is not installed; run `npm run build` first.",
    );
    process.exit(1);
  }
  register();
  process.argv[1] = source;
  await import(pathToFileURL(source).href);
} else {
  console.error("energy-bridge: neither dist/cli.js nor src/cli.ts was found.");
  process.exit(1);
}
