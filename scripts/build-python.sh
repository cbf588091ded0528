#!/usr/bin/env bash
# Energy Bridge — build CPython 3.13.5 from Debian trixie's source package, for the Home Assistant
# test virtualenvs (scripts/setup-ha.sh). Debian 12 (bookworm) ships Python 3.11 only, and HA 2026.2
# needs Python >= 3.13.2.
#
#   bash scripts/build-python.sh     prints the interpreter's path on stdout (logs go to stderr)
#
# Steps (each skipped when already done):
#   1. a `deb-src` entry for trixie main in /etc/apt/sources.list.d/energy-bridge-trixie-src.sources
#      (only when no deb-src for trixie is configured; source indexes only — no binary package from
#      trixie is ever installed), `apt-get update`;
#   2. apt-get install of the build dependencies (ssl, sqlite3, zlib, ffi, bz2, lzma, readline, uuid, …)
#      that are missing;
#   3. `apt-get source --download-only python3.13` → python3.13_3.13.5.orig.tar.xz (the pristine
#      upstream tarball; Debian's patches are not applied), extracted;
#   4. ./configure --prefix=$PREFIX --disable-test-modules && make -j$(nproc) && make install
#      (no --enable-optimizations: too slow; no test suite: not needed, saves install time);
#   5. a check that ssl, sqlite3, ctypes, zlib, bz2, lzma, venv and ensurepip import, then a marker.
#
# PREFIX = ${EB_PYTHON_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/energy-bridge/python-3.13.5}.
# Steps 1–2 need root (or passwordless sudo) and apt; when the dependencies are already installed
# they are skipped, so a non-root user with the -dev packages can still build.
set -euo pipefail

PY_VERSION="3.13.5"
PY_SERIES="${PY_VERSION%.*}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/energy-bridge"
PREFIX="${EB_PYTHON_PREFIX:-$CACHE/python-$PY_VERSION}"
SRC_CACHE="$CACHE/src"
MARKER="$PREFIX/.energy-bridge-ready"
PY="$PREFIX/bin/python$PY_SERIES"
ORIG="python${PY_SERIES}_${PY_VERSION}.orig.tar.xz"
APT_SOURCES_FILE="/etc/apt/sources.list.d/energy-bridge-trixie-src.sources"
BUILD_DEPS=(build-essential pkg-config xz-utils libssl-dev libsqlite3-dev zlib1g-dev libffi-dev libbz2-dev
  liblzma-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev libgdbm-compat-dev libexpat1-dev)

log() { printf '[build-python] %s\n' "$*" >&2; }
now() { date +%s; }

check_python() {
  "$1" - <<'PY' >&2
import sys, ssl, sqlite3, ctypes, zlib, bz2, lzma, venv, ensurepip, uuid, readline, hashlib, _ctypes
assert sys.version_info[:3] == (3, 13, 5), sys.version
print("[build-python] ok:", sys.version.split()[0], ssl.OPENSSL_VERSION, "sqlite", sqlite3.sqlite_version)
PY
}

if [[ -f "$MARKER" && -x "$PY" ]] && check_python "$PY" 2>/dev/null; then
  echo "$PY"
  exit 0
fi

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else log "need root for: $*"; return 1
  fi
}

command -v apt-get >/dev/null 2>&1 || { log "no apt-get: this builder needs Debian (or set EB_PYTHON to a Python $PY_SERIES)"; exit 1; }

mkdir -p "$CACHE" "$SRC_CACHE"
# Serialise concurrent builds (two setup-ha runs at once).
if command -v flock >/dev/null 2>&1; then
  exec 8>"$CACHE/python-$PY_VERSION.lock"
  flock 8
  if [[ -f "$MARKER" && -x "$PY" ]] && check_python "$PY" 2>/dev/null; then echo "$PY"; exit 0; fi
fi

T0=$(now)
export DEBIAN_FRONTEND=noninteractive

# --- 1+2. build dependencies -------------------------------------------------------------------
missing=()
for p in "${BUILD_DEPS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing build dependencies: ${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# --- 3. the upstream tarball from Debian's source package ----------------------------------------
if [[ ! -f "$SRC_CACHE/$ORIG" ]]; then
  if ! apt-cache showsrc python3.13 2>/dev/null | grep -q "^Version: $PY_VERSION"; then
    # Add our deb-src entry only when no deb-src for trixie is configured anywhere.
    if ! grep -rqsE '^[^#]*deb-src[^#]*trixie' /etc/apt/sources.list /etc/apt/sources.list.d/ \
      && ! grep -rlsE '^Types:.*deb-src' /etc/apt/sources.list.d/ | xargs -r grep -lsE '^Suites:.*\btrixie\b' | grep -q .; then
      log "adding $APT_SOURCES_FILE (deb-src trixie main)"
      as_root tee "$APT_SOURCES_FILE" >/dev/null <<'EOF2'
# Added by Energy Bridge scripts/build-python.sh: source packages only (python3.13 for the HA tests).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF2
    fi
    log "apt-get update"
    as_root apt-get update -qq
  fi
  log "apt-get source --download-only python3.13"
  dl="$(mktemp -d "$SRC_CACHE/dl.XXXXXX")"
  # As root, apt downloads as the _apt user: the folder must be writable by it.
  chmod 777 "$dl"
  (cd "$dl" && apt-get source --download-only -qq python3.13 >&2)
  [[ -f "$dl/$ORIG" ]] || { log "apt-get source did not give $ORIG (got: $(ls "$dl"))"; rm -rf "$dl"; exit 1; }
  mv "$dl/$ORIG" "$SRC_CACHE/$ORIG"
  rm -rf "$dl"
fi
log "source: $SRC_CACHE/$ORIG ($(sha256sum "$SRC_CACHE/$ORIG" | cut -c1-16)…)"

# --- 4. build --------------------------------------------------------------------------------------
BUILD="$(mktemp -d "$SRC_CACHE/build.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT
tar -xJf "$SRC_CACHE/$ORIG" -C "$BUILD"
cd "$BUILD/Python-$PY_VERSION"
rm -rf "$PREFIX"
T1=$(now)
log "configure (prefix $PREFIX)"
./configure --prefix="$PREFIX" --with-ensurepip=install --disable-test-modules >"$BUILD/configure.log" 2>&1 \
  || { tail -40 "$BUILD/configure.log" >&2; exit 1; }
log "make -j$(nproc) (about 2–3 minutes on 2 cores)"
make -j"$(nproc)" >"$BUILD/make.log" 2>&1 || { tail -60 "$BUILD/make.log" >&2; exit 1; }
grep -A8 "necessary bits to build these optional modules were not found\|Failed to build these modules" "$BUILD/make.log" >&2 || true
log "make install"
make install >"$BUILD/install.log" 2>&1 || { tail -40 "$BUILD/install.log" >&2; exit 1; }
T2=$(now)

# --- 5. check ----------------------------------------------------------------------------------------
check_python "$PY"
echo "python $PY_VERSION from $ORIG" >"$MARKER"
log "built in $((T2 - T1)) s (total $((T2 - T0)) s): $PY"
echo "$PY"
