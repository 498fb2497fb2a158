# bench/lib.sh: shared by the bench scripts — a scratch folder, an esa-sdc and
# esads on loopback, timing, RSS, and stopping everything started. Sourced.
#   BUILD: the build folder (default _build); WORK: the scratch folder.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/_build}
BUILD=$(cd "$BUILD" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/esa-bench.XXXXXX")
bench_pids=""
# The fake AIX machine of the test suite (tests/fixtures/aix-bin): this is Linux.
export ESA_PLATFORM=aix ESA_COMMAND_PATH="$top/tests/fixtures/aix-bin"
unset http_proxy https_proxy HTTPS_PROXY all_proxy 2>/dev/null || true

bench_cleanup () {
  for p in $bench_pids; do kill "$p" 2>/dev/null || true; done
  for p in $bench_pids; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap bench_cleanup EXIT INT TERM

need () {
  for b in "$@"; do
    [ -x "$b" ] || { echo "$(basename "$0"): $b not built (BUILD=$BUILD)" >&2; exit 1; }
  done
}

free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port () {
  i=0
  while ! python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 200 ] || { echo "port $1 never opened" >&2; exit 1; }
    sleep 0.05
  done
}

now () { date +%s.%N; }
since () { echo "$(now) $1" | awk '{ printf "%.3f", $1 - $2 }'; }
rss_kib () { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kib () { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }
threads () { awk '/Threads/ { print $2 }' "/proc/$1/status"; }

# sdc_start DIR: an esa-sdc (created on first use) on a free loopback port,
# with $SDC_ARGS; sets sdc_port, sdc_pid.
sdc_start () {
  sdc_dir=$1
  [ -d "$sdc_dir" ] || "$BUILD/sdc/esa-sdc" init "$sdc_dir" >/dev/null
  sdc_port=$(free_port)
  "$BUILD/sdc/esa-sdc" serve --dir="$sdc_dir" --listen="127.0.0.1:$sdc_port" ${SDC_ARGS:-} >/dev/null 2>"$sdc_dir.log" &
  sdc_pid=$!; bench_pids="$bench_pids $sdc_pid"
  wait_port "$sdc_port"
}

# esad_conf DIR PLUGINS [EXTRA]: an esa.conf with its state in DIR/state.
esad_conf () {
  mkdir -p "$1/plugins"
  for p in $2; do
    cp "$BUILD/plugins/$p/.libs/$p.so" "$1/plugins/$p.so"; chmod 0755 "$1/plugins/$p.so"
  done
  cat > "$1/esa.conf" <<EOC
[agent]
state-dir=$1/state
plugin-dir=$1/plugins
log-level=warning
[plugins]
enabled=$(echo $2 | tr ' ' ';')
[activation]
vendors=*
${3:-}
EOC
}

esactl () { "$BUILD/cli/esactl" -c "$conf_dir/esa.conf" "$@"; }

# esad_start DIR: esad in the foreground on DIR/esa.conf; sets esad_pid.
esad_start () {
  conf_dir=$1
  "$BUILD/daemon/esad" -f -c "$1/esa.conf" 2>>"$1/esad.log" &
  esad_pid=$!; bench_pids="$bench_pids $esad_pid"
}

# Seconds until esad answers `esactl status`.
esad_wait () {
  t0=$1; i=0
  until esactl status >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 6000 ] || { echo "esad never answered" >&2; exit 1; }
    sleep 0.01
  done
  since "$t0"
}

esad_stop () {
  kill "$esad_pid" 2>/dev/null || true
  wait "$esad_pid" 2>/dev/null || true
}

# min and median of the numbers on stdin
stats () { sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %s", v[1], m }'; }

# An activated esad state in DIR/state whose SDC is then stopped: reports stay
# queued, as when the SDC is unreachable. Needs sdc_start first.
activated_state () {
  esad_conf "$1" "${2:-heartbeat}" "[sdc]
servers=https://localhost:$sdc_port/
ca-file=$work/sdc/ca.pem
timeout=5s"
  esad_start "$1"; esad_wait "$(now)" >/dev/null
  esactl activate --server "https://localhost:$sdc_port/" >/dev/null
  esad_stop
}

# The queue's code in build $1: libesa.so exported it until libesa.map kept
# only the plugin ABI; since then the internal static library has it.
fill_libs () {
  if [ -f "$1/core/.libs/libesa-internal.a" ]; then
    echo "$1/core/.libs/libesa-internal.a $1/protocol/.libs/libesa-protocol.a"
  else
    echo "$1/core/.libs/libesa.so -Wl,-rpath,$1/core/.libs"
  fi
}

# fill SPOOL N: N reports through the agent's own esa_queue_enqueue (that of
# FILL_BUILD, default BUILD: an old build's serial enqueue takes minutes).
fill () {
  fb=$(cd "${FILL_BUILD:-$BUILD}" && pwd)
  [ -x "$work/queue-fill" ] || cc -O2 -o "$work/queue-fill" "$top/bench/queue-fill.c" \
    -I"$top/core" -I"$top/protocol" $(pkg-config --cflags glib-2.0 json-glib-1.0) \
    $(fill_libs "$fb") $(pkg-config --libs gio-2.0 json-glib-1.0 gnutls) -lm
  "$work/queue-fill" "$1" "$2"
}

# queued_states N: two activated esads whose SDC is gone, $work/A with an
# empty spool and $work/B with N reports queued.
queued_states () {
  sdc_start "$work/sdc"
  activated_state "$work/A"
  # One machine registers once (a second registration waits for the SDC
  # admin's approval): B gets a copy of A's activated state.
  esad_conf "$work/B" heartbeat "$(sed -n '/^\[sdc\]/,$p' "$work/A/esa.conf")"
  cp -a "$work/A/state" "$work/B/"
  kill "$sdc_pid"; wait "$sdc_pid" 2>/dev/null || true
  t0=$(now); fill "$work/B/state/spool" "$1"; tfill=$(since "$t0")
  echo "filled $1 reports in $tfill s: $(echo "$1 $tfill" | awk '{ printf "%.0f", $1 / $2 }') enqueues/s (${FILL_BUILD:-$BUILD})"
}
