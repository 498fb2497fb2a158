#!/bin/sh
# sdk-build.sh BUILDDIR SRCDIR WORKDIR: installs the plugin SDK of BUILDDIR
# (libesa, the headers, esa-plugin.pc) under WORKDIR/root with DESTDIR, then
# builds docs/examples/example-collector.c out of the tree with
# `pkg-config esa-plugin` into WORKDIR/example.so — and checks that a
# plugin calling an internal libesa function does not link. Used by
# tests/test-sdk.c. Prints what failed and exits non-zero.
set -eu
build=$1 src=$2 work=$3
dest=$work/root
cc=${CC:-cc}
# Only the SDK's install targets: the whole `make install` would also install
# the programs and data, which this test does not need.
make -s -C "$build" DESTDIR="$dest" install-libLTLIBRARIES install-esaincludeHEADERS \
  install-pkgconfigDATA >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
pc=$(find "$dest" -name esa-plugin.pc)
[ -n "$pc" ] || { echo "no esa-plugin.pc installed under $dest"; exit 1; }
# A temp prefix: the installed .pc with its prefix moved into DESTDIR, as a
# relocated install would have it (PKG_CONFIG_SYSROOT_DIR would move glib's too).
mkdir -p "$work/pkgconfig"
sed "s|^prefix=|prefix=$dest|" "$pc" >"$work/pkgconfig/esa-plugin.pc"
PKG_CONFIG_PATH=$work/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs esa-plugin)
echo "pkg-config esa-plugin: $flags"
# -z defs: a symbol libesa does not export fails the link, not esad's load.
# shellcheck disable=SC2086
$cc -Wall -Wextra -Wno-unused-parameter -Werror -shared -fPIC -Wl,-z,defs -o "$work/example.so" \
  "$src/docs/examples/example-collector.c" $flags
cat >"$work/internal.c" <<'C'
#include <esa/esa-plugin.h>
gboolean esa_queue_remove (gpointer queue, const char *uuid, GError **error);
static gboolean
internal_init (EsaContext *ctx, GError **error)
{
  return esa_queue_remove (NULL, "x", error);
}
ESA_PLUGIN_DESCRIBE ("internal", "1.0", "uses an internal function", internal_init, NULL)
C
# shellcheck disable=SC2086
if $cc -shared -fPIC -Wl,-z,defs -o "$work/internal.so" "$work/internal.c" $flags \
  2>"$work/internal.log"; then
  echo "a plugin calling esa_queue_remove (internal) linked against the SDK"
  exit 1
fi
grep -q "undefined reference to .esa_queue_remove" "$work/internal.log" ||
  { cat "$work/internal.log"; exit 1; }
echo "internal symbol refused at link time: $(grep -m1 'undefined reference' "$work/internal.log")"
