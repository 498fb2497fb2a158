/* esa-fileutil.h: durable file writes shared by the spool, state and credentials. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes @data to @path durably: a temp file in @tmp_dir (same file system;
 * NULL = beside @path), fsync, rename over @path, fsync the folder.
 * A crash at any point leaves either the old file or the new one. */
gboolean esa_file_write_atomic (const char *path, const char *tmp_dir, const char *data,
                                gsize len, int mode, GError **error);
/* Replaces the existing regular file @path the same durable way, the new
 * file keeping its mode and owner (an admin's config edited by a tool).
 * An owner other than the caller that cannot be kept (not root) is an error. */
gboolean esa_file_replace      (const char *path, const char *data, gsize len, GError **error);
/* fsync a folder so a rename in it survives a power cut. */
gboolean esa_fsync_dir         (const char *dir, GError **error);
/* Copies src to dst (streamed, fsynced). */
gboolean esa_file_copy_durable (const char *src, const char *dst, int mode, GError **error);
/* Removes a folder tree (no symlinks followed). */
void     esa_rm_rf             (const char *path);
/* mkdir -p with mode, error naming the folder. */
gboolean esa_mkdir_p           (const char *path, int mode, GError **error);

G_END_DECLS
