#!/bin/sh
# bench/proxy.sh: esa-proxy throughput (1 GiB through a CONNECT tunnel, compared with
# tinyproxy in the same run) and memory (RSS with 2,000 idle tunnels). Loopback only.
#
#   bench/proxy.sh [BUILDDIR]      (default: _build; needs a built proxy/esa-proxy)
#
# Targets (issue 5): throughput >= 1.0x tinyproxy, RSS <= 64 MiB at 2,000 tunnels.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
proxy=$build/proxy/esa-proxy
[ -x "$proxy" ] || { echo "bench/proxy.sh: $proxy not built" >&2; exit 1; }
command -v tinyproxy >/dev/null || { echo "bench/proxy.sh: tinyproxy not installed" >&2; exit 1; }

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
tinyproxy -d -c "$work/tinyproxy.conf" >"$work/tinyproxy.log" 2>&1 & pids="$pids $!"

wait_port "$sink_port"; wait_port "$esa_port"; wait_port "$tiny_port"

echo "== throughput: $((BYTES / 1048576)) MiB through a CONNECT tunnel, best of $ROUNDS"
best () { sort -n | tail -1; }
esa=$(for i in $(seq "$ROUNDS"); do "$work/proxy-bench" xfer "$esa_port" "127.0.0.1:$sink_port" "$BYTES"; done | best)
tiny=$(for i in $(seq "$ROUNDS"); do "$work/proxy-bench" xfer "$tiny_port" "127.0.0.1:$sink_port" "$BYTES"; done | best)
echo "esa-proxy:  $esa MiB/s"
echo "tinyproxy:  $tiny MiB/s"
echo "ratio:      $(echo "$esa $tiny" | awk '{ printf "%.2fx", $1 / $2 }') (target >= 1.00x)"

echo "== memory: $TUNNELS idle tunnels"
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
echo "esa-proxy RSS: $((rss_before / 1024)) MiB idle, $((rss / 1024)) MiB with $TUNNELS tunnels (target <= 64 MiB)"
