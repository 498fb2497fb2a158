/* sdc-guard.c: slow clients cannot starve esa-sdc (issue 10, item 9).
 *
 * libsoup runs each TLS handshake of the server as a blocking handshake on GLib's
 * shared GTask thread pool (ten threads, growing by about ten a second when all are
 * busy). A client that opens connections and then sends nothing, or stops half-way
 * through the handshake, holds one of those threads per connection: 60 such
 * connections kept every other client waiting for up to 20 s.
 *
 * So a connection is "pending" from its acceptance until its first request head is in,
 * and "stalled" once it has been pending for a while (1-3 s, a third of the header
 * timeout) with the server waiting for the client (nothing unread on the socket; a real
 * client answers within milliseconds, or a few seconds on a machine it overloads). An
 * address may have only so many stalled connections: beyond that, its connections are
 * shut down as they stall, and new ones from it at once, so a burst of many real
 * clients behind one address (a NAT, a proxy) is not refused while a client that
 * stalls loses its threads within seconds. Every pending
 * connection must also reach its first head within the header timeout. shutdown(2),
 * not close, ends them: it also wakes a pool thread blocked in the handshake. Once
 * the first head is in, a connection holds no thread and is left alone. With more than
 * one HTTPS loop (sdc-loops.c), the counts per address are shared and locked; each
 * connection's timers run in the loop that accepted it. */
#include "config.h"

#include "sdc-guard.h"
#include "sdc-loops.h"

#include <stdio.h>

/* How long a connection may be pending before it counts as stalled: a third of the
 * header timeout, within these bounds. A real client may be slow to start its handshake
 * when it opens many connections at once on a loaded machine (its own handshake threads
 * queue too), so not less than a second, nor so long that stalled connections hold the
 * handshake threads for more than three. */
#define SDC_GUARD_GRACE_MIN_MS 1000
#define SDC_GUARD_GRACE_MAX_MS 3000
/* at most one log line per this many seconds for refusals and timeouts each */
#define SDC_GUARD_LOG_INTERVAL 10

struct _SdcGuard {
  gint ref_count;
  GMutex lock; /* the table and the log counters below */
  guint max_stalled;
  guint timeout_s;
  guint grace_ms;
  GHashTable *stalled; /* client address -> stalled connections of it */
  gint64 refused_logged_at;
  guint64 refused_unlogged;
  gint64 timeout_logged_at;
  guint64 timeout_unlogged;
};

/* attached to the GSocket while it is pending; released with it or once its head is in */
typedef struct {
  SdcGuard *guard;
  GSocket *sock; /* not a reference: the entry dies with the socket */
  char *addr;
  gboolean stalled;
  gint64 deadline; /* monotonic: the header timeout */
  GSource *timer;
} Pending;

static SdcGuard *
sdc_guard_ref (SdcGuard *guard)
{
  g_atomic_int_inc (&guard->ref_count);
  return guard;
}

void
sdc_guard_unref (SdcGuard *guard)
{
  if (guard == NULL || !g_atomic_int_dec_and_test (&guard->ref_count))
    return;
  g_hash_table_unref (guard->stalled);
  g_mutex_clear (&guard->lock);
  g_free (guard);
}

SdcGuard *
sdc_guard_new (guint max_stalled, guint timeout_s)
{
  SdcGuard *guard = g_new0 (SdcGuard, 1);
  guard->ref_count = 1;
  g_mutex_init (&guard->lock);
  guard->max_stalled = MAX (1, max_stalled);
  guard->timeout_s = MAX (1, timeout_s);
  guard->grace_ms = CLAMP (guard->timeout_s * 1000 / 3, SDC_GUARD_GRACE_MIN_MS, SDC_GUARD_GRACE_MAX_MS);
  guard->stalled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return guard;
}

static guint
stalled_count (SdcGuard *guard, const char *addr)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (guard->stalled, addr));
}

static void
stalled_add (SdcGuard *guard, const char *addr, int delta)
{
  guint n = stalled_count (guard, addr);
  if (delta < 0 && n <= 1)
    g_hash_table_remove (guard->stalled, addr);
  else
    g_hash_table_insert (guard->stalled, g_strdup (addr), GUINT_TO_POINTER (n + delta));
}

/* Counts an event and says so on stderr, at most every SDC_GUARD_LOG_INTERVAL seconds,
 * so a client opening thousands of connections cannot flood the log. */
static void
note (gint64 *logged_at, guint64 *unlogged, const char *what, const char *addr, const char *why)
{
  gint64 now = g_get_monotonic_time ();
  (*unlogged)++;
  if (*logged_at != 0 && now - *logged_at < SDC_GUARD_LOG_INTERVAL * G_USEC_PER_SEC)
    return;
  fprintf (stderr, "esa-sdc: %s %" G_GUINT64_FORMAT " connection(s) (the last from %s): %s\n", what, *unlogged,
           addr, why);
  fflush (stderr);
  *logged_at = now;
  *unlogged = 0;
}

static void
pending_free (gpointer data)
{
  Pending *p = data;
  if (p->stalled)
    {
      g_mutex_lock (&p->guard->lock);
      stalled_add (p->guard, p->addr, -1);
      g_mutex_unlock (&p->guard->lock);
    }
  sdc_timeout_clear (&p->timer);
  sdc_guard_unref (p->guard);
  g_free (p->addr);
  g_free (p);
}

/* with guard->lock held */
static void
refuse (SdcGuard *guard, GSocket *sock, const char *addr)
{
  note (&guard->refused_logged_at, &guard->refused_unlogged, "refused", addr,
        "too many connections from one address stalled in TLS handshake or request head "
        "(--max-pending-per-client)");
  g_socket_shutdown (sock, TRUE, TRUE, NULL);
}

/* Ends the watch of @p's connection (and frees @p): libsoup may keep the GSocket of a
 * connection that failed in its handshake, so its end cannot be left to the socket's
 * finalization. */
static void
pending_release (Pending *p)
{
  g_object_set_data (G_OBJECT (p->sock), "sdc-guard", NULL);
}

static gboolean
pending_expired_cb (gpointer data)
{
  Pending *p = data;
  sdc_timeout_clear (&p->timer);
  if (!g_socket_is_closed (p->sock))
    {
      g_mutex_lock (&p->guard->lock);
      note (&p->guard->timeout_logged_at, &p->guard->timeout_unlogged, "closed", p->addr,
            "TLS handshake or first request head not finished in time (--header-timeout)");
      g_mutex_unlock (&p->guard->lock);
      g_socket_shutdown (p->sock, TRUE, TRUE, NULL);
    }
  pending_release (p);
  return G_SOURCE_REMOVE;
}

static gboolean
pending_stalled_cb (gpointer data)
{
  Pending *p = data;
  gint64 left_ms = (p->deadline - g_get_monotonic_time ()) / 1000;
  sdc_timeout_clear (&p->timer);
  /* the client went away by itself */
  if (g_socket_is_closed (p->sock))
    {
      pending_release (p);
      return G_SOURCE_REMOVE;
    }
  /* bytes the server has not read yet: the wait is ours (every handshake thread busy),
   * not the client's */
  if (g_socket_condition_check (p->sock, G_IO_IN) != 0)
    {
      if (g_get_monotonic_time () >= p->deadline)
        return pending_expired_cb (p);
      p->timer = sdc_timeout_here (p->guard->grace_ms, pending_stalled_cb, p);
      return G_SOURCE_REMOVE;
    }
  g_mutex_lock (&p->guard->lock);
  if (stalled_count (p->guard, p->addr) >= p->guard->max_stalled)
    {
      refuse (p->guard, p->sock, p->addr);
      g_mutex_unlock (&p->guard->lock);
      pending_release (p);
      return G_SOURCE_REMOVE;
    }
  p->stalled = TRUE;
  stalled_add (p->guard, p->addr, 1);
  g_mutex_unlock (&p->guard->lock);
  p->timer = sdc_timeout_here ((guint) CLAMP (left_ms, 1, G_MAXINT), pending_expired_cb, p);
  return G_SOURCE_REMOVE;
}

void
sdc_guard_started (SdcGuard *guard, SoupServerMessage *msg)
{
  GSocket *sock = soup_server_message_get_socket (msg);
  const char *remote = soup_server_message_get_remote_host (msg);
  const char *addr = remote != NULL ? remote : "-";
  Pending *p;

  if (sock == NULL || g_object_get_data (G_OBJECT (sock), "sdc-guard-seen") != NULL)
    return;
  g_object_set_data (G_OBJECT (sock), "sdc-guard-seen", GINT_TO_POINTER (1));
  g_mutex_lock (&guard->lock);
  if (stalled_count (guard, addr) >= guard->max_stalled)
    {
      refuse (guard, sock, addr);
      g_mutex_unlock (&guard->lock);
      return;
    }
  g_mutex_unlock (&guard->lock);
  p = g_new0 (Pending, 1);
  p->guard = sdc_guard_ref (guard);
  p->sock = sock;
  p->addr = g_strdup (addr);
  p->deadline = g_get_monotonic_time () + (gint64) guard->timeout_s * G_USEC_PER_SEC;
  p->timer = sdc_timeout_here (MIN (guard->grace_ms, guard->timeout_s * 1000), pending_stalled_cb, p);
  g_object_set_data_full (G_OBJECT (sock), "sdc-guard", p, pending_free);
}

void
sdc_guard_head_done (SdcGuard *guard, SoupServerMessage *msg)
{
  GSocket *sock = soup_server_message_get_socket (msg);
  (void) guard;
  if (sock != NULL && g_object_get_data (G_OBJECT (sock), "sdc-guard") != NULL)
    g_object_set_data (G_OBJECT (sock), "sdc-guard", NULL);
}
