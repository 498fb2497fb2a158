/* esa-proxy-server.h: listening sockets, client connections and their life cycle. */
#pragma once

#include <gio/gio.h>

#include "esa-proxy-config.h"
#include "esa-proxy-log.h"

G_BEGIN_DECLS

typedef struct _EsaProxyServer EsaProxyServer;

/* Takes a ref on config; log is owned by the server from then on. */
EsaProxyServer *esa_proxy_server_new    (EsaProxyConfig *config,
                                         EsaProxyLog    *log);
gboolean        esa_proxy_server_start  (EsaProxyServer *server,
                                         GError        **error);
/* Applies a new configuration to new connections; connections already open keep theirs.
 * FALSE (and nothing changed) if the new access log cannot be opened. */
gboolean        esa_proxy_server_reload (EsaProxyServer *server,
                                         EsaProxyConfig *config,
                                         GError        **error);
/* Stops listening, drops connections that have no tunnel yet and lets tunnels finish for
 * up to shutdown-timeout seconds; then calls done once. */
void            esa_proxy_server_stop   (EsaProxyServer *server,
                                         GSourceFunc     done,
                                         gpointer        user_data);
guint           esa_proxy_server_get_n_active (EsaProxyServer *server);
void            esa_proxy_server_free   (EsaProxyServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaProxyServer, esa_proxy_server_free)

G_END_DECLS
