#!/bin/sh
# test-debian.sh: builds the Debian packages once (dpkg-buildpackage -us -uc -b,
# DEB_BUILD_OPTIONS=nocheck: the suite runs elsewhere), unpacks each into a
# throw-away root and checks the files land, the units are hardened and the
# docs they point at are installed. Run by ./scripts/check. TAP.
set -u
top=$(cd "${ESA_TOP_SRCDIR:-$(dirname "$0")/..}" && pwd)
if ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! command -v dh >/dev/null 2>&1; then
  echo "1..0 # SKIP dpkg-buildpackage or debhelper not installed"; exit 0
fi
work=$(mktemp -d /tmp/esa-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0; failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }

# Build from a clean copy of the source (no build folders, no .git).
mkdir "$work/src"
(cd "$top" && tar cf - --exclude='./_*' --exclude=./.git --exclude=./autom4te.cache \
  --exclude='*.o' --exclude='*.lo' --exclude=./installp .) | (cd "$work/src" && tar xf -)
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=${ESA_JOBS:-2}" \
  dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1
rc=$?
[ $rc -eq 0 ] || grep -E "error"  "$work/build.log" | tail -15 | sed "s/^/# /"
ok "dpkg-buildpackage -us -uc -b succeeds" "[ $rc -eq 0 ]"
for p in openesa openesa-proxy openesa-sdc libesa-dev; do
  deb=$(ls "$work"/${p}_*.deb 2>/dev/null | head -1)
  ok "package $p is built" "[ -n '$deb' ]"
  [ -n "$deb" ] && dpkg-deb -x "$deb" "$work/root"
done
r=$work/root
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
has() { for f in "$@"; do [ -e "$r/$f" ] || { echo "# missing $f"; return 1; }; done; }
ok "openesa: esad, esactl, libesa, plugins, config, unit, sysusers, tmpfiles, docs, man, completion, translations" \
  "has usr/sbin/esad usr/sbin/esactl usr/lib/$arch/libesa.so.0 usr/lib/$arch/openesa/plugins/heartbeat.so \
   etc/esa/esa.conf lib/systemd/system/esad.service usr/lib/sysusers.d/openesa.conf \
   usr/lib/tmpfiles.d/openesa.conf usr/share/doc/openesa/README.md usr/share/man/man8/esactl.8.gz \
   usr/share/man/man5/esa.conf.5.gz usr/share/bash-completion/completions/esactl \
   usr/share/locale/de/LC_MESSAGES/openesa.mo usr/share/locale/ja/LC_MESSAGES/openesa.mo"
ok "openesa: libesa.so.0 is a symlink" "[ -L '$r/usr/lib/$arch/libesa.so.0' ]"
ok "openesa-proxy: esa-proxy, its config, unit, man pages" \
  "has usr/sbin/esa-proxy etc/esa/esa-proxy.conf lib/systemd/system/esa-proxy.service usr/share/man/man8/esa-proxy.8.gz usr/share/man/man5/esa-proxy.conf.5.gz"
ok "openesa-sdc: esa-sdc, unit, man page" \
  "has usr/bin/esa-sdc lib/systemd/system/esa-sdc.service usr/share/man/man8/esa-sdc.8.gz"
ok "libesa-dev: headers, pkg-config file, libesa.so" \
  "has usr/include/openesa/esa/esa-plugin.h usr/lib/$arch/pkgconfig/esa-plugin.pc usr/lib/$arch/libesa.so"
ok "no libtool archives shipped" "[ -z \"\$(find '$r' -name '*.la')\" ]"
for u in esad esa-proxy esa-sdc; do
  unit=$r/lib/systemd/system/$u.service
  ok "$u.service is hardened" "grep -q '^ProtectSystem=strict' '$unit' && grep -q '^ProtectHome=yes' '$unit' \
    && grep -q '^PrivateTmp=yes' '$unit' && grep -q '^NoNewPrivileges=yes' '$unit'"
  for doc in $(sed -n 's/^Documentation=//p' "$unit"); do
    case $doc in
      file://*) ok "$u.service: $doc is installed" "[ -e '$r${doc#file://}' ]" ;;
      man:*) page=${doc#man:}; sec=${page##*(}; sec=${sec%)}; page=${page%(*}
        ok "$u.service: $doc is installed" "[ -e '$r/usr/share/man/man$sec/$page.$sec.gz' ]" ;;
    esac
  done
done
ok "esa-proxy and esa-sdc run as their own users with a state directory" \
  "grep -q '^User=esa-proxy' '$r/lib/systemd/system/esa-proxy.service' && grep -q '^User=esa-sdc' '$r/lib/systemd/system/esa-sdc.service' \
   && grep -q '^StateDirectory=esa-sdc' '$r/lib/systemd/system/esa-sdc.service'"
ok "sysusers snippet creates the esa group and both users" \
  "grep -q '^g esa ' '$r/usr/lib/sysusers.d/openesa.conf' && grep -q '^u esa-proxy ' '$r/usr/lib/sysusers.d/openesa.conf' && grep -q '^u esa-sdc ' '$r/usr/lib/sysusers.d/openesa.conf'"
ok "the installed esad runs from the throw-away root" \
  "LD_LIBRARY_PATH='$r/usr/lib/$arch' '$r/usr/sbin/esad' --version >/dev/null"
echo "1..$n"
exit $failed
