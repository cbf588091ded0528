#!/usr/bin/env bash
# Energy Bridge — install a pinned Home Assistant Core for the integration tests.
#
#   bash scripts/setup-ha.sh            create/verify the cached virtualenv (instant when done)
#   bash scripts/setup-ha.sh --relock   re-resolve scripts/ha-requirements.txt from TOP_LEVEL below
#
# The virtualenv lives in ${EB_HA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/energy-bridge/ha-<ver>-py3.13}.
# It holds homeassistant==$HA_VERSION plus every Python requirement of the integrations the test
# harness (test/helpers/ha-harness.ts) loads, pinned in scripts/ha-requirements.txt and installed
# against HA's own homeassistant/package_constraints.txt, so HA runs with `--skip-pip` and never
# installs anything (nor touches the network) at startup.
#
# Python 3.13 is taken from $EB_PYTHON, else $(pyenv root)/versions/3.13.*/bin/python, else
# `python3.13` on PATH. Without a suitable Python, or when the install fails, this prints a loud
# warning and exits 0 (the HA tests then skip) — unless CI=true, where it exits 1.
#
# A marker file written last (.energy-bridge-ready, holding the lock file's sha256) makes re-runs
# instant; a half-finished install has no marker and is rebuilt from scratch on the next run.
set -euo pipefail

HA_VERSION="2025.4.4"
PY_SERIES="3.13"
# Home Assistant 2025.4.x requires Python >= 3.13.0 (2025.5 needs 3.13.2).
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOCK_FILE="$SCRIPT_DIR/ha-requirements.txt"
VENV="${EB_HA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/energy-bridge/ha-${HA_VERSION}-py${PY_SERIES}}"
MARKER="$VENV/.energy-bridge-ready"

# Direct requirements (used by --relock only). Besides HA itself: the requirements of every
# integration the harness's configuration.yaml loads, DEFAULT_INTEGRATIONS and the closure of their
# dependencies/after_dependencies (homeassistant/components/*/manifest.json), plus the TOTP MFA
# module's requirements (HA's auth layer installs them at startup when pip is not skipped).
TOP_LEVEL=(
  "homeassistant==${HA_VERSION}"
  "home-assistant-frontend==20250411.0" # frontend (CRITICAL: recovery mode without it)
  "Pillow==11.1.0"                      # image_upload (dependency of frontend)
  "SQLAlchemy==2.0.39"                  # recorder
  "fnv-hash-fast==1.4.0"                # recorder
  "cronsim==2.6"                        # backup
  "securetar==2025.2.1"                 # backup
  "aiohasupervisor==0.3.0"              # hassio (after_dependency of backup)
  "ifaddr==0.2.0"                       # network
  "psutil-home-assistant==0.0.1"        # hardware
  "pyotp==2.8.0"                        # auth mfa_modules/totp
  "PyQRCode==1.2.1"                     # auth mfa_modules/totp
)

log() { printf '[setup-ha] %s\n' "$*"; }
now() { date +%s; }

warn_or_fail() {
  {
    echo
    echo "######################################################################"
    echo "#  WARNING: Home Assistant Core $HA_VERSION test environment NOT ready"
    echo "#  $1"
    echo "#  Integration tests against a real Home Assistant will be SKIPPED."
    echo "#  Fix it, then run:  npm run setup:ha"
    echo "######################################################################"
    echo
  } >&2
  if [[ "${CI:-}" == "true" ]]; then
    echo "[setup-ha] CI=true: failing instead of skipping." >&2
    exit 1
  fi
  exit 0
}

lock_sha() { sha256sum "$LOCK_FILE" | cut -d' ' -f1; }

# --- find Python 3.13 ------------------------------------------------------------------------
python_ok() { [[ -x "$1" ]] && "$1" -c "import sys, venv, ensurepip; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)" 2>/dev/null; }

find_python() {
  local cand
  if [[ -n "${EB_PYTHON:-}" ]]; then
    if python_ok "$EB_PYTHON"; then echo "$EB_PYTHON"; return 0; fi
    log "EB_PYTHON=$EB_PYTHON is not a usable Python $PY_SERIES" >&2
    return 1
  fi
  local root=""
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

# Extract homeassistant/package_constraints.txt from the HA wheel (works before HA is installed).
fetch_constraints() {
  local py="$1" out="$2" tmp
  tmp="$(mktemp -d)"
  pip_run "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "homeassistant==$HA_VERSION"
  "$py" - "$tmp" "$out" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/homeassistant-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2], "wb") as f:
    f.write(z.read("homeassistant/package_constraints.txt"))
PY
  rm -rf "$tmp"
}

# --- --relock: regenerate the pinned lock file ---------------------------------------------------
if [[ "${1:-}" == "--relock" ]]; then
  PY="$(find_python)" || { echo "no Python $PY_SERIES found" >&2; exit 1; }
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  log "relock: fresh venv in $WORK with $PY"
  "$PY" -m venv "$WORK/venv"
  fetch_constraints "$WORK/venv/bin/python" "$WORK/constraints.txt"
  printf '%s\n' "${TOP_LEVEL[@]}" >"$WORK/top.txt"
  pip_run "$WORK/venv/bin/python" -m pip install --quiet -r "$WORK/top.txt" -c "$WORK/constraints.txt"
  "$WORK/venv/bin/python" -m pip check
  {
    echo "# Pinned Python environment for the Home Assistant Core $HA_VERSION test harness (Python $PY_SERIES)."
    echo "# GENERATED by 'bash scripts/setup-ha.sh --relock' from TOP_LEVEL in scripts/setup-ha.sh, resolved"
    echo "# with HA's homeassistant/package_constraints.txt as constraints. Installed by scripts/setup-ha.sh."
    "$WORK/venv/bin/python" -m pip freeze --all --exclude pip --exclude setuptools --exclude wheel
  } >"$LOCK_FILE"
  log "wrote $LOCK_FILE ($(grep -vc '^#' "$LOCK_FILE") packages)"
  exit 0
fi

# --- fast path ---------------------------------------------------------------------------------
[[ -f "$LOCK_FILE" ]] || { echo "missing $LOCK_FILE" >&2; exit 1; }
WANT="homeassistant==$HA_VERSION lock-sha256=$(lock_sha)"
if [[ -f "$MARKER" && -x "$VENV/bin/hass" && "$(cat "$MARKER")" == "$WANT" ]]; then
  log "Home Assistant $HA_VERSION ready in $VENV"
  exit 0
fi

# --- full install (serialised between concurrent runs) -----------------------------------------
mkdir -p "$(dirname "$VENV")"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$VENV.lock"
  if ! flock -n 9; then
    log "another setup-ha run holds $VENV.lock; waiting…"
    flock 9
  fi
  # The other run may have finished the job.
  if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$WANT" ]]; then
    log "Home Assistant $HA_VERSION ready in $VENV"
    exit 0
  fi
fi

PY="$(find_python)" || warn_or_fail "No Python $PY_SERIES found (tried \$EB_PYTHON, \$(pyenv root)/versions/$PY_SERIES.*/bin/python, python$PY_SERIES on PATH). Install it, e.g. 'pyenv install $PY_SERIES', or set EB_PYTHON."
log "Python: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"

T0=$(now)
if [[ -e "$VENV" ]]; then
  log "removing incomplete or outdated venv $VENV"
  rm -rf "$VENV"
fi

install() {
  log "[1/4] creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
  log "[2/4] fetching HA $HA_VERSION package_constraints.txt"
  fetch_constraints "$VENV/bin/python" "$VENV/package_constraints.txt"
  log "[3/4] installing $(grep -vc '^#' "$LOCK_FILE") pinned packages from $(basename "$LOCK_FILE") (a few minutes the first time)…"
  pip_run "$VENV/bin/python" -m pip install --quiet --no-input -r "$LOCK_FILE" -c "$VENV/package_constraints.txt"
  log "[4/4] verifying"
  "$VENV/bin/python" -m pip check
  local got
  got="$("$VENV/bin/hass" --version)"
  [[ "$got" == "$HA_VERSION" ]] || { echo "hass --version says '$got', expected $HA_VERSION" >&2; return 1; }
  "$VENV/bin/python" -c "import hass_frontend, sqlalchemy, fnv_hash_fast, securetar, cronsim, PIL, pyotp, pyqrcode"
}

set +e
(set -e; install)
STATUS=$?
set -e
if [[ $STATUS -ne 0 ]]; then
  rm -rf "$VENV"
  warn_or_fail "Installing Home Assistant $HA_VERSION into $VENV failed (see the pip output above; PyPI must be reachable)."
fi

echo "$WANT" >"$MARKER"
log "done in $(( $(now) - T0 )) s: Home Assistant $HA_VERSION ready in $VENV"
