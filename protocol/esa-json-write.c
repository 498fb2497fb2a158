/* esa-json-write.c: esa_json_to_string, the JSON writer every program uses in place of
 * json-glib's generator.
 *
 * json-glib 1.6 (Debian 12) writes invalid JSON in two cases: a double whose text has
 * an exponent but no '.' gets ".0" after it (1e80 becomes "1e+80.0"), and U+001F inside
 * a string goes out raw (its control-character test stops at 0x1e). Both can come from
 * an agent (a number or a string in a report body the SDC stores again) or from a
 * collector's command output. This writer writes what json-glib writes, byte for byte,
 * in every other case, so nothing stored or compared changes: the same escapes (\b \f
 * \n \r \t, \u00XX for other control characters and DEL, UTF-8 as it is), doubles as
 * g_ascii_dtostr gives them with ".0" only when there is neither '.' nor exponent
 * (json-glib writes an infinite double, say a parsed 1e999, as "inf.0": here "1e999"), and
 * pretty output indented by two spaces with " : " after a name (an empty object inside
 * another is "{  }", as json-glib has it). It also skips the generator's GObject and
 * its copy of the tree: cheaper on the SDC's writer thread (docs/performance.md).
 * tests/test-json-write compares it with json-glib on every fuzz corpus. */
#include "config.h"

#include "esa/esa-json.h"

#include <math.h>
#include <string.h>

static void write_node (GString *out, JsonNode *node, guint level, gboolean pretty);

static void
indent (GString *out, guint level)
{
  for (guint i = 0; i < level; i++)
    g_string_append_len (out, "  ", 2);
}

static void
write_string (GString *out, const char *s)
{
  const char *run = s;
  g_string_append_c (out, '"');
  for (const char *p = s; *p != '\0'; p++)
    {
      unsigned char c = (unsigned char) *p;
      const char *esc;
      if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
        continue;
      g_string_append_len (out, run, p - run);
      run = p + 1;
      switch (c)
        {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: esc = NULL; break;
        }
      if (esc != NULL)
        g_string_append (out, esc);
      else
        g_string_append_printf (out, "\\u%04x", c);
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

static void
write_double (GString *out, double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  /* JSON has no infinity or NaN: a number too large for a double (which is how a
   * parsed 1e999 ends up infinite) is written as one again, NaN (never parsed) as null */
  if (isinf (d))
    {
      g_string_append (out, d > 0 ? "1e999" : "-1e999");
      return;
    }
  if (isnan (d))
    {
      g_string_append (out, "null");
      return;
    }
  g_ascii_dtostr (buf, sizeof buf, d);
  g_string_append (out, buf);
  /* a double stays a double when read back, and "1e+80" needs no ".0" (json-glib's
   * "1e+80.0" is not JSON) */
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (out, ".0");
}

static void
write_value (GString *out, JsonNode *node)
{
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      write_double (out, json_node_get_double (node));
      break;
    case G_TYPE_BOOLEAN:
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      break;
    case G_TYPE_STRING:
      write_string (out, json_node_get_string (node));
      break;
    default:
      g_string_append (out, "null");
      break;
    }
}

/* One member or element at @level: indented when pretty, then its name, then the value. */
static void
write_item (GString *out, const char *name, JsonNode *node, guint level, gboolean pretty)
{
  if (pretty)
    indent (out, level);
  if (name != NULL)
    {
      write_string (out, name);
      if (pretty)
        g_string_append_len (out, " : ", 3);
      else
        g_string_append_c (out, ':');
    }
  write_node (out, node, level, pretty);
}

static void
write_array (GString *out, JsonArray *array, guint level, gboolean pretty)
{
  guint n = json_array_get_length (array);
  g_string_append_c (out, '[');
  if (n == 0)
    {
      g_string_append_c (out, ']');
      return;
    }
  if (pretty)
    g_string_append_c (out, '\n');
  for (guint i = 0; i < n; i++)
    {
      write_item (out, NULL, json_array_get_element (array, i), level + 1, pretty);
      if (i + 1 < n)
        g_string_append_c (out, ',');
      if (pretty)
        g_string_append_c (out, '\n');
    }
  if (pretty)
    indent (out, level);
  g_string_append_c (out, ']');
}

static void
write_object (GString *out, JsonObject *object, guint level, gboolean pretty)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      if (!first)
        g_string_append_c (out, ',');
      if (pretty)
        g_string_append_c (out, '\n');
      write_item (out, name, member, level + 1, pretty);
      first = FALSE;
    }
  if (pretty)
    {
      if (!first)
        g_string_append_c (out, '\n');
      indent (out, level);
    }
  g_string_append_c (out, '}');
}

static void
write_node (GString *out, JsonNode *node, guint level, gboolean pretty)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      write_object (out, json_node_get_object (node), level, pretty);
      break;
    case JSON_NODE_ARRAY:
      write_array (out, json_node_get_array (node), level, pretty);
      break;
    case JSON_NODE_VALUE:
      write_value (out, node);
      break;
    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      break;
    }
}

void
esa_json_write (GString *out, JsonNode *node, gboolean pretty)
{
  g_return_if_fail (out != NULL && node != NULL);
  write_node (out, node, 0, pretty);
}

char *
esa_json_to_string (JsonNode *node, gboolean pretty)
{
  GString *out = g_string_sized_new (256);
  esa_json_write (out, node, pretty);
  return g_string_free (out, FALSE);
}
