/* esa-proxy-allow.h: destination names, their one normal form, and the allow-list. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Normalizes a host as written in a request: lowercase, one trailing dot dropped, IP
 * literals in canonical form (IPv6 without brackets). Refuses everything that is neither a
 * strict DNS name nor an IP literal: percent-encoding, userinfo, '_', zone ids, and
 * numeric forms like "127.1" or "0x7f000001" that resolvers would take for an address. */
gboolean  esa_proxy_host_normalize      (const char *host,
                                         gsize       len,
                                         char      **out,
                                         gboolean   *is_ip,
                                         GError    **error);
/* Splits and normalizes "host:port" / "[v6]:port". With default_port 0 the port is
 * required; otherwise a missing port means default_port. */
gboolean  esa_proxy_authority_parse     (const char *authority,
                                         guint16     default_port,
                                         char      **host,
                                         guint16    *port,
                                         gboolean   *is_ip,
                                         GError    **error);
/* "host:port" or "[v6]:port", for logs, Host headers and allow-list keys. */
char     *esa_proxy_authority_format    (const char *host,
                                         guint16     port);

typedef struct _EsaProxyAllowList EsaProxyAllowList;

EsaProxyAllowList *esa_proxy_allow_list_new      (void);
void               esa_proxy_allow_list_free     (EsaProxyAllowList *list);
/* Adds one "host:port" entry (normalized as requests are). */
gboolean           esa_proxy_allow_list_add      (EsaProxyAllowList *list,
                                                  const char        *entry,
                                                  GError           **error);
/* Adds host:port from an https:// or http:// URL (the [sdc] servers= form). */
gboolean           esa_proxy_allow_list_add_url  (EsaProxyAllowList *list,
                                                  const char        *url,
                                                  GError           **error);
/* host must already be normalized (esa_proxy_authority_parse output). */
gboolean           esa_proxy_allow_list_contains (const EsaProxyAllowList *list,
                                                  const char              *host,
                                                  guint16                  port);
guint              esa_proxy_allow_list_size     (const EsaProxyAllowList *list);
/* Sorted entries, for --check-config and the log. */
char             **esa_proxy_allow_list_to_strv  (const EsaProxyAllowList *list);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaProxyAllowList, esa_proxy_allow_list_free)

G_END_DECLS
