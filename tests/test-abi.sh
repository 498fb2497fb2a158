#!/bin/sh
# test-abi.sh: libesa.so exports exactly the plugin API — the functions that
# core/esa/*.h and protocol/esa/*.h declare — as core/libesa.map lists it,
# all of it under the OPENESA_1 version node. TAP.
set -u
top=${ESA_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${ESA_TOP_BUILDDIR:-$top/_b}
lib=$build/core/.libs/libesa.so
n=0; failed=0
ok() { n=$((n + 1)); if [ "$2" = "" ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; echo "# $2" | head -c 2000; echo; failed=1; fi; }
command -v nm >/dev/null 2>&1 || { echo "1..0 # SKIP nm not installed"; exit 0; }
[ -f "$lib" ] || { echo "1..0 # SKIP no shared libesa in this build"; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Declared: every esa_NAME ( in the public headers, comments removed.
cat "$top"/core/esa/*.h "$top"/protocol/esa/*.h |
  sed -e ':a' -e 's|/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/||g; /\/\*/{N; ba}' |
  grep -v '^#' | grep -o '\besa_[a-zA-Z0-9_]*[[:space:]]*(' | sed 's/[[:space:]]*(//' |
  grep -v '^esa_plugin_query$' | sort -u >"$tmp/declared"
# Exported: nm -D, defined symbols only.
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u >"$tmp/exported"
sed -n 's/^ *\(esa_[a-zA-Z0-9_]*\);$/\1/p' "$top/core/libesa.map" | sort -u >"$tmp/map"

[ "$(wc -l <"$tmp/declared")" -gt 50 ] || ok "headers declare the API" "found only: $(cat "$tmp/declared")"
ok "libesa.so exports nothing the headers do not declare" "$(comm -13 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')"
ok "libesa.so exports every function the headers declare" "$(comm -23 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')"
ok "core/libesa.map lists exactly the declared functions" "$(comm -3 "$tmp/declared" "$tmp/map" | tr '\n' ' ')"
unversioned=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | grep -v '@@OPENESA_1$' | tr '\n' ' ')
ok "every export is versioned OPENESA_1" "$unversioned"
echo "1..$n"
exit $failed
