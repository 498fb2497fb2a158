/* sdc-error.c: maps esa-sdc error codes to protocol code names and HTTP statuses. */
#include "config.h"

#include "sdc-error.h"
#include "esa/esa-error.h"

G_DEFINE_QUARK (sdc-error-quark, sdc_error)

static const struct {
  const char *name;
  guint status;
} sdc_errors[] = {
  [SDC_ERROR_INTERNAL] = { "internal", 500 },
  [SDC_ERROR_INVALID_JSON] = { "invalid_json", 400 },
  [SDC_ERROR_INVALID_FIELD] = { "invalid_field", 400 },
  [SDC_ERROR_UNSUPPORTED_VERSION] = { "unsupported_version", 400 },
  [SDC_ERROR_CHECKSUM_MISMATCH] = { "checksum_mismatch", 400 },
  [SDC_ERROR_UNAUTHORIZED] = { "unauthorized", 401 },
  [SDC_ERROR_NOT_FOUND] = { "not_found", 404 },
  [SDC_ERROR_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405 },
  [SDC_ERROR_DUPLICATE] = { "duplicate", 409 },
  [SDC_ERROR_LENGTH_REQUIRED] = { "length_required", 411 },
  [SDC_ERROR_TOO_LARGE] = { "too_large", 413 },
  [SDC_ERROR_UNSUPPORTED_MEDIA] = { "unsupported_media_type", 415 },
};

const char *
sdc_error_code_name (SdcError code)
{
  if ((guint) code >= G_N_ELEMENTS (sdc_errors))
    return "internal";
  return sdc_errors[code].name;
}

guint
sdc_error_http_status (SdcError code)
{
  if ((guint) code >= G_N_ELEMENTS (sdc_errors))
    return 500;
  return sdc_errors[code].status;
}

SdcError
sdc_error_code_of (const GError *error)
{
  if (error->domain == SDC_ERROR)
    return (SdcError) error->code;
  if (error->domain == ESA_ERROR && error->code == ESA_ERROR_INVALID_DATA)
    return SDC_ERROR_INVALID_FIELD;
  return SDC_ERROR_INTERNAL;
}
