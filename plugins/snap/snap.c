/* snap.c: the snap plugin module — extended error data. One job, run for
 * every problem diag reports (event problem-reported); see snap-job.c. */
#include "config.h"

#include <esa/esa-plugin.h>

#include "snap-job.h"

static SnapPlugin *snap_plugin;

static gboolean
snap_job_run (EsaJobRun *run, gpointer user_data, GError **error)
{
  g_autofree char *summary = snap_run_for_problem (user_data, esa_job_run_get_event_data (run),
                                                   esa_job_run_get_cancellable (run), error);
  if (summary == NULL)
    return FALSE;
  esa_job_run_set_summary (run, summary);
  return TRUE;
}

static gboolean
snap_init (EsaContext *ctx, GError **error)
{
  snap_plugin = snap_plugin_new (ctx, error);
  if (snap_plugin == NULL)
    return FALSE;
  return esa_context_add_job (ctx, "snap", "on-event:problem-reported", snap_job_run, snap_plugin, NULL, error);
}

static void
snap_shutdown (EsaContext *ctx)
{
  (void) ctx;
  g_clear_pointer (&snap_plugin, snap_plugin_free);
}

ESA_PLUGIN_DESCRIBE ("snap", ESA_VERSION,
                     "Extended error data (snap -g) for reported problems",
                     snap_init, snap_shutdown)
