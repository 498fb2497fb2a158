/* esa-engine.c: wires config, platform, spool, plugins and dispatcher together. */
#include "config.h"

#include "esa-engine-private.h"
#include "esa/esa-json.h"
#include "esa-preview.h"
#include "esa-fileutil.h"
#include "esa/esa-error.h"

#include <unistd.h>

typedef struct {
  GCond cond;
  gboolean done;
  gboolean ok;
  gboolean final;
  JsonObject *answer;
  char *reason;
} EsaDeliveryWaiter;

static void
command_free (EsaCommand *cmd)
{
  g_free (cmd->words);
  g_free (cmd->usage);
  g_free (cmd->summary);
  g_free (cmd);
}

EsaEngine *
esa_engine_new (EsaConfig *config, GError **error)
{
  g_autoptr (EsaEngine) self = g_new0 (EsaEngine, 1);
  g_autofree char *spool = NULL;
  g_autofree char *jobs_state = NULL;
  g_autoptr (GError) platform_error = NULL;

  self->config = config;
  self->plugins = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_plugin_record_free);
  self->contexts = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_context_free);
  self->started = g_date_time_new_now_utc ();
  self->commands = g_ptr_array_new_with_free_func ((GDestroyNotify) command_free);
  self->waiters = g_hash_table_new (g_str_hash, g_str_equal);
  g_mutex_init (&self->waiters_lock);
  g_mutex_init (&self->config_lock);
  self->main_context = g_main_context_ref_thread_default ();
  if (!esa_mkdir_p (config->state_dir, 0700, error))
    return NULL;
  spool = g_build_filename (config->state_dir, "spool", NULL);
  self->queue = esa_queue_open (spool, error);
  if (self->queue == NULL)
    return NULL;
  self->platform = esa_platform_detect (&platform_error);
  if (self->platform == NULL)
    {
      /* The agent still queues and sends; identity fields are simply unknown. */
      g_warning ("cannot read the platform: %s", platform_error->message);
      self->platform = g_new0 (EsaPlatform, 1);
      self->platform->lpar_id = -1;
      self->platform->warnings = g_ptr_array_new_with_free_func (g_free);
    }
  jobs_state = g_build_filename (config->state_dir, "jobs.json", NULL);
  self->dispatcher = esa_dispatcher_new (jobs_state, self->platform->hostname);
  esa_dispatcher_set_queue (self->dispatcher, self->queue);
  return g_steal_pointer (&self);
}

void
esa_engine_free (EsaEngine *self)
{
  if (self == NULL)
    return;
  /* Plugin shutdown frees the state their jobs use: only once none runs.
   * A job that outlived esa_engine_wait_jobs () keeps everything it may
   * touch; the process is exiting anyway. */
  if (self->dispatcher != NULL)
    {
      esa_dispatcher_stop (self->dispatcher);
      if (esa_dispatcher_get_running (self->dispatcher) > 0 && !esa_dispatcher_wait_idle (self->dispatcher, 0))
        {
          g_warning ("jobs still running: the engine is left allocated");
          return;
        }
    }
  if (self->contexts != NULL)
    for (guint i = 0; i < self->contexts->len; i++)
      {
        EsaContext *ctx = g_ptr_array_index (self->contexts, i);
        if (ctx->record != NULL && ctx->record->info->shutdown != NULL)
          ctx->record->info->shutdown (ctx);
      }
  g_clear_pointer (&self->dispatcher, esa_dispatcher_free);
  g_clear_pointer (&self->commands, g_ptr_array_unref);
  g_clear_pointer (&self->waiters, g_hash_table_unref);
  g_mutex_clear (&self->waiters_lock);
  g_clear_pointer (&self->contexts, g_ptr_array_unref);
  g_clear_pointer (&self->plugins, g_ptr_array_unref);
  g_clear_pointer (&self->queue, esa_queue_free);
  g_clear_pointer (&self->platform, esa_platform_free);
  g_clear_pointer (&self->config, esa_config_unref);
  g_mutex_clear (&self->config_lock);
  g_clear_pointer (&self->started, g_date_time_unref);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_free (self);
}

/* fwupd's runner: a plugin's failure is prefixed with its name, and FALSE
 * without an error is a bug we report instead of crashing on. */
static gboolean
run_plugin_init (EsaContext *ctx, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean ok;
  ctx->in_init = TRUE;
  ok = ctx->record->info->init (ctx, &local);
  ctx->in_init = FALSE;
  if (ok)
    return TRUE;
  if (local == NULL)
    {
      g_critical ("plugin %s: init returned FALSE without an error", ctx->name);
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED,
                   "failed to start %s: internal error (init failed without a reason)", ctx->name);
      return FALSE;
    }
  g_set_error (error, local->domain, local->code, "failed to start %s: %s", ctx->name, local->message);
  return FALSE;
}

void
esa_engine_load_plugins (EsaEngine *self)
{
  g_ptr_array_set_size (self->plugins, 0);
  g_ptr_array_unref (self->plugins);
  self->plugins = esa_plugin_scan (self->config->plugin_dir,
                                   (const char *const *) self->config->enabled_plugins,
                                   ESA_PLUGIN_SCAN_LOAD);
  for (guint i = 0; i < self->plugins->len; i++)
    {
      EsaPluginRecord *rec = g_ptr_array_index (self->plugins, i);
      EsaContext *ctx;
      g_autoptr (GError) error = NULL;
      if (rec->state == ESA_PLUGIN_STATE_REFUSED)
        g_warning ("plugin %s refused: %s", rec->file_name ? rec->file_name : rec->name, rec->reason);
      if (rec->state != ESA_PLUGIN_STATE_LOADED)
        continue;
      ctx = esa_context_new (self, rec, rec->name);
      if (!run_plugin_init (ctx, &error))
        {
          g_warning ("%s", error->message);
          rec->state = ESA_PLUGIN_STATE_FAILED;
          rec->reason = g_strdup (error->message);
          /* Whatever it registered before failing goes with it. */
          esa_dispatcher_remove_jobs_of (self->dispatcher, ctx);
          for (guint c = self->commands->len; c > 0; c--)
            if (((EsaCommand *) g_ptr_array_index (self->commands, c - 1))->ctx == ctx)
              g_ptr_array_remove_index (self->commands, c - 1);
          esa_context_free (ctx);
          continue;
        }
      g_ptr_array_add (self->contexts, ctx);
      g_info ("plugin %s %s loaded", rec->name, rec->version);
    }
}

void
esa_engine_start (EsaEngine *self)
{
  esa_dispatcher_start (self->dispatcher);
  if (self->queue_changed != NULL)
    self->queue_changed (self, self->queue_changed_data);
}

static void wake_all_waiters (EsaEngine *self, const char *reason);

void
esa_engine_stop (EsaEngine *self)
{
  esa_dispatcher_stop (self->dispatcher);
  /* Jobs blocked in submit_and_wait would otherwise wait out their timeout
   * (minutes) while esad frees the engine under them after a few seconds. */
  wake_all_waiters (self, "esad is stopping; the report stays queued");
}

gboolean
esa_engine_wait_jobs (EsaEngine *self, guint timeout_s)
{
  return esa_dispatcher_wait_idle (self->dispatcher, timeout_s);
}

void
esa_engine_set_config (EsaEngine *self, EsaConfig *config)
{
  EsaConfig *old;
  /* Jobs, plugin commands and call_sdc read the config in worker threads:
   * they hold a reference taken under the lock, so the old one is freed
   * only when the last of them is done with it. */
  g_mutex_lock (&self->config_lock);
  old = self->config;
  self->config = config;
  g_mutex_unlock (&self->config_lock);
  esa_config_unref (old);
  /* [job.NAME] schedules apply now, not at the next start */
  for (guint i = 0; self->contexts != NULL && i < self->contexts->len; i++)
    esa_context_apply_config (g_ptr_array_index (self->contexts, i), config);
}

EsaConfig *
esa_engine_ref_config (EsaEngine *self)
{
  EsaConfig *config;
  g_mutex_lock (&self->config_lock);
  config = esa_config_ref (self->config);
  g_mutex_unlock (&self->config_lock);
  return config;
}

typedef struct {
  EsaEngine *engine;
} NotifyData;

static gboolean
notify_queue_changed (gpointer user_data)
{
  EsaEngine *self = user_data;
  if (self->queue_changed != NULL)
    self->queue_changed (self, self->queue_changed_data);
  return G_SOURCE_REMOVE;
}

gboolean
esa_engine_submit (EsaEngine *self, EsaReport *report, GError **error)
{
  EsaQueue *preview = esa_preview_get_sink ();
  gboolean already = FALSE;
  if (preview != NULL)
    {
      /* esactl preview: built, kept aside, never sent */
      g_info ("preview: built %s report %s from %s (not queued)", esa_report_get_kind (report),
              esa_report_get_uuid (report), esa_report_get_plugin (report));
      return esa_queue_enqueue (preview, report, error);
    }
  if (!esa_job_run_enqueue (esa_dispatcher_get_current_run (), self->queue, report, &already, error))
    return FALSE;
  if (already)
    {
      /* worth a line at the default level: it says a crash was survived */
      g_message ("%s report %s from %s: queued by this run before esad stopped; not queued again",
              esa_report_get_kind (report), esa_report_get_uuid (report), esa_report_get_plugin (report));
      return TRUE;
    }
  g_info ("queued %s report %s from %s", esa_report_get_kind (report),
          esa_report_get_uuid (report), esa_report_get_plugin (report));
  g_main_context_invoke (self->main_context, notify_queue_changed, self);
  return TRUE;
}

static void
wake_waiter (EsaEngine *self, const char *uuid, gboolean ok, gboolean final, JsonObject *answer,
             const char *reason)
{
  EsaDeliveryWaiter *w;
  g_mutex_lock (&self->waiters_lock);
  w = g_hash_table_lookup (self->waiters, uuid);
  if (w != NULL && !w->done)
    {
      w->done = TRUE;
      w->ok = ok;
      w->final = final;
      w->answer = answer ? json_object_ref (answer) : NULL;
      w->reason = g_strdup (reason);
      g_cond_broadcast (&w->cond);
    }
  g_mutex_unlock (&self->waiters_lock);
}

static void
wake_all_waiters (EsaEngine *self, const char *reason)
{
  GHashTableIter iter;
  gpointer value;
  g_mutex_lock (&self->waiters_lock);
  self->stopping = TRUE;
  g_hash_table_iter_init (&iter, self->waiters);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EsaDeliveryWaiter *w = value;
      if (w->done)
        continue;
      w->done = TRUE;
      w->ok = FALSE;
      w->final = FALSE;
      w->reason = g_strdup (reason);
      g_cond_broadcast (&w->cond);
    }
  g_mutex_unlock (&self->waiters_lock);
}

void
esa_engine_report_not_delivered (EsaEngine *self, const char *uuid, const char *reason, gboolean final)
{
  wake_waiter (self, uuid, FALSE, final, NULL, reason);
}

gboolean
esa_engine_submit_and_wait (EsaEngine *self, EsaReport *report, guint timeout_s,
                            JsonObject **answer, GError **error)
{
  EsaDeliveryWaiter w = { 0 };
  const char *uuid = esa_report_get_uuid (report);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  gboolean ok;

  /* Waiting in the main thread would wait for ourselves: the sender answers there. */
  g_return_val_if_fail (!g_main_context_is_owner (self->main_context), FALSE);
  if (esa_preview_get_sink () != NULL)
    {
      /* a preview sends nothing, so there is no answer to wait for */
      if (!esa_engine_submit (self, report, error))
        return FALSE;
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "preview: report %s built, not sent",
                   esa_report_get_uuid (report));
      return FALSE;
    }
  g_cond_init (&w.cond);
  g_mutex_lock (&self->waiters_lock);
  g_hash_table_insert (self->waiters, (gpointer) uuid, &w);
  g_mutex_unlock (&self->waiters_lock);
  if (!esa_engine_submit (self, report, error))
    {
      g_mutex_lock (&self->waiters_lock);
      g_hash_table_remove (self->waiters, uuid);
      g_mutex_unlock (&self->waiters_lock);
      g_cond_clear (&w.cond);
      return FALSE;
    }
  g_mutex_lock (&self->waiters_lock);
  if (self->stopping && !w.done)
    {
      w.done = TRUE;
      w.reason = g_strdup ("esad is stopping; the report stays queued");
    }
  while (!w.done)
    if (!g_cond_wait_until (&w.cond, &self->waiters_lock, deadline))
      break;
  g_hash_table_remove (self->waiters, uuid);
  g_mutex_unlock (&self->waiters_lock);
  g_cond_clear (&w.cond);
  ok = w.done && w.ok;
  if (ok && answer != NULL)
    *answer = w.answer ? json_object_ref (w.answer) : json_object_new ();
  if (!w.done)
    g_set_error (error, ESA_ERROR, ESA_ERROR_TIMEOUT,
                 "report %s not delivered within %u s; it stays queued and will be sent", uuid, timeout_s);
  else if (!ok && w.final)
    g_set_error (error, ESA_ERROR, ESA_ERROR_REJECTED, "report %s rejected: %s", uuid, w.reason);
  else if (!ok)
    g_set_error (error, ESA_ERROR, ESA_ERROR_NETWORK,
                 "report %s not sent yet (kept in the queue, will retry): %s", uuid, w.reason);
  if (w.answer != NULL)
    json_object_unref (w.answer);
  g_free (w.reason);
  return ok;
}

EsaCommand *
esa_engine_find_command (EsaEngine *self, const char *const *words, guint *n_words)
{
  EsaCommand *best = NULL;
  guint best_n = 0;
  for (guint i = 0; i < self->commands->len; i++)
    {
      EsaCommand *cmd = g_ptr_array_index (self->commands, i);
      g_auto (GStrv) parts = g_strsplit (cmd->words, " ", -1);
      guint n = g_strv_length (parts);
      gboolean match = n > best_n;
      for (guint k = 0; match && k < n; k++)
        match = words[k] != NULL && g_str_equal (words[k], parts[k]);
      if (match)
        {
          best = cmd;
          best_n = n;
        }
    }
  *n_words = best_n;
  return best;
}

void
esa_engine_report_delivered (EsaEngine *self, const char *plugin, const char *uuid,
                             const char *kind, JsonObject *answer)
{
  wake_waiter (self, uuid, TRUE, FALSE, answer, NULL);
  for (guint i = 0; i < self->contexts->len; i++)
    {
      EsaContext *ctx = g_ptr_array_index (self->contexts, i);
      if (g_strcmp0 (ctx->name, plugin) == 0 && ctx->delivered != NULL)
        ctx->delivered (ctx, uuid, kind, answer, ctx->delivered_data);
    }
}

JsonNode *
esa_engine_status_to_json (EsaEngine *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint failed = 0;
  /* Counts the queue keeps on every change: status never reads the spool. */
  guint queued = esa_queue_count (self->queue, &failed);
  g_autofree char *started = esa_json_time (self->started);
  guint loaded = 0;
  for (guint i = 0; i < self->plugins->len; i++)
    loaded += ((EsaPluginRecord *) g_ptr_array_index (self->plugins, i))->state == ESA_PLUGIN_STATE_LOADED;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, ESA_VERSION);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_set_member_name (b, "started");
  json_builder_add_string_value (b, started);
  json_builder_set_member_name (b, "config");
  json_builder_add_string_value (b, self->config->path ? self->config->path : "(defaults)");
  json_builder_set_member_name (b, "state_dir");
  json_builder_add_string_value (b, self->config->state_dir);
  json_builder_set_member_name (b, "plugins_loaded");
  json_builder_add_int_value (b, loaded);
  json_builder_set_member_name (b, "queued");
  json_builder_add_int_value (b, queued);
  json_builder_set_member_name (b, "failed");
  json_builder_add_int_value (b, failed);
  json_builder_set_member_name (b, "platform");
  {
    JsonNode *pn = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (pn, esa_platform_to_json (self->platform));
    json_builder_add_value (b, pn);
  }
  if (self->status_extra != NULL)
    self->status_extra (self, b, self->status_extra_data);
  json_builder_set_member_name (b, "jobs");
  json_builder_add_value (b, esa_dispatcher_to_json (self->dispatcher));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

EsaConfig *
esa_engine_get_config (EsaEngine *self)
{
  return self->config;
}

EsaQueue *
esa_engine_get_queue (EsaEngine *self)
{
  return self->queue;
}

EsaDispatcher *
esa_engine_get_dispatcher (EsaEngine *self)
{
  return self->dispatcher;
}

const EsaPlatform *
esa_engine_get_platform (EsaEngine *self)
{
  return self->platform;
}

GPtrArray *
esa_engine_get_plugins (EsaEngine *self)
{
  return self->plugins;
}

GPtrArray *
esa_engine_get_commands (EsaEngine *self)
{
  return self->commands;
}

void
esa_engine_set_status_extra (EsaEngine *self, EsaStatusExtraFunc func, gpointer user_data)
{
  self->status_extra = func;
  self->status_extra_data = user_data;
}

void
esa_engine_set_call_sdc (EsaEngine *self, EsaCallSdcFunc func, gpointer user_data)
{
  self->call_sdc = func;
  self->call_sdc_data = user_data;
}
