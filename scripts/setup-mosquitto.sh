#!/usr/bin/env bash
# Energy Bridge — install the Mosquitto broker the MQTT integration tests run against
# (test/helpers/mosquitto.ts starts it as `mosquitto -c <temp conf>` on a free loopback port).
#
#   bash scripts/setup-mosquitto.sh      instant when `mosquitto` is already on PATH (or in /usr/sbin)
#
# Installs Debian's `mosquitto` package (bookworm: 2.0.11) with apt-get when the binary is missing.
# The package's own systemd/init service is not needed and not started by the tests; where
# policy-rc.d is honoured (Docker images, CI) apt does not start it either.
# Not root and missing: prints a loud warning and exits 0 (the MQTT tests then skip) — unless
# CI=true, where it exits 1 (CI must run them).
set -euo pipefail

have_mosquitto() {
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]
}

fail() {
  local msg="$1"
  printf '\n%s\n!! %s\n%s\n\n' "$(printf '!%.0s' {1..78})" "${msg//$'\n'/$'\n'!! }" "$(printf '!%.0s' {1..78})" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true: refusing to continue without Mosquitto." >&2
    exit 1
  fi
  exit 0
}

if have_mosquitto; then
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  fail "Mosquitto is not installed and this is not root: the MQTT integration tests will be SKIPPED.
Install it with: sudo apt-get install -y mosquitto   (or run this script as root)"
fi

if ! command -v apt-get >/dev/null 2>&1; then
  fail "Mosquitto is not installed and there is no apt-get here: the MQTT integration tests will be SKIPPED.
Install a mosquitto >= 2.0 broker binary on PATH."
fi

echo "setup-mosquitto: installing Debian's mosquitto package" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends mosquitto >&2; then
  # A fresh image may have no package lists yet.
  apt-get update >&2 || true
  apt-get install -y --no-install-recommends mosquitto >&2 || fail "apt-get could not install mosquitto: the MQTT integration tests will be SKIPPED."
fi
have_mosquitto || fail "mosquitto is still missing after apt-get install: the MQTT integration tests will be SKIPPED."
echo "setup-mosquitto: $( (mosquitto -h 2>/dev/null || /usr/sbin/mosquitto -h 2>/dev/null || true) | head -n 1)" >&2
