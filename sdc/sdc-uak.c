/* sdc-uak.c: issues signed Update Access Keys.
 *
 * A UAK is a short text line; the signature covers exactly its bytes, so the agent can
 * verify it with uak-pub.pem without any canonicalisation step. */
#include "config.h"

#include "sdc-uak.h"
#include "sdc-error.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <string.h>

struct _SdcUak {
  gnutls_privkey_t key;
  guint days;
  SdcUakFlags flags;
};

SdcUak *
sdc_uak_new (const char *key_path, guint days, SdcUakFlags flags, GError **error)
{
  g_autofree char *pem = NULL;
  gsize len = 0;
  if (!g_file_get_contents (key_path, &pem, &len, error))
    return NULL;
  return sdc_uak_new_from_pem (pem, len, key_path, days, flags, error);
}

SdcUak *
sdc_uak_new_from_pem (const char *pem, gsize len, const char *origin, guint days, SdcUakFlags flags,
                      GError **error)
{
  gnutls_datum_t d;
  SdcUak *uak;
  int rc;

  uak = g_new0 (SdcUak, 1);
  uak->days = days;
  uak->flags = flags;
  d.data = (unsigned char *) pem;
  d.size = (unsigned) len;
  if ((rc = gnutls_privkey_init (&uak->key)) < 0 ||
      (rc = gnutls_privkey_import_x509_raw (uak->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: %s", origin, gnutls_strerror (rc));
      sdc_uak_free (uak);
      return NULL;
    }
  return uak;
}

void
sdc_uak_free (SdcUak *uak)
{
  if (uak == NULL)
    return;
  if (uak->key != NULL)
    gnutls_privkey_deinit (uak->key);
  g_free (uak);
}

gboolean
sdc_uak_parse_date (const char *s, GDateTime **out)
{
  int y, m, d;
  GDateTime *dt;
  if (s == NULL || strlen (s) != 8)
    return FALSE;
  for (int i = 0; i < 8; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  m = (s[4] - '0') * 10 + (s[5] - '0');
  d = (s[6] - '0') * 10 + (s[7] - '0');
  if (y < 1970 || !g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    return FALSE;
  dt = g_date_time_new_utc (y, m, d, 0, 0, 0);
  if (dt == NULL)
    return FALSE;
  if (out != NULL)
    *out = dt;
  else
    g_date_time_unref (dt);
  return TRUE;
}

gboolean
sdc_uak_issue (SdcUak *uak, const char *kind, const char *machine_type, const char *serial, const char *current_expiry,
               GDateTime *now, char **key_data, char **signature, GError **error)
{
  g_autoptr (GDateTime) today = g_date_time_new_utc (g_date_time_get_year (now),
                                                     g_date_time_get_month (now),
                                                     g_date_time_get_day_of_month (now), 0, 0, 0);
  g_autoptr (GDateTime) base = NULL;
  g_autoptr (GDateTime) expires = NULL;
  g_autofree char *expires_s = NULL;
  g_autofree char *issued_s = NULL;
  g_autofree char *text = NULL;
  gnutls_datum_t data;
  gnutls_datum_t sig = { NULL, 0 };
  int rc;

  if (current_expiry != NULL)
    {
      if (!sdc_uak_parse_date (current_expiry, &base))
        {
          g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                       "current_expiry: expected a date YYYYMMDD");
          return FALSE;
        }
    }
  if (base == NULL || g_date_time_compare (base, today) < 0)
    {
      g_clear_pointer (&base, g_date_time_unref);
      base = g_date_time_ref (today);
    }
  if (uak->flags & SDC_UAK_FLAG_OLDER)
    /* FOR TESTS ONLY: a "renewal" that shortens the key, which the agent must refuse */
    expires = g_date_time_add_days (base, -30);
  else
    expires = g_date_time_add_days (base, (int) uak->days);
  /* GDateTime ends with the year 9999: a current_expiry near it has no later date */
  if (expires == NULL)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   "current_expiry: %s leaves no room for a later expiry date", current_expiry);
      return FALSE;
    }
  expires_s = g_date_time_format (expires, "%Y%m%d");
  issued_s = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  text = g_strdup_printf ("UAK1;%smachine_type=%s;serial=%s;expires=%s;issued=%s",
                          g_strcmp0 (kind, "aix") == 0 ? "key=aix;" : "", machine_type, serial, expires_s,
                          issued_s);

  data.data = (unsigned char *) text;
  data.size = (unsigned) strlen (text);
  rc = gnutls_privkey_sign_data (uak->key, GNUTLS_DIG_SHA256, 0, &data, &sig);
  if (rc < 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "signing UAK: %s", gnutls_strerror (rc));
      return FALSE;
    }
  if ((uak->flags & SDC_UAK_FLAG_BAD_SIGNATURE) && sig.size > 0)
    /* FOR TESTS ONLY: still valid DER, but the signature value no longer verifies */
    sig.data[sig.size - 1] ^= 0x01;
  *signature = g_base64_encode (sig.data, sig.size);
  *key_data = g_steal_pointer (&text);
  gnutls_free (sig.data);
  return TRUE;
}
