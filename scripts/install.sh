#!/usr/bin/env bash
# Install what SafeClass needs on a Debian 12 (or Ubuntu) machine, and nothing that is
# already there. Safe to run again: when everything is present it only checks and says so.
#
#   1. Debian packages: Janus and its browser library, Chromium (for the browser tests),
#      ffmpeg (recordings), PostgreSQL (its binaries: the tests start a throwaway server),
#      Redis, iproute2 (network namespaces for the Janus tests), fonts, CA certificates,
#      and Node.js and npm if missing.
#   2. A Python virtual environment in .venv with SafeClass and its test tools, reinstalled
#      only when pyproject.toml has changed since the last install.
#   3. axe-core (accessibility checks in the browser tests) from npm into node_modules,
#      reinstalled only when package.json or package-lock.json has changed.
#   4. The translations (Welsh): each .po catalogue compiled to its .mo (Debian's gettext),
#      only when the .po is newer. The .mo files are not committed.
#
# Runs as root, or as a user who may use sudo.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"

say() { printf '==> %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
else
    SUDO=(sudo)
fi

# --- 1. Debian packages ------------------------------------------------------------------

DEBIAN_PACKAGES=(
    janus janus-tools libjs-janus-gateway libjs-webrtc-adapter
    chromium chromium-driver ffmpeg postgresql redis-server iproute2 fonts-dejavu-core
    ca-certificates gettext
)
# Python 3.11+ with venv support: Debian's python3 lacks venv until python3-venv is added.
if ! command -v python3 >/dev/null 2>&1 \
        || ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    DEBIAN_PACKAGES+=(python3 python3-venv)
elif [ ! -x .venv/bin/python ] && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    DEBIAN_PACKAGES+=(python3-venv)
fi
# Node.js and npm only if missing (a newer Node from elsewhere is fine).
command -v node >/dev/null 2>&1 || DEBIAN_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || DEBIAN_PACKAGES+=(npm)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
    say "Debian packages: all present."
else
    say "Installing Debian packages: ${missing[*]}"
    # SafeClass starts its own PostgreSQL (tests), Redis and Janus when it needs them, so
    # stop the packages from starting system-wide services while they install. Docker-style
    # machines already have this guard; elsewhere put it in place just for this install.
    guard_added=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${SUDO[@]}" chmod +x /usr/sbin/policy-rc.d
        guard_added=1
    fi
    remove_guard() { [ -z "$guard_added" ] || "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; }
    trap remove_guard EXIT
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    remove_guard
    trap - EXIT
fi

# --- 2. Python virtual environment -------------------------------------------------------

if [ ! -x .venv/bin/python ]; then
    say "Creating the Python virtual environment in .venv ($(python3 --version))."
    python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "error: .venv uses $(.venv/bin/python --version 2>&1); SafeClass needs Python 3.11" \
         "or newer. Remove .venv and run this again." >&2
    exit 1
fi

stamp=.venv/.safeclass-installed
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    say "Python packages: up to date with pyproject.toml."
else
    say "Installing SafeClass and its test tools into .venv (pyproject.toml is new or changed)."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
    echo "$wanted" > "$stamp"
fi

# --- 3. axe-core from npm ----------------------------------------------------------------

npm_files_hash() {
    local files=(package.json)
    [ ! -f package-lock.json ] || files+=(package-lock.json)
    cat "${files[@]}" | sha256sum | cut -d' ' -f1
}
npm_stamp=node_modules/.safeclass-installed
npm_wanted="$(npm_files_hash)"
if [ -f "$npm_stamp" ] && [ "$(cat "$npm_stamp")" = "$npm_wanted" ] \
        && [ -f node_modules/axe-core/axe.min.js ]; then
    say "npm packages (axe-core): up to date with package.json."
else
    say "Installing axe-core from npm into node_modules (package.json is new or changed)."
    if [ -f package-lock.json ]; then
        npm ci --no-audit --no-fund --loglevel=error
    else
        npm install --no-audit --no-fund --loglevel=error
    fi
    # Hash again: a first "npm install" writes package-lock.json.
    npm_files_hash > "$npm_stamp"
fi

# --- 4. Translations -----------------------------------------------------------------------

stale_catalogues=()
for po in safeclass/locale/*/LC_MESSAGES/*.po; do
    [ -e "$po" ] || continue
    [ "${po%.po}.mo" -nt "$po" ] || stale_catalogues+=("$po")
done
if [ ${#stale_catalogues[@]} -eq 0 ]; then
    say "Translations: compiled and up to date."
else
    say "Compiling translations: ${stale_catalogues[*]}"
    (cd safeclass && ../.venv/bin/python ../manage.py compilemessages --verbosity 0)
fi

say "Everything SafeClass needs is installed (in $ROOT)."
