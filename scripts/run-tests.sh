#!/usr/bin/env bash
# Energy Bridge — the test command behind `npm test` (and so `.ci/run`).
# Two vitest runs: the fast projects (unit, and e2e: oidc-provider + headless Chromium), then the
# integration projects (a real Home Assistant Core per file, once per pinned release). Kept apart
# so the browser tests never compete for the 2 cores with two booting Home Assistants. Both
# always run; the exit code is non-zero when either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
npx vitest run --project unit --project e2e "$@"
fast=$?
npx vitest run --project 'integration-*' "$@"
integration=$?
echo "[test] unit + e2e: $([ $fast = 0 ] && echo passed || echo FAILED); integration: $([ $integration = 0 ] && echo passed || echo FAILED)"
[ $fast = 0 ] && [ $integration = 0 ]
