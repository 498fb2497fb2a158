/* sdc-json.c: strict readers for protocol request bodies.
 *
 * Everything that reaches the SDC is untrusted; every rejection says which field was
 * wrong and what was expected, so an agent's failed/ entry explains itself. */
#include "config.h"

#include "sdc-json.h"
#include "sdc-error.h"
#include "esa/esa-json.h"
#include "esa/esa-protocol.h"

#include <string.h>

JsonObject *
sdc_json_check_request (JsonNode *root, GError **error)
{
  g_autoptr (GError) local = NULL;
  JsonObject *obj;
  gint64 version = 0;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_JSON, "body must be a JSON object, got %s",
                   esa_json_node_type_name (root));
      return NULL;
    }
  obj = json_node_get_object (root);
  if (!esa_json_get_int (obj, NULL, "version", ESA_JSON_REQUIRED, &version, &local))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, local->message);
      return NULL;
    }
  if (version != ESA_PROTOCOL_VERSION)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_UNSUPPORTED_VERSION,
                   "version %" G_GINT64_FORMAT " is not supported (this SDC speaks version %d)",
                   version, ESA_PROTOCOL_VERSION);
      return NULL;
    }
  return json_object_ref (obj);
}

JsonObject *
sdc_json_parse_request_depth (const char *data, gsize len, gsize max_bytes, guint max_depth, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (len == 0)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_JSON, "empty body (expected a JSON object)");
      return NULL;
    }
  root = esa_json_parse (data, (gssize) len, max_bytes, max_depth, &local);
  if (root == NULL)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_JSON, "body: %s", local->message);
      return NULL;
    }
  return sdc_json_check_request (root, error);
}

JsonObject *
sdc_json_parse_request (const char *data, gsize len, gsize max_bytes, GError **error)
{
  return sdc_json_parse_request_depth (data, len, max_bytes, ESA_JSON_MAX_DEPTH_DEFAULT, error);
}

char *
sdc_json_canonical_uuid (const char *s)
{
  if (s == NULL || !g_uuid_string_is_valid (s))
    return NULL;
  return g_ascii_strdown (s, -1);
}

gboolean
sdc_json_is_timestamp (const char *s)
{
  g_autoptr (GDateTime) dt = NULL;
  if (s == NULL || strlen (s) < 20 || strlen (s) > 64 || s[10] != 'T')
    return FALSE;
  /* NULL default zone: a time without an explicit zone is rejected */
  dt = g_date_time_new_from_iso8601 (s, NULL);
  return dt != NULL;
}

gboolean
sdc_json_is_sha256 (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

gboolean
sdc_json_is_plain_name (const char *s)
{
  if (s == NULL || *s == '\0' || *s == '.' || strlen (s) > 200 || !g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (const char *p = s; *p != '\0'; p++)
    if (*p == '/' || *p == '\\' || (guchar) *p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

gboolean
sdc_json_is_token (const char *s)
{
  gsize len = s ? strlen (s) : 0;
  if (len == 0 || len > 64)
    return FALSE;
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

char *
sdc_json_object_to_string (JsonObject *obj)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, obj);
  return esa_json_to_string (node, FALSE);
}

char *
sdc_json_error_body (const GError *error)
{
  g_autoptr (JsonObject) outer = json_object_new ();
  JsonObject *inner = json_object_new ();
  SdcError code = sdc_error_code_of (error);
  g_autofree char *line = g_strdup (error->message);
  /* one line, so it fits a log line and a table cell */
  g_strdelimit (line, "\r\n", ' ');
  json_object_set_string_member (inner, "code", sdc_error_code_name (code));
  json_object_set_string_member (inner, "message", line);
  json_object_set_object_member (outer, "error", inner);
  return sdc_json_object_to_string (outer);
}

char *
sdc_json_now (GDateTime *now)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (now);
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

/* Every report and every log line needs the time, and a GDateTime costs more than the
 * rest of a log line: it is formatted once per second and thread. */
const char *
sdc_json_now_text (void)
{
  static _Thread_local gint64 second = G_MININT64;
  static _Thread_local char text[32];
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  if (now != second)
    {
      g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (now);
      g_autofree char *s = sdc_json_now (dt);
      g_strlcpy (text, s, sizeof text);
      second = now;
    }
  return text;
}
