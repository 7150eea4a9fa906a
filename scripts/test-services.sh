#!/usr/bin/env bash
# Start the services the test suite needs and print their settings as KEY=value lines.
# On a developer's machine a missing service is left out (its tests skip, saying why);
# under CI (CI=true) it is installed from Debian's packages first.
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq >&2; apt_updated=yes; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# Chromium renders the generated documents to PDF (and drives the browser tests).
if ! command -v chromium >/dev/null 2>&1 && [ "${CI:-}" = "true" ] && [ "$(id -u)" = 0 ]; then
  echo "installing Chromium from Debian packages" >&2
  apt_install chromium || echo "Chromium could not be installed: PDF tests will be skipped" >&2
fi

PGBIN=$(pg_bin)
if [ -z "$PGBIN" ] && [ "${CI:-}" = "true" ] && [ "$(id -u)" = 0 ]; then
  echo "installing PostgreSQL from Debian packages" >&2
  apt_install postgresql
  PGBIN=$(pg_bin)
fi

if [ -n "$PGBIN" ]; then
  PORT=${TEAMLENS_TEST_PG_PORT:-54329}
  PGDATA=${TMPDIR:-/tmp}/teamlens-test-pg
  as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    rm -rf "$PGDATA" && mkdir -p "$PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
    as_owner "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
    as_owner "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
      -o "-p $PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  fi
  echo "TEAMLENS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
  echo "PostgreSQL ready on 127.0.0.1:$PORT" >&2
else
  echo "PostgreSQL not installed: its tests will be skipped" >&2
fi
