/* esa-json.h: typed reading of JSON members, and a bounded parser for outside input.
 *
 * Every reader of JSON that came from outside (the SDC's answers, control requests,
 * queued envelopes, request bodies at the SDC) asks for a member by name and type
 * here, so a wrong type is one clear error naming the member, never a json-glib
 * critical. Errors are ESA_ERROR_INVALID_DATA. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  ESA_JSON_REQUIRED  = 0,      /* absent or null is an error */
  ESA_JSON_OPTIONAL  = 1 << 0, /* absent or null: no error, nothing stored */
  ESA_JSON_NON_EMPTY = 1 << 1, /* strings: "" is an error */
} EsaJsonFlags;

/* Generous defaults for esa_json_parse(): far above any real message, far below what
 * would exhaust memory or json-glib's recursion. */
#define ESA_JSON_MAX_BYTES_DEFAULT (64 * 1024 * 1024)
#define ESA_JSON_MAX_DEPTH_DEFAULT 64

/* "null", "object", "array", "boolean", "string" or "number". */
const char *esa_json_node_type_name (JsonNode *node);

/* Each getter names the member as "<prefix><name>" (@prefix may be NULL, e.g.
 * "contact." or "SDC answer: ") and the expected type in its error:
 *   "contact.email: expected string, got number"
 *   "uuid: required string is missing"
 * @obj may be NULL (every member absent). With ESA_JSON_OPTIONAL an absent member
 * gives NULL / leaves *@out alone and returns TRUE; a member of the wrong type is an
 * error either way (pass a NULL @error to read it as absent). */
const char *esa_json_get_string  (JsonObject *obj, const char *prefix, const char *name,
                                  EsaJsonFlags flags, GError **error);
gboolean    esa_json_get_int     (JsonObject *obj, const char *prefix, const char *name,
                                  EsaJsonFlags flags, gint64 *out, GError **error);
gboolean    esa_json_get_boolean (JsonObject *obj, const char *prefix, const char *name,
                                  EsaJsonFlags flags, gboolean *out, GError **error);
/* NULL when absent (optional) or on error: tell them apart by @error. */
JsonObject *esa_json_get_object  (JsonObject *obj, const char *prefix, const char *name,
                                  EsaJsonFlags flags, GError **error);
JsonArray  *esa_json_get_array   (JsonObject *obj, const char *prefix, const char *name,
                                  EsaJsonFlags flags, GError **error);

/* Lenient reads, for input whose odd members are read as absent rather than refused
 * (spool and state files, optional members of a request): NULL / @fallback when @obj
 * is NULL or the member is absent, null or of another type. */
const char *esa_json_peek_string  (JsonObject *obj, const char *name);
gint64      esa_json_peek_int     (JsonObject *obj, const char *name, gint64 fallback);
gboolean    esa_json_peek_boolean (JsonObject *obj, const char *name, gboolean fallback);
JsonObject *esa_json_peek_object  (JsonObject *obj, const char *name);

/* A time as esad and esactl write it for people and scripts (docs/json.md):
 * ISO 8601 in UTC to the second, "2026-11-26T15:01:11Z". The _iso form
 * rewrites any ISO 8601 text so; text that is not a time comes back as is. */
char       *esa_json_time         (GDateTime *dt);
char       *esa_json_time_iso     (const char *iso);

/* Parses @len bytes of @data (-1: up to the NUL) as one RFC 8259 JSON text into a
 * json-glib tree (protocol/esa-json-parse.c; strict but for raw control characters in
 * strings, which json-glib writes; differences from JsonParser in docs/protocol.md).
 * Refuses text over @max_bytes, text that is not UTF-8 or holds a NUL (also as
 * "\u0000"), arrays/objects nested deeper than @max_depth, and anything after the
 * value but white space; the error is one line ("not valid JSON: … at byte N").
 * Integers that fit are G_TYPE_INT64 nodes, other numbers doubles. Returns the root
 * (never NULL on success). */
JsonNode   *esa_json_parse       (const char *data, gssize len, gsize max_bytes, guint max_depth,
                                  GError **error);

/* Writes @node as JSON text (protocol/esa-json-write.c): what json_to_string() writes,
 * byte for byte, compact or @pretty (two spaces), except where json-glib 1.6 writes
 * text that is not JSON (a double like 1e80 as "1e+80.0", U+001F unescaped); those are
 * written as JSON ("1e+80", "\u001f"). NaN and infinity are written as null. Use it for
 * everything written (never json_to_string or JsonGenerator). */
char       *esa_json_to_string   (JsonNode *node, gboolean pretty);
/* The same, appended to @out. */
void        esa_json_write       (GString *out, JsonNode *node, gboolean pretty);

G_END_DECLS
