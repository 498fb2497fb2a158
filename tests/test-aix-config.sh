#!/bin/sh
# test-aix-config.sh: the installp configuration scripts (data/aix/) against
# fake AIX administration commands (tests/fixtures/aix-admin-bin): SRC, inittab,
# esa group, /var/esa, errnotify added, idempotent, and removed again; the
# pre-installation check names missing AIX Toolbox RPMs. Speaks TAP.
set -u
top=${ESA_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
aix=$top/data/aix
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0; failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
export ESA_FAKE_STATE=$work/state ESA_ROOT=$work/root ESA_AIXDIR=$aix
export ESA_AIX_PATH=$top/tests/fixtures/aix-admin-bin:/usr/bin:/bin
export ESA_ERRNOTIFY_STANZA=$top/data/errnotify/openesa.add
mkdir -p "$ESA_FAKE_STATE" "$ESA_ROOT"
st=$ESA_FAKE_STATE

for f in "$aix"/esad-src.sh "$aix"/openesa.*config "$aix"/openesa.pre_i.in \
         "$top"/data/errnotify/openesa-errnotify-*; do
  ok "sh -n $(basename "$f")" "sh -n '$f'"
done

sh "$aix/openesa.rte.config"; rc=$?
ok "rte config succeeds" "[ $rc -eq 0 ]"
ok "SRC subsystem esad registered foreground, restart, group esa" \
  "grep -q -- '-s esad -p /usr/sbin/esad -a -f -u 0 -S -n 15 -f 9 -R -G esa' '$st/ssys.esad'"
ok "inittab entry starts esad through the SRC" \
  "grep -qx 'esad:2:once:/usr/bin/startsrc -s esad >/dev/console 2>&1' '$st/itab.esad'"
ok "esa group created" "[ -e '$st/group.esa' ]"
ok "/var/esa is a 0700 directory" "[ \"\$(stat -c %a '$ESA_ROOT/var/esa')\" = 700 ]"
ok "errnotify stanza openesa added" "cmp -s '$ESA_ERRNOTIFY_STANZA' '$st/odm.errnotify.openesa'"

: > "$st/log"
sh "$aix/openesa.rte.config"; rc=$?
ok "rte config runs twice (update) without error" "[ $rc -eq 0 ]"
ok "second run replaces the subsystem, keeps one inittab entry and the group" \
  "grep -q '^rmssys -s esad' '$st/log' && ! grep -q '^mkitab' '$st/log' && ! grep -q '^mkgroup' '$st/log'"

echo queued > "$ESA_ROOT/var/esa/report.json"
sh "$aix/openesa.rte.unconfig"; rc=$?
ok "rte unconfig succeeds" "[ $rc -eq 0 ]"
ok "unconfig removes SRC subsystem, inittab entry, errnotify stanza, group" \
  "[ ! -e '$st/ssys.esad' ] && [ ! -e '$st/itab.esad' ] && [ ! -e '$st/odm.errnotify.openesa' ] && [ ! -e '$st/group.esa' ]"
ok "unconfig keeps queued reports in /var/esa" "[ -e '$ESA_ROOT/var/esa/report.json' ]"
rm "$ESA_ROOT/var/esa/report.json"
sh "$aix/openesa.rte.config" && echo admin > "$st/group.esa" && sh "$aix/openesa.rte.unconfig"
ok "unconfig removes an empty /var/esa, keeps a group with users" \
  "[ ! -e '$ESA_ROOT/var/esa' ] && [ -e '$st/group.esa' ]"

sh "$aix/openesa.proxy.config"; rc=$?
ok "proxy config registers esa-proxy with its config file" \
  "[ $rc -eq 0 ] && grep -q -- '-p /usr/sbin/esa-proxy -a -c /etc/esa/esa-proxy.conf' '$st/ssys.esa-proxy'"
sh "$aix/openesa.proxy.unconfig"
ok "proxy unconfig removes it" "[ ! -e '$st/ssys.esa-proxy' ]"

sed -e 's/@FILESET@/openesa.rte/g' -e 's/@RPMS@/glib2 libsoup3 gnutls json-glib/' \
  "$aix/openesa.pre_i.in" > "$work/pre_i"
ESA_FAKE_RPMS="glib2 gnutls" sh "$work/pre_i" 2> "$work/err"; rc=$?
ok "pre_i fails and names the missing RPMs" \
  "[ $rc -ne 0 ] && grep -q 'missing AIX Toolbox RPMs: libsoup3 json-glib' '$work/err'"
ESA_FAKE_RPMS="glib2 libsoup3 gnutls json-glib" sh "$work/pre_i"; rc=$?
ok "pre_i passes when all are installed" "[ $rc -eq 0 ]"
ok "esad-src.sh without a verb is a usage error" "! sh '$aix/esad-src.sh' 2>/dev/null"

echo "1..$n"
exit $failed
