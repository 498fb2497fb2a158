/* esa-proxy-cidr.c: CIDR lists for clients= and allow-private-addresses=, and the list of
 * address ranges that are never "the internet" (so a name cannot pivot into the site). */
#include "config.h"

#include "esa-proxy-cidr.h"

#include <esa/esa-error.h>
#include <string.h>

struct _EsaProxyCidrList {
  GPtrArray *masks; /* of GInetAddressMask */
};

EsaProxyCidrList *
esa_proxy_cidr_list_new (void)
{
  EsaProxyCidrList *list = g_new0 (EsaProxyCidrList, 1);
  list->masks = g_ptr_array_new_with_free_func (g_object_unref);
  return list;
}

void
esa_proxy_cidr_list_free (EsaProxyCidrList *list)
{
  if (list == NULL)
    return;
  g_ptr_array_unref (list->masks);
  g_free (list);
}

gboolean
esa_proxy_cidr_list_add (EsaProxyCidrList *list, const char *cidr, GError **error)
{
  g_autoptr (GInetAddressMask) mask = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *text = g_strstrip (g_strdup (cidr));

  /* GInetAddressMask accepts only canonical masks ("10.1.2.3/8" is refused), which is what
   * we want: a typo in an access rule must not silently widen it. */
  mask = g_inet_address_mask_new_from_string (text, &local_error);
  if (mask == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s", local_error->message);
      return FALSE;
    }
  g_ptr_array_add (list->masks, g_steal_pointer (&mask));
  return TRUE;
}

guint
esa_proxy_cidr_list_size (const EsaProxyCidrList *list)
{
  return list != NULL ? list->masks->len : 0;
}

GInetAddress *
esa_proxy_address_unmap (GInetAddress *address)
{
  const guint8 *b;
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
    return g_object_ref (address);
  b = g_inet_address_to_bytes (address);
  if (memcmp (b, prefix, sizeof prefix) != 0)
    return g_object_ref (address);
  return g_inet_address_new_from_bytes (b + 12, G_SOCKET_FAMILY_IPV4);
}

gboolean
esa_proxy_cidr_list_contains (const EsaProxyCidrList *list, GInetAddress *address)
{
  g_autoptr (GInetAddress) addr = NULL;

  if (list == NULL)
    return FALSE;
  addr = esa_proxy_address_unmap (address);
  for (guint i = 0; i < list->masks->len; i++)
    {
      GInetAddressMask *mask = g_ptr_array_index (list->masks, i);
      if (g_inet_address_mask_matches (mask, addr) || g_inet_address_mask_matches (mask, address))
        return TRUE;
    }
  return FALSE;
}

/* Ranges that are not routable on the internet (RFC 6890 and friends). A destination name
 * resolving into one of these is almost certainly an attempt to reach the site's network. */
static const char *const non_public_ranges[] = {
  "0.0.0.0/8",       "10.0.0.0/8",      "100.64.0.0/10",  "127.0.0.0/8",
  "169.254.0.0/16",  "172.16.0.0/12",   "192.0.0.0/24",   "192.0.2.0/24",
  "192.168.0.0/16",  "198.18.0.0/15",   "198.51.100.0/24", "203.0.113.0/24",
  "224.0.0.0/4",     "240.0.0.0/4",
  "::/128",          "::1/128",         "64:ff9b:1::/48", "100::/64",
  "2001:db8::/32",   "fc00::/7",        "fe80::/10",      "fec0::/10",
  "ff00::/8",
};

gboolean
esa_proxy_address_is_public (GInetAddress *address)
{
  static EsaProxyCidrList *ranges = NULL;

  if (g_once_init_enter (&ranges))
    {
      EsaProxyCidrList *list = esa_proxy_cidr_list_new ();
      for (gsize i = 0; i < G_N_ELEMENTS (non_public_ranges); i++)
        {
          gboolean ok = esa_proxy_cidr_list_add (list, non_public_ranges[i], NULL);
          g_assert (ok);
        }
      g_once_init_leave (&ranges, list);
    }
  /* NAT64 (RFC 6052, 64:ff9b::/96) carries an IPv4 address in its last four
   * bytes: on a NAT64 site it reaches that IPv4 host, so judge that one. */
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    {
      static const guint8 nat64[12] = { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
      const guint8 *bytes = g_inet_address_to_bytes (address);
      if (memcmp (bytes, nat64, sizeof nat64) == 0)
        {
          g_autoptr (GInetAddress) v4 = g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
          return esa_proxy_address_is_public (v4);
        }
    }
  return !esa_proxy_cidr_list_contains (ranges, address);
}
