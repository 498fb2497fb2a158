/* uak-lparstat.h: Update Access Key dates from lparstat -u and uak_expiry.
 * Tolerant like the parsers of <esa/esa-aix.h>: odd lines become
 * `warnings`, only output with nothing usable fails (ESA_ERROR_INVALID_DATA
 * naming the command and the line). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A YYYYMMDD date on its own (uak_expiry, uak_aix_expiry); "-" or "0" → NULL
 * without error (no key). Returns TRUE and sets *date (may be NULL). */
gboolean esa_aix_parse_yyyymmdd (const char *command, const char *text, char **date, GError **error);

/* ---- lparstat -u (UAK) --------------------------------------------------------- */

typedef struct
{
  char *fw_expiry; /* "20270825", NULL when "-" (no key) or absent */
  char *aix_expiry;
  char *image_date; /* "AIX Image Date" */
} EsaAixUak;

EsaAixUak *esa_aix_parse_lparstat_u (const char *text, GPtrArray *warnings, GError **error);
void esa_aix_uak_free (EsaAixUak *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaAixUak, esa_aix_uak_free)

G_END_DECLS
