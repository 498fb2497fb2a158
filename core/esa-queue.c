/* esa-queue.c: the persistent spool (DESIGN.md "Queue").
 *
 * Layout under the spool folder:
 *   <uuid>.json    the report plus its delivery state; its presence commits the report
 *   <uuid>.d/      its attachments (renamed in place before the .json is written)
 *   tmp/           half-written files; emptied at open
 *   failed/        reports the SDC rejected (or that could not be read), with the reason
 * A crash at any point leaves each report either whole or absent. */
#include "config.h"

#include "esa-queue.h"
#include "esa-fileutil.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>

struct _EsaQueue {
  char *dir;
  char *tmp_dir;
  char *failed_dir;
  GMutex lock;
};

void
esa_queue_entry_free (EsaQueueEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->uuid);
  g_free (entry->kind);
  g_free (entry->plugin);
  g_free (entry->created);
  g_free (entry->last_error);
  g_free (entry->failed_reason);
  g_free (entry);
}

const char *
esa_queue_get_dir (EsaQueue *self)
{
  return self->dir;
}

static char *
json_path (const char *dir, const char *uuid)
{
  g_autofree char *name = g_strdup_printf ("%s.json", uuid);
  return g_build_filename (dir, name, NULL);
}

static char *
att_dir (const char *dir, const char *uuid)
{
  g_autofree char *name = g_strdup_printf ("%s.d", uuid);
  return g_build_filename (dir, name, NULL);
}

/* Reads <dir>/<uuid>.json into (report node, delivery object). */
static JsonNode *
read_envelope (const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;
  if (!json_parser_load_from_mapped_file (parser, path, &local))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: %s", path, local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  /* "report" must be an object: list () reads its members without checks. */
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      esa_json_peek_object (json_node_get_object (root), "report") == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "%s: not a spooled report (expected an object with \"report\")", path);
      return NULL;
    }
  return json_node_copy (root);
}

static gboolean
write_envelope (EsaQueue *self, const char *dir, const char *uuid, JsonNode *env, GError **error)
{
  g_autofree char *path = json_path (dir, uuid);
  g_autofree char *text = json_to_string (env, FALSE);
  return esa_file_write_atomic (path, self->tmp_dir, text, strlen (text), 0600, error);
}

static JsonObject *
delivery_of (JsonNode *env)
{
  JsonObject *root = json_node_get_object (env);
  JsonObject *d = esa_json_peek_object (root, "delivery");
  if (d == NULL)
    {
      json_object_set_object_member (root, "delivery", json_object_new ());
      d = json_object_get_object_member (root, "delivery");
    }
  return d;
}

static guint64
tree_size (const char *path)
{
  GStatBuf st;
  guint64 total = 0;
  GDir *dir;
  const char *name;
  if (g_stat (path, &st) != 0)
    return 0;
  if (!S_ISDIR (st.st_mode))
    return (guint64) st.st_size;
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      total += tree_size (child);
    }
  if (dir != NULL)
    g_dir_close (dir);
  return total;
}

/* Moves a report that cannot be read into failed/ so it never blocks the queue. */
static void
quarantine (EsaQueue *self, const char *name, const char *why)
{
  g_autofree char *src = g_build_filename (self->dir, name, NULL);
  g_autofree char *dst_name = g_strdup_printf ("%s.corrupt", name);
  g_autofree char *dst = g_build_filename (self->failed_dir, dst_name, NULL);
  g_warning ("spool: %s: %s; moved to %s", src, why, dst);
  if (g_rename (src, dst) != 0)
    g_unlink (src);
  /* Its attachments go with it, for whoever investigates. */
  if (g_str_has_suffix (name, ".json"))
    {
      g_autofree char *uuid = g_strndup (name, strlen (name) - strlen (".json"));
      g_autofree char *att_src = att_dir (self->dir, uuid);
      g_autofree char *att_name = g_strdup_printf ("%s.d.corrupt", uuid);
      g_autofree char *att_dst = g_build_filename (self->failed_dir, att_name, NULL);
      if (g_file_test (att_src, G_FILE_TEST_IS_DIR) && g_rename (att_src, att_dst) != 0)
        esa_rm_rf (att_src);
    }
}

static gboolean
is_uuid_file (const char *name, const char *suffix, char **uuid_out)
{
  g_autofree char *uuid = NULL;
  if (!g_str_has_suffix (name, suffix))
    return FALSE;
  uuid = g_strndup (name, strlen (name) - strlen (suffix));
  if (!g_uuid_string_is_valid (uuid))
    return FALSE;
  if (uuid_out != NULL)
    *uuid_out = g_steal_pointer (&uuid);
  return TRUE;
}

/* After a crash: clear tmp/, drop attachment folders whose report never
 * committed, quarantine reports that do not parse. */
static void
recover (EsaQueue *self)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir;
  const char *name;

  esa_rm_rf (self->tmp_dir);
  g_mkdir (self->tmp_dir, 0700);

  dir = g_dir_open (self->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  if (dir != NULL)
    g_dir_close (dir);

  for (guint i = 0; i < names->len; i++)
    {
      const char *n = g_ptr_array_index (names, i);
      g_autofree char *uuid = NULL;
      if (g_str_equal (n, "tmp") || g_str_equal (n, "failed"))
        continue;
      if (is_uuid_file (n, ".d", &uuid))
        {
          g_autofree char *json = json_path (self->dir, uuid);
          g_autofree char *path = g_build_filename (self->dir, n, NULL);
          g_autofree char *failed_json = json_path (self->failed_dir, uuid);
          g_autofree char *failed_att = att_dir (self->failed_dir, uuid);
          if (g_file_test (json, G_FILE_TEST_EXISTS))
            ;
          /* retry_failed () moves the folder before the report: a crash in
           * between leaves it here while its report is still in failed/. */
          else if (g_file_test (failed_json, G_FILE_TEST_EXISTS) &&
                   !g_file_test (failed_att, G_FILE_TEST_EXISTS) && g_rename (path, failed_att) == 0)
            g_warning ("spool: %s: moved back to %s (an interrupted retry)", path, failed_att);
          else
            esa_rm_rf (path); /* enqueue died before the commit */
        }
      else if (is_uuid_file (n, ".json", &uuid))
        {
          g_autofree char *path = g_build_filename (self->dir, n, NULL);
          g_autoptr (GError) error = NULL;
          g_autoptr (JsonNode) env = read_envelope (path, &error);
          g_autoptr (EsaReport) report = NULL;
          if (env != NULL)
            report = esa_report_new_from_json (
                json_object_get_member (json_node_get_object (env), "report"), &error);
          if (report == NULL)
            quarantine (self, n, error->message);
          else if (g_strcmp0 (esa_report_get_uuid (report), uuid) != 0)
            quarantine (self, n, "file name and report uuid differ");
        }
      else
        {
          g_autofree char *path = g_build_filename (self->dir, n, NULL);
          g_warning ("spool: %s: not a report, ignored", path);
        }
    }
}

EsaQueue *
esa_queue_open (const char *dir, GError **error)
{
  g_autoptr (EsaQueue) self = g_new0 (EsaQueue, 1);
  g_mutex_init (&self->lock);
  self->dir = g_strdup (dir);
  self->tmp_dir = g_build_filename (dir, "tmp", NULL);
  self->failed_dir = g_build_filename (dir, "failed", NULL);
  if (!esa_mkdir_p (dir, 0700, error) || !esa_mkdir_p (self->tmp_dir, 0700, error) ||
      !esa_mkdir_p (self->failed_dir, 0700, error))
    return NULL;
  recover (self);
  return g_steal_pointer (&self);
}

void
esa_queue_free (EsaQueue *self)
{
  if (self == NULL)
    return;
  g_mutex_clear (&self->lock);
  g_free (self->dir);
  g_free (self->tmp_dir);
  g_free (self->failed_dir);
  g_free (self);
}

gboolean
esa_queue_enqueue (EsaQueue *self, EsaReport *report, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  const char *uuid = esa_report_get_uuid (report);
  GPtrArray *atts = esa_report_get_attachments (report);
  g_autoptr (JsonNode) rnode = esa_report_to_json (report);
  g_autoptr (JsonNode) env = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) root = json_object_new ();
  g_autofree char *final_json = json_path (self->dir, uuid);
  JsonArray *ratts;

  if (g_file_test (final_json, G_FILE_TEST_EXISTS))
    return TRUE; /* already committed: enqueue is idempotent */

  /* Attachments first: copied into tmp/<uuid>.d, then renamed into place. */
  if (atts->len > 0)
    {
      g_autofree char *tmp_att = att_dir (self->tmp_dir, uuid);
      g_autofree char *final_att = att_dir (self->dir, uuid);
      if (!esa_mkdir_p (tmp_att, 0700, error))
        return FALSE;
      for (guint i = 0; i < atts->len; i++)
        {
          EsaAttachment *att = g_ptr_array_index (atts, i);
          g_autofree char *dst = g_build_filename (tmp_att, att->name, NULL);
          if (!esa_file_copy_durable (att->path, dst, 0600, error))
            {
              esa_rm_rf (tmp_att);
              return FALSE;
            }
        }
      esa_rm_rf (final_att);
      /* The folder's entries must be durable before the folder is published. */
      if (!esa_fsync_dir (tmp_att, error))
        {
          esa_rm_rf (tmp_att);
          return FALSE;
        }
      if (g_rename (tmp_att, final_att) != 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot move %s into the spool: %s",
                       tmp_att, g_strerror (errno));
          esa_rm_rf (tmp_att);
          return FALSE;
        }
    }

  /* Attachment paths in the spool are relative to <uuid>.d. */
  ratts = json_object_get_array_member (json_node_get_object (rnode), "attachments");
  for (guint i = 0; i < json_array_get_length (ratts); i++)
    {
      JsonObject *a = json_array_get_object_element (ratts, i);
      json_object_set_string_member (a, "path", json_object_get_string_member (a, "name"));
    }
  json_object_set_member (root, "report", g_steal_pointer (&rnode));
  json_object_set_object_member (root, "delivery", json_object_new ());
  json_node_set_object (env, root);
  if (!write_envelope (self, self->dir, uuid, env, error))
    {
      g_autofree char *final_att = att_dir (self->dir, uuid);
      esa_rm_rf (final_att);
      return FALSE;
    }
  return TRUE;
}

static EsaQueueEntry *
entry_from_envelope (const char *dir, const char *uuid, JsonNode *env)
{
  JsonObject *root = json_node_get_object (env);
  JsonObject *report = json_object_get_object_member (root, "report");
  JsonObject *delivery = delivery_of (env);
  JsonObject *failed = esa_json_peek_object (root, "failed");
  EsaQueueEntry *e = g_new0 (EsaQueueEntry, 1);
  g_autofree char *json = json_path (dir, uuid);
  g_autofree char *att = att_dir (dir, uuid);
  e->uuid = g_strdup (uuid);
  /* Spool files are outside input too: a member of the wrong type reads as absent. */
  e->kind = g_strdup (esa_json_peek_string (report, "kind") ?: "?");
  e->plugin = g_strdup (esa_json_peek_string (report, "plugin") ?: "?");
  e->created = g_strdup (esa_json_peek_string (report, "created") ?: "");
  e->attempts = (guint) CLAMP (esa_json_peek_int (delivery, "attempts", 0), 0, G_MAXUINT);
  e->next_attempt = esa_json_peek_int (delivery, "next_attempt", 0);
  e->last_error = g_strdup (esa_json_peek_string (delivery, "last_error"));
  e->failed_reason = g_strdup (esa_json_peek_string (failed, "reason"));
  e->size = tree_size (json) + tree_size (att);
  return e;
}

static gint
entry_cmp (gconstpointer a, gconstpointer b)
{
  const EsaQueueEntry *ea = *(EsaQueueEntry *const *) a;
  const EsaQueueEntry *eb = *(EsaQueueEntry *const *) b;
  int c = g_strcmp0 (ea->created, eb->created);
  return c != 0 ? c : g_strcmp0 (ea->uuid, eb->uuid);
}

static GPtrArray *
list_dir (EsaQueue *self, const char *dir_path)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_queue_entry_free);
  GDir *dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *uuid = NULL;
      g_autofree char *path = NULL;
      g_autoptr (JsonNode) env = NULL;
      if (!is_uuid_file (name, ".json", &uuid))
        continue;
      path = g_build_filename (dir_path, name, NULL);
      env = read_envelope (path, NULL);
      if (env != NULL)
        g_ptr_array_add (out, entry_from_envelope (dir_path, uuid, env));
    }
  if (dir != NULL)
    g_dir_close (dir);
  g_ptr_array_sort (out, entry_cmp);
  return out;
}

GPtrArray *
esa_queue_list (EsaQueue *self)
{
  return list_dir (self, self->dir);
}

GPtrArray *
esa_queue_list_failed (EsaQueue *self)
{
  return list_dir (self, self->failed_dir);
}

static JsonNode *
load_envelope_locked (EsaQueue *self, const char *dir, const char *uuid, GError **error)
{
  g_autofree char *path = NULL;
  if (!g_uuid_string_is_valid (uuid))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "\"%s\" is not a report id (expected a UUID)", uuid);
      return NULL;
    }
  path = json_path (dir, uuid);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "report %s is not in %s", uuid, dir);
      return NULL;
    }
  return read_envelope (path, error);
}

EsaReport *
esa_queue_load (EsaQueue *self, const char *uuid, EsaQueueEntry **entry_out, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr (JsonNode) env = load_envelope_locked (self, self->dir, uuid, error);
  g_autofree char *adir = att_dir (self->dir, uuid);
  EsaReport *report;
  GPtrArray *atts;
  if (env == NULL)
    return NULL;
  report = esa_report_new_from_json (
      json_object_get_member (json_node_get_object (env), "report"), error);
  if (report == NULL)
    return NULL;
  atts = esa_report_get_attachments (report);
  for (guint i = 0; i < atts->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (atts, i);
      g_free (att->path);
      att->path = g_build_filename (adir, att->name, NULL);
    }
  if (entry_out != NULL)
    *entry_out = entry_from_envelope (self->dir, uuid, env);
  return report;
}

gboolean
esa_queue_remove (EsaQueue *self, const char *uuid, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autofree char *json = NULL;
  g_autofree char *adir = NULL;
  /* Only ever a name inside the spool ("../x" would delete outside it). */
  if (!g_uuid_string_is_valid (uuid))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "\"%s\" is not a report id (expected a UUID)", uuid);
      return FALSE;
    }
  json = json_path (self->dir, uuid);
  adir = att_dir (self->dir, uuid);
  /* The .json goes first: without it the folder is an orphan that open () clears. */
  if (g_unlink (json) != 0 && errno != ENOENT)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot remove %s: %s", json,
                   g_strerror (errno));
      return FALSE;
    }
  esa_rm_rf (adir);
  return esa_fsync_dir (self->dir, error);
}

gboolean
esa_queue_reschedule (EsaQueue *self, const char *uuid, const char *reason, gint64 next_attempt,
                      GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr (JsonNode) env = load_envelope_locked (self, self->dir, uuid, error);
  JsonObject *d;
  if (env == NULL)
    return FALSE;
  d = delivery_of (env);
  json_object_set_int_member (d, "attempts", esa_json_peek_int (d, "attempts", 0) + 1);
  json_object_set_int_member (d, "next_attempt", next_attempt);
  json_object_set_string_member (d, "last_error", reason);
  return write_envelope (self, self->dir, uuid, env, error);
}

/* Moves <uuid>.json (+ .d) from one folder to another, folder first. */
static gboolean
move_report (EsaQueue *self, const char *from, const char *to, const char *uuid, JsonNode *env,
             GError **error)
{
  g_autofree char *src_att = att_dir (from, uuid);
  g_autofree char *dst_att = att_dir (to, uuid);
  g_autofree char *src_json = json_path (from, uuid);
  if (g_file_test (src_att, G_FILE_TEST_IS_DIR))
    {
      esa_rm_rf (dst_att);
      if (g_rename (src_att, dst_att) != 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot move %s: %s", src_att,
                       g_strerror (errno));
          return FALSE;
        }
    }
  if (!write_envelope (self, to, uuid, env, error))
    return FALSE;
  g_unlink (src_json);
  return esa_fsync_dir (from, error);
}

gboolean
esa_queue_fail (EsaQueue *self, const char *uuid, const char *reason, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr (JsonNode) env = load_envelope_locked (self, self->dir, uuid, error);
  g_autoptr (JsonObject) failed = json_object_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *at = g_date_time_format_iso8601 (now);
  if (env == NULL)
    return FALSE;
  json_object_set_string_member (failed, "reason", reason);
  json_object_set_string_member (failed, "at", at);
  json_object_set_object_member (json_node_get_object (env), "failed", g_steal_pointer (&failed));
  return move_report (self, self->dir, self->failed_dir, uuid, env, error);
}

gboolean
esa_queue_retry_failed (EsaQueue *self, const char *uuid, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr (JsonNode) env = load_envelope_locked (self, self->failed_dir, uuid, error);
  if (env == NULL)
    return FALSE;
  json_object_remove_member (json_node_get_object (env), "failed");
  json_object_set_object_member (json_node_get_object (env), "delivery", json_object_new ());
  return move_report (self, self->failed_dir, self->dir, uuid, env, error);
}
