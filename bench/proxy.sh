#!/bin/sh
# bench/proxy.sh: esa-proxy against tinyproxy in the same run, on loopback only:
#   - tunnel-open rate: 2,000 tunnels opened one after another and kept open (issue 13),
#     total and for the first and last quarter, so a rate that falls as tunnels accumulate shows;
#   - throughput: 1 GiB through one CONNECT tunnel, and the proxy's CPU time for it;
#   - memory: esa-proxy's RSS with 2,000 idle tunnels.
# Compared runs are interleaved (A B A B ...) because the machine is shared; min and median
# are printed, and a last line of ratios (medians).
#
#   bench/proxy.sh [BUILDDIR]      (default: _build; needs a built proxy/esa-proxy)
#   ESA_PROXY=/path/to/esa-proxy bench/proxy.sh   measures another binary (an older build)
#
# Targets: open rate >= 1.0x tinyproxy and last quarter ~ first quarter (flat);
# throughput >= 1.0x tinyproxy; RSS <= 64 MiB at 2,000 tunnels.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
proxy=${ESA_PROXY:-$build/proxy/esa-proxy}
[ -x "$proxy" ] || { echo "bench/proxy.sh: $proxy not built" >&2; exit 1; }
if ! command -v tinyproxy >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "bench/proxy.sh: tinyproxy not installed (apt-get install tinyproxy)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tinyproxy >/dev/null
  service tinyproxy stop >/dev/null 2>&1 || true
fi

BYTES=${BYTES:-1073741824}
TUNNELS=${TUNNELS:-2000}
ROUNDS=${ROUNDS:-3}

work=$(mktemp -d "${TMPDIR:-/tmp}/esa-proxy-bench.XXXXXX")
pids=""
cleanup () {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# 2,000 tunnels need 4,000+ descriptors in the proxy and 2,000 in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cc -O2 -o "$work/proxy-bench" "$top/bench/proxy-bench.c"

free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port () {
  i=0
  while ! python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "port $1 never opened" >&2; exit 1; }
    sleep 0.1
  done
}
# Number of established connections to a local port (both proxies close their side late).
n_conns () {
  ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l
}
settle () {
  i=0
  while [ "$(n_conns "$1")" -gt 0 ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
}

sink_port=$(free_port)
esa_port=$(free_port)
tiny_port=$(free_port)

"$work/proxy-bench" sink "$sink_port" "$BYTES" & pids="$pids $!"

cat > "$work/esa-proxy.conf" <<EOC
[proxy]
listen=127.0.0.1:$esa_port
allow=127.0.0.1:$sink_port
allow-private-addresses=127.0.0.0/8
max-tunnels=$((TUNNELS + 100))
access-log=$work/access.log
EOC
"$proxy" --config "$work/esa-proxy.conf" 2>"$work/esa-proxy.log" & esa_pid=$!; pids="$pids $esa_pid"

user=""
[ "$(id -u)" = 0 ] && user="User nobody
Group nogroup"
cat > "$work/tinyproxy.conf" <<EOC
$user
Port $tiny_port
Listen 127.0.0.1
Timeout 600
MaxClients $((TUNNELS + 100))
Allow 127.0.0.1
LogLevel Warning
EOC
tinyproxy -d -c "$work/tinyproxy.conf" >"$work/tinyproxy.log" 2>&1 & tiny_pid=$!; pids="$pids $tiny_pid"

wait_port "$sink_port"; wait_port "$esa_port"; wait_port "$tiny_port"

# stats FILE: "min median" of the numbers in FILE
stats () {
  sort -n "$1" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f %.0f", v[1], m }'
}
med () { stats "$1" | cut -d' ' -f2; }
ratio () { echo "$1 $2" | awk '{ printf "%.2fx", $1 / $2 }'; }

: > "$work/open.esa"; : > "$work/open.tiny"
: > "$work/first.esa"; : > "$work/last.esa"; : > "$work/first.tiny"; : > "$work/last.tiny"
: > "$work/xfer.esa"; : > "$work/xfer.tiny"; : > "$work/cpu.esa"; : > "$work/cpu.tiny"
: > "$work/opencpu.esa"; : > "$work/opencpu.tiny"
# CPU time (all threads) of a proxy, in clock ticks: less noisy than wall time here.
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
echo "== $ROUNDS rounds, interleaved esa-proxy / tinyproxy"
for r in $(seq "$ROUNDS"); do
  for who in esa tiny; do
    eval port=\$${who}_port
    eval pid=\$${who}_pid
    c0=$(cpu_ticks "$pid")
    set -- $("$work/proxy-bench" open "$port" "127.0.0.1:$sink_port" "$TUNNELS")
    c1=$(cpu_ticks "$pid")
    echo "$1" >> "$work/open.$who"; echo "$2" >> "$work/first.$who"; echo "$3" >> "$work/last.$who"
    # microseconds of proxy CPU (all threads) per tunnel opened
    echo "$c0 $c1" | awk -v hz="$hz" -v n="$TUNNELS" '{ printf "%.0f\n", ($2 - $1) * 1e6 / hz / n }' >> "$work/opencpu.$who"
    settle "$port"
  done
  for who in esa tiny; do
    eval port=\$${who}_port
    eval pid=\$${who}_pid
    c0=$(cpu_ticks "$pid")
    "$work/proxy-bench" xfer "$port" "127.0.0.1:$sink_port" "$BYTES" >> "$work/xfer.$who"
    c1=$(cpu_ticks "$pid")
    # milliseconds of proxy CPU per GiB moved
    echo "$c0 $c1" | awk -v hz="$hz" -v b="$BYTES" '{ printf "%.0f\n", ($2 - $1) * 1000 / hz * 1073741824 / b }' >> "$work/cpu.$who"
  done
  echo "round $r done"
done

echo "== memory: $TUNNELS idle tunnels"
settle "$esa_port"
rss_before=$(awk '/VmRSS/ { print $2 }' "/proc/$esa_pid/status")
mkfifo "$work/hold"
"$work/proxy-bench" idle "$esa_port" "127.0.0.1:$sink_port" "$TUNNELS" <"$work/hold" >"$work/idle.out" &
idle_pid=$!; pids="$pids $idle_pid"
exec 9>"$work/hold"
i=0
until grep -q ready "$work/idle.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 1200 ] || { echo "tunnels never opened" >&2; exit 1; }
  kill -0 "$idle_pid" 2>/dev/null || { echo "idle client failed" >&2; exit 1; }
  sleep 0.1
done
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$esa_pid/status")
exec 9>&-
wait "$idle_pid" || true

echo
printf '%-34s %-20s %-20s %s\n' "figure (min / median)" "esa-proxy" "tinyproxy" "ratio (medians)"
row () {
  printf '%-34s %-20s %-20s %s\n' "$1" "$(stats "$work/$2.esa" | sed 's# # / #')" \
    "$(stats "$work/$2.tiny" | sed 's# # / #')" "$(ratio "$(med "$work/$2.esa")" "$(med "$work/$2.tiny")")"
}
row "open $TUNNELS tunnels, tunnels/s" open
row "  first quarter, tunnels/s" first
row "  last quarter, tunnels/s" last
row "proxy CPU per tunnel opened, us" opencpu
row "throughput, MiB/s" xfer
row "proxy CPU per GiB, ms" cpu
echo "esa-proxy RSS: $((rss_before / 1024)) MiB idle, $((rss / 1024)) MiB with $TUNNELS tunnels (target <= 64 MiB)"
echo "ratios: open-rate $(ratio "$(med "$work/open.esa")" "$(med "$work/open.tiny")") (target >= 1.00x)," \
  "esa last/first quarter $(ratio "$(med "$work/last.esa")" "$(med "$work/first.esa")") (flat ~ 1x)," \
  "throughput $(ratio "$(med "$work/xfer.esa")" "$(med "$work/xfer.tiny")") (target >= 1.00x)," \
  "cpu/GiB $(ratio "$(med "$work/cpu.esa")" "$(med "$work/cpu.tiny")") (lower is better)," \
  "rss $((rss / 1024)) MiB"
