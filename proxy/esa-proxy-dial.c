/* esa-proxy-dial.c: reaches a destination that already passed the allow-list.
 *
 * Names are resolved here, not by GSocketClient, so every address can be checked before
 * use: a permitted name that resolves into the site's own network (loopback, private,
 * link-local) is refused unless allow-private-addresses= says otherwise. The whole dial,
 * resolution and upstream handshake included, is bounded by connect-timeout. */
#include "config.h"

#include "esa-proxy-dial.h"

#include "esa-proxy-allow.h"

#include <esa/esa-error.h>
#include <string.h>

#define UPSTREAM_HEAD_MAX 16384

typedef struct {
  EsaProxyConfig *config;
  char *host;
  guint16 port;
  EsaProxyDialMode mode;
  GCancellable *cancellable; /* ours: cancelled by the caller's or by the timeout */
  gulong cancel_id;
  GCancellable *outer;
  GSource *timeout;
  gboolean timed_out;
  GSocketClient *client;     /* to the upstream proxy only */
  GSocket *socket;           /* a direct connect under way */
  GSource *connect_source;   /* its wait for the socket to be writable */
  GList *addresses; /* of GInetAddress, left to try */
  GError *last_error;
  GSocketConnection *conn;
  guint8 head[UPSTREAM_HEAD_MAX];
  gsize head_len;
  char *request;
  GBytes *leftover;
  guint status; /* on failure */
} DialData;

static void
dial_data_free (DialData *d)
{
  if (d->timeout != NULL)
    {
      g_source_destroy (d->timeout);
      g_source_unref (d->timeout);
    }
  if (d->outer != NULL)
    {
      g_cancellable_disconnect (d->outer, d->cancel_id);
      g_object_unref (d->outer);
    }
  if (d->connect_source != NULL)
    {
      g_source_destroy (d->connect_source);
      g_source_unref (d->connect_source);
    }
  g_clear_object (&d->socket);
  g_object_unref (d->cancellable);
  g_clear_object (&d->client);
  g_list_free_full (d->addresses, g_object_unref);
  g_clear_error (&d->last_error);
  g_clear_object (&d->conn);
  g_free (d->request);
  g_clear_pointer (&d->leftover, g_bytes_unref);
  esa_proxy_config_unref (d->config);
  g_free (d->host);
  g_free (d);
}

static void
fail (GTask *task, guint status, GError *error)
{
  DialData *d = g_task_get_task_data (task);
  if (d->timed_out)
    {
      g_clear_error (&error);
      status = 504;
      error = g_error_new (ESA_ERROR, ESA_ERROR_TIMEOUT, "%s:%u: no connection within %u s",
                           d->host, d->port, d->config->connect_timeout);
    }
  d->status = status;
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
succeed (GTask *task)
{
  DialData *d = g_task_get_task_data (task);
  g_task_return_pointer (task, g_steal_pointer (&d->conn), g_object_unref);
  g_object_unref (task);
}

static void read_upstream_head (GTask *task);

static void
upstream_head_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = user_data;
  DialData *d = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);
  const guint8 *end = NULL;
  gsize head_len;
  guint code = 0;

  if (n < 0)
    return fail (task, 502, error);
  if (n == 0)
    return fail (task, 502, g_error_new (ESA_ERROR, ESA_ERROR_NETWORK,
                                         "upstream proxy closed the connection"));
  d->head_len += (gsize) n;
  for (gsize i = 0; i + 3 < d->head_len; i++)
    if (memcmp (d->head + i, "\r\n\r\n", 4) == 0)
      {
        end = d->head + i;
        break;
      }
  if (end == NULL)
    {
      if (d->head_len >= UPSTREAM_HEAD_MAX)
        return fail (task, 502, g_error_new (ESA_ERROR, ESA_ERROR_INVALID_DATA,
                                             "upstream proxy answer too long"));
      return read_upstream_head (task);
    }
  if (d->head_len < 12 || memcmp (d->head, "HTTP/1.", 7) != 0 || d->head[8] != ' ' ||
      !g_ascii_isdigit (d->head[9]) || !g_ascii_isdigit (d->head[10]) ||
      !g_ascii_isdigit (d->head[11]))
    return fail (task, 502, g_error_new (ESA_ERROR, ESA_ERROR_INVALID_DATA,
                                         "upstream proxy answer is not HTTP"));
  code = (guint) (d->head[9] - '0') * 100 + (guint) (d->head[10] - '0') * 10 +
         (guint) (d->head[11] - '0');
  /* tinyproxy, for one, answers 401 where RFC 9110 says 407 */
  if (code == 407 || code == 401)
    return fail (task, 502, g_error_new (ESA_ERROR, ESA_ERROR_AUTH,
                                         "upstream proxy refused our credentials (%u)", code));
  if (code < 200 || code > 299)
    return fail (task, 502, g_error_new (ESA_ERROR, ESA_ERROR_NETWORK,
                                         "upstream proxy answered %u to CONNECT", code));
  head_len = (gsize) (end - d->head) + 4;
  if (head_len < d->head_len)
    d->leftover = g_bytes_new (d->head + head_len, d->head_len - head_len);
  succeed (task);
}

static void
read_upstream_head (GTask *task)
{
  DialData *d = g_task_get_task_data (task);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (d->conn));

  g_input_stream_read_async (in, d->head + d->head_len, UPSTREAM_HEAD_MAX - d->head_len,
                             G_PRIORITY_DEFAULT, d->cancellable, upstream_head_read_cb, task);
}

static void
upstream_request_written_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, &error))
    return fail (task, 502, error);
  read_upstream_head (task);
}

static void
connected_cb (GObject *source, GAsyncResult *res, gpointer user_data);
static void try_next_address (GTask *task);

/* A direct connect failed: the next address, or the dial fails with the last error. */
static void
direct_failed (GTask *task, GError *error)
{
  DialData *d = g_task_get_task_data (task);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || d->addresses == NULL)
    {
      g_clear_error (&d->last_error);
      return fail (task, 502, error);
    }
  g_clear_error (&d->last_error);
  d->last_error = error;
  try_next_address (task);
}

static gboolean
direct_ready_cb (GSocket *sock, GIOCondition cond, gpointer user_data)
{
  GTask *task = user_data;
  DialData *d = g_task_get_task_data (task);
  GError *error = NULL;
  (void) cond;
  g_clear_pointer (&d->connect_source, g_source_unref);
  if (g_cancellable_set_error_if_cancelled (d->cancellable, &error) || !g_socket_check_connect_result (sock, &error))
    {
      g_clear_object (&d->socket);
      direct_failed (task, error);
      return G_SOURCE_REMOVE;
    }
  d->conn = g_socket_connection_factory_create_connection (sock);
  g_clear_object (&d->socket);
  succeed (task);
  return G_SOURCE_REMOVE;
}

/* One address, no upstream: a nonblocking connect on a socket of our own, watched on the
 * main loop. GSocketClient does the same for one address through an enumerator, several
 * tasks and its event signals: a third of esa-proxy's CPU per tunnel opened, which made
 * it slower to open tunnels than tinyproxy (docs/performance.md, esa-proxy). */
static void
connect_direct (GTask *task, GSocketAddress *sa)
{
  DialData *d = g_task_get_task_data (task);
  GError *error = NULL;
  GSocket *sock = g_socket_new (g_socket_address_get_family (sa), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                &error);
  if (sock == NULL)
    return direct_failed (task, error);
  g_socket_set_blocking (sock, FALSE);
  if (g_socket_connect (sock, sa, NULL, &error))
    {
      d->conn = g_socket_connection_factory_create_connection (sock);
      g_object_unref (sock);
      return succeed (task);
    }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
    {
      g_object_unref (sock);
      return direct_failed (task, error);
    }
  g_clear_error (&error);
  d->socket = sock;
  /* a cancelled dial (the caller's, or connect-timeout) wakes it too */
  d->connect_source = g_socket_create_source (sock, G_IO_OUT, d->cancellable);
  g_source_set_callback (d->connect_source, (GSourceFunc) (void (*) (void)) direct_ready_cb, task, NULL);
  g_source_attach (d->connect_source, NULL);
}

static void
try_next_address (GTask *task)
{
  DialData *d = g_task_get_task_data (task);
  g_autoptr (GInetAddress) addr = NULL;
  g_autoptr (GSocketAddress) sa = NULL;

  if (d->config->upstream_host != NULL)
    {
      /* The upstream is the site's own proxy: a private address is expected there. */
      g_autoptr (GSocketConnectable) up =
          g_network_address_new (d->config->upstream_host, d->config->upstream_port);
      g_socket_client_connect_async (d->client, up, d->cancellable, connected_cb, task);
      return;
    }

  if (d->addresses == NULL)
    {
      GError *error = g_steal_pointer (&d->last_error);
      if (error == NULL)
        error = g_error_new (ESA_ERROR, ESA_ERROR_NETWORK, "%s: no address", d->host);
      return fail (task, 502, error);
    }
  addr = d->addresses->data;
  d->addresses = g_list_delete_link (d->addresses, d->addresses);
  sa = g_inet_socket_address_new (addr, d->port);
  connect_direct (task, sa);
}

static void
connected_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = user_data;
  DialData *d = g_task_get_task_data (task);
  GError *error = NULL;
  g_autofree char *request = NULL;
  g_autofree char *authority = NULL;
  GOutputStream *out;

  d->conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), res, &error);
  if (d->conn == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || d->addresses == NULL ||
          d->config->upstream_host != NULL)
        {
          g_clear_error (&d->last_error);
          return fail (task, 502, error);
        }
      g_clear_error (&d->last_error);
      d->last_error = error;
      return try_next_address (task);
    }
  if (d->config->upstream_host == NULL || d->mode == ESA_PROXY_DIAL_HTTP)
    return succeed (task);

  authority = esa_proxy_authority_format (d->host, d->port);
  request = g_strdup_printf ("CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", authority, authority,
                             d->config->upstream_auth != NULL ? "Proxy-Authorization: " : "",
                             d->config->upstream_auth != NULL ? d->config->upstream_auth : "",
                             d->config->upstream_auth != NULL ? "\r\n" : "");
  out = g_io_stream_get_output_stream (G_IO_STREAM (d->conn));
  d->request = g_steal_pointer (&request);
  g_output_stream_write_all_async (out, d->request, strlen (d->request), G_PRIORITY_DEFAULT,
                                   d->cancellable, upstream_request_written_cb, task);
}

static void
resolved_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = user_data;
  DialData *d = g_task_get_task_data (task);
  GError *error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), res, &error);
  GList *allowed = NULL;
  g_autofree char *refused = NULL;

  if (addresses == NULL && d->config->upstream_host != NULL &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Behind an upstream proxy local DNS often knows only local names: the upstream
       * resolves; the exact-name allow-list is the guard. */
      g_clear_error (&error);
      return try_next_address (task);
    }
  if (addresses == NULL)
    return fail (task, 502, error);
  for (GList *l = addresses; l != NULL; l = l->next)
    {
      if (esa_proxy_config_address_allowed (d->config, l->data))
        allowed = g_list_append (allowed, g_object_ref (l->data));
      else if (refused == NULL)
        refused = g_inet_address_to_string (l->data);
    }
  g_resolver_free_addresses (addresses);
  /* Behind an upstream proxy, one private answer is enough to refuse: the upstream resolves
   * again and might pick exactly that address. */
  if (allowed == NULL || (d->config->upstream_host != NULL && refused != NULL))
    {
      g_list_free_full (allowed, g_object_unref);
      return fail (task, 403, g_error_new (ESA_ERROR, ESA_ERROR_REFUSED,
                                           "%s resolves to non-public address %s "
                                           "(not in allow-private-addresses)",
                                           d->host, refused));
    }
  if (d->config->upstream_host != NULL)
    {
      g_list_free_full (allowed, g_object_unref);
      return try_next_address (task);
    }
  d->addresses = allowed;
  try_next_address (task);
}

static gboolean
timeout_cb (gpointer user_data)
{
  DialData *d = user_data;
  d->timed_out = TRUE;
  g_cancellable_cancel (d->cancellable);
  return G_SOURCE_REMOVE;
}

static void
outer_cancelled_cb (GCancellable *outer, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

void
esa_proxy_dial_async (EsaProxyConfig *config, const char *host, guint16 port, EsaProxyDialMode mode,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  DialData *d = g_new0 (DialData, 1);
  g_autoptr (GInetAddress) literal = g_inet_address_new_from_string (host);
  g_autoptr (GResolver) resolver = NULL;

  g_task_set_source_tag (task, esa_proxy_dial_async);
  d->config = esa_proxy_config_ref (config);
  d->host = g_strdup (host);
  d->port = port;
  d->mode = mode;
  d->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      d->outer = g_object_ref (cancellable);
      d->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (outer_cancelled_cb),
                                            d->cancellable, NULL);
    }
  if (config->upstream_host != NULL)
    {
      d->client = g_socket_client_new ();
      /* Never let GIO pick a proxy from the environment: upstream= is the only way out. */
      g_socket_client_set_enable_proxy (d->client, FALSE);
    }
  g_task_set_task_data (task, d, (GDestroyNotify) dial_data_free);
  d->timeout = g_timeout_source_new_seconds (config->connect_timeout);
  g_source_set_callback (d->timeout, timeout_cb, d, NULL);
  g_source_attach (d->timeout, NULL);

  if (literal != NULL)
    {
      /* Same policy as for a resolved name. */
      if (!esa_proxy_config_address_allowed (config, literal))
        return fail (task, 403, g_error_new (ESA_ERROR, ESA_ERROR_REFUSED,
                                             "%s is a non-public address (not in "
                                             "allow-private-addresses)",
                                             host));
      d->addresses = g_list_append (NULL, g_steal_pointer (&literal));
      return try_next_address (task);
    }
  resolver = g_resolver_get_default ();
  g_resolver_lookup_by_name_async (resolver, host, d->cancellable, resolved_cb, task);
}

GSocketConnection *
esa_proxy_dial_finish (GAsyncResult *result, GBytes **leftover, guint *status, GError **error)
{
  GTask *task = G_TASK (result);
  DialData *d = g_task_get_task_data (task);
  GSocketConnection *conn = g_task_propagate_pointer (task, error);

  *status = conn != NULL ? 200 : d->status;
  if (leftover != NULL)
    *leftover = conn != NULL && d->leftover != NULL ? g_bytes_ref (d->leftover) : NULL;
  return conn;
}
