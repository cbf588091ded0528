import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration files each start a real Home Assistant Core; keep them from
    // competing for the 2 cores, and give HA time to boot.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // An odd process zone (UTC+12:45/+13:45) so any code that leans on the process TZ
    // instead of luxon with an explicit zone fails loudly.
    env: { TZ: "Pacific/Chatham" },
  },
});
