/* esa-proxy-server.c: accepts clients and takes each one through its life:
 * source check -> limit -> request head -> authentication -> allow-list -> dial -> tunnel,
 * answering and logging every refusal on the way. Everything runs on the one main loop. */
#include "config.h"

#include "esa-proxy-server.h"

#include "esa-proxy-auth.h"
#include "esa-proxy-dial.h"
#include "esa-proxy-request.h"
#include "esa-proxy-tunnel.h"

#include <esa/esa-error.h>
#include <esa/esa-protocol.h>
#include <string.h>

/* Refused clients whose answer is still being delivered; past this they are just closed. */
#define MAX_REFUSING 256
#define LINGER_SECONDS 2
#define HEAD_CHUNK 2048

struct _EsaProxyServer {
  EsaProxyConfig *config;
  EsaProxyLog *log;
  GSocketService *service;
  GList *conns; /* of Conn: every client not yet fully closed */
  guint n_active;   /* counted against max-tunnels */
  guint n_refusing;
  gboolean stopping;
  GSource *stop_timeout;
  GSourceFunc stop_done;
  gpointer stop_data;
};

typedef enum {
  PHASE_HEAD,
  PHASE_AUTH,
  PHASE_DIAL,
  PHASE_TUNNEL,
  PHASE_REFUSING,
  PHASE_CLOSED,
} Phase;

typedef struct {
  gint refcount;
  EsaProxyServer *server;
  EsaProxyConfig *config; /* the configuration this client was accepted under */
  GList *link;
  Phase phase;
  gboolean active; /* counted in n_active */
  GSocketConnection *client;
  GSocketConnection *dest;
  GCancellable *cancellable;
  GSource *timer;
  char *peer;
  gint64 start;
  gint64 start_mono;
  /* request head */
  char *buf;
  gsize len;
  gsize cap;
  EsaProxyRequest *request;
  char *user;
  char *dest_name;
  /* answer and log */
  guint status;
  char *reason;
  char *response;
  guint8 drain[512];
  EsaProxyTunnel *tunnel;
} Conn;

static Conn *
conn_ref (Conn *c)
{
  c->refcount++;
  return c;
}

static void
conn_unref (Conn *c)
{
  if (--c->refcount > 0)
    return;
  g_assert (c->phase == PHASE_CLOSED);
  esa_proxy_config_unref (c->config);
  g_clear_object (&c->client);
  g_clear_object (&c->dest);
  g_clear_object (&c->cancellable);
  g_free (c->peer);
  g_free (c->buf);
  esa_proxy_request_free (c->request);
  g_free (c->user);
  g_free (c->dest_name);
  g_free (c->reason);
  g_free (c->response);
  g_free (c);
}

static void
clear_timer (Conn *c)
{
  if (c->timer != NULL)
    {
      g_source_destroy (c->timer);
      g_clear_pointer (&c->timer, g_source_unref);
    }
}

static void
set_timer (Conn *c, guint seconds, GSourceFunc func)
{
  clear_timer (c);
  c->timer = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (c->timer, func, c, NULL);
  g_source_attach (c->timer, NULL);
}

static void maybe_stopped (EsaProxyServer *server);

static void
release_active (Conn *c)
{
  if (!c->active)
    return;
  c->active = FALSE;
  c->server->n_active--;
}

/* Logs and closes the client for good. */
static void
conn_close (Conn *c, const char *result)
{
  EsaProxyServer *server = c->server;
  EsaProxyLogEntry e = { 0 };

  if (c->phase == PHASE_CLOSED)
    return;
  if (c->phase == PHASE_REFUSING)
    server->n_refusing--;
  release_active (c);
  c->phase = PHASE_CLOSED;
  clear_timer (c);
  g_cancellable_cancel (c->cancellable);

  e.start = c->start;
  e.duration = g_get_monotonic_time () - c->start_mono;
  e.client = c->peer;
  e.user = c->user;
  e.method = c->request != NULL ? esa_proxy_method_to_string (c->request->method) : NULL;
  e.dest = c->dest_name;
  e.status = c->status;
  if (c->tunnel != NULL)
    {
      e.up = esa_proxy_tunnel_get_bytes (c->tunnel, ESA_PROXY_TUNNEL_UP);
      e.down = esa_proxy_tunnel_get_bytes (c->tunnel, ESA_PROXY_TUNNEL_DOWN);
    }
  e.result = result;
  e.reason = c->reason;
  esa_proxy_log_write (server->log, &e);

  g_clear_pointer (&c->tunnel, esa_proxy_tunnel_free);
  if (c->dest != NULL)
    g_io_stream_close (G_IO_STREAM (c->dest), NULL, NULL);
  if (c->client != NULL)
    g_io_stream_close (G_IO_STREAM (c->client), NULL, NULL);
  server->conns = g_list_delete_link (server->conns, c->link);
  c->link = NULL;
  conn_unref (c);
  maybe_stopped (server);
}

static const char *
status_text (guint status)
{
  switch (status)
    {
    case 200: return "Connection established";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

static gboolean
linger_timeout_cb (gpointer user_data)
{
  Conn *c = user_data;
  g_clear_pointer (&c->timer, g_source_unref);
  conn_close (c, "refused");
  return G_SOURCE_REMOVE;
}

static void
drain_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Conn *c = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, NULL);

  if (c->phase == PHASE_REFUSING)
    {
      if (n > 0)
        g_input_stream_read_async (G_INPUT_STREAM (source), c->drain, sizeof c->drain,
                                   G_PRIORITY_DEFAULT, c->cancellable, drain_cb, conn_ref (c));
      else
        conn_close (c, "refused");
    }
  conn_unref (c);
}

static void
refusal_written_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Conn *c = user_data;
  GInputStream *in;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, NULL) ||
      c->phase != PHASE_REFUSING)
    {
      conn_close (c, "refused");
      conn_unref (c);
      return;
    }
  /* Closing with unread input makes the kernel send RST, which can destroy the answer
   * before the client reads it: half-close, then read what is left for a moment. */
  g_socket_shutdown (g_socket_connection_get_socket (c->client), FALSE, TRUE, NULL);
  in = g_io_stream_get_input_stream (G_IO_STREAM (c->client));
  if (g_input_stream_has_pending (in))
    {
      /* A request read is still out (header timeout); the linger timer ends it. */
      conn_unref (c);
      return;
    }
  g_input_stream_read_async (in, c->drain, sizeof c->drain, G_PRIORITY_DEFAULT, c->cancellable,
                             drain_cb, conn_ref (c));
  conn_unref (c);
}

/* Answers status with reason as the body, logs "refused" and closes. */
static void
conn_refuse (Conn *c, guint status, const char *reason)
{
  EsaProxyServer *server = c->server;
  GOutputStream *out;
  g_autofree char *body = g_strdup_printf ("%s\n", reason);
  const char *extra = "";

  if (c->phase == PHASE_CLOSED || c->phase == PHASE_REFUSING)
    return;
  c->status = status;
  g_free (c->reason);
  c->reason = g_strdup (reason);
  release_active (c);
  if (server->n_refusing >= MAX_REFUSING)
    {
      conn_close (c, "refused");
      return;
    }
  c->phase = PHASE_REFUSING;
  server->n_refusing++;
  g_clear_pointer (&c->tunnel, esa_proxy_tunnel_free);
  if (status == 407)
    extra = "Proxy-Authenticate: Basic realm=\"esa-proxy\", charset=\"UTF-8\"\r\n";
  else if (status == 405)
    extra = "Allow: CONNECT, GET\r\n";
  c->response = g_strdup_printf ("HTTP/1.1 %u %s\r\n%sContent-Type: text/plain; charset=utf-8\r\n"
                                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                 status, status_text (status), extra, strlen (body), body);
  set_timer (c, LINGER_SECONDS, linger_timeout_cb);
  out = g_io_stream_get_output_stream (G_IO_STREAM (c->client));
  g_output_stream_write_all_async (out, c->response, strlen (c->response), G_PRIORITY_DEFAULT,
                                   c->cancellable, refusal_written_cb, conn_ref (c));
}

static void
tunnel_done_cb (EsaProxyTunnel *tunnel, const char *result, const char *reason, gpointer user_data)
{
  Conn *c = user_data;
  if (reason != NULL)
    {
      g_free (c->reason);
      c->reason = g_strdup (reason);
    }
  conn_close (c, result);
}

static char *
build_get_request (Conn *c)
{
  EsaProxyRequest *r = c->request;
  GString *s = g_string_new (NULL);

  if (c->config->upstream_host != NULL)
    g_string_append_printf (s, "GET http://%s%s HTTP/1.1\r\n", c->dest_name, r->path);
  else
    g_string_append_printf (s, "GET %s HTTP/1.1\r\n", r->path);
  g_string_append_printf (s, "Host: %s\r\n", c->dest_name);
  for (guint i = 0; i < r->forward_headers->len; i++)
    g_string_append_printf (s, "%s\r\n", (const char *) g_ptr_array_index (r->forward_headers, i));
  if (c->config->upstream_host != NULL && c->config->upstream_auth != NULL)
    g_string_append_printf (s, "Proxy-Authorization: %s\r\n", c->config->upstream_auth);
  /* One request per connection: nothing pipelined behind it can reach the server. */
  g_string_append (s, "Connection: close\r\n\r\n");
  return g_string_free (s, FALSE);
}

static void
dial_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Conn *c = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) leftover = NULL;
  guint status = 0;
  GSocketConnection *dest = esa_proxy_dial_finish (res, &leftover, &status, &error);
  gboolean is_get;

  if (c->phase != PHASE_DIAL)
    {
      g_clear_object (&dest);
      conn_unref (c);
      return;
    }
  if (dest == NULL)
    {
      conn_refuse (c, status, error->message);
      conn_unref (c);
      return;
    }
  c->dest = dest;
  c->phase = PHASE_TUNNEL;
  c->status = 200;
  clear_timer (c);
  is_get = c->request->method == ESA_PROXY_METHOD_GET;
  c->tunnel = esa_proxy_tunnel_new (g_socket_connection_get_socket (c->client),
                                    g_socket_connection_get_socket (dest),
                                    c->config->idle_timeout, is_get);
  if (is_get)
    {
      g_autofree char *req = build_get_request (c);
      esa_proxy_tunnel_queue (c->tunnel, ESA_PROXY_TUNNEL_UP, req, strlen (req));
    }
  else
    {
      static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
      esa_proxy_tunnel_queue (c->tunnel, ESA_PROXY_TUNNEL_DOWN, ok, strlen (ok));
      if (leftover != NULL)
        esa_proxy_tunnel_queue (c->tunnel, ESA_PROXY_TUNNEL_DOWN,
                                g_bytes_get_data (leftover, NULL), g_bytes_get_size (leftover));
      /* Bytes the client sent right behind its CONNECT belong to the tunnel. */
      if (c->len > c->request->consumed)
        esa_proxy_tunnel_queue (c->tunnel, ESA_PROXY_TUNNEL_UP, c->buf + c->request->consumed,
                                c->len - c->request->consumed);
    }
  g_clear_pointer (&c->buf, g_free);
  c->len = c->cap = 0;
  esa_proxy_tunnel_start (c->tunnel, tunnel_done_cb, c);
  conn_unref (c);
}

static void
start_dial (Conn *c)
{
  EsaProxyRequest *r = c->request;

  if (r->method == ESA_PROXY_METHOD_GET && strcmp (r->path, ESA_PROTOCOL_PATH_CONFIG) != 0 &&
      !g_str_has_prefix (r->path, ESA_PROTOCOL_PATH_CONFIG "?"))
    {
      conn_refuse (c, 403, "only " ESA_PROTOCOL_PATH_CONFIG " may be fetched over plain HTTP");
      return;
    }
  if (!esa_proxy_allow_list_contains (c->config->allow, r->host, r->port))
    {
      g_autofree char *why = g_strdup_printf ("%s is not an allowed destination", c->dest_name);
      conn_refuse (c, 403, why);
      return;
    }
  c->phase = PHASE_DIAL;
  esa_proxy_dial_async (c->config, r->host, r->port,
                        r->method == ESA_PROXY_METHOD_GET ? ESA_PROXY_DIAL_HTTP
                                                          : ESA_PROXY_DIAL_TUNNEL,
                        c->cancellable, dial_cb, conn_ref (c));
}

static void
verify_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Conn *c = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = esa_proxy_users_verify_finish (c->config->users, res, &error);

  if (c->phase == PHASE_AUTH)
    {
      if (ok)
        start_dial (c);
      else
        conn_refuse (c, 407, error->message);
    }
  conn_unref (c);
}

static void
request_ready (Conn *c)
{
  EsaProxyRequest *r = c->request;
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;

  c->dest_name = esa_proxy_authority_format (r->host, r->port);
  if (c->config->users == NULL)
    {
      start_dial (c);
      return;
    }
  if (r->proxy_authorization == NULL)
    {
      conn_refuse (c, 407, "authentication required");
      return;
    }
  if (!esa_proxy_auth_parse_basic (r->proxy_authorization, &user, &password))
    {
      conn_refuse (c, 407, "malformed Proxy-Authorization (expected Basic)");
      return;
    }
  c->user = g_strdup (user);
  c->phase = PHASE_AUTH;
  esa_proxy_users_verify_async (c->config->users, user, password, c->cancellable, verify_cb,
                                conn_ref (c));
}

static void read_head (Conn *c);

static void
head_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Conn *c = user_data;
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);
  EsaProxyParseResult rc;
  guint status = 0;

  if (c->phase != PHASE_HEAD)
    {
      conn_unref (c);
      return;
    }
  if (n <= 0)
    {
      g_free (c->reason);
      c->reason = g_strdup (n < 0 ? error->message : "client closed before a complete request");
      conn_close (c, "aborted");
      conn_unref (c);
      return;
    }
  c->len += (gsize) n;
  rc = esa_proxy_request_parse (c->buf, c->len, c->config->max_header_size, &c->request, &status,
                                &error);
  if (rc == ESA_PROXY_PARSE_ERROR)
    conn_refuse (c, status, error->message);
  else if (rc == ESA_PROXY_PARSE_INCOMPLETE)
    read_head (c);
  else
    {
      clear_timer (c);
      request_ready (c);
    }
  conn_unref (c);
}

static void
read_head (Conn *c)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (c->client));
  /* Read at most one byte past the limit: enough to tell "too large" without buffering more. */
  gsize limit = c->config->max_header_size + 1;

  if (c->cap - c->len < HEAD_CHUNK / 2 && c->cap < limit)
    {
      c->cap = MIN (MAX (c->cap * 2, HEAD_CHUNK), limit);
      c->buf = g_realloc (c->buf, c->cap);
    }
  g_input_stream_read_async (in, c->buf + c->len, c->cap - c->len, G_PRIORITY_DEFAULT,
                             c->cancellable, head_read_cb, conn_ref (c));
}

static gboolean
head_timeout_cb (gpointer user_data)
{
  Conn *c = user_data;
  g_clear_pointer (&c->timer, g_source_unref);
  if (c->phase == PHASE_HEAD)
    conn_refuse (c, 408, "no complete request in time");
  return G_SOURCE_REMOVE;
}

static gboolean
incoming_cb (GSocketService *service, GSocketConnection *connection, GObject *source_object,
             gpointer user_data)
{
  EsaProxyServer *server = user_data;
  Conn *c = g_new0 (Conn, 1);
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  GInetAddress *addr = NULL;

  c->refcount = 1;
  c->server = server;
  c->config = esa_proxy_config_ref (server->config);
  c->client = g_object_ref (connection);
  c->cancellable = g_cancellable_new ();
  c->start = g_get_real_time ();
  c->start_mono = g_get_monotonic_time ();
  c->phase = PHASE_HEAD;
  server->conns = g_list_prepend (server->conns, c);
  c->link = server->conns;
  if (G_IS_INET_SOCKET_ADDRESS (remote))
    {
      g_autofree char *a = NULL;
      addr = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
      a = g_inet_address_to_string (addr);
      c->peer = esa_proxy_authority_format (a, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote)));
    }
  else
    c->peer = g_strdup ("unknown");

  if (c->config->clients != NULL && (addr == NULL || !esa_proxy_cidr_list_contains (c->config->clients, addr)))
    {
      conn_refuse (c, 403, "client address not allowed");
      return TRUE;
    }
  if (server->n_active >= c->config->max_tunnels)
    {
      g_autofree char *why = g_strdup_printf ("connection limit (%u) reached", c->config->max_tunnels);
      conn_refuse (c, 503, why);
      return TRUE;
    }
  c->active = TRUE;
  server->n_active++;
  set_timer (c, c->config->header_timeout, head_timeout_cb);
  read_head (c);
  return TRUE;
}

EsaProxyServer *
esa_proxy_server_new (EsaProxyConfig *config, EsaProxyLog *log)
{
  EsaProxyServer *server = g_new0 (EsaProxyServer, 1);
  server->config = esa_proxy_config_ref (config);
  server->log = log;
  return server;
}

gboolean
esa_proxy_server_start (EsaProxyServer *server, GError **error)
{
  EsaProxyConfig *config = server->config;

  server->service = g_socket_service_new ();
  /* Accept connections more than one at a time: the backlog of a busy site proxy. */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (server->service), 1024);
  for (guint i = 0; i < config->listen->len; i++)
    {
      EsaProxyListen *l = &g_array_index (config->listen, EsaProxyListen, i);
      g_autoptr (GError) local_error = NULL;
      gboolean ok;

      if (l->address == NULL)
        ok = g_socket_listener_add_inet_port (G_SOCKET_LISTENER (server->service), l->port, NULL,
                                              &local_error);
      else
        {
          g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (l->address, l->port);
          ok = g_socket_listener_add_address (G_SOCKET_LISTENER (server->service), sa,
                                              G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                              NULL, &local_error);
        }
      if (!ok)
        {
          g_autofree char *a = l->address != NULL ? g_inet_address_to_string (l->address)
                                                  : g_strdup ("*");
          g_autofree char *where = esa_proxy_authority_format (a, l->port);
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot listen on %s: %s", where,
                       local_error->message);
          return FALSE;
        }
    }
  g_signal_connect (server->service, "incoming", G_CALLBACK (incoming_cb), server);
  g_socket_service_start (server->service);
  return TRUE;
}

gboolean
esa_proxy_server_reload (EsaProxyServer *server, EsaProxyConfig *config, GError **error)
{
  const char *old_log = esa_proxy_log_get_path (server->log);

  if (g_strcmp0 (old_log, config->access_log) != 0)
    {
      EsaProxyLog *log = esa_proxy_log_open (config->access_log, error);
      if (log == NULL)
        return FALSE;
      esa_proxy_log_free (server->log);
      server->log = log;
    }
  else if (!esa_proxy_log_reopen (server->log, error))
    return FALSE;
  if (g_strcmp0 (config->listen_text, server->config->listen_text) != 0)
    g_warning ("%s: [proxy] listen changed (%s -> %s): restart esa-proxy to apply it",
               config->path, server->config->listen_text, config->listen_text);
  esa_proxy_config_unref (server->config);
  server->config = esa_proxy_config_ref (config);
  return TRUE;
}

guint
esa_proxy_server_get_n_active (EsaProxyServer *server)
{
  return server->n_active;
}

static void
maybe_stopped (EsaProxyServer *server)
{
  GSourceFunc done;
  if (!server->stopping || server->conns != NULL || server->stop_done == NULL)
    return;
  done = server->stop_done;
  server->stop_done = NULL;
  if (server->stop_timeout != NULL)
    {
      g_source_destroy (server->stop_timeout);
      g_clear_pointer (&server->stop_timeout, g_source_unref);
    }
  done (server->stop_data);
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  EsaProxyServer *server = user_data;
  g_clear_pointer (&server->stop_timeout, g_source_unref);
  while (server->conns != NULL)
    {
      Conn *c = server->conns->data;
      g_free (c->reason);
      c->reason = g_strdup ("shutdown-timeout reached");
      conn_close (c, "shutdown");
    }
  return G_SOURCE_REMOVE;
}

void
esa_proxy_server_stop (EsaProxyServer *server, GSourceFunc done, gpointer user_data)
{
  GList *copy;

  server->stopping = TRUE;
  server->stop_done = done;
  server->stop_data = user_data;
  if (server->service != NULL)
    {
      g_socket_service_stop (server->service);
      g_socket_listener_close (G_SOCKET_LISTENER (server->service));
    }
  /* Clients that have no tunnel yet would only be half served: close them now. */
  copy = g_list_copy (server->conns);
  for (GList *l = copy; l != NULL; l = l->next)
    {
      Conn *c = l->data;
      if (c->phase != PHASE_TUNNEL)
        {
          g_free (c->reason);
          c->reason = g_strdup ("proxy shutting down");
          conn_close (c, "shutdown");
        }
    }
  g_list_free (copy);
  if (server->conns != NULL)
    {
      g_message ("waiting up to %u s for %u tunnel(s) to finish", server->config->shutdown_timeout,
                 g_list_length (server->conns));
      server->stop_timeout = g_timeout_source_new_seconds (server->config->shutdown_timeout);
      g_source_set_callback (server->stop_timeout, stop_timeout_cb, server, NULL);
      g_source_attach (server->stop_timeout, NULL);
    }
  maybe_stopped (server);
}

void
esa_proxy_server_free (EsaProxyServer *server)
{
  if (server == NULL)
    return;
  server->stop_done = NULL;
  while (server->conns != NULL)
    conn_close (server->conns->data, "shutdown");
  if (server->stop_timeout != NULL)
    {
      g_source_destroy (server->stop_timeout);
      g_source_unref (server->stop_timeout);
    }
  if (server->service != NULL)
    {
      g_socket_service_stop (server->service);
      g_socket_listener_close (G_SOCKET_LISTENER (server->service));
      g_object_unref (server->service);
    }
  esa_proxy_log_free (server->log);
  esa_proxy_config_unref (server->config);
  g_free (server);
}
