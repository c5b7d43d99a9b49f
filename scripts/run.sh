#!/usr/bin/env bash
# Start SafeClass on this machine for trying it out: bring the database up to date, add
# the demo school (if missing), print its logins, and serve the app in the foreground
# until Ctrl-C. `make run` installs what is missing first, then calls this.
#
#   SAFECLASS_PORT=8001 scripts/run.sh      (or: make run PORT=8001)
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

host=127.0.0.1
port="${SAFECLASS_PORT:-8000}"
# Links in emails are built from BASE_URL: keep it in step with the port we serve on.
export SAFECLASS_BASE_URL="${SAFECLASS_BASE_URL:-http://$host:$port}"
export PYTHONUNBUFFERED=1
# Django warns on every static file it serves over ASGI in development; it is harmless here.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore:StreamingHttpResponse must consume synchronous iterators}"

say "Bringing the database up to date (migrate)."
.venv/bin/python manage.py migrate --no-input

say "Adding the demo school if it is missing (seed_demo)."
.venv/bin/python manage.py seed_demo

# --- Media server hook -------------------------------------------------------------------
# JANUS: the live lesson (a later piece of work) needs a Janus server. Start it here, in the
# background, before the app, and stop it in on_exit below. Until then nothing is started.
# ------------------------------------------------------------------------------------------

app_pid=""
on_exit() {
    [ -z "$app_pid" ] || kill "$app_pid" 2>/dev/null || true
    [ -z "$app_pid" ] || wait "$app_pid" 2>/dev/null || true
    # JANUS: stop the media server here.
    say "SafeClass has stopped."
}
trap on_exit EXIT
trap 'exit 0' INT  # Ctrl-C is the normal way to stop: not an error
trap 'exit 143' TERM

say "Starting SafeClass on $SAFECLASS_BASE_URL/ (press Ctrl-C to stop)."
echo "    Sign in:      $SAFECLASS_BASE_URL/account/login/"
echo "    Health check: $SAFECLASS_BASE_URL/healthz"
echo "    API (OpenAPI): $SAFECLASS_BASE_URL/api/v1/openapi.json"
echo "    Emails to parents and staff are printed here (console email backend)."
.venv/bin/uvicorn safeclass.asgi:application --host "$host" --port "$port" \
    --no-server-header --lifespan off &
app_pid=$!
wait "$app_pid"
