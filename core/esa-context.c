/* esa-context.c: the plugin-facing API; every call goes through the engine. */
#include "config.h"

#include "esa-context-private.h"
#include "esa-contact.h"
#include "esa-engine-private.h"
#include "esa-fileutil.h"
#include "esa-preview.h"
#include "esa-schedule-private.h"
#include "esa/esa-error.h"

EsaContext *
esa_context_new (EsaEngine *engine, EsaPluginRecord *record, const char *name)
{
  EsaContext *ctx = g_new0 (EsaContext, 1);
  ctx->engine = engine;
  ctx->record = record;
  ctx->name = g_strdup (name);
  ctx->state_dir = g_build_filename (engine->config->state_dir, "plugins", name, NULL);
  ctx->temp_dir = g_build_filename (engine->config->state_dir, "temp", NULL);
  ctx->job_schedules = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  ctx->job_splays = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return ctx;
}

void
esa_context_free (EsaContext *ctx)
{
  if (ctx == NULL)
    return;
  g_free (ctx->name);
  g_free (ctx->state_dir);
  g_free (ctx->temp_dir);
  g_hash_table_unref (ctx->job_schedules);
  g_hash_table_unref (ctx->job_splays);
  g_free (ctx);
}

const char *
esa_context_get_plugin_name (EsaContext *ctx)
{
  return ctx->name;
}

const char *
esa_context_get_state_dir (EsaContext *ctx)
{
  g_autoptr (GError) error = NULL;
  if (!esa_mkdir_p (ctx->state_dir, 0700, &error))
    g_warning ("%s: %s", ctx->name, error->message);
  return ctx->state_dir;
}

const char *
esa_context_get_temp_dir (EsaContext *ctx)
{
  g_autoptr (GError) error = NULL;
  if (!esa_mkdir_p (ctx->temp_dir, 0700, &error))
    g_warning ("%s: %s", ctx->name, error->message);
  return ctx->temp_dir;
}

gboolean
esa_context_add_job (EsaContext *ctx, const char *job_name, const char *default_schedule,
                     EsaJobFunc func, gpointer user_data, GDestroyNotify destroy, GError **error)
{
  EsaConfig *config = ctx->engine->config;
  g_autofree char *schedule = NULL;
  if (!ctx->in_init)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED,
                   "job %s: jobs can only be added from the plugin's init", job_name);
      return FALSE;
    }
  schedule = esa_config_get_job_schedule (config, job_name, default_schedule);
  /* kept: a reload resolves [job.NAME] against them again */
  g_hash_table_replace (ctx->job_schedules, g_strdup (job_name), g_strdup (default_schedule));
  return esa_dispatcher_add_job (ctx->engine->dispatcher, ctx, job_name, schedule,
                                 esa_config_get_job_splay (config, job_name, 0),
                                 esa_config_get_job_enabled (config, job_name),
                                 func, user_data, destroy, error);
}

gboolean
esa_context_set_job_splay (EsaContext *ctx, const char *job_name, guint64 splay_s, GError **error)
{
  guint64 effective = esa_config_get_job_splay (ctx->engine->config, job_name, splay_s);
  g_hash_table_replace (ctx->job_splays, g_strdup (job_name), GSIZE_TO_POINTER ((gsize) splay_s));
  return esa_dispatcher_set_splay (ctx->engine->dispatcher, ctx, job_name, effective, error);
}

void
esa_context_on_delivered (EsaContext *ctx, EsaDeliveredFunc func, gpointer user_data)
{
  ctx->delivered = func;
  ctx->delivered_data = user_data;
}

static char *
plugin_group (EsaContext *ctx)
{
  return g_strdup_printf ("plugin.%s", ctx->name);
}

char *
esa_context_get_string (EsaContext *ctx, const char *key, const char *fallback)
{
  g_autofree char *group = plugin_group (ctx);
  g_autoptr (EsaConfig) config = esa_engine_ref_config (ctx->engine); /* jobs run in worker threads */
  char *v = g_key_file_get_string (config->keyfile, group, key, NULL);
  if (v == NULL)
    return g_strdup (fallback);
  return v;
}

char *
esa_context_get_global (EsaContext *ctx, const char *group, const char *key)
{
  g_autoptr (EsaConfig) config = esa_engine_ref_config (ctx->engine); /* jobs run in worker threads */
  return g_key_file_get_string (config->keyfile, group, key, NULL);
}

gboolean
esa_context_get_contact (EsaContext *ctx, char **name, char **email, char **phone)
{
  g_autoptr (EsaConfig) config = esa_engine_ref_config (ctx->engine); /* jobs run in worker threads */
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaContact) contact = esa_contact_load (config, &error);
  *name = *email = *phone = NULL;
  if (contact == NULL)
    {
      g_warning ("contact: %s", error->message);
      return FALSE;
    }
  *name = g_steal_pointer (&contact->name);
  *email = g_steal_pointer (&contact->email);
  *phone = g_steal_pointer (&contact->phone);
  return TRUE;
}

static gboolean
bad_value (EsaContext *ctx, const char *key, const char *value, GError **error,
           const char *expected)
{
  g_autofree char *group = plugin_group (ctx);
  g_autoptr (EsaConfig) config = esa_engine_ref_config (ctx->engine); /* jobs run in worker threads */
  g_autofree char *where = esa_config_describe_key (config, group, key);
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s: \"%s\": %s", where, value, expected);
  return FALSE;
}

gboolean
esa_context_get_int (EsaContext *ctx, const char *key, gint64 fallback, gint64 min, gint64 max,
                     gint64 *out, GError **error)
{
  g_autofree char *v = esa_context_get_string (ctx, key, NULL);
  g_autoptr (GError) local = NULL;
  gint64 n;
  if (v == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  if (!g_ascii_string_to_signed (g_strstrip (v), 10, min, max, &n, &local))
    {
      g_autofree char *expected = g_strdup_printf ("not a whole number in %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, min, max);
      return bad_value (ctx, key, v, error, expected);
    }
  *out = n;
  return TRUE;
}

gboolean
esa_context_get_duration (EsaContext *ctx, const char *key, guint64 fallback_s, guint64 *out_s,
                          GError **error)
{
  g_autofree char *v = esa_context_get_string (ctx, key, NULL);
  if (v == NULL)
    {
      *out_s = fallback_s;
      return TRUE;
    }
  if (!esa_duration_parse (v, out_s, NULL))
    return bad_value (ctx, key, v, error, "not a duration (expected e.g. 90s, 15m, 6h, 2d)");
  return TRUE;
}

gboolean
esa_context_get_bool (EsaContext *ctx, const char *key, gboolean fallback, gboolean *out,
                      GError **error)
{
  g_autofree char *v = esa_context_get_string (ctx, key, NULL);
  if (v == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  g_strstrip (v);
  if (g_str_equal (v, "true"))
    *out = TRUE;
  else if (g_str_equal (v, "false"))
    *out = FALSE;
  else
    return bad_value (ctx, key, v, error, "not a boolean (expected true or false)");
  return TRUE;
}

const EsaPlatform *
esa_context_get_platform (EsaContext *ctx)
{
  return ctx->engine->platform;
}

GCancellable *
esa_context_get_cancellable (EsaContext *ctx)
{
  return esa_dispatcher_get_cancellable (ctx->engine->dispatcher);
}

gboolean
esa_context_submit (EsaContext *ctx, EsaReport *report, GError **error)
{
  if (g_strcmp0 (esa_report_get_plugin (report), ctx->name) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "%s: report %s claims plugin \"%s\"", ctx->name, esa_report_get_uuid (report),
                   esa_report_get_plugin (report));
      return FALSE;
    }
  return esa_engine_submit (ctx->engine, report, error);
}

void
esa_context_emit_event (EsaContext *ctx, const char *event, JsonObject *data)
{
  esa_dispatcher_emit (ctx->engine->dispatcher, event, data);
}

gboolean
esa_context_is_preview (EsaContext *ctx)
{
  return esa_preview_get_sink () != NULL;
}

gboolean
esa_context_submit_and_wait (EsaContext *ctx, EsaReport *report, guint timeout_s,
                             JsonObject **answer, GError **error)
{
  if (g_strcmp0 (esa_report_get_plugin (report), ctx->name) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: report %s claims plugin \"%s\"",
                   ctx->name, esa_report_get_uuid (report), esa_report_get_plugin (report));
      return FALSE;
    }
  return esa_engine_submit_and_wait (ctx->engine, report, timeout_s, answer, error);
}

gboolean
esa_context_call_sdc (EsaContext *ctx, const char *endpoint, JsonObject *request,
                      JsonObject **answer, GError **error)
{
  EsaEngine *engine = ctx->engine;
  if (engine->call_sdc == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_SUPPORTED, "%s: no transport can reach the SDC here",
                   ctx->name);
      return FALSE;
    }
  return engine->call_sdc (engine, endpoint, request, answer, error, engine->call_sdc_data);
}

gboolean
esa_context_add_command (EsaContext *ctx, const char *words, const char *usage, const char *summary,
                         EsaCommandFunc func, gpointer user_data, GError **error)
{
  EsaCommand *cmd;
  if (!ctx->in_init)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED,
                   "command \"%s\": commands can only be added from the plugin's init", words);
      return FALSE;
    }
  for (guint i = 0; i < ctx->engine->commands->len; i++)
    if (g_str_equal (((EsaCommand *) g_ptr_array_index (ctx->engine->commands, i))->words, words))
      {
        g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "command \"%s\" is already registered", words);
        return FALSE;
      }
  cmd = g_new0 (EsaCommand, 1);
  cmd->words = g_strdup (words);
  cmd->usage = g_strdup (usage ? usage : "");
  cmd->summary = g_strdup (summary ? summary : "");
  cmd->ctx = ctx;
  cmd->func = func;
  cmd->user_data = user_data;
  g_ptr_array_add (ctx->engine->commands, cmd);
  return TRUE;
}

void
esa_context_apply_config (EsaContext *ctx, EsaConfig *config)
{
  GHashTableIter iter;
  gpointer name, fallback;
  g_hash_table_iter_init (&iter, ctx->job_schedules);
  while (g_hash_table_iter_next (&iter, &name, &fallback))
    {
      g_autofree char *schedule = esa_config_get_job_schedule (config, name, fallback);
      guint64 splay = esa_config_get_job_splay (config, name,
                                                GPOINTER_TO_SIZE (g_hash_table_lookup (ctx->job_splays, name)));
      g_autoptr (GError) error = NULL;
      if (!esa_dispatcher_reconfigure_job (ctx->engine->dispatcher, name, schedule, splay,
                                           esa_config_get_job_enabled (config, name), &error))
        g_warning ("%s: job %s keeps its schedule: %s", ctx->name, (const char *) name, error->message);
    }
}
