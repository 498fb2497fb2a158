/* sdc-guard.h: limits for connections that have not sent their first request head yet
 * (TLS handshake or head still in progress): a cap per client address on those that
 * stall, and a timeout. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _SdcGuard SdcGuard;

/* At most @max_stalled connections per client address pending for over a third of
 * @timeout_s (1-3 s) before their first request head is in; each must get there
 * within @timeout_s. */
SdcGuard *sdc_guard_new       (guint max_stalled, guint timeout_s);
void      sdc_guard_unref     (SdcGuard *guard);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcGuard, sdc_guard_unref)

/* SoupServer::request-started: a new connection is watched (or, while its address has
 * the most stalled ones, shut down at once); later requests on a kept-alive connection
 * are ignored. */
void      sdc_guard_started   (SdcGuard *guard, SoupServerMessage *msg);
/* The request head is in (the early handler): the connection no longer counts. */
void      sdc_guard_head_done (SdcGuard *guard, SoupServerMessage *msg);

G_END_DECLS
