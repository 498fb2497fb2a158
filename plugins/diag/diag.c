/* diag.c: the diag plugin module — hardware problem reporting. Registers the
 * errlog job (AIX errnotify / esactl notify), the Linux EDAC watcher and the
 * `esactl problem` commands; the work is in diag-reporter.c. */
#include "config.h"

#include <esa/esa-plugin.h>

#include "diag-commands.h"
#include "diag-reporter.h"

#define DIAG_EDAC_SCHEDULE "every 10m"

static DiagPlugin *diag_plugin; /* one per process: the module is loaded once */

static gboolean
diag_errlog_run (EsaJobRun *run, gpointer user_data, GError **error)
{
  DiagPlugin *plugin = user_data;
  g_autofree char *summary = diag_handle_errlog (plugin, esa_job_run_get_event_data (run),
                                                 esa_job_run_get_cancellable (run), error);
  if (summary == NULL)
    return FALSE;
  esa_job_run_set_summary (run, summary);
  return TRUE;
}

static gboolean
diag_edac_run (EsaJobRun *run, gpointer user_data, GError **error)
{
  DiagPlugin *plugin = user_data;
  g_autofree char *summary = diag_edac_scan (plugin, esa_job_run_get_cancellable (run), error);
  if (summary == NULL)
    return FALSE;
  esa_job_run_set_summary (run, summary);
  return TRUE;
}

static void
diag_delivered (EsaContext *ctx, const char *uuid, const char *kind, JsonObject *answer, gpointer user_data)
{
  (void) ctx;
  diag_plugin_delivered (user_data, uuid, kind, answer);
}

static gboolean
diag_init (EsaContext *ctx, GError **error)
{
  const EsaPlatform *platform = esa_context_get_platform (ctx);
  DiagPlugin *plugin = diag_plugin_new (ctx, error);
  if (plugin == NULL)
    return FALSE;
  diag_plugin = plugin;
  esa_context_on_delivered (ctx, diag_delivered, plugin);
  if (!esa_context_add_job (ctx, "errlog", "on-event:errlog", diag_errlog_run, plugin, NULL, error))
    return FALSE;
  /* AIX has errnotify; elsewhere we look at the counters ourselves */
  if (g_strcmp0 (platform->os, "AIX") != 0 &&
      !esa_context_add_job (ctx, "edac-watch", DIAG_EDAC_SCHEDULE, diag_edac_run, plugin, NULL, error))
    return FALSE;
  return diag_commands_register (plugin, error);
}

static void
diag_shutdown (EsaContext *ctx)
{
  (void) ctx;
  g_clear_pointer (&diag_plugin, diag_plugin_free);
}

ESA_PLUGIN_DESCRIBE ("diag", ESA_VERSION,
                     "Hardware problem reporting (errpt/diag on AIX, EDAC on Linux)",
                     diag_init, diag_shutdown)
