/* sdc-auth.c: system credentials.
 *
 * The password handed out at registration is 32 random alphanumerics (~190 bits), so it
 * cannot be guessed; it is still stored only as a salted PBKDF2-SHA256 hash so that a
 * copy of sdc.db does not hand out every system's credentials. */
#include "config.h"

#include "sdc-auth.h"
#include "sdc-error.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

/* A deliberate trade: each authenticated request pays for one PBKDF2 on the main loop. */
#define SDC_AUTH_ITERATIONS 20000
#define SDC_AUTH_SALT_LEN 16
#define SDC_AUTH_HASH_LEN 32

void
sdc_password_hash_free (SdcPasswordHash *h)
{
  if (h == NULL)
    return;
  g_free (h->salt_hex);
  g_free (h->hash_hex);
  g_free (h);
}

static char *
hex_encode (const guint8 *buf, gsize len)
{
  GString *s = g_string_sized_new (len * 2);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", buf[i]);
  return g_string_free (s, FALSE);
}

static gboolean
hex_decode (const char *hex, guint8 *buf, gsize len)
{
  if (hex == NULL || strlen (hex) != len * 2)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return FALSE;
      buf[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

char *
sdc_auth_new_system_id (void)
{
  guint8 buf[8];
  g_autofree char *hex = NULL;
  if (gnutls_rnd (GNUTLS_RND_NONCE, buf, sizeof (buf)) < 0)
    return NULL;
  hex = hex_encode (buf, sizeof (buf));
  return g_strconcat ("ESA-", hex, NULL);
}

char *
sdc_auth_new_password (void)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  char *pw = g_malloc0 (SDC_AUTH_PASSWORD_LEN + 1);
  guint i = 0;
  /* rejection sampling keeps every character equally likely */
  while (i < SDC_AUTH_PASSWORD_LEN)
    {
      guint8 b;
      if (gnutls_rnd (GNUTLS_RND_KEY, &b, 1) < 0)
        {
          g_free (pw);
          return NULL;
        }
      if (b >= 248) /* 248 = 4 * 62 */
        continue;
      pw[i++] = alphabet[b % 62];
    }
  return pw;
}

static gboolean
pbkdf2 (const char *password, const guint8 *salt, gsize salt_len, guint iterations, guint8 *out)
{
  gnutls_datum_t key = { (unsigned char *) password, (unsigned) strlen (password) };
  gnutls_datum_t s = { (unsigned char *) salt, (unsigned) salt_len };
  return gnutls_pbkdf2 (GNUTLS_MAC_SHA256, &key, &s, iterations, out, SDC_AUTH_HASH_LEN) >= 0;
}

SdcPasswordHash *
sdc_auth_hash_password (const char *password, GError **error)
{
  guint8 salt[SDC_AUTH_SALT_LEN];
  guint8 hash[SDC_AUTH_HASH_LEN];
  SdcPasswordHash *h;
  if (gnutls_rnd (GNUTLS_RND_NONCE, salt, sizeof (salt)) < 0 ||
      !pbkdf2 (password, salt, sizeof (salt), SDC_AUTH_ITERATIONS, hash))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INTERNAL, "PBKDF2 failed");
      return NULL;
    }
  h = g_new0 (SdcPasswordHash, 1);
  h->salt_hex = hex_encode (salt, sizeof (salt));
  h->hash_hex = hex_encode (hash, sizeof (hash));
  h->iterations = SDC_AUTH_ITERATIONS;
  return h;
}

gboolean
sdc_auth_verify (const char *password, const char *salt_hex, const char *hash_hex, guint iterations)
{
  guint8 salt[SDC_AUTH_SALT_LEN];
  guint8 want[SDC_AUTH_HASH_LEN];
  guint8 got[SDC_AUTH_HASH_LEN];
  guint8 diff = 0;
  if (password == NULL || iterations == 0 || iterations > 10000000 ||
      !hex_decode (salt_hex, salt, sizeof (salt)) || !hex_decode (hash_hex, want, sizeof (want)) ||
      !pbkdf2 (password, salt, sizeof (salt), iterations, got))
    return FALSE;
  /* constant time, so the comparison leaks nothing about the stored hash */
  for (gsize i = 0; i < sizeof (want); i++)
    diff |= want[i] ^ got[i];
  return diff == 0;
}

gboolean
sdc_auth_parse_basic (const char *header, char **user, char **password)
{
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  const char *colon;
  const char *p;

  if (header == NULL || g_ascii_strncasecmp (header, "Basic ", 6) != 0)
    return FALSE;
  p = header + 6;
  while (*p == ' ')
    p++;
  if (*p == '\0' || strlen (p) > 1024)
    return FALSE;
  for (const char *c = p; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '+' && *c != '/' && *c != '=')
      return FALSE;
  raw = g_base64_decode (p, &len);
  if (raw == NULL || len == 0 || memchr (raw, '\0', len) != NULL)
    return FALSE;
  text = g_strndup ((const char *) raw, len);
  colon = strchr (text, ':');
  if (colon == NULL || colon == text)
    return FALSE;
  *user = g_strndup (text, colon - text);
  *password = g_strdup (colon + 1);
  return TRUE;
}
