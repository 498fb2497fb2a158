/* heartbeat.c: the daily operational test — queues a small report that tells
 * the SDC this agent is alive and can reach it. */
#include "config.h"

#include <esa/esa-plugin.h>

#define HEARTBEAT_DEFAULT_SCHEDULE "daily 02:15"
#define HEARTBEAT_DEFAULT_SPLAY_S  (2 * 3600)

static gboolean
heartbeat_run (EsaJobRun *run, gpointer user_data, GError **error)
{
  EsaContext *ctx = esa_job_run_get_context (run);
  const EsaPlatform *platform = esa_context_get_platform (ctx);
  g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "heartbeat");
  JsonObject *body = esa_report_get_body (report);
  g_autofree char *summary = NULL;

  json_object_set_string_member (body, "agent_version", ESA_VERSION);
  json_object_set_string_member (body, "hostname", platform->hostname ? platform->hostname : g_get_host_name ());
  json_object_set_string_member (body, "reason", esa_job_run_get_event (run) ? "requested" : "scheduled");
  if (!esa_context_submit (ctx, report, error))
    return FALSE;
  summary = g_strdup_printf ("queued heartbeat %s", esa_report_get_uuid (report));
  esa_job_run_set_summary (run, summary);
  return TRUE;
}

static gboolean
heartbeat_init (EsaContext *ctx, GError **error)
{
  /* A fleet must not call home in the same second: each host picks its own
   * stable moment within two hours after the slot. */
  return esa_context_add_job (ctx, "heartbeat", HEARTBEAT_DEFAULT_SCHEDULE, heartbeat_run, NULL, NULL, error) &&
         esa_context_set_job_splay (ctx, "heartbeat", HEARTBEAT_DEFAULT_SPLAY_S, error);
}

ESA_PLUGIN_DESCRIBE ("heartbeat", ESA_VERSION,
                     "Daily operational test with the SDC",
                     heartbeat_init, NULL)
