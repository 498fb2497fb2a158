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
#include "sdc-auth.h"
#include "sdc-error.h"
#include "sdc-json.h"
#include "esa/esa-protocol.h"

#include <stdio.h>
#include <string.h>

static const SdcRoute routes[] = {
  { ESA_PROTOCOL_PATH_REGISTER, "POST", FALSE, SDC_ROUTE_REGISTER, NULL },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_HEARTBEAT, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_HEARTBEAT },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_PROBLEM, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_PROBLEM },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_INVENTORY, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_INVENTORY },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_UAK_STATUS, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_UAK_STATUS },
  { ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_EXTENDED_DATA, "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_EXTENDED_DATA },
  { ESA_PROTOCOL_PATH_UAK, "POST", TRUE, SDC_ROUTE_UAK, NULL },
  { ESA_PROTOCOL_PATH_CONFIG, "GET", FALSE, SDC_ROUTE_CONFIG, NULL },
  { ESA_PROTOCOL_PATH_ATTACHMENT, "PUT", TRUE, SDC_ROUTE_ATTACHMENT, NULL },
};

static void
sdc_request_free (SdcRequest *req)
{
  g_free (req->system_id);
  if (req->body != NULL)
    g_byte_array_unref (req->body);
  g_free (req->report_uuid);
  g_free (req->att_name);
  sdc_upload_free (req->upload);
  g_clear_error (&req->deferred);
  g_free (req->uuid);
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
  if (code == SDC_ERROR_METHOD_NOT_ALLOWED && req != NULL && req->route != NULL)
    soup_message_headers_replace (hdrs, "Allow", req->route->method);
  if (code == SDC_ERROR_INTERNAL)
    g_printerr ("esa-sdc: internal error: %s\n", error->message);
  if (req != NULL)
    req->error_code = sdc_error_code_name (code);
  sdc_server_respond_json (msg, sdc_error_http_status (code), body);
}

/* An error decided from the headers alone leaves the body unread; libsoup would then
 * neither read it nor close, and a client still sending would stall. Closing after the
 * answer lets it see the error (at once, when it sent Expect: 100-continue). */
static void
respond_early_error (SoupServerMessage *msg, SdcRequest *req, const GError *error)
{
  SoupMessageHeaders *req_hdrs = soup_server_message_get_request_headers (msg);
  if (soup_message_headers_get_encoding (req_hdrs) == SOUP_ENCODING_CHUNKED ||
      soup_message_headers_get_content_length (req_hdrs) > 0)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  sdc_server_respond_error (msg, req, error);
}

static void
respond_error_literal (SoupServerMessage *msg, SdcRequest *req, SdcError code, const char *message)
{
  g_autoptr (GError) error = g_error_new_literal (SDC_ERROR, code, message);
  respond_early_error (msg, req, error);
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

/* HTTP Basic against the store; the same answer for an unknown id and a wrong password. */
static gboolean
authenticate (SdcServer *self, SoupServerMessage *msg, SdcRequest *req, GError **error)
{
  const char *hdr = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                  "Authorization");
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  g_autofree char *salt = NULL;
  g_autofree char *hash = NULL;
  g_autoptr (GError) local = NULL;
  guint iterations = 0;

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
  if (!sdc_store_get_credentials (self->store, user, &salt, &hash, &iterations, &local))
    {
      if (!g_error_matches (local, SDC_ERROR, SDC_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  if (hash == NULL || !sdc_auth_verify (password, salt, hash, iterations))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED, "invalid system id or password");
      return FALSE;
    }
  req->system_id = g_steal_pointer (&user);
  return TRUE;
}

static gboolean
is_json_content_type (SoupServerMessage *msg)
{
  g_autoptr (GHashTable) params = NULL;
  const char *ct = soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg),
                                                          &params);
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

  req->server = self;
  req->https = (soup == self->https);
  g_object_set_data_full (G_OBJECT (msg), "sdc-request", req, (GDestroyNotify) sdc_request_free);

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
  if (req->route->auth && !authenticate (self, msg, req, &error))
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
      if (!sdc_api_attachment_begin (self, req, msg, tail, &error))
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
  req->body = g_byte_array_new ();
  g_signal_connect (msg, "got-chunk", G_CALLBACK (json_got_chunk_cb), req);
}

static void
handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  SdcServer *self = user_data;
  SdcRequest *req = g_object_get_data (G_OBJECT (msg), "sdc-request");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) obj = NULL;
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
    case SDC_ROUTE_CONFIG:
      answer = sdc_api_config (self);
      sdc_server_respond_json (msg, 200, answer);
      return;
    case SDC_ROUTE_ATTACHMENT:
      ok = sdc_api_attachment_finish (self, req, &status, &answer, &error);
      break;
    case SDC_ROUTE_REGISTER:
    case SDC_ROUTE_REPORT:
    case SDC_ROUTE_UAK:
      if (req->too_large)
        {
          g_autofree char *m = g_strdup_printf ("body exceeds the limit of %" G_GUINT64_FORMAT " bytes",
                                                self->opts.max_body);
          respond_error_literal (msg, req, SDC_ERROR_TOO_LARGE, m);
          return;
        }
      obj = sdc_json_parse_request ((const char *) req->body->data, req->body->len, self->opts.max_body,
                                    &error);
      if (obj == NULL)
        break;
      if (req->route->kind == SDC_ROUTE_REGISTER)
        ok = sdc_api_register (self, req, obj, &status, &answer, &error);
      else if (req->route->kind == SDC_ROUTE_REPORT)
        ok = sdc_api_report (self, req, msg, obj, &status, &answer, &error);
      else
        ok = sdc_api_uak (self, req, obj, &status, &answer, &error);
      break;
    }
  if (!ok)
    {
      sdc_server_respond_error (msg, req, error);
      return;
    }
  sdc_server_respond_json (msg, status, answer);
}

/* One line per request on stderr: what the tests (and an admin) read. */
static void
log_request (SdcServer *self, SoupServerMessage *msg, const char *outcome)
{
  SdcRequest *req = g_object_get_data (G_OBJECT (msg), "sdc-request");
  GUri *uri = soup_server_message_get_uri (msg);
  const char *remote = soup_server_message_get_remote_host (msg);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *ts = sdc_json_now (now);
  g_autofree char *extra = NULL;

  if (req == NULL)
    return; /* rejected by libsoup before routing: logged as "unrouted" below */
  extra = g_strdup_printf ("%s%s%s%s%s%s", req->uuid ? " uuid=" : "", req->uuid ? req->uuid : "",
                           req->error_code ? " error=" : "", req->error_code ? req->error_code : "",
                           req->duplicate ? " duplicate=yes" : "", outcome);
  fprintf (stderr, "%s esa-sdc: request scheme=%s remote=%s method=%s path=%s status=%u system=%s%s\n",
           ts, req->https ? "https" : "http", remote ? remote : "-",
           soup_server_message_get_method (msg), uri ? g_uri_get_path (uri) : "-",
           soup_server_message_get_status (msg), req->system_id ? req->system_id : "-", extra);
  fflush (stderr);
}

static void
request_finished_cb (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  if (g_object_get_data (G_OBJECT (msg), "sdc-request") == NULL)
    {
      GUri *uri = soup_server_message_get_uri (msg);
      fprintf (stderr, "esa-sdc: request scheme=%s method=%s path=%s status=%u system=- unrouted\n",
               soup == ((SdcServer *) user_data)->https ? "https" : "http",
               soup_server_message_get_method (msg) ? soup_server_message_get_method (msg) : "-",
               uri ? g_uri_get_path (uri) : "-", soup_server_message_get_status (msg));
      return;
    }
  log_request (user_data, msg, "");
}

static void
request_aborted_cb (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  if (g_object_get_data (G_OBJECT (msg), "sdc-request") != NULL)
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
  g_signal_connect (soup, "request-finished", G_CALLBACK (request_finished_cb), self);
  g_signal_connect (soup, "request-aborted", G_CALLBACK (request_aborted_cb), self);
  return soup;
}

SdcServer *
sdc_server_new (const SdcServerOptions *opts, GError **error)
{
  g_autoptr (SdcServer) self = g_new0 (SdcServer, 1);
  g_autofree char *db = g_build_filename (opts->dir, "sdc.db", NULL);
  g_autofree char *cert_path = g_build_filename (opts->dir, "server.pem", NULL);
  g_autofree char *key_path = g_build_filename (opts->dir, "server-key.pem", NULL);
  g_autofree char *uak_path = g_build_filename (opts->dir, "uak-key.pem", NULL);
  g_autoptr (GTlsCertificate) cert = NULL;

  self->opts = *opts;
  self->https_urls = g_ptr_array_new_with_free_func (g_free);
  cert = g_tls_certificate_new_from_files (cert_path, key_path, error);
  if (cert == NULL)
    {
      g_prefix_error (error, "%s (run `esa-sdc init %s` first?): ", cert_path, opts->dir);
      return NULL;
    }
  self->uak = sdc_uak_new (uak_path, opts->uak_days, opts->uak_flags, error);
  if (self->uak == NULL)
    return NULL;
  self->store = sdc_store_open (db, error);
  if (self->store == NULL)
    return NULL;
  self->https = new_soup_server (self, cert);
  if (opts->http_listen != NULL && opts->http_listen->len > 0)
    self->http = new_soup_server (self, NULL);
  return g_steal_pointer (&self);
}

static gboolean
listen_all (SoupServer *soup, GPtrArray *specs, SoupServerListenOptions flags, GError **error)
{
  for (guint i = 0; specs != NULL && i < specs->len; i++)
    {
      const char *spec = g_ptr_array_index (specs, i);
      g_autoptr (GSocketAddress) addr = sdc_server_parse_listen (spec, error);
      if (addr == NULL)
        return FALSE;
      if (!soup_server_listen (soup, addr, flags, error))
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
  if (!listen_all (self->https, self->opts.listen, SOUP_SERVER_LISTEN_HTTPS, error))
    return FALSE;
  if (self->http != NULL && !listen_all (self->http, self->opts.http_listen, 0, error))
    return FALSE;
  print_uris (self->https, self->https_urls);
  if (self->http != NULL)
    print_uris (self->http, NULL);
  return TRUE;
}

void
sdc_server_free (SdcServer *self)
{
  if (self == NULL)
    return;
  if (self->https != NULL)
    {
      soup_server_disconnect (self->https);
      g_object_unref (self->https);
    }
  if (self->http != NULL)
    {
      soup_server_disconnect (self->http);
      g_object_unref (self->http);
    }
  sdc_store_free (self->store);
  sdc_uak_free (self->uak);
  if (self->https_urls != NULL)
    g_ptr_array_unref (self->https_urls);
  g_free (self);
}
