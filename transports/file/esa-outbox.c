/* esa-outbox.c: the file transport (temp folder, fsync, rename).
 *
 * esad runs as root and the outbox may be a folder others can write to (an
 * export target, a removable disk): every operation here is relative to a
 * directory fd opened with O_NOFOLLOW, never a path walked again, so a
 * symlink planted as .tmp-<uuid> or <uuid> is never followed (removed, or
 * refused) and a write never lands outside the folder. */
#include "config.h"

#include "esa-outbox.h"
#include "esa-deliver.h"
#include "esa-fileutil.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deep enough for anything we write (one level); a planted tree deeper than
 * this is left for the admin. */
#define OUTBOX_RM_MAX_DEPTH 8

static gboolean
set_errno_error (GError **error, int err, const char *dir, const char *name, const char *what)
{
  g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s %s/%s: %s", what, dir, name, g_strerror (err));
  return FALSE;
}

static int
open_dir_at (int dfd, const char *name)
{
  return openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Creates @name in @dfd (never an existing file, never through a symlink)
 * with @len bytes of @data, or the content of @src when @data is NULL;
 * fsynced before it returns. */
static gboolean
write_file_at (int dfd, const char *dir, const char *name, const char *data, gsize len, const char *src,
               GError **error)
{
  int out = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  g_autoptr (GOutputStream) os = NULL;
  g_autoptr (GError) local = NULL;
  gboolean ok;
  if (out < 0)
    return set_errno_error (error, errno, dir, name, "cannot create");
  os = g_unix_output_stream_new (out, TRUE);
  if (data != NULL)
    ok = g_output_stream_write_all (os, data, len, NULL, NULL, &local);
  else
    {
      g_autoptr (GFile) file = g_file_new_for_path (src);
      g_autoptr (GFileInputStream) in = g_file_read (file, NULL, &local);
      ok = in != NULL && g_output_stream_splice (os, G_INPUT_STREAM (in), G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE,
                                                 NULL, &local) >= 0;
    }
  if (ok && fsync (out) != 0)
    return set_errno_error (error, errno, dir, name, "cannot sync");
  if (!ok)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot write %s/%s: %s", dir, name, local->message);
      return FALSE;
    }
  if (!g_output_stream_close (os, NULL, &local))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot write %s/%s: %s", dir, name, local->message);
      return FALSE;
    }
  return TRUE;
}

/* An attachment's name becomes a file name in the report's folder. */
static gboolean
plain_name (const char *name)
{
  return name[0] != '\0' && name[0] != '.' && strchr (name, '/') == NULL && !g_str_equal (name, "report.json");
}

/* <outbox>/<uuid> is there from an earlier export: a real folder (not a
 * symlink) holding a regular report.json. A symlink is an error, never
 * "exported before" (that would dequeue reports that were never written). */
static gboolean
exported_before (int dfd, const char *outbox, const char *uuid, gboolean *done, GError **error)
{
  struct stat st;
  int fd;
  *done = FALSE;
  if (fstatat (dfd, uuid, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? TRUE : set_errno_error (error, errno, outbox, uuid, "cannot check");
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
                   "%s/%s is a %s, not a folder this export made: refusing it (remove it and export again)",
                   outbox, uuid, S_ISLNK (st.st_mode) ? "symlink" : "file");
      return FALSE;
    }
  fd = open_dir_at (dfd, uuid);
  if (fd < 0)
    return set_errno_error (error, errno, outbox, uuid, "cannot open");
  *done = fstatat (fd, "report.json", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
  close (fd);
  if (!*done)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
                   "%s/%s exists without a report.json: refusing it (remove it and export again)", outbox, uuid);
      return FALSE;
    }
  return TRUE;
}

/* Writes the report's folder as @tmp inside @dfd; fsynced, files and folder. */
static gboolean
write_tmp (int dfd, const char *outbox, const char *tmp, EsaReport *report, GError **error)
{
  g_autoptr (JsonNode) env = NULL;
  g_autofree char *text = NULL;
  g_autofree char *where = g_build_filename (outbox, tmp, NULL);
  GPtrArray *atts = esa_report_get_attachments (report);
  gboolean ok;
  int tfd;

  env = esa_report_envelope (report, error);
  if (env == NULL)
    return FALSE;
  text = esa_json_to_string (env, TRUE);
  if (mkdirat (dfd, tmp, 0700) != 0)
    return set_errno_error (error, errno, outbox, tmp, "cannot create");
  tfd = open_dir_at (dfd, tmp);
  if (tfd < 0)
    return set_errno_error (error, errno, outbox, tmp, "cannot open");
  ok = write_file_at (tfd, where, "report.json", text, strlen (text), NULL, error);
  for (guint i = 0; ok && i < atts->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (atts, i);
      if (!plain_name (att->name))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "attachment name \"%s\": expected a plain file name", att->name);
          ok = FALSE;
        }
      else
        ok = write_file_at (tfd, where, att->name, NULL, 0, att->path, error);
    }
  if (ok && fsync (tfd) != 0)
    ok = set_errno_error (error, errno, outbox, tmp, "cannot sync");
  close (tfd);
  return ok;
}

gboolean
esa_outbox_write (const char *outbox, EsaReport *report, GError **error)
{
  const char *uuid = esa_report_get_uuid (report);
  g_autofree char *tmp = g_strdup_printf (".tmp-%s", uuid);
  gboolean done = FALSE;
  gboolean ok;
  int dfd;

  if (!esa_mkdir_p (outbox, 0700, error))
    return FALSE;
  dfd = open (outbox, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    {
      int err = errno;
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot open the folder %s: %s%s", outbox,
                   g_strerror (err), err == ELOOP ? " (a symlink: give the real folder)" : "");
      return FALSE;
    }
  ok = exported_before (dfd, outbox, uuid, &done, error);
  if (ok && !done)
    {
      /* What an interrupted export left, or what someone planted: removed
       * as itself (a symlink's target is never touched). */
      if (!esa_fileutil_rmtree_at_depth (dfd, tmp, OUTBOX_RM_MAX_DEPTH))
        ok = set_errno_error (error, errno ? errno : EEXIST, outbox, tmp, "cannot remove");
      else if (!write_tmp (dfd, outbox, tmp, report, error))
        {
          esa_fileutil_rmtree_at_depth (dfd, tmp, OUTBOX_RM_MAX_DEPTH);
          ok = FALSE;
        }
      /* A directory never replaces a symlink or file (ENOTDIR), nor a
       * non-empty folder: whatever appeared at <uuid> meanwhile, it fails. */
      else if (renameat (dfd, tmp, dfd, uuid) != 0)
        {
          ok = set_errno_error (error, errno, outbox, uuid, "cannot move the report folder to");
          esa_fileutil_rmtree_at_depth (dfd, tmp, OUTBOX_RM_MAX_DEPTH);
        }
      else if (fsync (dfd) != 0)
        ok = set_errno_error (error, errno, outbox, "", "cannot sync");
    }
  close (dfd);
  return ok;
}
