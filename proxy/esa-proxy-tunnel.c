/* esa-proxy-tunnel.c: the byte pump behind CONNECT.
 *
 * Established tunnels are served by a few worker threads, each waiting on its own poller
 * (epoll on Linux, esa-proxy-poller.h), not by the GLib main loop: GLib polls every source
 * on every iteration, so with one source per tunnel each new client cost O(open tunnels)
 * and the open rate fell as tunnels accumulated. The main loop keeps accepting, parsing,
 * authenticating and dialling; a tunnel's end is reported back to it by an idle callback.
 *
 * A worker reads into its own scratch buffer and writes straight on; only what the other
 * side cannot take right now is copied into a per-direction buffer, and reading that
 * direction stops until it drains. So an idle tunnel holds no buffer at all, which is what
 * lets a small host keep thousands of tunnels open, and a busy one does no extra copy.
 * On Linux a direction that has carried SPLICE_AFTER bytes (a bulk transfer, not a
 * handshake) moves its bytes with splice() through a pipe of its own instead, so they never
 * cross into user space; idle and short tunnels hold no pipe and so no extra descriptors.
 *
 * Threads: a worker handles a batch of ready sockets holding its lock; the main thread takes
 * that lock to add or stop a tunnel. A stopped tunnel may still sit in the batch the worker
 * got from its poller, so its memory is released by the worker after that batch (the
 * "graveyard"), never by the main thread directly. */
#include "config.h"

#include "esa-proxy-tunnel.h"

#include "esa-proxy-poller.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__linux__) && defined(SPLICE_F_MOVE)
#define HAVE_SPLICE_PIPES 1
#define SPLICE_AFTER (256 * 1024)
#define PIPE_SIZE (256 * 1024)
#endif

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SIGPIPE is ignored by main () where this is missing (AIX) */
#endif

#define SCRATCH_SIZE (128 * 1024)
/* Reads per wakeup and direction, so one fast tunnel cannot starve the others. */
#define MAX_READS 8
#define MAX_WORKERS 4
#define BATCH 256
/* How often a worker looks for idle tunnels (and at least how often it wakes). */
#define SWEEP_MS 250

enum { SIDE_CLIENT, SIDE_SERVER };

typedef struct _Worker Worker;

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
  int pipe[2];       /* splice () pipe once the direction is bulk, else -1 */
  gsize piped;       /* bytes in the pipe not yet written */
} Direction;

/* Bytes read but not written, in the buffer or in the pipe: reading waits until they are. */
static inline gboolean
has_pending (const Direction *d)
{
  return d->pend != NULL || d->piped > 0;
}

/* What a poller event points at: one socket of one tunnel. */
typedef struct {
  EsaProxyTunnel *tunnel;
  int side;
} Handle;

struct _EsaProxyTunnel {
  gint refcount; /* the owner's, the worker's while it knows the tunnel, a pending done's */
  GSocket *sock[2];
  int fd[2];
  Handle handle[2];
  guint events[2];  /* asked of the poller */
  guint revents[2]; /* reported in this batch */
  Direction dir[2]; /* ESA_PROXY_TUNNEL_UP, ESA_PROXY_TUNNEL_DOWN */
  Worker *worker;
  EsaProxyTunnel *prev, *next; /* in the worker's list */
  gboolean in_batch;
  gint64 idle_us;
  gint64 last_activity;
  gboolean discard_up;
  gboolean finished;  /* under the worker's lock: the worker no longer touches it */
  gboolean cancelled; /* main thread only: freed by its owner, no callback */
  const char *result;
  const char *reason;
  GMainContext *context;
  EsaProxyTunnelDone done;
  gpointer user_data;
};

struct _Worker {
  GMutex lock;
  const EsaProxyPollerBackend *backend;
  EsaProxyPoller *poller;
  EsaProxyTunnel *tunnels;
  gint n_tunnels; /* atomic: read unlocked to pick the least loaded worker */
  GPtrArray *graveyard; /* worker references to drop after the current batch */
  guint8 *scratch;
  gint64 last_sweep;
};

static Worker workers[MAX_WORKERS];
static guint n_workers;

EsaProxyTunnel *
esa_proxy_tunnel_new (GSocket *client, GSocket *server, guint idle_timeout, gboolean discard_up)
{
  EsaProxyTunnel *t = g_new0 (EsaProxyTunnel, 1);
  t->refcount = 1;
  t->sock[SIDE_CLIENT] = g_object_ref (client);
  t->sock[SIDE_SERVER] = g_object_ref (server);
  t->fd[SIDE_CLIENT] = g_socket_get_fd (client);
  t->fd[SIDE_SERVER] = g_socket_get_fd (server);
  for (int i = 0; i < 2; i++)
    {
      t->handle[i].tunnel = t;
      t->handle[i].side = i;
    }
  t->dir[ESA_PROXY_TUNNEL_UP].from = t->fd[SIDE_CLIENT];
  t->dir[ESA_PROXY_TUNNEL_UP].to = t->fd[SIDE_SERVER];
  t->dir[ESA_PROXY_TUNNEL_UP].discard = discard_up;
  t->dir[ESA_PROXY_TUNNEL_DOWN].from = t->fd[SIDE_SERVER];
  t->dir[ESA_PROXY_TUNNEL_DOWN].to = t->fd[SIDE_CLIENT];
  for (int i = 0; i < 2; i++)
    t->dir[i].pipe[0] = t->dir[i].pipe[1] = -1;
  t->idle_us = (gint64) idle_timeout * G_USEC_PER_SEC;
  t->discard_up = discard_up;
  return t;
}

static void
tunnel_unref (EsaProxyTunnel *t)
{
  if (!g_atomic_int_dec_and_test (&t->refcount))
    return;
  for (int i = 0; i < 2; i++)
    {
      g_free (t->dir[i].pend);
      g_clear_object (&t->sock[i]);
      if (t->dir[i].pipe[0] >= 0)
        {
          close (t->dir[i].pipe[0]);
          close (t->dir[i].pipe[1]);
        }
    }
  if (t->context != NULL)
    g_main_context_unref (t->context);
  g_free (t);
}

void
esa_proxy_tunnel_queue (EsaProxyTunnel *t, EsaProxyTunnelDirection direction, const void *data,
                        gsize len)
{
  Direction *d = &t->dir[direction];
  guint8 *buf;
  gsize have = d->pend_len - d->pend_off;

  g_return_if_fail (t->worker == NULL);
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
  guint64 bytes;
  if (t->worker == NULL)
    return t->dir[direction].bytes;
  g_mutex_lock (&t->worker->lock);
  bytes = t->dir[direction].bytes;
  g_mutex_unlock (&t->worker->lock);
  return bytes;
}

/* Worker lock held. */
static void
set_events (EsaProxyTunnel *t, int side, guint events)
{
  g_autoptr (GError) error = NULL;

  if (events == t->events[side])
    return;
  if (!t->worker->backend->set (t->worker->poller, t->fd[side], t->events[side], events,
                                &t->handle[side], &error))
    g_warning ("tunnel: %s", error->message);
  t->events[side] = events;
}

/* Worker lock held: the worker forgets the tunnel; its reference goes when the batch ends. */
static void
detach (EsaProxyTunnel *t)
{
  Worker *w = t->worker;

  t->finished = TRUE;
  set_events (t, SIDE_CLIENT, 0);
  set_events (t, SIDE_SERVER, 0);
  if (t->prev != NULL)
    t->prev->next = t->next;
  else
    w->tunnels = t->next;
  if (t->next != NULL)
    t->next->prev = t->prev;
  t->prev = t->next = NULL;
  g_atomic_int_add (&w->n_tunnels, -1);
  g_ptr_array_add (w->graveyard, t);
}

void
esa_proxy_tunnel_free (EsaProxyTunnel *t)
{
  if (t == NULL)
    return;
  t->cancelled = TRUE;
  if (t->worker != NULL)
    {
      g_mutex_lock (&t->worker->lock);
      if (!t->finished)
        detach (t);
      g_mutex_unlock (&t->worker->lock);
    }
  tunnel_unref (t);
}

/* A socket nobody wants to hear from is not polled at all: the poller would keep reporting
 * its hang-up and spin. */
static void
update_events (EsaProxyTunnel *t)
{
  Direction *up = &t->dir[ESA_PROXY_TUNNEL_UP];
  Direction *down = &t->dir[ESA_PROXY_TUNNEL_DOWN];
  guint c = 0;
  guint s = 0;

  if (!up->eof && !has_pending (up))
    c |= ESA_PROXY_POLL_IN;
  if (has_pending (down))
    c |= ESA_PROXY_POLL_OUT;
  if (!down->eof && !has_pending (down))
    s |= ESA_PROXY_POLL_IN;
  if (has_pending (up))
    s |= ESA_PROXY_POLL_OUT;
  set_events (t, SIDE_CLIENT, c);
  set_events (t, SIDE_SERVER, s);
}

static gboolean
done_dispatch (gpointer user_data)
{
  EsaProxyTunnel *t = user_data;
  if (!t->cancelled)
    t->done (t, t->result, t->reason, t->user_data);
  tunnel_unref (t);
  return G_SOURCE_REMOVE;
}

/* Worker lock held: ends the tunnel and tells its owner on the owner's main context. */
static void
finish (EsaProxyTunnel *t, const char *result, const char *reason)
{
  GSource *idle = g_idle_source_new ();

  t->result = result;
  t->reason = reason;
  detach (t);
  /* Not g_main_context_invoke (): that may run the callback right here, in the worker. */
  g_atomic_int_inc (&t->refcount);
  g_source_set_callback (idle, done_dispatch, t, NULL);
  g_source_set_static_name (idle, "esa-proxy tunnel done");
  g_source_attach (idle, t->context);
  g_source_unref (idle);
}

static void
pass_eof (Direction *d)
{
  if (d->eof && !has_pending (d) && !d->shut && !d->discard)
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
#ifdef HAVE_SPLICE_PIPES
  while (d->piped > 0)
    {
      gssize n = splice (d->pipe[0], NULL, d->to, NULL, d->piped, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return errno == EAGAIN || errno == EWOULDBLOCK;
        }
      t->last_activity = g_get_monotonic_time ();
      d->piped -= (gsize) n;
    }
#endif
  pass_eof (d);
  return TRUE;
}

#ifdef HAVE_SPLICE_PIPES
/* Gives a direction that turned out to be bulk its pipe; without one it keeps copying. */
static void
maybe_start_splice (Direction *d)
{
  int p[2];
  if (d->pipe[0] >= 0 || d->discard || d->bytes < SPLICE_AFTER || pipe2 (p, O_CLOEXEC | O_NONBLOCK) != 0)
    return;
  fcntl (p[1], F_SETPIPE_SZ, PIPE_SIZE); /* best effort: 64 KiB works too */
  d->pipe[0] = p[0];
  d->pipe[1] = p[1];
}
#endif

/* Reads what is there: into the direction's pipe once it has one, else into scratch. */
static gssize
read_some (Direction *d, guint8 *scratch)
{
#ifdef HAVE_SPLICE_PIPES
  if (d->pipe[0] >= 0)
    return splice (d->from, NULL, d->pipe[1], NULL, PIPE_SIZE, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
#endif
  return recv (d->from, scratch, SCRATCH_SIZE, MSG_DONTWAIT);
}

/* Writes n bytes just read; what the other side cannot take now stays pending (in the
 * pipe, or copied out of scratch). FALSE on a hard error (errno set). */
static gboolean
pass_on (EsaProxyTunnel *t, Direction *d, guint8 *scratch, gssize n)
{
  gssize w;

  if (d->pipe[0] >= 0)
    {
      d->piped = (gsize) n;
      return flush_pending (t, d);
    }
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
  return TRUE;
}

/* Reads and passes on; FALSE on a hard error (errno set). */
static gboolean
pump (EsaProxyTunnel *t, Direction *d, guint8 *scratch)
{
#ifdef HAVE_SPLICE_PIPES
  maybe_start_splice (d);
#endif
  for (int i = 0; i < MAX_READS && !has_pending (d) && !d->eof; i++)
    {
      gssize n = read_some (d, scratch);
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
      if (!pass_on (t, d, scratch, n))
        return FALSE;
      if (d->pipe[0] < 0 && (gsize) n < SCRATCH_SIZE)
        break; /* the socket is most likely drained; poll rather than read EAGAIN */
    }
  return TRUE;
}

/* Worker lock held: one round on what the poller reported. */
static void
tunnel_step (EsaProxyTunnel *t, guint8 *scratch)
{
  Direction *up = &t->dir[ESA_PROXY_TUNNEL_UP];
  Direction *down = &t->dir[ESA_PROXY_TUNNEL_DOWN];
  guint any = ESA_PROXY_POLL_ERR;
  guint rc = t->revents[SIDE_CLIENT];
  guint rs = t->revents[SIDE_SERVER];

  t->revents[SIDE_CLIENT] = t->revents[SIDE_SERVER] = 0;
  /* Write first: it frees buffers and so lets reading resume in the same round. */
  if (((rs & (ESA_PROXY_POLL_OUT | any)) && has_pending (up) && !flush_pending (t, up)) ||
      ((rc & (ESA_PROXY_POLL_OUT | any)) && has_pending (down) && !flush_pending (t, down)) ||
      ((rc & (ESA_PROXY_POLL_IN | any)) && !pump (t, up, scratch)) ||
      ((rs & (ESA_PROXY_POLL_IN | any)) && !pump (t, down, scratch)))
    {
      finish (t, "error", g_strerror (errno));
      return;
    }
  if (down->eof && !has_pending (down) && (t->discard_up || (up->eof && !has_pending (up))))
    {
      finish (t, "ok", NULL);
      return;
    }
  update_events (t);
}

/* Worker lock held. */
static void
sweep_idle (Worker *w, gint64 now)
{
  EsaProxyTunnel *next;
  for (EsaProxyTunnel *t = w->tunnels; t != NULL; t = next)
    {
      next = t->next;
      if (t->idle_us > 0 && now >= t->last_activity + t->idle_us)
        finish (t, "idle-timeout", NULL);
    }
}

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  EsaProxyPollerEvent evs[BATCH];
  EsaProxyTunnel *batch[BATCH];

  for (;;)
    {
      int n = w->backend->wait (w->poller, evs, BATCH, SWEEP_MS);
      int nb = 0;
      gint64 now;

      g_mutex_lock (&w->lock);
      for (int i = 0; i < n; i++)
        {
          Handle *h = evs[i].data;
          EsaProxyTunnel *t = h->tunnel;
          /* Stopped since the poller answered: its memory waits in the graveyard. */
          if (t->finished)
            continue;
          t->revents[h->side] |= evs[i].events;
          if (!t->in_batch)
            {
              t->in_batch = TRUE;
              batch[nb++] = t;
            }
        }
      for (int i = 0; i < nb; i++)
        {
          batch[i]->in_batch = FALSE;
          if (!batch[i]->finished)
            tunnel_step (batch[i], w->scratch);
        }
      now = g_get_monotonic_time ();
      if (now - w->last_sweep >= SWEEP_MS * 1000)
        {
          sweep_idle (w, now);
          w->last_sweep = now;
        }
      for (guint i = 0; i < w->graveyard->len; i++)
        tunnel_unref (w->graveyard->pdata[i]);
      g_ptr_array_set_size (w->graveyard, 0);
      g_mutex_unlock (&w->lock);
    }
  return NULL;
}

/* The workers live as long as the process; started with the first tunnel. */
static gpointer
start_workers (gpointer data)
{
  const EsaProxyPollerBackend *backend = esa_proxy_poller_backend ();
  guint n = CLAMP (g_get_num_processors (), 1, MAX_WORKERS);

  for (guint i = 0; i < n; i++)
    {
      Worker *w = &workers[i];
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("esa-tunnel-%u", i);
      GThread *thread;

      w->backend = backend;
      w->poller = backend->new_poller (&error);
      if (w->poller == NULL)
        g_error ("cannot start the tunnel workers: %s", error->message);
      g_mutex_init (&w->lock);
      w->graveyard = g_ptr_array_new ();
      w->scratch = g_malloc (SCRATCH_SIZE);
      w->last_sweep = g_get_monotonic_time ();
      thread = g_thread_new (name, worker_main, w);
      g_thread_unref (thread);
    }
  n_workers = n;
  return NULL;
}

void
esa_proxy_tunnel_start (EsaProxyTunnel *t, EsaProxyTunnelDone done, gpointer user_data)
{
  static GOnce once = G_ONCE_INIT;
  Worker *w;

  g_once (&once, start_workers, NULL);
  w = &workers[0];
  /* The least loaded worker; a count may change right after it is read, close enough. */
  for (guint i = 1; i < n_workers; i++)
    if (g_atomic_int_get (&workers[i].n_tunnels) < g_atomic_int_get (&w->n_tunnels))
      w = &workers[i];
  t->done = done;
  t->user_data = user_data;
  t->context = g_main_context_ref_thread_default ();
  t->last_activity = g_get_monotonic_time ();
  g_mutex_lock (&w->lock);
  t->worker = w;
  g_atomic_int_inc (&t->refcount); /* the worker's */
  t->next = w->tunnels;
  if (w->tunnels != NULL)
    w->tunnels->prev = t;
  w->tunnels = t;
  g_atomic_int_inc (&w->n_tunnels);
  update_events (t);
  g_mutex_unlock (&w->lock);
}
