/* good.c: a well-formed test plugin — one on-event job that records the
 * event data it was given in its summary, and, when the data names a file
 * ("attach"), submits a report with that file attached (the queue copies it
 * in the job's thread: test-esad checks the control socket meanwhile). */
#include "config.h"

#include <esa/esa-plugin.h>

static gboolean
good_run (EsaJobRun *run, gpointer user_data, GError **error)
{
  JsonObject *data = esa_job_run_get_event_data (run);
  g_autofree char *summary = g_strdup_printf (
      "good ran for %s (%s)", esa_job_run_get_event (run) ? esa_job_run_get_event (run) : "schedule",
      data != NULL ? json_object_get_string_member_with_default (data, "what", "-") : "-");
  const char *attach = data != NULL ? json_object_get_string_member_with_default (data, "attach", NULL) : NULL;
  esa_job_run_set_summary (run, summary);
  if (attach != NULL)
    {
      g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_EXTENDED_DATA, "good");
      if (!esa_report_add_attachment (report, attach, NULL, error) ||
          !esa_context_submit (esa_job_run_get_context (run), report, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
good_init (EsaContext *ctx, GError **error)
{
  return esa_context_add_job (ctx, "good", "on-event:good-event", good_run, NULL, NULL, error);
}

static const EsaPluginInfo good_info = {
  .abi_version = ESA_PLUGIN_ABI_VERSION,
  .struct_size = sizeof (EsaPluginInfo),
  .name = "good",
  .version = "1.0",
  .summary = "A plugin that does everything right",
  .init = good_init,
};

ESA_PLUGIN_DEFINE (good_info)
