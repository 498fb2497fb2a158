#!/bin/sh
# test-replay-leaks.sh: every fuzz harness's corpus replayed once more with leak checking,
# so a parser of outside input that leaks on some input fails make check (the replays
# themselves run with ASan's leak detection off, as every test does). In a sanitizer
# build: ASan with detect_leaks=1; otherwise valgrind's memcheck (tests/run-valgrind:
# definite leaks and memory errors fail). TAP, one line per harness.
set -u
top=${ESA_TOP_SRCDIR:?run by make check}
build=${ESA_TOP_BUILDDIR:?run by make check}
cd "$build" || exit 1
harnesses="spool config aix sdc-request control json proxy-request proxy-config"
n=0
echo "1..$(echo $harnesses | wc -w)"
for h in $harnesses; do
  n=$((n + 1))
  bin=tests/fuzz/replay-$h
  log=$(mktemp)
  if [ "${ESA_LEAK_CHECK:-valgrind}" = asan ]; then
    ASAN_OPTIONS=detect_leaks=1 "$top/tests/run-test" "$bin" >"$log" 2>&1
  elif command -v valgrind >/dev/null 2>&1; then
    "$top/tests/run-valgrind" "$bin" >"$log" 2>&1
  else
    echo "not ok $n - $h: valgrind is not installed (scripts/deps installs it)"
    rm -f "$log"
    continue
  fi
  rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "ok $n - $h: corpus replayed without a leak (${ESA_LEAK_CHECK:-valgrind})"
  else
    echo "not ok $n - $h: exit $rc under ${ESA_LEAK_CHECK:-valgrind}"
    grep -E 'definitely lost|ERROR SUMMARY|LeakSanitizer|Direct leak|by 0x|#[0-9]+ ' "$log" | head -40 | sed 's/^/# /'
  fi
  rm -f "$log"
done
