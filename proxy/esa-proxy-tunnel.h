/* esa-proxy-tunnel.h: moves bytes both ways between a client and a destination socket. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _EsaProxyTunnel EsaProxyTunnel;

typedef enum {
  ESA_PROXY_TUNNEL_UP,   /* client -> destination */
  ESA_PROXY_TUNNEL_DOWN, /* destination -> client */
} EsaProxyTunnelDirection;

/* result: "ok", "idle-timeout" or "error"; reason: NULL or why. */
typedef void (*EsaProxyTunnelDone) (EsaProxyTunnel *tunnel,
                                    const char     *result,
                                    const char     *reason,
                                    gpointer        user_data);

/* The sockets stay owned by the caller. With discard_up, bytes from the client are read and
 * dropped (a forwarded GET: the client has nothing more to say) and the tunnel ends when the
 * destination has finished answering. */
EsaProxyTunnel *esa_proxy_tunnel_new   (GSocket *client,
                                        GSocket *server,
                                        guint    idle_timeout,
                                        gboolean discard_up);
/* Queues bytes to send before anything read (the 200 answer, bytes read past a head). */
void            esa_proxy_tunnel_queue (EsaProxyTunnel         *tunnel,
                                        EsaProxyTunnelDirection direction,
                                        const void             *data,
                                        gsize                   len);
void            esa_proxy_tunnel_start (EsaProxyTunnel    *tunnel,
                                        EsaProxyTunnelDone done,
                                        gpointer           user_data);
guint64         esa_proxy_tunnel_get_bytes (EsaProxyTunnel         *tunnel,
                                            EsaProxyTunnelDirection direction);
/* Stops at once (no callback). */
void            esa_proxy_tunnel_free  (EsaProxyTunnel *tunnel);

G_END_DECLS
