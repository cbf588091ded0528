#!/usr/bin/env node
// Launcher for the `energy-bridge` command.
// - Built install (dist/cli.js present, e.g. the add-on image): run it.
// - Source checkout without a build: run src/cli.ts through tsx.
// Arguments are passed through unchanged (`energy-bridge run`,
// `energy-bridge sync --once`). process.argv[1] is pointed at the real entry
// so an "am I the main module?" check in cli works the same either way.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

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
