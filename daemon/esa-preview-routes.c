/* esa-preview-routes.c: POST /v1/preview {"job": NAME | "command": "WORDS",
 * "output": DIR?} — runs the job (or a plugin's command, e.g. "problem test")
 * as a preview (core/esa-preview.h: its reports go to a scratch queue, never
 * to the SDC; the plugin sees esa_context_is_preview () and acts on nothing),
 * then answers with exactly what would be sent: each
 * report's JSON body as the https transport puts it on the wire and the
 * manifest of its attachments (size, SHA-256). With "output", the body
 * (UUID.json, byte for byte), the manifest (UUID.manifest.json) and the
 * attachments (UUID/NAME) are written there too. Schema: docs/schemas/preview.json. */
#include "config.h"

#include "esa-preview-routes-private.h"
#include "esa-deliver.h"
#include "esa-dispatcher.h"
#include "esa-engine.h"
#include "esa-fileutil.h"
#include "esa-preview.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <errno.h>

typedef struct {
  EsaControl *ctl;
  SoupServerMessage *msg;
  char *job;       /* the job, or the command's words */
  EsaCommand *cmd; /* a command's preview: the command */
  char *summary;   /* what the run said (job summary, command text) */
  char *output;    /* absolute, or NULL */
  char *scratch;   /* the scratch queue's folder */
  EsaQueue *sink;
} Preview;

static void
preview_free (Preview *p)
{
  g_clear_object (&p->msg);
  g_free (p->job);
  g_free (p->summary);
  g_free (p->output);
  g_clear_pointer (&p->sink, esa_queue_free);
  if (p->scratch != NULL)
    esa_rm_rf (p->scratch);
  g_free (p->scratch);
  g_free (p);
}

static gboolean
write_output (const char *dir, EsaReport *report, JsonNode *envelope, JsonObject *manifest, GError **error)
{
  const char *uuid = esa_report_get_uuid (report);
  g_autofree char *body = esa_json_to_string (envelope, FALSE);
  g_autofree char *body_name = g_strdup_printf ("%s.json", uuid);
  g_autofree char *manifest_name = g_strdup_printf ("%s.manifest.json", uuid);
  g_autofree char *body_path = g_build_filename (dir, body_name, NULL);
  g_autofree char *manifest_path = g_build_filename (dir, manifest_name, NULL);
  g_autofree char *att_dir = g_build_filename (dir, uuid, NULL);
  g_autoptr (JsonNode) mn = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *mtext = NULL;
  GPtrArray *atts = esa_report_get_attachments (report);
  json_node_set_object (mn, manifest);
  mtext = esa_json_to_string (mn, TRUE);
  if (!esa_mkdir_p (dir, 0700, error) || !g_file_set_contents_full (body_path, body, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error) ||
      !g_file_set_contents_full (manifest_path, mtext, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return FALSE;
  for (guint i = 0; i < atts->len; i++)
    {
      EsaAttachment *a = g_ptr_array_index (atts, i);
      g_autofree char *dst = g_build_filename (att_dir, a->name, NULL);
      if (!esa_mkdir_p (att_dir, 0700, error) || !esa_file_copy_durable (a->path, dst, 0600, error))
        return FALSE;
    }
  return TRUE;
}

/* Worker thread: envelopes and manifests of what the job built. */
static void
collect_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Preview *p = task_data;
  g_autoptr (GPtrArray) entries = esa_queue_list (p->sink);
  JsonArray *reports = json_array_new ();
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  for (guint i = 0; i < entries->len; i++)
    {
      EsaQueueEntry *e = g_ptr_array_index (entries, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (EsaReport) report = esa_queue_load (p->sink, e->uuid, NULL, &error);
      g_autoptr (JsonNode) envelope = report ? esa_report_envelope (report, &error) : NULL;
      g_autoptr (JsonObject) manifest = envelope ? esa_envelope_manifest (envelope) : NULL;
      if (manifest == NULL || (p->output != NULL && !write_output (p->output, report, envelope, manifest, &error)))
        {
          json_array_unref (reports);
          json_object_unref (o);
          json_node_free (n);
          g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_FAILED, "preview of %s: %s", e->uuid, error->message);
          return;
        }
      json_object_set_string_member (manifest, "uuid", esa_report_get_uuid (report));
      json_object_set_string_member (manifest, "kind", esa_report_get_kind (report));
      json_object_set_member (manifest, "body", json_node_ref (envelope));
      json_array_add_object_element (reports, g_steal_pointer (&manifest));
    }
  json_object_set_string_member (o, "job", p->job);
  json_object_set_array_member (o, "reports", reports);
  if (p->summary != NULL)
    json_object_set_string_member (o, "summary", p->summary);
  else
    json_object_set_null_member (o, "summary");
  if (p->output != NULL)
    json_object_set_string_member (o, "output", p->output);
  else
    json_object_set_null_member (o, "output");
  json_node_take_object (n, o);
  g_task_return_pointer (task, n, (GDestroyNotify) json_node_unref);
}

static void
collect_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Preview *p = g_task_get_task_data (G_TASK (res));
  g_autoptr (GError) error = NULL;
  JsonNode *node = g_task_propagate_pointer (G_TASK (res), &error);
  if (node == NULL)
    esa_control_reply_error (p->ctl, p->msg, error);
  else
    esa_control_reply (p->ctl, p->msg, node);
}

/* Worker thread of a command's preview: the command runs with the sink set
 * on this thread (what it submits is kept aside), then the collection. */
static void
command_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Preview *p = task_data;
  const char *const no_args[] = { NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) result = NULL;
  esa_preview_set_sink (p->sink);
  result = p->cmd->func (p->cmd->ctx, no_args, p->cmd->user_data, &error);
  esa_preview_set_sink (NULL);
  if (result == NULL)
    {
      g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_FAILED, "preview of %s: %s", p->job,
                               error != NULL ? error->message : "the command failed without a reason");
      return;
    }
  p->summary = g_strdup (esa_json_peek_string (result, "text"));
  if (p->summary != NULL)
    g_strchomp (p->summary);
  collect_thread (task, source, task_data, cancellable);
}

static void
run_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Preview *p = user_data;
  EsaEngine *engine = esa_control_get_engine (p->ctl);
  g_autoptr (GError) error = NULL;
  g_autofree char *summary = esa_dispatcher_run_finish (esa_engine_get_dispatcher (engine), res, &error);
  g_autoptr (GTask) task = NULL;
  p->summary = g_strdup (summary);
  if (summary == NULL)
    {
      esa_control_reply_error (p->ctl, p->msg, error);
      preview_free (p);
      return;
    }
  task = g_task_new (NULL, NULL, collect_done, NULL);
  g_task_set_task_data (task, p, (GDestroyNotify) preview_free);
  g_task_run_in_thread (task, collect_thread);
}

static void
post_preview (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  const char *job = esa_json_peek_string (body, "job");
  const char *command = esa_json_peek_string (body, "command");
  const char *output = esa_json_peek_string (body, "output");
  g_autoptr (GError) error = NULL;
  g_autofree char *template = NULL;
  g_auto (GStrv) words = command != NULL ? g_strsplit (command, " ", -1) : NULL;
  EsaCommand *cmd = NULL;
  guint used = 0;
  Preview *p;
  if ((job == NULL) == (command == NULL) || (output != NULL && !g_path_is_absolute (output)))
    {
      g_set_error (&error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   job == NULL && command == NULL ? "job: missing (or command)"
                   : job != NULL && command != NULL ? "job and command: expected one of them"
                                                    : "output \"%s\": expected an absolute folder", output);
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  if (command != NULL &&
      ((cmd = esa_engine_find_command (engine, (const char *const *) words, &used)) == NULL || words[used] != NULL))
    {
      g_set_error (&error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "command \"%s\": no loaded plugin provides it", command);
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  p = g_new0 (Preview, 1);
  p->cmd = cmd;
  p->ctl = ctl;
  p->msg = g_object_ref (msg);
  p->job = g_strdup (job != NULL ? job : command);
  p->output = g_strdup (output);
  /* the scratch queue lives beside the real one: same owner, same 0700 */
  template = g_build_filename (esa_config_get_state_dir (esa_engine_get_config (engine)), "preview-XXXXXX", NULL);
  p->scratch = g_mkdtemp_full (g_steal_pointer (&template), 0700);
  if (p->scratch == NULL || (p->sink = esa_queue_open (p->scratch, &error)) == NULL)
    {
      if (error == NULL)
        g_set_error (&error, ESA_ERROR, ESA_ERROR_FAILED, "preview: cannot make a scratch folder: %s", g_strerror (errno));
      esa_control_reply_error (ctl, msg, error);
      preview_free (p);
      return;
    }
  esa_control_hold (ctl, msg);
  if (cmd != NULL)
    {
      g_autoptr (GTask) task = g_task_new (NULL, NULL, collect_done, NULL);
      g_task_set_task_data (task, p, (GDestroyNotify) preview_free);
      g_task_run_in_thread (task, command_thread);
      return;
    }
  if (!esa_dispatcher_preview (esa_engine_get_dispatcher (engine), job, p->sink, run_done, p, &error))
    {
      esa_control_reply_error (ctl, msg, error);
      preview_free (p);
    }
}

void
esa_preview_add_routes (EsaControl *ctl)
{
  esa_control_add_route (ctl, "POST", "/v1/preview", post_preview, NULL);
}
