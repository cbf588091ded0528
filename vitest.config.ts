import { defineConfig } from "vitest/config";

// The Home Assistant Core releases the integration tests run against, each in its own project
// (`integration-ha2025.4`, `integration-ha2026.2`) with HA_VERSION set for test/helpers/ha-harness.ts.
// Keep in sync with HA_VERSIONS there and ALL_VERSIONS in scripts/setup-ha.sh.
const HA_VERSIONS = ["2025.4.4", "2026.2.3"];

// An odd process zone (UTC+12:45/+13:45) so any code that leans on the process TZ
// instead of luxon with an explicit zone fails loudly.
const TZ = "Pacific/Chatham";

export default defineConfig({
  test: {
    // Integration files each start a real Home Assistant Core; keep them from
    // competing for the 2 cores, and give HA time to boot.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 240_000,
    env: { TZ },
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/integration/**", "test/e2e/**", "**/node_modules/**"] },
      },
      // Real peers that are not Home Assistant (oidc-provider, headless Chromium): run once.
      {
        extends: true,
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"] },
      },
      ...HA_VERSIONS.map((v) => ({
        extends: true as const,
        test: {
          name: `integration-ha${v.split(".").slice(0, 2).join(".")}`,
          include: ["test/integration/**/*.test.ts"],
          env: { TZ, HA_VERSION: v },
        },
      })),
    ],
  },
});
