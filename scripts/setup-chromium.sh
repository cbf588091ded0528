#!/usr/bin/env bash
# Energy Bridge — Debian's chromium for the UI tests (test/e2e/, driven by playwright-core, which
# downloads no browser of its own). See setup-apt-tool.sh.
exec bash "$(dirname "$0")/setup-apt-tool.sh" chromium chromium "the browser (e2e) tests"
