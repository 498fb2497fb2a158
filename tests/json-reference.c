/* json-reference.c: esa_json_parse as it was before protocol/esa-json-parse.c — a
 * shape pre-check, then json-glib's JsonParser — kept as the oracle the new parser is
 * compared with (tests/test-json-parse, tests/fuzz/fuzz-json, bench/json-parse). Not
 * linked into any program. */
#include "config.h"

#include "json-reference.h"

#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <math.h>
#include <string.h>

/* json-glib's scanner leaks on some malformed input (24 bytes for "\\u00e9\\uD83D\\uDE0D":
 * "malformed surrogate pair", found by tests/fuzz/fuzz-json; the old esa_json_parse
 * leaked so per such request). Under LeakSanitizer the reference parse is left out of
 * leak checking, so what is reported is esa_json_parse's own. */
#if defined(__SANITIZE_ADDRESS__)
#define REFERENCE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REFERENCE_LSAN 1
#endif
#endif
#ifdef REFERENCE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

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
esa_test_json_parse_reference (const char *data, gssize len, gsize max_bytes, guint max_depth,
                               gboolean deep_copy, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  gsize n = len < 0 ? strlen (data) : (gsize) len;
  gboolean ok;
  JsonNode *root;

  if (n > max_bytes)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "JSON text of %" G_GSIZE_FORMAT " bytes is over the limit of %" G_GSIZE_FORMAT " bytes",
                   n, max_bytes);
      return NULL;
    }
  if (memchr (data, '\0', n) != NULL || !g_utf8_validate (data, (gssize) n, NULL))
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "not UTF-8 JSON text");
      return NULL;
    }
  if (!check_shape (data, n, max_depth, error))
    return NULL;
#ifdef REFERENCE_LSAN
  __lsan_disable ();
#endif
  ok = json_parser_load_from_data (parser, data, (gssize) n, &local);
#ifdef REFERENCE_LSAN
  __lsan_enable ();
#endif
  if (!ok)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "not valid JSON: %s", local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "empty JSON text");
      return NULL;
    }
  return deep_copy ? json_node_copy (root) : json_parser_steal_root (parser);
}

/* The first difference between two trees, as text, or NULL. @ours may hold a double
 * where json-glib has an integer: for an integer literal outside gint64, which
 * json-glib wraps modulo 2^64 (a documented difference). */
static char *
tree_difference (JsonNode *ref, JsonNode *ours, const char *path)
{
  if (JSON_NODE_TYPE (ref) != JSON_NODE_TYPE (ours))
    return g_strdup_printf ("%s: %s here, %s in json-glib's", path, esa_json_node_type_name (ours),
                            esa_json_node_type_name (ref));
  if (json_node_get_parent (ours) == NULL && json_node_get_parent (ref) != NULL)
    return g_strdup_printf ("%s: no parent here", path);
  switch (JSON_NODE_TYPE (ref))
    {
    case JSON_NODE_NULL:
      return NULL;
    case JSON_NODE_VALUE:
      {
        GType rt = json_node_get_value_type (ref), ot = json_node_get_value_type (ours);
        if (rt == G_TYPE_INT64 && ot == G_TYPE_DOUBLE)
          {
            double d = json_node_get_double (ours);
            if (d >= 9223372036854775808.0 || d <= -9223372036854775808.0) /* -(2^63 + 1) rounds to -(2^63) */
              return NULL;
          }
        if (rt != ot)
          return g_strdup_printf ("%s: %s here, %s in json-glib's", path, g_type_name (ot), g_type_name (rt));
        if (rt == G_TYPE_INT64 && json_node_get_int (ref) != json_node_get_int (ours))
          return g_strdup_printf ("%s: %" G_GINT64_FORMAT " here, %" G_GINT64_FORMAT " in json-glib's", path,
                                  json_node_get_int (ours), json_node_get_int (ref));
        if (rt == G_TYPE_DOUBLE)
          {
            double a = json_node_get_double (ref), b = json_node_get_double (ours);
            if (memcmp (&a, &b, sizeof a) != 0)
              return g_strdup_printf ("%s: %.17g here, %.17g in json-glib's", path, b, a);
          }
        if (rt == G_TYPE_BOOLEAN && json_node_get_boolean (ref) != json_node_get_boolean (ours))
          return g_strdup_printf ("%s: another boolean", path);
        if (rt == G_TYPE_STRING && strcmp (json_node_get_string (ref), json_node_get_string (ours)) != 0)
          return g_strdup_printf ("%s: another string", path);
        return NULL;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *ra = json_node_get_array (ref), *oa = json_node_get_array (ours);
        guint n = json_array_get_length (ra);
        if (json_array_get_length (oa) != n)
          return g_strdup_printf ("%s: %u elements here, %u in json-glib's", path, json_array_get_length (oa), n);
        for (guint i = 0; i < n; i++)
          {
            g_autofree char *sub = g_strdup_printf ("%s[%u]", path, i);
            char *d = tree_difference (json_array_get_element (ra, i), json_array_get_element (oa, i), sub);
            if (d != NULL)
              return d;
          }
        return NULL;
      }
    case JSON_NODE_OBJECT:
      {
        g_autoptr (GList) rm = json_object_get_members (json_node_get_object (ref));
        g_autoptr (GList) om = json_object_get_members (json_node_get_object (ours));
        GList *r = rm, *o = om;
        for (; r != NULL && o != NULL; r = r->next, o = o->next)
          {
            g_autofree char *sub = g_strdup_printf ("%s.%s", path, (const char *) r->data);
            char *d;
            if (strcmp (r->data, o->data) != 0)
              return g_strdup_printf ("%s: member \"%s\" here instead", sub, (const char *) o->data);
            d = tree_difference (json_object_get_member (json_node_get_object (ref), r->data),
                                 json_object_get_member (json_node_get_object (ours), o->data), sub);
            if (d != NULL)
              return d;
          }
        if (r != NULL || o != NULL)
          return g_strdup_printf ("%s: another number of members", path);
        return NULL;
      }
    }
  return g_strdup_printf ("%s: unknown node type", path);
}

/* A string json-glib's generator cannot write as JSON: not UTF-8 (json-glib reads the
 * lone surrogate of "\ud800x" as the bytes ED A0 80). */
static gboolean
unwritable_string (const char *s)
{
  return !g_utf8_validate (s, -1, NULL);
}

/* Whether json-glib cannot write @node as strict JSON: an infinity, a double it
 * writes wrong, or such a string (or member name) inside. */
static gboolean
unwritable (JsonNode *node)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE)
    {
      /* json-glib 1.6 writes "%.17g" and appends ".0" when there is no '.': 1e+80
       * becomes "1e+80.0" (found by tests/fuzz/fuzz-json) */
      char text[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (text, sizeof text, "%.17g", json_node_get_double (node));
      return isinf (json_node_get_double (node)) || (strchr (text, 'e') != NULL && strchr (text, '.') == NULL);
    }
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return unwritable_string (json_node_get_string (node));
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (unwritable (json_array_get_element (a, i)))
          return TRUE;
    }
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autoptr (GList) names = json_object_get_members (json_node_get_object (node));
      for (GList *l = names; l != NULL; l = l->next)
        if (unwritable_string (l->data) ||
            unwritable (json_object_get_member (json_node_get_object (node), l->data)))
          return TRUE;
    }
  return FALSE;
}

char *
esa_test_json_difference (const char *text, gsize len, gsize max_bytes, guint max_depth,
                          EsaTestJsonVerdict *verdict)
{
  const char *data = text != NULL ? text : ""; /* an empty GBytes has no data */
  g_autoptr (GError) ref_error = NULL;
  g_autoptr (GError) our_error = NULL;
  g_autoptr (JsonNode) ref = esa_test_json_parse_reference (data, (gssize) len, max_bytes, max_depth, FALSE,
                                                            &ref_error);
  g_autoptr (JsonNode) ours = esa_json_parse (data, (gssize) len, max_bytes, max_depth, &our_error);

  *verdict = ESA_TEST_JSON_BOTH_REFUSE;
  if (ours != NULL && ref == NULL)
    return g_strdup_printf ("taken here, refused by json-glib: %s", ref_error->message);
  if (ours == NULL && strchr (our_error->message, '\n') != NULL)
    return g_strdup_printf ("an error of more than one line: %s", our_error->message);
  if (ours != NULL)
    {
      *verdict = ESA_TEST_JSON_SAME;
      return tree_difference (ref, ours, "$");
    }
  if (ref == NULL)
    return NULL;
  /* json-glib takes what strict JSON does not (comments, 'quotes', 01, .5, 0x10,
   * a lone surrogate before a non-escape; docs/protocol.md):
   * then the same tree written as strict JSON must read back the same here */
  *verdict = ESA_TEST_JSON_STRICTER;
  if (!unwritable (ref))
    {
      g_autofree char *strict = json_to_string (ref, FALSE);
      g_autoptr (GError) again_error = NULL;
      g_autoptr (JsonNode) again = esa_json_parse (strict, -1, G_MAXSIZE, G_MAXUINT, &again_error);
      if (again == NULL)
        return g_strdup_printf ("json-glib's tree as strict JSON is refused here: %s (%s)", again_error->message,
                                strict);
      return tree_difference (ref, again, "$ (as strict JSON)");
    }
  return NULL;
}

int
esa_test_json_corpora_foreach (EsaTestCorpusFunc func, gpointer user_data)
{
  const char *top = g_getenv ("ESA_TOP_SRCDIR");
  g_autofree char *corpora = g_build_filename (top != NULL ? top : ".", "tests", "fuzz", "corpus", NULL);
  g_autoptr (GDir) dir = g_dir_open (corpora, 0, NULL);
  const char *sub;
  int files = 0;

  if (dir == NULL)
    return -1;
  while ((sub = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (corpora, sub, NULL);
      g_autoptr (GDir) files_dir = g_dir_open (path, 0, NULL);
      const char *name;
      if (files_dir == NULL)
        continue;
      while ((name = g_dir_read_name (files_dir)) != NULL)
        {
          g_autofree char *file = g_build_filename (path, name, NULL);
          g_autofree char *data = NULL;
          gsize len;
          if (!g_file_get_contents (file, &data, &len, NULL))
            continue;
          files++;
          func (sub, name, data, len, user_data);
        }
    }
  return files;
}
