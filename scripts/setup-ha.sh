#!/usr/bin/env bash
# Energy Bridge — install the pinned Home Assistant Core releases the integration tests run against.
#
#   bash scripts/setup-ha.sh                     create/verify every cached virtualenv (instant when done)
#   bash scripts/setup-ha.sh 2026.2.3            only that release
#   bash scripts/setup-ha.sh --relock [VERSION…] re-resolve scripts/ha-requirements-<VERSION>.txt from
#                                                top_level() below
#
# Releases: 2025.4.4 (old statistics metadata: has_mean) and 2026.2.3 (mean_type + unit_class; the
# last HA on Python 3.13). Each lives in its own virtualenv
# ${XDG_CACHE_HOME:-$HOME/.cache}/energy-bridge/ha-<version>-py3.13, holding homeassistant==<version>
# plus every Python requirement of the integrations the test harness (test/helpers/ha-harness.ts)
# loads, pinned in scripts/ha-requirements-<version>.txt and installed against HA's own
# homeassistant/package_constraints.txt, so HA runs with `--skip-pip` and never installs anything
# (nor touches the network) at startup. paho-mqtt (mqtt integration's manifest pin) is included.
#
# Python: $EB_PYTHON if set (a 3.13 >= 3.13.2), else CPython 3.13.5 built once from Debian trixie's
# source package by scripts/build-python.sh (Debian/apt machines; cached), else a pyenv 3.13.x
# (>= 3.13.2) or `python3.13` on PATH. Without a suitable Python, or when an install fails, this
# prints a loud warning and exits 0 (the HA tests then skip) — unless CI=true, where it exits 1.
#
# A marker file written last (.energy-bridge-ready: version, Python, the lock file's sha256) makes
# re-runs instant; a half-finished install has no marker and is rebuilt from scratch on the next run.
set -euo pipefail

ALL_VERSIONS=(2025.4.4 2026.2.3)
PY_SERIES="3.13"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/energy-bridge"

# Direct requirements of a release (used by --relock only). Besides HA itself: the requirements of
# every integration the harness's configuration.yaml loads, DEFAULT_INTEGRATIONS and the closure of
# their dependencies/after_dependencies (homeassistant/components/*/manifest.json), the TOTP MFA
# module's requirements (homeassistant/auth/mfa_modules/totp.py; HA's auth layer installs them at
# startup when pip is not skipped), and paho-mqtt for the mqtt integration.
top_level() {
  local list
  case "$1" in
    2025.4.4) list='
homeassistant==2025.4.4
home-assistant-frontend==20250411.0  # frontend (CRITICAL: recovery mode without it)
Pillow==11.1.0                       # image_upload (dependency of frontend)
SQLAlchemy==2.0.39                   # recorder
fnv-hash-fast==1.4.0                 # recorder
cronsim==2.6                         # backup
securetar==2025.2.1                  # backup
aiohasupervisor==0.3.0               # hassio (after_dependency of backup)
ifaddr==0.2.0                        # network
psutil-home-assistant==0.0.1         # hardware, recorder
pyotp==2.8.0                         # auth mfa_modules/totp
PyQRCode==1.2.1                      # auth mfa_modules/totp
paho-mqtt==2.1.0                     # mqtt
' ;;
    2026.2.3) list='
homeassistant==2026.2.3
home-assistant-frontend==20260128.6  # frontend (CRITICAL)
Pillow==12.0.0                       # image_upload
SQLAlchemy==2.0.41                   # recorder
fnv-hash-fast==1.6.0                 # recorder
cronsim==2.7                         # backup
securetar==2025.2.1                  # backup
aiohasupervisor==0.3.3               # hassio (after_dependency of backup)
ifaddr==0.2.0                        # network
psutil-home-assistant==0.0.1         # hardware, recorder
pyotp==2.9.0                         # auth mfa_modules/totp
PyQRCode==1.2.1                      # auth mfa_modules/totp
paho-mqtt==2.1.0                     # mqtt
' ;;
    *) return 1 ;;
  esac
  sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' <<<"$list"
}

log() { printf '[setup-ha] %s\n' "$*"; }
now() { date +%s; }

warn_or_fail() {
  {
    echo
    echo "######################################################################"
    echo "#  WARNING: Home Assistant Core test environment NOT ready ($1)"
    echo "#  $2"
    echo "#  Integration tests against that Home Assistant will be SKIPPED."
    echo "#  Fix it, then run:  npm run setup:ha"
    echo "######################################################################"
    echo
  } >&2
  if [[ "${CI:-}" == "true" ]]; then
    echo "[setup-ha] CI=true: failing instead of skipping." >&2
    exit 1
  fi
}

lock_file() { echo "$SCRIPT_DIR/ha-requirements-$1.txt"; }
venv_dir() { echo "$CACHE/ha-$1-py$PY_SERIES"; }
lock_sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- find Python 3.13 (>= 3.13.2: HA 2025.5+ needs it) ----------------------------------------------
python_ok() {
  [[ -x "$1" ]] && "$1" -c "import sys, venv, ensurepip, ssl, sqlite3, ctypes
sys.exit(0 if sys.version_info[:2] == (3, 13) and sys.version_info >= (3, 13, 2) else 1)" 2>/dev/null
}

find_python() {
  local cand root=""
  if [[ -n "${EB_PYTHON:-}" ]]; then
    if python_ok "$EB_PYTHON"; then echo "$EB_PYTHON"; return 0; fi
    log "EB_PYTHON=$EB_PYTHON is not a usable Python $PY_SERIES (>= 3.13.2, with ssl, sqlite3, ctypes)" >&2
    return 1
  fi
  if command -v apt-get >/dev/null 2>&1; then
    if cand="$(bash "$SCRIPT_DIR/build-python.sh")" && python_ok "$cand"; then echo "$cand"; return 0; fi
    log "building Python 3.13.5 from Debian's source package failed; looking for another Python $PY_SERIES" >&2
  fi
  if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root 2>/dev/null || true)"; fi
  [[ -n "$root" ]] || root="${PYENV_ROOT:-$HOME/.pyenv}"
  if [[ -d "$root/versions" ]]; then
    while IFS= read -r cand; do
      if python_ok "$cand"; then echo "$cand"; return 0; fi
    done < <(ls -d "$root"/versions/"$PY_SERIES".*/bin/python 2>/dev/null | sort -rV)
  fi
  cand="$(command -v "python$PY_SERIES" 2>/dev/null || true)"
  if [[ -n "$cand" ]] && python_ok "$cand"; then echo "$cand"; return 0; fi
  return 1
}

py_version() { "$1" -c 'import sys; print(sys.version.split()[0])'; }

# Runs pip with its output minus the per-package warning this machine's optional local indexes
# cause, preserving pip's exit status.
pip_run() {
  local status=0
  set +e
  "$@" > >(grep -v "is ignored: it is neither a file nor a directory") 2>&1
  status=$?
  set -e
  return $status
}

# Download the HA wheel into $4 (kept: the install then takes it from there instead of downloading
# it twice) and extract its homeassistant/package_constraints.txt (works before HA is installed).
fetch_constraints() {
  local py="$1" ver="$2" out="$3" dir="$4"
  pip_run "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$dir" "homeassistant==$ver"
  "$py" - "$dir" "$out" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/homeassistant-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2], "wb") as f:
    f.write(z.read("homeassistant/package_constraints.txt"))
PY
}

# --- arguments ----------------------------------------------------------------------------------------
RELOCK=0
if [[ "${1:-}" == "--relock" ]]; then RELOCK=1; shift; fi
VERSIONS=("$@")
[[ ${#VERSIONS[@]} -gt 0 ]] || VERSIONS=("${ALL_VERSIONS[@]}")
for v in "${VERSIONS[@]}"; do
  top_level "$v" >/dev/null || { echo "unknown Home Assistant version '$v' (known: ${ALL_VERSIONS[*]})" >&2; exit 2; }
done

# --- --relock: regenerate the pinned lock files ---------------------------------------------------------
if [[ $RELOCK -eq 1 ]]; then
  PY="$(find_python)" || { echo "no Python $PY_SERIES found" >&2; exit 1; }
  for v in "${VERSIONS[@]}"; do
    WORK="$(mktemp -d)"
    LOCK="$(lock_file "$v")"
    log "relock $v: fresh venv in $WORK with $PY ($(py_version "$PY"))"
    "$PY" -m venv "$WORK/venv"
    fetch_constraints "$WORK/venv/bin/python" "$v" "$WORK/constraints.txt" "$WORK/wheels"
    top_level "$v" >"$WORK/top.txt"
    pip_run "$WORK/venv/bin/python" -m pip install --quiet --find-links "$WORK/wheels" -r "$WORK/top.txt" -c "$WORK/constraints.txt"
    "$WORK/venv/bin/python" -m pip check
    {
      echo "# Pinned Python environment for the Home Assistant Core $v test harness (Python $PY_SERIES)."
      echo "# GENERATED by 'bash scripts/setup-ha.sh --relock $v' from top_level() in scripts/setup-ha.sh, resolved"
      echo "# with HA's homeassistant/package_constraints.txt as constraints. Installed by scripts/setup-ha.sh."
      "$WORK/venv/bin/python" -m pip freeze --all --exclude pip --exclude setuptools --exclude wheel
    } >"$LOCK"
    rm -rf "$WORK"
    log "wrote $LOCK ($(grep -vc '^#' "$LOCK") packages)"
  done
  exit 0
fi

# --- fast path: everything already installed ---------------------------------------------------------
marker_ok() { # version venv lock → 0 when the venv's marker matches the lock (any Python)
  local m="$2/.energy-bridge-ready"
  [[ -f "$m" && -x "$2/bin/hass" ]] || return 1
  local got
  got="$(cat "$m")"
  [[ "$got" == "homeassistant==$1 "* && "$got" == *" lock-sha256=$(lock_sha "$3")" ]]
}

TODO=()
for v in "${VERSIONS[@]}"; do
  LOCK="$(lock_file "$v")"
  [[ -f "$LOCK" ]] || { echo "missing $LOCK" >&2; exit 1; }
  if marker_ok "$v" "$(venv_dir "$v")" "$LOCK"; then
    log "Home Assistant $v ready in $(venv_dir "$v")"
  else
    TODO+=("$v")
  fi
done
[[ ${#TODO[@]} -gt 0 ]] || exit 0

mkdir -p "$CACHE"
T0=$(now)
if ! PY="$(find_python)"; then
  warn_or_fail "${TODO[*]}" "No Python $PY_SERIES >= 3.13.2 found (tried \$EB_PYTHON, a build from Debian's python3.13 source package, \$(pyenv root)/versions/$PY_SERIES.*/bin/python, python$PY_SERIES on PATH). Install one (e.g. 'pyenv install 3.13.5') or set EB_PYTHON."
  exit 0
fi
PYVER="$(py_version "$PY")"
log "Python: $PY ($PYVER, ready after $(( $(now) - T0 )) s)"

install_one() { # version
  local v="$1" venv lock want t1 status
  venv="$(venv_dir "$v")"
  lock="$(lock_file "$v")"
  want="homeassistant==$v python=$PYVER lock-sha256=$(lock_sha "$lock")"
  # Serialised between concurrent runs.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv.lock"
    if ! flock -n 9; then
      log "another setup-ha run holds $venv.lock; waiting…"
      flock 9
    fi
    if marker_ok "$v" "$venv" "$lock"; then log "Home Assistant $v ready in $venv"; return 0; fi
  fi
  t1=$(now)
  if [[ -e "$venv" ]]; then
    log "removing incomplete or outdated venv $venv"
    rm -rf "$venv"
  fi
  rm -rf "$venv.wheels"
  set +e
  (
    set -e
    log "[1/4] creating virtualenv $venv"
    "$PY" -m venv "$venv"
    log "[2/4] fetching HA $v package_constraints.txt"
    fetch_constraints "$venv/bin/python" "$v" "$venv/package_constraints.txt" "$venv.wheels"
    log "[3/4] installing $(grep -vc '^#' "$lock") pinned packages from $(basename "$lock") (a minute or two the first time)…"
    # The lock is complete (pip check below proves it), so no dependency resolution is needed.
    # --no-compile: byte-compiling ~10,000 files took minutes; HA's first start (the harness lets
    # it write bytecode) compiles only what it imports, into the venv.
    pip_run "$venv/bin/python" -m pip install --quiet --no-input --no-deps --no-compile --find-links "$venv.wheels" \
      -r "$lock" -c "$venv/package_constraints.txt"
    rm -rf "$venv.wheels"
    log "[4/4] verifying"
    "$venv/bin/python" -m pip check
    got="$("$venv/bin/hass" --version)"
    [[ "$got" == "$v" ]] || { echo "hass --version says '$got', expected $v" >&2; exit 1; }
    "$venv/bin/python" -c "import hass_frontend, sqlalchemy, fnv_hash_fast, securetar, cronsim, PIL, pyotp, pyqrcode, paho.mqtt.client"
  )
  status=$?
  set -e
  if [[ $status -ne 0 ]]; then
    rm -rf "$venv" "$venv.wheels"
    warn_or_fail "$v" "Installing Home Assistant $v into $venv failed (see the pip output above; PyPI must be reachable)."
    return 0
  fi
  echo "$want" >"$venv/.energy-bridge-ready"
  log "done in $(( $(now) - t1 )) s: Home Assistant $v ready in $venv"
}

# The releases install side by side (mostly downloads and unpacking), each log line prefixed.
PIDS=()
for v in "${TODO[@]}"; do
  ( install_one "$v" ) > >(sed -u "s/^/[$v] /") 2>&1 &
  PIDS+=($!)
done
FAILED=0
for pid in "${PIDS[@]}"; do wait "$pid" || FAILED=1; done
sleep 0.2 # let the log prefixers flush
[[ $FAILED -eq 0 ]] || { echo "[setup-ha] an install failed (CI=true)" >&2; exit 1; }
log "setup finished in $(( $(now) - T0 )) s"
