/* esa-proxy-config.h: esa-proxy.conf, loaded and checked as a whole (immutable once loaded). */
#pragma once

#include <gio/gio.h>

#include "esa-proxy-allow.h"
#include "esa-proxy-auth.h"
#include "esa-proxy-cidr.h"

G_BEGIN_DECLS

#define ESA_PROXY_DEFAULT_CONFIG SYSCONFDIR "/esa/esa-proxy.conf"
#define ESA_PROXY_DEFAULT_ESA_CONF SYSCONFDIR "/esa/esa.conf"

typedef struct {
  GInetAddress *address; /* NULL: every address (IPv4 and IPv6) */
  guint16 port;
} EsaProxyListen;

typedef struct {
  gatomicrefcount    refcount;
  char              *path;
  GArray            *listen;              /* of EsaProxyListen */
  char              *listen_text;         /* to notice a change on reload */
  EsaProxyAllowList *allow;
  char              *esa_conf;            /* where the default allow-list came from, or NULL */
  gboolean           allow_private_all;
  EsaProxyCidrList  *allow_private;
  EsaProxyCidrList  *clients;             /* NULL: any client */
  EsaProxyUsers     *users;               /* NULL: no authentication */
  char              *users_file;
  guint              max_tunnels;
  guint              idle_timeout;        /* seconds */
  guint              connect_timeout;     /* seconds */
  guint              header_timeout;      /* seconds */
  guint              max_pending_per_client; /* clients of one address still sending a head */
  guint              shutdown_timeout;    /* seconds */
  gsize              max_header_size;
  char              *access_log;          /* NULL: standard output */
  /* [upstream] */
  char              *upstream_host;       /* NULL: connect directly */
  guint16            upstream_port;
  char              *upstream_auth;       /* "Basic ..." or NULL */
} EsaProxyConfig;

EsaProxyConfig *esa_proxy_config_load  (const char *path, GError **error);
EsaProxyConfig *esa_proxy_config_ref   (EsaProxyConfig *config);
void            esa_proxy_config_unref (EsaProxyConfig *config);
/* TRUE if a destination address may be used (public, or allowed by allow-private-addresses). */
gboolean        esa_proxy_config_address_allowed (EsaProxyConfig *config, GInetAddress *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaProxyConfig, esa_proxy_config_unref)

G_END_DECLS
