/* diag-aix.c: runs errpt and diag for one error-log entry and turns their
 * output into JSON with the plugin's parsers (diag-errpt.c, diag-srn.c). */
#include "config.h"

#include "diag-aix.h"
#include "diag-errpt.h"
#include "diag-srn.h"

#include <esa/esa-plugin.h>

/* diag walks the error log and may test the device: minutes on a big box. */
#define DIAG_AIX_DIAG_TIMEOUT_MS (15 * 60 * 1000)

JsonObject *
diag_aix_read_errlog (gint64 sequence, GCancellable *cancellable, GError **error)
{
  g_autofree char *seq = g_strdup_printf ("%" G_GINT64_FORMAT, sequence);
  const char *argv[] = { "errpt", "-a", "-l", seq, NULL };
  EsaSubprocessOptions opts = { .allow_failure = TRUE };
  g_autofree char *out = NULL, *err = NULL, *text = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) records = NULL;
  int status = 0;

  out = esa_subprocess_run (argv, &opts, &status, &err, cancellable, error);
  if (out == NULL)
    return NULL;
  /* errpt writes "0251-138 Cannot find error record" on stderr and exits 1:
   * the parser recognises it in either stream. */
  text = g_strconcat (out, status != 0 && err != NULL ? err : "", NULL);
  records = esa_aix_parse_errpt_a (text, warnings, error);
  if (records == NULL)
    return NULL;
  for (guint i = 0; i < warnings->len; i++)
    g_debug ("errpt -a -l %s: %s", seq, (const char *) g_ptr_array_index (warnings, i));
  if (records->len == 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "errpt -a -l %s: no error record", seq);
      return NULL;
    }
  return esa_aix_errpt_record_to_json (g_ptr_array_index (records, 0));
}

GPtrArray *
diag_aix_problems_from_text (const char *text, GError **error)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (EsaAixDiag) diag = esa_aix_parse_diag (text, warnings, error);
  g_autoptr (JsonObject) obj = NULL;
  GPtrArray *problems;
  JsonArray *list;
  if (diag == NULL)
    return NULL;
  for (guint i = 0; i < warnings->len; i++)
    g_debug ("diag: %s", (const char *) g_ptr_array_index (warnings, i));
  obj = esa_aix_diag_to_json (diag);
  list = json_object_get_array_member (obj, "problems");
  problems = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *p = json_array_get_object_element (list, i);
      /* an SRN or an SRC is what makes it reportable */
      if (json_object_get_string_member_with_default (p, "srn", NULL) == NULL &&
          json_object_get_string_member_with_default (p, "src", NULL) == NULL)
        {
          g_debug ("diag: problem %u has neither SRN nor SRC, skipped", i);
          continue;
        }
      g_ptr_array_add (problems, json_object_ref (p));
    }
  if (diag->problem_found && problems->len == 0)
    {
      g_ptr_array_unref (problems);
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "diag: reports a problem but no SRN or SRC could be read");
      return NULL;
    }
  return problems;
}

GPtrArray *
diag_aix_run_diag (const char *resource, GCancellable *cancellable, GError **error)
{
  const char *argv[] = { "diag", "-c", "-e", "-d", resource, NULL };
  EsaSubprocessOptions opts = { .timeout_ms = DIAG_AIX_DIAG_TIMEOUT_MS };
  g_autofree char *out = esa_subprocess_run (argv, &opts, NULL, NULL, cancellable, error);
  if (out == NULL)
    return NULL;
  return diag_aix_problems_from_text (out, error);
}
