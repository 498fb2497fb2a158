/* sdc-upload.c: one attachment being streamed to disk.
 *
 * Attachments (snap archives) can be hundreds of MiB, so the server never holds one in
 * memory: each chunk libsoup reads is hashed and appended to a temporary file, and only
 * a complete upload whose SHA-256 matches is renamed to its final name. A crash or a
 * dropped connection leaves at most a *.part file, never a truncated attachment.
 * The hash is GnuTLS's (SHA-NI where the CPU has it): GChecksum's portable
 * SHA-256 took about 1.8 s of this one thread's CPU per 512 MiB, more than the
 * TLS decryption and the writes together. */
#include "config.h"

#include "sdc-upload.h"
#include "sdc-error.h"
#include "sdc-fsync.h"
#include "esa/esa-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <string.h>
#include <unistd.h>

struct _SdcUpload {
  char *final_path;
  char *tmp_path;
  int fd;
  gnutls_hash_hd_t sha;
  char *expected_sha256;
  char *sha256;
  gint64 expected_size;
  gint64 received;
  gboolean done;
};

static gboolean
errno_error (GError **error, int errsv, const char *path, const char *what)
{
  g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: %s: %s", path, what, g_strerror (errsv));
  return FALSE;
}

SdcUpload *
sdc_upload_new (const char *final_path, const char *expected_sha256, gint64 expected_size,
                GError **error)
{
  g_autofree char *dir = g_path_get_dirname (final_path);
  g_autofree char *base = g_path_get_basename (final_path);
  g_autofree char *tmpl = NULL;
  SdcUpload *up;
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      errno_error (error, errno, dir, "mkdir");
      return NULL;
    }
  /* a leading '.' cannot collide with an accepted attachment name */
  tmpl = g_strdup_printf ("%s/.%s.part-XXXXXX", dir, base);
  fd = g_mkstemp_full (tmpl, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      errno_error (error, errno, tmpl, "create");
      return NULL;
    }
  up = g_new0 (SdcUpload, 1);
  if (gnutls_hash_init (&up->sha, GNUTLS_DIG_SHA256) < 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: cannot start a SHA-256", tmpl);
      close (fd);
      g_unlink (tmpl);
      g_free (up);
      return NULL;
    }
  up->final_path = g_strdup (final_path);
  up->tmp_path = g_steal_pointer (&tmpl);
  up->fd = fd;
  up->expected_sha256 = g_ascii_strdown (expected_sha256, -1);
  up->expected_size = expected_size;
  return up;
}

gboolean
sdc_upload_write (SdcUpload *up, const guint8 *data, gsize len, GError **error)
{
  gsize off = 0;
  gnutls_hash (up->sha, data, len);
  up->received += (gint64) len;
  while (off < len)
    {
      ssize_t n = write (up->fd, data + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return errno_error (error, errno, up->tmp_path, "write");
      off += (gsize) n;
    }
  return TRUE;
}

gboolean
sdc_upload_finish (SdcUpload *up, GError **error)
{
  guint8 digest[32];
  if (up->sha256 == NULL)
    {
      gnutls_hash_output (up->sha, digest);
      up->sha256 = g_malloc (65);
      for (guint i = 0; i < sizeof digest; i++)
        g_snprintf (up->sha256 + 2 * i, 3, "%02x", digest[i]);
    }
  if (up->received != up->expected_size)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   "received %" G_GINT64_FORMAT " bytes, Content-Length said %" G_GINT64_FORMAT,
                   up->received, up->expected_size);
      return FALSE;
    }
  if (g_strcmp0 (up->sha256, up->expected_sha256) != 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_CHECKSUM_MISMATCH,
                   "SHA-256 of the received data is %s, " ESA_PROTOCOL_HEADER_SHA256 " said %s", up->sha256,
                   up->expected_sha256);
      return FALSE;
    }
  if (fsync (up->fd) != 0)
    return errno_error (error, errno, up->tmp_path, "fsync");
  if (close (up->fd) != 0)
    {
      up->fd = -1;
      return errno_error (error, errno, up->tmp_path, "close");
    }
  up->fd = -1;
  if (g_rename (up->tmp_path, up->final_path) != 0)
    return errno_error (error, errno, up->final_path, "rename");
  up->done = TRUE;
  /* the rename itself must survive a crash before the SDC answers 200 */
  sdc_fsync_parent_dir (up->final_path);
  return TRUE;
}

gint64
sdc_upload_get_received (SdcUpload *up)
{
  return up->received;
}

const char *
sdc_upload_get_sha256 (SdcUpload *up)
{
  return up->sha256;
}

void
sdc_upload_free (SdcUpload *up)
{
  if (up == NULL)
    return;
  if (up->fd >= 0)
    close (up->fd);
  if (!up->done)
    g_unlink (up->tmp_path);
  gnutls_hash_deinit (up->sha, NULL);
  g_free (up->final_path);
  g_free (up->tmp_path);
  g_free (up->expected_sha256);
  g_free (up->sha256);
  g_free (up);
}
