#!/usr/bin/env bash
# Energy Bridge — install one Debian package a test suite needs, when its binary is missing.
#
#   bash scripts/setup-apt-tool.sh <binary> <package> "<what skips without it>"
#
# Instant when <binary> is on PATH (or in /usr/sbin). Installs <package> with apt-get
# (--no-install-recommends; `apt-get update` once if the lists are missing). A package's own
# service is never started by the tests (where policy-rc.d is honoured, apt does not start it).
# Not root / no apt: a loud warning and exit 0 (those tests skip) — unless CI=true: exit 1.
set -euo pipefail
bin="$1" pkg="$2" what="$3"

have() { command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ]; }

fail() {
  local msg="$1"
  printf '\n%s\n!! %s\n%s\n\n' "$(printf '!%.0s' {1..78})" "${msg//$'\n'/$'\n'!! }" "$(printf '!%.0s' {1..78})" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true: refusing to continue without $pkg." >&2
    exit 1
  fi
  exit 0
}

have && exit 0
[ "$(id -u)" = "0" ] || fail "$pkg is not installed and this is not root: $what will be SKIPPED.
Install it with: sudo apt-get install -y $pkg   (or run this script as root)"
command -v apt-get >/dev/null 2>&1 || fail "$pkg is not installed and there is no apt-get here: $what will be SKIPPED."

echo "setup: installing Debian's $pkg package" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "$pkg" >&2; then
  apt-get update >&2 || true
  apt-get install -y --no-install-recommends "$pkg" >&2 || fail "apt-get could not install $pkg: $what will be SKIPPED."
fi
have || fail "$bin is still missing after apt-get install $pkg: $what will be SKIPPED."
