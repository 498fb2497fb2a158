/* esa-proxy-allow.c: host/port normalization and the destination allow-list.
 *
 * Everything that decides "may this client reach that host" goes through
 * esa_proxy_authority_parse (), so a request and an allow-list entry are compared in the
 * same normal form and only by exact equality: no suffix matching, no resolving first. */
#include "config.h"

#include "esa-proxy-allow.h"

#include <arpa/inet.h>
#include <esa/esa-error.h>
#include <gio/gio.h>
#include <string.h>

struct _EsaProxyAllowList {
  GHashTable *entries; /* "host:port" -> NULL */
};

static gboolean
host_error (GError **error, const char *host, gsize len, const char *why)
{
  g_autofree char *copy = g_strndup (host, len);
  g_autofree char *esc = g_strescape (copy, NULL);
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "host \"%s\": %s", esc, why);
  return FALSE;
}

gboolean
esa_proxy_host_normalize (const char *host, gsize len, char **out, gboolean *is_ip, GError **error)
{
  g_autofree char *name = NULL;
  struct in_addr v4;
  gsize label = 0;

  if (len == 0)
    return host_error (error, host, len, "empty host");

  if (host[0] == '[')
    {
      g_autofree char *inner = NULL;
      g_autoptr (GInetAddress) addr = NULL;
      if (len < 3 || host[len - 1] != ']')
        return host_error (error, host, len, "unterminated IPv6 literal");
      inner = g_strndup (host + 1, len - 2);
      /* Zone ids ("fe80::1%eth0") would select an interface: never from a client. */
      if (strchr (inner, '%') != NULL || strchr (inner, ':') == NULL)
        return host_error (error, host, len, "not an IPv6 address");
      addr = g_inet_address_new_from_string (inner);
      if (addr == NULL || g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV6)
        return host_error (error, host, len, "not an IPv6 address");
      *out = g_inet_address_to_string (addr);
      *is_ip = TRUE;
      return TRUE;
    }

  if (len > 254)
    return host_error (error, host, len, "name too long");
  for (gsize i = 0; i < len; i++)
    {
      char c = host[i];
      if (g_ascii_isalnum (c) || c == '-')
        {
          if (c == '-' && label == 0)
            return host_error (error, host, len, "label starts with '-'");
          label++;
          if (label > 63)
            return host_error (error, host, len, "label too long");
          continue;
        }
      if (c == '.')
        {
          /* Only the very last character may end an empty label (the root). */
          if (label == 0 && !(i == len - 1 && i > 0))
            return host_error (error, host, len, "empty label");
          if (host[i - 1] == '-')
            return host_error (error, host, len, "label ends with '-'");
          label = 0;
          continue;
        }
      return host_error (error, host, len, "invalid character in host name");
    }
  name = g_ascii_strdown (host, len);
  /* "example.com." and "example.com" are the same name; keep one spelling. */
  if (name[strlen (name) - 1] == '.')
    name[strlen (name) - 1] = '\0';
  if (name[0] == '\0' || name[strlen (name) - 1] == '-')
    return host_error (error, host, len, "invalid host name");

  /* inet_aton () takes "127.1", "0x7f.1" and "2130706433" as addresses, and so would the
   * resolver behind us. Only the canonical dotted quad is an IPv4 literal; the rest is
   * ambiguous and refused. */
  if (inet_aton (name, &v4) != 0)
    {
      g_autoptr (GInetAddress) addr = g_inet_address_new_from_bytes ((const guint8 *) &v4,
                                                                     G_SOCKET_FAMILY_IPV4);
      g_autofree char *canon = g_inet_address_to_string (addr);
      if (g_strcmp0 (canon, name) != 0)
        return host_error (error, host, len, "ambiguous numeric address");
      *out = g_steal_pointer (&canon);
      *is_ip = TRUE;
      return TRUE;
    }
  /* An all-numeric last label is no DNS name (RFC 3696 2) but could be some resolver's idea
   * of an address. */
  {
    const char *last = strrchr (name, '.');
    gboolean numeric = TRUE;
    for (const char *p = last != NULL ? last + 1 : name; *p != '\0'; p++)
      if (!g_ascii_isdigit (*p))
        numeric = FALSE;
    if (numeric)
      return host_error (error, host, len, "numeric top-level label");
  }
  *out = g_steal_pointer (&name);
  *is_ip = FALSE;
  return TRUE;
}

static gboolean
port_parse (const char *text, guint16 *port, GError **error)
{
  guint value = 0;
  gsize n = strlen (text);

  if (n == 0 || n > 5 || text[0] == '0')
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "port \"%s\": expected a decimal number 1-65535", text);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        {
          g_autofree char *esc = g_strescape (text, NULL);
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "port \"%s\": expected a decimal number 1-65535", esc);
          return FALSE;
        }
      value = value * 10 + (guint) (text[i] - '0');
    }
  if (value > 65535)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "port \"%s\": expected a decimal number 1-65535", text);
      return FALSE;
    }
  *port = (guint16) value;
  return TRUE;
}

gboolean
esa_proxy_authority_parse (const char *authority, guint16 default_port, char **host,
                           guint16 *port, gboolean *is_ip, GError **error)
{
  const char *colon = NULL;
  gsize host_len;
  gboolean ip = FALSE;

  if (strchr (authority, '@') != NULL)
    {
      g_autofree char *esc = g_strescape (authority, NULL);
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "\"%s\": user information is not allowed", esc);
      return FALSE;
    }
  if (authority[0] == '[')
    {
      const char *close = strchr (authority, ']');
      if (close == NULL)
        return host_error (error, authority, strlen (authority), "unterminated IPv6 literal");
      if (close[1] == ':')
        colon = close + 1;
      else if (close[1] != '\0')
        return host_error (error, authority, strlen (authority), "junk after IPv6 literal");
    }
  else
    {
      colon = strchr (authority, ':');
      if (colon != NULL && strchr (colon + 1, ':') != NULL)
        return host_error (error, authority, strlen (authority), "more than one ':'");
    }

  host_len = colon != NULL ? (gsize) (colon - authority) : strlen (authority);
  if (colon != NULL)
    {
      if (!port_parse (colon + 1, port, error))
        return FALSE;
    }
  else if (default_port != 0)
    *port = default_port;
  else
    {
      g_autofree char *esc = g_strescape (authority, NULL);
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "\"%s\": expected host:port", esc);
      return FALSE;
    }
  if (!esa_proxy_host_normalize (authority, host_len, host, &ip, error))
    return FALSE;
  if (is_ip != NULL)
    *is_ip = ip;
  return TRUE;
}

char *
esa_proxy_authority_format (const char *host, guint16 port)
{
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

EsaProxyAllowList *
esa_proxy_allow_list_new (void)
{
  EsaProxyAllowList *list = g_new0 (EsaProxyAllowList, 1);
  list->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return list;
}

void
esa_proxy_allow_list_free (EsaProxyAllowList *list)
{
  if (list == NULL)
    return;
  g_hash_table_unref (list->entries);
  g_free (list);
}

gboolean
esa_proxy_allow_list_add (EsaProxyAllowList *list, const char *entry, GError **error)
{
  g_autofree char *host = NULL;
  g_autofree char *text = g_strstrip (g_strdup (entry));
  guint16 port = 0;

  if (!esa_proxy_authority_parse (text, 0, &host, &port, NULL, error))
    return FALSE;
  g_hash_table_add (list->entries, esa_proxy_authority_format (host, port));
  return TRUE;
}

gboolean
esa_proxy_allow_list_add_url (EsaProxyAllowList *list, const char *url, GError **error)
{
  g_autofree char *text = g_strstrip (g_strdup (url));
  g_autofree char *authority = NULL;
  g_autofree char *host = NULL;
  const char *rest;
  const char *end;
  guint16 def;
  guint16 port = 0;

  if (g_ascii_strncasecmp (text, "https://", 8) == 0)
    {
      rest = text + 8;
      def = 443;
    }
  else if (g_ascii_strncasecmp (text, "http://", 7) == 0)
    {
      rest = text + 7;
      def = 80;
    }
  else
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "\"%s\": unsupported scheme (expected https:// or http://)", text);
      return FALSE;
    }
  end = rest + strcspn (rest, "/?#");
  authority = g_strndup (rest, (gsize) (end - rest));
  if (!esa_proxy_authority_parse (authority, def, &host, &port, NULL, error))
    return FALSE;
  g_hash_table_add (list->entries, esa_proxy_authority_format (host, port));
  return TRUE;
}

gboolean
esa_proxy_allow_list_contains (const EsaProxyAllowList *list, const char *host, guint16 port)
{
  g_autofree char *key = esa_proxy_authority_format (host, port);
  return g_hash_table_contains (list->entries, key);
}

guint
esa_proxy_allow_list_size (const EsaProxyAllowList *list)
{
  return g_hash_table_size (list->entries);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

char **
esa_proxy_allow_list_to_strv (const EsaProxyAllowList *list)
{
  g_autoptr (GPtrArray) arr = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, list->entries);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (arr, g_strdup (key));
  g_ptr_array_sort (arr, compare_strings);
  g_ptr_array_add (arr, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&arr), FALSE);
}
