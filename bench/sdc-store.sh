#!/bin/sh
# bench/sdc-store.sh: PostgreSQL's CPU per stored report (its backend's utime + stime),
# the writer's, and the WAL written per report, a statement per report against a
# statement per group, in turn on one connection to a throw-away cluster (as nobody when
# root, Unix socket only); then SQLite's writer (the same groups, CPU of this process,
# kernel time for the WAL writes and fsyncs included). The database side of bench/sdc.sh
# without HTTP and TLS (bench/sdc-store.c says more).
#
#   bench/sdc-store.sh [BUILDDIR]   (default: _build; ROUNDS=8 GROUPS=300 GROUP_SIZE=14;
#   GROUPS is special in bash: set it with env GROUPS=N)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/_build}" && pwd)
ROUNDS=${ROUNDS:-8}
GROUPS=${GROUPS:-300}
GROUP_SIZE=${GROUP_SIZE:-14}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bindir" ] || { echo "bench/sdc-store.sh: PostgreSQL not installed" >&2; exit 1; }
[ -f "$build/sdc/.libs/libesa-sdc.a" ] || { echo "bench/sdc-store.sh: $build not built" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/esa-sdc-store-bench.XXXXXX")
pg=""
cleanup () {
  [ -n "$pg" ] && kill "$pg" 2>/dev/null && wait "$pg" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

flags=$(sed -n 's/^\(SOUP\|GNUTLS\|LIBPQ\|JSON\|GLIB\)_CFLAGS = //p' "$build/Makefile" | tr '\n' ' ')
libs=$(sed -n 's/^\(SOUP\|GNUTLS\|SQLITE\|LIBPQ\|JSON\|GLIB\)_LIBS = //p' "$build/Makefile" | tr '\n' ' ')
# shellcheck disable=SC2086
cc -O2 -I"$build" -I"$top/sdc" -I"$top/protocol" -I"$top/core" $flags -o "$work/sdc-store" "$top/bench/sdc-store.c" \
  "$build/sdc/.libs/libesa-sdc.a" "$build/protocol/.libs/libesa-protocol.a" $libs

mkdir -p "$work/pg/sock"
run=""
if [ "$(id -u)" -eq 0 ]; then
  chown -R nobody:nogroup "$work/pg"; chmod 711 "$work" "$work/pg" "$work/pg/sock"
  run="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
fi
$run "$bindir/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 >/dev/null
$run "$bindir/postgres" -D "$work/pg/data" -c listen_addresses= -k "$work/pg/sock" >"$work/pg.log" 2>&1 &
pg=$!
for i in $(seq 100); do [ -S "$work/pg/sock/.s.PGSQL.5432" ] && break; sleep 0.1; done
sleep 0.5
"$bindir/psql" -q -h "$work/pg/sock" -U postgres -c 'CREATE DATABASE sdc' >/dev/null
echo "esa-sdc store bench: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}'), $ROUNDS rounds of" \
     "$GROUPS groups of $GROUP_SIZE reports each way, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/sdc-store" "postgresql:///sdc?host=$work/pg/sock&user=postgres" "$(head -1 "$work/pg/data/postmaster.pid")" \
  "$ROUNDS" "$GROUPS" "$GROUP_SIZE"
echo "SQLite (synchronous=FULL, WAL), the same groups:"
SDC_BENCH_GROUP_ONLY=1 "$work/sdc-store" "$work/sdc.db" 0 "$ROUNDS" "$GROUPS" "$GROUP_SIZE" |
  sed -n '/per group/{s/backend *0.0 us\/report, //; s/, WAL .*//; p}'
