/* test-json-write.c: esa_json_to_string (protocol/esa-json-write.c) writes what
 * json-glib's generator writes, byte for byte, compact and pretty, on every text of every
 * fuzz corpus that parses, except where json-glib's text is not JSON (a double with an
 * exponent and no '.', an infinite one, U+001F in a string): there ours is JSON and
 * reads back the same. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "esa/esa-json.h"
#include "json-reference.h"

static JsonNode *
parse (const char *text, gsize len)
{
  return esa_json_parse (text, (gssize) len, 1 << 20, 64, NULL);
}

/* 0: the same text as json-glib; 1: json-glib's is not JSON and ours reads back equal. */
static guint
compare_with_json_glib (JsonNode *node, gboolean pretty)
{
  g_autofree char *ours = esa_json_to_string (node, pretty);
  g_autofree char *theirs = json_to_string (node, pretty);
  g_autoptr (JsonNode) back = NULL;
  g_autofree char *again = NULL;
  g_autofree char *first = NULL;

  back = parse (ours, strlen (ours));
  if (back == NULL)
    g_error ("esa_json_to_string wrote text that is not JSON: %s", ours);
  if (g_strcmp0 (ours, theirs) == 0)
    return 0;
  /* json-glib's only ways of writing what is not JSON (esa_json_parse takes raw
   * control characters, so it cannot be the judge of the first) */
  if (strchr (theirs, 0x1f) == NULL && !g_regex_match_simple ("[eE][-+]?[0-9]+\\.0|[-,:\\[ ]inf\\.0", theirs, 0, 0))
    g_error ("differs from json-glib where json-glib's text is JSON:\n ours:   %s\n theirs: %s", ours, theirs);
  first = esa_json_to_string (node, FALSE);
  again = esa_json_to_string (back, FALSE);
  g_assert_cmpstr (again, ==, first);
  return 1;
}

typedef struct
{
  guint texts;
  guint same;
  guint fixed;
} Counts;

static void
compare_file (const char *corpus, const char *name, const char *data, gsize len, gpointer user_data)
{
  Counts *c = user_data;
  g_autoptr (JsonNode) node = parse (data, len);
  (void) corpus;
  (void) name;
  if (node == NULL)
    return;
  c->texts++;
  for (int pretty = 0; pretty <= 1; pretty++)
    {
      if (compare_with_json_glib (node, pretty) == 0)
        c->same++;
      else
        c->fixed++;
    }
}

static void
test_corpora (void)
{
  Counts c = { 0 };
  if (esa_test_json_corpora_foreach (compare_file, &c) < 0)
    {
      g_test_skip ("no tests/fuzz/corpus (set ESA_TOP_SRCDIR)");
      return;
    }
  g_test_message ("%u texts; written as json-glib writes them: %u, where json-glib writes no JSON: %u", c.texts,
                  c.same, c.fixed);
  g_assert_cmpuint (c.texts, >, 150);
}

/* json-glib's two ways of writing what is not JSON, and what is written instead. */
static void
test_fixed (void)
{
  const struct {
    const char *in;
    const char *compact;
  } cases[] = {
    { "[1e80]", "[1e+80]" },
    { "[1E-300]", "[1e-300]" },
    { "[1e999,-1e999]", "[1e999,-1e999]" },
    { "[\"x\\u001fy\"]", "[\"x\\u001fy\"]" },
    { "{\"\\u001f\":1}", "{\"\\u001f\":1}" },
    /* unchanged: what json-glib already writes as JSON */
    { "[2.0]", "[2.0]" },
    { "[-0.5]", "[-0.5]" },
    { "[\"\\u007f\\u001e\\b\\f\\n\\r\\t\\\"\\\\/\"]", "[\"\\u007f\\u001e\\b\\f\\n\\r\\t\\\"\\\\/\"]" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonNode) node = parse (cases[i].in, strlen (cases[i].in));
      g_autofree char *text = esa_json_to_string (node, FALSE);
      g_assert_nonnull (node);
      g_assert_cmpstr (text, ==, cases[i].compact);
      compare_with_json_glib (node, FALSE);
      compare_with_json_glib (node, TRUE);
    }
}

/* Pretty output, json-glib's quirks included (an empty object inside another). */
static void
test_pretty (void)
{
  const char *in = "{\"a\":{},\"b\":[],\"c\":[1,{\"x\":null,\"y\":[true,false]}],\"e\":{\"f\":{}},\"\":2.5}";
  g_autoptr (JsonNode) node = parse (in, strlen (in));
  g_autofree char *text = esa_json_to_string (node, TRUE);
  g_autoptr (JsonNode) empty = json_node_init_object (json_node_alloc (), json_object_new ());
  g_autofree char *empty_text = esa_json_to_string (empty, TRUE);
  g_assert_cmpstr (text, ==,
                   "{\n"
                   "  \"a\" : {  },\n"
                   "  \"b\" : [],\n"
                   "  \"c\" : [\n"
                   "    1,\n"
                   "    {\n"
                   "      \"x\" : null,\n"
                   "      \"y\" : [\n"
                   "        true,\n"
                   "        false\n"
                   "      ]\n"
                   "    }\n"
                   "  ],\n"
                   "  \"e\" : {\n"
                   "    \"f\" : {    }\n"
                   "  },\n"
                   "  \"\" : 2.5\n"
                   "}");
  g_assert_cmpstr (empty_text, ==, "{}");
  compare_with_json_glib (node, TRUE);
}

/* Made in code rather than parsed: infinity (not JSON) as a number that reads back as
 * one, NaN as null. */
static void
test_built (void)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *text = NULL;
  json_builder_begin_array (b);
  json_builder_add_double_value (b, NAN);
  json_builder_add_double_value (b, INFINITY);
  json_builder_add_double_value (b, 3.0);
  json_builder_add_int_value (b, G_MININT64);
  json_builder_add_boolean_value (b, TRUE);
  json_builder_add_null_value (b);
  json_builder_add_string_value (b, "\xc3\xa9");
  json_builder_end_array (b);
  node = json_builder_get_root (b);
  text = esa_json_to_string (node, FALSE);
  g_assert_cmpstr (text, ==, "[null,1e999,3.0,-9223372036854775808,true,null,\"\xc3\xa9\"]");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-write/corpora", test_corpora);
  g_test_add_func ("/json-write/fixed", test_fixed);
  g_test_add_func ("/json-write/pretty", test_pretty);
  g_test_add_func ("/json-write/built", test_built);
  return g_test_run ();
}
