#!/bin/sh
# bench/sdc.sh: esa-sdc under a simulated fleet (bench/fleet/: N registered systems,
# C TLS keep-alive connections, heartbeats and every tenth a problem report), on SQLite,
# on PostgreSQL with one instance (default writers: 1 for this local cluster; then
# --db-writers 2) (each with its default HTTPS loops, one per two cores; SQLite also with
# --http-threads 2)
# and with two (load split over both), and nginx
# answering a static 200 on the same certificate (the ceiling) when nginx is installed.
# Loopback only. Prints one table and the ratios. Each connection is its own client
# (one keep-alive TLS connection); measuring starts once all are connected.
#
#   bench/sdc.sh [BUILDDIR]     (default: _build; SYSTEMS=200 CONNS=64 SECONDS=10 ROUNDS=3)
#
# Targets (issue 11): >= 5,000 durable heartbeats/s with p99 <= 50 ms at 64 connections,
# >= 0.1x the nginx ceiling. After the table, ROUNDS paired rounds (SQLite, PostgreSQL
# with one instance and nginx, one right after the other, while all three are up) give
# each round's ratios and their median: on a shared machine a neighbour's burst moves one
# 10 s run by 30 % or more, and a ratio of two runs minutes apart takes in the noise of
# both, while runs seconds apart see the same neighbours.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
sdc=$build/sdc/esa-sdc
[ -x "$sdc" ] || { echo "bench/sdc.sh: $sdc not built" >&2; exit 1; }
SYSTEMS=${SYSTEMS:-200}
CONNS=${CONNS:-64}
SECONDS_=${SECONDS:-10}
ROUNDS=${ROUNDS:-3}

work=$(mktemp -d "${TMPDIR:-/tmp}/esa-sdc-bench.XXXXXX")
pids=""
cleanup () {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cc -O2 -pthread -o "$work/fleet" "$top/bench/fleet/fleet.c" "$top/bench/fleet/client.c" "$top/bench/fleet/http.c" \
  $(pkg-config --cflags --libs libsoup-3.0 json-glib-1.0 gnutls)
"$sdc" init "$work/dir" >/dev/null
echo "bench admin password" | "$sdc" admin-password --dir "$work/dir" >/dev/null

# The web view with 10,000 more systems (10 heartbeats each) in the database: the
# systems list, first and last page, over one keep-alive connection (target <= 200 ms).
# The rows go in with SQL (PBKDF2 for 10,000 registrations would take minutes); the
# same statements for both engines.
UI_SYSTEMS=${UI_SYSTEMS:-10000}
ui_sql () {
  cat <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $UI_SYSTEMS)
INSERT INTO systems (system_id, pw_hash, pw_salt, pw_iterations, vendor, machine_type, model, serial, hostname,
                     os, os_version, is_lpar, registered, last_seen)
SELECT 'ESA-ui' || i, 'x', 'x', 1, 'IBM', '9009', '42A', 'UI' || i, 'lpar' || i, 'AIX', '7.3', (i % 2 = 0),
       '2026-11-26T00:00:00Z', '2026-11-26T01:00:00Z' FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $UI_SYSTEMS * 10 - 1)
INSERT INTO reports (uuid, system_id, kind, plugin, created, received, body, answer)
SELECT 'ui-report-' || i, 'ESA-ui' || (i % $UI_SYSTEMS + 1), 'heartbeat', 'bench', '2026-11-26T01:00:00Z',
       '2026-11-26T01:00:00Z', '{}', '{}' FROM n;
SQL
}
ui_time () { # PORT -> "ui_list_ms p50=… max=… last_page_ms=… systems=…"
  python3 - "$1" "$work/dir/ca.pem" <<'PY'
import http.client, re, ssl, statistics, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=60)
c.request("POST", "/ui/login", "password=bench+admin+password", {"Content-Type": "application/x-www-form-urlencoded"})
r = c.getresponse(); r.read()
cookie = {"Cookie": r.getheader("Set-Cookie").split(";")[0]}
def get(path):
    t = time.perf_counter(); c.request("GET", path, headers=cookie); r = c.getresponse(); body = r.read()
    return (time.perf_counter() - t) * 1000, body.decode()
first = [get("/ui/") for _ in range(20)]
total = int(re.search(r"\((\d+) in all\)", first[0][1]).group(1))
last = [get("/ui/?page=%d" % ((total + 49) // 50))[0] for _ in range(5)]
ms = [t for t, _ in first]
print("ui_list_ms p50=%.1f max=%.1f last_page_p50=%.1f systems=%d" % (statistics.median(ms), max(ms),
      statistics.median(last), total))
PY
}

port () { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port () {
  python3 - "$1" <<'PY'
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

serve () { # PORT [--db URL] -> pid
  p=$1; shift
  "$sdc" serve --dir "$work/dir" --listen "127.0.0.1:$p" "$@" >/dev/null 2>"$work/sdc-$p.log" &
  echo $!
}

row () { # NAME fleet-output
  printf '%-26s %s\n' "$1" "$2"
}

# Half the systems and connections from each of two load-generator processes at once:
# split NAME PORT-A PID-A PORT-B PID-B prints the lines NAME A, NAME B and the total
# (which it also leaves in $total)
split () {
  "$work/fleet" "https://127.0.0.1:$2/" "$work/dir/ca.pem" "$((SYSTEMS / 2))" "$((CONNS / 2))" "$SECONDS_" "$3" >"$work/a.out" &
  a=$!
  "$work/fleet" "https://127.0.0.1:$4/" "$work/dir/ca.pem" "$((SYSTEMS / 2))" "$((CONNS / 2))" "$SECONDS_" "$5" >"$work/b.out"
  wait "$a"
  total=$(awk -F'[= ]' '{s+=$2} END {printf "%.0f", s}' "$work/a.out" "$work/b.out")
  row "$1 A" "$(cat "$work/a.out")"
  row "$1 B" "$(cat "$work/b.out")"
}

echo "esa-sdc fleet bench: $SYSTEMS systems, $CONNS connections, ${SECONDS_} s each, $(nproc) cores, malloc: $("$sdc" --version | sed -n 's/^allocator: //p' | sed 's/-[0-9]*-g[0-9a-f]*//')"
printf '%-26s %s\n' "setup" "result"

# SQLite
p=$(port); pid=$(serve "$p"); pids="$pids $pid"; wait_port "$p"
sqlite=$("$work/fleet" "https://127.0.0.1:$p/" "$work/dir/ca.pem" "$SYSTEMS" "$CONNS" "$SECONDS_" "$pid")
row "sqlite, 1 instance" "$sqlite"
# the same with two HTTPS loops (--http-threads 2; the default is one per two cores)
p1=$(port); pid1=$(serve "$p1" --http-threads 2); pids="$pids $pid1"; wait_port "$p1"
row "sqlite, 2 https loops" "$("$work/fleet" "https://127.0.0.1:$p1/" "$work/dir/ca.pem" "$SYSTEMS" "$CONNS" "$SECONDS_" "$pid1")"
kill "$pid1"
while kill -0 "$pid1" 2>/dev/null; do sleep 0.1; done
# the same load from two load-generator processes (a check that one generator process,
# FLEET_THREADS epoll threads, does not hold the rate down): each line's server_cpu_us
# divides the server's whole CPU by that process's reports only
split "sqlite, 2 generators" "$p" "$pid" "$p" "$pid"
row "sqlite, 2 gen. total" "reports/s=$total"
ui_sql | python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.executescript(sys.stdin.read()); db.commit()' "$work/dir/sdc.db"
row "sqlite, web view" "$(ui_time "$p")"
kill "$pid"
# serve ran in $(...), so esa-sdc is no child of this shell and wait cannot wait for it
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
# the writer thread's group sizes and idle share over the three SQLite runs (esa-sdc logs it at exit)
row "sqlite, writer" "$(sed -n 's/^esa-sdc: writer: //p' "$work/sdc-$p.log")"
# the WAL checkpoints of those runs: passes and database syncs on the checkpoint thread,
# closing copies and checkpoints forced in commits (docs/performance.md, "WAL checkpoints")
row "sqlite, checkpoints" "$(sed -n 's/^esa-sdc: checkpoints: //p' "$work/sdc-$p.log")"

# PostgreSQL: a throw-away cluster (as nobody when root), Unix socket only
pg=""; pg2=""
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -n "$bindir" ]; then
  mkdir -p "$work/pg/sock"
  run=""
  if [ "$(id -u)" -eq 0 ]; then chown -R nobody:nogroup "$work/pg"; chmod 711 "$work" "$work/pg" "$work/pg/sock"; run="setpriv --reuid=nobody --regid=nogroup --clear-groups --"; fi
  $run "$bindir/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 >/dev/null
  $run "$bindir/postgres" -D "$work/pg/data" -c listen_addresses= -k "$work/pg/sock" -c max_connections=100 \
    -c log_autovacuum_min_duration=0 -c log_checkpoints=on >"$work/pg.log" 2>&1 &
  pids="$pids $!"
  for i in $(seq 100); do [ -S "$work/pg/sock/.s.PGSQL.5432" ] && break; sleep 0.1; done
  sleep 0.5
  "$bindir/psql" -q -h "$work/pg/sock" -U postgres -c 'CREATE DATABASE sdc' >/dev/null
  db="postgresql:///sdc?host=$work/pg/sock&user=postgres"
  "$sdc" migrate --db "$db" >/dev/null
  # what PostgreSQL did in the background during each run (an outlier's explanation)
  pg_bg () { echo "$(grep -c 'automatic \(vacuum\|analyze\)' "$work/pg.log") $(grep -c 'checkpoint starting' "$work/pg.log")"; }
  bg0=$(pg_bg)
  p=$(port); pid=$(serve "$p" --db "$db"); pids="$pids $pid"; wait_port "$p"
  # db_cpu_us: the postmaster and its backends, on the same cores
  pg=$(FLEET_DB_PID=$(head -1 "$work/pg/data/postmaster.pid") \
       "$work/fleet" "https://127.0.0.1:$p/" "$work/dir/ca.pem" "$SYSTEMS" "$CONNS" "$SECONDS_" "$pid")
  row "postgresql, 1 instance" "$pg"
  bg1=$(pg_bg)
  # the same with two writer connections (--db-writers 2, the default for a remote database)
  p1=$(port); pid1=$(serve "$p1" --db "$db" --db-writers 2); pids="$pids $pid1"; wait_port "$p1"
  row "postgresql, 2 writers" "$(FLEET_DB_PID=$(head -1 "$work/pg/data/postmaster.pid") \
       "$work/fleet" "https://127.0.0.1:$p1/" "$work/dir/ca.pem" "$SYSTEMS" "$CONNS" "$SECONDS_" "$pid1")"
  bg2=$(pg_bg)
  kill "$pid1"
  while kill -0 "$pid1" 2>/dev/null; do sleep 0.1; done
  row "postgresql, 2 writers, wr." "$(sed -n 's/^esa-sdc: writer: //p' "$work/sdc-$p1.log")"
  ui_sql | "$bindir/psql" -q -h "$work/pg/sock" -U postgres -d sdc >/dev/null
  row "postgresql, web view" "$(ui_time "$p")"
  p2=$(port); pid2=$(serve "$p2" --db "$db"); pids="$pids $pid2"; wait_port "$p2"
  pg_port=$p; pg_pid=$pid
  split "postgresql, 2 instances" "$p" "$pid" "$p2" "$pid2"
  pg2=$total
  row "postgresql, 2 inst. total" "reports/s=$pg2"
  bg3=$(pg_bg)
  row "postgresql, background" "$(echo $bg0 $bg1 $bg2 $bg3 | awk '{printf "autovacuum+analyze / checkpoints: 1 instance %d/%d, 2 writers %d/%d, web view + 2 instances %d/%d", $3-$1, $4-$2, $5-$3, $6-$4, $7-$5, $8-$6}')"
else
  row "postgresql" "skipped: PostgreSQL not installed"
fi

# nginx ceiling: a static 200 on the same certificate (nginx-light installed when missing)
ceiling=""
if ! command -v nginx >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null 2>&1 || true
fi
if command -v nginx >/dev/null 2>&1; then
  p=$(port)
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes auto; pid $work/nginx/pid; error_log $work/nginx/error.log;
events { worker_connections 4096; }
http { access_log off;
  server { listen 127.0.0.1:$p ssl; ssl_certificate $work/dir/server.pem; ssl_certificate_key $work/dir/server-key.pem;
    keepalive_requests 1000000; location / { return 200 '{}'; } } }
CONF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & master=$!; pids="$pids $master"
  wait_port "$p"
  # the CPU of the master and its workers
  npids=$(echo "$master" $(pgrep -P "$master") | tr ' ' ',')
  ceiling=$("$work/fleet" "https://127.0.0.1:$p/" "$work/dir/ca.pem" 0 "$CONNS" "$SECONDS_" "$npids" --static)
  nginx_port=$p
  row "nginx static 200 (ceiling)" "$ceiling"
else
  row "nginx static 200 (ceiling)" "skipped: nginx not installed (apt-get install nginx-light)"
fi

rate () { echo "$1" | sed -n 's/.*reports\/s=\([0-9]*\).*/\1/p'; }
p99 () { echo "$1" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p'; }
ratio () { python3 -c "print(round($1/$2,3))"; } # A B -> A/B to three places
if [ -n "$ceiling" ]; then
  c=$(rate "$ceiling")
  echo "ratios to the ceiling: sqlite $(ratio "$(rate "$sqlite")" "$c")" \
       "${pg:+postgresql-1 $(ratio "$(rate "$pg")" "$c")}" \
       "${pg2:+postgresql-2 $(ratio "$pg2" "$c")}"
fi
# Paired rounds: SQLite (a new esa-sdc on the same directory, whose database now also
# holds the web view's 10,000 systems), the first PostgreSQL instance and nginx, one right
# after the other, ROUNDS times; each round's ratios and the checkpoints and autovacuum
# runs PostgreSQL started during it, then the median of the ratios.
if [ -n "$ceiling" ] && [ -n "$pg" ] && [ "$ROUNDS" -gt 0 ]; then
  p=$(port); pid=$(serve "$p"); pids="$pids $pid"; wait_port "$p"
  ratios=""
  bg_=$(pg_bg)
  for r in $(seq "$ROUNDS"); do
    bgr=$bg_
    s_=$("$work/fleet" "https://127.0.0.1:$p/" "$work/dir/ca.pem" "$SYSTEMS" "$CONNS" "$SECONDS_" "$pid")
    g_=$("$work/fleet" "https://127.0.0.1:$pg_port/" "$work/dir/ca.pem" "$SYSTEMS" "$CONNS" "$SECONDS_" "$pg_pid")
    n_=$("$work/fleet" "https://127.0.0.1:$nginx_port/" "$work/dir/ca.pem" 0 "$CONNS" "$SECONDS_" "$npids" --static)
    bg_=$(pg_bg)
    rs=$(ratio "$(rate "$s_")" "$(rate "$n_")")
    rg=$(ratio "$(rate "$g_")" "$(rate "$n_")")
    row "round $r" "sqlite $(rate "$s_")/s p99 $(p99 "$s_") ms, postgresql-1 $(rate "$g_")/s p99 $(p99 "$g_") ms, nginx $(rate "$n_")/s: ratios sqlite $rs postgresql-1 $rg; postgresql autovacuum+analyze / checkpoints $(echo $bgr $bg_ | awk '{printf "%d/%d", $3-$1, $4-$2}')"
    ratios="$ratios $rs,$rg"
  done
  echo "median of $ROUNDS paired rounds, ratios to the ceiling: $(python3 -c '
import statistics, sys
pairs = [tuple(map(float, a.split(","))) for a in sys.argv[1:]]
print("sqlite %.3f postgresql-1 %.3f" % (statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)))' $ratios)"
fi

# What the machine allows at best: every core busy with esa-sdc (and PostgreSQL) and the
# load generator alone, at the CPU time per report they were measured to spend.
bound () {
  echo "$1" | python3 -c 'import os, re, sys
t = sys.stdin.read(); a = re.search(r"server_cpu_us=(\d+)", t); b = re.search(r"client_cpu_us=(\d+)", t)
d = re.search(r"db_cpu_us=(\d+)", t)
print(int(os.cpu_count() * 1e6 / (float(a.group(1)) + float(b.group(1)) + (float(d.group(1)) if d else 0)))
      if a and b else "-")'
}
echo "cpu bound ($(nproc) cores for server (+ database) + load generator only): sqlite $(bound "$sqlite")/s" \
     "${pg:+postgresql-1 $(bound "$pg")/s}" "${ceiling:+nginx $(bound "$ceiling")/s}"
# the same ratio from CPU time (steadier than rates on a shared machine)
if [ -n "$ceiling" ] && [ "$(bound "$ceiling")" != "-" ]; then
  echo "cpu-bound ratios to nginx: sqlite $(ratio "$(bound "$sqlite")" "$(bound "$ceiling")")" \
       "${pg:+postgresql-1 $(ratio "$(bound "$pg")" "$(bound "$ceiling")")}"
fi
