/* snap-repack.c: unpack, redact, repack an AIX snap archive (see
 * snap-repack.h). Members are read one at a time into memory; the total is
 * capped so a hostile archive cannot fill memory. */
#include "config.h"

#include "snap-repack.h"
#include "snap-archive-lib.h"
#include "snap-redact.h"

#include <esa/esa-error.h>
#include <string.h>

char *
snap_redact_text (SnapTokens *tokens, const char *text, gsize len, guint *n)
{
  guint secrets = 0, replaced = 0;
  g_autofree char *clean = snap_redact (text, len, &secrets);
  char *out = snap_tokenize (tokens, clean, strlen (clean), &replaced);
  if (n != NULL)
    *n = secrets + replaced;
  return out;
}

static void
note (JsonArray *notes, const char *item, guint n)
{
  JsonObject *o;
  if (notes == NULL)
    return;
  o = json_object_new ();
  json_object_set_string_member (o, "item", item);
  json_object_set_string_member (o, "status", "redacted");
  {
    g_autofree char *detail = g_strdup_printf ("%u value%s", n, n == 1 ? "" : "s");
    json_object_set_string_member (o, "detail", detail);
  }
  json_array_add_object_element (notes, o);
}

/* Appends the rest of the current member to @buf; FALSE on a read error or
 * when the archive unpacks to more than SNAP_REPACK_MAX_UNPACKED. */
static gboolean
read_member (struct archive *in, const char *path, GByteArray *buf, guint64 *total, GError **error)
{
  guint8 chunk[65536];
  for (;;)
    {
      la_ssize_t n = archive_read_data (in, chunk, sizeof chunk);
      if (n == 0)
        return TRUE;
      if (n < 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: %s", path, archive_error_string (in));
          return FALSE;
        }
      *total += (guint64) n;
      if (*total > SNAP_REPACK_MAX_UNPACKED)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "%s: unpacks to more than %" G_GUINT64_FORMAT " bytes", path, SNAP_REPACK_MAX_UNPACKED);
          return FALSE;
        }
      g_byte_array_append (buf, chunk, (guint) n);
    }
}

static gboolean
repack_redacted (const char *in_path, const char *out_path, SnapTokens *tokens, JsonArray *notes,
                 GError **error)
{
  struct archive *in = archive_read_new ();
  struct archive *out = archive_write_new ();
  struct archive_entry *entry;
  guint64 total = 0;
  gboolean ok = TRUE;
  int rc = ARCHIVE_OK;

  archive_read_support_filter_all (in);
  archive_read_support_format_all (in);
  if (archive_read_open_filename (in, in_path, 65536) != ARCHIVE_OK)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: %s", in_path, archive_error_string (in));
      archive_read_free (in);
      archive_write_free (out);
      return FALSE;
    }
  if ((g_str_has_suffix (out_path, ".Z") ? archive_write_add_filter_compress (out)
                                         : archive_write_add_filter_gzip (out)) != ARCHIVE_OK ||
      archive_write_set_format_pax_restricted (out) != ARCHIVE_OK ||
      archive_write_open_filename (out, out_path) != ARCHIVE_OK)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", out_path, archive_error_string (out));
      archive_read_free (in);
      archive_write_free (out);
      return FALSE;
    }
  while (ok && (rc = archive_read_next_header (in, &entry)) == ARCHIVE_OK)
    {
      const char *name = archive_entry_pathname (entry);
      g_autoptr (GByteArray) buf = g_byte_array_new ();
      g_autofree char *clean = NULL;
      const guint8 *data;
      gsize len;
      struct archive_entry *copy;
      if (archive_entry_filetype (entry) == AE_IFREG)
        ok = read_member (in, name, buf, &total, error);
      if (!ok)
        break;
      data = buf->data;
      len = buf->len;
      if (len > 0 && memchr (data, '\0', len) == NULL)
        {
          guint n = 0;
          clean = snap_redact_text (tokens, (const char *) data, len, &n);
          if (n > 0)
            note (notes, name, n);
          data = (const guint8 *) clean;
          len = strlen (clean);
        }
      copy = archive_entry_clone (entry);
      if (archive_entry_filetype (entry) == AE_IFREG)
        archive_entry_set_size (copy, (la_int64_t) len);
      if (archive_write_header (out, copy) != ARCHIVE_OK ||
          (len > 0 && archive_write_data (out, data, len) != (la_ssize_t) len))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s: %s", out_path, name, archive_error_string (out));
          ok = FALSE;
        }
      archive_entry_free (copy);
    }
  if (ok && rc != ARCHIVE_EOF)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: %s", in_path, archive_error_string (in));
      ok = FALSE;
    }
  if (archive_write_close (out) != ARCHIVE_OK && ok)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", out_path, archive_error_string (out));
      ok = FALSE;
    }
  archive_write_free (out);
  archive_read_free (in);
  return ok;
}

gboolean
snap_repack_redacted (const char *in_path, const char *out_path, SnapTokens *tokens, JsonArray *notes,
                      GError **error)
{
  gboolean ok;
  if (!snap_archive_lib_open (error))
    return FALSE;
  ok = repack_redacted (in_path, out_path, tokens, notes, error);
  snap_archive_lib_close ();
  return ok;
}
