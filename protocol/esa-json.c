/* esa-json.c: typed member access and a bounded parser, shared by the agent, its
 * plugins and esa-sdc (see esa/esa-json.h). */
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

/* json-glib's parser recurses once per level: 100,000 '[' would run it out of stack.
 * Count the nesting first, outside strings, so deep input never reaches it. It also
 * keeps a "\u0000" escape as a NUL inside the string, which every C string then cuts
 * short (a stored value or file name silently truncated): refused here too. And its
 * scanner (GScanner) takes escapes JSON does not have: "\351" becomes the byte 0xE9,
 * a string that is not UTF-8 after the text was checked to be (found by
 * tests/fuzz/fuzz-sdc-request): only JSON's escapes pass. Last, it takes "{} {}" (two
 * values; JSON text is one), keeps the last and leaks the others — 1 MiB of "{}" would
 * leak 16 MiB per request (found by make check-valgrind on the fuzz corpus): only
 * whitespace may follow the first value. */
static gboolean
check_shape (const char *data, gsize len, guint max_depth, GError **error)
{
  guint depth = 0;
  gboolean in_string = FALSE;
  gboolean seen_value = FALSE; /* at the top level */
  gboolean in_scalar = FALSE;  /* inside a top-level number, true, false or null */
  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];
      if (!in_string && depth == 0)
        {
          gboolean opens = c == '"' || c == '[' || c == '{';
          if (g_ascii_isspace (c))
            {
              in_scalar = FALSE;
              continue;
            }
          if (seen_value && (opens || !in_scalar))
            {
              g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                           "more than one JSON value (the second at byte %" G_GSIZE_FORMAT ")", i);
              return FALSE;
            }
          seen_value = TRUE;
          in_scalar = !opens && c != ']' && c != '}';
        }
      if (in_string)
        {
          if (c == '\\')
            {
              if (i + 5 < len && data[i + 1] == 'u' && memcmp (data + i + 2, "0000", 4) == 0)
                {
                  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                               "a JSON string holds \\u0000 (NUL) at byte %" G_GSIZE_FORMAT, i);
                  return FALSE;
                }
              /* "\u" wants four hex digits: on "\uuid" json-glib also leaks */
              if (i + 1 >= len || strchr ("\"\\/bfnrtu", data[i + 1]) == NULL ||
                  (data[i + 1] == 'u' && (i + 5 >= len || !g_ascii_isxdigit (data[i + 2]) ||
                                          !g_ascii_isxdigit (data[i + 3]) || !g_ascii_isxdigit (data[i + 4]) ||
                                          !g_ascii_isxdigit (data[i + 5]))))
                {
                  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                               "a JSON string holds an escape JSON does not have at byte %" G_GSIZE_FORMAT
                               " (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", i);
                  return FALSE;
                }
              i++;
            }
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            {
              g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                           "JSON nested deeper than %u levels (at byte %" G_GSIZE_FORMAT ")",
                           max_depth, i);
              return FALSE;
            }
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

JsonNode *
esa_json_parse (const char *data, gssize len, gsize max_bytes, guint max_depth, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  gsize n = len < 0 ? strlen (data) : (gsize) len;
  JsonNode *root;

  if (n > max_bytes)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "JSON text of %" G_GSIZE_FORMAT " bytes is over the limit of %" G_GSIZE_FORMAT " bytes",
                   n, max_bytes);
      return NULL;
    }
  /* json-glib reads up to a NUL; text with one inside is not JSON text */
  if (memchr (data, '\0', n) != NULL || !g_utf8_validate (data, (gssize) n, NULL))
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "not UTF-8 JSON text");
      return NULL;
    }
  if (!check_shape (data, n, max_depth, error))
    return NULL;
  if (!json_parser_load_from_data (parser, data, (gssize) n, &local))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "not valid JSON: %s", local->message);
      return NULL;
    }
  /* the parser's tree, taken rather than deep-copied: the parser is dropped here */
  root = json_parser_steal_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "empty JSON text");
      return NULL;
    }
  return root;
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
