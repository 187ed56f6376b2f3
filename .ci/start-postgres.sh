#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for the PostgreSQL run
# of the test suite (the same tests as on SQLite, one database per test).
#
# Usage (as root):   PG_ENV=$(.ci/start-postgres.sh) && eval "$PG_ENV"
#   PGPORT=55432        port (environment); the next free one if it is taken
#   PG_DIR=...          working folder (default /tmp/tillsync-postgres): data, log, socket
#
# Installs Debian's postgresql if missing, runs initdb as the postgres user
# (PostgreSQL refuses root) with password authentication over TCP (so a
# wrong password is refused, as in production) and the C locale, starts the
# server, waits until it answers a query and prints on stdout:
#   export TILLSYNC_TEST_PG_URL=postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres
# Everything else goes to stderr. On any failure it names the step, prints
# what the step and the server said, and exits non-zero with nothing on
# stdout. Running it again starts a fresh cluster.
# The server gets no copy of the stdout descriptor (3>&-): a daemon holding
# it would keep "$(...)" waiting for ever.
# Stop it with: su postgres -c "pg_ctl -D $PG_DIR/data stop"
set -Eeuo pipefail

PORT="${PGPORT:-55432}"
DIR="${PG_DIR:-/tmp/tillsync-postgres}"
PASSWORD=tillsync-ci

log() { echo "start-postgres: $*" >&2; }
exec 3>&1 1>&2

STEP="checking the user"
on_error() {
    local rc=$?
    log "FAILED while $STEP (exit code $rc)"
    if [ -f "$DIR/log" ]; then
        log "server log ($DIR/log), last lines:"
        tail -n 40 "$DIR/log" >&2 || true
    fi
    log "disk: $(df -h "$(dirname "$DIR")" 2>/dev/null | tail -1 || true)"
    exit "$rc"
}
trap on_error ERR

if [ "$(id -u)" -ne 0 ]; then
    log "must run as root (installs a package, runs as the postgres user)"
    exit 1
fi

find_bin() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
            echo "$d"
            return 0
        fi
    done
    return 0
}

BIN=$(find_bin)
if [ -z "$BIN" ]; then
    STEP="installing postgresql with apt-get"
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    # A mirror can fail once; try twice before giving up.
    apt-get update -qq || { sleep 5; apt-get update -qq; }
    apt-get install -y -qq postgresql >/dev/null \
        || { sleep 5; apt-get install -y -qq postgresql >/dev/null; }
    BIN=$(find_bin)
fi
STEP="finding initdb and postgres"
[ -n "$BIN" ] || { log "no /usr/lib/postgresql/*/bin holds initdb and postgres"; false; }
id postgres >/dev/null

# Commands run as the postgres user: su where it works, runuser or setpriv
# where a container's PAM refuses su. Chosen once, with a command that
# cannot fail on its own.
STEP="finding a way to run commands as the postgres user"
if su postgres -s /bin/sh -c true; then
    as_postgres() { su postgres -s /bin/sh -c "$1"; }
elif command -v runuser >/dev/null && runuser -u postgres -- /bin/sh -c true; then
    log "su postgres fails here; using runuser"
    as_postgres() { runuser -u postgres -- /bin/sh -c "$1"; }
else
    log "su postgres and runuser fail here; using setpriv"
    setpriv --reuid=postgres --regid=postgres --init-groups /bin/sh -c true
    as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups /bin/sh -c "$1"; }
fi

STEP="stopping an earlier cluster in $DIR"
if [ -f "$DIR/data/postmaster.pid" ]; then
    as_postgres "cd / && $BIN/pg_ctl -D $DIR/data -m immediate stop" || true
fi
rm -rf "$DIR"
mkdir -p "$DIR"
echo "$PASSWORD" > "$DIR/pwfile"
chown -R postgres:postgres "$DIR"
# The postgres user must reach $DIR through its parents.
chmod 755 "$DIR"

STEP="running initdb"
as_postgres "cd / && $BIN/initdb -D $DIR/data -U postgres --pwfile=$DIR/pwfile \
    --auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8 --no-sync" >/dev/null

STEP="finding a free port from $PORT"
# Something else may hold the port on a shared machine: take the next free one.
for _ in $(seq 1 20); do
    if (exec 4<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        log "port $PORT is taken; trying $((PORT + 1))"
        PORT=$((PORT + 1))
    else
        break
    fi
done

STEP="starting the server on 127.0.0.1:$PORT"
as_postgres "cd / && $BIN/pg_ctl -D $DIR/data -l $DIR/log -w -t 120 \
    -o '-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=300 -c fsync=off' start" 3>&-

STEP="asking the server for its version over TCP with the password"
version=$(PGPASSWORD="$PASSWORD" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
    -Atc 'show server_version' </dev/null)
log "PostgreSQL $version on 127.0.0.1:$PORT"
echo "export TILLSYNC_TEST_PG_URL=postgres://postgres:$PASSWORD@127.0.0.1:$PORT/postgres" >&3
