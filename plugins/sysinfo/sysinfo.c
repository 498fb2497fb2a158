/* sysinfo.c: the inventory plugin — weekly, an "inventory" report with the
 * supplemental service information and installed software as the body and
 * the system configuration (snap, or a Linux config archive) attached; and
 * `esactl inventory collect|send`. The collecting is in sysinfo-collect.c. */
#include "config.h"

#include <esa/esa-plugin.h>
#include <esa/esa-json.h>

#include "sysinfo-private.h"

#define SYSINFO_DEFAULT_SCHEDULE "weekly sun 03:00"
#define SYSINFO_SEND_TIMEOUT_S 300

typedef struct {
  EsaContext *ctx;
  guint64 send_timeout_s;
  GMutex lock; /* one collection at a time: they share <temp>/snap */
} Sysinfo;

static void
sysinfo_input (EsaContext *ctx, EsaSysinfoInput *in, char **name, char **email, char **phone)
{
  const EsaPlatform *pf = esa_context_get_platform (ctx);
  in->platform = pf;
  in->aix = g_strcmp0 (pf->os, "AIX") == 0;
  /* "/" but in the test suite's fake /etc and /proc tree */
  in->sysroot = pf->sysroot != NULL ? pf->sysroot : "/";
  /* the admin's latest contact (esactl contact set), not only esa.conf's */
  esa_context_get_contact (ctx, name, email, phone);
  in->contact_name = *name;
  in->contact_email = *email;
  in->contact_phone = *phone;
  in->cancellable = esa_context_get_cancellable (ctx);
}

/* Builds the report; with @with_config the archive too, made under *work_dir
 * which the caller removes once the report is queued (the queue copies it). */
static EsaReport *
sysinfo_build (Sysinfo *self, gboolean with_config, char **work_dir, GError **error)
{
  g_autofree char *name = NULL, *email = NULL, *phone = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_INVENTORY, "sysinfo");
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *archive = NULL;
  g_autofree char *content_type = NULL;
  JsonObject *config;
  EsaSysinfoInput in = { 0 };

  sysinfo_input (self->ctx, &in, &name, &email, &phone);
  config = json_object_new ();
  if (with_config)
    {
      *work_dir = g_strdup (esa_context_get_temp_dir (self->ctx));
      archive = esa_sysinfo_collect_config (&in, *work_dir, &content_type, warnings, &local);
      if (archive == NULL)
        {
          /* the inventory is still worth sending without the configuration */
          g_warning ("configuration not collected: %s", local->message);
          g_ptr_array_add (warnings, g_strdup_printf ("configuration: %s", local->message));
          g_clear_error (&local);
        }
      else if (!esa_report_add_attachment (report, archive, content_type, error))
        return NULL;
    }
  json_object_set_string_member (config, "source", in.aix ? "snap -g -c" : "linux-config");
  if (archive != NULL)
    {
      g_autofree char *base = g_path_get_basename (archive);
      json_object_set_string_member (config, "attachment", base);
    }
  else
    json_object_set_null_member (config, "attachment");

  body = esa_sysinfo_collect_body (&in, warnings, error);
  if (body == NULL)
    return NULL;
  json_object_set_object_member (body, "configuration", config);
  for (guint i = 0; i < warnings->len; i++)
    g_debug ("inventory: %s", (char *) g_ptr_array_index (warnings, i));
  esa_report_set_body (report, body);
  return g_steal_pointer (&report);
}

static void
sysinfo_cleanup (const char *work_dir)
{
  g_autofree char *snap = NULL, *cfg = NULL, *tgz = NULL;
  if (work_dir == NULL)
    return;
  snap = g_build_filename (work_dir, "snap", NULL);
  cfg = g_build_filename (work_dir, "configuration", NULL);
  tgz = g_build_filename (work_dir, "configuration.tar.gz", NULL);
  esa_sysinfo_rmtree (snap);
  esa_sysinfo_rmtree (cfg);
  esa_sysinfo_rmtree (tgz);
}

static gboolean
sysinfo_job (EsaJobRun *run, gpointer user_data, GError **error)
{
  Sysinfo *self = user_data;
  g_autoptr (EsaReport) report = NULL;
  g_autofree char *work_dir = NULL;
  g_autofree char *summary = NULL;
  gboolean ok;

  g_mutex_lock (&self->lock);
  report = sysinfo_build (self, TRUE, &work_dir, error);
  /* Stopped half-way: the commands were killed, the inventory is partial. */
  ok = report != NULL && !g_cancellable_set_error_if_cancelled (esa_job_run_get_cancellable (run), error) &&
       esa_context_submit (self->ctx, report, error);
  sysinfo_cleanup (work_dir);
  g_mutex_unlock (&self->lock);
  if (!ok)
    return FALSE;
  summary = g_strdup_printf ("queued inventory %s", esa_report_get_uuid (report));
  esa_job_run_set_summary (run, summary);
  return TRUE;
}

static JsonObject *
sysinfo_result (const char *text, JsonObject *data, int exit_code)
{
  JsonObject *r = json_object_new ();
  json_object_set_string_member (r, "text", text);
  if (data != NULL)
    json_object_set_object_member (r, "data", data);
  json_object_set_int_member (r, "exit", exit_code);
  return r;
}

/* `esactl inventory collect [--stdout]`: what an HMC runs on a managed LPAR
 * (not activated, nothing sent). */
static JsonObject *
sysinfo_cmd_collect (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  Sysinfo *self = user_data;
  gboolean raw = FALSE;
  g_autoptr (EsaReport) report = NULL;
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;
  JsonObject *body;
  JsonArray *warnings;

  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    {
      if (g_str_equal (args[i], "--stdout"))
        raw = TRUE;
      else
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "inventory collect: unknown argument \"%s\" (expected --stdout)", args[i]);
          return NULL;
        }
    }
  g_mutex_lock (&self->lock);
  report = sysinfo_build (self, FALSE, NULL, error);
  g_mutex_unlock (&self->lock);
  if (report == NULL)
    return NULL;
  body = esa_report_get_body (report);
  json_object_remove_member (body, "configuration");
  json_node_set_object (node, body);
  json = esa_json_to_string (node, TRUE);
  warnings = json_object_get_array_member (body, "warnings");
  if (raw)
    text = g_strdup_printf ("%s\n", json);
  else
    text = g_strdup_printf ("%s %s on %s %s-%s serial %s, firmware %s\n%" G_GINT64_FORMAT
                            " installed packages (%s), agent %s\n%u warnings\n",
                            json_object_get_string_member_with_default (body, "os", "?"),
                            json_object_get_string_member_with_default (body, "os_version", "?"),
                            json_object_get_string_member_with_default (body, "manufacturer", "?"),
                            json_object_get_string_member_with_default (body, "machine_type", "?"),
                            json_object_get_string_member_with_default (body, "model", "?"),
                            json_object_get_string_member_with_default (body, "serial", "?"),
                            json_object_get_string_member_with_default (body, "firmware", "?"),
                            json_object_get_int_member (body, "package_count"),
                            json_object_get_string_member (body, "package_source"), ESA_VERSION,
                            warnings ? json_array_get_length (warnings) : 0);
  return sysinfo_result (text, json_object_ref (body), 0);
}

/* `esactl inventory send`: collect, send now and wait for the SDC. */
static JsonObject *
sysinfo_cmd_send (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  Sysinfo *self = user_data;
  g_autoptr (EsaReport) report = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *work_dir = NULL;
  g_autofree char *text = NULL;
  JsonObject *data;
  gboolean ok;

  if (args != NULL && args[0] != NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "inventory send: unexpected argument \"%s\"",
                   args[0]);
      return NULL;
    }
  g_mutex_lock (&self->lock);
  report = sysinfo_build (self, TRUE, &work_dir, error);
  if (report == NULL)
    {
      sysinfo_cleanup (work_dir);
      g_mutex_unlock (&self->lock);
      return NULL;
    }
  /* submit copies the attachment into the spool: the scratch copy can go
   * once it is queued, even while we still wait for the SDC */
  ok = esa_context_submit_and_wait (ctx, report, (guint) self->send_timeout_s, &answer, &local);
  sysinfo_cleanup (work_dir);
  g_mutex_unlock (&self->lock);

  /* The shape of every send (docs/json.md, docs/schemas/send.json): what
   * `esactl heartbeat` and `esactl queue send` print too. */
  data = json_object_new ();
  {
    JsonArray *delivered = json_array_new ();
    JsonArray *failed = json_array_new ();
    JsonObject *entry = json_object_new ();
    json_object_set_string_member (entry, "uuid", esa_report_get_uuid (report));
    json_object_set_string_member (entry, "kind", esa_report_get_kind (report));
    if (ok)
      {
        json_object_set_object_member (entry, "answer", json_object_ref (answer));
        json_array_add_object_element (delivered, entry);
      }
    else
      {
        json_object_set_string_member (entry, "reason", local->message);
        /* not delivered in time: the report stays queued and is retried */
        json_object_set_boolean_member (entry, "final", FALSE);
        json_array_add_object_element (failed, entry);
      }
    json_object_set_array_member (data, "delivered", delivered);
    json_object_set_array_member (data, "failed", failed);
  }
  if (ok)
    {
      const char *status = esa_json_peek_string (answer, "status");
      text = g_strdup_printf ("sent inventory %s: %s\n", esa_report_get_uuid (report), status ? status : "accepted");
      return sysinfo_result (text, data, 0);
    }
  text = g_strdup_printf ("not sent inventory %s (kept in queue, will retry): %s\n", esa_report_get_uuid (report),
                          local->message);
  return sysinfo_result (text, data,
                         g_error_matches (local, ESA_ERROR, ESA_ERROR_TIMEOUT) ||
                                 g_error_matches (local, ESA_ERROR, ESA_ERROR_NETWORK)
                             ? 6
                             : 1);
}

static void
sysinfo_free (Sysinfo *self)
{
  g_mutex_clear (&self->lock);
  g_free (self);
}

static gboolean
sysinfo_init (EsaContext *ctx, GError **error)
{
  Sysinfo *self = g_new0 (Sysinfo, 1);
  self->ctx = ctx;
  g_mutex_init (&self->lock);
  if (!esa_context_get_duration (ctx, "send-timeout", SYSINFO_SEND_TIMEOUT_S, &self->send_timeout_s, error))
    {
      sysinfo_free (self);
      return FALSE;
    }
  self->send_timeout_s = CLAMP (self->send_timeout_s, 1, 24 * 3600);
  /* the job owns self; the commands borrow it */
  if (!esa_context_add_job (ctx, "inventory", SYSINFO_DEFAULT_SCHEDULE, sysinfo_job, self,
                            (GDestroyNotify) sysinfo_free, error))
    {
      sysinfo_free (self);
      return FALSE;
    }
  return esa_context_add_command (ctx, "inventory collect", "[--stdout]",
                                  "collect the inventory and print it (nothing is sent)",
                                  sysinfo_cmd_collect, self, error) &&
         esa_context_add_command (ctx, "inventory send", "",
                                  "collect the inventory, send it now and print the SDC's answer",
                                  sysinfo_cmd_send, self, error);
}

ESA_PLUGIN_DESCRIBE ("sysinfo", ESA_VERSION,
                     "Weekly inventory: system configuration and installed software",
                     sysinfo_init, NULL)
