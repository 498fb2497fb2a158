/* sdc-json.h: strict readers for protocol request bodies, and the error body writer. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Parses @data as one JSON object with "version": 1 (esa_json_parse() with @max_bytes and
 * the default depth); SDC_ERROR_INVALID_JSON, SDC_ERROR_INVALID_FIELD or
 * SDC_ERROR_UNSUPPORTED_VERSION otherwise. Members are read with
 * esa/esa-json.h, whose errors sdc_error_code_of() maps to SDC_ERROR_INVALID_FIELD. */
JsonObject *sdc_json_parse_request  (const char *data, gsize len, gsize max_bytes, GError **error);
/* The same checks on a parsed value (a batch's report, which is the body of its own
 * endpoint): a reference to its object, or NULL and the error. */
JsonObject *sdc_json_check_request  (JsonNode *root, GError **error);
/* sdc_json_parse_request() nesting up to @max_depth (a batch wraps its reports in two
 * more levels than a single report's body has). */
JsonObject *sdc_json_parse_request_depth (const char *data, gsize len, gsize max_bytes, guint max_depth,
                                          GError **error);

/* Lower-cased canonical form of a RFC 4122 UUID, or NULL. */
char       *sdc_json_canonical_uuid (const char *s);
/* RFC 3339 / ISO 8601 date-time with a zone. */
gboolean    sdc_json_is_timestamp   (const char *s);
/* 64 hex digits. */
gboolean    sdc_json_is_sha256      (const char *s);
/* A plain file name: no '/', '\\', control characters, not "."/"..", no leading '.'. */
gboolean    sdc_json_is_plain_name  (const char *s);
/* [A-Za-z0-9._-]{1,64}: values that end up inside UAK key data. */
gboolean    sdc_json_is_token       (const char *s);

char       *sdc_json_object_to_string (JsonObject *obj);
/* {"error":{"code":"...","message":"..."}} for any GError (non-SDC domains: internal). */
char       *sdc_json_error_body     (const GError *error);

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
char       *sdc_json_now            (GDateTime *now);
/* sdc_json_now() of this second, owned by the calling thread until its next call. */
const char *sdc_json_now_text       (void);

G_END_DECLS
