/* sdc-json.c: strict readers for protocol request bodies.
 *
 * Everything that reaches the SDC is untrusted; every rejection says which field was
 * wrong and what was expected, so an agent's failed/ entry explains itself. */
#include "config.h"

#include "sdc-json.h"
#include "sdc-error.h"
#include "esa/esa-protocol.h"

#include <string.h>

static const char *
node_type_name (JsonNode *node)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "object";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "array";
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_BOOLEAN:
      return "boolean";
    case G_TYPE_STRING:
      return "string";
    default:
      return "number";
    }
}

static void
set_field_error (GError **error, const char *prefix, const char *name, const char *expected,
                 JsonNode *got)
{
  if (got == NULL)
    g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "%s%s: required %s is missing",
                 prefix ? prefix : "", name, expected);
  else
    g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "%s%s: expected %s, got %s",
                 prefix ? prefix : "", name, expected, node_type_name (got));
}

JsonObject *
sdc_json_parse_request (const char *data, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;
  JsonObject *obj;
  JsonNode *version;

  if (len == 0)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_JSON, "empty body (expected a JSON object)");
      return NULL;
    }
  /* json-glib reads up to a NUL; a body with one inside is not JSON text */
  if (memchr (data, '\0', len) != NULL || !g_utf8_validate (data, (gssize) len, NULL))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_JSON, "body is not UTF-8 JSON text");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local))
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_JSON, "body is not valid JSON: %s", local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_JSON, "body must be a JSON object, got %s",
                   root ? node_type_name (root) : "nothing");
      return NULL;
    }
  obj = json_node_get_object (root);
  version = json_object_get_member (obj, "version");
  if (version == NULL || !JSON_NODE_HOLDS_VALUE (version) ||
      json_node_get_value_type (version) != G_TYPE_INT64)
    {
      set_field_error (error, NULL, "version", "integer", version);
      return NULL;
    }
  if (json_node_get_int (version) != ESA_PROTOCOL_VERSION)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_UNSUPPORTED_VERSION,
                   "version %" G_GINT64_FORMAT " is not supported (this SDC speaks version %d)",
                   json_node_get_int (version), ESA_PROTOCOL_VERSION);
      return NULL;
    }
  return json_object_ref (obj);
}

const char *
sdc_json_get_string (JsonObject *obj, const char *prefix, const char *name, gboolean required,
                     GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        set_field_error (error, prefix, name, "string", node);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      set_field_error (error, prefix, name, "string", node);
      return NULL;
    }
  if (required && *json_node_get_string (node) == '\0')
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "%s%s: expected a non-empty string",
                   prefix ? prefix : "", name);
      return NULL;
    }
  return json_node_get_string (node);
}

gboolean
sdc_json_get_boolean (JsonObject *obj, const char *prefix, const char *name, gboolean *out,
                      GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      set_field_error (error, prefix, name, "boolean", node);
      return FALSE;
    }
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
sdc_json_get_int (JsonObject *obj, const char *prefix, const char *name, gboolean required,
                  gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        {
          set_field_error (error, prefix, name, "integer", node);
          return FALSE;
        }
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      set_field_error (error, prefix, name, "integer", node);
      return FALSE;
    }
  *out = json_node_get_int (node);
  return TRUE;
}

JsonObject *
sdc_json_get_object (JsonObject *obj, const char *prefix, const char *name, gboolean required,
                     gboolean *found, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  *found = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        set_field_error (error, prefix, name, "object", node);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      set_field_error (error, prefix, name, "object", node);
      return NULL;
    }
  *found = TRUE;
  return json_node_get_object (node);
}

JsonArray *
sdc_json_get_array (JsonObject *obj, const char *prefix, const char *name, gboolean required,
                    gboolean *found, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  *found = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        set_field_error (error, prefix, name, "array", node);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      set_field_error (error, prefix, name, "array", node);
      return NULL;
    }
  *found = TRUE;
  return json_node_get_array (node);
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
  return json_to_string (node, FALSE);
}

char *
sdc_json_error_body (const GError *error)
{
  g_autoptr (JsonObject) outer = json_object_new ();
  JsonObject *inner = json_object_new ();
  SdcError code = error->domain == SDC_ERROR ? (SdcError) error->code : SDC_ERROR_INTERNAL;
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
