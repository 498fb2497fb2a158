/* sdc-idle.h: connections libsoup 3.2 would keep after their end (closed by the client
 * while idle, or before the TLS handshake) are ended and freed, and a count of the
 * connections and sockets libsoup holds. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Starts following libsoup's connections; call after the servers listen (once is enough,
 * later calls do nothing). */
void    sdc_idle_track        (void);
/* SoupServer::request-finished and ::request-aborted: the connection is idle and
 * watched (one watch from its first request to its end); end of stream ends it. */
void    sdc_idle_watch        (SoupServerMessage *msg);
/* SoupServer::request-started: a request is under way; the watch ends nothing. */
void    sdc_idle_unwatch      (SoupServerMessage *msg);
/* Connections accepted since sdc_idle_track, and those libsoup still holds (open, or
 * closed but not yet freed). */
guint64 sdc_idle_accepted     (void);
guint   sdc_idle_held         (void);
/* Their GSockets still alive (libsoup 3.2 kept each one). */
guint   sdc_idle_sockets_held (void);
/* Waits up to @timeout_ms for the sockets of connections already freed, whose last
 * reference another thread may still hold, before they are counted. */
void    sdc_idle_settle       (guint timeout_ms);

G_END_DECLS
