/* sdc-error.h: the esa-sdc error domain; each code is one "error.code" of the protocol. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SDC_ERROR (sdc_error_quark ())

typedef enum {
  SDC_ERROR_INTERNAL,            /* 500 internal: disk, database, crypto */
  SDC_ERROR_INVALID_JSON,        /* 400 body is not a JSON object */
  SDC_ERROR_INVALID_FIELD,       /* 400 a field is missing or has the wrong type/format */
  SDC_ERROR_UNSUPPORTED_VERSION, /* 400 "version" is not 1 */
  SDC_ERROR_CHECKSUM_MISMATCH,   /* 400 attachment bytes do not match X-Esa-Sha256 */
  SDC_ERROR_UNAUTHORIZED,        /* 401 missing or wrong credentials */
  SDC_ERROR_NOT_FOUND,           /* 404 unknown path, report or attachment name */
  SDC_ERROR_METHOD_NOT_ALLOWED,  /* 405 */
  SDC_ERROR_DUPLICATE,           /* 409 same uuid reused for different content */
  SDC_ERROR_LENGTH_REQUIRED,     /* 411 attachment without Content-Length */
  SDC_ERROR_TOO_LARGE,           /* 413 body or attachment over the limit */
  SDC_ERROR_UNSUPPORTED_MEDIA,   /* 415 Content-Type is not application/json */
} SdcError;

GQuark      sdc_error_quark       (void);
/* The protocol's snake_case code, e.g. "invalid_field". */
const char *sdc_error_code_name   (SdcError code);
/* The code for any error an API handler returns: SDC_ERROR as is; ESA_ERROR_INVALID_DATA
 * (a member refused by esa/esa-json.h) is invalid_field; anything else is internal. */
SdcError    sdc_error_code_of     (const GError *error);
/* The HTTP status that goes with the code. */
guint       sdc_error_http_status (SdcError code);

G_END_DECLS
