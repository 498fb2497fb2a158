/* esa-credentials.c: load/save the activation credentials (0600 JSON). */
#include "config.h"

#include "esa-credentials.h"
#include "esa-fileutil.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>

/* A credentials file is four short strings; anything bigger is not one. */
#define ESA_CREDENTIALS_MAX_BYTES (64 * 1024)

char *
esa_credentials_path (const char *state_dir)
{
  return g_build_filename (state_dir, "credentials", NULL);
}

void
esa_credentials_free (EsaCredentials *creds)
{
  if (creds == NULL)
    return;
  g_free (creds->system_id);
  if (creds->password != NULL)
    memset (creds->password, 0, strlen (creds->password));
  g_free (creds->password);
  g_free (creds->server);
  g_free (creds->activated);
  g_free (creds);
}

/* Reads one member as a string; a member of another type is one clear error
 * naming the file and the member (never a json-glib critical). */
static gboolean
read_member (JsonObject *o, const char *path, const char *name, EsaJsonFlags flags, char **out, GError **error)
{
  g_autoptr (GError) local = NULL;
  const char *value = esa_json_get_string (o, NULL, name, flags, &local);
  if (local != NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: %s (activate again)", path, local->message);
      return FALSE;
    }
  *out = g_strdup (value);
  return TRUE;
}

EsaCredentials *
esa_credentials_load (const char *state_dir, GError **error)
{
  g_autofree char *path = esa_credentials_path (state_dir);
  g_autoptr (GError) local = NULL;
  g_autoptr (EsaCredentials) creds = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  JsonObject *o;
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_ACTIVATED,
                   "not activated (no %s): run esactl activate --server URL", path);
      return NULL;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
                   "%s: mode %04o lets others read the password (expected 0600)", path,
                   (guint) (st.st_mode & 07777));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || st.st_size > ESA_CREDENTIALS_MAX_BYTES)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "%s: expected a regular file of at most %d bytes (activate again)", path,
                   ESA_CREDENTIALS_MAX_BYTES);
      return NULL;
    }
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: %s", path, local->message);
      return NULL;
    }
  root = esa_json_parse (text, (gssize) len, ESA_CREDENTIALS_MAX_BYTES, ESA_JSON_MAX_DEPTH_DEFAULT, &local);
  memset (text, 0, len);
  if (root == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: %s (activate again)", path, local->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: expected a JSON object, got %s", path,
                   esa_json_node_type_name (root));
      return NULL;
    }
  o = json_node_get_object (root);
  creds = g_new0 (EsaCredentials, 1);
  if (!read_member (o, path, "system_id", ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, &creds->system_id, error) ||
      !read_member (o, path, "password", ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, &creds->password, error) ||
      !read_member (o, path, "server", ESA_JSON_OPTIONAL, &creds->server, error) ||
      !read_member (o, path, "activated", ESA_JSON_OPTIONAL, &creds->activated, error))
    return NULL;
  return g_steal_pointer (&creds);
}

gboolean
esa_credentials_save (const char *state_dir, const EsaCredentials *creds, GError **error)
{
  g_autofree char *path = esa_credentials_path (state_dir);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  gboolean ok;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system_id");
  json_builder_add_string_value (b, creds->system_id);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, creds->password);
  json_builder_set_member_name (b, "server");
  json_builder_add_string_value (b, creds->server);
  json_builder_set_member_name (b, "activated");
  json_builder_add_string_value (b, creds->activated);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = esa_json_to_string (root, TRUE);
  ok = esa_file_write_atomic (path, NULL, text, strlen (text), 0600, error);
  memset (text, 0, strlen (text));
  return ok;
}

gboolean
esa_credentials_remove (const char *state_dir, GError **error)
{
  g_autofree char *path = esa_credentials_path (state_dir);
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot remove %s: %s", path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static char *
refused_path (const char *state_dir)
{
  return g_build_filename (state_dir, "credentials-refused", NULL);
}

gboolean
esa_credentials_mark_refused (const char *state_dir, const EsaCredentials *creds, const char *message,
                              GError **error)
{
  g_autofree char *path = refused_path (state_dir);
  g_autoptr (JsonObject) old = esa_credentials_get_refused (state_dir, creds);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *since = g_date_time_format_iso8601 (now);
  g_autofree char *text = NULL;
  /* the first refusal is the one that tells the admin how long reports have waited */
  if (old != NULL && json_object_get_string_member_with_default (old, "since", NULL) != NULL)
    {
      g_free (since);
      since = g_strdup (json_object_get_string_member (old, "since"));
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system_id");
  json_builder_add_string_value (b, creds->system_id);
  json_builder_set_member_name (b, "activated");
  json_builder_add_string_value (b, creds->activated);
  json_builder_set_member_name (b, "since");
  json_builder_add_string_value (b, since);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = esa_json_to_string (root, TRUE);
  return esa_file_write_atomic (path, NULL, text, strlen (text), 0600, error);
}

void
esa_credentials_clear_refused (const char *state_dir)
{
  g_autofree char *path = refused_path (state_dir);
  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("cannot remove %s: %s", path, g_strerror (errno));
}

JsonObject *
esa_credentials_get_refused (const char *state_dir, const EsaCredentials *creds)
{
  g_autofree char *path = refused_path (state_dir);
  g_autofree char *text = NULL;
  g_autoptr (JsonNode) root = NULL;
  gsize len = 0;
  JsonObject *o;
  JsonObject *out;
  if (creds == NULL || !g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  root = esa_json_parse (text, (gssize) len, 64 * 1024, 4, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  o = json_node_get_object (root);
  if (g_strcmp0 (esa_json_peek_string (o, "system_id"), creds->system_id) != 0 ||
      g_strcmp0 (esa_json_peek_string (o, "activated"), creds->activated) != 0 ||
      esa_json_peek_string (o, "since") == NULL)
    return NULL;
  out = json_object_new ();
  json_object_set_string_member (out, "since", esa_json_peek_string (o, "since"));
  json_object_set_string_member (out, "message", esa_json_peek_string (o, "message") ?: "");
  return out;
}
