/* json-reference.h: the JsonParser-based esa_json_parse of before, the oracle for the
 * tests, the fuzz harness and the benchmark of protocol/esa-json-parse.c. */
#pragma once

#include <json-glib/json-glib.h>

/* The old esa_json_parse: shape pre-check, JsonParser, then a deep copy of the tree
 * (@deep_copy, as before json_parser_steal_root) or the parser's own tree. */
JsonNode *esa_test_json_parse_reference (const char *data, gssize len, gsize max_bytes, guint max_depth,
                                         gboolean deep_copy, GError **error);
