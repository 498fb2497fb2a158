/* esa-fileutil.c: durable writes (temp + fsync + rename + fsync dir). */
#include "config.h"

#include "esa-fileutil.h"
#include "esa/esa-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean
set_errno_error (GError **error, const char *what, const char *path)
{
  int e = errno;
  g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s %s: %s", what, path, g_strerror (e));
  return FALSE;
}

gboolean
esa_fsync_dir (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return set_errno_error (error, "cannot open folder", dir);
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      close (fd);
      return set_errno_error (error, "cannot sync folder", dir);
    }
  close (fd);
  return TRUE;
}

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* The temp file gets @like's mode and owner (when not NULL) before any byte
 * is written, so the file never exists under its name with other ones. */
static gboolean
write_atomic (const char *path, const char *tmp_dir, const char *data, gsize len, int mode,
              const struct stat *like, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmpl = g_strdup_printf ("%s/.%s.XXXXXX", tmp_dir ? tmp_dir : dir, base);
  int fd = g_mkstemp_full (tmpl, O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0)
    return set_errno_error (error, "cannot create", tmpl);
  if (like != NULL &&
      ((fchown (fd, like->st_uid, like->st_gid) != 0 && (like->st_uid != geteuid () || errno != EPERM)) ||
       fchmod (fd, like->st_mode & 07777) != 0))
    {
      set_errno_error (error, "cannot give the mode and owner of the original to", tmpl);
      close (fd);
      g_unlink (tmpl);
      return FALSE;
    }
  if (!write_all (fd, data, len) || fsync (fd) != 0)
    {
      set_errno_error (error, "cannot write", tmpl);
      close (fd);
      g_unlink (tmpl);
      return FALSE;
    }
  if (close (fd) != 0)
    {
      set_errno_error (error, "cannot write", tmpl);
      g_unlink (tmpl);
      return FALSE;
    }
  if (g_rename (tmpl, path) != 0)
    {
      set_errno_error (error, "cannot rename into", path);
      g_unlink (tmpl);
      return FALSE;
    }
  return esa_fsync_dir (dir, error);
}

gboolean
esa_file_write_atomic (const char *path, const char *tmp_dir, const char *data, gsize len,
                       int mode, GError **error)
{
  return write_atomic (path, tmp_dir, data, len, mode, NULL, error);
}

gboolean
esa_file_replace (const char *path, const char *data, gsize len, GError **error)
{
  struct stat st;
  if (lstat (path, &st) != 0)
    return set_errno_error (error, "cannot stat", path);
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s is not a regular file (not replaced)", path);
      return FALSE;
    }
  return write_atomic (path, NULL, data, len, 0600, &st, error);
}

static gboolean
copy_fd (int in, int out, const char *src, const char *dst, GError **error)
{
  char buf[64 * 1024];
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_errno_error (error, "cannot read", src);
      if (n == 0)
        break;
      if (!write_all (out, buf, (gsize) n))
        return set_errno_error (error, "cannot write", dst);
    }
  if (fsync (out) != 0)
    return set_errno_error (error, "cannot sync", dst);
  return TRUE;
}

gboolean
esa_file_copy_durable (const char *src, const char *dst, int mode, GError **error)
{
  int in = open (src, O_RDONLY | O_CLOEXEC);
  int out;
  gboolean ok;
  if (in < 0)
    return set_errno_error (error, "cannot open", src);
  out = open (dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0)
    {
      close (in);
      return set_errno_error (error, "cannot create", dst);
    }
  ok = copy_fd (in, out, src, dst, error);
  close (in);
  if (close (out) != 0 && ok)
    return set_errno_error (error, "cannot write", dst);
  return ok;
}

void
esa_rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      const char *name;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            esa_rm_rf (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

gboolean
esa_mkdir_p (const char *path, int mode, GError **error)
{
  if (g_mkdir_with_parents (path, mode) != 0)
    return set_errno_error (error, "cannot create folder", path);
  return TRUE;
}
