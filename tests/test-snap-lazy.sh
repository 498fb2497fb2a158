#!/bin/sh
# test-snap-lazy.sh: where configure found libarchive's soname, the snap
# plugin does not link libarchive (it opens it while building an archive,
# plugins/snap/snap-archive-lib.h), so idle esad does not keep libarchive,
# libxml2, ICU and libstdc++ resident. TAP.
set -u
top=${ESA_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${ESA_TOP_BUILDDIR:-$top/_b}
so=$build/plugins/snap/.libs/snap.so
if ! grep -q '^#define SNAP_ARCHIVE_SONAME' "$build/config.h"; then echo "1..0 # SKIP libarchive is linked on this system"; exit 0; fi
if ! command -v readelf >/dev/null 2>&1; then echo "1..0 # SKIP readelf not installed"; exit 0; fi
echo "1..2"
[ -f "$so" ] && echo "ok 1 - snap.so built" || { echo "not ok 1 - snap.so built: $so missing"; exit 1; }
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case $needed in
*libarchive*) echo "not ok 2 - snap.so does not link libarchive"; echo "# NEEDED: $needed"; exit 1 ;;
*) echo "ok 2 - snap.so does not link libarchive" ;;
esac
