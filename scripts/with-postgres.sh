#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server, then remove the server.
#
#   scripts/with-postgres.sh .venv/bin/pytest tests/integration
#
# The server lives in a new temporary folder: its data, its log and its unix socket. It
# listens on 127.0.0.1 only, on a free port, and trusts local connections (nothing else
# can reach it and it holds only test data). The command runs with
# SAFECLASS_DATABASE_URL pointing at it. When the command ends — passed, failed or
# interrupted — the server is stopped and the folder removed, and this script exits with
# the command's exit status.
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
# (created by the Debian package) or, failing that, `nobody`.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

say() { printf '==> %s\n' "$*" >&2; }

pg_bin="${SAFECLASS_PG_BIN:-}"
if [ -z "$pg_bin" ]; then
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
fi
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    echo "error: PostgreSQL's programs (initdb, pg_ctl) were not found in" \
         "/usr/lib/postgresql/*/bin. Run scripts/install.sh first, or set SAFECLASS_PG_BIN." >&2
    exit 1
fi

run_as=()
if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then pg_user=postgres; else pg_user=nobody; fi
    run_as=(runuser -u "$pg_user" --)
fi

# As root the server runs as another user, who must be able to reach the folder: use /tmp.
if [ ${#run_as[@]} -eq 0 ]; then tmp_root="${TMPDIR:-/tmp}"; else tmp_root=/tmp; fi
workdir="$(mktemp -d "$tmp_root/safeclass-pg.XXXXXX")"
data="$workdir/data"
log="$workdir/server.log"
[ ${#run_as[@]} -eq 0 ] || chown "$pg_user" "$workdir"

stopped=""
stop_server() {
    [ -z "$stopped" ] || return 0
    stopped=1
    if [ -f "$data/postmaster.pid" ]; then
        say "Stopping the throwaway PostgreSQL server."
        if ! "${run_as[@]}" "$pg_bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1; then
            # It would not stop in time: end it for sure so nothing is left running.
            pid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)"
            [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$workdir"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

say "Starting a throwaway PostgreSQL server ($("$pg_bin/postgres" --version)) in $workdir."
"${run_as[@]}" "$pg_bin/initdb" -D "$data" -U safeclass --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 --no-sync >"$workdir/initdb.log" 2>&1 \
    || { cat "$workdir/initdb.log" >&2; exit 1; }

# Durability is pointless for a database thrown away in a minute: skip the disk syncs.
started=""
for _attempt in 1 2 3; do
    port="$(free_port)"
    if "${run_as[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start -o \
            "-p $port -k $workdir -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
            >/dev/null 2>&1; then
        started=1
        break
    fi
    # Most likely another program took the port between choosing and binding it.
    say "PostgreSQL did not start on port $port; trying another port."
done
if [ -z "$started" ]; then
    echo "error: the throwaway PostgreSQL server did not start. Its log:" >&2
    cat "$log" >&2 || true
    exit 1
fi
"${run_as[@]}" "$pg_bin/createdb" -h "$workdir" -p "$port" -U safeclass safeclass

export SAFECLASS_DATABASE_URL="postgres://safeclass@127.0.0.1:$port/safeclass"
say "PostgreSQL is ready on 127.0.0.1:$port. Running: $*"
status=0
"$@" || status=$?
exit "$status"
