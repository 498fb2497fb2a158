/* esa-platform-private.h: the two platform back-ends behind esa_platform_detect(). */
#pragma once

#include "esa/esa-platform.h"

G_BEGIN_DECLS

EsaPlatform *esa_platform_new (void);
void esa_platform_warn (EsaPlatform *self, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* AIX: uname, prtconf, lsattr -El sys0, lsmcode -c, hostname (through
 * esa_subprocess_run, so ESA_COMMAND_PATH fakes them). FALSE when no command
 * gave anything. */
gboolean esa_platform_detect_aix (EsaPlatform *self, GError **error);

/* Linux: /sys/class/dmi/id, /proc/device-tree, /proc/ppc64/lparcfg,
 * os-release and /proc/sys/kernel under sysroot ("/" normally, ESA_SYSROOT in
 * tests), plus systemd-detect-virt when present. */
gboolean esa_platform_detect_linux (EsaPlatform *self, const char *sysroot, GError **error);

G_END_DECLS
