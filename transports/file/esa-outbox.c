/* esa-outbox.c: the file transport (temp folder, fsync, rename). */
#include "config.h"

#include "esa-outbox.h"
#include "esa-deliver.h"
#include "esa-fileutil.h"
#include "esa/esa-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

gboolean
esa_outbox_write (const char *outbox, EsaReport *report, GError **error)
{
  const char *uuid = esa_report_get_uuid (report);
  g_autofree char *tmp_name = g_strdup_printf (".tmp-%s", uuid);
  g_autofree char *tmp = g_build_filename (outbox, tmp_name, NULL);
  g_autofree char *final = g_build_filename (outbox, uuid, NULL);
  g_autofree char *json_path = g_build_filename (tmp, "report.json", NULL);
  g_autoptr (JsonNode) env = NULL;
  g_autofree char *text = NULL;
  GPtrArray *atts = esa_report_get_attachments (report);

  if (g_file_test (final, G_FILE_TEST_IS_DIR))
    return TRUE; /* exported before: same uuid, same content */
  if (!esa_mkdir_p (outbox, 0700, error))
    return FALSE;
  esa_rm_rf (tmp);
  if (!esa_mkdir_p (tmp, 0700, error))
    return FALSE;
  env = esa_report_envelope (report, error);
  if (env == NULL)
    return FALSE;
  text = json_to_string (env, TRUE);
  if (!esa_file_write_atomic (json_path, NULL, text, strlen (text), 0600, error))
    return FALSE;
  for (guint i = 0; i < atts->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (atts, i);
      g_autofree char *dst = g_build_filename (tmp, att->name, NULL);
      if (!esa_file_copy_durable (att->path, dst, 0600, error))
        {
          esa_rm_rf (tmp);
          return FALSE;
        }
    }
  if (g_rename (tmp, final) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot move %s to %s: %s", tmp, final,
                   g_strerror (errno));
      esa_rm_rf (tmp);
      return FALSE;
    }
  return esa_fsync_dir (outbox, error);
}
