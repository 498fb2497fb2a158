/* esa-proxy-file.h: reads the small text files esa-proxy is configured with. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads path, which must be a regular file of at most max_size bytes holding no NUL byte
 * (a NUL would silently end the text early). Never blocks on a FIFO, never grows without
 * bound on a device. The error message says what is wrong, without the path. */
char *esa_proxy_file_read (const char *path,
                           gsize       max_size,
                           GError    **error);

G_END_DECLS
