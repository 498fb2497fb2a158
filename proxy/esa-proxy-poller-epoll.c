/* esa-proxy-poller-epoll.c: the Linux poller backend. epoll keeps the watched set in the
 * kernel, so a wait costs O(ready sockets), not O(open tunnels). An eventfd wakes the waiter. */
#include "config.h"

#include "esa-proxy-poller.h"

#ifdef __linux__

#include <esa/esa-error.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_BATCH 256

struct _EsaProxyPoller {
  int ep;
  int wake;
  struct epoll_event evs[MAX_BATCH];
};

static EsaProxyPoller *
epoll_backend_new (GError **error)
{
  EsaProxyPoller *p;
  struct epoll_event ev = { 0 };
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  int wake = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);

  if (ep < 0 || wake < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot create an epoll set: %s",
                   g_strerror (errno));
      if (ep >= 0)
        close (ep);
      if (wake >= 0)
        close (wake);
      return NULL;
    }
  p = g_new0 (EsaProxyPoller, 1);
  p->ep = ep;
  p->wake = wake;
  ev.events = EPOLLIN;
  ev.data.ptr = p; /* marks the wakeup */
  epoll_ctl (ep, EPOLL_CTL_ADD, wake, &ev);
  return p;
}

static gboolean
epoll_backend_set (EsaProxyPoller *p, int fd, guint old_events, guint events, gpointer data,
                   GError **error)
{
  struct epoll_event ev = { 0 };
  int op;

  /* A socket with no interest is removed, not kept with an empty mask: epoll reports
   * hang-up regardless of the mask and would spin. */
  if (events == 0)
    op = EPOLL_CTL_DEL;
  else if (old_events == 0)
    op = EPOLL_CTL_ADD;
  else
    op = EPOLL_CTL_MOD;
  ev.events = ((events & ESA_PROXY_POLL_IN) ? EPOLLIN | EPOLLRDHUP : 0) |
              ((events & ESA_PROXY_POLL_OUT) ? EPOLLOUT : 0);
  ev.data.ptr = data;
  if (epoll_ctl (p->ep, op, fd, &ev) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "epoll_ctl: %s", g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static int
epoll_backend_wait (EsaProxyPoller *p, EsaProxyPollerEvent *out, int max, int timeout_ms)
{
  int n = epoll_wait (p->ep, p->evs, MIN (max, MAX_BATCH), timeout_ms);
  int k = 0;

  for (int i = 0; i < n; i++)
    {
      guint32 e = p->evs[i].events;
      if (p->evs[i].data.ptr == p)
        {
          eventfd_t v;
          eventfd_read (p->wake, &v);
          continue;
        }
      out[k].data = p->evs[i].data.ptr;
      out[k].events = ((e & (EPOLLIN | EPOLLRDHUP)) ? ESA_PROXY_POLL_IN : 0) |
                      ((e & EPOLLOUT) ? ESA_PROXY_POLL_OUT : 0) |
                      ((e & (EPOLLERR | EPOLLHUP)) ? ESA_PROXY_POLL_ERR : 0);
      k++;
    }
  return k;
}

static void
epoll_backend_wake (EsaProxyPoller *p)
{
  eventfd_write (p->wake, 1);
}

static void
epoll_backend_free (EsaProxyPoller *p)
{
  close (p->ep);
  close (p->wake);
  g_free (p);
}

static const EsaProxyPollerBackend epoll_backend = {
  "epoll", epoll_backend_new, epoll_backend_set, epoll_backend_wait, epoll_backend_wake,
  epoll_backend_free,
};
const EsaProxyPollerBackend *const esa_proxy_poller_epoll = &epoll_backend;

#else

const EsaProxyPollerBackend *const esa_proxy_poller_epoll = NULL;

#endif
