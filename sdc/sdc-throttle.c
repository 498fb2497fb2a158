/* sdc-throttle.c: fixed-window failure counting.
 *
 * A wrong password costs the server a full PBKDF2, so an address (or a system id,
 * attacked from many addresses) that keeps failing is told to wait instead of being
 * allowed to burn CPU. The table is bounded: when full, windows that ended are dropped,
 * and if that is not enough the whole table is reset (memory stays bounded; the worst
 * case is that an attacker's count starts again). Locked: every HTTPS loop
 * (sdc-loops.c) counts into the same table, so more loops give an attacker no more tries. */
#include "config.h"

#include "sdc-throttle.h"

typedef struct {
  gint64 window_start; /* monotonic µs */
  guint failures;
} Counter;

struct _SdcThrottle {
  GMutex lock;
  GHashTable *keys;
  guint limit;
  gint64 window_us;
  guint max_keys;
};

SdcThrottle *
sdc_throttle_new (guint limit, guint window_seconds, guint max_keys)
{
  SdcThrottle *t = g_new0 (SdcThrottle, 1);
  g_mutex_init (&t->lock);
  t->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  t->limit = limit;
  t->window_us = (gint64) window_seconds * G_USEC_PER_SEC;
  t->max_keys = max_keys;
  return t;
}

void
sdc_throttle_free (SdcThrottle *t)
{
  if (t == NULL)
    return;
  g_hash_table_unref (t->keys);
  g_mutex_clear (&t->lock);
  g_free (t);
}

static Counter *
current (SdcThrottle *t, const char *key, gint64 now)
{
  Counter *c = g_hash_table_lookup (t->keys, key);
  if (c != NULL && now - c->window_start >= t->window_us)
    {
      g_hash_table_remove (t->keys, key);
      c = NULL;
    }
  return c;
}

gboolean
sdc_throttle_blocked (SdcThrottle *t, const char *key, guint *retry_after)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&t->lock);
  gint64 now = g_get_monotonic_time ();
  Counter *c = current (t, key, now);
  gint64 left;
  if (c == NULL || c->failures < t->limit)
    return FALSE;
  left = c->window_start + t->window_us - now;
  *retry_after = (guint) MAX (1, (left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
  return TRUE;
}

static gboolean
window_over (gpointer key, gpointer value, gpointer data)
{
  SdcThrottle *t = data;
  return g_get_monotonic_time () - ((Counter *) value)->window_start >= t->window_us;
}

void
sdc_throttle_fail (SdcThrottle *t, const char *key)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&t->lock);
  gint64 now = g_get_monotonic_time ();
  Counter *c = current (t, key, now);
  if (c == NULL)
    {
      if (g_hash_table_size (t->keys) >= t->max_keys)
        {
          g_hash_table_foreach_remove (t->keys, window_over, t);
          if (g_hash_table_size (t->keys) >= t->max_keys)
            g_hash_table_remove_all (t->keys);
        }
      c = g_new0 (Counter, 1);
      c->window_start = now;
      g_hash_table_insert (t->keys, g_strdup (key), c);
    }
  c->failures++;
}

void
sdc_throttle_reset (SdcThrottle *t, const char *key)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&t->lock);
  g_hash_table_remove (t->keys, key);
}
