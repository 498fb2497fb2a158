/* sdc-idle.c: connections that libsoup 3.2 would keep after their end are ended and
 * freed (issue 11: esa-sdc kept about 24 KB for every keep-alive connection closed).
 *
 * libsoup 3.2 reads the next request of a kept-alive connection without anyone to tell
 * when it fails: a client that closes the connection while it is idle leaves it open
 * (CLOSE-WAIT, one fd) and listed in the SoupServer, with its TLS connection and GnuTLS
 * session, for the life of the process (fixed upstream in 3.3.0, "Don't leak idle
 * connections closed by the client"). Closing the socket, as esa-sdc did first, gave the
 * fd back but left the rest: about 24 KB a connection, 6.6 MB a bench run.
 *
 * The only way to make the SoupServer drop a connection is the connection's own
 * "disconnected" signal, and SoupServerConnection is not public. So every accepted one
 * is followed from SoupListener::new-connection (an emission hook: the listeners are
 * libsoup's too); its GSocket (the "socket" property) carries a weak reference to it.
 * Between a finished request and the next one the socket is watched; end of stream
 * there emits "disconnected": the server lets go of the connection, which closes its
 * TLS stream and socket as it is freed. A connection with a request under way is
 * never ended this way (the request's own failure ends it, as libsoup does itself), so
 * libsoup never sees one connection end twice.
 *
 * libsoup 3.2 also keeps the GSocket of every accepted connection (SoupListener takes
 * it from g_socket_accept and never drops that reference; later versions drop it
 * before announcing the connection): a few hundred bytes a connection, closed or not.
 * That reference is dropped here, on libsoup 3.2 only and only when the count of
 * references shows it (see drop_listener_ref).
 *
 * And a connection whose client goes away before or during the TLS handshake (a port
 * probe, a client refusing the certificate): libsoup 3.2 makes its first message before
 * the handshake and, when the handshake fails, keeps it in the connection while it holds
 * the connection, so neither is ever freed (about 24 KB with the TLS connection;
 * upstream drops the message when the connection ends). That reference is dropped here
 * when the connection ends, libsoup 3.2 only, when the message is alive and has no
 * other reference (see drop_first_message). */
#include "config.h"

#include "sdc-idle.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#define SDC_IDLE_CONN "sdc-idle-conn"
#define SDC_IDLE_WATCH "sdc-idle-watch"
#define SDC_IDLE_FIRST "sdc-idle-first"
#define SDC_IDLE_FIRST_SEEN "sdc-idle-first-seen"
#define SDC_IDLE_CONNECTED "sdc-idle-connected"

static gsize accepted; /* atomic: every HTTPS loop (sdc-loops.c) accepts */
/* atomic: the last reference to a socket may go in a TLS handshake thread */
static gint held;
static gint sockets_held;
/* signalled as sockets go, for sdc_idle_settle */
static GMutex freed_lock;
static GCond freed_cond;

static void
conn_freed_cb (gpointer data, GObject *where_the_object_was)
{
  (void) data;
  (void) where_the_object_was;
  g_atomic_int_add (&held, -1);
}

static void
socket_freed_cb (gpointer data, GObject *where_the_object_was)
{
  (void) data;
  (void) where_the_object_was;
  g_atomic_int_add (&sockets_held, -1);
  g_mutex_lock (&freed_lock);
  g_cond_broadcast (&freed_cond);
  g_mutex_unlock (&freed_lock);
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

static gboolean
is_libsoup_3_2 (void)
{
  return soup_get_major_version () == 3 && soup_get_minor_version () == 2;
}

/* A connection that never finished its TLS handshake ("connected" never came): libsoup
 * 3.2 still holds its first message, by the only reference besides ours, and will never
 * drop it; a later libsoup drops it before saying the connection ended. Once connected,
 * the first message belongs to the request reading (which may still hold it while the
 * connection ends) and is left alone. */
static void
drop_first_message (GSocket *sock)
{
  GWeakRef *ref = g_object_get_data (G_OBJECT (sock), SDC_IDLE_FIRST);
  g_autoptr (GObject) msg = NULL;
  if (ref == NULL || g_object_get_data (G_OBJECT (sock), SDC_IDLE_CONNECTED) != NULL || !is_libsoup_3_2 ())
    return;
  msg = g_weak_ref_get (ref);
  if (msg == NULL || g_atomic_int_get ((gint *) &msg->ref_count) != 2)
    return;
  g_object_set_data (G_OBJECT (sock), SDC_IDLE_FIRST, NULL);
  g_object_unref (msg);
}

static GQuark
watch_quark (void)
{
  static gsize q; /* every HTTPS loop (sdc-loops.c) asks */
  if (g_once_init_enter (&q))
    g_once_init_leave (&q, g_quark_from_static_string (SDC_IDLE_WATCH));
  return (GQuark) q;
}

static void
forget_watch (GSocket *sock)
{
  g_object_set_qdata (G_OBJECT (sock), watch_quark (), NULL);
}

/* libsoup ended the connection (an error, Connection: close, a failed handshake,
 * shutdown, or end_connection): the watch, and the socket reference it holds, go with it */
static void
conn_disconnected_cb (GObject *conn, gpointer sock)
{
  (void) conn;
  forget_watch (sock);
  drop_first_message (sock);
}

/* On libsoup 3.2, while SoupListener::new-connection is emitted, @sock has three
 * references: the listener's own (never dropped), the connection's and the one
 * new_connection_hook took. A later libsoup drops its own before the signal (two
 * left), so the count tells, and the version check keeps this to the code read. */
static void
drop_listener_ref (GSocket *sock)
{
  if (is_libsoup_3_2 () &&
      g_atomic_int_get ((gint *) &G_OBJECT (sock)->ref_count) == 3)
    g_object_unref (sock);
}

static void
conn_connected_cb (GObject *conn, gpointer sock)
{
  (void) conn;
  g_object_set_data (G_OBJECT (sock), SDC_IDLE_CONNECTED, GINT_TO_POINTER (1));
}

static gboolean
new_connection_hook (GSignalInvocationHint *ihint, guint n_params, const GValue *params, gpointer data)
{
  GObject *conn;
  g_autoptr (GSocket) sock = NULL;
  GWeakRef *ref;

  (void) ihint;
  (void) data;
  if (n_params < 2 || !G_VALUE_HOLDS_OBJECT (&params[1]))
    return TRUE;
  conn = g_value_get_object (&params[1]);
  if (conn == NULL || g_object_class_find_property (G_OBJECT_GET_CLASS (conn), "socket") == NULL)
    return TRUE;
  g_object_get (conn, "socket", &sock, NULL);
  g_atomic_pointer_add (&accepted, 1);
  g_atomic_int_inc (&held);
  g_object_weak_ref (conn, conn_freed_cb, NULL);
  if (sock == NULL)
    return TRUE;
  drop_listener_ref (sock);
  g_atomic_int_inc (&sockets_held);
  g_object_weak_ref (G_OBJECT (sock), socket_freed_cb, NULL);
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, conn);
  g_object_set_data_full (G_OBJECT (sock), SDC_IDLE_CONN, ref, weak_ref_free);
  g_signal_connect_object (conn, "connected", G_CALLBACK (conn_connected_cb), sock, 0);
  g_signal_connect_object (conn, "disconnected", G_CALLBACK (conn_disconnected_cb), sock, 0);
  return TRUE;
}

void
sdc_idle_track (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      GType listener = g_type_from_name ("SoupListener");
      guint id = listener != 0 ? g_signal_lookup ("new-connection", listener) : 0;
      if (id != 0)
        g_signal_add_emission_hook (id, 0, new_connection_hook, NULL, NULL);
      else
        g_printerr ("esa-sdc: warning: this libsoup has no SoupListener::new-connection: "
                    "closed keep-alive connections are not freed\n");
      g_once_init_leave (&once, 1);
    }
}

/* Ends the connection of @sock as libsoup would: the server drops it from its list and
 * its last reference, which closes the TLS stream and the socket. Without a connection
 * to end (not followed), the socket is closed, which at least gives the fd back. */
static void
end_connection (GSocket *sock)
{
  GWeakRef *ref = g_object_get_data (G_OBJECT (sock), SDC_IDLE_CONN);
  g_autoptr (GObject) conn = ref != NULL ? g_weak_ref_get (ref) : NULL;
  if (conn != NULL)
    g_signal_emit_by_name (conn, "disconnected");
  else
    g_socket_close (sock, NULL);
}

/* One watch per connection, made after its first request and kept until it ends: a
 * GSource made and dropped around every request cost a poll record added and removed
 * each time (and GLib signals its wakeup eventfd for each), about 2.3 write(2) calls a
 * request under bench/fleet. It polls for end of stream only (POLLRDHUP: the client
 * shut down its side; errors and hang-ups always come), so the next request's bytes
 * never wake it and a request under way costs a flag. */
typedef struct {
  GSource source;
  GSocket *sock;
  gpointer tag; /* the fd's poll record; NULL while left out (see idle_watch_dispatch) */
  gboolean busy; /* a request is under way (request-started to -finished) */
} IdleWatch;

#ifdef POLLRDHUP
#define SDC_IDLE_EVENTS ((GIOCondition) (POLLRDHUP | G_IO_HUP | G_IO_ERR))
#else
#define SDC_IDLE_EVENTS (G_IO_IN | G_IO_HUP | G_IO_ERR)
#endif

/* The connection is idle: libsoup (at default priority, before this watch) reads what
 * arrives first. Data it leaves is either a request, which makes the connection busy
 * through request-started, or a TLS close_notify before end of stream: watched on. End
 * of stream or an error ends the connection. While a request is under way the
 * connection is never ended here (the request's own failure ends it, as libsoup does
 * itself); the fd leaves the poll set until the request ends, so a hang-up that stays
 * pending does not wake the loop again and again. */
static gboolean
idle_watch_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  IdleWatch *w = (IdleWatch *) source;
  GSocket *sock = w->sock;
  GIOCondition cond = w->tag != NULL ? g_source_query_unix_fd (source, w->tag) : 0;
  char byte;
  gssize n;
  (void) callback;
  (void) user_data;
  if (g_socket_is_closed (sock))
    {
      forget_watch (sock);
      return G_SOURCE_REMOVE;
    }
  if (w->busy)
    {
      if (w->tag != NULL)
        g_source_remove_unix_fd (source, w->tag);
      w->tag = NULL;
      return G_SOURCE_CONTINUE;
    }
  n = recv (g_socket_get_fd (sock), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n > 0 && (cond & (G_IO_HUP | G_IO_ERR | G_IO_NVAL)) == 0)
    return G_SOURCE_CONTINUE;
  g_object_ref (sock);
  end_connection (sock);
  forget_watch (sock);
  g_object_unref (sock);
  return G_SOURCE_REMOVE;
}

static void
idle_watch_finalize (GSource *source)
{
  g_object_unref (((IdleWatch *) source)->sock);
}

static GSourceFuncs idle_watch_funcs = {
  .dispatch = idle_watch_dispatch,
  .finalize = idle_watch_finalize,
};

void
sdc_idle_watch (SoupServerMessage *msg)
{
  GSocket *sock = soup_server_message_get_socket (msg);
  IdleWatch *w;
  if (sock == NULL || g_socket_is_closed (sock))
    return;
  w = g_object_get_qdata (G_OBJECT (sock), watch_quark ());
  if (w != NULL)
    {
      w->busy = FALSE;
      if (w->tag == NULL)
        w->tag = g_source_add_unix_fd (&w->source, g_socket_get_fd (sock), SDC_IDLE_EVENTS);
      return;
    }
  w = (IdleWatch *) g_source_new (&idle_watch_funcs, sizeof (IdleWatch));
  w->sock = g_object_ref (sock);
  w->tag = g_source_add_unix_fd (&w->source, g_socket_get_fd (sock), SDC_IDLE_EVENTS);
  /* after libsoup's own reader, which gets the next request's bytes first */
  g_source_set_priority (&w->source, G_PRIORITY_LOW);
  g_source_set_static_name (&w->source, "[sdc-idle] end of stream");
  g_object_set_qdata_full (G_OBJECT (sock), watch_quark (), w, (GDestroyNotify) g_source_destroy);
  /* the loop that accepted the connection, which is the one running this */
  g_source_attach (&w->source, g_main_context_get_thread_default ());
  g_source_unref (&w->source);
}

void
sdc_idle_unwatch (SoupServerMessage *msg)
{
  GSocket *sock = soup_server_message_get_socket (msg);
  IdleWatch *w;
  if (sock == NULL)
    return;
  w = g_object_get_qdata (G_OBJECT (sock), watch_quark ());
  if (w != NULL)
    {
      /* a connection with a watch had its first request: nothing more to note */
      w->busy = TRUE;
      return;
    }
  /* the first message of a followed connection: made before its TLS handshake */
  if (g_object_get_data (G_OBJECT (sock), SDC_IDLE_CONN) != NULL &&
      g_object_get_data (G_OBJECT (sock), SDC_IDLE_FIRST) == NULL &&
      g_object_get_data (G_OBJECT (sock), SDC_IDLE_FIRST_SEEN) == NULL)
    {
      GWeakRef *ref = g_new0 (GWeakRef, 1);
      g_weak_ref_init (ref, msg);
      g_object_set_data_full (G_OBJECT (sock), SDC_IDLE_FIRST, ref, weak_ref_free);
      g_object_set_data (G_OBJECT (sock), SDC_IDLE_FIRST_SEEN, GINT_TO_POINTER (1));
    }
}

guint64
sdc_idle_accepted (void)
{
  return (guint64) g_atomic_pointer_get (&accepted);
}

guint
sdc_idle_held (void)
{
  return (guint) g_atomic_int_get (&held);
}

guint
sdc_idle_sockets_held (void)
{
  return (guint) g_atomic_int_get (&sockets_held);
}

/* A connection's TLS stream may outlive it for a moment in a glib-networking thread,
 * which then drops the last reference to its GSocket (closed already): seen under load,
 * a socket freed 10 ms after its connection. Bounded: a socket really kept is counted. */
void
sdc_idle_settle (guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&freed_lock);
  while (g_atomic_int_get (&sockets_held) > g_atomic_int_get (&held) &&
         g_cond_wait_until (&freed_cond, &freed_lock, end))
    ;
  g_mutex_unlock (&freed_lock);
}
