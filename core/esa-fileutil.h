/* esa-fileutil.h: durable file writes shared by the spool, state and credentials,
 * and their fd-relative forms for folders a less trusted user may reach. */
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
/* Removes a folder tree; a symlink, at the top or below, is removed, never followed. */
void     esa_rm_rf             (const char *path);
/* mkdir -p with mode, error naming the folder. */
gboolean esa_mkdir_p           (const char *path, int mode, GError **error);

/* ---- fd-relative forms ----
 * Every name below is one path component inside the folder open as @dirfd
 * (AT_FDCWD allowed); none of them follows a symlink at that name, so a link
 * planted in a folder cannot redirect a root write or delete elsewhere.
 * @what names the folder in error messages. */

/* Opens (with @create: first creates, mode @mode) the folder @name inside
 * @dirfd: O_DIRECTORY | O_NOFOLLOW. Returns the fd or -1 with @error set. */
int      esa_fileutil_open_dir_at   (int dirfd, const char *what, const char *name, gboolean create,
                                     int mode, GError **error);
/* rm -rf of @name inside @dirfd: lstat (fstatat AT_SYMLINK_NOFOLLOW), folders
 * opened O_NOFOLLOW and emptied through their fd, everything else unlinkat'ed.
 * Absent is fine. FALSE (errno set) if something could not be removed. */
gboolean esa_fileutil_rmtree_at     (int dirfd, const char *name);
/* The same, refusing (FALSE) to go below @max_depth levels of folders: for a
 * folder others can write to, where a planted tree could be arbitrarily deep. */
gboolean esa_fileutil_rmtree_at_depth (int dirfd, const char *name, guint max_depth);
/* fsync the folder open as @dirfd. */
gboolean esa_fileutil_fsync_fd      (int dirfd, const char *what, GError **error);
/* Creates @name inside @dirfd exclusively (O_CREAT | O_EXCL | O_NOFOLLOW);
 * returns the fd or -1 with @error set. */
int      esa_fileutil_create_at     (int dirfd, const char *what, const char *name, int mode,
                                     GError **error);
/* Writes @data durably as @name inside @dirfd: a fresh temp file in @tmp_dirfd
 * (same file system), fsync, renameat over @name, fsync @dirfd unless
 * @sync_dir is FALSE (the caller syncs the folder once for several renames). */
gboolean esa_fileutil_write_at      (int dirfd, const char *what, const char *name, int tmp_dirfd,
                                     const char *data, gsize len, int mode, gboolean sync_dir,
                                     GError **error);
/* Copies the file at @src (outside input: opened read-only, never written) to
 * a new @dst_name inside @dst_dirfd, fsynced, computing its SHA-256 (lower-case
 * hex into @sha256_out) and size on the way: the bytes are read once. */
gboolean esa_fileutil_copy_hash_at  (const char *src, int dst_dirfd, const char *what,
                                     const char *dst_name, int mode, guint64 *size_out,
                                     char **sha256_out, GError **error);
/* SHA-256 (lower-case hex) and size of a file, streamed; G_IO_ERROR_NOT_FOUND
 * when it is absent. For reports spooled before the hash was kept. */
char    *esa_fileutil_sha256_file   (const char *path, guint64 *size_out, GError **error);

G_END_DECLS
