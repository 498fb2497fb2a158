/* esa-proxy-tunnel.c: the byte pump behind CONNECT.
 *
 * One GSource per tunnel watches both sockets. Data is read into one buffer shared by the
 * whole process (we are single-threaded) and written straight on; only what the other side
 * cannot take right now is copied into a per-direction buffer, and reading that direction
 * stops until it drains. So an idle tunnel holds no buffer at all, which is what lets a
 * small host keep thousands of tunnels open, and a busy one does no extra copy. */
#include "config.h"

#include "esa-proxy-tunnel.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SIGPIPE is ignored by main () where this is missing (AIX) */
#endif

#define SCRATCH_SIZE (128 * 1024)
/* Reads per wakeup and direction, so one fast tunnel cannot starve the others. */
#define MAX_READS 8

enum { SIDE_CLIENT, SIDE_SERVER };

typedef struct {
  int from;     /* fd read */
  int to;       /* fd written */
  guint8 *pend; /* bytes read but not yet written */
  gsize pend_len;
  gsize pend_off;
  gboolean eof;      /* read side reached EOF */
  gboolean shut;     /* EOF passed on (shutdown of the write side) */
  gboolean discard;  /* read and drop */
  guint64 bytes;
} Direction;

typedef struct {
  GSource source;
  EsaProxyTunnel *tunnel;
} TunnelSource;

struct _EsaProxyTunnel {
  GSocket *sock[2];
  int fd[2];
  gpointer tag[2];
  GIOCondition events[2];
  Direction dir[2]; /* ESA_PROXY_TUNNEL_UP, ESA_PROXY_TUNNEL_DOWN */
  GSource *source;
  gint64 idle_us;
  gint64 last_activity;
  gboolean discard_up;
  gboolean finished;
  EsaProxyTunnelDone done;
  gpointer user_data;
};

static guint8 scratch[SCRATCH_SIZE];

static gboolean tunnel_dispatch (GSource *source, GSourceFunc callback, gpointer user_data);

static GSourceFuncs tunnel_source_funcs = {
  NULL, NULL, tunnel_dispatch, NULL, NULL, NULL,
};

EsaProxyTunnel *
esa_proxy_tunnel_new (GSocket *client, GSocket *server, guint idle_timeout, gboolean discard_up)
{
  EsaProxyTunnel *t = g_new0 (EsaProxyTunnel, 1);
  t->sock[SIDE_CLIENT] = g_object_ref (client);
  t->sock[SIDE_SERVER] = g_object_ref (server);
  t->fd[SIDE_CLIENT] = g_socket_get_fd (client);
  t->fd[SIDE_SERVER] = g_socket_get_fd (server);
  t->dir[ESA_PROXY_TUNNEL_UP].from = t->fd[SIDE_CLIENT];
  t->dir[ESA_PROXY_TUNNEL_UP].to = t->fd[SIDE_SERVER];
  t->dir[ESA_PROXY_TUNNEL_UP].discard = discard_up;
  t->dir[ESA_PROXY_TUNNEL_DOWN].from = t->fd[SIDE_SERVER];
  t->dir[ESA_PROXY_TUNNEL_DOWN].to = t->fd[SIDE_CLIENT];
  t->idle_us = (gint64) idle_timeout * G_USEC_PER_SEC;
  t->discard_up = discard_up;
  return t;
}

void
esa_proxy_tunnel_queue (EsaProxyTunnel *t, EsaProxyTunnelDirection direction, const void *data,
                        gsize len)
{
  Direction *d = &t->dir[direction];
  guint8 *buf;
  gsize have = d->pend_len - d->pend_off;

  if (len == 0)
    return;
  buf = g_malloc (have + len);
  if (have > 0)
    memcpy (buf, d->pend + d->pend_off, have);
  memcpy (buf + have, data, len);
  g_free (d->pend);
  d->pend = buf;
  d->pend_len = have + len;
  d->pend_off = 0;
}

guint64
esa_proxy_tunnel_get_bytes (EsaProxyTunnel *t, EsaProxyTunnelDirection direction)
{
  return t->dir[direction].bytes;
}

void
esa_proxy_tunnel_free (EsaProxyTunnel *t)
{
  if (t == NULL)
    return;
  if (t->source != NULL)
    {
      g_source_destroy (t->source);
      g_source_unref (t->source);
    }
  for (int i = 0; i < 2; i++)
    {
      g_free (t->dir[i].pend);
      g_object_unref (t->sock[i]);
    }
  g_free (t);
}

/* A socket nobody wants to hear from is not polled at all: poll () would keep reporting
 * HUP on it and spin the loop. */
static void
set_events (EsaProxyTunnel *t, int side, GIOCondition events)
{
  if (events == t->events[side] && (events == 0) == (t->tag[side] == NULL))
    return;
  t->events[side] = events;
  if (events == 0)
    {
      if (t->tag[side] != NULL)
        g_source_remove_unix_fd (t->source, t->tag[side]);
      t->tag[side] = NULL;
    }
  else if (t->tag[side] == NULL)
    t->tag[side] = g_source_add_unix_fd (t->source, t->fd[side], events);
  else
    g_source_modify_unix_fd (t->source, t->tag[side], events);
}

static void
update_events (EsaProxyTunnel *t)
{
  Direction *up = &t->dir[ESA_PROXY_TUNNEL_UP];
  Direction *down = &t->dir[ESA_PROXY_TUNNEL_DOWN];
  GIOCondition c = 0;
  GIOCondition s = 0;

  if (!up->eof && up->pend == NULL)
    c |= G_IO_IN;
  if (down->pend != NULL)
    c |= G_IO_OUT;
  if (!down->eof && down->pend == NULL)
    s |= G_IO_IN;
  if (up->pend != NULL)
    s |= G_IO_OUT;
  set_events (t, SIDE_CLIENT, c);
  set_events (t, SIDE_SERVER, s);
}

static void
finish (EsaProxyTunnel *t, const char *result, const char *reason)
{
  if (t->finished)
    return;
  t->finished = TRUE;
  g_source_destroy (t->source);
  t->done (t, result, reason, t->user_data);
}

static void
pass_eof (Direction *d)
{
  if (d->eof && d->pend == NULL && !d->shut && !d->discard)
    {
      shutdown (d->to, SHUT_WR);
      d->shut = TRUE;
    }
}

/* Writes what is pending; FALSE on a hard error (errno set). */
static gboolean
flush_pending (EsaProxyTunnel *t, Direction *d)
{
  while (d->pend != NULL)
    {
      gssize n = send (d->to, d->pend + d->pend_off, d->pend_len - d->pend_off,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return errno == EAGAIN || errno == EWOULDBLOCK;
        }
      t->last_activity = g_get_monotonic_time ();
      d->pend_off += (gsize) n;
      if (d->pend_off == d->pend_len)
        {
          g_clear_pointer (&d->pend, g_free);
          d->pend_len = d->pend_off = 0;
        }
    }
  pass_eof (d);
  return TRUE;
}

/* Reads and passes on; FALSE on a hard error (errno set). */
static gboolean
pump (EsaProxyTunnel *t, Direction *d)
{
  for (int i = 0; i < MAX_READS && d->pend == NULL && !d->eof; i++)
    {
      gssize n = recv (d->from, scratch, sizeof scratch, MSG_DONTWAIT);
      gssize w;
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return errno == EAGAIN || errno == EWOULDBLOCK;
        }
      t->last_activity = g_get_monotonic_time ();
      if (n == 0)
        {
          d->eof = TRUE;
          pass_eof (d);
          break;
        }
      if (d->discard)
        continue;
      d->bytes += (guint64) n;
      do
        w = send (d->to, scratch, (gsize) n, MSG_NOSIGNAL | MSG_DONTWAIT);
      while (w < 0 && errno == EINTR);
      if (w < 0)
        {
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            return FALSE;
          w = 0;
        }
      if (w < n)
        {
          d->pend = g_memdup2 (scratch + w, (gsize) (n - w));
          d->pend_len = (gsize) (n - w);
          d->pend_off = 0;
        }
      if ((gsize) n < sizeof scratch)
        break; /* the socket is most likely drained; poll rather than read EAGAIN */
    }
  return TRUE;
}

/* One round: FALSE when the tunnel is over (*result and *reason say how). */
static gboolean
tunnel_step (EsaProxyTunnel *t, GSource *source, const char **result, const char **reason)
{
  Direction *up = &t->dir[ESA_PROXY_TUNNEL_UP];
  Direction *down = &t->dir[ESA_PROXY_TUNNEL_DOWN];
  GIOCondition any = G_IO_ERR | G_IO_HUP;
  GIOCondition rc = t->tag[SIDE_CLIENT] != NULL ? g_source_query_unix_fd (source, t->tag[SIDE_CLIENT]) : 0;
  GIOCondition rs = t->tag[SIDE_SERVER] != NULL ? g_source_query_unix_fd (source, t->tag[SIDE_SERVER]) : 0;
  gint64 now;

  /* Write first: it frees buffers and so lets reading resume in the same round. */
  if (((rs & (G_IO_OUT | any)) && up->pend != NULL && !flush_pending (t, up)) ||
      ((rc & (G_IO_OUT | any)) && down->pend != NULL && !flush_pending (t, down)) ||
      ((rc & (G_IO_IN | any)) && !pump (t, up)) || ((rs & (G_IO_IN | any)) && !pump (t, down)))
    {
      *result = "error";
      *reason = g_strerror (errno);
      return FALSE;
    }
  if (down->eof && down->pend == NULL && (t->discard_up || (up->eof && up->pend == NULL)))
    {
      *result = "ok";
      return FALSE;
    }
  now = g_source_get_time (source);
  if (t->idle_us > 0 && now >= t->last_activity + t->idle_us)
    {
      *result = "idle-timeout";
      return FALSE;
    }
  if (t->idle_us > 0 && g_source_get_ready_time (source) <= now)
    g_source_set_ready_time (source, t->last_activity + t->idle_us);
  update_events (t);
  return TRUE;
}

static gboolean
tunnel_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  EsaProxyTunnel *t = ((TunnelSource *) source)->tunnel;
  const char *result = NULL;
  const char *reason = NULL;

  if (tunnel_step (t, source, &result, &reason))
    return G_SOURCE_CONTINUE;
  finish (t, result, reason);
  return G_SOURCE_REMOVE;
}

void
esa_proxy_tunnel_start (EsaProxyTunnel *t, EsaProxyTunnelDone done, gpointer user_data)
{
  t->done = done;
  t->user_data = user_data;
  t->source = g_source_new (&tunnel_source_funcs, sizeof (TunnelSource));
  ((TunnelSource *) t->source)->tunnel = t;
  g_source_set_static_name (t->source, "esa-proxy tunnel");
  t->last_activity = g_get_monotonic_time ();
  if (t->idle_us > 0)
    g_source_set_ready_time (t->source, t->last_activity + t->idle_us);
  update_events (t);
  g_source_attach (t->source, NULL);
}
