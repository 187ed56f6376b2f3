#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for the PostgreSQL run
# of the test suite (the same tests as on SQLite, one database per test).
#
# Usage (as root):   eval "$(.ci/start-postgres.sh)"
#   PGPORT=55432        port (environment)
#   PG_DIR=...          working folder (default /tmp/tillsync-postgres): data, log, socket
#
# Installs Debian's postgresql if missing, runs initdb as the postgres user
# (PostgreSQL refuses root) with password authentication over TCP (so a
# wrong password is refused, as in production) and the C locale, starts the
# server, waits for it and prints on stdout:
#   export TILLSYNC_TEST_PG_URL=postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres
# Everything else goes to stderr. Running it again starts a fresh cluster.
# The server gets no copy of the stdout descriptor (3>&-): a daemon holding
# it would keep "$(...)" waiting for ever.
# Stop it with: su postgres -c "pg_ctl -D $PG_DIR/data stop"
set -euo pipefail

PORT="${PGPORT:-55432}"
DIR="${PG_DIR:-/tmp/tillsync-postgres}"
PASSWORD=tillsync-ci

log() { echo "start-postgres: $*" >&2; }
exec 3>&1 1>&2

if [ "$(id -u)" -ne 0 ]; then
    log "must run as root (installs a package, runs as the postgres user)"
    exit 1
fi

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql
    BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

if [ -f "$DIR/data/postmaster.pid" ]; then
    su postgres -c "$BIN/pg_ctl -D $DIR/data -m immediate stop" || true
fi
rm -rf "$DIR"
mkdir -p "$DIR"
echo "$PASSWORD" > "$DIR/pwfile"
chown -R postgres:postgres "$DIR"
su postgres -c "$BIN/initdb -D $DIR/data -U postgres --pwfile=$DIR/pwfile \
    --auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8 --no-sync" >/dev/null
su postgres -c "$BIN/pg_ctl -D $DIR/data -l $DIR/log -w \
    -o '-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=300 -c fsync=off' start" 3>&-
log "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
echo "export TILLSYNC_TEST_PG_URL=postgres://postgres:$PASSWORD@127.0.0.1:$PORT/postgres" >&3
