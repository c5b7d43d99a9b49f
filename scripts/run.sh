#!/usr/bin/env bash
# Start SafeClass on this machine for trying it out: bring the database up to date, add
# the demo school (if missing), print its logins, start the media server (Janus) in the
# background, and serve the app in the foreground until Ctrl-C, which stops both.
# `make run` installs what is missing first, then calls this.
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

# A live lesson that opens now (any hour), so the live lesson can be tried at once. Set
# SAFECLASS_DEMO_LESSON=0 to skip it.
if [ "${SAFECLASS_DEMO_LESSON:-1}" != "0" ]; then
    say "Adding a demo live lesson that opens now (demo_lesson)."
    .venv/bin/python manage.py demo_lesson
    # And one with a single member of staff: recorded from the first pupil admitted.
    say "Adding a demo lesson with one adult, recorded (demo_lesson --one-adult)."
    .venv/bin/python manage.py demo_lesson --one-adult
fi

# --- The media server (Janus) -------------------------------------------------------------
# Janus runs in the background from a configuration rendered into $var_dir/janus (secrets in
# secrets.json, mode 0600, which the app reads too). Its HTTP API listens on 127.0.0.1, where
# the browser reaches it. Janus never offers loopback addresses as ICE candidates, so for a
# browser on this machine we add a private interface (sc-media0, 10.233.0.1/32) and tell
# Janus to use that one only: media then stays on this machine. Without root (or `ip`)
# Janus keeps its default: every interface that is not loopback. See docs/media.md.
var_dir="${SAFECLASS_VAR_DIR:-var}"
janus_dir="$var_dir/janus"
janus_http_port="${SAFECLASS_JANUS_HTTP_PORT:-8088}"
janus_admin_port="${SAFECLASS_JANUS_ADMIN_PORT:-7088}"
media_if="${SAFECLASS_MEDIA_INTERFACE:-sc-media0}"
media_address="${SAFECLASS_MEDIA_ADDRESS:-10.233.0.1}"
media_if_made=""
janus_pid=""
app_pid=""

# The media interface: a dummy interface if the kernel has them, else a veth pair whose
# two ends both stay on this machine. Returns non-zero if it cannot be made.
make_media_interface() {
    [ "$(id -u)" = 0 ] && command -v ip >/dev/null || return 1
    if ! ip link show "$media_if" >/dev/null 2>&1; then
        ip link add "$media_if" type dummy 2>/dev/null \
            || ip link add "$media_if" type veth peer name "${media_if}p" 2>/dev/null \
            || return 1
        media_if_made=1
    fi
    ip link set "${media_if}p" up 2>/dev/null || true
    ip link set "$media_if" up || return 1
    if ! ip -o -4 addr show dev "$media_if" | grep -q " $media_address/"; then
        ip addr add "$media_address/32" dev "$media_if" || return 1
    fi
}

remove_media_interface() {
    if [ -n "$media_if_made" ]; then
        ip link delete "$media_if" 2>/dev/null || true
        media_if_made=""
    fi
}

janus_answers() {
    .venv/bin/python -c '
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=1) as response:
        sys.exit(0 if json.load(response).get("janus") == "server_info" else 1)
except Exception:
    sys.exit(1)
' "$SAFECLASS_JANUS_API_URL/info"
}

on_exit() {
    [ -z "$app_pid" ] || kill "$app_pid" 2>/dev/null || true
    [ -z "$app_pid" ] || wait "$app_pid" 2>/dev/null || true
    # The Janus runner stops Janus itself (SIGTERM, then SIGKILL) when told to stop.
    [ -z "$janus_pid" ] || kill "$janus_pid" 2>/dev/null || true
    [ -z "$janus_pid" ] || wait "$janus_pid" 2>/dev/null || true
    remove_media_interface
    say "SafeClass has stopped."
}
trap on_exit EXIT
trap 'exit 0' INT  # Ctrl-C is the normal way to stop: not an error
trap 'exit 143' TERM

if ! command -v janus >/dev/null; then
    say "Janus is not installed: run scripts/install.sh (Debian package 'janus')." >&2
    exit 1
fi

ice_args=()
if make_media_interface; then
    ice_args=(--ice-enforce-list "$media_if")
    janus_ice="ICE candidates on $media_if ($media_address) only: media stays on this machine"
else
    remove_media_interface
    janus_ice="ICE candidates on every interface but loopback (Janus' default)"
    say "Could not add the $media_if interface (that needs root and 'ip'): $janus_ice."
fi

# The app's view of Janus: the same addresses, secrets file and event user.
export SAFECLASS_JANUS_API_URL="http://$host:$janus_http_port/janus"
export SAFECLASS_JANUS_ADMIN_URL="http://$host:$janus_admin_port/admin"
export SAFECLASS_JANUS_PUBLIC_URL="$SAFECLASS_JANUS_API_URL"
export SAFECLASS_JANUS_SECRETS_FILE="$janus_dir/secrets.json"
export SAFECLASS_JANUS_RECORD_DIR="$var_dir/recordings"
export SAFECLASS_JANUS_EVENT_USER="${SAFECLASS_JANUS_EVENT_USER:-janus}"

say "Starting Janus, the media server, on $SAFECLASS_JANUS_API_URL (log: $janus_dir/janus.out)."
.venv/bin/python -m safeclass.media.process run --config-dir "$janus_dir" \
    --record-dir "$SAFECLASS_JANUS_RECORD_DIR" \
    --bind "$host" --http-port "$janus_http_port" \
    --admin-bind "$host" --admin-port "$janus_admin_port" \
    --cors-origin "$SAFECLASS_BASE_URL" \
    --event-url "http://$host:$port/janus/events/" --event-user "$SAFECLASS_JANUS_EVENT_USER" \
    --start-timeout 20 "${ice_args[@]}" &
janus_pid=$!
for _ in $(seq 100); do
    janus_answers && break
    if ! kill -0 "$janus_pid" 2>/dev/null; then
        janus_pid=""
        say "Janus did not start (see $janus_dir/janus.out)." >&2
        exit 1
    fi
    sleep 0.2
done
if ! janus_answers; then
    say "Janus did not answer $SAFECLASS_JANUS_API_URL/info within 20 s." >&2
    exit 1
fi

say "Starting SafeClass on $SAFECLASS_BASE_URL/ (press Ctrl-C to stop)."
echo "    Sign in:      $SAFECLASS_BASE_URL/account/login/"
echo "    Health check: $SAFECLASS_BASE_URL/healthz"
echo "    API (OpenAPI): $SAFECLASS_BASE_URL/api/v1/openapi.json"
echo "    Janus:        $SAFECLASS_JANUS_PUBLIC_URL/info ($janus_ice)"
echo "    Emails to parents and staff are printed here (console email backend)."
.venv/bin/uvicorn safeclass.asgi:application --host "$host" --port "$port" \
    --no-server-header --lifespan off &
app_pid=$!
wait "$app_pid"
