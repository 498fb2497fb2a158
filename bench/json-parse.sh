#!/bin/sh
# bench/json-parse.sh: CPU µs per esa_json_parse of esa-sdc's most frequent request
# bodies (a heartbeat and a problem report, as bench/fleet/ sends them): json-glib's
# JsonParser alone, esa_json_parse before (shape check + JsonParser + json_node_copy), with
# json_parser_steal_root instead of the copy, and the tree's own (protocol/esa-json-parse.c).
# Compiled from the sources at -O2 against BUILDDIR's config.h.
#
#   bench/json-parse.sh [BUILDDIR] [ITERATIONS]     (default: _build, 20000)
#
# Target (docs/performance.md, "JSON parse"): a heartbeat body >= 3x cheaper than before.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
[ -f "$build/config.h" ] || { echo "bench/json-parse.sh: $build/config.h missing (configure first)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/esa-json-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

cc -O2 -I"$build" -I"$top/core" -I"$top/protocol" -I"$top/tests" -o "$work/json-parse" \
  "$top/bench/json-parse.c" "$top/tests/json-reference.c" $(ls "$top"/protocol/esa-*.c) \
  $(pkg-config --cflags --libs json-glib-1.0)
echo "load: $(uptime | sed 's/.*load average: //')"
"$work/json-parse" "${2:-20000}"
