/* esa-history.c: the delivery history (esa-history.h). Appends go through
 * O_APPEND with one write() per record, so a reader never sees half a record
 * unless the machine died mid-write (the reader skips such a line). Rotation
 * renames; no file is ever rewritten. */
#include "config.h"

#include "esa-history.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static GMutex history_lock;
/* The current generation stays open between appends (under history_lock):
 * a drain writes a line per report, and open + close each time was two
 * more system calls and a path walk per report. Its device and inode tell
 * when the name no longer leads to it (rotated, removed by hand). */
static int held_fd = -1;
static char *held_path;
static dev_t held_dev;
static ino_t held_ino;

static void
held_close (void)
{
  if (held_fd >= 0)
    close (held_fd);
  held_fd = -1;
  g_clear_pointer (&held_path, g_free);
}

static char *
generation_path (const char *state_dir, guint n)
{
  g_autofree char *name = n == 0 ? g_strdup (ESA_HISTORY_FILE) : g_strdup_printf (ESA_HISTORY_FILE ".%u", n);
  return g_build_filename (state_dir, name, NULL);
}

/* Opens @path for appending as the held file; its status into @st. */
static gboolean
held_open (const char *path, struct stat *st, GError **error)
{
  int fd = g_open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 || fstat (fd, st) != 0)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  held_fd = fd;
  held_path = g_strdup (path);
  held_dev = st->st_dev;
  held_ino = st->st_ino;
  return TRUE;
}

/* history.jsonl.N-1 → .N …, history.jsonl → .1; the oldest falls off. */
static gboolean
rotate (const char *state_dir, GError **error)
{
  g_autofree char *oldest = generation_path (state_dir, ESA_HISTORY_KEEP);
  if (g_unlink (oldest) != 0 && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", oldest, g_strerror (saved));
      return FALSE;
    }
  for (guint n = ESA_HISTORY_KEEP; n > 0; n--)
    {
      g_autofree char *from = generation_path (state_dir, n - 1);
      g_autofree char *to = generation_path (state_dir, n);
      if (g_rename (from, to) != 0 && errno != ENOENT)
        {
          int saved = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "rotating %s: %s", from,
                       g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
esa_history_append (const char *state_dir, JsonObject *record, gsize max_bytes, GError **error)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  g_autofree char *path = generation_path (state_dir, 0);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&history_lock);
  struct stat st;
  gsize len;
  ssize_t n;

  json_node_set_object (node, record);
  text = esa_json_to_string (node, FALSE);
  line = g_strconcat (text, "\n", NULL);
  len = strlen (line);
  if (g_stat (path, &st) != 0 || held_path == NULL || !g_str_equal (held_path, path) ||
      st.st_dev != held_dev || st.st_ino != held_ino)
    held_close ();
  if (held_fd < 0 && !held_open (path, &st, error))
    return FALSE;
  if (st.st_size > 0 && (gsize) st.st_size + len > max_bytes)
    {
      held_close ();
      if (!rotate (state_dir, error) || !held_open (path, &st, error))
        return FALSE;
    }
  n = write (held_fd, line, len);
  if (n != (ssize_t) len)
    {
      int saved = n < 0 ? errno : ENOSPC;
      held_close ();
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static void
read_file (const char *path, JsonArray *out, GPtrArray *warnings)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (JsonNode) n = NULL;
      if (lines[i][0] == '\0')
        continue;
      n = esa_json_parse (lines[i], -1, ESA_JSON_MAX_BYTES_DEFAULT, ESA_JSON_MAX_DEPTH_DEFAULT, &local);
      if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
        {
          if (warnings != NULL)
            g_ptr_array_add (warnings, g_strdup_printf ("%s:%u: not a history record (%s); skipped", path, i + 1,
                                                        local ? local->message : "expected a JSON object"));
          continue;
        }
      json_array_add_object_element (out, json_object_ref (json_node_get_object (n)));
    }
}

JsonArray *
esa_history_read (const char *state_dir, GPtrArray *warnings, GError **error)
{
  JsonArray *out = json_array_new ();
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&history_lock);
  for (guint n = ESA_HISTORY_KEEP + 1; n > 0; n--)
    {
      g_autofree char *path = generation_path (state_dir, n - 1);
      read_file (path, out, warnings);
    }
  return out;
}

static const char *
outcome_word (EsaTransportOutcome outcome)
{
  switch (outcome)
    {
    case ESA_TRANSPORT_SENT: return "delivered";
    case ESA_TRANSPORT_REJECTED: return "rejected";
    case ESA_TRANSPORT_AUTH: return "credentials refused";
    case ESA_TRANSPORT_RETRY:
    default: return "not delivered, will retry";
    }
}

void
esa_history_note (EsaConfig *config, EsaReport *report, const char *transport, const EsaTransportResult *result)
{
  g_autoptr (JsonObject) r = json_object_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = esa_json_time (now);
  g_autoptr (GError) error = NULL;
  JsonObject *answer = result->answer != NULL && JSON_NODE_HOLDS_OBJECT (result->answer)
                           ? json_node_get_object (result->answer) : NULL;
  const char *reference = esa_json_peek_string (answer, "service_request");
  JsonObject *m = result->manifest;
  json_object_set_string_member (r, "time", time);
  json_object_set_string_member (r, "uuid", esa_report_get_uuid (report));
  json_object_set_string_member (r, "kind", esa_report_get_kind (report));
  json_object_set_string_member (r, "plugin", esa_report_get_plugin (report));
  json_object_set_string_member (r, "transport", transport);
  if (m != NULL && esa_json_peek_string (m, "server") != NULL)
    json_object_set_string_member (r, "server", esa_json_peek_string (m, "server"));
  else
    json_object_set_null_member (r, "server");
  json_object_set_string_member (r, "route", result->message ? result->message : "");
  json_object_set_string_member (r, "result", outcome_word (result->outcome));
  json_object_set_boolean_member (r, "delivered", result->outcome == ESA_TRANSPORT_SENT);
  if (reference != NULL)
    json_object_set_string_member (r, "reference", reference);
  else
    json_object_set_null_member (r, "reference");
  if (m != NULL)
    {
      json_object_set_int_member (r, "bytes", esa_json_peek_int (m, "bytes", 0));
      json_object_set_int_member (r, "body_bytes", esa_json_peek_int (m, "body_bytes", 0));
      json_object_set_string_member (r, "body_sha256", esa_json_peek_string (m, "body_sha256"));
      json_object_set_member (r, "attachments", json_node_copy (json_object_get_member (m, "attachments")));
      if (json_object_has_member (m, "attempts"))
        json_object_set_member (r, "attempts", json_node_copy (json_object_get_member (m, "attempts")));
    }
  if (!esa_history_append (esa_config_get_state_dir (config), r, ESA_HISTORY_MAX_BYTES, &error))
    g_warning ("delivery history: %s", error->message);
}
