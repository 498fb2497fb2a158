/* uak-lscfg.h: the VPD lines of lscfg -vp (the firmware UAK date).
 * Tolerant like the parsers of <esa/esa-aix.h>: odd lines become
 * `warnings`, only output with nothing usable fails (ESA_ERROR_INVALID_DATA
 * naming the command and the line). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- lscfg -vp VPD ----------------------------------------------------------- */

typedef struct
{
  char *key;   /* "Update Access Key Exp Date", "ROM Level.(alterable)" */
  char *value; /* "20270825"; "" when empty */
} EsaAixVpd;

/* every dotted "Key.....value" line, in order (keys repeat across devices):
 * returns EsaAixVpd* (free func set) */
GPtrArray *esa_aix_parse_lscfg_vpd (const char *text, GPtrArray *warnings, GError **error);
/* first value of key, or NULL */
const char *esa_aix_vpd_lookup (GPtrArray *vpd, const char *key);

G_END_DECLS
