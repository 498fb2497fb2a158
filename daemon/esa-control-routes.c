/* esa-control-routes.c: the core's calls on the control socket
 * (status, plugins, queue, jobs, events). Transports add their own. */
#include "config.h"

#include "esa-control-routes-private.h"
#include "esa-plugin-loader.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static void
get_status (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body,
            gpointer user_data)
{
  esa_control_reply (ctl, msg, esa_engine_status_to_json (esa_control_get_engine (ctl)));
}

static void
get_plugins (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body,
             gpointer user_data)
{
  esa_control_reply (ctl, msg, esa_plugin_records_to_json (esa_engine_get_plugins (esa_control_get_engine (ctl))));
}

static void
add_entries (JsonBuilder *b, const char *member, GPtrArray *entries)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < entries->len; i++)
    {
      EsaQueueEntry *e = g_ptr_array_index (entries, i);
      /* Times in one format (docs/json.md), never epoch seconds. */
      g_autofree char *created = esa_json_time_iso (e->created);
      g_autoptr (GDateTime) next_dt = e->next_attempt > 0 ? g_date_time_new_from_unix_utc (e->next_attempt) : NULL;
      g_autofree char *next = next_dt != NULL ? esa_json_time (next_dt) : NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "uuid");
      json_builder_add_string_value (b, e->uuid);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, e->kind);
      json_builder_set_member_name (b, "plugin");
      json_builder_add_string_value (b, e->plugin);
      json_builder_set_member_name (b, "created");
      json_builder_add_string_value (b, created);
      json_builder_set_member_name (b, "attempts");
      json_builder_add_int_value (b, e->attempts);
      json_builder_set_member_name (b, "next_attempt");
      if (next != NULL)
        json_builder_add_string_value (b, next);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) e->size);
      json_builder_set_member_name (b, "last_error");
      if (e->last_error != NULL)
        json_builder_add_string_value (b, e->last_error);
      else
        json_builder_add_null_value (b);
      if (e->failed_reason != NULL)
        {
          json_builder_set_member_name (b, "failed_reason");
          json_builder_add_string_value (b, e->failed_reason);
        }
      if (e->corrupt)
        {
          json_builder_set_member_name (b, "corrupt");
          json_builder_add_boolean_value (b, TRUE);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

typedef struct {
  EsaControl *ctl;
  SoupServerMessage *msg;
  EsaQueue *queue;
  guint offset;
  guint limit;
} ListData;

/* In a worker: the pass over the spool's names and reading the page's report
 * files never stall the main loop. */
static void
list_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ListData *ld = task_data;
  guint total_queued = 0, total_failed = 0;
  g_autoptr (GPtrArray) queued = esa_queue_list_page (ld->queue, FALSE, ld->offset, ld->limit, &total_queued);
  g_autoptr (GPtrArray) failed = esa_queue_list_page (ld->queue, TRUE, ld->offset, ld->limit, &total_failed);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_entries (b, "queued", queued);
  add_entries (b, "failed", failed);
  json_builder_set_member_name (b, "total_queued");
  json_builder_add_int_value (b, total_queued);
  json_builder_set_member_name (b, "total_failed");
  json_builder_add_int_value (b, total_failed);
  json_builder_set_member_name (b, "offset");
  json_builder_add_int_value (b, ld->offset);
  json_builder_end_object (b);
  g_task_return_pointer (task, json_builder_get_root (b), (GDestroyNotify) json_node_unref);
}

static void
list_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  ListData *ld = g_task_get_task_data (G_TASK (res));
  JsonNode *node = g_task_propagate_pointer (G_TASK (res), NULL);
  esa_control_reply (ld->ctl, ld->msg, node);
}

static void
list_data_free (ListData *ld)
{
  g_object_unref (ld->msg);
  g_free (ld);
#ifdef __GLIBC__
  /* An unpaged listing of a big queue builds a big answer once: give the
   * memory back rather than keep it for good. */
  malloc_trim (0);
#endif
}

/* ?limit=N&offset=M, each optional (no limit: everything). */
static gboolean
page_param (GHashTable *query, const char *name, guint *out, GError **error)
{
  const char *text = query ? g_hash_table_lookup (query, name) : NULL;
  guint64 v = 0;
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &v, NULL))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s \"%s\": expected a whole number >= 0",
                   name, text);
      return FALSE;
    }
  *out = (guint) v;
  return TRUE;
}

static void
get_queue (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body,
           gpointer user_data)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  const char *qs = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr (GHashTable) query = qs ? g_uri_parse_params (qs, -1, "&", G_URI_PARAMS_NONE, NULL) : NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) task = NULL;
  ListData *ld = g_new0 (ListData, 1);
  ld->limit = G_MAXUINT;
  if (!page_param (query, "limit", &ld->limit, &error) || !page_param (query, "offset", &ld->offset, &error))
    {
      g_free (ld);
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  ld->ctl = ctl;
  ld->msg = g_object_ref (msg);
  ld->queue = esa_engine_get_queue (engine);
  esa_control_hold (ctl, msg);
  task = g_task_new (NULL, NULL, list_done, NULL);
  g_task_set_task_data (task, ld, (GDestroyNotify) list_data_free);
  g_task_set_name (task, "esa-queue-list");
  g_task_run_in_thread (task, list_thread);
}

typedef struct {
  EsaControl *ctl;
  SoupServerMessage *msg;
  char *job;
} RunData;

static void
run_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  RunData *rd = user_data;
  EsaEngine *engine = esa_control_get_engine (rd->ctl);
  g_autoptr (GError) error = NULL;
  g_autofree char *summary = esa_dispatcher_run_finish (esa_engine_get_dispatcher (engine), res, &error);
  if (summary == NULL)
    esa_control_reply_error (rd->ctl, rd->msg, error);
  else
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "job");
      json_builder_add_string_value (b, rd->job);
      json_builder_set_member_name (b, "summary");
      json_builder_add_string_value (b, summary);
      json_builder_end_object (b);
      esa_control_reply (rd->ctl, rd->msg, json_builder_get_root (b));
    }
  g_object_unref (rd->msg);
  g_free (rd->job);
  g_free (rd);
}

/* POST /v1/jobs/NAME/run {"event": "...", "data": {...}}: answers when the run ends. */
static void
post_job_run (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body,
              gpointer user_data)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  g_autofree char *name = NULL;
  g_autoptr (GError) error = NULL;
  RunData *rd;
  JsonObject *data = NULL;
  const char *event = NULL;
  if (!g_str_has_suffix (rest, "/run"))
    {
      g_set_error (&error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "expected /v1/jobs/NAME/run");
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  event = esa_json_get_string (body, NULL, "event", ESA_JSON_OPTIONAL, &error);
  if (error != NULL)
    {
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  name = g_strndup (rest, strlen (rest) - strlen ("/run"));
  data = esa_json_peek_object (body, "data");
  rd = g_new0 (RunData, 1);
  rd->ctl = ctl;
  rd->msg = g_object_ref (msg);
  rd->job = g_strdup (name);
  esa_control_hold (ctl, msg);
  if (!esa_dispatcher_run_now (esa_engine_get_dispatcher (engine), name, event, data, run_done, rd, &error))
    {
      esa_control_reply_error (ctl, msg, error);
      g_object_unref (rd->msg);
      g_free (rd->job);
      g_free (rd);
    }
}

/* POST /v1/events {"event": NAME, "data": {...}}: wakes the jobs waiting for it. */
static void
post_event (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body,
            gpointer user_data)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  const char *event = NULL;
  JsonObject *data = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GError) type_error = NULL;
  event = esa_json_get_string (body, NULL, "event", ESA_JSON_OPTIONAL, &type_error);
  if (type_error != NULL)
    {
      esa_control_reply_error (ctl, msg, type_error);
      return;
    }
  if (event == NULL || *event == '\0')
    {
      g_autoptr (GError) error = g_error_new (ESA_ERROR, ESA_ERROR_INVALID_DATA,
                                              "event: missing (expected a name)");
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  data = esa_json_peek_object (body, "data");
  esa_dispatcher_emit (esa_engine_get_dispatcher (engine), event, data);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, event);
  json_builder_set_member_name (b, "accepted");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  esa_control_reply (ctl, msg, json_builder_get_root (b));
}

static void
get_commands (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body,
              gpointer user_data)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < esa_engine_get_commands (engine)->len; i++)
    {
      EsaCommand *cmd = g_ptr_array_index (esa_engine_get_commands (engine), i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "words");
      json_builder_add_string_value (b, cmd->words);
      json_builder_set_member_name (b, "usage");
      json_builder_add_string_value (b, cmd->usage);
      json_builder_set_member_name (b, "summary");
      json_builder_add_string_value (b, cmd->summary);
      json_builder_set_member_name (b, "plugin");
      json_builder_add_string_value (b, esa_context_get_plugin_name (cmd->ctx));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  esa_control_reply (ctl, msg, json_builder_get_root (b));
}

typedef struct {
  EsaControl *ctl;
  SoupServerMessage *msg;
  EsaCommand *cmd;
  GStrv args;
} CommandCall;

static void
command_call_free (CommandCall *cc)
{
  g_object_unref (cc->msg);
  g_strfreev (cc->args);
  g_free (cc);
}

static void
command_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CommandCall *cc = task_data;
  GError *error = NULL;
  JsonObject *result = cc->cmd->func (cc->cmd->ctx, (const char *const *) cc->args, cc->cmd->user_data, &error);
  if (result == NULL && error == NULL)
    error = g_error_new (ESA_ERROR, ESA_ERROR_FAILED, "%s: internal error (command failed without a reason)",
                         esa_context_get_plugin_name (cc->cmd->ctx));
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) json_object_unref);
}

static void
command_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CommandCall *cc = g_task_get_task_data (G_TASK (res));
  g_autoptr (GError) error = NULL;
  JsonObject *result = g_task_propagate_pointer (G_TASK (res), &error);
  if (result == NULL)
    esa_control_reply_error (cc->ctl, cc->msg, error);
  else
    {
      JsonNode *n = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (n, result);
      esa_control_reply (cc->ctl, cc->msg, n);
    }
}

/* POST /v1/command {"args": ["problem", "list", …]}: a plugin's command. */
static void
post_command (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body,
              gpointer user_data)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  JsonNode *an = json_object_get_member (body, "args");
  g_autoptr (GStrvBuilder) sb = g_strv_builder_new ();
  g_auto (GStrv) words = NULL;
  g_autoptr (GTask) task = NULL;
  CommandCall *cc;
  EsaCommand *cmd;
  guint used = 0;
  if (an == NULL || !JSON_NODE_HOLDS_ARRAY (an))
    {
      g_autoptr (GError) error = g_error_new (ESA_ERROR, ESA_ERROR_INVALID_DATA, "args: expected an array of strings");
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (an)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (an), i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          g_autoptr (GError) error = g_error_new (ESA_ERROR, ESA_ERROR_INVALID_DATA,
                                                  "args[%u]: expected a string", i);
          esa_control_reply_error (ctl, msg, error);
          return;
        }
      g_strv_builder_add (sb, json_node_get_string (e));
    }
  words = g_strv_builder_end (sb);
  cmd = esa_engine_find_command (engine, (const char *const *) words, &used);
  if (cmd == NULL)
    {
      g_autofree char *joined = g_strjoinv (" ", words);
      g_autoptr (GError) error = g_error_new (ESA_ERROR, ESA_ERROR_NOT_FOUND,
                                              "unknown command \"%s\" (no loaded plugin provides it)", joined);
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  cc = g_new0 (CommandCall, 1);
  cc->ctl = ctl;
  cc->msg = g_object_ref (msg);
  cc->cmd = cmd;
  cc->args = g_strdupv (words + used);
  esa_control_hold (ctl, msg);
  task = g_task_new (NULL, NULL, command_done, NULL);
  g_task_set_task_data (task, cc, (GDestroyNotify) command_call_free);
  g_task_run_in_thread (task, command_thread);
}

void
esa_control_add_core_routes (EsaControl *ctl)
{
  esa_control_add_route (ctl, "GET", "/v1/commands", get_commands, NULL);
  esa_control_add_route (ctl, "POST", "/v1/command", post_command, NULL);
  esa_control_add_route (ctl, "GET", "/v1/status", get_status, NULL);
  esa_control_add_route (ctl, "GET", "/v1/plugins", get_plugins, NULL);
  esa_control_add_route (ctl, "GET", "/v1/queue", get_queue, NULL);
  esa_control_add_route (ctl, "POST", "/v1/jobs/", post_job_run, NULL);
  esa_control_add_route (ctl, "POST", "/v1/events", post_event, NULL);
}
