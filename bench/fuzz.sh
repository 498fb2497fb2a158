#!/bin/sh
# bench/fuzz.sh: runs every libFuzzer harness in tests/fuzz/ (fuzz-NAME.c, seeds in
# tests/fuzz/corpus/NAME/) for SECONDS each, FUZZ_JOBS at a time (default 2: the harnesses
# are single-threaded), and prints executions and findings per harness. Needs clang (scripts/deps installs it). Builds in BUILDDIR
# (default _fuzz) with CC=clang --enable-fuzzing. New inputs go to BUILDDIR/fuzz-corpus/NAME,
# crashes to BUILDDIR/fuzz-crashes/; a crash worth keeping is fixed and then copied into
# tests/fuzz/corpus/NAME/ so make check replays it for good.
#
#   bench/fuzz.sh [SECONDS] [BUILDDIR]        (default 60 seconds)
#   FUZZ_JOBS=7 bench/fuzz.sh 600             (all seven at once, on a machine with 7 cores)
#   FUZZ_ONLY="proxy-request proxy-config" bench/fuzz.sh 600   (only these harnesses)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
jobs=${FUZZ_JOBS:-2}
build=${2:-$top/_fuzz}
command -v clang >/dev/null || { echo "bench/fuzz.sh: clang not installed (scripts/deps)" >&2; exit 1; }

mkdir -p "$build"
build=$(cd "$build" && pwd)
if [ ! -f "$build/Makefile" ] || ! grep -q 'enable-fuzzing' "$build/config.status" 2>/dev/null; then
  [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null)
  (cd "$build" && CC=clang CFLAGS="-g -O1 -Wno-unknown-warning-option" "$top/configure" -q --enable-fuzzing >/dev/null)
fi
names=${FUZZ_ONLY:-$(cd "$top/tests/fuzz" && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//')}
targets=$(for n in $names; do printf 'tests/fuzz/fuzz-%s ' "$n"; done)
make -C "$build" -j2 -s $targets >/dev/null

mkdir -p "$build/fuzz-crashes"
pids=""
cleanup () { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup INT TERM
status=0
running=0
for n in $names; do
  mkdir -p "$build/fuzz-corpus/$n"
  # The seeds, but not the xfail-* inputs of known bugs fixed elsewhere (tests/fuzz/replay.c):
  # libFuzzer would stop at the first.
  find "$top/tests/fuzz/corpus/$n" -type f ! -name 'xfail-*' -exec cp -n {} "$build/fuzz-corpus/$n/" \;
  # UBSan findings abort like crashes; leaks count too (G_SLICE: GLib's slice allocator would
  # hide leaked JSON nodes from LeakSanitizer).
  G_SLICE=always-malloc UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "$build/tests/fuzz/fuzz-$n" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$build/fuzz-crashes/$n-" \
    "$build/fuzz-corpus/$n" >"$build/fuzz-$n.log" 2>&1 &
  pids="$pids $!"
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    for p in $pids; do wait "$p" || status=1; done
    pids=""
    running=0
  fi
done
for p in $pids; do wait "$p" || status=1; done
pids=""

printf '%-16s %12s %10s %8s %s\n' harness execs "exec/s" corpus findings
for n in $names; do
  log=$build/fuzz-$n.log
  execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ { print $2 }' "$log")
  corpus=$(ls "$build/fuzz-corpus/$n" | wc -l)
  found=$(ls "$build/fuzz-crashes" | grep -c "^$n-" || true)
  printf '%-16s %12s %10s %8s %s\n' "$n" "${execs:-?}" "${rate:-?}" "$corpus" "$found"
  [ "$found" = 0 ] || { status=1; grep -m3 'ERROR\|SUMMARY' "$log" | sed "s/^/  $n: /"; }
done
exit $status
