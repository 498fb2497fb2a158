/* esa-proxy-auth.c: who may use the proxy. Passwords are stored as PBKDF2-SHA256
 * (gnutls_pbkdf2) so a leaked users file does not leak passwords. */
#include "config.h"

#include "esa-proxy-auth.h"

#include "esa-proxy-file.h"

#include <esa/esa-error.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#define HASH_PREFIX "$pbkdf2-sha256$"
#define SALT_LEN 16
#define KEY_LEN 32

struct _EsaProxyUsers {
  gatomicrefcount refcount;
  GHashTable *entries;  /* user -> encoded hash */
  GMutex lock;
  GHashTable *verified; /* hex SHA-256 of "user\0password" -> NULL */
};

typedef struct {
  guint iterations;
  GBytes *salt;
  GBytes *key;
} Pbkdf2Hash;

static void
pbkdf2_hash_clear (Pbkdf2Hash *h)
{
  g_clear_pointer (&h->salt, g_bytes_unref);
  g_clear_pointer (&h->key, g_bytes_unref);
}

static gboolean
decode_hash (const char *encoded, Pbkdf2Hash *out, GError **error)
{
  g_auto (GStrv) parts = NULL;
  guint64 iter = 0;
  gsize salt_len = 0;
  gsize key_len = 0;
  guchar *salt;
  guchar *key;

  if (!g_str_has_prefix (encoded, HASH_PREFIX))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "unsupported password hash (expected %s...)", HASH_PREFIX);
      return FALSE;
    }
  parts = g_strsplit (encoded + strlen (HASH_PREFIX), "$", -1);
  if (g_strv_length (parts) != 3 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 1000, 100000000, &iter, NULL))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "malformed password hash (expected %sITERATIONS$SALT$HASH, iterations >= 1000)",
                   HASH_PREFIX);
      return FALSE;
    }
  salt = g_base64_decode (parts[1], &salt_len);
  key = g_base64_decode (parts[2], &key_len);
  if (salt_len < 8 || key_len != KEY_LEN)
    {
      g_free (salt);
      g_free (key);
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "malformed password hash (bad salt or hash length)");
      return FALSE;
    }
  out->iterations = (guint) iter;
  out->salt = g_bytes_new_take (salt, salt_len);
  out->key = g_bytes_new_take (key, key_len);
  return TRUE;
}

static gboolean
derive (const char *password, const guint8 *salt, gsize salt_len, guint iterations, guint8 *key,
        GError **error)
{
  gnutls_datum_t pw = { (unsigned char *) password, (unsigned) strlen (password) };
  gnutls_datum_t s = { (unsigned char *) salt, (unsigned) salt_len };
  int rc = gnutls_pbkdf2 (GNUTLS_MAC_SHA256, &pw, &s, iterations, key, KEY_LEN);
  if (rc < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "PBKDF2 failed: %s", gnutls_strerror (rc));
      return FALSE;
    }
  return TRUE;
}

char *
esa_proxy_password_hash (const char *password, guint iterations, GError **error)
{
  guint8 salt[SALT_LEN];
  guint8 key[KEY_LEN];
  g_autofree char *salt64 = NULL;
  g_autofree char *key64 = NULL;
  int rc;

  rc = gnutls_rnd (GNUTLS_RND_RANDOM, salt, sizeof salt);
  if (rc < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "no random salt: %s", gnutls_strerror (rc));
      return NULL;
    }
  if (!derive (password, salt, sizeof salt, iterations, key, error))
    return NULL;
  salt64 = g_base64_encode (salt, sizeof salt);
  key64 = g_base64_encode (key, sizeof key);
  gnutls_memset (key, 0, sizeof key);
  return g_strdup_printf (HASH_PREFIX "%u$%s$%s", iterations, salt64, key64);
}

gboolean
esa_proxy_password_verify (const char *encoded, const char *password, gboolean *matches,
                           GError **error)
{
  Pbkdf2Hash h = { 0 };
  guint8 key[KEY_LEN];
  gsize salt_len;
  const guint8 *salt;

  if (!decode_hash (encoded, &h, error))
    return FALSE;
  salt = g_bytes_get_data (h.salt, &salt_len);
  if (!derive (password, salt, salt_len, h.iterations, key, error))
    {
      pbkdf2_hash_clear (&h);
      return FALSE;
    }
  *matches = gnutls_memcmp (key, g_bytes_get_data (h.key, NULL), KEY_LEN) == 0;
  gnutls_memset (key, 0, sizeof key);
  pbkdf2_hash_clear (&h);
  return TRUE;
}

EsaProxyUsers *
esa_proxy_users_load (const char *path, GError **error)
{
  g_autoptr (EsaProxyUsers) users = g_new0 (EsaProxyUsers, 1);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) local_error = NULL;

  g_atomic_ref_count_init (&users->refcount);
  g_mutex_init (&users->lock);
  users->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  users->verified = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* 16 MiB: some 100,000 users, far more than a site proxy has. */
  if ((text = esa_proxy_file_read (path, 16 * 1024 * 1024, &local_error)) == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s", local_error->message);
      return NULL;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *colon;
      Pbkdf2Hash h = { 0 };

      if (line[0] == '\0' || line[0] == '#')
        continue;
      colon = strchr (line, ':');
      if (colon == NULL || colon == line)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                       "%s:%u: expected user:$pbkdf2-sha256$... (made by esa-proxy --hash-password)",
                       path, i + 1);
          return NULL;
        }
      *colon = '\0';
      if (!decode_hash (colon + 1, &h, &local_error))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s:%u: user %s: %s", path,
                       i + 1, line, local_error->message);
          return NULL;
        }
      pbkdf2_hash_clear (&h);
      if (g_hash_table_contains (users->entries, line))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s:%u: user %s listed twice",
                       path, i + 1, line);
          return NULL;
        }
      g_hash_table_insert (users->entries, g_strdup (line), g_strdup (colon + 1));
    }
  return g_steal_pointer (&users);
}

EsaProxyUsers *
esa_proxy_users_ref (EsaProxyUsers *users)
{
  g_atomic_ref_count_inc (&users->refcount);
  return users;
}

void
esa_proxy_users_unref (EsaProxyUsers *users)
{
  if (users == NULL || !g_atomic_ref_count_dec (&users->refcount))
    return;
  g_hash_table_unref (users->entries);
  g_hash_table_unref (users->verified);
  g_mutex_clear (&users->lock);
  g_free (users);
}

guint
esa_proxy_users_size (EsaProxyUsers *users)
{
  return g_hash_table_size (users->entries);
}

gboolean
esa_proxy_auth_parse_basic (const char *value, char **user, char **password)
{
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  const char *b64;
  char *colon;

  if (g_ascii_strncasecmp (value, "Basic ", 6) != 0)
    return FALSE;
  b64 = value + 6;
  while (*b64 == ' ')
    b64++;
  if (*b64 == '\0' || strspn (b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
                          strlen (b64))
    return FALSE;
  raw = g_base64_decode (b64, &len);
  text = g_strndup ((const char *) raw, len);
  if (strlen (text) != len)
    return FALSE; /* embedded NUL */
  colon = strchr (text, ':');
  if (colon == NULL || colon == text)
    return FALSE;
  *colon = '\0';
  *user = g_strdup (text);
  *password = g_strdup (colon + 1);
  gnutls_memset (raw, 0, len);
  gnutls_memset (text, 0, len);
  return TRUE;
}

static char *
cache_key (const char *user, const char *password)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) user, (gssize) strlen (user) + 1);
  g_checksum_update (sum, (const guchar *) password, -1);
  return g_strdup (g_checksum_get_string (sum));
}

typedef struct {
  char *user;
  char *password;
  char *encoded;
  gboolean unknown; /* no such user: hash anyway, then say no */
} VerifyData;

/* Hashed for unknown users so that the answer takes as long as for a wrong password and
 * does not reveal which user names exist. */
#define DUMMY_HASH HASH_PREFIX "100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void
verify_data_free (VerifyData *d)
{
  g_free (d->user);
  if (d->password != NULL)
    gnutls_memset (d->password, 0, strlen (d->password));
  g_free (d->password);
  g_free (d->encoded);
  g_free (d);
}

static void
verify_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EsaProxyUsers *users = g_object_get_data (G_OBJECT (task), "users");
  VerifyData *d = task_data;
  gboolean matches = FALSE;
  GError *error = NULL;

  if (!esa_proxy_password_verify (d->encoded, d->password, &matches, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (d->unknown)
    {
      g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_AUTH, "unknown user %s", d->user);
      return;
    }
  if (!matches)
    {
      g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_AUTH, "wrong password for user %s",
                               d->user);
      return;
    }
  g_mutex_lock (&users->lock);
  g_hash_table_add (users->verified, cache_key (d->user, d->password));
  g_mutex_unlock (&users->lock);
  g_task_return_boolean (task, TRUE);
}

void
esa_proxy_users_verify_async (EsaProxyUsers *users, const char *user, const char *password,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  /* GTask wants a GObject source; the users table lives as long as the task holds a ref. */
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autofree char *key = cache_key (user, password);
  const char *encoded = g_hash_table_lookup (users->entries, user);
  gboolean cached;
  VerifyData *d;

  g_task_set_source_tag (task, esa_proxy_users_verify_async);
  g_mutex_lock (&users->lock);
  cached = g_hash_table_contains (users->verified, key);
  g_mutex_unlock (&users->lock);
  if (cached)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  d = g_new0 (VerifyData, 1);
  d->user = g_strdup (user);
  d->password = g_strdup (password);
  d->unknown = encoded == NULL;
  d->encoded = g_strdup (encoded != NULL ? encoded : DUMMY_HASH);
  g_task_set_task_data (task, d, (GDestroyNotify) verify_data_free);
  g_object_set_data_full (G_OBJECT (task), "users", esa_proxy_users_ref (users),
                          (GDestroyNotify) esa_proxy_users_unref);
  g_task_run_in_thread (task, verify_thread);
}

gboolean
esa_proxy_users_verify_finish (EsaProxyUsers *users, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
