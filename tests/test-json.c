/* test-json.c: esa/esa-json.h — typed member reads (wrong types, absent and null
 * members, the error names the member) and the bounded parser (size, depth,
 * malformed text). */
#include "config.h"

#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <string.h>

static JsonObject *
parse_object (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = esa_json_parse (text, -1, 4096, 16, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static const char *DOC = "{\"s\": \"x\", \"e\": \"\", \"i\": 42, \"b\": true, \"o\": {\"k\": 1}, "
                         "\"a\": [1, 2], \"n\": null}";

static void
test_get_ok (void)
{
  g_autoptr (JsonObject) obj = parse_object (DOC);
  g_autoptr (GError) error = NULL;
  gint64 i = 0;
  gboolean b = FALSE;

  g_assert_cmpstr (esa_json_get_string (obj, NULL, "s", ESA_JSON_REQUIRED, &error), ==, "x");
  g_assert_cmpstr (esa_json_get_string (obj, NULL, "e", ESA_JSON_REQUIRED, &error), ==, "");
  g_assert_true (esa_json_get_int (obj, NULL, "i", ESA_JSON_REQUIRED, &i, &error));
  g_assert_cmpint (i, ==, 42);
  g_assert_true (esa_json_get_boolean (obj, NULL, "b", ESA_JSON_REQUIRED, &b, &error));
  g_assert_true (b);
  g_assert_nonnull (esa_json_get_object (obj, NULL, "o", ESA_JSON_REQUIRED, &error));
  g_assert_cmpuint (json_array_get_length (esa_json_get_array (obj, NULL, "a", ESA_JSON_REQUIRED, &error)), ==, 2);
  g_assert_no_error (error);
}

static void
test_get_absent (void)
{
  g_autoptr (JsonObject) obj = parse_object (DOC);
  gint64 i = 7;
  gboolean b = TRUE;

  /* optional: absent and null are not errors, and leave the default alone */
  for (guint k = 0; k < 2; k++)
    {
      const char *name = k == 0 ? "missing" : "n";
      g_autoptr (GError) error = NULL;
      g_assert_null (esa_json_get_string (obj, NULL, name, ESA_JSON_OPTIONAL, &error));
      g_assert_true (esa_json_get_int (obj, NULL, name, ESA_JSON_OPTIONAL, &i, &error));
      g_assert_true (esa_json_get_boolean (obj, NULL, name, ESA_JSON_OPTIONAL, &b, &error));
      g_assert_null (esa_json_get_object (obj, NULL, name, ESA_JSON_OPTIONAL, &error));
      g_assert_null (esa_json_get_array (obj, NULL, name, ESA_JSON_OPTIONAL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (i, ==, 7);
      g_assert_true (b);
    }
  /* a NULL object: every member absent */
  g_assert_null (esa_json_get_string (NULL, NULL, "s", ESA_JSON_OPTIONAL, NULL));
  /* required: the error names the member and the type */
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (esa_json_get_int (obj, "req.", "n", ESA_JSON_REQUIRED, &i, &error));
    g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
    g_assert_cmpstr (error->message, ==, "req.n: required integer is missing");
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (esa_json_get_object (obj, NULL, "missing", ESA_JSON_REQUIRED, &error));
    g_assert_cmpstr (error->message, ==, "missing: required object is missing");
  }
}

static void
test_get_wrong_type (void)
{
  g_autoptr (JsonObject) obj = parse_object (DOC);
  static const struct {
    const char *name;
    char want; /* s i b o a */
    const char *message;
  } cases[] = {
    { "i", 's', "c.i: expected string, got number" },
    { "o", 's', "c.o: expected string, got object" },
    { "s", 'i', "c.s: expected integer, got string" },
    { "b", 'i', "c.b: expected integer, got boolean" },
    { "i", 'b', "c.i: expected boolean, got number" },
    { "a", 'o', "c.a: expected object, got array" },
    { "o", 'a', "c.o: expected array, got object" },
  };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      /* a wrong type is an error even when the member is optional */
      for (guint opt = 0; opt < 2; opt++)
        {
          g_autoptr (GError) error = NULL;
          EsaJsonFlags flags = opt ? ESA_JSON_OPTIONAL : ESA_JSON_REQUIRED;
          gint64 i = 0;
          gboolean b = FALSE;
          switch (cases[k].want)
            {
            case 's':
              g_assert_null (esa_json_get_string (obj, "c.", cases[k].name, flags, &error));
              break;
            case 'i':
              g_assert_false (esa_json_get_int (obj, "c.", cases[k].name, flags, &i, &error));
              break;
            case 'b':
              g_assert_false (esa_json_get_boolean (obj, "c.", cases[k].name, flags, &b, &error));
              break;
            case 'o':
              g_assert_null (esa_json_get_object (obj, "c.", cases[k].name, flags, &error));
              break;
            default:
              g_assert_null (esa_json_get_array (obj, "c.", cases[k].name, flags, &error));
            }
          g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
          g_assert_cmpstr (error->message, ==, cases[k].message);
        }
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (esa_json_get_string (obj, NULL, "e", ESA_JSON_NON_EMPTY, &error));
    g_assert_cmpstr (error->message, ==, "e: expected a non-empty string");
  }
}

static void
test_peek (void)
{
  g_autoptr (JsonObject) obj = parse_object (DOC);
  g_assert_cmpstr (esa_json_peek_string (obj, "s"), ==, "x");
  g_assert_null (esa_json_peek_string (obj, "i"));
  g_assert_null (esa_json_peek_string (NULL, "s"));
  g_assert_cmpint (esa_json_peek_int (obj, "i", -1), ==, 42);
  g_assert_cmpint (esa_json_peek_int (obj, "s", -1), ==, -1);
  g_assert_true (esa_json_peek_boolean (obj, "b", FALSE));
  g_assert_false (esa_json_peek_boolean (obj, "s", FALSE));
  g_assert_nonnull (esa_json_peek_object (obj, "o"));
  g_assert_null (esa_json_peek_object (obj, "a"));
}

static void
assert_refused (const char *data, gssize len, gsize max_bytes, guint max_depth, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = esa_json_parse (data, len, max_bytes, max_depth, &error);
  g_assert_null (root);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  if (strstr (error->message, message) == NULL)
    g_error ("expected \"%s\" in \"%s\"", message, error->message);
}

static void
test_parse_malformed (void)
{
  assert_refused ("{\"a\": ", -1, 4096, 16, "not valid JSON");
  assert_refused ("{\"a\": 1,}", -1, 4096, 16, "not valid JSON");
  assert_refused ("", -1, 4096, 16, "empty JSON text");
  assert_refused ("{\"a\": 1}\0x", 10, 4096, 16, "not UTF-8 JSON text");
  assert_refused ("{\"a\": \"\xff\"}", -1, 4096, 16, "not UTF-8 JSON text");
  /* json-glib would take these: "\351" as the byte 0xE9 (a string that is not UTF-8),
   * "\x41" as "x41", "\0" as a NUL */
  assert_refused ("[\"\\351\"]", -1, 4096, 16, "an escape JSON does not have at byte 2");
  assert_refused ("[\"a\\x41\"]", -1, 4096, 16, "an escape JSON does not have at byte 3");
  assert_refused ("[\"\\0\"]", -1, 4096, 16, "an escape JSON does not have");
  assert_refused ("[\"\\", -1, 4096, 16, "an escape JSON does not have");
  assert_refused ("[\"\\uuid\"]", -1, 4096, 16, "an escape JSON does not have at byte 2");
  assert_refused ("[\"\\u12\"]", -1, 4096, 16, "an escape JSON does not have at byte 2");
  /* json-glib would keep the last value and leak the others */
  assert_refused ("{} {}", -1, 4096, 16, "more than one JSON value (the second at byte 3)");
  assert_refused ("\"a\" [1]", -1, 4096, 16, "more than one JSON value (the second at byte 4)");
  assert_refused ("[1]2", -1, 4096, 16, "more than one JSON value (the second at byte 3)");
  assert_refused ("1 2", -1, 4096, 16, "more than one JSON value (the second at byte 2)");
}

static void
test_parse_one_value (void)
{
  const char *ok[] = { " {\"a\": [1, {}]}\r\n", "\t-12.5e3 ", "true", "\"}{\"", "[]", "[\"\\u00e9\\uD83D\\ude00\\/\"]" };
  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) root = esa_json_parse (ok[i], -1, 4096, 16, &error);
      g_assert_no_error (error);
      g_assert_nonnull (root);
    }
}

static void
test_parse_limits (void)
{
  g_autofree char *deep = g_strnfill (100000, '[');
  g_autoptr (GString) nested = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) ok = NULL;

  /* 100,000 '[' never reach json-glib's recursive parser */
  assert_refused (deep, -1, G_MAXSIZE, ESA_JSON_MAX_DEPTH_DEFAULT, "JSON nested deeper than 64 levels");
  assert_refused ("{\"a\": 1}", -1, 7, 16, "JSON text of 8 bytes is over the limit of 7 bytes");

  /* exactly max_depth levels pass; brackets inside strings do not count */
  for (guint i = 0; i < 3; i++)
    g_string_append (nested, "[");
  g_string_append (nested, "\"[[[[\\\"[[\"");
  for (guint i = 0; i < 3; i++)
    g_string_append (nested, "]");
  ok = esa_json_parse (nested->str, -1, 4096, 3, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);
  g_string_prepend (nested, "[");
  g_string_append (nested, "]");
  assert_refused (nested->str, -1, 4096, 3, "JSON nested deeper than 3 levels");
  /* an escaped NUL would cut every C string holding the value short */
  assert_refused ("{\"name\": \"aix\\u0000evil\"}", -1, 4096, 8, "holds \\u0000 (NUL)");
  {
    g_autoptr (GError) error2 = NULL;
    g_autoptr (JsonNode) fine = esa_json_parse ("{\"name\": \"a\\\\u0000b\"}", -1, 4096, 8, &error2);
    g_assert_no_error (error2); /* an escaped backslash followed by "u0000" is text */
    g_assert_nonnull (fine);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json/get/ok", test_get_ok);
  g_test_add_func ("/json/get/absent", test_get_absent);
  g_test_add_func ("/json/get/wrong-type", test_get_wrong_type);
  g_test_add_func ("/json/peek", test_peek);
  g_test_add_func ("/json/parse/malformed", test_parse_malformed);
  g_test_add_func ("/json/parse/limits", test_parse_limits);
  g_test_add_func ("/json/parse/one-value", test_parse_one_value);
  return g_test_run ();
}
