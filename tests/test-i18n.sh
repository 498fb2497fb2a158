#!/bin/sh
# test-i18n.sh: esactl speaks German and Japanese: the catalogs in po/ compile
# cleanly (msgfmt -c), translate every message of the template, and esactl
# --help with LANGUAGE=de (ja) prints them; without LANGUAGE it stays English. TAP.
set -u
top=${ESA_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${ESA_TOP_BUILDDIR:-$top/_b}
if ! command -v msgfmt >/dev/null 2>&1; then echo "1..0 # SKIP msgfmt not installed"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0; failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
for lang in de ja; do
  mkdir -p "$work/$lang/LC_MESSAGES"
  stats=$(msgfmt -c --statistics -o "$work/$lang/LC_MESSAGES/openesa.mo" "$top/po/$lang.po" 2>&1)
  ok "po/$lang.po compiles and translates everything ($stats)" \
    "echo '$stats' | grep -q 'translated messages\.\$' && ! echo '$stats' | grep -q 'untranslated\|fuzzy'"
done
help() { LC_ALL=C.UTF-8 ESA_LOCALEDIR=$work "$build/cli/esactl" --help 2>&1; }
de=$(LANGUAGE=de help)
ok "LANGUAGE=de: esactl --help is German" \
  "echo \"\$de\" | grep -q 'JSON für Skripte ausgeben' && echo \"\$de\" | grep -q 'den OpenESA-Agenten steuern'"
ja=$(LANGUAGE=ja help)
ok "LANGUAGE=ja: esactl --help is Japanese" "echo \"\$ja\" | grep -q 'スクリプト向けに JSON で表示する'"
en=$(LANGUAGE= help)
ok "without LANGUAGE: English" "echo \"\$en\" | grep -q 'Print JSON for scripts'"
echo "1..$n"
exit $failed
