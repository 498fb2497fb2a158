/* diag-problem-log.c: the problem log, a JSON array in one file written
 * atomically (temp file + rename). Every public call takes the lock: jobs,
 * esactl commands and the delivered callback use it from different threads.
 *
 * A "pending" entry only suppresses duplicates while this process is still
 * reporting it (in_flight): one left on disk by a crash, or whose enqueue
 * failed, says nothing about what reached the queue, and letting it count
 * would hide a real hardware problem for the whole dedup window. */
#include "config.h"

#include "diag-problem-log.h"
#include "esa/esa-json.h"

#include <esa/esa-error.h>
#include <errno.h>
#include <glib/gstdio.h>

struct _DiagProblemLog {
  GMutex lock;
  char *path;
  JsonArray *entries; /* JsonObject*, oldest first */
  guint next_id;
  GHashTable *in_flight; /* ids of pending entries this process is reporting */
};

static const char *
str_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gint64
int_member (JsonObject *o, const char *name, gint64 fallback)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return fallback;
  return json_node_get_int (n);
}

/* Only well-formed entries are kept: the file is ours, but a half-edited or
 * older file must not crash the listing. */
static gboolean
entry_valid (JsonNode *node)
{
  JsonObject *o;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  o = json_node_get_object (node);
  return int_member (o, "id", 0) > 0 && str_member (o, "status") != NULL;
}

static gboolean save (DiagProblemLog *self, GError **error);

/* Start-up: a pending entry is one whose reporter died (esad killed, or the
 * disk full when its outcome was to be written). Whether its report reached
 * the queue is unknown here, so it becomes failed, which never suppresses
 * the next occurrence; if the report was queued after all, its delivery
 * still finds the entry by uuid and marks it reported. */
static void
reconcile (DiagProblemLog *self)
{
  g_autoptr (GError) error = NULL;
  guint n = 0;
  for (guint i = 0; i < json_array_get_length (self->entries); i++)
    {
      JsonObject *o = json_array_get_object_element (self->entries, i);
      if (g_strcmp0 (str_member (o, "status"), DIAG_STATUS_PENDING) != 0)
        continue;
      json_object_set_string_member (o, "status", DIAG_STATUS_FAILED);
      json_object_set_string_member (o, "reason", DIAG_REASON_INTERRUPTED);
      n++;
    }
  if (n > 0)
    {
      g_message ("%s: %u problem%s interrupted while being reported; the next occurrence is reported again",
                 self->path, n, n == 1 ? "" : "s");
      if (!save (self, &error))
        g_warning ("%s", error->message);
    }
}

static void
load (DiagProblemLog *self)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root;
  if (!g_file_test (self->path, G_FILE_TEST_EXISTS))
    return;
  if (json_parser_load_from_mapped_file (parser, self->path, &error))
    {
      root = json_parser_get_root (parser);
      if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
        {
          JsonObject *o = json_node_get_object (root);
          JsonNode *list = json_object_get_member (o, "problems");
          if (list != NULL && JSON_NODE_HOLDS_ARRAY (list))
            {
              JsonArray *a = json_node_get_array (list);
              for (guint i = 0; i < json_array_get_length (a); i++)
                {
                  JsonNode *e = json_array_get_element (a, i);
                  if (!entry_valid (e))
                    {
                      g_warning ("%s: problem %u: not a valid entry, skipped", self->path, i);
                      continue;
                    }
                  json_array_add_element (self->entries, json_node_copy (e));
                  self->next_id = MAX (self->next_id,
                                       (guint) int_member (json_node_get_object (e), "id", 0) + 1);
                }
              self->next_id = MAX (self->next_id, (guint) int_member (o, "next_id", 1));
              reconcile (self);
              return;
            }
        }
      error = g_error_new (ESA_ERROR, ESA_ERROR_INVALID_DATA, "expected {\"problems\": [...]}");
    }
  {
    g_autofree char *bad = g_strconcat (self->path, ".bad", NULL);
    g_warning ("%s: %s; moved to %s, starting a new problem log", self->path, error->message, bad);
    if (g_rename (self->path, bad) != 0)
      g_warning ("%s: cannot rename: %s", self->path, g_strerror (errno));
  }
}

DiagProblemLog *
diag_problem_log_new (const char *path)
{
  DiagProblemLog *self = g_new0 (DiagProblemLog, 1);
  g_mutex_init (&self->lock);
  self->path = g_strdup (path);
  self->entries = json_array_new ();
  self->next_id = 1;
  self->in_flight = g_hash_table_new (NULL, NULL);
  load (self);
  return self;
}

void
diag_problem_log_free (DiagProblemLog *self)
{
  if (self == NULL)
    return;
  g_mutex_clear (&self->lock);
  g_free (self->path);
  json_array_unref (self->entries);
  g_hash_table_unref (self->in_flight);
  g_free (self);
}

static gboolean
save (DiagProblemLog *self, GError **error)
{
  g_autoptr (JsonObject) root = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  json_object_set_int_member (root, "version", 1);
  json_object_set_int_member (root, "next_id", self->next_id);
  json_object_set_array_member (root, "problems", json_array_ref (self->entries));
  json_node_set_object (node, root);
  text = esa_json_to_string (node, TRUE);
  if (!g_file_set_contents_full (self->path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
                                 &local))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "problem log %s: %s", self->path, local->message);
      return FALSE;
    }
  return TRUE;
}

static JsonObject *
find_locked (DiagProblemLog *self, guint id)
{
  for (guint i = 0; i < json_array_get_length (self->entries); i++)
    {
      JsonObject *o = json_array_get_object_element (self->entries, i);
      if (int_member (o, "id", 0) == (gint64) id)
        return o;
    }
  return NULL;
}

static gboolean
is_original (DiagProblemLog *self, JsonObject *o)
{
  const char *status = str_member (o, "status");
  if (g_strcmp0 (status, DIAG_STATUS_PENDING) == 0)
    return g_hash_table_contains (self->in_flight, GUINT_TO_POINTER ((guint) int_member (o, "id", 0)));
  return g_strcmp0 (status, DIAG_STATUS_REPORTED) == 0 || g_strcmp0 (status, DIAG_STATUS_QUEUED) == 0;
}

/* Entry @o got a new status: it is no longer in flight once not pending. */
static void
status_changed (DiagProblemLog *self, JsonObject *o)
{
  if (g_strcmp0 (str_member (o, "status"), DIAG_STATUS_PENDING) != 0)
    g_hash_table_remove (self->in_flight, GUINT_TO_POINTER ((guint) int_member (o, "id", 0)));
}

guint
diag_problem_log_add (DiagProblemLog *self, JsonObject *entry, guint64 window_s, gint64 now_unix,
                      GError **error)
{
  g_autoptr (JsonObject) e = entry;
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (now_unix);
  g_autofree char *iso = g_date_time_format_iso8601 (dt);
  const char *key = str_member (e, "key");
  const char *resource = str_member (e, "resource");
  gboolean test = json_object_get_boolean_member_with_default (e, "test", FALSE);
  guint id;
  g_mutex_lock (&self->lock);
  id = self->next_id++;
  json_object_set_int_member (e, "id", id);
  json_object_set_string_member (e, "time", iso);
  json_object_set_int_member (e, "time_unix", now_unix);
  if (!test && key != NULL && g_strcmp0 (str_member (e, "status"), DIAG_STATUS_PENDING) == 0)
    {
      /* newest first: a duplicate points at the latest report of the problem */
      for (guint i = json_array_get_length (self->entries); i > 0; i--)
        {
          JsonObject *o = json_array_get_object_element (self->entries, i - 1);
          gint64 t = int_member (o, "time_unix", 0);
          if (!is_original (self, o) || json_object_get_boolean_member_with_default (o, "test", FALSE))
            continue;
          if (g_strcmp0 (str_member (o, "key"), key) != 0 || g_strcmp0 (str_member (o, "resource"), resource) != 0)
            continue;
          if (now_unix - t < 0 || (guint64) (now_unix - t) >= window_s)
            continue;
          json_object_set_string_member (e, "status", DIAG_STATUS_DUPLICATE);
          json_object_set_int_member (e, "duplicate_of", int_member (o, "id", 0));
          break;
        }
    }
  if (g_strcmp0 (str_member (e, "status"), DIAG_STATUS_PENDING) == 0)
    g_hash_table_add (self->in_flight, GUINT_TO_POINTER (id));
  json_array_add_object_element (self->entries, g_steal_pointer (&e));
  while (json_array_get_length (self->entries) > DIAG_PROBLEM_LOG_MAX)
    {
      JsonObject *oldest = json_array_get_object_element (self->entries, 0);
      g_hash_table_remove (self->in_flight, GUINT_TO_POINTER ((guint) int_member (oldest, "id", 0)));
      json_array_remove_element (self->entries, 0);
    }
  if (!save (self, error))
    {
      /* An entry that is not on disk is not kept in memory either: the
       * caller reports without one, and nothing here may suppress the next
       * occurrence (the disk may be full for the enqueue as well). */
      guint last = json_array_get_length (self->entries) - 1;
      g_hash_table_remove (self->in_flight, GUINT_TO_POINTER (id));
      json_array_remove_element (self->entries, last);
      id = 0;
    }
  g_mutex_unlock (&self->lock);
  return id;
}

gboolean
diag_problem_log_update (DiagProblemLog *self, guint id, JsonObject *changes, GError **error)
{
  return diag_problem_log_update_if_status (self, id, NULL, changes, error);
}

gboolean
diag_problem_log_update_if_status (DiagProblemLog *self, guint id, const char *status,
                                   JsonObject *changes, GError **error)
{
  JsonObject *o;
  gboolean ok;
  g_mutex_lock (&self->lock);
  o = find_locked (self, id);
  if (o == NULL)
    {
      g_mutex_unlock (&self->lock);
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "problem %u: no such problem", id);
      return FALSE;
    }
  if (status != NULL && g_strcmp0 (str_member (o, "status"), status) != 0)
    {
      g_mutex_unlock (&self->lock);
      return TRUE;
    }
  {
    g_autoptr (GList) members = json_object_get_members (changes);
    for (GList *l = members; l != NULL; l = l->next)
      json_object_set_member (o, l->data, json_node_copy (json_object_get_member (changes, l->data)));
  }
  status_changed (self, o);
  ok = save (self, error);
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
diag_problem_log_delivered (DiagProblemLog *self, const char *uuid, const char *service_request,
                            GError **error)
{
  gboolean found = FALSE, ok = TRUE;
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < json_array_get_length (self->entries); i++)
    {
      JsonObject *o = json_array_get_object_element (self->entries, i);
      const char *status = str_member (o, "status");
      if (g_strcmp0 (str_member (o, "uuid"), uuid) != 0)
        continue;
      found = TRUE;
      if (g_strcmp0 (status, DIAG_STATUS_REPORTED) == 0 && str_member (o, "service_request") != NULL)
        break;
      json_object_set_string_member (o, "status", DIAG_STATUS_REPORTED);
      if (service_request != NULL)
        json_object_set_string_member (o, "service_request", service_request);
      json_object_remove_member (o, "reason");
      status_changed (self, o);
      ok = save (self, error);
      break;
    }
  g_mutex_unlock (&self->lock);
  return found && ok;
}

void
diag_problem_log_settle (DiagProblemLog *self, guint id)
{
  g_autoptr (GError) error = NULL;
  JsonObject *o;
  g_mutex_lock (&self->lock);
  o = find_locked (self, id);
  if (o != NULL && g_hash_table_contains (self->in_flight, GUINT_TO_POINTER (id)) &&
      g_strcmp0 (str_member (o, "status"), DIAG_STATUS_PENDING) == 0)
    {
      json_object_set_string_member (o, "status", DIAG_STATUS_FAILED);
      json_object_set_string_member (o, "reason", DIAG_REASON_INTERRUPTED);
      if (!save (self, &error))
        g_warning ("%s", error->message);
    }
  g_hash_table_remove (self->in_flight, GUINT_TO_POINTER (id));
  g_mutex_unlock (&self->lock);
}

JsonArray *
diag_problem_log_list (DiagProblemLog *self)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);
  g_autoptr (JsonNode) copy = NULL;
  g_mutex_lock (&self->lock);
  json_node_set_array (node, self->entries);
  copy = json_node_copy (node);
  g_mutex_unlock (&self->lock);
  return json_array_ref (json_node_get_array (copy));
}

JsonObject *
diag_problem_log_get (DiagProblemLog *self, guint id)
{
  g_autoptr (JsonNode) copy = NULL;
  JsonObject *o;
  g_mutex_lock (&self->lock);
  o = find_locked (self, id);
  if (o != NULL)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (node, o);
      copy = json_node_copy (node);
    }
  g_mutex_unlock (&self->lock);
  return copy != NULL ? json_object_ref (json_node_get_object (copy)) : NULL;
}

char *
diag_problem_status_text (JsonObject *entry)
{
  const char *status = str_member (entry, "status");
  const char *reason = str_member (entry, "reason");
  if (g_strcmp0 (status, DIAG_STATUS_REPORTED) == 0)
    {
      const char *sr = str_member (entry, "service_request");
      return sr != NULL ? g_strdup_printf ("reported %s", sr) : g_strdup ("reported");
    }
  if (g_strcmp0 (status, DIAG_STATUS_DUPLICATE) == 0)
    return g_strdup_printf ("duplicate of %" G_GINT64_FORMAT, int_member (entry, "duplicate_of", 0));
  if (g_strcmp0 (status, DIAG_STATUS_NOT_REPORTED) == 0)
    return g_strdup_printf ("not reported: %s", reason != NULL ? reason : "unknown");
  if (g_strcmp0 (status, DIAG_STATUS_FAILED) == 0)
    return reason != NULL ? g_strdup_printf ("failed: %s", reason) : g_strdup ("failed");
  return g_strdup (status != NULL ? status : "unknown");
}
