/* esa-https.c: one HTTPS exchange over one route, classified for failover.
 * Synchronous on purpose: the sender runs it in a worker thread, where a
 * plain call that may take a whole timeout is harmless and easy to follow. */
#include "config.h"

#include "esa-https.h"
#include "esa-tls-policy-private.h"
#include "esa-upload-progress.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"
#include "esa/esa-protocol.h"

#include <string.h>

struct _EsaHttps {
  SoupSession *session;
  EsaRoute *route;
  char *user_agent;
  /* Cancels the request in flight only; reset before each one. Kept with
   * its poll fd held: GIO's blocking socket waits poll a cancellable's fd,
   * and a fresh cancellable made and closed an eventfd for every request. */
  GCancellable *cancel;
};

typedef struct {
  EsaHttps *https;
  EsaExchange *ex;
  GCancellable *cancel;     /* cancels this request only (the EsaHttps's) */
  GError *policy_error;     /* set when the TLS policy refused the peer */
  GTlsCertificateFlags cert_errors;
  gboolean tls_done;
  gboolean proxy_done;
  gboolean connected;
  guint proxy_auth_tries;
  guint proxy_refused;      /* the proxy's 401/407 to CONNECT when we gave up on it */
  gint64 start;
} Request;

void
esa_exchange_clear (EsaExchange *ex)
{
  g_clear_pointer (&ex->answer, json_node_unref);
  g_clear_pointer (&ex->answer_error, g_free);
  g_clear_pointer (&ex->message, g_free);
  g_clear_pointer (&ex->tls_version, g_free);
  g_clear_pointer (&ex->tls_cipher, g_free);
  g_clear_pointer (&ex->tls_peer, g_free);
  memset (ex, 0, sizeof *ex);
}

static void
copy_route (EsaRoute *dst, const EsaRoute *src)
{
  dst->proxy_index = src->proxy_index;
  dst->proxy_url = g_strdup (src->proxy_url);
  dst->proxy_user = g_strdup (src->proxy_user);
  dst->proxy_password = g_strdup (src->proxy_password);
  dst->server = g_strdup (src->server);
}

/* libsoup 3.2 gives glib-networking the bracketed "[::1]" of an IPv6 URL as
 * the TLS server identity, and it goes out as SNI; GnuTLS servers abort the
 * handshake on such a name (RFC 6066: SNI carries DNS names only). Reaching
 * an IP-literal server through an address instead sends no SNI, and the
 * certificate is then checked against its IP subjectAltName. */
static GSocketConnectable *
ip_literal_connectable (const char *server)
{
  g_autoptr (GUri) uri = g_uri_parse (server, G_URI_FLAGS_NONE, NULL);
  g_autofree char *host = NULL;
  gint port;
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return NULL;
  host = g_strdup (g_uri_get_host (uri));
  if (host[0] == '[' && g_str_has_suffix (host, "]"))
    {
      memmove (host, host + 1, strlen (host));
      host[strlen (host) - 1] = '\0';
    }
  if (!g_hostname_is_ip_address (host))
    return NULL;
  port = g_uri_get_port (uri);
  if (port <= 0)
    port = g_str_equal (g_uri_get_scheme (uri), "http") ? 80 : 443;
  return G_SOCKET_CONNECTABLE (g_inet_socket_address_new_from_string (host, (guint) port));
}

EsaHttps *
esa_https_new (EsaConfig *config, const EsaRoute *route, GError **error)
{
  g_autoptr (EsaHttps) self = g_new0 (EsaHttps, 1);
  g_autoptr (GProxyResolver) resolver = NULL;
  g_autoptr (GTlsDatabase) db = NULL;
  g_autoptr (GSocketConnectable) addr = NULL;

  self->route = g_new0 (EsaRoute, 1);
  copy_route (self->route, route);
  /* Never the environment's proxy: only what esa.conf says. Without one, no
   * resolver at all: GIO's default would load the libproxy and GNOME modules,
   * GSettings and dconf (a thread and megabytes) only to say "direct". */
  if (route->proxy_url != NULL)
    resolver = g_simple_proxy_resolver_new (route->proxy_url, NULL);
  if (esa_config_get_ca_file (config) != NULL)
    {
      db = g_tls_file_database_new (esa_config_get_ca_file (config), error);
      if (db == NULL)
        {
          g_prefix_error (error, "[sdc] ca-file %s: ", esa_config_get_ca_file (config));
          return NULL;
        }
      /* glib-networking asks for the backend's default database while it
       * builds each TLS connection, before libsoup hands it ours: unless the
       * default is this file, the first request parses the whole system CA
       * bundle (about 8 MiB, for good). esad trusts only the ca-file anyway. */
      g_tls_backend_set_default_database (g_tls_backend_get_default (), db);
    }
  else
    db = g_tls_backend_get_default_database (g_tls_backend_get_default ());
  self->user_agent = g_strdup_printf ("OpenESA/%s", ESA_VERSION);
  self->cancel = g_cancellable_new ();
  {
    GPollFD pfd;
    /* Held until esa_https_free: see struct _EsaHttps. */
    g_cancellable_make_pollfd (self->cancel, &pfd);
  }
  if (route->proxy_url == NULL)
    addr = ip_literal_connectable (route->server);
  self->session = soup_session_new_with_options ("proxy-resolver", resolver,
                                                 "tls-database", db,
                                                 "timeout", (guint) esa_config_get_timeout (config),
                                                 "idle-timeout", (guint) 30,
                                                 "user-agent", self->user_agent,
                                                 "max-conns-per-host", 2,
                                                 "remote-connectable", addr,
                                                 NULL);
  return g_steal_pointer (&self);
}

const EsaRoute *
esa_https_get_route (EsaHttps *self)
{
  return self->route;
}

void
esa_https_free (EsaHttps *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->session);
  if (self->cancel != NULL)
    {
      g_cancellable_release_fd (self->cancel);
      g_object_unref (self->cancel);
    }
  esa_route_free (self->route);
  g_free (self->user_agent);
  g_free (self);
}

static gint64
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1000;
}

static void
on_network_event (SoupMessage *msg, GSocketClientEvent event, GIOStream *connection, gpointer user_data)
{
  Request *req = user_data;
  switch (event)
    {
    case G_SOCKET_CLIENT_RESOLVED:
      if (req->ex->resolved_ms == 0)
        req->ex->resolved_ms = ms_since (req->start);
      break;
    case G_SOCKET_CLIENT_CONNECTED:
      req->connected = TRUE;
      if (req->ex->connected_ms == 0)
        req->ex->connected_ms = ms_since (req->start);
      break;
    case G_SOCKET_CLIENT_PROXY_NEGOTIATED:
      req->proxy_done = TRUE;
      req->ex->proxy_ms = ms_since (req->start);
      break;
    case G_SOCKET_CLIENT_TLS_HANDSHAKED:
      {
        GTlsConnection *tls = G_TLS_CONNECTION (connection);
        GTlsCertificate *peer = g_tls_connection_get_peer_certificate (tls);
        req->tls_done = TRUE;
        req->ex->tls_ms = ms_since (req->start);
        g_free (req->ex->tls_version);
        req->ex->tls_version = g_strdup (esa_tls_version_name (g_tls_connection_get_protocol_version (tls)));
        g_free (req->ex->tls_cipher);
        req->ex->tls_cipher = g_tls_connection_get_ciphersuite_name (tls);
        if (peer != NULL)
          {
            g_free (req->ex->tls_peer);
            g_object_get (peer, "subject-name", &req->ex->tls_peer, NULL);
          }
        if (!esa_tls_policy_check (tls, &req->policy_error))
          g_cancellable_cancel (req->cancel);
      }
      break;
    default:
      break;
    }
}

/* Is the TLS session with the server up? A request on a pooled keep-alive
 * connection sees no network events (no CONNECT, no handshake): libsoup
 * copies the connection's peer certificate onto the message instead. Without
 * this, a server's 401/4xx/5xx on a reused tunnel read as the proxy's. */
static gboolean
tls_up (Request *req, SoupMessage *msg)
{
  return req->tls_done || soup_message_get_tls_peer_certificate (msg) != NULL;
}

/* Certificate and host-name errors are never waved through. */
static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
                       gpointer user_data)
{
  Request *req = user_data;
  req->cert_errors = errors;
  return FALSE;
}

/* Answers a proxy's challenge once; never a server's (we send Basic
 * ourselves) and never a second time — see NOTES.md on tinyproxy's 401. */
static gboolean
on_authenticate (SoupMessage *msg, SoupAuth *auth, gboolean retrying, gpointer user_data)
{
  Request *req = user_data;
  const EsaRoute *route = req->https->route;
  if (!soup_auth_is_for_proxy (auth) || retrying || route->proxy_user == NULL ||
      ++req->proxy_auth_tries > 1)
    {
      if (route->proxy_url != NULL && !tls_up (req, msg))
        {
          /* a 401 on CONNECT, or a 407 to our credentials: the proxy refused us */
          /* the message holds no status yet: the challenge says which it was */
          req->proxy_refused = soup_message_get_status (msg) != 0 ? soup_message_get_status (msg)
                               : soup_auth_is_for_proxy (auth)    ? SOUP_STATUS_PROXY_AUTHENTICATION_REQUIRED
                                                                  : SOUP_STATUS_UNAUTHORIZED;
          g_cancellable_cancel (req->cancel);
        }
      return FALSE;
    }
  soup_auth_authenticate (auth, route->proxy_user, route->proxy_password);
  return TRUE;
}

static char *
cert_errors_text (GTlsCertificateFlags f)
{
  g_autoptr (GString) s = g_string_new (NULL);
  if (f & G_TLS_CERTIFICATE_UNKNOWN_CA) g_string_append (s, "issued by an unknown CA, ");
  if (f & G_TLS_CERTIFICATE_BAD_IDENTITY) g_string_append (s, "host name does not match, ");
  if (f & G_TLS_CERTIFICATE_NOT_ACTIVATED) g_string_append (s, "not yet valid, ");
  if (f & G_TLS_CERTIFICATE_EXPIRED) g_string_append (s, "expired, ");
  if (f & G_TLS_CERTIFICATE_REVOKED) g_string_append (s, "revoked, ");
  if (f & G_TLS_CERTIFICATE_INSECURE) g_string_append (s, "insecure algorithm, ");
  if (s->len == 0) g_string_append (s, "not trusted, ");
  g_string_truncate (s, s->len - 2);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static const char *
error_message_of (JsonNode *answer)
{
  JsonObject *o, *e;
  if (answer == NULL || !JSON_NODE_HOLDS_OBJECT (answer))
    return NULL;
  o = json_node_get_object (answer);
  if (!json_object_has_member (o, "error") || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "error")))
    return NULL;
  e = json_object_get_object_member (o, "error");
  /* The SDC's answer is outside input: _with_default raises a critical on an
   * object or array member, so the type is checked first. */
  if (!json_object_has_member (e, "message") || !JSON_NODE_HOLDS_VALUE (json_object_get_member (e, "message")) ||
      json_node_get_value_type (json_object_get_member (e, "message")) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (json_object_get_member (e, "message"));
}

/* Sorts an attempt into an outcome; the heart of failover. */
static void
classify (Request *req, SoupMessage *msg, GBytes *body, GError *error)
{
  EsaExchange *ex = req->ex;
  const EsaRoute *route = req->https->route;
  gboolean proxied = route->proxy_url != NULL;
  gboolean tunnel = tls_up (req, msg);
  guint status = soup_message_get_status (msg);
  g_autofree char *where = esa_route_describe (route);

  ex->elapsed_ms = ms_since (req->start);
  ex->status = status;
  if (body != NULL && g_bytes_get_size (body) > 0)
    {
      /* The answer is outside input: json-glib's recursive parser must never
       * see an unbounded nesting (300,000 '[' overflow its stack). */
      g_autoptr (GError) parse_error = NULL;
      ex->answer = esa_json_parse (g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body),
                                   ESA_HTTPS_ANSWER_MAX_BYTES, ESA_JSON_MAX_DEPTH_DEFAULT, &parse_error);
      if (ex->answer == NULL)
        ex->answer_error = g_strdup (parse_error->message);
    }
  else
    ex->answer_error = g_strdup ("empty body");

  if (req->policy_error != NULL)
    {
      ex->outcome = ESA_OUTCOME_NEXT_SERVER;
      ex->message = g_strdup_printf ("%s: %s", where, req->policy_error->message);
      return;
    }
  if (req->cert_errors != 0)
    {
      g_autofree char *why = cert_errors_text (req->cert_errors);
      ex->outcome = ESA_OUTCOME_NEXT_SERVER;
      ex->message = g_strdup_printf ("%s: TLS: server certificate refused: %s", where, why);
      return;
    }
  /* Anything before the tunnel is up is the proxy's doing. */
  if (proxied && !tunnel && (status == 407 || status == 401))
    {
      ex->outcome = ESA_OUTCOME_NEXT_PROXY;
      ex->proxy_status = status;
      ex->message = g_strdup_printf ("%s: proxy authentication failed (%u %s)", where, status,
                                     soup_status_get_phrase (status));
      return;
    }
  if (proxied && !tunnel && status >= 400)
    {
      ex->proxy_status = status;
      /* 502/504: the proxy is fine but cannot reach this server. */
      ex->outcome = (status == 502 || status == 504) ? ESA_OUTCOME_NEXT_SERVER : ESA_OUTCOME_NEXT_PROXY;
      ex->message = g_strdup_printf ("%s: proxy answered %u %s", where, status, soup_status_get_phrase (status));
      return;
    }
  /* The proxy's answer to CONNECT, for esactl test: 200 once the tunnel is up. */
  if (proxied && (req->proxy_done || tunnel))
    ex->proxy_status = 200;
  if (error != NULL)
    {
      const char *what = error->message;
      g_autofree char *why = NULL;
      gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      if (cancelled && proxied && !tunnel && req->proxy_refused != 0)
        {
          ex->proxy_status = req->proxy_refused;
          why = g_strdup_printf ("proxy refused the tunnel (%u %s)%s", req->proxy_refused,
                                 soup_status_get_phrase (req->proxy_refused),
                                 req->proxy_auth_tries > 0 ? ": user or password not accepted" : "");
          what = why;
        }
      else if (cancelled && proxied && !tunnel && status == 0)
        what = "proxy refused the tunnel";
      else if (cancelled)
        what = "stopped before an answer (esad is stopping or the call was cancelled)";
      ex->outcome = (proxied && !req->proxy_done && !tunnel) ? ESA_OUTCOME_NEXT_PROXY
                                                               : ESA_OUTCOME_NEXT_SERVER;
      if (proxied && !req->connected && !tunnel)
        ex->message = g_strdup_printf ("%s: cannot reach the proxy: %s", where, what);
      else
        ex->message = g_strdup_printf ("%s: %s", where, what);
      return;
    }
  esa_https_classify_status (where, status, ex->answer,
                             soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location"), ex);
}

void
esa_https_classify_status (const char *where, guint status, JsonNode *answer, const char *location,
                           EsaExchange *ex)
{
  /* Redirects are never followed (SOUP_MESSAGE_NO_REDIRECT): data goes only
   * to the servers esa.conf names, and never in clear text. A 3xx means this
   * server is the wrong one; another may be right. */
  if (SOUP_STATUS_IS_REDIRECTION (status))
    {
      ex->outcome = ESA_OUTCOME_NEXT_SERVER;
      ex->message = g_strdup_printf ("%s: SDC answered %u %s (redirect%s%s not followed: reports go only to "
                                     "the servers in esa.conf)", where, status, soup_status_get_phrase (status),
                                     location ? " to " : "", location ? location : "");
      return;
    }
  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      ex->outcome = ESA_OUTCOME_OK;
      ex->message = g_strdup_printf ("%s: %u %s", where, status, soup_status_get_phrase (status));
      return;
    }
  {
    const char *sdc_msg = error_message_of (answer);
    if (status == 401)
      ex->outcome = ESA_OUTCOME_AUTH;
    /* 404/405: this server does not serve API v1 at that URL (a wrong
     * backup address); another server may. Only a 4xx about the report
     * itself is final. */
    else if (status == 404 || status == 405 || status == 408 || status == 429 || status >= 500)
      ex->outcome = ESA_OUTCOME_NEXT_SERVER;
    else
      ex->outcome = ESA_OUTCOME_REJECTED;
    ex->message = g_strdup_printf ("%s: SDC answered %u %s%s%s", where, status, soup_status_get_phrase (status),
                                   sdc_msg ? ": " : "", sdc_msg ? sdc_msg : "");
  }
}

static char *
join_url (const char *server, const char *path)
{
  if (g_str_has_suffix (server, "/") && path[0] == '/')
    return g_strconcat (server, path + 1, NULL);
  return g_strconcat (server, path, NULL);
}

static void
set_basic_auth (SoupMessage *msg, const char *user, const char *password)
{
  g_autofree char *pair = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *value = NULL;
  if (user == NULL)
    return;
  pair = g_strdup_printf ("%s:%s", user, password ? password : "");
  b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
  value = g_strdup_printf ("Basic %s", b64);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
}

/* The body of a message, kept to set it again when libsoup restarts the
 * message: after a proxy's 407 on CONNECT, libsoup 3.2 sends the message
 * again with its (already consumed) body stream, i.e. an empty body. */
typedef struct {
  char *content_type;
  GBytes *bytes;      /* a JSON body */
  char *file;         /* or a file, streamed */
  goffset size;
} Body;

static void
body_free (Body *b)
{
  g_free (b->content_type);
  g_clear_pointer (&b->bytes, g_bytes_unref);
  g_free (b->file);
  g_free (b);
}

static gboolean
set_body (SoupMessage *msg, Body *b, GError **error)
{
  if (b->bytes != NULL)
    soup_message_set_request_body_from_bytes (msg, b->content_type, b->bytes);
  else
    {
      g_autoptr (GFile) gf = g_file_new_for_path (b->file);
      g_autoptr (GFileInputStream) in = g_file_read (gf, NULL, error);
      if (in == NULL)
        return FALSE;
      soup_message_set_request_body (msg, b->content_type, G_INPUT_STREAM (in), b->size);
    }
  return TRUE;
}

static void
on_restarted (SoupMessage *msg, gpointer user_data)
{
  Body *b = g_object_get_data (G_OBJECT (msg), "esa-body");
  const char *origin = g_object_get_data (G_OBJECT (msg), "esa-origin");
  g_autofree char *now = g_uri_to_string (soup_message_get_uri (msg));
  g_autoptr (GError) error = NULL;
  /* The body belongs to the original https:// request only: a restart to
   * any other URI (a redirect, were one ever followed) gets none. */
  if (origin == NULL || !g_str_equal (origin, now))
    return;
  if (b != NULL && !set_body (msg, b, &error))
    g_warning ("%s: %s", b->file, error->message);
}

/* Sets the body of @msg so that it survives a restart. Takes @b. */
static gboolean
attach_body (SoupMessage *msg, Body *b, GError **error)
{
  g_object_set_data_full (G_OBJECT (msg), "esa-body", b, (GDestroyNotify) body_free);
  g_signal_connect (msg, "restarted", G_CALLBACK (on_restarted), NULL);
  return set_body (msg, b, error);
}

/* Body bytes on their way to the SDC: esactl's progress bar. */
static void
on_wrote_body_data (SoupMessage *msg, guint chunk_size, gpointer user_data)
{
  esa_upload_progress_add (chunk_size);
}

/* The answer's body, read whole (what soup_session_send_and_read does,
 * without its memory stream and splice for a body of a few hundred bytes),
 * then the stream closed so the connection goes back to the pool. NULL
 * with @error set when the exchange failed. Reading stops past
 * ESA_HTTPS_ANSWER_MAX_BYTES: a hostile or broken SDC answering without
 * end must not fill esad's memory before the parser refuses it. */
static GBytes *
send_and_read (SoupSession *session, SoupMessage *msg, GCancellable *cancel, GError **error)
{
  g_autoptr (GInputStream) in = soup_session_send (session, msg, cancel, error);
  g_autoptr (GByteArray) buf = NULL;
  guint8 chunk[4096];
  if (in == NULL)
    return NULL;
  buf = g_byte_array_new ();
  for (;;)
    {
      gssize n = g_input_stream_read (in, chunk, sizeof chunk, cancel, error);
      if (n < 0)
        {
          g_input_stream_close (in, NULL, NULL);
          return NULL;
        }
      if (n == 0)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
      if (buf->len > ESA_HTTPS_ANSWER_MAX_BYTES)
        {
          g_input_stream_close (in, NULL, NULL);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       "SDC answer larger than %u bytes, not read further", ESA_HTTPS_ANSWER_MAX_BYTES);
          return NULL;
        }
    }
  if (!g_input_stream_close (in, cancel, error))
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

static void
run_request (EsaHttps *self, SoupMessage *msg, GCancellable *cancellable, EsaExchange *ex)
{
  Request req = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  gulong cancel_id = 0;

  req.https = self;
  req.ex = ex;
  /* Not in use between requests; cancelled by the last one, maybe. */
  g_cancellable_reset (self->cancel);
  req.cancel = self->cancel;
  req.start = g_get_monotonic_time ();
  if (cancellable != NULL)
    cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (g_cancellable_cancel),
                                       g_object_ref (req.cancel), g_object_unref);
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), &req);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), &req);
  g_signal_connect (msg, "authenticate", G_CALLBACK (on_authenticate), &req);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (on_wrote_body_data), &req);
  /* Reports are never sent again by libsoup behind our back, and never to
   * another URL: a redirect is classified, not followed. */
  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT | SOUP_MESSAGE_NO_REDIRECT);
  g_object_set_data_full (G_OBJECT (msg), "esa-origin", g_uri_to_string (soup_message_get_uri (msg)), g_free);
  body = send_and_read (self->session, msg, req.cancel, &error);
  classify (&req, msg, body, error);
  g_signal_handlers_disconnect_by_data (msg, &req);
  if (cancel_id != 0)
    g_cancellable_disconnect (cancellable, cancel_id);
  g_clear_error (&req.policy_error);
  /* A refused route must not keep a pooled connection to it. */
  if (ex->outcome != ESA_OUTCOME_OK)
    soup_session_abort (self->session);
}

/* DESIGN.md: nothing is ever uploaded over plain HTTP, whatever the config says. */
static gboolean
refuse_plain_http (EsaHttps *self, EsaExchange *ex)
{
  if (g_str_has_prefix (self->route->server, "https://"))
    return FALSE;
  /* A local configuration problem (an http:// server from the credentials,
   * say), not the SDC's verdict on the report: the report stays queued. */
  ex->outcome = ESA_OUTCOME_NEXT_SERVER;
  ex->message = g_strdup_printf ("%s: refused: data is only ever sent over https:// (fix [sdc] servers= or "
                                 "activate again with --server https://…)", self->route->server);
  return TRUE;
}

void
esa_https_json (EsaHttps *self, const char *method, const char *path, JsonNode *body,
                const char *user, const char *password, const char *idempotency_key,
                GCancellable *cancellable, EsaExchange *ex)
{
  g_autoptr (GBytes) bytes = NULL;
  if (body != NULL)
    {
      char *text = esa_json_to_string (body, FALSE);
      bytes = g_bytes_new_take (text, strlen (text));
    }
  esa_https_json_bytes (self, method, path, bytes, user, password, idempotency_key, cancellable, ex);
}

void
esa_https_json_bytes (EsaHttps *self, const char *method, const char *path, GBytes *body,
                      const char *user, const char *password, const char *idempotency_key,
                      GCancellable *cancellable, EsaExchange *ex)
{
  g_autofree char *url = join_url (self->route->server, path);
  g_autoptr (SoupMessage) msg = NULL;
  if (refuse_plain_http (self, ex))
    return;
  msg = soup_message_new (method, url);
  if (msg == NULL)
    {
      ex->outcome = ESA_OUTCOME_NEXT_SERVER; /* the configured URL, not the report */
      ex->message = g_strdup_printf ("%s: not a valid URL", url);
      return;
    }
  if (body != NULL)
    {
      Body *b = g_new0 (Body, 1);
      b->content_type = g_strdup ("application/json");
      b->bytes = g_bytes_ref (body);
      attach_body (msg, b, NULL);
    }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept", "application/json");
  if (idempotency_key != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), ESA_PROTOCOL_HEADER_IDEMPOTENCY_KEY, idempotency_key);
  set_basic_auth (msg, user, password);
  run_request (self, msg, cancellable, ex);
}

void
esa_https_put_file (EsaHttps *self, const char *path, const char *file, const char *content_type,
                    const char *sha256, const char *user, const char *password,
                    GCancellable *cancellable, EsaExchange *ex)
{
  g_autofree char *url = join_url (self->route->server, path);
  g_autoptr (SoupMessage) msg = soup_message_new ("PUT", url);
  g_autoptr (GFile) gf = g_file_new_for_path (file);
  g_autoptr (GError) error = NULL;
  g_autoptr (GFileInfo) info = g_file_query_info (gf, G_FILE_ATTRIBUTE_STANDARD_SIZE, 0, NULL, &error);
  g_autoptr (GFileInputStream) in = info ? g_file_read (gf, NULL, &error) : NULL;
  if (refuse_plain_http (self, ex))
    return;
  if (in == NULL || msg == NULL)
    {
      ex->outcome = ESA_OUTCOME_REJECTED;
      ex->message = g_strdup_printf ("%s: %s", file, error ? error->message : "bad URL");
      return;
    }
  {
    Body *b = g_new0 (Body, 1);
    b->content_type = g_strdup (content_type);
    b->file = g_strdup (file);
    b->size = g_file_info_get_size (info);
    if (!attach_body (msg, b, &error))
      {
        ex->outcome = ESA_OUTCOME_REJECTED;
        ex->message = g_strdup_printf ("%s: %s", file, error->message);
        return;
      }
  }
  soup_message_headers_replace (soup_message_get_request_headers (msg), ESA_PROTOCOL_HEADER_SHA256, sha256);
  set_basic_auth (msg, user, password);
  run_request (self, msg, cancellable, ex);
}

void
esa_http_get_config (EsaConfig *config, const EsaRoute *route, const char *url,
                     GCancellable *cancellable, EsaExchange *ex)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaHttps) https = NULL;
  EsaRoute r = { 0 };
  g_autoptr (SoupMessage) msg = NULL;
  if (!g_str_has_prefix (url, "http://") && !g_str_has_prefix (url, "https://"))
    {
      ex->outcome = ESA_OUTCOME_REJECTED;
      ex->message = g_strdup_printf ("%s: not an http(s) URL", url);
      return;
    }
  r = *route;
  r.server = (char *) url;
  https = esa_https_new (config, &r, &error);
  if (https == NULL)
    {
      ex->outcome = ESA_OUTCOME_NEXT_SERVER;
      ex->message = g_strdup (error->message);
      return;
    }
  /* GET only, no credentials: plain HTTP never carries data out (DESIGN.md). */
  msg = soup_message_new ("GET", url);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept", "application/json");
  run_request (https, msg, cancellable, ex);
}
