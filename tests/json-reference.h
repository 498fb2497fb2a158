/* json-reference.h: the JsonParser-based esa_json_parse of before, the oracle for the
 * tests, the fuzz harness and the benchmark of protocol/esa-json-parse.c. */
#pragma once

#include <json-glib/json-glib.h>

/* The old esa_json_parse: shape pre-check, JsonParser, then json_node_copy of the root
 * (@deep_copy, as before json_parser_steal_root; json-glib 1.6 shares the containers) or the parser's own tree. */
JsonNode *esa_test_json_parse_reference (const char *data, gssize len, gsize max_bytes, guint max_depth,
                                         gboolean deep_copy, GError **error);

typedef enum
{
  ESA_TEST_JSON_BOTH_REFUSE,
  ESA_TEST_JSON_SAME,     /* both take it, same tree */
  ESA_TEST_JSON_STRICTER, /* json-glib takes it, esa_json_parse refuses (not strict JSON) */
} EsaTestJsonVerdict;

/* Parses @data with esa_json_parse and with the reference; NULL when they agree (or
 * differ only as documented in docs/protocol.md: stricter here, a double for an integer
 * json-glib wraps), else the difference as text. A json-glib tree refused here must
 * read back the same here once written as strict JSON. */
char *esa_test_json_difference (const char *data, gsize len, gsize max_bytes, guint max_depth,
                                EsaTestJsonVerdict *verdict);

/* Calls @func for every file of every corpus in tests/fuzz/corpus/ (under
 * $ESA_TOP_SRCDIR) with its corpus's name, its own and its bytes; returns how many, or
 * -1 when there is no corpus directory. */
typedef void (*EsaTestCorpusFunc) (const char *corpus, const char *name, const char *data, gsize len,
                                   gpointer user_data);
int esa_test_json_corpora_foreach (EsaTestCorpusFunc func, gpointer user_data);
