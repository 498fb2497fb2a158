/* esa-json.c: typed member access, shared by the agent, its plugins and esa-sdc (see
 * esa/esa-json.h; the bounded parser is esa-json-parse.c). */
#include "config.h"

#include "esa/esa-json.h"
#include "esa/esa-error.h"

#include <string.h>

const char *
esa_json_node_type_name (JsonNode *node)
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

/* The member, or NULL when it is absent or null; sets the "missing" error when the
 * member is required. */
static JsonNode *
member (JsonObject *obj, const char *prefix, const char *name, EsaJsonFlags flags,
        const char *expected, GError **error)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    return node;
  if (!(flags & ESA_JSON_OPTIONAL))
    g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s%s: required %s is missing",
                 prefix ? prefix : "", name, expected);
  return NULL;
}

static void
set_type_error (GError **error, const char *prefix, const char *name, const char *expected,
                JsonNode *got)
{
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s%s: expected %s, got %s",
               prefix ? prefix : "", name, expected, esa_json_node_type_name (got));
}

static gboolean
holds_value (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

const char *
esa_json_get_string (JsonObject *obj, const char *prefix, const char *name, EsaJsonFlags flags,
                     GError **error)
{
  JsonNode *node = member (obj, prefix, name, flags, "string", error);
  if (node == NULL)
    return NULL;
  if (!holds_value (node, G_TYPE_STRING))
    {
      set_type_error (error, prefix, name, "string", node);
      return NULL;
    }
  if ((flags & ESA_JSON_NON_EMPTY) && *json_node_get_string (node) == '\0')
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s%s: expected a non-empty string",
                   prefix ? prefix : "", name);
      return NULL;
    }
  return json_node_get_string (node);
}

gboolean
esa_json_get_int (JsonObject *obj, const char *prefix, const char *name, EsaJsonFlags flags,
                  gint64 *out, GError **error)
{
  JsonNode *node = member (obj, prefix, name, flags, "integer", error);
  if (node == NULL)
    return (flags & ESA_JSON_OPTIONAL) != 0;
  if (!holds_value (node, G_TYPE_INT64))
    {
      set_type_error (error, prefix, name, "integer", node);
      return FALSE;
    }
  *out = json_node_get_int (node);
  return TRUE;
}

gboolean
esa_json_get_boolean (JsonObject *obj, const char *prefix, const char *name, EsaJsonFlags flags,
                      gboolean *out, GError **error)
{
  JsonNode *node = member (obj, prefix, name, flags, "boolean", error);
  if (node == NULL)
    return (flags & ESA_JSON_OPTIONAL) != 0;
  if (!holds_value (node, G_TYPE_BOOLEAN))
    {
      set_type_error (error, prefix, name, "boolean", node);
      return FALSE;
    }
  *out = json_node_get_boolean (node);
  return TRUE;
}

JsonObject *
esa_json_get_object (JsonObject *obj, const char *prefix, const char *name, EsaJsonFlags flags,
                     GError **error)
{
  JsonNode *node = member (obj, prefix, name, flags, "object", error);
  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      set_type_error (error, prefix, name, "object", node);
      return NULL;
    }
  return json_node_get_object (node);
}

JsonArray *
esa_json_get_array (JsonObject *obj, const char *prefix, const char *name, EsaJsonFlags flags,
                    GError **error)
{
  JsonNode *node = member (obj, prefix, name, flags, "array", error);
  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      set_type_error (error, prefix, name, "array", node);
      return NULL;
    }
  return json_node_get_array (node);
}

const char *
esa_json_peek_string (JsonObject *obj, const char *name)
{
  return esa_json_get_string (obj, NULL, name, ESA_JSON_OPTIONAL, NULL);
}

gint64
esa_json_peek_int (JsonObject *obj, const char *name, gint64 fallback)
{
  esa_json_get_int (obj, NULL, name, ESA_JSON_OPTIONAL, &fallback, NULL);
  return fallback;
}

gboolean
esa_json_peek_boolean (JsonObject *obj, const char *name, gboolean fallback)
{
  esa_json_get_boolean (obj, NULL, name, ESA_JSON_OPTIONAL, &fallback, NULL);
  return fallback;
}

JsonObject *
esa_json_peek_object (JsonObject *obj, const char *name)
{
  return esa_json_get_object (obj, NULL, name, ESA_JSON_OPTIONAL, NULL);
}

char *
esa_json_time (GDateTime *dt)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (dt);
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

char *
esa_json_time_iso (const char *iso)
{
  g_autoptr (GDateTime) dt = iso != NULL ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  if (dt == NULL)
    return g_strdup (iso);
  return esa_json_time (dt);
}
