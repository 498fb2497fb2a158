/* esa-proxy-poller.h: readiness of many sockets for the tunnel workers (esa-proxy-tunnel.c).
 *
 * Two backends behind one interface: epoll on Linux (esa-proxy-poller-epoll.c), where the
 * cost of a wait does not grow with the number of sockets, and plain poll() everywhere else
 * (esa-proxy-poller-poll.c; AIX has no epoll — its pollset(2) would be the next backend).
 * Level-triggered. One thread waits on a poller; any thread may call set and wake. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _EsaProxyPoller EsaProxyPoller;

typedef enum {
  ESA_PROXY_POLL_IN = 1 << 0,
  ESA_PROXY_POLL_OUT = 1 << 1,
  ESA_PROXY_POLL_ERR = 1 << 2, /* error or hang-up: always reported, never asked for */
} EsaProxyPollEvents;

typedef struct {
  guint events; /* EsaProxyPollEvents */
  gpointer data; /* as given to set */
} EsaProxyPollerEvent;

typedef struct {
  const char *name;
  EsaProxyPoller *(*new_poller) (GError **error);
  gboolean (*set) (EsaProxyPoller *poller, int fd, guint old_events, guint events, gpointer data,
                   GError **error);
  int (*wait) (EsaProxyPoller *poller, EsaProxyPollerEvent *out, int max, int timeout_ms);
  void (*wake) (EsaProxyPoller *poller);
  void (*free) (EsaProxyPoller *poller);
} EsaProxyPollerBackend;

/* NULL where the platform lacks it. */
extern const EsaProxyPollerBackend *const esa_proxy_poller_epoll;
extern const EsaProxyPollerBackend esa_proxy_poller_poll;

/* epoll where there is one; ESA_PROXY_POLLER=poll in the environment picks poll() (tests). */
const EsaProxyPollerBackend *esa_proxy_poller_backend (void);

G_END_DECLS
