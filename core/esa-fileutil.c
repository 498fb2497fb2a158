/* esa-fileutil.c: durable writes (temp + fsync + rename + fsync dir), by path
 * and relative to folder fds (openat/renameat/unlinkat, never following a
 * symlink at the name), and the copy that hashes while it copies. */
#include "config.h"

#include "esa-fileutil.h"
#include "esa/esa-error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Big enough that a 512 MiB copy is a few thousand system calls; small
 * enough to stay off the daemon's resident size. */
#define COPY_CHUNK (256 * 1024)
/* Start write-back every this many bytes so the final fsync of a big
 * attachment does not wait for all of it (and dirty pages do not pile up). */
#define WRITEBACK_STEP (8 * 1024 * 1024)

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
  esa_fileutil_rmtree_at (AT_FDCWD, path);
}

gboolean
esa_mkdir_p (const char *path, int mode, GError **error)
{
  if (g_mkdir_with_parents (path, mode) != 0)
    return set_errno_error (error, "cannot create folder", path);
  return TRUE;
}

/* G_IO_ERROR: callers tell "gone" (G_IO_ERROR_NOT_FOUND) from "not now". */
static gboolean
set_io_error (GError **error, const char *what, const char *path)
{
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s %s: %s", what, path, g_strerror (e));
  return FALSE;
}

static gboolean
set_errno_error_at (GError **error, const char *what, const char *folder, const char *name)
{
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s %s/%s: %s", what, folder, name,
               g_strerror (e));
  return FALSE;
}

int
esa_fileutil_open_dir_at (int dirfd, const char *what, const char *name, gboolean create, int mode,
                          GError **error)
{
  int fd;
  if (create && mkdirat (dirfd, name, (mode_t) mode) != 0 && errno != EEXIST)
    {
      set_errno_error_at (error, "cannot create folder", what, name);
      return -1;
    }
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    set_errno_error_at (error, "cannot open folder", what, name);
  return fd;
}

gboolean
esa_fileutil_rmtree_at (int parent, const char *name)
{
  return esa_fileutil_rmtree_at_depth (parent, name, G_MAXUINT);
}

gboolean
esa_fileutil_rmtree_at_depth (int parent, const char *name, guint max_depth)
{
  struct stat st;
  int fd;
  DIR *d;
  struct dirent *de;
  gboolean ok = TRUE;
  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT;
  if (!S_ISDIR (st.st_mode))
    return unlinkat (parent, name, 0) == 0 || errno == ENOENT;
  if (max_depth == 0)
    return FALSE;
  /* O_NOFOLLOW: a folder swapped for a link after the fstatat is refused, not entered. */
  fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return unlinkat (parent, name, 0) == 0;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return FALSE;
    }
  while ((de = readdir (d)) != NULL)
    {
      if (g_str_equal (de->d_name, ".") || g_str_equal (de->d_name, ".."))
        continue;
      if (!esa_fileutil_rmtree_at_depth (dirfd (d), de->d_name, max_depth - 1))
        ok = FALSE;
    }
  closedir (d);
  if (unlinkat (parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    ok = FALSE;
  return ok;
}

gboolean
esa_fileutil_fsync_fd (int dirfd, const char *what, GError **error)
{
  if (fsync (dirfd) != 0 && errno != EINVAL)
    return set_errno_error (error, "cannot sync folder", what);
  return TRUE;
}

int
esa_fileutil_create_at (int dirfd, const char *what, const char *name, int mode, GError **error)
{
  int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t) mode);
  if (fd < 0)
    set_errno_error_at (error, "cannot create", what, name);
  return fd;
}

gboolean
esa_fileutil_write_at (int dirfd, const char *what, const char *name, int tmp_dirfd,
                       const char *data, gsize len, int mode, gboolean sync_dir, GError **error)
{
  g_autofree char *rnd = g_uuid_string_random ();
  g_autofree char *tmp_name = g_strdup_printf (".%s.%s", name, rnd);
  int fd = esa_fileutil_create_at (tmp_dirfd, what, tmp_name, mode, error);
  if (fd < 0)
    return FALSE;
  if (!write_all (fd, data, len) || fsync (fd) != 0)
    {
      set_errno_error_at (error, "cannot write", what, tmp_name);
      close (fd);
      unlinkat (tmp_dirfd, tmp_name, 0);
      return FALSE;
    }
  if (close (fd) != 0)
    {
      set_errno_error_at (error, "cannot write", what, tmp_name);
      unlinkat (tmp_dirfd, tmp_name, 0);
      return FALSE;
    }
  /* renameat replaces a planted symlink at @name itself; it never writes through it. */
  if (renameat (tmp_dirfd, tmp_name, dirfd, name) != 0)
    {
      set_errno_error_at (error, "cannot rename into", what, name);
      unlinkat (tmp_dirfd, tmp_name, 0);
      return FALSE;
    }
  return !sync_dir || esa_fileutil_fsync_fd (dirfd, what, error);
}

static char *
digest_hex (const guint8 digest[32])
{
  char *hex = g_malloc (65);
  for (guint i = 0; i < 32; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

/* The copy into the spool is written by a second thread while this one
 * reads and hashes the next piece: on two cores a big attachment's copy takes
 * about as long as its hash, not hash + write. Both see the same buffer, so
 * the SHA-256 kept is that of the bytes written. */
#define COPY_PIECES 3

typedef struct {
  char *data;
  gsize len;  /* 0: the end */
} Piece;

typedef struct {
  int out;
  GAsyncQueue *full;   /* pieces to write, in order */
  GAsyncQueue *empty;  /* pieces to read into */
  int error;           /* atomic: errno of the first failed write */
} Writer;

static gpointer
writer_thread (gpointer user_data)
{
  Writer *w = user_data;
  guint64 total = 0, flushed = 0;
  for (;;)
    {
      Piece *p = g_async_queue_pop (w->full);
      gsize len = p->len;
      /* After a failed write the pieces still come back, unwritten. */
      if (len > 0 && g_atomic_int_get (&w->error) == 0)
        {
          if (!write_all (w->out, p->data, len))
            g_atomic_int_set (&w->error, errno != 0 ? errno : EIO);
          total += len;
#ifdef SYNC_FILE_RANGE_WRITE
          if (total - flushed >= WRITEBACK_STEP)
            {
              sync_file_range (w->out, (off_t) flushed, (off_t) (total - flushed), SYNC_FILE_RANGE_WRITE);
              flushed = total;
            }
#else
          (void) flushed;
#endif
        }
      g_async_queue_push (w->empty, p);
      if (len == 0)
        return NULL;
    }
}

/* Reads @in to the end, hashing, and (@out >= 0) writes and fsyncs a copy.
 * The one loop behind both the spool's copy and a plain hash. */
static gboolean
hash_stream (int in, const char *src, int out, const char *what, const char *dst_name,
             guint64 *size_out, char **sha256_out, GError **error)
{
  Piece pieces[COPY_PIECES];
  Writer w = { .out = out };
  GThread *thread = NULL;
  gnutls_hash_hd_t h = NULL;
  guint8 digest[32];
  guint64 total = 0;
  gboolean ok = FALSE, read_failed = FALSE;
  if (gnutls_hash_init (&h, GNUTLS_DIG_SHA256) < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot start a SHA-256");
      return FALSE;
    }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise (in, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  w.full = g_async_queue_new ();
  w.empty = g_async_queue_new ();
  for (guint i = 0; i < (out >= 0 ? COPY_PIECES : 1); i++)
    {
      pieces[i].data = g_malloc (COPY_CHUNK);
      g_async_queue_push (w.empty, &pieces[i]);
    }
  if (out >= 0)
    thread = g_thread_new ("esa-copy", writer_thread, &w);
  for (;;)
    {
      Piece *p = g_async_queue_pop (w.empty);
      ssize_t n = read (in, p->data, COPY_CHUNK);
      if (n < 0 && errno == EINTR)
        {
          g_async_queue_push_front (w.empty, p);
          continue;
        }
      p->len = n > 0 ? (gsize) n : 0;
      if (n <= 0 || g_atomic_int_get (&w.error) != 0)
        {
          if (n < 0)
            read_failed = !set_io_error (error, "cannot read", src);
          else if (n == 0)
            ok = TRUE;
          p->len = 0;
          if (thread != NULL)
            g_async_queue_push (w.full, p);
          break;
        }
      gnutls_hash (h, p->data, p->len);
      total += p->len;
      if (thread != NULL)
        g_async_queue_push (w.full, p);
      else
        g_async_queue_push (w.empty, p);
    }
  if (thread != NULL)
    g_thread_join (thread);
  for (guint i = 0; i < (out >= 0 ? COPY_PIECES : 1); i++)
    g_free (pieces[i].data);
  g_async_queue_unref (w.full);
  g_async_queue_unref (w.empty);
  gnutls_hash_deinit (h, digest);
  if (w.error != 0)
    {
      /* a read error, if any, came later and is already set */
      if (!read_failed)
        {
          errno = w.error;
          set_errno_error_at (error, "cannot write", what, dst_name);
        }
      ok = FALSE;
    }
  if (ok && out >= 0 && fsync (out) != 0)
    ok = set_errno_error_at (error, "cannot sync", what, dst_name);
  if (!ok)
    return FALSE;
  if (size_out != NULL)
    *size_out = total;
  if (sha256_out != NULL)
    *sha256_out = digest_hex (digest);
  return TRUE;
}

gboolean
esa_fileutil_copy_hash_at (const char *src, int dst_dirfd, const char *what, const char *dst_name,
                           int mode, guint64 *size_out, char **sha256_out, GError **error)
{
  gboolean ok;
  int in, out;
  in = open (src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (in < 0)
    return set_io_error (error, "cannot open", src);
  out = esa_fileutil_create_at (dst_dirfd, what, dst_name, mode, error);
  if (out < 0)
    {
      close (in);
      return FALSE;
    }
  ok = hash_stream (in, src, out, what, dst_name, size_out, sha256_out, error);
  close (in);
  if (close (out) != 0 && ok)
    {
      set_errno_error_at (error, "cannot write", what, dst_name);
      g_clear_pointer (sha256_out, g_free);
      return FALSE;
    }
  return ok;
}

char *
esa_fileutil_sha256_file (const char *path, guint64 *size_out, GError **error)
{
  char *sha256 = NULL;
  int in = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (in < 0)
    {
      set_io_error (error, "cannot open", path);
      return NULL;
    }
  hash_stream (in, path, -1, NULL, NULL, size_out, &sha256, error);
  close (in);
  return sha256;
}
