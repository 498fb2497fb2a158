/* test-json-parse.c: esa_json_parse, the strict JSON reader of protocol/esa-json-parse.c
 * — the trees and node types it builds, every refusal and its one-line message, the
 * limits, and a differential check against json-glib's JsonParser (the reference in
 * tests/json-reference.c) over the fuzz corpora and generated variants of them.
 * (tests/test-json.c tests the typed accessors and the limits as callers see them.) */
#include "config.h"

#include "esa/esa-error.h"
#include "esa/esa-json.h"
#include "json-reference.h"

#include <math.h>
#include <string.h>

static JsonNode *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *root = esa_json_parse (text, -1, 1 << 20, 64, &error);
  g_assert_no_error (error);
  g_assert_nonnull (root);
  return root;
}

/* The one element of the array @root. */
static JsonNode *
element (JsonNode *root)
{
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 1);
  return json_array_get_element (json_node_get_array (root), 0);
}

static void
assert_refused_len (const char *data, gssize len, gsize max_bytes, guint max_depth, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = esa_json_parse (data, len, max_bytes, max_depth, &error);
  g_assert_null (root);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_assert_null (strchr (error->message, '\n'));
  if (strstr (error->message, message) == NULL)
    g_error ("%.60s: expected \"%s\" in \"%s\"", data, message, error->message);
}

static void
assert_refused (const char *data, const char *message)
{
  assert_refused_len (data, -1, 1 << 20, 64, message);
}

static void
test_integers (void)
{
  struct
  {
    const char *text;
    gint64 value;
  } ints[] = {
    { "[0]", 0 },
    { "[-0]", 0 }, /* json-glib: the integer 0 too */
    { "[42]", 42 },
    { "[-7]", -7 },
    { "[9223372036854775807]", G_MAXINT64 },
    { "[-9223372036854775808]", G_MININT64 },
    { "[123456789012345678]", G_GINT64_CONSTANT (123456789012345678) },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      g_autoptr (JsonNode) root = parse_ok (ints[i].text);
      JsonNode *n = element (root);
      g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_INT64);
      g_assert_cmpint (json_node_get_int (n), ==, ints[i].value);
    }
}

static void
test_doubles (void)
{
  struct
  {
    const char *text;
    double value;
  } doubles[] = {
    { "[1.0]", 1.0 },
    { "[1e3]", 1000.0 },
    { "[1E+2]", 100.0 },
    { "[1e-2]", 0.01 },
    { "[2.5E-3]", 0.0025 },
    { "[0e0]", 0.0 },
    { "[0.1]", 0.1 },
    { "[-1.5]", -1.5 },
    { "[4.9e-324]", 4.9e-324 },
    { "[1.7976931348623157e308]", 1.7976931348623157e308 },
    /* integers beyond gint64: doubles (json-glib wraps them modulo 2^64) */
    { "[9223372036854775808]", 9223372036854775808.0 },
    { "[-9223372036854775809]", -9223372036854775809.0 },
    { "[18446744073709551616]", 18446744073709551616.0 },
    { "[123456789012345678901234567890]", 123456789012345678901234567890.0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (doubles); i++)
    {
      g_autoptr (JsonNode) root = parse_ok (doubles[i].text);
      JsonNode *n = element (root);
      g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_DOUBLE);
      g_assert_cmpfloat (json_node_get_double (n), ==, doubles[i].value);
    }
  {
    /* -0.0 keeps its sign; out of range is infinity (as json-glib) */
    g_autoptr (JsonNode) neg = parse_ok ("[-0.0]");
    g_autoptr (JsonNode) inf = parse_ok ("[1e999]");
    g_autoptr (JsonNode) ninf = parse_ok ("[-1e999]");
    g_assert_true (signbit (json_node_get_double (element (neg))));
    g_assert_true (isinf (json_node_get_double (element (inf))) && json_node_get_double (element (inf)) > 0);
    g_assert_true (isinf (json_node_get_double (element (ninf))) && json_node_get_double (element (ninf)) < 0);
  }
  {
    /* callers read a too-big integer as "not an integer", never as a wrapped one */
    g_autoptr (JsonNode) root = parse_ok ("{\"n\": 18446744073709551616, \"m\": 1.0}");
    g_autoptr (GError) error = NULL;
    gint64 v = 0;
    g_assert_false (esa_json_get_int (json_node_get_object (root), NULL, "n", 0, &v, &error));
    g_assert_cmpstr (error->message, ==, "n: expected integer, got number");
    g_clear_error (&error);
    g_assert_false (esa_json_get_int (json_node_get_object (root), NULL, "m", 0, &v, &error));
    g_assert_cmpstr (error->message, ==, "m: expected integer, got number");
  }
}

static void
test_strings (void)
{
  struct
  {
    const char *text;
    const char *value;
  } strings[] = {
    { "[\"\"]", "" },
    { "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "\"\\/\b\f\n\r\t" },
    { "[\"\\u0041\\u00e9\\u20AC\"]", "A\xc3\xa9\xe2\x82\xac" },
    { "[\"\\uD83D\\uDE00\"]", "\xf0\x9f\x98\x80" },         /* a surrogate pair */
    { "[\"\\udbff\\udfff\"]", "\xf4\x8f\xbf\xbf" },         /* U+10FFFF */
    { "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" }, /* raw UTF-8 */
    { "[\"\x7f\"]", "\x7f" },                                 /* DEL is no control character in JSON */
    /* raw control characters: taken, as json-glib took them (its generator writes U+001F
       unescaped, and what we wrote must read back) */
    { "[\"a\tb\nc\x01\x1f\"]", "a\tb\nc\x01\x1f" },
    { "[\"a\\\\u0000b\"]", "a\\u0000b" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      g_autoptr (JsonNode) root = parse_ok (strings[i].text);
      JsonNode *n = element (root);
      g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_STRING);
      g_assert_cmpstr (json_node_get_string (n), ==, strings[i].value);
    }
  {
    /* longer than the reader's inline buffer, with escapes across its end */
    g_autoptr (GString) text = g_string_new ("[\"");
    g_autoptr (GString) want = g_string_new (NULL);
    g_autoptr (JsonNode) root = NULL;
    for (guint i = 0; i < 3000; i++)
      {
        g_string_append (text, i % 7 == 0 ? "\\n\\u00e9" : "x");
        g_string_append (want, i % 7 == 0 ? "\n\xc3\xa9" : "x");
      }
    g_string_append (text, "\"]");
    root = parse_ok (text->str);
    g_assert_cmpstr (json_node_get_string (element (root)), ==, want->str);
  }
}

/* What json-glib's generator writes reads back the same, control characters included. */
static void
test_generator_round_trip (void)
{
  g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), NULL);
  g_autoptr (GString) all = g_string_new (NULL);
  g_autofree char *text = NULL;
  g_autoptr (JsonNode) back = NULL;
  for (guint c = 1; c < 0x80; c++)
    g_string_append_c (all, (char) c);
  g_string_append (all, "\xc3\xa9\xf0\x9f\x98\x80");
  json_node_set_string (node, all->str);
  text = json_to_string (node, FALSE);
  back = parse_ok (text);
  g_assert_cmpstr (json_node_get_string (back), ==, all->str);
}

static void
test_shapes (void)
{
  g_autoptr (JsonNode) ws = parse_ok (" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } , \"c\" : [ ] } \n");
  g_autoptr (JsonNode) dup = parse_ok ("{\"b\": 1, \"a\": 2, \"b\": {\"x\": [3]}}");
  g_autoptr (JsonNode) scalar = parse_ok (" null ");
  g_autoptr (JsonNode) lit = parse_ok ("[true, false, null]");
  g_autoptr (JsonNode) empty_name = parse_ok ("{\"\": 1}");
  g_autofree char *ws_text = json_to_string (ws, FALSE);
  g_autofree char *dup_text = json_to_string (dup, FALSE);
  g_autofree char *lit_text = json_to_string (lit, FALSE);
  JsonNode *a;

  g_assert_cmpstr (ws_text, ==, "{\"a\":[1,2],\"b\":{},\"c\":[]}");
  /* a repeated member: the last value, in the first one's place (as json-glib) */
  g_assert_cmpstr (dup_text, ==, "{\"b\":{\"x\":[3]},\"a\":2}");
  g_assert_true (JSON_NODE_HOLDS_NULL (scalar));
  g_assert_cmpstr (lit_text, ==, "[true,false,null]");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (empty_name), ""), ==, 1);
  /* parents are set, as JsonParser sets them */
  a = json_object_get_member (json_node_get_object (ws), "a");
  g_assert_true (json_node_get_parent (a) == ws);
  g_assert_true (json_node_get_parent (json_array_get_element (json_node_get_array (a), 0)) == a);
  g_assert_null (json_node_get_parent (ws));
}

static void
test_refused (void)
{
  struct
  {
    const char *text;
    const char *message;
  } bad[] = {
    { "", "empty JSON text" },
    { " \t\r\n", "empty JSON text" },
    /* structure */
    { "{\"a\": ", "not valid JSON: unexpected end of text at byte 6 (expected a value)" },
    { "[1,]", "unexpected ']' at byte 3 (expected a value)" },
    { "[,1]", "unexpected ',' at byte 1 (expected a value)" },
    { "[1,,2]", "unexpected ',' at byte 3 (expected a value)" },
    { "{\"a\":1,}", "unexpected '}' at byte 7 (expected a member name in double quotes)" },
    { "{,}", "unexpected ',' at byte 1 (expected a member name in double quotes)" },
    { "{a:1}", "unexpected 'a' at byte 1 (expected a member name in double quotes)" },
    { "{'a':1}", "unexpected ''' at byte 1 (expected a member name in double quotes)" },
    { "{\"a\" 1}", "unexpected '1' at byte 5 (expected ':' after the member name)" },
    { "{\"a\"", "unexpected end of text at byte 4 (expected ':' after the member name)" },
    { "[1 2]", "unexpected '2' at byte 3 (expected ',' or ']')" },
    { "{\"a\":1 \"b\":2}", "unexpected '\"' at byte 7 (expected ',' or '}')" },
    { "[1", "unexpected end of text at byte 2 (expected ',' or ']')" },
    { "{\"a\":1", "unexpected end of text at byte 6 (expected ',' or '}')" },
    { "[}", "unexpected '}' at byte 1 (expected a value)" },
    { "[1}", "unexpected '}' at byte 2 (expected ',' or ']')" },
    { "]", "unexpected ']' at byte 0 (expected a value)" },
    /* what json-glib's scanner takes and JSON does not */
    { "[/*c*/1]", "unexpected '/' at byte 1 (expected a value)" },
    { "[1]//x", "unexpected '/' at byte 3 (expected the end of the text after the value)" },
    { "['a']", "unexpected ''' at byte 1 (expected a value)" },
    { "[01]", "unexpected '1' at byte 2 (expected '.', 'e' or the number's end: no leading zeros)" },
    { "[-01]", "no leading zeros" },
    { "[.5]", "unexpected '.' at byte 1 (expected a value)" },
    { "[1.]", "unexpected ']' at byte 3 (expected a digit after '.')" },
    { "[1.e5]", "expected a digit after '.'" },
    { "[0x10]", "unexpected 'x' at byte 2 (expected ',' or ']')" },
    { "[- 1]", "unexpected byte 0x20 at byte 2 (expected a digit)" },
    { "[-]", "unexpected ']' at byte 2 (expected a digit)" },
    { "[+1]", "unexpected '+' at byte 1 (expected a value)" },
    { "[1e]", "unexpected ']' at byte 3 (expected a digit in the exponent)" },
    { "[1e+]", "expected a digit in the exponent" },
    { "[-e1]", "expected a digit" },
    { "[NaN]", "unexpected 'N' at byte 1 (expected a value)" },
    { "[Infinity]", "expected a value" },
    { "[tru]", "unexpected 't' at byte 1 (expected a value)" },
    { "[True]", "expected a value" },
    { "[nul]", "expected a value" },
    { "[truex]", "unexpected 'x' at byte 5 (expected ',' or ']')" },
    { "\xef\xbb\xbf[1]", "unexpected byte 0xEF at byte 0 (expected a value)" }, /* a BOM */
    { "[1,\f2]", "unexpected byte 0x0C at byte 3 (expected a value)" },
    { "[1,\v2]", "unexpected byte 0x0B" },
    /* strings */
    { "[\"a", "a string without its closing quote (opened at byte 1)" },
    { "\"abc", "a string without its closing quote (opened at byte 0)" },
    { "[\"\\ud800\"]", "a lone UTF-16 surrogate \\uD800 at byte 2 (expected a low surrogate" },
    { "[\"\\ud800x\"]", "a lone UTF-16 surrogate \\uD800 at byte 2" },
    { "[\"\\ud800\\u0041\"]", "a lone UTF-16 surrogate \\uD800 at byte 2" },
    { "[\"\\ud800\\n\"]", "a lone UTF-16 surrogate \\uD800 at byte 2" },
    { "[\"\\ud800\\ud800\"]", "a lone UTF-16 surrogate \\uD800 at byte 2" },
    /* a high surrogate's partner must be an escape, not "u…" after the closing quote
       (found by this test's differential check) */
    { "[\"\\ud83d\"uDE00\"]", "a lone UTF-16 surrogate \\uD83D at byte 2" },
    { "[\"\\udc00\"]", "a lone UTF-16 surrogate \\uDC00 at byte 2 (a low surrogate without a high one" },
    { "[\"\\ud800\\uZZZZ\"]", "an escape JSON does not have at byte 8" },
    { "[\"\\ud800\\u12\"]", "an escape JSON does not have at byte 8" },
    { "[\"\\ud800\\", "an escape JSON does not have at byte 8" },
    { "[\"\\u0000\"]", "a JSON string holds \\u0000 (NUL) at byte 2" },
    { "[\"\\x41\"]", "an escape JSON does not have at byte 2" },
    { "[\"\\U0041\"]", "an escape JSON does not have at byte 2" },
    { "[\"\\'\"]", "an escape JSON does not have at byte 2" },
    { "[\"\\u00e\"]", "an escape JSON does not have at byte 2" },
    { "[\"\\", "an escape JSON does not have at byte 2" },
    /* not UTF-8: named so wherever it is, whatever else is wrong first */
    { "[\"\xff\"]", "not UTF-8 JSON text" },
    { "[1, \xff]", "not UTF-8 JSON text" },
    { "[\"\xc3\x28\"]", "not UTF-8 JSON text" },         /* a lead byte without its continuation */
    { "[\"\xc0\xaf\"]", "not UTF-8 JSON text" },         /* overlong '/' */
    { "[\"\xed\xa0\x80\"]", "not UTF-8 JSON text" },     /* a surrogate in UTF-8 */
    { "[\"\xf4\x90\x80\x80\"]", "not UTF-8 JSON text" }, /* beyond U+10FFFF */
    { "[\"\xe2\x82", "not UTF-8 JSON text" },            /* cut short */
    { "[1,] \xff", "not UTF-8 JSON text" },
    /* one value */
    { "{} {}", "more than one JSON value (the second at byte 3)" },
    { "[1]2", "more than one JSON value (the second at byte 3)" },
    { "1 2", "more than one JSON value (the second at byte 2)" },
    { "\"a\" \"b\"", "more than one JSON value (the second at byte 4)" },
    { "[1] x", "unexpected 'x' at byte 4 (expected the end of the text after the value)" },
    { "[1]]", "unexpected ']' at byte 3 (expected the end of the text after the value)" },
    { "1x", "unexpected 'x' at byte 1 (expected the end of the text after the value)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_refused (bad[i].text, bad[i].message);
  /* a NUL inside, raw */
  assert_refused_len ("[\"a\0b\"]", 7, 4096, 16, "not UTF-8 JSON text");
  assert_refused_len ("[1]\0", 4, 4096, 16, "not UTF-8 JSON text");
}

/* The length given, not a NUL, ends the text. */
static void
test_length (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = esa_json_parse ("[1]]]]", 3, 4096, 16, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_node_get_int (element (root)), ==, 1);
  assert_refused_len ("[1, 2]", 5, 4096, 16, "unexpected end of text at byte 5 (expected ',' or ']')");
  assert_refused_len ("[1, 2]", 6, 5, 16, "JSON text of 6 bytes is over the limit of 5 bytes");
}

static void
test_depth (void)
{
  g_autoptr (GString) ok = g_string_new (NULL);
  g_autoptr (GString) objects = g_string_new (NULL);
  g_autofree char *deep = g_strnfill (100000, '[');
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) root2 = NULL;
  JsonNode *n;
  guint levels = 0;

  /* 1,000 levels allowed: the reader's stack grows past its inline part */
  for (guint i = 0; i < 1000; i++)
    g_string_append (ok, i % 2 ? "{\"k\":" : "[");
  g_string_append (ok, "7");
  for (guint i = 1000; i-- > 0;)
    g_string_append (ok, i % 2 ? "}" : "]");
  root = esa_json_parse (ok->str, -1, G_MAXSIZE, 1000, &error);
  g_assert_no_error (error);
  for (n = root; !JSON_NODE_HOLDS_VALUE (n); levels++)
    n = JSON_NODE_HOLDS_ARRAY (n) ? json_array_get_element (json_node_get_array (n), 0)
                                  : json_object_get_member (json_node_get_object (n), "k");
  g_assert_cmpuint (levels, ==, 1000);
  g_assert_cmpint (json_node_get_int (n), ==, 7);
  assert_refused_len (ok->str, -1, G_MAXSIZE, 999, "JSON nested deeper than 999 levels (at byte 2995)");

  /* 100,000 '[' and as many objects: refused at the limit, no recursion */
  assert_refused_len (deep, -1, G_MAXSIZE, ESA_JSON_MAX_DEPTH_DEFAULT, "JSON nested deeper than 64 levels (at byte 64)");
  for (guint i = 0; i < 100000; i++)
    g_string_append (objects, "{\"a\":");
  assert_refused_len (objects->str, -1, G_MAXSIZE, ESA_JSON_MAX_DEPTH_DEFAULT,
                      "JSON nested deeper than 64 levels (at byte 320)");
  /* depth 0: only a scalar */
  root2 = esa_json_parse ("\"x\"", -1, 4096, 0, &error);
  g_assert_no_error (error);
  assert_refused_len ("[]", -1, 4096, 0, "JSON nested deeper than 0 levels (at byte 0)");
  /* brackets inside strings do not count */
  assert_refused_len ("[[[\"[[[[\"]]]", -1, 4096, 2, "JSON nested deeper than 2 levels (at byte 2)");
  {
    g_autoptr (JsonNode) inside = esa_json_parse ("[[\"[[[[{{{{\"]]", -1, 4096, 2, &error);
    g_assert_no_error (error);
  }
}

/* Every file of every corpus in tests/fuzz/corpus/, and for each valid-looking one its
 * prefixes, each byte removed and each byte replaced by a few that matter to JSON. */
static void
differential_file (const char *corpus, const char *name, const char *data, gsize len, gpointer user_data)
{
  const char replacements[] = { '"', '\\', '[', ']', '{', '}', ',', ':', '0', '-', 'e', '.', ' ', '\n', 'u', 'x', '\x80' };
  guint *counts = user_data;
  g_autoptr (GPtrArray) variants = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_ptr_array_add (variants, g_bytes_new (data, len));
  /* variants of the small texts that look like JSON */
  if (len > 0 && len <= 512 && (data[0] == '{' || data[0] == '['))
    for (gsize i = 0; i < len; i++)
      {
        g_autofree char *v = g_memdup2 (data, len);
        g_ptr_array_add (variants, g_bytes_new (data, i));
        {
          g_autofree char *cut = g_malloc (len);
          memcpy (cut, data, i);
          memcpy (cut + i, data + i + 1, len - i - 1);
          g_ptr_array_add (variants, g_bytes_new (cut, len - 1));
        }
        for (guint k = 0; k < G_N_ELEMENTS (replacements); k++)
          {
            v[i] = replacements[k];
            g_ptr_array_add (variants, g_bytes_new (v, len));
          }
      }
  for (guint i = 0; i < variants->len; i++)
    {
      gsize n;
      const char *bytes = g_bytes_get_data (variants->pdata[i], &n);
      for (guint depth = 3; depth <= 64; depth += 61)
        {
          EsaTestJsonVerdict verdict;
          g_autofree char *difference = esa_test_json_difference (bytes, n, 1 << 20, depth, &verdict);
          if (difference != NULL)
            g_error ("%s/%s (variant %u, depth limit %u): %s", corpus, name, i, depth, difference);
          counts[verdict]++;
        }
    }
}

static void
test_differential (void)
{
  guint counts[3] = { 0 };
  int files = esa_test_json_corpora_foreach (differential_file, counts);

  if (files < 0)
    {
      g_test_skip ("no tests/fuzz/corpus (set ESA_TOP_SRCDIR)");
      return;
    }
  g_assert_cmpint (files, >, 100);
  g_test_message ("%d corpus files; texts both refuse: %u, same tree: %u, refused here only (not strict JSON): %u",
                  files, counts[ESA_TEST_JSON_BOTH_REFUSE], counts[ESA_TEST_JSON_SAME],
                  counts[ESA_TEST_JSON_STRICTER]);
  g_assert_cmpuint (counts[ESA_TEST_JSON_SAME], >, 1000);
}

/* The documented differences (docs/protocol.md): json-glib takes these, we refuse. */
static void
test_stricter_than_json_glib (void)
{
  const char *lenient[] = { "[/*c*/1]", "[01]", "[.5]", "[1.]", "[0x10]", "[- 1]", "['a']",
                            "[\"\\ud800x\"]", "[ 1 , /* x */ 2 ]" };
  for (guint i = 0; i < G_N_ELEMENTS (lenient); i++)
    {
      EsaTestJsonVerdict verdict;
      g_autofree char *difference = esa_test_json_difference (lenient[i], strlen (lenient[i]), 4096, 16, &verdict);
      g_assert_null (difference);
      if (verdict != ESA_TEST_JSON_STRICTER)
        g_error ("%s: json-glib was expected to take it", lenient[i]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-parse/integers", test_integers);
  g_test_add_func ("/json-parse/doubles", test_doubles);
  g_test_add_func ("/json-parse/strings", test_strings);
  g_test_add_func ("/json-parse/shapes", test_shapes);
  g_test_add_func ("/json-parse/generator-round-trip", test_generator_round_trip);
  g_test_add_func ("/json-parse/refused", test_refused);
  g_test_add_func ("/json-parse/length", test_length);
  g_test_add_func ("/json-parse/depth", test_depth);
  g_test_add_func ("/json-parse/differential", test_differential);
  g_test_add_func ("/json-parse/stricter-than-json-glib", test_stricter_than_json_glib);
  return g_test_run ();
}
