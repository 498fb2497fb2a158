#!/bin/sh
# test-man.sh: every manual page renders with `groff -man -ww` without a
# warning; esactl(8) names every command esactl lists; esa.conf(5) and
# esa-proxy.conf(5) name every key of the key tables and the sample configs. TAP.
set -u
top=${ESA_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${ESA_TOP_BUILDDIR:-$top/_b}
man=$top/data/man
n=0; failed=0
ok() { n=$((n + 1)); if [ "$2" = "" ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; echo "# $2"; failed=1; fi; }
if ! command -v groff >/dev/null 2>&1; then echo "1..0 # SKIP groff not installed"; exit 0; fi

for page in esad.8 esactl.8 esa.conf.5 esa-proxy.8 esa-proxy.conf.5 esa-sdc.8; do
  out=$(LC_ALL=C.UTF-8 groff -man -ww -z "$man/$page" 2>&1)
  ok "$page renders without warnings" "$out"
done

# Source text with groff's \- turned back into -, for the searches below.
text() { sed 's/\\-/-/g' "$man/$1"; }

missing=""
cmds=$("$build/cli/esactl" 2>&1 | sed -n 's/^  \([a-z][a-z-]*\)\( \([a-z][a-z-]*\)\)\{0,1\}\( .*\)\{0,1\}$/\1 \3/p' | sed 's/ *$//')
[ -n "$cmds" ] || missing="(esactl printed no command list)"
IFS='
'
for c in $cmds; do
  text esactl.8 | grep -q "^\.B[IR]* \"\{0,1\}$c\b" || missing="$missing [$c]"
done
unset IFS
ok "esactl.8 names every esactl command" "$missing"

# Keys: the validator's tables (core/esa-config.c) and the sample config.
keys=$(sed -n '/^static const KeySpec [a-z_]*keys\[\]/,/^};/p' "$top/core/esa-config.c" |
  grep -o '{ "[a-z-]*"' | sed 's/{ "//; s/"//' | sort -u)
keys="$keys $(sed -n 's/^#\{0,1\}\([a-z][a-z-]*\)=.*/\1/p' "$top/data/esa.conf" | sort -u)"
[ "$(echo "$keys" | wc -w)" -gt 20 ] || missing="(found too few keys: $keys)"
missing=""
for k in $keys; do text esa.conf.5 | grep -q -- "$k" || missing="$missing $k"; done
ok "esa.conf.5 names every esa.conf key" "$missing"

pkeys=$(sed -n '/^static const char \*const [a-z_]*keys\[\]/,/};/p' "$top/proxy/esa-proxy-config.c" |
  grep -o '"[a-z-]*"' | tr -d '"' | sort -u)
pkeys="$pkeys $(sed -n 's/^#\{0,1\}\([a-z][a-z-]*\)=.*/\1/p' "$top/data/esa-proxy.conf" | sort -u)"
missing=""
[ "$(echo "$pkeys" | wc -w)" -gt 12 ] || missing="(found too few keys: $pkeys)"
for k in $pkeys; do text esa-proxy.conf.5 | grep -q -- "$k" || missing="$missing $k"; done
ok "esa-proxy.conf.5 names every esa-proxy.conf key" "$missing"

echo "1..$n"
exit $failed
