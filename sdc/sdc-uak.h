/* sdc-uak.h: issues signed Update Access Keys. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SDC_UAK_ALGORITHM "ecdsa-p256-sha256"

typedef struct _SdcUak SdcUak;

typedef enum {
  SDC_UAK_FLAG_NONE = 0,
  SDC_UAK_FLAG_BAD_SIGNATURE = 1 << 0, /* FOR TESTS ONLY: flip a bit of the signature */
  SDC_UAK_FLAG_OLDER = 1 << 1,         /* FOR TESTS ONLY: expiry before the current one */
} SdcUakFlags;

SdcUak   *sdc_uak_new   (const char *key_path, guint days, SdcUakFlags flags, GError **error);
/* @origin names where the PEM came from, for errors. */
SdcUak   *sdc_uak_new_from_pem (const char *pem, gsize len, const char *origin, guint days,
                                SdcUakFlags flags, GError **error);
void      sdc_uak_free  (SdcUak *uak);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcUak, sdc_uak_free)

/* TRUE if @s is YYYYMMDD naming a real date; *out (if not NULL) gets it at 00:00 UTC. */
gboolean  sdc_uak_parse_date (const char *s, GDateTime **out);

/* key_data = "UAK1;machine_type=..;serial=..;expires=YYYYMMDD;issued=YYYYMMDDTHHMMSSZ",
 * with "key=aix;" after "UAK1;" for the AIX (OS) key (@kind "aix"; NULL or
 * "firmware": the firmware key, whose data names no kind);
 * signature = base64 of the DER ECDSA signature over exactly those bytes.
 * @current_expiry may be NULL (no key yet). */
gboolean  sdc_uak_issue (SdcUak *uak, const char *kind, const char *machine_type, const char *serial,
                         const char *current_expiry, GDateTime *now,
                         char **key_data, char **signature, GError **error);

G_END_DECLS
