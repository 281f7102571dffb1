#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# THE test command: bash packaging/test.sh [ctest args...]   (e.g. -L unit, -R sipp.caller_bye)
#
# Installs missing Debian packages (packaging/install-deps.sh), configures and builds into
# build/ (override with BUILD_DIR), starts a throwaway PostgreSQL 15 cluster (unless
# SS_TEST_PG_URL is already set), exports SS_TEST_PG_URL and runs ctest. The cluster is always
# stopped and removed again, by its own pg_ctl. Exit status is ctest's.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
build="$(bash packaging/build.sh | tail -n 1)"

pg_tmp=""
pg_data=""
as_pg=()

stop_cluster() {
    if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
        "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "$pg_tmp" ]; then
        rm -rf "$pg_tmp"
    fi
}

if [ -z "${SS_TEST_PG_URL:-}" ]; then
    pgbin=/usr/lib/postgresql/15/bin
    [ -x "$pgbin/initdb" ] || { echo "test.sh: $pgbin/initdb missing (postgresql-15)" >&2; exit 1; }
    pg_tmp="$(mktemp -d /tmp/softswitch-test-pg.XXXXXX)"
    trap stop_cluster EXIT
    chmod 0755 "$pg_tmp"  # traversable by the postgres user
    pg_data="$pg_tmp/data"
    if [ "$(id -u)" -eq 0 ]; then
        # PostgreSQL refuses to run as root: run the cluster as the postgres OS user.
        chown postgres:postgres "$pg_tmp"
        as_pg=(runuser -u postgres --)
    fi
    pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "${as_pg[@]}" "$pgbin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --no-locale \
        >"$pg_tmp/initdb.log" 2>&1 || { cat "$pg_tmp/initdb.log" >&2; exit 1; }
    if ! "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pg_data" -l "$pg_tmp/postgres.log" -w -t 60 \
            -o "-p $pg_port -k $pg_tmp -c listen_addresses=127.0.0.1 -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null; then
        echo "test.sh: PostgreSQL did not start:" >&2
        cat "$pg_tmp/postgres.log" >&2 || true
        exit 1
    fi
    export SS_TEST_PG_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
    echo "test.sh: throwaway PostgreSQL 15 at $SS_TEST_PG_URL (data in $pg_data)"
else
    echo "test.sh: using the PostgreSQL cluster at SS_TEST_PG_URL"
fi

rc=0
ctest --test-dir "$build" --output-on-failure -j2 "$@" || rc=$?
exit "$rc"
