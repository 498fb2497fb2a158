/* json-reference.c: esa_json_parse as it was before protocol/esa-json-parse.c — a
 * shape pre-check, then json-glib's JsonParser — kept as the oracle the new parser is
 * compared with (tests/test-json-parse, tests/fuzz/fuzz-json, bench/json-parse). Not
 * linked into any program. */
#include "config.h"

#include "json-reference.h"

#include "esa/esa-error.h"

#include <string.h>

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
  if (!json_parser_load_from_data (parser, data, (gssize) n, &local))
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
