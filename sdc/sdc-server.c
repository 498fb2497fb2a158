/* sdc-server.c: the HTTP side of `esa-sdc serve`: listeners, routing, limits, logging.
 *
 * Two SoupServers: one HTTPS with the certificate from `init`, serving the whole API,
 * and an optional plain-HTTP one that serves GET /esa/v1/config and nothing else (the
 * agent's last-resort way to fetch configuration). Every check that needs only the
 * headers (route, method, credentials, Content-Type, Content-Length) runs in the early
 * handler, so a refused request is answered before its body is read; bodies are then
 * collected by hand (accumulate off) so no request is ever held beyond its limit. */
#include "config.h"

#include "sdc-server-private.h"
#include "sdc-sqlite-checkpoint.h"
#include "sdc-auth.h"
#include "sdc-error.h"
#include "sdc-idle.h"
#include "sdc-json.h"
#include "sdc-log.h"
#include "esa/esa-protocol.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* Storage threads besides the writer: PBKDF2 of cache misses and registrations. */
#define SDC_SERVER_STORAGE_THREADS 2
/* Verified credentials remembered; how long another instance's password change can lag. */
#define SDC_SERVER_AUTH_CACHE_MAX 100000
#define SDC_SERVER_AUTH_CACHE_TTL 300
/* Failed logins per address or system id within the window before 429. */
#define SDC_SERVER_THROTTLE_FAILURES 10
#define SDC_SERVER_THROTTLE_WINDOW 60
#define SDC_SERVER_THROTTLE_KEYS 65536
/* Connections per client address still in TLS handshake or first request head, and the
 * seconds they get (sdc-guard.c): fewer than GLib's ten handshake threads. */
#define SDC_SERVER_MAX_PENDING 8
#define SDC_SERVER_HEADER_TIMEOUT 10

static const SdcRoute routes[] = {
  { ESA_PROTOCOL_PATH_REGISTER, "POST", FALSE, SDC_ROUTE_REGISTER, NULL },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_HEARTBEAT, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_HEARTBEAT },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_PROBLEM, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_PROBLEM },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_INVENTORY, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_INVENTORY },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_UAK_STATUS, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_UAK_STATUS },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_EXTENDED_DATA, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_EXTENDED_DATA },
  { ESA_PROTOCOL_PATH_REPORTS, "POST", TRUE, SDC_ROUTE_BATCH, NULL },
  { ESA_PROTOCOL_PATH_UAK, "POST", TRUE, SDC_ROUTE_UAK, NULL },
  { ESA_PROTOCOL_PATH_CONTACT, "POST", TRUE, SDC_ROUTE_SYSTEM, "contact" },
  { ESA_PROTOCOL_PATH_DEACTIVATE, "POST", TRUE, SDC_ROUTE_SYSTEM, "deactivate" },
  { ESA_PROTOCOL_PATH_CONFIG, "GET", FALSE, SDC_ROUTE_CONFIG, NULL },
  { ESA_PROTOCOL_PATH_ATTACHMENT, "PUT", TRUE, SDC_ROUTE_ATTACHMENT, NULL },
};

/* the web view (sdc-ui.c) checks its own methods; its bodies are small login forms */
static const SdcRoute ui_route = { "/ui/", "GET", FALSE, SDC_ROUTE_UI, NULL };
#define SDC_UI_MAX_BODY 8192

/* The keys of esa-sdc's data on libsoup's objects, looked up several times a request:
 * as quarks, which saves the lookup of the string (a global lock and a hash) each time.
 * Every HTTPS loop asks (sdc-loops.c): made once, under GLib's once-lock. */
static GQuark
quark_of (gsize *q, const char *name)
{
  if (g_once_init_enter (q))
    g_once_init_leave (q, g_quark_from_static_string (name));
  return (GQuark) *q;
}

static gsize request_q, logged_q, nodelay_q, corked_q, loop_q;
#define SDC_REQUEST_Q quark_of (&request_q, "sdc-request")
#define SDC_LOGGED_Q quark_of (&logged_q, "sdc-logged")
#define SDC_NODELAY_Q quark_of (&nodelay_q, "sdc-nodelay")
#define SDC_CORKED_Q quark_of (&corked_q, "sdc-corked")
/* on each HTTPS SoupServer: its loop's number, from 1 (the main loop's) */
#define SDC_LOOP_Q quark_of (&loop_q, "sdc-loop")

static void log_request (SdcServer *self, SoupServerMessage *msg, const char *outcome);

static void
sdc_request_free (SdcRequest *req)
{
  g_free (req->system_id);
  g_free (req->auth_user);
  if (req->auth_password != NULL)
    {
      memset (req->auth_password, 0, strlen (req->auth_password));
      g_free (req->auth_password);
    }
  if (req->obj != NULL)
    json_object_unref (req->obj);
  g_free (req->answer);
  if (req->body != NULL)
    g_byte_array_unref (req->body);
  g_free (req->report_uuid);
  g_free (req->att_name);
  sdc_upload_free (req->upload);
  g_clear_error (&req->deferred);
  g_free (req->uuid);
  sdc_batch_free (req->batch);
  g_free (req);
}

void
sdc_server_respond_json (SoupServerMessage *msg, guint status, const char *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, json, strlen (json));
}

void
sdc_server_respond_error (SoupServerMessage *msg, SdcRequest *req, const GError *error)
{
  g_autofree char *body = sdc_json_error_body (error);
  SdcError code = sdc_error_code_of (error);
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);

  if (code == SDC_ERROR_UNAUTHORIZED)
    soup_message_headers_replace (hdrs, "WWW-Authenticate", "Basic realm=\"" SDC_AUTH_REALM "\"");
  if (code == SDC_ERROR_TOO_MANY_REQUESTS && req != NULL && req->retry_after > 0)
    {
      g_autofree char *secs = g_strdup_printf ("%u", req->retry_after);
      soup_message_headers_replace (hdrs, "Retry-After", secs);
    }
  if (code == SDC_ERROR_METHOD_NOT_ALLOWED && req != NULL && req->route != NULL)
    soup_message_headers_replace (hdrs, "Allow", req->route->method);
  if (code == SDC_ERROR_INTERNAL)
    g_printerr ("esa-sdc: internal error: %s\n", error->message);
  if (req != NULL)
    req->error_code = sdc_error_code_name (code);
  sdc_server_respond_json (msg, sdc_error_http_status (code), body);
}

/* An error decided from the headers alone leaves the body unread, and libsoup 3.2 sends
 * no answer before it has read (and dropped) the whole body: a client announcing
 * Content-Length: 99999999999 would hold the connection for as long as it likes. So
 * when a body is pending, the connection is taken from libsoup, the answer written
 * directly, and the connection closed. */
typedef struct {
  GIOStream *io;
  GBytes *bytes;
  GCancellable *cancel;
  GSource *timeout; /* in the loop of the connection */
  guint64 drained;
  guint8 buf[65536];
} EarlyAnswer;

/* After the answer, what the client still sends is read and dropped for a moment (a
 * "lingering close"), so a client that reads only after sending sees the answer rather
 * than a reset; then the connection is closed whatever it is doing. */
#define SDC_LINGER_SECONDS 3
#define SDC_LINGER_BYTES (64 * 1024 * 1024)

static void
early_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  EarlyAnswer *ea = user_data;
  g_io_stream_close_finish (ea->io, result, NULL);
  sdc_timeout_clear (&ea->timeout);
  g_object_unref (ea->cancel);
  g_object_unref (ea->io);
  g_bytes_unref (ea->bytes);
  g_free (ea);
}

static gboolean
linger_timeout_cb (gpointer user_data)
{
  EarlyAnswer *ea = user_data;
  sdc_timeout_clear (&ea->timeout);
  g_cancellable_cancel (ea->cancel);
  return G_SOURCE_REMOVE;
}

static void
early_drained_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  EarlyAnswer *ea = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  if (n > 0 && (ea->drained += (guint64) n) < SDC_LINGER_BYTES)
    {
      g_input_stream_read_async (G_INPUT_STREAM (source), ea->buf, sizeof ea->buf, G_PRIORITY_LOW,
                                 ea->cancel, early_drained_cb, ea);
      return;
    }
  g_io_stream_close_async (ea->io, G_PRIORITY_DEFAULT, NULL, early_closed_cb, ea);
}

static void
early_written_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  EarlyAnswer *ea = user_data;
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_output_stream_flush (G_OUTPUT_STREAM (source), NULL, NULL);
  ea->timeout = sdc_timeout_here (SDC_LINGER_SECONDS * 1000, linger_timeout_cb, ea);
  g_input_stream_read_async (g_io_stream_get_input_stream (ea->io), ea->buf, sizeof ea->buf, G_PRIORITY_LOW,
                             ea->cancel, early_drained_cb, ea);
}

static void
respond_early_error (SoupServerMessage *msg, SdcRequest *req, const GError *error)
{
  SoupMessageHeaders *req_hdrs = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  g_autoptr (GString) head = NULL;
  g_autofree char *body = NULL;
  SoupMessageHeadersIter iter;
  const char *name;
  const char *value;
  EarlyAnswer *ea;
  guint status;

  sdc_server_respond_error (msg, req, error);
  if (soup_message_headers_get_encoding (req_hdrs) != SOUP_ENCODING_CHUNKED &&
      soup_message_headers_get_content_length (req_hdrs) <= 0)
    return;
  status = soup_server_message_get_status (msg);
  body = sdc_json_error_body (error);
  head = g_string_new (NULL);
  g_string_append_printf (head, "HTTP/1.1 %u %s\r\n", status, soup_status_get_phrase (status));
  soup_message_headers_iter_init (&iter, hdrs);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    if (g_ascii_strcasecmp (name, "Content-Length") != 0 && g_ascii_strcasecmp (name, "Connection") != 0 &&
        g_ascii_strcasecmp (name, "Content-Type") != 0 && g_ascii_strcasecmp (name, "Server") != 0)
      g_string_append_printf (head, "%s: %s\r\n", name, value);
  g_string_append_printf (head, "Server: esa-sdc/" ESA_VERSION "\r\nContent-Type: application/json\r\n"
                                "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          strlen (body), body);
  /* the log line first: libsoup forgets the message once its connection is taken */
  log_request (req->server, msg, " closed-early");
  g_object_set_qdata (G_OBJECT (msg), SDC_LOGGED_Q, GINT_TO_POINTER (1));
  ea = g_new0 (EarlyAnswer, 1);
  ea->cancel = g_cancellable_new ();
  ea->io = soup_server_message_steal_connection (msg);
  ea->bytes = g_bytes_new (head->str, head->len);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (ea->io), head->str, head->len,
                                   G_PRIORITY_DEFAULT, NULL, early_written_cb, ea);
}

static void
respond_error_literal (SoupServerMessage *msg, SdcRequest *req, SdcError code, const char *message)
{
  g_autoptr (GError) error = g_error_new_literal (SDC_ERROR, code, message);
  respond_early_error (msg, req, error);
}

gboolean
sdc_route_is_report_kind (const char *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    if (routes[i].kind == SDC_ROUTE_REPORT && g_strcmp0 (routes[i].report_kind, kind) == 0)
      return TRUE;
  return FALSE;
}

static const SdcRoute *
find_route (const char *path, const char **tail)
{
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      const char *p = routes[i].path;
      if (g_str_has_suffix (p, "/"))
        {
          if (g_str_has_prefix (path, p))
            {
              *tail = path + strlen (p);
              return &routes[i];
            }
        }
      else if (g_strcmp0 (path, p) == 0)
        {
          *tail = NULL;
          return &routes[i];
        }
    }
  return NULL;
}

/* A stored hash to verify against when the system id is unknown, so that an unknown id
 * costs the same PBKDF2 as a wrong password and timing does not tell ids apart. */
static SdcPasswordHash *
dummy_hash (void)
{
  static SdcPasswordHash *dummy;
  if (g_once_init_enter (&dummy))
    {
      g_autofree char *pw = sdc_auth_new_password ();
      SdcPasswordHash *h = sdc_auth_hash_password (pw != NULL ? pw : "x", NULL);
      g_once_init_leave (&dummy, h);
    }
  return dummy;
}

/* PBKDF2 against the store (a storage thread, or the main loop for attachments). */
static gboolean
verify_password (SdcStore *store, const char *user, const char *password, GError **error)
{
  g_autofree char *salt = NULL;
  g_autofree char *hash = NULL;
  g_autoptr (GError) local = NULL;
  guint iterations = 0;
  gboolean ok;

  if (!sdc_store_get_credentials (store, user, &salt, &hash, &iterations, &local) &&
      !g_error_matches (local, SDC_ERROR, SDC_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (hash != NULL)
    ok = sdc_auth_verify (password, salt, hash, iterations);
  else
    {
      SdcPasswordHash *d = dummy_hash ();
      if (d != NULL)
        sdc_auth_verify (password, d->salt_hex, d->hash_hex, d->iterations);
      ok = FALSE;
    }
  if (!ok)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED, "invalid system id or password");
      return FALSE;
    }
  return TRUE;
}

static void
throttle_keys (SoupServerMessage *msg, const char *user, char **by_addr, char **by_id)
{
  const char *remote = soup_server_message_get_remote_host (msg);
  *by_addr = g_strconcat ("addr:", remote != NULL ? remote : "-", NULL);
  *by_id = g_strconcat ("id:", user, NULL);
}

static void
auth_failed (SdcServer *self, SoupServerMessage *msg, const char *user)
{
  g_autofree char *by_addr = NULL;
  g_autofree char *by_id = NULL;
  throttle_keys (msg, user, &by_addr, &by_id);
  sdc_throttle_fail (self->throttle, by_addr);
  sdc_throttle_fail (self->throttle, by_id);
}

/* HTTP Basic, from the headers: a remembered credential is accepted at once; anything
 * else is checked with PBKDF2 later, off the main loop (req->auth_user set), unless the
 * address or the system id has failed too often lately (429). The same answer for an
 * unknown id and a wrong password. */
static gboolean
authenticate (SdcServer *self, SoupServerMessage *msg, SdcRequest *req, GError **error)
{
  const char *hdr = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                  "Authorization");
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  g_autofree char *by_addr = NULL;
  g_autofree char *by_id = NULL;
  guint wait_a = 0;
  guint wait_b = 0;

  if (hdr == NULL)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED,
                           "authentication required (HTTP Basic with system id and password)");
      return FALSE;
    }
  if (!sdc_auth_parse_basic (hdr, &user, &password))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED, "malformed Authorization header");
      return FALSE;
    }
  /* a known-good credential passes even while its id is throttled, so an attacker
   * guessing at a system's id cannot lock that system out */
  if (sdc_auth_cache_check (self->auth_cache, user, password))
    {
      req->system_id = g_steal_pointer (&user);
      return TRUE;
    }
  throttle_keys (msg, user, &by_addr, &by_id);
  if (sdc_throttle_blocked (self->throttle, by_addr, &wait_a) |
      sdc_throttle_blocked (self->throttle, by_id, &wait_b))
    {
      req->retry_after = MAX (wait_a, wait_b);
      g_set_error (error, SDC_ERROR, SDC_ERROR_TOO_MANY_REQUESTS,
                   "too many failed logins from this address or for this system id; retry in %u s",
                   req->retry_after);
      return FALSE;
    }
  req->auth_user = g_steal_pointer (&user);
  req->auth_password = g_steal_pointer (&password);
  return TRUE;
}

/* Attachments stream to disk as they arrive, so their credentials are checked before the
 * body: on the HTTPS loop, once (the agent's report a moment earlier usually left them in
 * the cache, and the throttle bounds what wrong ones can cost). */
static gboolean
authenticate_now (SdcServer *self, SoupServerMessage *msg, SdcRequest *req, GError **error)
{
  gboolean ok;
  if (req->auth_user == NULL)
    return TRUE;
  g_mutex_lock (&self->store_lock);
  ok = verify_password (self->store, req->auth_user, req->auth_password, error);
  g_mutex_unlock (&self->store_lock);
  if (!ok)
    {
      if (g_error_matches (*error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED))
        auth_failed (self, msg, req->auth_user);
      return FALSE;
    }
  sdc_auth_cache_remember (self->auth_cache, req->auth_user, req->auth_password);
  req->system_id = g_steal_pointer (&req->auth_user);
  return TRUE;
}

static gboolean
is_json_content_type (SoupServerMessage *msg)
{
  /* no parameters asked for: a hash table less per request */
  const char *ct = soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL);
  return ct != NULL && g_ascii_strcasecmp (ct, "application/json") == 0;
}

static void
json_got_chunk_cb (SoupServerMessage *msg, GBytes *chunk, SdcRequest *req)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (chunk, &len);
  if (req->too_large)
    return;
  if ((guint64) req->body->len + len > req->server->opts.max_body)
    {
      /* keep reading (and dropping) so the client gets the 413 rather than a reset */
      req->too_large = TRUE;
      g_byte_array_set_size (req->body, 0);
      return;
    }
  g_byte_array_append (req->body, data, (guint) len);
}

static void
attachment_got_chunk_cb (SoupServerMessage *msg, GBytes *chunk, SdcRequest *req)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (chunk, &len);
  if (req->discard || req->deferred != NULL || req->upload == NULL)
    return;
  if (!sdc_upload_write (req->upload, data, len, &req->deferred))
    g_clear_pointer (&req->upload, sdc_upload_free);
}

/* Registration takes credentials when they come: re-registering a system needs its
 * current ones (sdc-api.c), and a wrong pair is refused like anywhere else. */
static gboolean
needs_authentication (SdcRequest *req, SoupServerMessage *msg)
{
  if (req->route->kind == SDC_ROUTE_REGISTER)
    return soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization") != NULL;
  return req->route->auth;
}

static void
early_handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  SdcServer *self = user_data;
  SdcRequest *req = g_new0 (SdcRequest, 1);
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *tail = NULL;
  g_autoptr (GError) error = NULL;
  goffset length;
  guint loop = GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (soup), SDC_LOOP_Q));

  /* each counter is its own loop's, read once the loops have ended */
  if (loop > 0)
    self->loop_requests[loop - 1]++;
  sdc_guard_head_done (self->guard, msg);
  req->server = self;
  req->https = (soup != self->http);
  {
    /* an answer sent after a pause for storage leaves in more than one write: without
     * TCP_NODELAY, Nagle and the client's delayed ACK add up to 40 ms to each (set once
     * per connection: a system call per request showed in the profile) */
    GSocket *sock = soup_server_message_get_socket (msg);
    if (sock != NULL && g_object_get_qdata (G_OBJECT (sock), SDC_NODELAY_Q) == NULL &&
        g_socket_get_family (sock) != G_SOCKET_FAMILY_UNIX)
      {
        g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
        g_object_set_qdata (G_OBJECT (sock), SDC_NODELAY_Q, GINT_TO_POINTER (1));
      }
  }
  g_object_set_qdata_full (G_OBJECT (msg), SDC_REQUEST_Q, req, (GDestroyNotify) sdc_request_free);

  if (sdc_ui_is_path (path))
    {
      req->route = &ui_route;
      if (!req->https)
        respond_error_literal (msg, req, SDC_ERROR_NOT_FOUND, "the web view is served over HTTPS only");
      else if (soup_message_headers_get_encoding (hdrs) == SOUP_ENCODING_CHUNKED ||
               soup_message_headers_get_content_length (hdrs) > SDC_UI_MAX_BODY)
        respond_error_literal (msg, req, SDC_ERROR_TOO_LARGE, "web view forms are at most 8 KiB");
      return;
    }
  req->route = find_route (path, &tail);
  if (req->route == NULL)
    {
      g_autofree char *m = g_strdup_printf ("no such endpoint: %s", path);
      respond_error_literal (msg, req, SDC_ERROR_NOT_FOUND, m);
      return;
    }
  /* nothing but the configuration ever travels over plain HTTP */
  if (!req->https && req->route->kind != SDC_ROUTE_CONFIG)
    {
      respond_error_literal (msg, req, SDC_ERROR_NOT_FOUND,
                             "plain HTTP serves only GET " ESA_PROTOCOL_PATH_CONFIG "; use HTTPS");
      return;
    }
  if (g_strcmp0 (method, req->route->method) != 0 &&
      !(req->route->kind == SDC_ROUTE_CONFIG && g_strcmp0 (method, "HEAD") == 0))
    {
      g_autofree char *m = g_strdup_printf ("%s %s: method not allowed (use %s)", method, path,
                                            req->route->method);
      respond_error_literal (msg, req, SDC_ERROR_METHOD_NOT_ALLOWED, m);
      return;
    }
  if (needs_authentication (req, msg) && !authenticate (self, msg, req, &error))
    {
      respond_early_error (msg, req, error);
      return;
    }
  if (req->route->kind == SDC_ROUTE_CONFIG)
    return;

  length = soup_message_headers_get_encoding (hdrs) == SOUP_ENCODING_CONTENT_LENGTH
               ? soup_message_headers_get_content_length (hdrs)
               : -1;
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);

  if (req->route->kind == SDC_ROUTE_ATTACHMENT)
    {
      if (!authenticate_now (self, msg, req, &error) ||
          !sdc_api_attachment_begin (self, req, msg, tail, &error))
        {
          respond_early_error (msg, req, error);
          return;
        }
      g_signal_connect (msg, "got-chunk", G_CALLBACK (attachment_got_chunk_cb), req);
      return;
    }

  if (!is_json_content_type (msg))
    {
      respond_error_literal (msg, req, SDC_ERROR_UNSUPPORTED_MEDIA,
                             "Content-Type: expected application/json");
      return;
    }
  if (length >= 0 && (guint64) length > self->opts.max_body)
    {
      g_autofree char *m = g_strdup_printf ("body of %" G_GINT64_FORMAT " bytes exceeds the limit of %"
                                            G_GUINT64_FORMAT " bytes", (gint64) length, self->opts.max_body);
      respond_error_literal (msg, req, SDC_ERROR_TOO_LARGE, m);
      return;
    }
  /* a declared length within the limit: libsoup collects exactly that much itself (a
   * signal handler per request showed in the profile); chunked bodies are counted */
  if (length >= 0)
    {
      soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), TRUE);
      return;
    }
  req->body = g_byte_array_new ();
  g_signal_connect (msg, "got-chunk", G_CALLBACK (json_got_chunk_cb), req);
}

/* The end of a request that was paused for storage. */
static void
finish_paused (SdcRequest *req, gboolean ok, GError *error)
{
  SoupServerMessage *msg = req->msg;
  GSocket *sock = soup_server_message_get_socket (msg);
  /* libsoup writes the answer's head and body as two TLS records: corked, they leave in
   * one TCP segment when the request ends (request_finished_cb), so the kernel sends and
   * the client receives and wakes once rather than twice (docs/performance.md) */
  if (sock != NULL && g_socket_get_family (sock) != G_SOCKET_FAMILY_UNIX &&
      g_socket_set_option (sock, IPPROTO_TCP, TCP_CORK, 1, NULL))
    g_object_set_qdata (G_OBJECT (sock), SDC_CORKED_Q, GINT_TO_POINTER (1));
  if (ok)
    sdc_server_respond_json (msg, req->status, req->answer);
  else
    sdc_server_respond_error (msg, req, error);
  req->msg = NULL;
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static gboolean
register_func (SdcStore *store, gpointer data, GError **error)
{
  SdcRequest *req = data;
  return sdc_api_register (store, req, req->obj, &req->status, &req->answer, error);
}

static gboolean
uak_func (SdcStore *store, gpointer data, GError **error)
{
  SdcRequest *req = data;
  return sdc_api_uak (req->server, store, req, req->obj, &req->status, &req->answer, error);
}

static gboolean
report_func (SdcStore *store, gpointer data, GError **error)
{
  SdcReportJob *job = data;
  /* the writer may run a job again after rolling its group back */
  g_clear_pointer (&job->answer, g_free);
  job->duplicate = FALSE;
  return sdc_api_store_report (store, &job->row, job->attachments, &job->status, &job->answer,
                               &job->duplicate, error);
}

static gboolean
report_group_func (SdcStore *store, gpointer *data, guint n, GError **error)
{
  return sdc_api_store_reports (store, (SdcReportJob *const *) data, n, error);
}

static gboolean
system_func (SdcStore *store, gpointer data, GError **error)
{
  SdcRequest *req = data;
  return sdc_api_system (store, req, req->obj, &req->status, &req->answer, error);
}

static void
system_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SdcRequest *req = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = sdc_writer_finish (result, &error);
  /* deactivated: the remembered credential must stop working now, not at its TTL */
  if (ok && g_str_equal (req->route->report_kind, "deactivate"))
    sdc_auth_cache_forget (req->server->auth_cache, req->system_id);
  finish_paused (req, ok, error);
}

static void
register_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SdcRequest *req = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = sdc_writer_finish (result, &error);
  /* the machine's password just changed: whatever was remembered for it is stale
   * (a pending registration changed nothing, and may come from no system at all) */
  if (ok && req->status == 201 && req->system_id != NULL)
    sdc_auth_cache_forget (req->server->auth_cache, req->system_id);
  finish_paused (req, ok, error);
}

static void
stored_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SdcRequest *req = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = sdc_writer_finish (result, &error);
  finish_paused (req, ok, error);
}

static void
report_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SdcReportJob *job = g_task_get_task_data (G_TASK (result));
  SdcRequest *req = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = sdc_writer_finish (result, &error);
  if (job->log_uuid != NULL)
    {
      g_free (req->uuid);
      req->uuid = g_steal_pointer (&job->log_uuid);
    }
  if (ok)
    {
      req->status = job->status;
      req->answer = g_steal_pointer (&job->answer);
      req->duplicate = job->duplicate;
    }
  finish_paused (req, ok, error);
}

/* The group's order: the system's row, then its reports' uuids (sdc-writer.c). */
static char *
report_key (SdcReportJob *job)
{
  return g_strconcat (job->row.system_id, "\t", job->row.uuid, NULL);
}

/* In the writer thread: the JSON parse and checks of a report cost the main loop more
 * than anything else of ours (docs/performance.md, "Work off the main loop"). */
static gboolean
report_read_func (gpointer data, char **key, GError **error)
{
  SdcReportJob *job = data;
  if (!sdc_api_report_read (job, error))
    return FALSE;
  *key = report_key (job);
  return TRUE;
}

/* A report a batch read already: only its key. */
static gboolean
report_key_func (gpointer data, char **key, GError **error)
{
  (void) error;
  *key = report_key (data);
  return TRUE;
}

void
sdc_server_write_report (SdcServer *self, SdcReportJob *job, GAsyncReadyCallback callback, gpointer user_data)
{
  sdc_writer_write_prepared (self->writer, job->raw != NULL ? report_read_func : report_key_func, report_func,
                             report_group_func, (GDestroyNotify) sdc_report_job_release, job,
                             (GDestroyNotify) sdc_report_job_free, callback, user_data);
}

static void
batch_done (SdcBatch *batch, gpointer user_data)
{
  SdcRequest *req = user_data;
  req->status = 200;
  req->answer = sdc_batch_answer (batch);
  finish_paused (req, TRUE, NULL);
}

/* Authenticated (or register): validate on the main loop, store in a storage thread;
 * a single report is read and validated by the writer thread. */
static void
dispatch (SdcServer *self, SdcRequest *req)
{
  g_autoptr (GError) error = NULL;
  SdcReportJob *job;

  if (req->route->kind == SDC_ROUTE_REPORT)
    {
      const char *key = soup_message_headers_get_one (soup_server_message_get_request_headers (req->msg),
                                                      ESA_PROTOCOL_HEADER_IDEMPOTENCY_KEY);
      job = sdc_api_report_new_unread (req->system_id, req->route->report_kind, g_steal_pointer (&req->body),
                                       self->opts.max_body, key);
      sdc_server_write_report (self, job, report_done_cb, req);
      return;
    }
  if (req->route->kind == SDC_ROUTE_BATCH)
    {
      req->batch = sdc_batch_new (req->system_id, (const char *) req->body->data, req->body->len,
                                  self->opts.max_body, &error);
      if (req->batch == NULL)
        finish_paused (req, FALSE, error);
      else
        sdc_batch_run (req->batch, self, batch_done, req);
      return;
    }
  req->obj = sdc_json_parse_request ((const char *) req->body->data, req->body->len, self->opts.max_body, &error);
  if (req->obj == NULL)
    {
      finish_paused (req, FALSE, error);
      return;
    }
  switch (req->route->kind)
    {
    case SDC_ROUTE_REGISTER:
      sdc_writer_run (self->writer, register_func, req, NULL, register_done_cb, req);
      return;
    case SDC_ROUTE_UAK:
      sdc_writer_run (self->writer, uak_func, req, NULL, stored_cb, req);
      return;
    case SDC_ROUTE_SYSTEM:
      sdc_writer_run (self->writer, system_func, req, NULL, system_done_cb, req);
      return;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
auth_func (SdcStore *store, gpointer data, GError **error)
{
  SdcRequest *req = data;
  return verify_password (store, req->auth_user, req->auth_password, error);
}

static void
auth_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SdcRequest *req = user_data;
  g_autoptr (GError) error = NULL;
  if (!sdc_writer_finish (result, &error))
    {
      if (g_error_matches (error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED))
        auth_failed (req->server, req->msg, req->auth_user);
      finish_paused (req, FALSE, error);
      return;
    }
  sdc_auth_cache_remember (req->server->auth_cache, req->auth_user, req->auth_password);
  req->system_id = g_steal_pointer (&req->auth_user);
  dispatch (req->server, req);
}

static void
handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  SdcServer *self = user_data;
  SdcRequest *req = g_object_get_qdata (G_OBJECT (msg), SDC_REQUEST_Q);
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = NULL;
  guint status = 200;
  gboolean ok = FALSE;

  if (req == NULL || req->route == NULL)
    {
      respond_error_literal (msg, req, SDC_ERROR_INTERNAL, "request was not routed");
      return;
    }
  switch (req->route->kind)
    {
    case SDC_ROUTE_UI:
      sdc_ui_handle (self, msg, path, query);
      return;
    case SDC_ROUTE_CONFIG:
      answer = sdc_api_config (self);
      sdc_server_respond_json (msg, 200, answer);
      return;
    case SDC_ROUTE_ATTACHMENT:
      ok = sdc_api_attachment_finish (self, req, &status, &answer, &error);
      break;
    case SDC_ROUTE_REGISTER:
    case SDC_ROUTE_REPORT:
    case SDC_ROUTE_BATCH:
    case SDC_ROUTE_UAK:
    case SDC_ROUTE_SYSTEM:
      if (req->too_large)
        {
          g_autofree char *m = g_strdup_printf ("body exceeds the limit of %" G_GUINT64_FORMAT " bytes",
                                                self->opts.max_body);
          respond_error_literal (msg, req, SDC_ERROR_TOO_LARGE, m);
          return;
        }
      if (req->body == NULL)
        {
          g_autoptr (GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
          req->body = g_bytes_unref_to_array (g_steal_pointer (&bytes));
        }
      /* from here the answer comes from a storage thread */
      req->msg = g_object_ref (msg);
      soup_server_message_pause (msg);
      if (req->auth_user != NULL)
        sdc_writer_run (self->writer, auth_func, req, NULL, auth_done_cb, req);
      else
        dispatch (self, req);
      return;
    }
  if (!ok)
    {
      sdc_server_respond_error (msg, req, error);
      return;
    }
  sdc_server_respond_json (msg, status, answer);
}

/* One line on stderr per request (per report of a batch): what the tests (and an admin)
 * read. Collected and written once per main-loop iteration (sdc-log.c); built by
 * appending, as printf formatting was most of a line's cost. */
static void
log_line (SdcRequest *req, SoupServerMessage *msg, const char *ts, const char *remote, GUri *uri, guint status,
          const char *uuid, const char *error_code, gboolean duplicate, const char *outcome)
{
  const char *method = soup_server_message_get_method (msg);
  GString *line = sdc_log_lines ();
  char status_text[16];

  g_snprintf (status_text, sizeof status_text, "%u", status);
  g_string_append (line, ts);
  g_string_append (line, req->https ? " esa-sdc: request scheme=https remote=" : " esa-sdc: request scheme=http remote=");
  g_string_append (line, remote ? remote : "-");
  g_string_append (line, " method=");
  g_string_append (line, method ? method : "-");
  g_string_append (line, " path=");
  g_string_append (line, uri ? g_uri_get_path (uri) : "-");
  g_string_append (line, " status=");
  g_string_append (line, status_text);
  g_string_append (line, " system=");
  g_string_append (line, req->system_id ? req->system_id : "-");
  if (uuid != NULL)
    {
      g_string_append (line, " uuid=");
      g_string_append (line, uuid);
    }
  if (error_code != NULL)
    {
      g_string_append (line, " error=");
      g_string_append (line, error_code);
    }
  if (duplicate)
    g_string_append (line, " duplicate=yes");
  g_string_append (line, outcome);
  g_string_append_c (line, '\n');
}

static void
log_request (SdcServer *self, SoupServerMessage *msg, const char *outcome)
{
  SdcRequest *req = g_object_get_qdata (G_OBJECT (msg), SDC_REQUEST_Q);
  GUri *uri = soup_server_message_get_uri (msg);
  const char *remote = soup_server_message_get_remote_host (msg);
  const char *ts = sdc_json_now_text ();

  if (req == NULL || g_object_get_qdata (G_OBJECT (msg), SDC_LOGGED_Q) != NULL)
    return; /* unrouted: logged below; answered early: logged then */
  /* a batch that got as far as its reports: a line for each, as if each came alone, so
   * the audit trail per report does not depend on how the agent sent it */
  for (guint i = 0; req->batch != NULL && i < sdc_batch_get_length (req->batch); i++)
    {
      const char *uuid;
      const char *error_code;
      guint status;
      gboolean duplicate;
      sdc_batch_get_result (req->batch, i, &uuid, &status, &error_code, &duplicate);
      log_line (req, msg, ts, remote, uri, status, uuid, error_code, duplicate, outcome);
    }
  if (req->batch == NULL)
    log_line (req, msg, ts, remote, uri, soup_server_message_get_status (msg), req->uuid, req->error_code,
              req->duplicate, outcome);
  sdc_log_lines_done ();
}

static void
request_started_cb (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  SdcServer *self = user_data;
  sdc_idle_unwatch (msg);
  sdc_guard_started (self->guard, msg);
}

/* The answer is written (or the request ended otherwise): what is corked goes out. */
static void
uncork (SoupServerMessage *msg)
{
  GSocket *sock = soup_server_message_get_socket (msg);
  if (sock != NULL && g_object_get_qdata (G_OBJECT (sock), SDC_CORKED_Q) != NULL)
    {
      g_socket_set_option (sock, IPPROTO_TCP, TCP_CORK, 0, NULL);
      g_object_set_qdata (G_OBJECT (sock), SDC_CORKED_Q, NULL);
    }
}

static void
request_finished_cb (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  uncork (msg);
  sdc_idle_watch (msg);
  if (g_object_get_qdata (G_OBJECT (msg), SDC_REQUEST_Q) == NULL)
    {
      GUri *uri = soup_server_message_get_uri (msg);
      g_string_append_printf (sdc_log_lines (), "esa-sdc: request scheme=%s method=%s path=%s status=%u system=- unrouted\n",
                              soup == ((SdcServer *) user_data)->https ? "https" : "http",
                              soup_server_message_get_method (msg) ? soup_server_message_get_method (msg) : "-",
                              uri ? g_uri_get_path (uri) : "-", soup_server_message_get_status (msg));
      sdc_log_lines_done ();
      return;
    }
  log_request (user_data, msg, "");
}

static void
request_aborted_cb (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  uncork (msg);
  sdc_idle_watch (msg);
  if (g_object_get_qdata (G_OBJECT (msg), SDC_REQUEST_Q) != NULL)
    log_request (user_data, msg, " aborted");
}

GSocketAddress *
sdc_server_parse_listen (const char *spec, GError **error)
{
  g_autofree char *host = NULL;
  g_autoptr (GInetAddress) addr = NULL;
  const char *port_s;
  guint64 port = 0;

  if (spec[0] == '[')
    {
      const char *close = strchr (spec, ']');
      if (close == NULL || close[1] != ':')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "\"%s\": expected [IPv6]:PORT", spec);
          return NULL;
        }
      host = g_strndup (spec + 1, close - spec - 1);
      port_s = close + 2;
    }
  else
    {
      const char *colon = strrchr (spec, ':');
      if (colon == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "\"%s\": expected ADDRESS:PORT", spec);
          return NULL;
        }
      host = g_strndup (spec, colon - spec);
      port_s = colon + 1;
    }
  addr = g_inet_address_new_from_string (host);
  if (addr == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "\"%s\": \"%s\" is not an IP address (IPv6 goes in brackets)", spec, host);
      return NULL;
    }
  if (!g_ascii_string_to_unsigned (port_s, 10, 0, 65535, &port, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "\"%s\": port \"%s\" is not a number 0-65535", spec, port_s);
      return NULL;
    }
  return g_inet_socket_address_new (addr, (guint16) port);
}

static SoupServer *
new_soup_server (SdcServer *self, GTlsCertificate *cert)
{
  SoupServer *soup = soup_server_new ("server-header", "esa-sdc/" ESA_VERSION " ",
                                      /* paths stay percent-encoded, so an attachment name
                                       * is decoded (and checked) exactly once, by us */
                                      "raw-paths", TRUE,
                                      "tls-certificate", cert, NULL);
  soup_server_add_early_handler (soup, NULL, early_handler, self, NULL);
  soup_server_add_handler (soup, NULL, handler, self, NULL);
  g_signal_connect (soup, "request-started", G_CALLBACK (request_started_cb), self);
  g_signal_connect (soup, "request-finished", G_CALLBACK (request_finished_cb), self);
  g_signal_connect (soup, "request-aborted", G_CALLBACK (request_aborted_cb), self);
  return soup;
}

char *
sdc_server_db_location (const char *dir, const char *db)
{
  return db != NULL ? g_strdup (db) : g_build_filename (dir, "sdc.db", NULL);
}

SdcUak *
sdc_server_load_uak (SdcStore *store, const char *dir, guint days, SdcUakFlags flags, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "uak-key.pem", NULL);
  g_autofree char *local = NULL;
  g_autofree char *shared = NULL;
  gsize len = 0;

  /* SQLite is one instance's own file: the key stays only in DIR */
  if (g_strcmp0 (sdc_store_engine_name (store), "postgresql") != 0)
    return sdc_uak_new (path, days, flags, error);
  if (!g_file_get_contents (path, &local, &len, error))
    return NULL;
  shared = sdc_store_get_setting (store, "uak-signing-key", local, error);
  if (shared == NULL)
    return NULL;
  if (g_strcmp0 (shared, local) != 0)
    g_printerr ("esa-sdc: %s differs from the UAK signing key in the database; signing with the "
                "database's (the one every instance shares; copy the first instance's uak-pub.pem "
                "to the agents)\n", path);
  return sdc_uak_new_from_pem (shared, strlen (shared), "the database's uak-signing-key", days, flags, error);
}

/* An upload cut short by a crash leaves DIR/attachments/UUID/.NAME.part-XXXXXX behind
 * (sdc-upload.c); nothing refers to it, and the agent sends the attachment again. */
static guint
remove_stale_parts (const char *dir)
{
  g_autofree char *root = g_build_filename (dir, "attachments", NULL);
  g_autoptr (GDir) top = g_dir_open (root, 0, NULL);
  const char *report;
  guint removed = 0;
  while (top != NULL && (report = g_dir_read_name (top)) != NULL)
    {
      g_autofree char *sub = g_build_filename (root, report, NULL);
      g_autoptr (GDir) d = g_dir_open (sub, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (sub, name, NULL);
          if (name[0] == '.' && strstr (name, ".part-") != NULL &&
              g_file_test (path, G_FILE_TEST_IS_REGULAR) && g_unlink (path) == 0)
            removed++;
        }
    }
  return removed;
}

SdcServer *
sdc_server_new (const SdcServerOptions *opts, GError **error)
{
  g_autoptr (SdcServer) self = g_new0 (SdcServer, 1);
  g_autofree char *db = sdc_server_db_location (opts->dir, opts->db);
  g_autofree char *cert_path = g_build_filename (opts->dir, "server.pem", NULL);
  g_autofree char *key_path = g_build_filename (opts->dir, "server-key.pem", NULL);
  g_autoptr (GTlsCertificate) cert = NULL;

  self->opts = *opts;
  g_mutex_init (&self->uak_lock);
  g_mutex_init (&self->store_lock);
  self->https_urls = g_ptr_array_new_with_free_func (g_free);
  cert = g_tls_certificate_new_from_files (cert_path, key_path, error);
  if (cert == NULL)
    {
      g_prefix_error (error, "%s (run `esa-sdc init %s` first?): ", cert_path, opts->dir);
      return NULL;
    }
  self->store = sdc_store_open (db, error);
  if (self->store == NULL)
    return NULL;
  {
    guint removed = remove_stale_parts (opts->dir);
    if (removed > 0)
      g_printerr ("esa-sdc: removed %u unfinished attachment upload(s) (*.part) left by an earlier run\n", removed);
  }
  self->uak = sdc_server_load_uak (self->store, opts->dir, opts->uak_days, opts->uak_flags, error);
  if (self->uak == NULL)
    return NULL;
  self->writer = sdc_writer_new (db, opts->db_writers, SDC_SERVER_STORAGE_THREADS, error);
  if (self->writer == NULL)
    return NULL;
  self->auth_cache = sdc_auth_cache_new (SDC_SERVER_AUTH_CACHE_MAX, SDC_SERVER_AUTH_CACHE_TTL);
  self->throttle = sdc_throttle_new (opts->login_failures > 0 ? opts->login_failures : SDC_SERVER_THROTTLE_FAILURES,
                                     opts->login_window > 0 ? opts->login_window : SDC_SERVER_THROTTLE_WINDOW,
                                     SDC_SERVER_THROTTLE_KEYS);
  self->guard = sdc_guard_new (opts->max_pending_per_client > 0 ? opts->max_pending_per_client : SDC_SERVER_MAX_PENDING,
                               opts->header_timeout > 0 ? opts->header_timeout : SDC_SERVER_HEADER_TIMEOUT);
  self->ui = sdc_ui_new (opts->dir);
  self->https = new_soup_server (self, cert);
  g_object_set_qdata (G_OBJECT (self->https), SDC_LOOP_Q, GUINT_TO_POINTER (1));
  {
    guint loops = opts->http_threads > 0 ? opts->http_threads : sdc_server_default_http_threads ();
    if (loops > sdc_server_max_http_threads ())
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                     "--http-threads %u: at most %u here (more than one needs Linux's SO_REUSEPORT)", loops,
                     sdc_server_max_http_threads ());
        return NULL;
      }
    /* the main loop is the first; each other one is a thread with its own server */
    self->https_more = g_ptr_array_new ();
    self->loop_requests = g_new0 (guint64, loops);
    if (loops > 1)
      self->loops = sdc_loops_new (loops - 1);
    for (guint i = 0; i + 1 < loops; i++)
      {
        sdc_loops_push (self->loops, i);
        g_ptr_array_add (self->https_more, new_soup_server (self, cert));
        g_object_set_qdata (G_OBJECT (g_ptr_array_index (self->https_more, i)), SDC_LOOP_Q, GUINT_TO_POINTER (i + 2));
        sdc_loops_pop (self->loops, i);
      }
  }
  if (opts->http_listen != NULL && opts->http_listen->len > 0)
    self->http = new_soup_server (self, NULL);
  return g_steal_pointer (&self);
}

/* soup_server_listen () listens with GSocket's default backlog of 10: a burst of agents
 * connecting while the main loop is busy (after an outage every agent tries again) fills
 * it, and the kernel drops their SYNs for a second or more. So esa-sdc makes its own
 * listening sockets, as libsoup would (address reused, IPv6 only on an IPv6 address). */
#define SDC_SERVER_LISTEN_BACKLOG 1024
#define SDC_SERVER_MAX_HTTP_THREADS 4

guint
sdc_server_max_http_threads (void)
{
#if defined(__linux__) && defined(SO_REUSEPORT)
  return 64;
#else
  return 1;
#endif
}

/* Half the cores: each loop's requests also keep the writer busy, and on a host the
 * database shares the rest. On 2 cores a second loop cost 10-25 % more CPU per report
 * and gained nothing on SQLite and lost 15-25 % on a local PostgreSQL
 * (docs/performance.md, "HTTPS on more than one loop"). */
guint
sdc_server_default_http_threads (void)
{
  return CLAMP (g_get_num_processors () / 2, 1, MIN (SDC_SERVER_MAX_HTTP_THREADS, sdc_server_max_http_threads ()));
}

static GSocket *
listen_socket_new (GSocketAddress *addr, gboolean reuse_port, gboolean do_listen, GError **error)
{
  GSocketFamily family = g_socket_address_get_family (addr);
  g_autoptr (GSocket) sock = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return NULL;
  if (family == G_SOCKET_FAMILY_IPV6 && !g_socket_set_option (sock, IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
    return NULL;
  g_socket_set_listen_backlog (sock, SDC_SERVER_LISTEN_BACKLOG);
#ifdef SO_REUSEPORT
  if (reuse_port)
    {
      /* g_socket_bind turns SO_REUSEPORT off on a TCP socket: bound here instead */
      struct sockaddr_storage native;
      gssize len = g_socket_address_get_native_size (addr);
      if (!g_socket_set_option (sock, SOL_SOCKET, SO_REUSEADDR, 1, error) ||
          !g_socket_set_option (sock, SOL_SOCKET, SO_REUSEPORT, 1, error) ||
          len < 0 || !g_socket_address_to_native (addr, &native, sizeof native, error))
        return NULL;
      if (bind (g_socket_get_fd (sock), (struct sockaddr *) &native, (socklen_t) len) != 0)
        {
          int saved = errno;
          g_autofree char *where = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (addr));
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Error binding to address %s: %s", where,
                       g_strerror (saved));
          return NULL;
        }
    }
  else
#endif
  if (!g_socket_bind (sock, addr, TRUE, error))
    return NULL;
  if (do_listen && !g_socket_listen (sock, error))
    return NULL;
  return g_steal_pointer (&sock);
}

/* @soup listens on @addr. With several HTTPS loops, the HTTPS address gets one
 * SO_REUSEPORT socket per loop. SO_REUSEPORT alone would also let a second esa-sdc (same
 * user) share the port silently, splitting the agents between two servers; so the
 * address is first bound without it, which fails as before when anything has it, and
 * gives port 0 its number. The port is free again only between that probe's close and
 * the loops' binds. */
static gboolean
listen_address (SdcServer *self, SoupServer *soup, GSocketAddress *addr, GError **error)
{
  gboolean https = (soup == self->https);
  guint extra = https ? self->https_more->len : 0;
  SoupServerListenOptions flags = https ? SOUP_SERVER_LISTEN_HTTPS : 0;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocket) first = NULL;
  if (extra == 0)
    {
      first = listen_socket_new (addr, FALSE, TRUE, error);
      return first != NULL && soup_server_listen_socket (soup, first, flags, error);
    }
  {
    g_autoptr (GSocket) probe = listen_socket_new (addr, FALSE, FALSE, error);
    if (probe == NULL || (bound = g_socket_get_local_address (probe, error)) == NULL)
      return FALSE;
  }
  first = listen_socket_new (bound, TRUE, TRUE, error);
  if (first == NULL || !soup_server_listen_socket (soup, first, flags, error))
    return FALSE;
  for (guint i = 0; i < extra; i++)
    {
      g_autoptr (GSocket) sock = listen_socket_new (bound, TRUE, TRUE, error);
      gboolean ok;
      if (sock == NULL)
        return FALSE;
      /* the listener's source goes to that loop's context */
      sdc_loops_push (self->loops, i);
      ok = soup_server_listen_socket (g_ptr_array_index (self->https_more, i), sock, flags, error);
      sdc_loops_pop (self->loops, i);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static gboolean
listen_all (SdcServer *self, SoupServer *soup, GPtrArray *specs, GError **error)
{
  for (guint i = 0; specs != NULL && i < specs->len; i++)
    {
      const char *spec = g_ptr_array_index (specs, i);
      g_autoptr (GSocketAddress) addr = sdc_server_parse_listen (spec, error);
      if (addr == NULL)
        return FALSE;
      if (!listen_address (self, soup, addr, error))
        {
          g_prefix_error (error, "listening on %s: ", spec);
          return FALSE;
        }
    }
  return TRUE;
}

static void
print_uris (SoupServer *soup, GPtrArray *collect)
{
  GSList *uris = soup_server_get_uris (soup);
  for (GSList *l = uris; l != NULL; l = l->next)
    {
      g_autofree char *s = g_uri_to_string (l->data);
      g_autofree char *trimmed = g_str_has_suffix (s, "/") ? g_strndup (s, strlen (s) - 1) : g_strdup (s);
      printf ("listening on %s\n", trimmed);
      if (collect != NULL)
        g_ptr_array_add (collect, g_strconcat (trimmed, "/", NULL));
    }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  fflush (stdout);
}

gboolean
sdc_server_start (SdcServer *self, GError **error)
{
  if (self->opts.listen == NULL || self->opts.listen->len == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "at least one --listen ADDRESS:PORT is required");
      return FALSE;
    }
  if (!listen_all (self, self->https, self->opts.listen, error))
    return FALSE;
  if (self->http != NULL && !listen_all (self, self->http, self->opts.http_listen, error))
    return FALSE;
  /* libsoup's listeners exist now: follow the connections they accept */
  sdc_idle_track ();
  sdc_loops_start (self->loops);
  print_uris (self->https, self->https_urls);
  if (self->http != NULL)
    print_uris (self->http, NULL);
  return TRUE;
}

/* One line at the end of serve: how full the groups were and how much of its time the
 * writer waited for work (mostly idle: the rate is set before the writer, not by it).
 * On SQLite a second one: what the WAL's checkpoints took (sdc-sqlite-checkpoint.c):
 * passes of the checkpoint thread and its syncs of the database file, closing copies a
 * commit made, checkpoints a commit
 * ran because the WAL had reached four times the mark (the thread behind, failing or
 * held by a reader). */
static void
log_writer_stats (SdcWriter *writer, SdcStore *store)
{
  SdcSqliteCheckpointStats st;
  guint64 commits, jobs;
  gint64 idle_us, busy_us;
  if (writer == NULL)
    return;
  sdc_writer_get_stats (writer, &commits, &jobs);
  sdc_writer_get_times (writer, &idle_us, &busy_us);
  if (commits == 0 || idle_us + busy_us <= 0)
    return;
  /* summed over the writers: the seconds are writer-seconds */
  g_printerr ("esa-sdc: writer: %" G_GUINT64_FORMAT " reports in %" G_GUINT64_FORMAT
              " commits (%.1f a commit, %.2f ms a commit), idle %.0f%% of %.1f s, %u writer(s),"
              " %" G_GUINT64_FORMAT " groups run again\n",
              jobs, commits, (double) jobs / (double) commits, (double) busy_us / 1000.0 / (double) commits,
              100.0 * (double) idle_us / (double) (idle_us + busy_us), (double) (idle_us + busy_us) / 1e6,
              sdc_writer_get_writers (writer), sdc_writer_get_retries (writer));
  if (store == NULL || g_strcmp0 (sdc_store_engine_name (store), "sqlite") != 0)
    return;
  sdc_store_sqlite_checkpoint_stats (store, &st);
  g_printerr ("esa-sdc: checkpoints: %" G_GUINT64_FORMAT " passes and %" G_GUINT64_FORMAT
              " database syncs on their thread, %" G_GUINT64_FORMAT " closing copies and %" G_GUINT64_FORMAT
              " forced in commits\n",
              st.passes, st.syncs, st.closing, st.forced);
}

/* What already arrived is handled before the count at exit: a connection its client
 * closed just before the stop ends here rather than being counted as held. Bounded: a
 * busy server stops anyway. */
#define SDC_SERVER_STOP_GRACE_MS 250
/* How long the count at exit waits for sockets another thread still holds. */
#define SDC_SERVER_SOCKETS_SETTLE_MS 1000

void
sdc_server_free (SdcServer *self)
{
  if (self == NULL)
    return;
  /* every loop at once, each for its own connections; the threads write their request
   * lines as they end */
  sdc_loops_stop (self->loops, SDC_SERVER_STOP_GRACE_MS);
  sdc_loops_handle_ready (SDC_SERVER_STOP_GRACE_MS);
  /* the request lines before the lines that sum them up */
  sdc_log_flush ();
  /* open at exit, or (the leak of issue 11) closed but still held by libsoup */
  if (sdc_idle_accepted () > 0)
    {
      sdc_idle_settle (SDC_SERVER_SOCKETS_SETTLE_MS);
      g_printerr ("esa-sdc: connections: %" G_GUINT64_FORMAT " accepted, %u held at exit (%u sockets)\n",
                  sdc_idle_accepted (), sdc_idle_held (), sdc_idle_sockets_held ());
    }
  if (self->loops != NULL && sdc_idle_accepted () > 0)
    {
      /* how evenly the kernel spread the connections over the loops */
      g_autoptr (GString) line = g_string_new ("esa-sdc: https loops: ");
      g_string_append_printf (line, "%u, requests each:", 1 + sdc_loops_get_n (self->loops));
      for (guint i = 0; i <= sdc_loops_get_n (self->loops); i++)
        g_string_append_printf (line, " %" G_GUINT64_FORMAT, self->loop_requests[i]);
      g_printerr ("%s\n", line->str);
    }
  if (self->https != NULL)
    {
      soup_server_disconnect (self->https);
      g_object_unref (self->https);
    }
  /* the other loops' servers, in their own contexts (their threads have ended) */
  for (guint i = 0; self->https_more != NULL && i < self->https_more->len; i++)
    {
      sdc_loops_push (self->loops, i);
      soup_server_disconnect (g_ptr_array_index (self->https_more, i));
      g_object_unref (g_ptr_array_index (self->https_more, i));
      sdc_loops_pop (self->loops, i);
    }
  if (self->http != NULL)
    {
      soup_server_disconnect (self->http);
      g_object_unref (self->http);
    }
  /* requests the disconnects aborted */
  sdc_log_flush ();
  log_writer_stats (self->writer, self->store);
  /* joins the writer: every stored report is committed before the process ends */
  sdc_writer_free (self->writer);
  if (self->https_more != NULL)
    g_ptr_array_unref (self->https_more);
  sdc_loops_free (self->loops);
  g_free (self->loop_requests);
  g_clear_object (&self->store);
  g_mutex_clear (&self->store_lock);
  sdc_auth_cache_free (self->auth_cache);
  sdc_throttle_free (self->throttle);
  sdc_guard_unref (self->guard);
  sdc_ui_free (self->ui);
  g_mutex_clear (&self->uak_lock);
  sdc_uak_free (self->uak);
  if (self->https_urls != NULL)
    g_ptr_array_unref (self->https_urls);
  g_free (self);
}
