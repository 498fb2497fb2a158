/* example-collector.c: a complete third-party collector for OpenESA, built
 * out of the tree from the installed SDK (docs/plugin-sdk.md):
 *
 *   cc -shared -fPIC -Wl,-z,defs -o example.so example-collector.c \
 *      $(pkg-config --cflags --libs esa-plugin)
 *   install -o root -m 0755 example.so $(pkg-config --variable=plugindir esa-plugin)
 *   esactl plugin enable example     # then restart esad
 *
 * Once a day it runs `uname -a` (through the core's safe subprocess runner),
 * builds an inventory report and hands it to the core, which queues it
 * durably and delivers it to the SDC. It also serves `esactl example show`.
 * Settings, all optional, in esa.conf:
 *   [plugin.example]
 *   label=rack 12        a free text sent with every report
 *   [job.example]
 *   schedule=daily 04:30 overrides the schedule below */
#define G_LOG_DOMAIN "esa-example" /* before any GLib header */
#include <esa/esa-plugin.h>

/* What one run collects: the report's JSON body. */
static JsonObject *
collect_body (EsaContext *ctx, GError **error)
{
  const EsaPlatform *platform = esa_context_get_platform (ctx);
  g_autofree char *uname = esa_subprocess_run_simple (error, "uname", "-a", NULL);
  g_autofree char *label = esa_context_get_string (ctx, "label", NULL);
  JsonObject *body;
  if (uname == NULL)
    return NULL;
  body = json_object_new ();
  json_object_set_string_member (body, "uname", g_strstrip (uname));
  json_object_set_string_member (body, "hostname", platform != NULL ? platform->hostname : NULL);
  if (label != NULL)
    json_object_set_string_member (body, "label", label);
  return body;
}

/* The job: runs in a worker thread, may block. */
static gboolean
example_collect (EsaJobRun *run, gpointer user_data, GError **error)
{
  EsaContext *ctx = esa_job_run_get_context (run);
  g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_INVENTORY, "example");
  g_autoptr (JsonObject) body = collect_body (ctx, error);
  GList *members;
  if (body == NULL)
    return FALSE;
  members = json_object_get_members (body);
  for (GList *l = members; l != NULL; l = l->next)
    json_object_set_member (esa_report_get_body (report), l->data,
                            json_node_copy (json_object_get_member (body, l->data)));
  g_list_free (members);
  if (!esa_context_submit (ctx, report, error))
    return FALSE;
  esa_job_run_set_summary (run, "inventory queued");
  return TRUE;
}

/* `esactl example show`: what the next report would say, without sending it. */
static JsonObject *
example_show (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  g_autoptr (JsonObject) body = collect_body (ctx, error);
  JsonObject *answer;
  if (body == NULL)
    return NULL;
  answer = json_object_new ();
  json_object_set_string_member (answer, "text", json_object_get_string_member (body, "uname"));
  json_object_set_object_member (answer, "data", json_object_ref (body));
  return answer;
}

/* init only registers: the core starts jobs once every plugin has loaded. */
static gboolean
example_init (EsaContext *ctx, GError **error)
{
  if (!esa_context_add_job (ctx, "example", "daily 04:00", example_collect, NULL, NULL, error))
    return FALSE;
  return esa_context_add_command (ctx, "example show", "", "show what the example collector would send",
                                  example_show, NULL, error);
}

ESA_PLUGIN_DESCRIBE ("example", "1.0", "Example collector: uname -a as an inventory report",
                     example_init, NULL)
