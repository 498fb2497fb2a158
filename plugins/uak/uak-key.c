/* uak-key.c: Update Access Key data — the key string the SDC signs, key
 * files, the SDC's answer, and the checks a key passes before it is applied.
 * Everything here is input from outside (SDC, files): strict, and every
 * error names the field. */
#include "config.h"

#include "uak-private.h"

#include <esa/esa-error.h>
#include <esa/esa-json.h>
#include <esa/esa-subprocess.h>
#include <string.h>

#define UAK_KEY_DATA_MAX 4096
#define UAK_SIGNATURE_MAX 1024 /* base64 of a DER ECDSA signature is ~100 bytes */

static gboolean
uak_date_parts (const char *s, int *y, int *m, int *d)
{
  if (s == NULL || strlen (s) != 8)
    return FALSE;
  for (guint i = 0; i < 8; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  *m = (s[4] - '0') * 10 + (s[5] - '0');
  *d = (s[6] - '0') * 10 + (s[7] - '0');
  return *y >= 1970 && g_date_valid_dmy ((GDateDay) *d, (GDateMonth) *m, (GDateYear) *y);
}

gboolean
esa_uak_date_valid (const char *s)
{
  int y, m, d;
  return uak_date_parts (s, &y, &m, &d);
}

gint64
esa_uak_days_between (const char *from, const char *to)
{
  int y1, m1, d1, y2, m2, d2;
  g_autoptr (GDate) a = NULL;
  g_autoptr (GDate) b = NULL;
  g_return_val_if_fail (uak_date_parts (from, &y1, &m1, &d1), 0);
  g_return_val_if_fail (uak_date_parts (to, &y2, &m2, &d2), 0);
  a = g_date_new_dmy ((GDateDay) d1, (GDateMonth) m1, (GDateYear) y1);
  b = g_date_new_dmy ((GDateDay) d2, (GDateMonth) m2, (GDateYear) y2);
  return (gint64) g_date_days_between (a, b);
}

char *
esa_uak_today (GDateTime *now)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (now);
  return g_date_time_format (utc, "%Y%m%d");
}

void
esa_uak_key_free (EsaUakKey *self)
{
  if (self == NULL)
    return;
  g_free (self->key_data);
  g_free (self->machine_type);
  g_free (self->serial);
  g_free (self->expires);
  g_free (self->issued);
  g_free (self->kind);
  g_free (self);
}

/* machine type and serial: what the SDC accepts at registration */
static gboolean
uak_token_valid (const char *s)
{
  gsize n = strlen (s);
  if (n == 0 || n > 64)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
      return FALSE;
  return TRUE;
}

EsaUakKey *
esa_uak_key_parse (const char *key_data, GError **error)
{
  g_autoptr (EsaUakKey) key = g_new0 (EsaUakKey, 1);
  g_auto (GStrv) fields = NULL;

  if (key_data == NULL || key_data[0] == '\0')
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "key data: empty");
      return NULL;
    }
  if (strlen (key_data) > UAK_KEY_DATA_MAX)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "key data: longer than %u bytes",
                   UAK_KEY_DATA_MAX);
      return NULL;
    }
  if (!g_utf8_validate (key_data, -1, NULL))
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "key data: not UTF-8");
      return NULL;
    }
  for (const char *p = key_data; *p != '\0'; p++)
    if (g_ascii_iscntrl (*p) || *p == ' ')
      {
        g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                     "key data: unexpected %s at offset %u", *p == ' ' ? "space" : "control character",
                     (guint) (p - key_data));
        return NULL;
      }
  fields = g_strsplit (key_data, ";", -1);
  if (g_strcmp0 (fields[0], "UAK1") != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "key data: \"%.20s\": unknown format (expected it to start with UAK1;)", fields[0]);
      return NULL;
    }
  for (guint i = 1; fields[i] != NULL; i++)
    {
      const char *eq = strchr (fields[i], '=');
      g_autofree char *name = NULL;
      char **slot = NULL;
      if (eq == NULL || eq == fields[i])
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "key data: field %u \"%.40s\": expected NAME=VALUE", i, fields[i]);
          return NULL;
        }
      name = g_strndup (fields[i], (gsize) (eq - fields[i]));
      if (g_str_equal (name, "machine_type"))
        slot = &key->machine_type;
      else if (g_str_equal (name, "serial"))
        slot = &key->serial;
      else if (g_str_equal (name, "expires"))
        slot = &key->expires;
      else if (g_str_equal (name, "issued"))
        slot = &key->issued;
      else if (g_str_equal (name, "key"))
        slot = &key->kind;
      else
        continue; /* later key versions may add fields; the signature covers them anyway */
      if (*slot != NULL)
        {
          /* two values for one field: which one would firmware believe? refuse */
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "key data: %s: given twice", name);
          return NULL;
        }
      *slot = g_strdup (eq + 1);
    }
  if (key->machine_type == NULL || !uak_token_valid (key->machine_type))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "key data: machine_type: %s",
                   key->machine_type == NULL ? "missing" : "expected 1-64 of A-Z a-z 0-9 . _ -");
      return NULL;
    }
  if (key->serial == NULL || !uak_token_valid (key->serial))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "key data: serial: %s",
                   key->serial == NULL ? "missing" : "expected 1-64 of A-Z a-z 0-9 . _ -");
      return NULL;
    }
  if (key->expires == NULL || !esa_uak_date_valid (key->expires))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "key data: expires: %s%s%s",
                   key->expires == NULL ? "missing" : "\"",
                   key->expires == NULL ? "" : key->expires,
                   key->expires == NULL ? "" : "\": expected a date YYYYMMDD");
      return NULL;
    }
  key->key_data = g_strdup (key_data);
  return g_steal_pointer (&key);
}

gboolean
esa_uak_parse_key_file (const char *where, const char *text, char **expiry, EsaUakKey **key,
                        GError **error)
{
  g_autofree char *valid = esa_text_make_valid (text != NULL ? text : "", -1);
  g_auto (GStrv) lines = g_strsplit (valid, "\n", -1);
  *expiry = NULL;
  if (key != NULL)
    *key = NULL;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (EsaUakKey) k = NULL;
      char *line = g_strstrip (lines[i]);
      if (line[0] == '\0' || line[0] == '#')
        continue;
      if (g_str_has_prefix (line, "UAK"))
        {
          k = esa_uak_key_parse (line, &local);
          if (k == NULL)
            {
              g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s:%u: %s", where, i + 1,
                           local->message);
              return FALSE;
            }
          *expiry = g_strdup (k->expires);
          if (key != NULL)
            *key = g_steal_pointer (&k);
          return TRUE;
        }
      if (g_strcmp0 (line, "-") == 0)
        return TRUE; /* like lparstat -u: no key */
      if (!esa_uak_date_valid (line))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "%s:%u: \"%.40s\": expected a key (UAK1;…) or an expiry date YYYYMMDD", where,
                       i + 1, line);
          return FALSE;
        }
      *expiry = g_strdup (line);
      return TRUE;
    }
  return TRUE;
}

GBytes *
esa_uak_base64_decode (const char *text, GError **error)
{
  gsize n = strlen (text);
  gsize pad = 0;
  gsize len = 0;
  guchar *raw;
  if (n == 0 || n % 4 != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "expected base64 (a multiple of 4 characters), got %" G_GSIZE_FORMAT " characters", n);
      return NULL;
    }
  for (gsize i = 0; i < n; i++)
    {
      char c = text[i];
      if (c == '=')
        {
          /* padding only at the very end, at most two */
          if (i < n - 2 || (i == n - 2 && text[n - 1] != '='))
            {
              g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                           "base64: '=' at offset %" G_GSIZE_FORMAT " before the end", i);
              return NULL;
            }
          pad++;
          continue;
        }
      if (!g_ascii_isalnum (c) && c != '+' && c != '/')
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "base64: invalid character 0x%02x at offset %" G_GSIZE_FORMAT, (guchar) c, i);
          return NULL;
        }
    }
  raw = g_base64_decode (text, &len);
  if (len == 0)
    {
      g_free (raw);
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "base64: decodes to nothing");
      return NULL;
    }
  return g_bytes_new_take (raw, len);
}

void
esa_uak_offer_free (EsaUakOffer *self)
{
  if (self == NULL)
    return;
  g_free (self->key_data);
  g_clear_pointer (&self->signature, g_bytes_unref);
  g_free (self->signature_b64);
  g_free (self->algorithm);
  g_free (self);
}

/* A required, non-empty string member of the SDC's answer, at most @max bytes. */
static const char *
uak_member_string (JsonObject *obj, const char *name, gsize max, GError **error)
{
  const char *s = esa_json_get_string (obj, "SDC answer: ", name, ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, error);
  if (s != NULL && strlen (s) > max)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "SDC answer: %s: too long", name);
      return NULL;
    }
  return s;
}

EsaUakOffer *
esa_uak_offer_from_json (JsonObject *answer, GError **error)
{
  g_autoptr (EsaUakOffer) offer = g_new0 (EsaUakOffer, 1);
  g_autoptr (GError) local = NULL;
  const char *key_data, *sig, *alg;

  if (answer == NULL)
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "SDC answer: not a JSON object");
      return NULL;
    }
  if ((key_data = uak_member_string (answer, "key_data", UAK_KEY_DATA_MAX, error)) == NULL ||
      (sig = uak_member_string (answer, "signature", UAK_SIGNATURE_MAX, error)) == NULL ||
      (alg = uak_member_string (answer, "algorithm", 64, error)) == NULL)
    return NULL;
  offer->signature = esa_uak_base64_decode (sig, &local);
  if (offer->signature == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "SDC answer: signature: %s", local->message);
      return NULL;
    }
  offer->key_data = g_strdup (key_data);
  offer->signature_b64 = g_strdup (sig);
  offer->algorithm = g_strdup (alg);
  return g_steal_pointer (&offer);
}

EsaUakKey *
esa_uak_accept_offer (EsaUakVerifier *verifier, EsaUakOffer *offer, const char *machine_type,
                      const char *serial, const char *current_expiry, const char **reason,
                      GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (EsaUakKey) key = NULL;

  *reason = NULL;
  if (g_strcmp0 (offer->algorithm, ESA_UAK_ALGORITHM) != 0)
    {
      *reason = ESA_UAK_REASON_MALFORMED;
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
                   "key refused: SDC answer: algorithm: \"%s\": unsupported (expected %s)",
                   offer->algorithm, ESA_UAK_ALGORITHM);
      return NULL;
    }
  /* the signature first: nothing in an unsigned key is worth reading */
  if (!esa_uak_verifier_verify (verifier, offer->key_data, offer->signature, &local))
    {
      *reason = ESA_UAK_REASON_BAD_SIGNATURE;
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED, "key refused: %s", local->message);
      return NULL;
    }
  key = esa_uak_key_parse (offer->key_data, &local);
  if (key == NULL)
    {
      *reason = ESA_UAK_REASON_MALFORMED;
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED, "key refused: %s", local->message);
      return NULL;
    }
  if (g_strcmp0 (key->machine_type, machine_type) != 0 || g_strcmp0 (key->serial, serial) != 0)
    {
      *reason = ESA_UAK_REASON_OTHER_MACHINE;
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
                   "key refused: it is for machine %s serial %s, this is %s serial %s",
                   key->machine_type, key->serial, machine_type ? machine_type : "(unknown)",
                   serial ? serial : "(unknown)");
      return NULL;
    }
  if (current_expiry != NULL && strcmp (key->expires, current_expiry) <= 0)
    {
      *reason = ESA_UAK_REASON_NOT_NEWER;
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
                   "key refused: it expires %s, not later than the current key (%s)", key->expires,
                   current_expiry);
      return NULL;
    }
  return g_steal_pointer (&key);
}

const char *
esa_uak_key_kind_name (EsaUakKeyKind kind)
{
  return kind == ESA_UAK_KEY_AIX ? "aix" : "firmware";
}

gboolean
esa_uak_processor_has_aix_key (const char *processor)
{
  const char *p = processor != NULL ? strstr (processor, "POWER") : NULL;
  guint64 gen = 0;
  if (p == NULL || !g_ascii_isdigit (p[5]))
    return FALSE;
  gen = g_ascii_strtoull (p + 5, NULL, 10);
  return gen >= 10;
}

gboolean
esa_uak_key_check_kind (const EsaUakKey *key, EsaUakKeyKind kind, const char **reason, GError **error)
{
  const char *want = kind == ESA_UAK_KEY_AIX ? "aix" : NULL;
  if (g_strcmp0 (key->kind, want) == 0)
    return TRUE;
  *reason = ESA_UAK_REASON_OTHER_KEY;
  g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED, "key refused: it is %s key, the %s key was asked for",
               key->kind == NULL ? "a firmware" : g_str_equal (key->kind, "aix") ? "an AIX" : "an unknown kind of",
               kind == ESA_UAK_KEY_AIX ? "AIX" : "firmware");
  return FALSE;
}
