/* esa-proxy-cidr.h: address ranges (CIDR lists) and the "is this a public address" rule. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _EsaProxyCidrList EsaProxyCidrList;

EsaProxyCidrList *esa_proxy_cidr_list_new      (void);
void              esa_proxy_cidr_list_free     (EsaProxyCidrList *list);
/* Adds "10.0.0.0/8", "::1", "fe80::/10"... An address without a length is a host. */
gboolean          esa_proxy_cidr_list_add      (EsaProxyCidrList *list,
                                                const char       *cidr,
                                                GError          **error);
guint             esa_proxy_cidr_list_size     (const EsaProxyCidrList *list);
gboolean          esa_proxy_cidr_list_contains (const EsaProxyCidrList *list,
                                                GInetAddress           *address);

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) as the IPv4 address it carries; otherwise a new ref. */
GInetAddress     *esa_proxy_address_unmap      (GInetAddress *address);
/* FALSE for loopback, link-local, private, CGNAT, ULA, multicast, reserved... ranges. */
gboolean          esa_proxy_address_is_public  (GInetAddress *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaProxyCidrList, esa_proxy_cidr_list_free)

G_END_DECLS
