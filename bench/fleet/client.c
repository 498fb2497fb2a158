/* bench/fleet/client.c: the timed part of the load generator, built as wrk or h2load
 * are: it shares two cores with the server it measures, so a request must cost it
 * little. Threads (FleetConfig.threads) each own an epoll set and every threads-th
 * connection; a connection is a nonblocking TCP socket with its own GnuTLS session
 * (the server verified against the CA file), kept alive, one request at a time.
 * Requests are prebuilt bytes per system plus the per-request uuid and time, and
 * answers are read as status line, headers and Content-Length body (http.c); anything
 * but a 200 (and, for a report, a body with "status":"stored", what esa-sdc answers
 * once it is committed) is an error. A request's latency runs from just before its
 * first byte goes out to its whole answer read, and counts once every connection and
 * every system has been answered (the first answer of each pays a handshake or a
 * PBKDF2). Connections are opened a few at
 * a time (FLEET_OPENING over all threads), as separate agents would, so esa-sdc's
 * stalled-handshake guard sees no client sitting on a half-open connection. */
#define _GNU_SOURCE /* memmem */
#include "fleet.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* connections in their handshake at once, over all threads */
#define FLEET_OPENING 4
/* a request without its whole answer after this long fails (libsoup's timeout before) */
#define FLEET_TIMEOUT_US (30 * G_USEC_PER_SEC)

typedef enum { CONN_CONNECTING, CONN_HANDSHAKE, CONN_SENDING, CONN_READING, CONN_DONE } ConnState;

typedef struct Worker Worker;

typedef struct {
  Worker *w;
  int fd;
  gnutls_session_t tls;
  ConnState state;
  gboolean seen;     /* its first answer (or failure) counted for the warm-up */
  guint answered;    /* answers on the current TCP connection */
  gint64 start;      /* µs, the request in flight built, just before it goes out */
  gboolean resent;   /* the request in flight is a retry on a fresh connection */
  int open_errno;    /* connect(2) failed at once: reported from the event loop */
  size_t req_len, req_off, in_len;
  char req[2048];
  char in[8192];
} Conn;

struct Worker {
  pthread_t thread;
  int ep;
  Conn *conns;
  guint n_conns;
  guint opened;  /* connections started so far */
  guint opening; /* started and not yet answered */
  guint max_opening;
  guint active;  /* not yet done */
  GArray *latencies;
  guint64 errors;
  guint64 rng[2];
  gint64 ts_second;
  char ts[24];
  gint64 last_scan;
};

static const FleetConfig *cfg;
static FleetRequests requests;
static atomic_uint_fast64_t seq;
static atomic_uint warm_answers, warm_conns;
static atomic_bool warm;
static _Atomic gint64 t0 = G_MAXINT64, end_time = G_MAXINT64;
static atomic_bool error_said;

static void conn_open (Conn *c);
static void request_build (Conn *c);

/* The worker's next connection, with its first request. */
static void
conn_start (Worker *w)
{
  Conn *c = &w->conns[w->opened++];
  w->opening++;
  request_build (c);
  c->start = g_get_monotonic_time ();
  conn_open (c);
}

static void
say_error (const char *what, const char *detail)
{
  /* the first one only: enough to tell a bad CA file from a refused connection */
  if (!atomic_exchange (&error_said, TRUE))
    fprintf (stderr, "fleet: %s%s%s (counted as an error; further ones are not printed)\n", what,
             detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

static guint64
rng_next (Worker *w)
{
  /* xorshift128+: a fresh report uuid per request without a lock or a syscall */
  guint64 x = w->rng[0], y = w->rng[1];
  w->rng[0] = y;
  x ^= x << 23;
  w->rng[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
  return w->rng[1] + y;
}

static const char *
now_text (Worker *w)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  if (ts.tv_sec != w->ts_second)
    {
      struct tm tm;
      gmtime_r (&ts.tv_sec, &tm);
      strftime (w->ts, sizeof w->ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
      w->ts_second = ts.tv_sec;
    }
  return w->ts;
}

/* The next request into c->req. */
static void
request_build (Conn *c)
{
  guint64 n = atomic_fetch_add (&seq, 1) + 1;
  guint64 a = rng_next (c->w), b = rng_next (c->w);
  c->req_off = 0;
  c->resent = FALSE;
  c->req_len = fleet_request_format (&requests, n, a, b, now_text (c->w), c->req, sizeof c->req);
}

static void
conn_close (Conn *c)
{
  if (c->tls != NULL)
    gnutls_deinit (c->tls);
  if (c->fd >= 0)
    close (c->fd);
  c->tls = NULL;
  c->fd = -1;
}

static void
maybe_warm (gint64 now)
{
  guint answers = atomic_fetch_add (&warm_answers, 1) + 1;
  bool expected = false;
  if (answers < cfg->n_systems + cfg->conns || atomic_load (&warm_conns) < cfg->conns ||
      !atomic_compare_exchange_strong (&warm, &expected, true))
    return;
  cfg->on_warm ();
  atomic_store (&end_time, now + (gint64) cfg->seconds * G_USEC_PER_SEC);
  atomic_store (&t0, now);
}

/* A request has ended (answered or failed): warm-up bookkeeping, then the next one. */
static void
request_end (Conn *c, gint64 now, gboolean ok, gboolean keep)
{
  Worker *w = c->w;
  if (!ok && atomic_load (&warm))
    w->errors++;
  else if (ok && c->start >= atomic_load (&t0))
    {
      gint64 us = now - c->start;
      g_array_append_val (w->latencies, us);
    }
  if (!c->seen)
    {
      c->seen = TRUE;
      w->opening--;
      atomic_fetch_add (&warm_conns, 1);
      while (w->opening < w->max_opening && w->opened < w->n_conns)
        conn_start (w);
    }
  if (!atomic_load (&warm))
    maybe_warm (now);
  if (now >= atomic_load (&end_time))
    {
      conn_close (c);
      c->state = CONN_DONE;
      w->active--;
      return;
    }
  request_build (c);
  c->start = now;
  if (keep)
    c->state = CONN_SENDING;
  else
    {
      conn_close (c);
      conn_open (c);
    }
}

static void
fail (Conn *c, const char *what, const char *detail)
{
  say_error (what, detail);
  request_end (c, g_get_monotonic_time (), FALSE, FALSE);
}

/* 1: a whole answer in c->in (*ok: a success; *keep: the connection stays open),
 * 0: not yet, -1: not HTTP/1.1 as expected */
static int
answer_parse (Conn *c, gboolean *ok, gboolean *keep)
{
  const char *body;
  size_t body_len;
  int status;
  int r = fleet_answer_parse (c->in, c->in_len, sizeof c->in, &status, keep, &body, &body_len);
  if (r <= 0)
    return r;
  *ok = status == 200 && (cfg->static_mode || memmem (body, body_len, "\"status\":\"stored\"", 17) != NULL);
  if (!*ok && !atomic_load (&error_said))
    {
      char first[128];
      snprintf (first, sizeof first, "%.*s", (int) MIN (sizeof first - 1, (size_t) (strchr (c->in, '\r') - c->in)),
                c->in);
      say_error ("unexpected answer", first);
    }
  return 1;
}

/* Runs a connection as far as it goes without waiting. */
static void
conn_drive (Conn *c, uint32_t events)
{
  for (;;)
    {
      ssize_t r;
      switch (c->state)
        {
        case CONN_CONNECTING:
          {
            int err = 0;
            socklen_t len = sizeof err;
            if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
              return;
            if (c->open_errno != 0)
              return fail (c, "connect", g_strerror (c->open_errno));
            if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
              return fail (c, "connect", g_strerror (err));
            c->state = CONN_HANDSHAKE;
            break;
          }
        case CONN_HANDSHAKE:
          r = gnutls_handshake (c->tls);
          if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            return;
          if (r < 0 && gnutls_error_is_fatal ((int) r))
            return fail (c, "TLS handshake", gnutls_strerror ((int) r));
          if (r == 0)
            c->state = CONN_SENDING;
          break;
        case CONN_SENDING:
          r = gnutls_record_send (c->tls, c->req + c->req_off, c->req_len - c->req_off);
          if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            return;
          if (r < 0)
            return fail (c, "send", gnutls_strerror ((int) r));
          c->req_off += (size_t) r;
          if (c->req_off == c->req_len)
            {
              c->state = CONN_READING;
              c->in_len = 0;
            }
          break;
        case CONN_READING:
          {
            gboolean ok = FALSE, keep = TRUE;
            int done;
            r = gnutls_record_recv (c->tls, c->in + c->in_len, sizeof c->in - c->in_len);
            if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
              return;
            if ((r == 0 || r == GNUTLS_E_PREMATURE_TERMINATION) && c->in_len == 0 && c->answered > 0 && !c->resent)
              {
                /* the server closed a kept-alive connection before this request reached
                 * it: send it again on a new one, as libsoup does for idempotent ones */
                gint64 start = c->start;
                conn_close (c);
                conn_open (c);
                c->start = start;
                c->req_off = 0;
                c->resent = TRUE;
                return;
              }
            if (r <= 0)
              return fail (c, "receive", r == 0 ? "connection closed" : gnutls_strerror ((int) r));
            c->in_len += (size_t) r;
            if ((done = answer_parse (c, &ok, &keep)) < 0)
              return fail (c, "malformed answer", NULL);
            if (done == 0)
              break;
            c->answered++;
            request_end (c, g_get_monotonic_time (), ok, keep);
            if (c->state == CONN_DONE || c->state == CONN_CONNECTING)
              return;
            break;
          }
        case CONN_DONE:
          return;
        }
    }
}

static void
conn_open (Conn *c)
{
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c };
  int one = 1;
  c->answered = 0;
  c->open_errno = 0;
  c->fd = socket (cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    g_error ("fleet: socket: %s", g_strerror (errno));
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  gnutls_init (&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
  gnutls_set_default_priority (c->tls);
  gnutls_credentials_set (c->tls, GNUTLS_CRD_CERTIFICATE, cfg->cred);
  gnutls_session_set_verify_cert (c->tls, cfg->verify_host, 0);
  gnutls_transport_set_int (c->tls, c->fd);
  c->state = CONN_CONNECTING;
  if (epoll_ctl (c->w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
    g_error ("fleet: epoll_ctl: %s", g_strerror (errno));
  /* a failure here is reported by the event loop (the socket reads as hung up), not
   * by calling fail() from within fail() for as long as the server refuses */
  if (connect (c->fd, (const struct sockaddr *) &cfg->addr, cfg->addr_len) < 0 && errno != EINPROGRESS)
    c->open_errno = errno;
}

static void *
worker_run (void *data)
{
  Worker *w = data;
  struct epoll_event ev[64];
  while (w->opening < w->max_opening && w->opened < w->n_conns)
    conn_start (w);
  while (w->active > 0)
    {
      int n = epoll_wait (w->ep, ev, G_N_ELEMENTS (ev), 1000);
      gint64 now = g_get_monotonic_time ();
      for (int i = 0; i < n; i++)
        conn_drive (ev[i].data.ptr, ev[i].events);
      /* a request with no answer for too long fails rather than hanging the run */
      if (now - w->last_scan >= G_USEC_PER_SEC)
        {
          w->last_scan = now;
          for (guint i = 0; i < w->opened; i++)
            if (w->conns[i].state != CONN_DONE && now - w->conns[i].start > FLEET_TIMEOUT_US)
              fail (&w->conns[i], "timeout", "no answer in 30 s");
        }
    }
  return NULL;
}

void
fleet_client_run (const FleetConfig *config, FleetResult *result)
{
  guint threads = MAX (1, MIN (config->threads, config->conns));
  Worker *workers = g_new0 (Worker, threads);
  cfg = config;
  fleet_requests_init (&requests, cfg);
  for (guint t = 0; t < threads; t++)
    {
      Worker *w = &workers[t];
      w->ep = epoll_create1 (EPOLL_CLOEXEC);
      w->n_conns = cfg->conns / threads + (t < cfg->conns % threads);
      w->active = w->n_conns;
      w->max_opening = MAX (1, FLEET_OPENING / threads);
      w->conns = g_new0 (Conn, w->n_conns);
      for (guint i = 0; i < w->n_conns; i++)
        {
          w->conns[i].w = w;
          w->conns[i].fd = -1;
          w->conns[i].start = G_MAXINT64; /* not in flight until opened */
        }
      w->latencies = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 1 << 18);
      if (getrandom (w->rng, sizeof w->rng, 0) != sizeof w->rng)
        w->rng[0] = (guint64) g_get_real_time () ^ t, w->rng[1] = (guint64) getpid ();
      pthread_create (&w->thread, NULL, worker_run, w);
    }
  result->latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  result->errors = 0;
  for (guint t = 0; t < threads; t++)
    {
      pthread_join (workers[t].thread, NULL);
      g_array_append_vals (result->latencies, workers[t].latencies->data, workers[t].latencies->len);
      result->errors += workers[t].errors;
    }
  result->t0 = atomic_load (&t0);
}
