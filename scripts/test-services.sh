#!/usr/bin/env bash
# Start the services the test suite needs and print their settings as KEY=value lines; stop them.
#
#   bash scripts/test-services.sh [start] > .test-services.env   # start, print the settings
#   set -a; . ./.test-services.env; bash scripts/test-services.sh stop   # stop what start started
#
# PostgreSQL runs on a free port (or TEAMLENS_TEST_PG_PORT, reusing a server already there) with its
# data in a new folder under $TMPDIR, so two checkouts can run the tests at the same time.
# On a developer's machine a missing service is left out (its tests skip, saying why);
# under CI (CI=true) it is installed from Debian's packages first.
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "${1:-start}" = stop ]; then
  # Stops only the server `start` started (its folder is in the settings it printed).
  if [ -n "${TEAMLENS_TEST_PGDATA:-}" ] && [ -d "$TEAMLENS_TEST_PGDATA" ]; then
    as_owner "$(pg_bin)/pg_ctl" -D "$TEAMLENS_TEST_PGDATA" stop -m fast >/dev/null || true
    rm -rf "$TEAMLENS_TEST_PGDATA"
    echo "PostgreSQL stopped" >&2
  fi
  exit 0
fi

# `make test` installs what the tests need from Debian's packages when it runs as root with apt
# (a fresh machine, CI); TEAMLENS_TEST_NO_INSTALL=1 turns that off, and the tests that need a missing
# service then skip, saying which.
can_install() {
  [ "${TEAMLENS_TEST_NO_INSTALL:-}" != "1" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq >&2; apt_updated=yes; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# Chromium renders the generated documents to PDF (and drives the browser tests).
if ! command -v chromium >/dev/null 2>&1 && can_install; then
  echo "installing Chromium from Debian packages" >&2
  apt_install chromium || echo "Chromium could not be installed: PDF tests will be skipped" >&2
fi

# Java runs the local Spark of the Spark backend's tests (pyspark 4 needs Java 17 or later).
if ! command -v java >/dev/null 2>&1 && can_install; then
  echo "installing Java from Debian packages" >&2
  apt_install default-jre-headless || apt_install openjdk-17-jre-headless \
    || echo "Java could not be installed: Spark tests will be skipped" >&2
fi

PGBIN=$(pg_bin)
if [ -z "$PGBIN" ] && can_install; then
  echo "installing PostgreSQL from Debian packages" >&2
  apt_install postgresql
  PGBIN=$(pg_bin)
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [ -n "$PGBIN" ]; then
  PORT=${TEAMLENS_TEST_PG_PORT:-$(free_port)}
  if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    PGDATA=$(mktemp -d "${TMPDIR:-/tmp}/teamlens-test-pg.XXXXXX")
    [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
    as_owner "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
    as_owner "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
      -o "-p $PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    echo "TEAMLENS_TEST_PGDATA=$PGDATA"
  fi
  echo "TEAMLENS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
  echo "PostgreSQL ready on 127.0.0.1:$PORT" >&2
else
  echo "PostgreSQL not installed: its tests will be skipped" >&2
fi
