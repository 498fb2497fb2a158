/* esa-proxy-dial.h: opening the destination side (resolve, address policy, connect, or a
 * CONNECT through the upstream proxy). */
#pragma once

#include <gio/gio.h>

#include "esa-proxy-config.h"

G_BEGIN_DECLS

typedef enum {
  ESA_PROXY_DIAL_TUNNEL, /* a byte stream to host:port (CONNECT upstream if there is one) */
  ESA_PROXY_DIAL_HTTP,   /* a connection to send a plain HTTP request on: the upstream
                          * proxy itself if there is one, else host:port */
} EsaProxyDialMode;

void               esa_proxy_dial_async  (EsaProxyConfig     *config,
                                          const char         *host,
                                          guint16             port,
                                          EsaProxyDialMode    mode,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
/* On failure *status is the HTTP status for the client (403, 502, 504). leftover: bytes the
 * upstream sent past its answer, to pass to the client (or NULL). */
GSocketConnection *esa_proxy_dial_finish (GAsyncResult *result,
                                          GBytes      **leftover,
                                          guint        *status,
                                          GError      **error);

G_END_DECLS
