/* sdc-auth-cache.c: the verified-credential cache.
 *
 * What is kept is not the password but HMAC-SHA256(secret, system id NUL password) with
 * a secret drawn at start and never written anywhere, so a memory dump does not hand out
 * passwords and an entry cannot be forged without the secret. A lookup recomputes the
 * HMAC and compares in constant time. Entries expire after a TTL (another instance may
 * have changed the password in the shared database) and the table is bounded: when it is
 * full, expired entries go first, then arbitrary ones (a miss costs one PBKDF2, never a
 * wrong answer). */
#include "config.h"

#include "sdc-auth-cache.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#define MAC_LEN 32

typedef struct {
  guint8 mac[MAC_LEN];
  gint64 expires; /* monotonic, µs */
} Entry;

struct _SdcAuthCache {
  GMutex lock;
  GHashTable *entries; /* system id -> Entry */
  guint8 secret[32];
  /* the HMAC already keyed with the secret: each lookup copies it rather than keying
   * a new one (the key schedule was half of a lookup's cost); NULL when the crypto
   * back end cannot copy one */
  gnutls_hmac_hd_t keyed;
  guint max_entries;
  gint64 ttl_us;
};

SdcAuthCache *
sdc_auth_cache_new (guint max_entries, guint ttl_seconds)
{
  SdcAuthCache *cache = g_new0 (SdcAuthCache, 1);
  g_mutex_init (&cache->lock);
  cache->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (gnutls_rnd (GNUTLS_RND_KEY, cache->secret, sizeof (cache->secret)) < 0)
    max_entries = 0; /* no secret, no cache: every request pays PBKDF2 */
#if GNUTLS_VERSION_NUMBER >= 0x030609 /* gnutls_hmac_copy; the AIX Toolbox may have an older 3.6 */
  else if (gnutls_hmac_init (&cache->keyed, GNUTLS_MAC_SHA256, cache->secret, sizeof (cache->secret)) < 0)
    cache->keyed = NULL;
#endif
  cache->max_entries = max_entries;
  cache->ttl_us = (gint64) ttl_seconds * G_USEC_PER_SEC;
  return cache;
}

void
sdc_auth_cache_free (SdcAuthCache *cache)
{
  if (cache == NULL)
    return;
  g_hash_table_unref (cache->entries);
  if (cache->keyed != NULL)
    gnutls_hmac_deinit (cache->keyed, NULL);
  g_mutex_clear (&cache->lock);
  memset (cache->secret, 0, sizeof (cache->secret));
  g_free (cache);
}

static gboolean
compute_mac (SdcAuthCache *cache, const char *system_id, const char *password, guint8 *out)
{
  /* the id with its NUL, then the password: no id/password pair reads as another */
  gsize id_len = strlen (system_id) + 1;
  gsize pw_len = strlen (password);
#if GNUTLS_VERSION_NUMBER >= 0x030609
  gnutls_hmac_hd_t h = cache->keyed != NULL ? gnutls_hmac_copy (cache->keyed) : NULL;
#else
  gnutls_hmac_hd_t h = NULL;
#endif
  g_autofree guint8 *msg = NULL;
  gboolean ok;

  if (h != NULL)
    {
      ok = gnutls_hmac (h, system_id, id_len) >= 0 && gnutls_hmac (h, password, pw_len) >= 0;
      gnutls_hmac_deinit (h, out);
      return ok;
    }
  msg = g_malloc (id_len + pw_len);
  memcpy (msg, system_id, id_len);
  memcpy (msg + id_len, password, pw_len);
  ok = gnutls_hmac_fast (GNUTLS_MAC_SHA256, cache->secret, sizeof (cache->secret), msg, id_len + pw_len, out) >= 0;
  memset (msg, 0, id_len + pw_len);
  return ok;
}

gboolean
sdc_auth_cache_check (SdcAuthCache *cache, const char *system_id, const char *password)
{
  guint8 mac[MAC_LEN];
  guint8 diff = 0;
  Entry *e;
  g_autoptr (GMutexLocker) locker = NULL;

  if (cache->max_entries == 0 || !compute_mac (cache, system_id, password, mac))
    return FALSE;
  locker = g_mutex_locker_new (&cache->lock);
  e = g_hash_table_lookup (cache->entries, system_id);
  if (e == NULL)
    return FALSE;
  if (e->expires <= g_get_monotonic_time ())
    {
      g_hash_table_remove (cache->entries, system_id);
      return FALSE;
    }
  for (guint i = 0; i < MAC_LEN; i++)
    diff |= e->mac[i] ^ mac[i];
  return diff == 0;
}

static gboolean
is_expired (gpointer key, gpointer value, gpointer now)
{
  return ((Entry *) value)->expires <= *(gint64 *) now;
}

void
sdc_auth_cache_remember (SdcAuthCache *cache, const char *system_id, const char *password)
{
  Entry *e = g_new0 (Entry, 1);
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GMutexLocker) locker = NULL;

  if (cache->max_entries == 0 || !compute_mac (cache, system_id, password, e->mac))
    {
      g_free (e);
      return;
    }
  e->expires = now + cache->ttl_us;
  locker = g_mutex_locker_new (&cache->lock);
  if (g_hash_table_size (cache->entries) >= cache->max_entries &&
      !g_hash_table_contains (cache->entries, system_id))
    {
      GHashTableIter iter;
      gpointer key;
      g_hash_table_foreach_remove (cache->entries, is_expired, &now);
      g_hash_table_iter_init (&iter, cache->entries);
      /* still full: drop some entry; its owner pays one PBKDF2 next time */
      while (g_hash_table_size (cache->entries) >= cache->max_entries &&
             g_hash_table_iter_next (&iter, &key, NULL))
        g_hash_table_iter_remove (&iter);
    }
  g_hash_table_replace (cache->entries, g_strdup (system_id), e);
}

void
sdc_auth_cache_forget (SdcAuthCache *cache, const char *system_id)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cache->lock);
  g_hash_table_remove (cache->entries, system_id);
}

guint
sdc_auth_cache_size (SdcAuthCache *cache)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cache->lock);
  return g_hash_table_size (cache->entries);
}
