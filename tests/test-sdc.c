/* test-sdc.c: esa-sdc end to end: a real `esa-sdc serve` on 127.0.0.1 and [::1] (plus
 * the plain-HTTP config port), driven by a libsoup client that trusts the ca.pem made
 * by `esa-sdc init`. */
#include "config.h"

#include <sqlite3.h>

#include <glib/gstdio.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esa-test-util.h"
#include "sdc-test-sqlite.h"
#ifdef HAVE_LIBPQ
#include "sdc-test-pg.h"
#endif

typedef struct {
  char *tmp;
  char *dir;
  char *log;
  guint16 port;
  guint16 http_port;
  GSubprocess *proc;
  SoupSession *session;
  /* For [::1]: glib-networking sends the URL host as SNI ("::1"), which GnuTLS servers
   * refuse (RFC 6066 forbids IP literals there); with an address as the remote
   * connectable no SNI is sent and the certificate is checked against IP:::1. */
  SoupSession *session6;
  char *db;  /* --db (PostgreSQL), or NULL: DIR/sdc.db */
} Sdc;

/* One server for most tests (started once: the file must stay fast). */
static Sdc main_sdc;

typedef struct {
  guint status;
  char *body;
  JsonObject *json;
  SoupMessageHeaders *headers;
} Reply;

static void
reply_clear (Reply *r)
{
  g_free (r->body);
  if (r->json != NULL)
    json_object_unref (r->json);
  if (r->headers != NULL)
    soup_message_headers_unref (r->headers);
  memset (r, 0, sizeof (*r));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reply, reply_clear)

static char *
sdc_bin (void)
{
  return esa_test_build_path ("sdc/esa-sdc");
}

static void
sdc_init_dir (const char *dir, const char *extra)
{
  g_autofree char *bin = sdc_bin ();
  g_autofree char *err = NULL;
  const char *argv[] = { bin, "init", dir, extra, NULL };
  g_assert_cmpint (esa_test_run (argv, NULL, &err), ==, 0);
}

static void
sdc_start (Sdc *sdc, const char *const *extra)
{
  g_autofree char *bin = sdc_bin ();
  g_autofree char *ca = NULL;
  g_autofree char *l4 = NULL;
  g_autofree char *l6 = NULL;
  g_autofree char *lh = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GTlsDatabase) db = NULL;
  g_autoptr (GError) error = NULL;

  sdc->tmp = esa_test_mkdtemp ("test-sdc");
  sdc->dir = g_build_filename (sdc->tmp, "sdc", NULL);
  sdc->log = g_build_filename (sdc->tmp, "sdc.log", NULL);
  sdc_init_dir (sdc->dir, NULL);
  sdc->port = esa_test_free_port ();
  do
    sdc->http_port = esa_test_free_port ();
  while (sdc->http_port == sdc->port);
  l4 = g_strdup_printf ("127.0.0.1:%u", sdc->port);
  l6 = g_strdup_printf ("[::1]:%u", sdc->port);
  lh = g_strdup_printf ("127.0.0.1:%u", sdc->http_port);
  g_ptr_array_add (argv, bin);
  g_ptr_array_add (argv, (char *) "serve");
  g_ptr_array_add (argv, (char *) "--dir");
  g_ptr_array_add (argv, sdc->dir);
  g_ptr_array_add (argv, (char *) "--listen");
  g_ptr_array_add (argv, l4);
  g_ptr_array_add (argv, (char *) "--listen");
  g_ptr_array_add (argv, l6);
  g_ptr_array_add (argv, (char *) "--http-listen");
  g_ptr_array_add (argv, lh);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra[i]);
  g_ptr_array_add (argv, NULL);
  sdc->proc = esa_test_spawn (sdc->log, (const char *const *) argv->pdata);
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", sdc->port, 10000));
  g_assert_true (esa_test_wait_for_port ("::1", sdc->port, 10000));
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", sdc->http_port, 10000));

  ca = g_build_filename (sdc->dir, "ca.pem", NULL);
  db = g_tls_file_database_new (ca, &error);
  g_assert_no_error (error);
  sdc->session = soup_session_new_with_options ("tls-database", db, "timeout", 20, NULL);
  {
    g_autoptr (GInetAddress) lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
    g_autoptr (GSocketAddress) addr6 = g_inet_socket_address_new (lo6, sdc->port);
    sdc->session6 = soup_session_new_with_options ("tls-database", db, "timeout", 20,
                                                   "remote-connectable", addr6, NULL);
  }
}

static void
sdc_stop (Sdc *sdc)
{
  if (sdc->proc != NULL)
    /* SIGTERM is a clean stop: exit status 0 */
    g_assert_cmpint (esa_test_stop (sdc->proc), ==, 0);
  g_clear_object (&sdc->proc);
  g_clear_object (&sdc->session);
  g_clear_object (&sdc->session6);
  esa_test_rmtree (sdc->dir);
  esa_test_rmtree (sdc->tmp);
  g_clear_pointer (&sdc->tmp, g_free);
  g_clear_pointer (&sdc->dir, g_free);
  g_clear_pointer (&sdc->log, g_free);
  g_clear_pointer (&sdc->db, g_free);
}

static char *
sdc_url (Sdc *sdc, gboolean v6, const char *path)
{
  return g_strdup_printf ("https://%s:%u%s", v6 ? "[::1]" : "127.0.0.1", sdc->port, path);
}

/* One request; @user NULL = no Authorization; @headers "Name: value" lines. */
static void
sdc_request (Sdc *sdc, Reply *r, const char *method, const char *url, const char *user,
             const char *password, const char *content_type, const char *body, gssize len,
             const char *const *headers)
{
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = NULL;
  SoupMessageHeaders *hdrs;

  g_assert_nonnull (msg);
  hdrs = soup_message_get_request_headers (msg);
  if (user != NULL)
    {
      g_autofree char *pair = g_strdup_printf ("%s:%s", user, password);
      g_autofree char *b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
      g_autofree char *value = g_strdup_printf ("Basic %s", b64);
      soup_message_headers_replace (hdrs, "Authorization", value);
    }
  for (guint i = 0; headers != NULL && headers[i] != NULL; i++)
    {
      g_auto (GStrv) kv = g_strsplit (headers[i], ": ", 2);
      soup_message_headers_replace (hdrs, kv[0], kv[1]);
    }
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, len < 0 ? strlen (body) : (gsize) len);
      soup_message_set_request_body_from_bytes (msg, content_type, bytes);
    }
  out = soup_session_send_and_read (strstr (url, "://[::1]:") != NULL ? sdc->session6 : sdc->session,
                                    msg, NULL, &error);
  g_assert_no_error (error);
  r->status = soup_message_get_status (msg);
  r->body = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  r->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  if (r->body[0] == '{')
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_assert_true (json_parser_load_from_data (parser, r->body, -1, NULL));
      r->json = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
    }
}

static void
sdc_post (Sdc *sdc, Reply *r, const char *path, const char *user, const char *password, const char *json)
{
  g_autofree char *url = sdc_url (sdc, FALSE, path);
  sdc_request (sdc, r, "POST", url, user, password, "application/json", json, -1, NULL);
}

/* Asserts an error reply: status, code, and that the message mentions @needle. */
static void
assert_error (Reply *r, guint status, const char *code, const char *needle)
{
  JsonObject *err;
  if (r->status != status)
    g_error ("expected %u %s, got %u: %s", status, code, r->status, r->body);
  g_assert_nonnull (r->json);
  err = json_object_get_object_member (r->json, "error");
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, code);
  g_assert_nonnull (json_object_get_string_member (err, "message"));
  if (needle != NULL && strstr (json_object_get_string_member (err, "message"), needle) == NULL)
    g_error ("error message \"%s\" does not mention \"%s\"", json_object_get_string_member (err, "message"), needle);
  g_assert_cmpstr (soup_message_headers_get_content_type (r->headers, NULL), ==, "application/json");
}

typedef struct {
  char *id;
  char *password;
} Creds;

static void
creds_clear (Creds *c)
{
  g_free (c->id);
  g_free (c->password);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Creds, creds_clear)

static char *
register_json (const char *machine_type, const char *serial)
{
  g_autofree char *uuid = g_uuid_string_random ();
  return g_strdup_printf ("{\"version\":1,\"uuid\":\"%s\",\"vendor\":\"IBM\",\"machine_type\":\"%s\","
                          "\"model\":\"42A\",\"serial\":\"%s\",\"system_id\":\"IBM,02%s\","
                          "\"hostname\":\"aix1\",\"os\":\"AIX\",\"os_version\":\"7.3\",\"is_lpar\":false,"
                          "\"contact\":{\"name\":\"Ada\",\"email\":\"ada@example.com\",\"phone\":\"\"}}",
                          uuid, machine_type, serial, serial);
}

/* Registers; @proof (the system's current credentials) when it is registered already. */
static void
sdc_register_as (Sdc *sdc, Creds *c, const char *machine_type, const char *serial, const Creds *proof)
{
  g_auto (Reply) r = { 0 };
  g_autofree char *json = register_json (machine_type, serial);
  sdc_post (sdc, &r, "/esa/v1/register", proof ? proof->id : NULL, proof ? proof->password : NULL, json);
  g_assert_cmpuint (r.status, ==, 201);
  c->id = g_strdup (json_object_get_string_member (r.json, "system_id"));
  c->password = g_strdup (json_object_get_string_member (r.json, "password"));
  g_assert_true (g_str_has_prefix (c->id, "ESA-"));
  g_assert_cmpuint (strlen (c->id), ==, 20);
  g_assert_cmpuint (strlen (c->password), ==, 32);
}

static void
sdc_register (Sdc *sdc, Creds *c, const char *machine_type, const char *serial)
{
  sdc_register_as (sdc, c, machine_type, serial, NULL);
}

static char *
report_json (const char *uuid, const char *kind, const char *attachments)
{
  return g_strdup_printf ("{\"version\":1,\"uuid\":\"%s\",\"kind\":\"%s\",\"plugin\":\"%s\","
                          "\"created\":\"2026-11-25T09:00:00Z\",\"parent\":null,"
                          "\"body\":{\"note\":\"from test\"},\"attachments\":%s}",
                          uuid, kind, kind, attachments ? attachments : "[]");
}

static char *
read_log (Sdc *sdc)
{
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (sdc->log, &text, NULL, NULL));
  return g_steal_pointer (&text);
}

/* esa-sdc runs on jemalloc when configure found it (docs/performance.md, "The
 * allocator"): --version names the allocator that answers malloc, which fails when
 * jemalloc is linked after the C library (its malloc unused) or not at all. */
static void
test_allocator (void)
{
  g_autofree char *bin = sdc_bin ();
  g_autofree char *out = NULL;
  const char *argv[] = { bin, "--version", NULL };
  g_assert_cmpint (esa_test_run (argv, &out, NULL), ==, 0);
  g_test_message ("%s", out);
#ifdef HAVE_JEMALLOC
  g_assert_true (g_regex_match_simple ("^allocator: jemalloc [0-9.]+[^ ]*$", out, G_REGEX_MULTILINE, 0));
#else
  g_assert_nonnull (strstr (out, "\nallocator: the C library's malloc\n"));
#endif
}

/* `esa-sdc reports --dir DIR --json` parsed */
static JsonArray *
list_reports (Sdc *sdc, const char *system)
{
  g_autofree char *bin = sdc_bin ();
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *argv[] = { bin, "reports", sdc->db ? "--db" : "--dir", sdc->db ? sdc->db : sdc->dir, "--json",
                         system ? "--system" : NULL, system, NULL };
  g_assert_cmpint (esa_test_run (argv, &out, NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  return json_array_ref (json_node_get_array (json_parser_get_root (parser)));
}

static guint
count_reports_with_uuid (Sdc *sdc, const char *uuid)
{
  g_autoptr (JsonArray) arr = list_reports (sdc, NULL);
  guint n = 0;
  for (guint i = 0; i < json_array_get_length (arr); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (arr, i), "uuid"), uuid) == 0)
      n++;
  return n;
}

static void
test_config (void)
{
  g_autofree char *v6 = g_strdup_printf ("https://[::1]:%u/", main_sdc.port);
  g_autofree char *v4 = g_strdup_printf ("https://127.0.0.1:%u/", main_sdc.port);
  const char *urls[3];
  urls[0] = sdc_url (&main_sdc, FALSE, "/esa/v1/config");
  urls[1] = sdc_url (&main_sdc, TRUE, "/esa/v1/config");
  urls[2] = g_strdup_printf ("http://127.0.0.1:%u/esa/v1/config", main_sdc.http_port);
  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_auto (Reply) r = { 0 };
      JsonArray *servers;
      sdc_request (&main_sdc, &r, "GET", urls[i], NULL, NULL, NULL, NULL, 0, NULL);
      g_assert_cmpuint (r.status, ==, 200);
      g_assert_cmpint (json_object_get_int_member (r.json, "version"), ==, 1);
      g_assert_cmpstr (json_object_get_string_member (r.json, "heartbeat"), ==, "daily 02:15");
      servers = json_object_get_array_member (r.json, "servers");
      g_assert_cmpuint (json_array_get_length (servers), ==, 2);
      g_assert_cmpstr (json_array_get_string_element (servers, 0), ==, v4);
      g_assert_cmpstr (json_array_get_string_element (servers, 1), ==, v6);
      g_free ((char *) urls[i]);
    }
}

static void
test_http_refuses_uploads (void)
{
  g_auto (Creds) c = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *json = report_json (uuid, "heartbeat", NULL);
  g_autofree char *base = g_strdup_printf ("http://127.0.0.1:%u", main_sdc.http_port);
  g_autofree char *hb = g_strconcat (base, "/esa/v1/heartbeat", NULL);
  g_autofree char *reg = g_strconcat (base, "/esa/v1/register", NULL);
  g_autofree char *cfg = g_strconcat (base, "/esa/v1/config", NULL);
  g_autofree char *att = g_strconcat (base, "/esa/v1/attachment/", uuid, "/x", NULL);
  g_autofree char *log = NULL;
  g_autofree char *rjson = register_json ("9009", "HTTP0001");
  g_auto (GStrv) lines = NULL;
  guint http_lines = 0;

  sdc_register (&main_sdc, &c, "9009", "HTTP0002");
  {
    g_auto (Reply) r = { 0 };
    sdc_request (&main_sdc, &r, "POST", hb, c.id, c.password, "application/json", json, -1, NULL);
    assert_error (&r, 404, "not_found", "HTTPS");
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_request (&main_sdc, &r, "POST", reg, NULL, NULL, "application/json", rjson, -1, NULL);
    assert_error (&r, 404, "not_found", NULL);
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_request (&main_sdc, &r, "PUT", att, c.id, c.password, "application/octet-stream", "abc", 3, NULL);
    assert_error (&r, 404, "not_found", NULL);
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_request (&main_sdc, &r, "POST", cfg, NULL, NULL, "application/json", "{}", -1, NULL);
    assert_error (&r, 405, "method_not_allowed", NULL);
    g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Allow"), ==, "GET");
  }
  /* nothing was stored, and the log shows every plain-HTTP POST/PUT refused */
  g_assert_cmpuint (count_reports_with_uuid (&main_sdc, uuid), ==, 0);
  log = read_log (&main_sdc);
  lines = g_strsplit (log, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (strstr (lines[i], "scheme=http ") == NULL)
        continue;
      http_lines++;
      if (strstr (lines[i], "method=POST") != NULL || strstr (lines[i], "method=PUT") != NULL)
        g_assert_null (strstr (lines[i], "status=2"));
    }
  g_assert_cmpuint (http_lines, >=, 4);
  g_assert_nonnull (strstr (log, "scheme=http remote=127.0.0.1 method=POST path=/esa/v1/heartbeat status=404"));
}

static void
test_register (void)
{
  g_auto (Creds) c = { 0 };
  g_auto (Creds) again = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *json = report_json (uuid, "heartbeat", NULL);
  g_autofree char *uuid2 = g_uuid_string_random ();
  g_autofree char *json2 = report_json (uuid2, "heartbeat", NULL);

  sdc_register (&main_sdc, &c, "9009", "REG00001");
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", c.id, "wrong-password", json);
    assert_error (&r, 401, "unauthorized", NULL);
    g_assert_cmpstr (soup_message_headers_get_one (r.headers, "WWW-Authenticate"), ==, "Basic realm=\"esa\"");
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", NULL, NULL, json);
    assert_error (&r, 401, "unauthorized", NULL);
    g_assert_nonnull (soup_message_headers_get_one (r.headers, "WWW-Authenticate"));
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", "ESA-0000000000000000", c.password, json);
    assert_error (&r, 401, "unauthorized", NULL);
  }
  g_assert_cmpuint (count_reports_with_uuid (&main_sdc, uuid), ==, 0);
  {
    g_auto (Reply) r = { 0 };
    g_autoptr (GDateTime) dt = NULL;
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", c.id, c.password, json);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (r.json, "status"), ==, "stored");
    g_assert_cmpstr (json_object_get_string_member (r.json, "uuid"), ==, uuid);
    dt = g_date_time_new_from_iso8601 (json_object_get_string_member (r.json, "last_seen"), NULL);
    g_assert_nonnull (dt);
  }
  /* the same machine again, proving its credentials: same system id, new password,
   * the old one stops working */
  sdc_register_as (&main_sdc, &again, "9009", "REG00001", &c);
  g_assert_cmpstr (again.id, ==, c.id);
  g_assert_cmpstr (again.password, !=, c.password);
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", c.id, c.password, json2);
    assert_error (&r, 401, "unauthorized", NULL);
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", again.id, again.password, json2);
    g_assert_cmpuint (r.status, ==, 200);
  }
  /* `esa-sdc systems --json` lists it once, without any credential */
  {
    g_autofree char *bin = sdc_bin ();
    g_autofree char *out = NULL;
    g_autoptr (JsonParser) parser = json_parser_new ();
    const char *argv[] = { bin, "systems", "--dir", main_sdc.dir, "--json", NULL };
    JsonArray *arr;
    guint found = 0;
    g_assert_cmpint (esa_test_run (argv, &out, NULL), ==, 0);
    g_assert_null (strstr (out, again.password));
    g_assert_null (strstr (out, "pw_"));
    g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
    arr = json_node_get_array (json_parser_get_root (parser));
    for (guint i = 0; i < json_array_get_length (arr); i++)
      {
        JsonObject *o = json_array_get_object_element (arr, i);
        if (g_strcmp0 (json_object_get_string_member (o, "system_id"), c.id) != 0)
          continue;
        found++;
        g_assert_cmpstr (json_object_get_string_member (o, "serial"), ==, "REG00001");
        g_assert_cmpstr (json_object_get_string_member (o, "platform_id"), ==, "IBM,02REG00001");
        g_assert_false (json_object_get_boolean_member (o, "is_lpar"));
        g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "contact"), "name"), ==, "Ada");
        g_assert_nonnull (json_object_get_string_member (o, "last_seen"));
      }
    g_assert_cmpuint (found, ==, 1);
  }
  /* the password is stored only as a hash */
  {
    g_autofree char *db = g_build_filename (main_sdc.dir, "sdc.db", NULL);
    g_autofree char *contents = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (db, &contents, &len, NULL));
    g_assert_null (g_strstr_len (contents, (gssize) len, again.password));
  }
}

static void
test_reports_stored (void)
{
  g_auto (Creds) c = { 0 };
  const char *kinds[] = { "heartbeat", "problem", "inventory", "uak-status" };
  g_autoptr (JsonArray) arr = NULL;
  char *sr_first = NULL;

  sdc_register (&main_sdc, &c, "9009", "REP00001");
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_auto (Reply) r = { 0 };
      g_autofree char *uuid = g_uuid_string_random ();
      g_autofree char *json = report_json (uuid, kinds[i], NULL);
      g_autofree char *path = g_strconcat ("/esa/v1/", kinds[i], NULL);
      g_autofree char *url = sdc_url (&main_sdc, i % 2 == 1, path);
      g_autofree char *key = g_strdup_printf ("Idempotency-Key: %s", uuid);
      const char *hdrs[] = { key, NULL };
      sdc_request (&main_sdc, &r, "POST", url, c.id, c.password, "application/json", json, -1, hdrs);
      g_assert_cmpuint (r.status, ==, 200);
      g_assert_cmpstr (json_object_get_string_member (r.json, "status"), ==, "stored");
      g_assert_cmpstr (json_object_get_string_member (r.json, "uuid"), ==, uuid);
      /* the answer is written without json-glib: the same bytes as its generator's */
      {
        g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
        g_autofree char *generated = NULL;
        json_node_set_object (node, r.json);
        generated = json_to_string (node, FALSE);
        g_assert_cmpstr (r.body, ==, generated);
        g_assert_cmpuint (json_object_get_size (r.json), ==, g_strcmp0 (kinds[i], "problem") == 0 ||
                                                                  g_strcmp0 (kinds[i], "heartbeat") == 0 ? 3 : 2);
      }
      if (g_strcmp0 (kinds[i], "problem") == 0)
        {
          const char *sr = json_object_get_string_member (r.json, "service_request");
          g_assert_true (g_str_has_prefix (sr, "SR"));
          g_assert_cmpuint (strlen (sr), ==, 10);
          sr_first = g_strdup (sr);
        }
      else
        g_assert_false (json_object_has_member (r.json, "service_request"));
      g_assert_cmpuint (count_reports_with_uuid (&main_sdc, uuid), ==, 1);
    }
  /* a second problem gets the next SR number */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *uuid = g_uuid_string_random ();
    g_autofree char *json = report_json (uuid, "problem", NULL);
    sdc_post (&main_sdc, &r, "/esa/v1/problem", c.id, c.password, json);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpint (g_ascii_strtoll (json_object_get_string_member (r.json, "service_request") + 2, NULL, 10), ==,
                     g_ascii_strtoll (sr_first + 2, NULL, 10) + 1);
  }
  g_free (sr_first);
  /* kind must match the endpoint; Idempotency-Key must match the uuid */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *uuid = g_uuid_string_random ();
    g_autofree char *json = report_json (uuid, "problem", NULL);
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", c.id, c.password, json);
    assert_error (&r, 400, "invalid_field", "kind");
    g_assert_cmpuint (count_reports_with_uuid (&main_sdc, uuid), ==, 0);
  }
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *uuid = g_uuid_string_random ();
    g_autofree char *other = g_uuid_string_random ();
    g_autofree char *json = report_json (uuid, "heartbeat", NULL);
    g_autofree char *url = sdc_url (&main_sdc, FALSE, "/esa/v1/heartbeat");
    g_autofree char *key = g_strdup_printf ("Idempotency-Key: %s", other);
    const char *hdrs[] = { key, NULL };
    sdc_request (&main_sdc, &r, "POST", url, c.id, c.password, "application/json", json, -1, hdrs);
    assert_error (&r, 400, "invalid_field", "Idempotency-Key");
    g_assert_cmpuint (count_reports_with_uuid (&main_sdc, uuid), ==, 0);
  }
  /* the listing filters by system and carries the body */
  arr = list_reports (&main_sdc, c.id);
  g_assert_cmpuint (json_array_get_length (arr), ==, 5);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      g_assert_cmpstr (json_object_get_string_member (o, "system_id"), ==, c.id);
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "body"), "note"), ==, "from test");
    }
}

static void
test_exactly_once (void)
{
  g_auto (Creds) c = { 0 };
  g_auto (Creds) other = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *json = report_json (uuid, "problem", NULL);
  g_autofree char *first = NULL;
  g_autofree char *log = NULL;

  sdc_register (&main_sdc, &c, "9009", "ONCE0001");
  sdc_register (&main_sdc, &other, "9009", "ONCE0002");
  for (guint i = 0; i < 3; i++)
    {
      g_auto (Reply) r = { 0 };
      g_autofree char *url = sdc_url (&main_sdc, i == 1, "/esa/v1/problem");
      sdc_request (&main_sdc, &r, "POST", url, c.id, c.password, "application/json", json, -1, NULL);
      g_assert_cmpuint (r.status, ==, 200);
      if (first == NULL)
        first = g_strdup (r.body);
      else
        g_assert_cmpstr (r.body, ==, first); /* the same SR number, byte for byte */
    }
  g_assert_cmpuint (count_reports_with_uuid (&main_sdc, uuid), ==, 1);
  log = read_log (&main_sdc);
  g_assert_nonnull (strstr (log, "duplicate=yes"));
  /* the uuid belongs to someone else / to another kind: refused, not replayed */
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/problem", other.id, other.password, json);
    assert_error (&r, 409, "duplicate", uuid);
    g_assert_null (strstr (r.body, "SR"));
  }
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *hb = report_json (uuid, "heartbeat", NULL);
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", c.id, c.password, hb);
    assert_error (&r, 409, "duplicate", NULL);
  }
  g_assert_cmpuint (count_reports_with_uuid (&main_sdc, uuid), ==, 1);
}

static char *
sha256_hex (const char *data, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

static void
put_attachment (Sdc *sdc, Reply *r, Creds *c, const char *uuid, const char *raw_name,
                const char *data, gsize len, const char *sha)
{
  g_autofree char *path = g_strdup_printf ("/esa/v1/attachment/%s/%s", uuid, raw_name);
  g_autofree char *url = sdc_url (sdc, FALSE, path);
  g_autofree char *hdr = sha ? g_strdup_printf ("X-Esa-Sha256: %s", sha) : NULL;
  const char *hdrs[] = { hdr, NULL };
  sdc_request (sdc, r, "PUT", url, c->id, c->password, "application/octet-stream", data, (gssize) len, hdrs);
}

static void
test_attachment (void)
{
  g_auto (Creds) c = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  gsize len = 3 * 1024 * 1024 + 17; /* several chunks, under the 4M limit of this server */
  g_autofree char *data = g_malloc (len);
  g_autofree char *sha = NULL;
  g_autofree char *bad = g_strdup ("bad data");
  g_autofree char *bad_sha = NULL;
  g_autofree char *atts = NULL;
  g_autofree char *json = NULL;
  g_autofree char *file = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *first = NULL;
  gsize stored_len = 0;

  for (gsize i = 0; i < len; i++)
    data[i] = (char) (i * 7 + i / 4096);
  sha = sha256_hex (data, len);
  bad_sha = sha256_hex (bad, strlen (bad));
  atts = g_strdup_printf ("[{\"name\":\"snap.tar.gz\",\"size\":%" G_GSIZE_FORMAT ",\"sha256\":\"%s\","
                          "\"content_type\":\"application/gzip\"},"
                          "{\"name\":\"other.log\",\"size\":8,\"sha256\":\"%s\"}]",
                          len, sha, bad_sha);
  json = report_json (uuid, "problem", atts);
  sdc_register (&main_sdc, &c, "9009", "ATT00001");
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/problem", c.id, c.password, json);
    g_assert_cmpuint (r.status, ==, 200);
  }
  /* a body that does not match its X-Esa-Sha256: refused, nothing kept */
  {
    g_auto (Reply) r = { 0 };
    put_attachment (&main_sdc, &r, &c, uuid, "other.log", "bad dat!", 8, bad_sha);
    assert_error (&r, 400, "checksum_mismatch", NULL);
  }
  file = g_build_filename (main_sdc.dir, "attachments", uuid, "other.log", NULL);
  g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
  g_clear_pointer (&file, g_free);
  /* X-Esa-Sha256 that is not the one the report declared */
  {
    g_auto (Reply) r = { 0 };
    put_attachment (&main_sdc, &r, &c, uuid, "snap.tar.gz", bad, strlen (bad), bad_sha);
    assert_error (&r, 400, "checksum_mismatch", NULL);
  }
  /* missing / malformed checksum header */
  {
    g_auto (Reply) r = { 0 };
    put_attachment (&main_sdc, &r, &c, uuid, "snap.tar.gz", data, len, NULL);
    assert_error (&r, 400, "invalid_field", "X-Esa-Sha256");
  }
  /* the real thing, streamed */
  {
    g_auto (Reply) r = { 0 };
    put_attachment (&main_sdc, &r, &c, uuid, "snap.tar.gz", data, len, sha);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (r.json, "sha256"), ==, sha);
    g_assert_cmpint (json_object_get_int_member (r.json, "size"), ==, (gint64) len);
    first = g_strdup (r.body);
  }
  file = g_build_filename (main_sdc.dir, "attachments", uuid, "snap.tar.gz", NULL);
  g_assert_true (g_file_get_contents (file, &stored, &stored_len, NULL));
  g_assert_cmpuint (stored_len, ==, len);
  g_assert_true (memcmp (stored, data, len) == 0);
  /* again with the same checksum: the same answer; with another: refused */
  {
    g_auto (Reply) r = { 0 };
    put_attachment (&main_sdc, &r, &c, uuid, "snap.tar.gz", data, len, sha);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (r.body, ==, first);
  }
  {
    g_auto (Reply) r = { 0 };
    put_attachment (&main_sdc, &r, &c, uuid, "snap.tar.gz", bad, strlen (bad), bad_sha);
    assert_error (&r, 409, "duplicate", NULL);
  }
  /* names: traversal, hidden, not listed; unknown report */
  {
    const char *names[] = { "..%2F..%2Fetc%2Fpasswd", "%2E%2E", "..", ".hidden", "a%2Fb", "a%5Cb", "a%00b" };
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_auto (Reply) r = { 0 };
        put_attachment (&main_sdc, &r, &c, uuid, names[i], bad, strlen (bad), bad_sha);
        if (r.status != 400 && r.status != 404)
          g_error ("name %s: got %u %s", names[i], r.status, r.body);
        g_assert_nonnull (r.json);
        g_assert_true (json_object_has_member (r.json, "error"));
      }
  }
  {
    g_auto (Reply) r = { 0 };
    put_attachment (&main_sdc, &r, &c, uuid, "unlisted.bin", bad, strlen (bad), bad_sha);
    assert_error (&r, 404, "not_found", "unlisted.bin");
  }
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *nouuid = g_uuid_string_random ();
    put_attachment (&main_sdc, &r, &c, nouuid, "snap.tar.gz", bad, strlen (bad), bad_sha);
    assert_error (&r, 404, "not_found", NULL);
  }
  /* another system cannot upload to this report */
  {
    g_auto (Creds) other = { 0 };
    g_auto (Reply) r = { 0 };
    sdc_register (&main_sdc, &other, "9009", "ATT00002");
    put_attachment (&main_sdc, &r, &other, uuid, "other.log", bad, strlen (bad), bad_sha);
    assert_error (&r, 404, "not_found", NULL);
  }
  /* nothing escaped the attachments folder */
  {
    g_autofree char *escaped = g_build_filename (main_sdc.dir, "attachments", "passwd", NULL);
    g_autofree char *list = g_build_filename (main_sdc.dir, "attachments", uuid, NULL);
    g_autoptr (GDir) d = g_dir_open (list, 0, NULL);
    const char *n;
    g_assert_false (g_file_test (escaped, G_FILE_TEST_EXISTS));
    while ((n = g_dir_read_name (d)) != NULL)
      g_assert_cmpstr (n, ==, "snap.tar.gz");
  }
}

static void
test_attachment_too_large (void)
{
  g_auto (Creds) c = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  gsize len = 5 * 1024 * 1024; /* over the 4M limit */
  g_autofree char *data = g_malloc0 (len);
  g_autofree char *sha = sha256_hex (data, len);
  g_autofree char *atts = g_strdup_printf ("[{\"name\":\"big.bin\",\"size\":%" G_GSIZE_FORMAT ",\"sha256\":\"%s\"}]", len, sha);
  g_autofree char *json = report_json (uuid, "problem", atts);
  g_autofree char *path = g_strdup_printf ("/esa/v1/attachment/%s/big.bin", uuid);
  g_autofree char *url = sdc_url (&main_sdc, FALSE, path);
  g_autofree char *hdr = g_strdup_printf ("X-Esa-Sha256: %s", sha);

  sdc_register (&main_sdc, &c, "9009", "BIG00001");
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/problem", c.id, c.password, json);
    g_assert_cmpuint (r.status, ==, 200);
  }
  /* with Expect: 100-continue the SDC refuses before a byte of the body is sent */
  {
    g_auto (Reply) r = { 0 };
    const char *hdrs[] = { hdr, "Expect: 100-continue", NULL };
    sdc_request (&main_sdc, &r, "PUT", url, c.id, c.password, "application/octet-stream", data, (gssize) len, hdrs);
    assert_error (&r, 413, "too_large", NULL);
  }
  {
    g_auto (Reply) r = { 0 };
    put_attachment (&main_sdc, &r, &c, uuid, "big.bin", data, len, sha);
    assert_error (&r, 413, "too_large", NULL);
  }
  /* and the server is fine */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *cfg = sdc_url (&main_sdc, TRUE, "/esa/v1/config");
    sdc_request (&main_sdc, &r, "GET", cfg, NULL, NULL, NULL, NULL, 0, NULL);
    g_assert_cmpuint (r.status, ==, 200);
  }
}

static void
test_malformed (void)
{
  g_auto (Creds) c = { 0 };
  g_autofree char *u = g_uuid_string_random ();
  g_autoptr (JsonArray) before = NULL;
  g_autoptr (JsonArray) after = NULL;
  g_autofree char *huge = NULL;
  struct {
    const char *path;
    const char *body;
    guint status;
    const char *code;
    const char *needle;
  } cases[] = {
    { "/esa/v1/heartbeat", "", 400, "invalid_json", NULL },
    { "/esa/v1/heartbeat", "{\"version\":1,", 400, "invalid_json", NULL },
    { "/esa/v1/heartbeat", "[1,2,3]", 400, "invalid_json", "object" },
    { "/esa/v1/heartbeat", "\"version\"", 400, "invalid_json", NULL },
    { "/esa/v1/heartbeat", "{\"version\":1} trailing", 400, "invalid_json", NULL },
    { "/esa/v1/heartbeat", "{}", 400, "invalid_field", "version" },
    { "/esa/v1/heartbeat", "{\"version\":\"1\"}", 400, "invalid_field", "version" },
    { "/esa/v1/heartbeat", "{\"version\":2}", 400, "unsupported_version", NULL },
    { "/esa/v1/heartbeat", "{\"version\":0}", 400, "unsupported_version", NULL },
    { "/esa/v1/heartbeat", "{\"version\":1}", 400, "invalid_field", "uuid" },
    { "/esa/v1/heartbeat", "{\"version\":1,\"uuid\":\"not-a-uuid\"}", 400, "invalid_field", "uuid" },
    { "/esa/v1/heartbeat", "{\"version\":1,\"uuid\":42}", 400, "invalid_field", "uuid: expected string, got number" },
    { "/esa/v1/heartbeat", "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"heartbeat\",\"created\":\"2026-11-25T09:00:00Z\"}", 400, "invalid_field", "body" },
    { "/esa/v1/heartbeat", "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"heartbeat\",\"created\":\"yesterday\",\"body\":{}}", 400, "invalid_field", "created" },
    { "/esa/v1/heartbeat", "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"heartbeat\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":[]}", 400, "invalid_field", "body: expected object, got array" },
    { "/esa/v1/heartbeat", "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"heartbeat\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{},\"parent\":7}", 400, "invalid_field", "parent" },
    { "/esa/v1/problem", "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"problem\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{},\"attachments\":{}}", 400, "invalid_field", "attachments" },
    { "/esa/v1/problem", "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"problem\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{},\"attachments\":[{\"name\":\"../x\",\"size\":1,\"sha256\":\"" "0000000000000000000000000000000000000000000000000000000000000000\"}]}", 400, "invalid_field", "attachments[0].name" },
    { "/esa/v1/problem", "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"problem\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{},\"attachments\":[{\"name\":\"x\",\"size\":\"1\",\"sha256\":\"" "0000000000000000000000000000000000000000000000000000000000000000\"}]}", 400, "invalid_field", "attachments[0].size" },
    { "/esa/v1/problem", "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"problem\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{},\"attachments\":[{\"name\":\"x\",\"size\":1,\"sha256\":\"abc\"}]}", 400, "invalid_field", "attachments[0].sha256" },
    { "/esa/v1/register", "{\"version\":1,\"uuid\":\"@U\",\"vendor\":5,\"machine_type\":\"9009\",\"serial\":\"X\",\"hostname\":\"h\"}", 400, "invalid_field", "vendor: expected string, got number" },
    { "/esa/v1/register", "{\"version\":1,\"uuid\":\"@U\",\"vendor\":\"IBM\",\"machine_type\":\"9009\",\"hostname\":\"h\"}", 400, "invalid_field", "serial" },
    { "/esa/v1/register", "{\"version\":1,\"uuid\":\"@U\",\"vendor\":\"IBM\",\"machine_type\":\"9009\",\"serial\":\"a;b=c\",\"hostname\":\"h\"}", 400, "invalid_field", "serial" },
    { "/esa/v1/register", "{\"version\":1,\"uuid\":\"@U\",\"vendor\":\"IBM\",\"machine_type\":\"9009\",\"serial\":\"X\",\"hostname\":\"h\",\"is_lpar\":\"no\"}", 400, "invalid_field", "is_lpar: expected boolean" },
    { "/esa/v1/register", "{\"version\":1,\"uuid\":\"@U\",\"vendor\":\"IBM\",\"machine_type\":\"9009\",\"serial\":\"X\",\"hostname\":\"h\",\"contact\":{\"email\":[]}}", 400, "invalid_field", "contact.email" },
    { "/esa/v1/register", "{\"version\":1,\"uuid\":\"@U\",\"vendor\":\"IBM\",\"machine_type\":\"9009\",\"serial\":\"X\",\"hostname\":\"h\",\"lpar_id\":\"5\"}", 400, "invalid_field", "lpar_id: expected integer" },
    { "/esa/v1/register", "{\"version\":1,\"uuid\":\"@U\",\"vendor\":\"IBM\",\"machine_type\":\"9009\",\"serial\":\"X\",\"hostname\":\"h\",\"lpar_id\":-7}", 400, "invalid_field", "lpar_id: -7" },
    { "/esa/v1/register", "{\"version\":1,\"uuid\":\"@U\",\"vendor\":\"IBM\",\"machine_type\":\"9009\",\"serial\":\"X\",\"hostname\":\"h\",\"lpar_name\":[]}", 400, "invalid_field", "lpar_name" },
    { "/esa/v1/register", "{\"version\":1,\"uuid\":\"@U\",\"vendor\":\"IBM\",\"machine_type\":\"9009\",\"serial\":\"X\",\"hostname\":\"h\",\"os_uuid\":\"a b;c\"}", 400, "invalid_field", "os_uuid" },
    { "/esa/v1/contact", "{\"version\":1}", 400, "invalid_field", "contact: required" },
    { "/esa/v1/contact", "{\"version\":1,\"contact\":\"Ada\"}", 400, "invalid_field", "contact" },
    { "/esa/v1/uak", "{\"version\":1,\"uuid\":\"@U\",\"machine_type\":\"9009\",\"serial\":\"MAL00001\",\"current_expiry\":\"2026-12-01\"}", 400, "invalid_field", "current_expiry" },
    { "/esa/v1/uak", "{\"version\":1,\"uuid\":\"@U\",\"machine_type\":\"9009\",\"serial\":\"MAL00001\",\"current_expiry\":\"99991231\"}", 400, "invalid_field", "current_expiry" },
    { "/esa/v1/uak", "{\"version\":1,\"uuid\":\"@U\",\"machine_type\":\"9009\",\"serial\":\"OTHER\"}", 400, "invalid_field", "serial" },
  };

  sdc_register (&main_sdc, &c, "9009", "MAL00001");
  before = list_reports (&main_sdc, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Reply) r = { 0 };
      g_auto (GStrv) parts = g_strsplit (cases[i].body, "@U", -1);
      g_autofree char *body = g_strjoinv (u, parts);
      sdc_post (&main_sdc, &r, cases[i].path, c.id, c.password, body);
      if (r.status != cases[i].status)
        g_error ("case %u (%s): expected %u, got %u %s", i, cases[i].body, cases[i].status, r.status, r.body);
      assert_error (&r, cases[i].status, cases[i].code, cases[i].needle);
    }
  /* transport-level mistakes */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *url = sdc_url (&main_sdc, FALSE, "/esa/v1/heartbeat");
    sdc_request (&main_sdc, &r, "POST", url, c.id, c.password, "text/plain", "{\"version\":1}", -1, NULL);
    assert_error (&r, 415, "unsupported_media_type", "Content-Type");
  }
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *url = sdc_url (&main_sdc, FALSE, "/esa/v1/heartbeat");
    sdc_request (&main_sdc, &r, "GET", url, c.id, c.password, NULL, NULL, 0, NULL);
    assert_error (&r, 405, "method_not_allowed", NULL);
    g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Allow"), ==, "POST");
  }
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *url = sdc_url (&main_sdc, TRUE, "/esa/v1/nonsense");
    sdc_request (&main_sdc, &r, "GET", url, NULL, NULL, NULL, NULL, 0, NULL);
    assert_error (&r, 404, "not_found", "/esa/v1/nonsense");
  }
  {
    /* over --max-body (64K here) */
    g_auto (Reply) r = { 0 };
    GString *s = g_string_new ("{\"version\":1,\"uuid\":\"");
    g_string_append (s, u);
    g_string_append (s, "\",\"kind\":\"heartbeat\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{\"pad\":\"");
    for (guint i = 0; i < 70 * 1024; i++)
      g_string_append_c (s, 'x');
    g_string_append (s, "\"}}");
    huge = g_string_free (s, FALSE);
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", c.id, c.password, huge);
    assert_error (&r, 413, "too_large", NULL);
  }
  /* still serving, nothing stored */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *json = report_json (u, "heartbeat", NULL);
    after = list_reports (&main_sdc, NULL);
    g_assert_cmpuint (json_array_get_length (after), ==, json_array_get_length (before));
    sdc_post (&main_sdc, &r, "/esa/v1/heartbeat", c.id, c.password, json);
    g_assert_cmpuint (r.status, ==, 200);
  }
}

/* key_data's expires=YYYYMMDD */
static char *
uak_expires (const char *key_data)
{
  const char *p = strstr (key_data, ";expires=");
  g_assert_nonnull (p);
  return g_strndup (p + 9, 8);
}

static gboolean
uak_verifies (Sdc *sdc, const char *key_data, const char *signature_b64)
{
  g_autofree char *pub_path = g_build_filename (sdc->dir, "uak-pub.pem", NULL);
  g_autofree char *pem = NULL;
  g_autofree guchar *sig = NULL;
  gsize pem_len = 0;
  gsize sig_len = 0;
  gnutls_pubkey_t pub = NULL;
  gnutls_datum_t d, data, s;
  int rc;

  g_assert_true (g_file_get_contents (pub_path, &pem, &pem_len, NULL));
  sig = g_base64_decode (signature_b64, &sig_len);
  d.data = (guchar *) pem;
  d.size = (unsigned) pem_len;
  data.data = (guchar *) key_data;
  data.size = (unsigned) strlen (key_data);
  s.data = sig;
  s.size = (unsigned) sig_len;
  g_assert_cmpint (gnutls_pubkey_init (&pub), ==, 0);
  g_assert_cmpint (gnutls_pubkey_import (pub, &d, GNUTLS_X509_FMT_PEM), ==, 0);
  rc = gnutls_pubkey_verify_data2 (pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &s);
  gnutls_pubkey_deinit (pub);
  return rc >= 0;
}

static char *
uak_request (const char *uuid, const char *serial, const char *current)
{
  return g_strdup_printf ("{\"version\":1,\"uuid\":\"%s\",\"machine_type\":\"9009\",\"serial\":\"%s\""
                          "%s%s%s}", uuid, serial, current ? ",\"current_expiry\":\"" : "",
                          current ? current : "", current ? "\"" : "");
}

static void
test_uak (void)
{
  g_auto (Creds) c = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) later = g_date_time_add_days (now, 100);
  g_autoptr (GDateTime) expect_later = NULL;
  g_autofree char *current = g_date_time_format (later, "%Y%m%d");
  g_autofree char *json = uak_request (uuid, "UAK00001", current);
  g_autofree char *first = NULL;
  g_autofree char *want = NULL;

  sdc_register (&main_sdc, &c, "9009", "UAK00001");
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *exp = NULL;
    const char *key_data;
    sdc_post (&main_sdc, &r, "/esa/v1/uak", c.id, c.password, json);
    g_assert_cmpuint (r.status, ==, 200);
    key_data = json_object_get_string_member (r.json, "key_data");
    g_assert_true (g_str_has_prefix (key_data, "UAK1;machine_type=9009;serial=UAK00001;expires="));
    g_assert_cmpstr (json_object_get_string_member (r.json, "algorithm"), ==, "ecdsa-p256-sha256");
    g_assert_true (uak_verifies (&main_sdc, key_data, json_object_get_string_member (r.json, "signature")));
    /* a tampered key does not verify */
    {
      g_autofree char *tampered = g_strdup (key_data);
      tampered[strlen (tampered) - 2] ^= 1;
      g_assert_false (uak_verifies (&main_sdc, tampered, json_object_get_string_member (r.json, "signature")));
    }
    /* expires = max(today, current) + 365 days */
    expect_later = g_date_time_add_days (later, 365);
    want = g_date_time_format (expect_later, "%Y%m%d");
    exp = uak_expires (key_data);
    g_assert_cmpstr (exp, ==, want);
    first = g_strdup (r.body);
  }
  /* the same request uuid: the same key back */
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/uak", c.id, c.password, json);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (r.body, ==, first);
  }
  /* an expired current key renews from today */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *u2 = g_uuid_string_random ();
    g_autofree char *j2 = uak_request (u2, "UAK00001", "20200101");
    g_autoptr (GDateTime) year = g_date_time_add_days (now, 365);
    g_autofree char *want2 = g_date_time_format (year, "%Y%m%d");
    g_autofree char *exp = NULL;
    sdc_post (&main_sdc, &r, "/esa/v1/uak", c.id, c.password, j2);
    g_assert_cmpuint (r.status, ==, 200);
    exp = uak_expires (json_object_get_string_member (r.json, "key_data"));
    g_assert_cmpstr (exp, ==, want2);
  }
}

static void
test_uak_test_flags (void)
{
  Sdc sdc = { 0 };
  const char *extra[] = { "--uak-bad-signature", "--uak-older", NULL };
  g_auto (Creds) c = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  g_auto (Reply) r = { 0 };
  g_autofree char *exp = NULL;
  g_autofree char *json = uak_request (uuid, "FLAG0001", "20991231");

  sdc_start (&sdc, extra);
  sdc_register (&sdc, &c, "9009", "FLAG0001");
  sdc_post (&sdc, &r, "/esa/v1/uak", c.id, c.password, json);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_false (uak_verifies (&sdc, json_object_get_string_member (r.json, "key_data"),
                                json_object_get_string_member (r.json, "signature")));
  exp = uak_expires (json_object_get_string_member (r.json, "key_data"));
  g_assert_cmpstr (exp, <, "20991231");
  sdc_stop (&sdc);
}

static void
handshaked_cb (SoupMessage *msg, GSocketClientEvent event, GIOStream *conn, gpointer user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKED)
    *(GTlsProtocolVersion *) user_data = g_tls_connection_get_protocol_version (G_TLS_CONNECTION (conn));
}

static void
test_tls_max_version (void)
{
  Sdc sdc = { 0 };
  const char *extra[] = { "--tls-max-version", "1.0", NULL };
  g_autofree char *url = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GError) error = NULL;
  GTlsProtocolVersion version = G_TLS_PROTOCOL_VERSION_UNKNOWN;

  sdc_start (&sdc, extra);
  url = sdc_url (&sdc, FALSE, "/esa/v1/config");
  msg = soup_message_new ("GET", url);
  g_signal_connect (msg, "network-event", G_CALLBACK (handshaked_cb), &version);
  out = soup_session_send_and_read (sdc.session, msg, NULL, &error);
  /* the client library may refuse TLS 1.0 itself; if it does not, the server spoke 1.0 */
  if (error == NULL)
    g_assert_cmpint (version, ==, G_TLS_PROTOCOL_VERSION_TLS_1_0);
  else
    g_assert_true (error->domain == G_TLS_ERROR);
  sdc_stop (&sdc);
}

static void
heartbeat_as (Sdc *sdc, Reply *r, const char *id, const char *password)
{
  g_autofree char *u = g_uuid_string_random ();
  g_autofree char *json = report_json (u, "heartbeat", NULL);
  sdc_post (sdc, r, "/esa/v1/heartbeat", id, password, json);
}

/* A credential remembered after its PBKDF2 check must stop working the moment the
 * machine registers again (its password is replaced). */
static void
test_credential_cache (void)
{
  g_auto (Creds) first = { 0 };
  g_auto (Creds) second = { 0 };
  sdc_register (&main_sdc, &first, "9009", "CACHE0001");
  for (guint i = 0; i < 3; i++)
    {
      g_auto (Reply) r = { 0 };
      heartbeat_as (&main_sdc, &r, first.id, first.password);
      g_assert_cmpuint (r.status, ==, 200);
    }
  sdc_register_as (&main_sdc, &second, "9009", "CACHE0001", &first);
  g_assert_cmpstr (second.id, ==, first.id);
  {
    g_auto (Reply) r = { 0 };
    heartbeat_as (&main_sdc, &r, first.id, first.password);
    assert_error (&r, 401, "unauthorized", NULL);
  }
  {
    g_auto (Reply) r = { 0 };
    heartbeat_as (&main_sdc, &r, second.id, second.password);
    g_assert_cmpuint (r.status, ==, 200);
  }
}

/* Repeated wrong passwords from one address are answered 429 with Retry-After, while an
 * agent whose credential is already known keeps being served. */
static void
test_login_throttle (void)
{
  const char *extra[] = { "--login-failures", "3", "--login-window", "30", NULL };
  Sdc sdc = { 0 };
  g_auto (Creds) good = { 0 };
  g_auto (Creds) other = { 0 };
  const char *retry;

  sdc_start (&sdc, extra);
  sdc_register (&sdc, &good, "9009", "THROT0001");
  sdc_register (&sdc, &other, "9009", "THROT0002");
  {
    g_auto (Reply) r = { 0 };
    heartbeat_as (&sdc, &r, good.id, good.password);
    g_assert_cmpuint (r.status, ==, 200);
  }
  for (guint i = 0; i < 3; i++)
    {
      g_auto (Reply) r = { 0 };
      heartbeat_as (&sdc, &r, good.id, "wrong-password");
      assert_error (&r, 401, "unauthorized", NULL);
    }
  {
    g_auto (Reply) r = { 0 };
    heartbeat_as (&sdc, &r, good.id, "wrong-password");
    assert_error (&r, 429, "too_many_requests", "retry in");
    retry = soup_message_headers_get_one (r.headers, "Retry-After");
    g_assert_nonnull (retry);
    g_assert_cmpint (atoi (retry), >=, 1);
    g_assert_cmpint (atoi (retry), <=, 30);
  }
  /* a known-good credential is not locked out */
  {
    g_auto (Reply) r = { 0 };
    heartbeat_as (&sdc, &r, good.id, good.password);
    g_assert_cmpuint (r.status, ==, 200);
  }
  /* but nothing new is checked from this address until the window ends */
  {
    g_auto (Reply) r = { 0 };
    heartbeat_as (&sdc, &r, other.id, other.password);
    assert_error (&r, 429, "too_many_requests", NULL);
  }
  /* a batch is one request: throttled whole, nothing of it stored */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *uuid = g_uuid_string_random ();
    g_autofree char *one = report_json (uuid, "heartbeat", NULL);
    g_autofree char *body = g_strdup_printf ("{\"version\":1,\"reports\":[%s]}", one);
    sdc_post (&sdc, &r, "/esa/v1/reports", other.id, other.password, body);
    assert_error (&r, 429, "too_many_requests", NULL);
    g_assert_nonnull (soup_message_headers_get_one (r.headers, "Retry-After"));
    g_assert_cmpuint (count_reports_with_uuid (&sdc, uuid), ==, 0);
  }
  sdc_stop (&sdc);
}

typedef struct {
  GMainLoop *loop;
  guint pending;
  GHashTable *answers; /* uuid -> first answer body */
  guint mismatches;
  guint failures;
} Race;

typedef struct {
  Race *race;
  char *uuid;
  SoupMessage *msg;
} RaceReq;

static void
race_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RaceReq *rr = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (bytes == NULL || soup_message_get_status (rr->msg) != 200)
    rr->race->failures++;
  else
    {
      g_autofree char *body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      const char *first = g_hash_table_lookup (rr->race->answers, rr->uuid);
      if (first == NULL)
        g_hash_table_insert (rr->race->answers, g_strdup (rr->uuid), g_steal_pointer (&body));
      else if (g_strcmp0 (first, body) != 0)
        rr->race->mismatches++;
    }
  if (--rr->race->pending == 0)
    g_main_loop_quit (rr->race->loop);
  g_object_unref (rr->msg);
  g_free (rr->uuid);
  g_free (rr);
}

/* Group commit keeps exactly-once: many connections send the same problem reports at
 * once; each uuid is stored once and every copy gets the same answer (the same SR). */
static void
test_concurrent_duplicates (void)
{
  g_auto (Creds) c = { 0 };
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (GTlsDatabase) db = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) arr = NULL;
  g_autofree char *ca = g_build_filename (main_sdc.dir, "ca.pem", NULL);
  g_autofree char *url = sdc_url (&main_sdc, FALSE, "/esa/v1/problem");
  g_autofree char *pair = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *auth = NULL;
  g_autoptr (GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
  Race race = { 0 };
  const guint n_uuids = 12;
  const guint copies = 5;

  sdc_register (&main_sdc, &c, "9009", "RACE00001");
  pair = g_strdup_printf ("%s:%s", c.id, c.password);
  b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
  auth = g_strdup_printf ("Basic %s", b64);
  db = g_tls_file_database_new (ca, &error);
  g_assert_no_error (error);
  /* 8 connections: as many as esa-sdc lets one address hold before their first
   * request (--max-pending-per-client); more would queue in this client's own
   * TLS handshake pool and, under ASan on a busy machine, look stalled to the
   * server's slow-client guard, which is not what this test is about. */
  session = soup_session_new_with_options ("tls-database", db, "timeout", 30, "max-conns", 8,
                                           "max-conns-per-host", 8, NULL);
  race.loop = g_main_loop_new (NULL, FALSE);
  race.answers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < n_uuids; i++)
    g_ptr_array_add (uuids, g_uuid_string_random ());
  for (guint k = 0; k < copies; k++)
    for (guint i = 0; i < n_uuids; i++)
      {
        RaceReq *rr = g_new0 (RaceReq, 1);
        g_autofree char *json = report_json (g_ptr_array_index (uuids, i), "problem", NULL);
        g_autoptr (GBytes) body = g_bytes_new_take (g_steal_pointer (&json), strlen (json));
        rr->race = &race;
        rr->uuid = g_strdup (g_ptr_array_index (uuids, i));
        rr->msg = soup_message_new ("POST", url);
        soup_message_headers_replace (soup_message_get_request_headers (rr->msg), "Authorization", auth);
        soup_message_set_request_body_from_bytes (rr->msg, "application/json", body);
        race.pending++;
        soup_session_send_and_read_async (session, rr->msg, G_PRIORITY_DEFAULT, NULL, race_done_cb, rr);
      }
  g_main_loop_run (race.loop);
  g_assert_cmpuint (race.failures, ==, 0);
  g_assert_cmpuint (race.mismatches, ==, 0);
  g_assert_cmpuint (g_hash_table_size (race.answers), ==, n_uuids);
  arr = list_reports (&main_sdc, c.id);
  g_assert_cmpuint (json_array_get_length (arr), ==, n_uuids);
  for (guint i = 0; i < n_uuids; i++)
    {
      const char *answer = g_hash_table_lookup (race.answers, g_ptr_array_index (uuids, i));
      g_assert_nonnull (strstr (answer, "\"service_request\":\"SR"));
    }
  g_main_loop_unref (race.loop);
  g_hash_table_unref (race.answers);
}

static guint
count_fds (GSubprocess *proc)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/fd", g_subprocess_get_identifier (proc));
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;
  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Waits (up to 5 s) for @proc's fd count to come back to at most @before + 2 and
 * returns the last count. */
static guint
wait_fds_back (GSubprocess *proc, guint before)
{
  guint after = 0;
  for (guint tries = 0; tries < 100; tries++)
    {
      after = count_fds (proc);
      if (after <= before + 2)
        break;
      g_usleep (50000);
    }
  return after;
}

/* libsoup 3.2 kept every keep-alive connection the client closed while idle (CLOSE-WAIT,
 * one fd each): after many of them the fd count must be back where it started. */
static void
test_fd_keepalive_closed (void)
{
  g_autofree char *url = sdc_url (&main_sdc, FALSE, "/esa/v1/config");
  g_autofree char *ca = g_build_filename (main_sdc.dir, "ca.pem", NULL);
  g_autoptr (GTlsDatabase) db = g_tls_file_database_new (ca, NULL);
  guint before;
  guint after = 0;

  if (!g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("no /proc/PID/fd to count open files");
      return;
    }
  before = count_fds (main_sdc.proc);
  for (guint i = 0; i < 150; i++)
    {
      /* a session per request: its connection is kept alive, then closed by us */
      g_autoptr (SoupSession) session = soup_session_new_with_options ("tls-database", db, "timeout", 20, NULL);
      g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
      g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);
      g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
    }
  after = wait_fds_back (main_sdc.proc, before);
  g_test_message ("esa-sdc fds: %u before, %u after 150 closed keep-alive connections", before, after);
  g_assert_cmpuint (after, <=, before + 2);
}

/* Issue 11: libsoup 3.2 kept every keep-alive connection the client closed while idle in
 * its list (with its TLS session: about 24 KB each) and the GSocket of every accepted
 * connection, and every connection whose client left before the TLS handshake (as the
 * port probes of sdc_start do). After 200 connections, each with two requests, esa-sdc
 * holds none: its exit line counts the connections and sockets libsoup still has. */
static void
test_keepalive_closed_freed (void)
{
  Sdc sdc = { 0 };
  g_autofree char *url = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *log = NULL;
  g_autoptr (GTlsDatabase) db = NULL;
  const char *line;
  guint before, after = 0, accepted = 0, held = G_MAXUINT, sockets = G_MAXUINT;

  if (!g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("no /proc/PID/fd to count open files");
      return;
    }
  sdc_start (&sdc, NULL);
  url = sdc_url (&sdc, FALSE, "/esa/v1/config");
  ca = g_build_filename (sdc.dir, "ca.pem", NULL);
  db = g_tls_file_database_new (ca, NULL);
  before = count_fds (sdc.proc);
  for (guint i = 0; i < 200; i++)
    {
      /* a session per connection: kept alive over both requests, then closed by us */
      g_autoptr (SoupSession) session = soup_session_new_with_options ("tls-database", db, "timeout", 20, NULL);
      for (guint r = 0; r < 2; r++)
        {
          g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
          g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);
          g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
        }
    }
  /* every end of stream seen by the server before it stops */
  after = wait_fds_back (sdc.proc, before);
  g_assert_cmpuint (after, <=, before + 2);
  g_assert_cmpint (esa_test_stop (sdc.proc), ==, 0);
  g_clear_object (&sdc.proc);
  g_assert_true (g_file_get_contents (sdc.log, &log, NULL, NULL));
  line = strstr (log, "esa-sdc: connections: ");
  g_assert_nonnull (line);
  g_assert_cmpint (sscanf (line, "esa-sdc: connections: %u accepted, %u held at exit (%u sockets)", &accepted, &held,
                           &sockets), ==, 3);
  g_test_message ("esa-sdc: %u connections accepted, %u and %u sockets held at exit", accepted, held, sockets);
  g_assert_cmpuint (accepted, >=, 200);
  g_assert_cmpuint (held, ==, 0);
  g_assert_cmpuint (sockets, ==, 0);
  sdc_stop (&sdc);
}

/* The next request goes out on a new connection (the kernel picks its HTTPS loop). */
static void
sdc_new_connection (Sdc *sdc)
{
  g_autofree char *ca = g_build_filename (sdc->dir, "ca.pem", NULL);
  g_autoptr (GTlsDatabase) db = g_tls_file_database_new (ca, NULL);
  g_object_unref (sdc->session);
  sdc->session = soup_session_new_with_options ("tls-database", db, "timeout", 20, NULL);
}

/* --http-threads 2: the kernel spreads new connections over both loops' sockets, and
 * each loop serves what it accepted (esa-sdc's exit line counts the requests of each). */
static void
test_http_threads_spread (void)
{
  const char *extra[] = { "--http-threads", "2", NULL };
  Sdc sdc = { 0 };
  g_autofree char *url = NULL;
  g_autofree char *log = NULL;
  const char *line;
  guint loops = 0, a = 0, b = 0;

  sdc_start (&sdc, extra);
  url = sdc_url (&sdc, FALSE, "/esa/v1/config");
  for (guint i = 0; i < 40; i++)
    {
      g_auto (Reply) r = { 0 };
      sdc_new_connection (&sdc);
      sdc_request (&sdc, &r, "GET", url, NULL, NULL, NULL, NULL, 0, NULL);
      g_assert_cmpuint (r.status, ==, 200);
    }
  g_assert_cmpint (esa_test_stop (sdc.proc), ==, 0);
  g_clear_object (&sdc.proc);
  g_assert_true (g_file_get_contents (sdc.log, &log, NULL, NULL));
  line = strstr (log, "esa-sdc: https loops: ");
  g_assert_nonnull (line);
  g_assert_cmpint (sscanf (line, "esa-sdc: https loops: %u, requests each: %u %u", &loops, &a, &b), ==, 3);
  g_test_message ("requests on each of %u loops: %u, %u", loops, a, b);
  g_assert_cmpuint (loops, ==, 2);
  g_assert_cmpuint (a + b, ==, 40);
  /* 40 connections all on one of two sockets: 2^-39 by chance */
  g_assert_cmpuint (a, >, 0);
  g_assert_cmpuint (b, >, 0);
  sdc_stop (&sdc);
}

/* The loops' sockets share their port through SO_REUSEPORT, which would also let a second
 * esa-sdc of the same user bind it and silently take half the agents: a port in use is
 * refused as before, in one line. */
static void
test_http_threads_port_taken (void)
{
  Sdc sdc = { 0 };
  g_autofree char *bin = sdc_bin ();
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-taken");
  g_autofree char *dir = g_build_filename (tmp, "sdc", NULL);
  g_autofree char *log = g_build_filename (tmp, "second.log", NULL);
  g_autofree char *listen = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GSubprocess) second = NULL;
  gint64 deadline;

  sdc_start (&sdc, (const char *const[]) { "--http-threads", "2", NULL });
  sdc_init_dir (dir, NULL);
  listen = g_strdup_printf ("127.0.0.1:%u", sdc.port);
  second = esa_test_spawn (log, (const char *const[]) { bin, "serve", "--dir", dir, "--listen", listen,
                                                        "--http-threads", "2", NULL });
  /* bounded: a second server that did bind would run until stopped */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_subprocess_get_identifier (second) != NULL && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  if (g_subprocess_get_identifier (second) != NULL)
    {
      esa_test_stop (second);
      g_error ("a second esa-sdc bound port %u, which the first one has", sdc.port);
    }
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 1);
  g_assert_true (g_file_get_contents (log, &err, NULL, NULL));
  g_assert_nonnull (strstr (err, "Address already in use"));
  g_assert_nonnull (strstr (err, listen));
  g_assert_null (strstr (err, "listening on https"));
  g_assert_cmpint (strchr (err, '\n') - err, ==, (int) strlen (err) - 1);
  sdc_stop (&sdc);
  esa_test_rmtree (tmp);
}

/* One count of failed logins for all loops: spreading the tries over many connections
 * (and so over the loops) gives an attacker no more of them. */
static void
test_http_threads_throttle_shared (void)
{
  const char *extra[] = { "--http-threads", "4", "--login-failures", "3", "--login-window", "30", NULL };
  Sdc sdc = { 0 };
  g_auto (Creds) good = { 0 };

  sdc_start (&sdc, extra);
  sdc_register (&sdc, &good, "9009", "THROTL0001");
  for (guint i = 0; i < 3; i++)
    {
      g_auto (Reply) r = { 0 };
      sdc_new_connection (&sdc);
      heartbeat_as (&sdc, &r, good.id, "wrong-password");
      assert_error (&r, 401, "unauthorized", NULL);
    }
  for (guint i = 0; i < 4; i++)
    {
      g_auto (Reply) r = { 0 };
      sdc_new_connection (&sdc);
      heartbeat_as (&sdc, &r, good.id, "wrong-password");
      assert_error (&r, 429, "too_many_requests", NULL);
    }
  sdc_stop (&sdc);
}

/* --http-threads out of range, or more than one where the kernel would not spread the
 * connections: one line, before anything listens. */
static void
test_http_threads_range (void)
{
  g_autofree char *bin = sdc_bin ();
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-loops");
  g_autofree char *dir = g_build_filename (tmp, "sdc", NULL);
  const char *bad[] = { "0", "65", "x", NULL };
  sdc_init_dir (dir, NULL);
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autofree char *err = NULL;
      const char *argv[] = { bin, "serve", "--dir", dir, "--listen", "127.0.0.1:0", "--http-threads", bad[i], NULL };
      g_assert_cmpint (esa_test_run (argv, NULL, &err), !=, 0);
      g_assert_nonnull (strstr (err, "http-threads"));
      g_assert_null (strstr (err, "listening on"));
      g_assert_cmpint (strchr (err, '\n') - err, ==, (int) strlen (err) - 1);
    }
  esa_test_rmtree (tmp);
}

/* A burst of connections while esa-sdc's main loop accepts none (stopped here, busy in
 * life): the kernel completes them all into the listen backlog instead of dropping SYNs
 * past the 10 of GSocket's default, which cost each agent a second or more of retries. */
#define BURST 64
static void
test_listen_backlog (void)
{
  Sdc sdc = { 0 };
  GPid pid;
  int fds[BURST];
  struct pollfd pfd[BURST];
  guint connected = 0;
  struct sockaddr_in sa = { 0 };

  sdc_start (&sdc, NULL);
  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (sdc.proc), NULL, 10);
  sa.sin_family = AF_INET;
  sa.sin_port = g_htons (sdc.port);
  sa.sin_addr.s_addr = g_htonl (INADDR_LOOPBACK);
  g_assert_cmpint (kill (pid, SIGSTOP), ==, 0);
  for (guint i = 0; i < BURST; i++)
    {
      fds[i] = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      g_assert_cmpint (fds[i], >=, 0);
      if (connect (fds[i], (struct sockaddr *) &sa, sizeof sa) != 0)
        g_assert_cmpint (errno, ==, EINPROGRESS);
      pfd[i].fd = fds[i];
      pfd[i].events = POLLOUT;
    }
  /* well under the 1 s after which a dropped SYN is sent again */
  for (gint64 end = g_get_monotonic_time () + 700 * 1000; g_get_monotonic_time () < end;)
    {
      connected = 0;
      g_assert_cmpint (poll (pfd, BURST, 50), >=, 0);
      for (guint i = 0; i < BURST; i++)
        connected += (pfd[i].revents & POLLOUT) != 0;
      if (connected == BURST)
        break;
    }
  g_assert_cmpint (kill (pid, SIGCONT), ==, 0);
  for (guint i = 0; i < BURST; i++)
    close (fds[i]);
  g_test_message ("%u of %u connections completed while esa-sdc accepted none", connected, BURST);
  g_assert_cmpuint (connected, ==, BURST);
  sdc_stop (&sdc);
}

/* A TLS connection to @sdc on 127.0.0.1 (10 s timeout, its certificate not checked). */
static GSocketConnection *
tls_connect (Sdc *sdc)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  GSocketConnection *conn;

  g_socket_client_set_tls (client, TRUE);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  g_socket_client_set_tls_validation_flags (client, 0);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_socket_client_set_timeout (client, 10);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", sdc->port, NULL, &error);
  g_assert_no_error (error);
  return conn;
}

/* Sends @request as is over TLS and returns everything the server answers until it
 * closes (or 10 s pass). */
static char *
raw_https (Sdc *sdc, const char *request, gsize len)
{
  g_autoptr (GSocketConnection) conn = tls_connect (sdc);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  GInputStream *in;
  char buf[4096];
  gssize n;

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request, len, NULL, NULL, &error);
  g_assert_no_error (error);
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (out, buf, n);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A client that shuts down its sending side right after its requests (HTTP/1.0 style):
 * esa-sdc watches every kept-alive connection for end of stream from its first request
 * to its end (sdc-idle.c), so that end of stream arrives while the second request waits
 * for storage; the request must still be answered, and only then the connection ended
 * (its fd given back). */
static void
test_keepalive_half_closed (void)
{
  g_auto (Creds) c = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *json = report_json (uuid, "heartbeat", NULL);
  g_autofree char *pair = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *request = NULL;
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  const char *second;
  char buf[4096];
  gssize n;
  guint before;

  sdc_register (&main_sdc, &c, "9009", "HALFCLOSE1");
  pair = g_strdup_printf ("%s:%s", c.id, c.password);
  b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
  /* the first request makes the connection watched; the second is paused for storage */
  request = g_strdup_printf ("GET /esa/v1/config HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                             "POST /esa/v1/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\n"
                             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                             b64, strlen (json), json);
  before = count_fds (main_sdc.proc);
  conn = tls_connect (&main_sdc);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request, strlen (request), NULL,
                             NULL, &error);
  g_assert_no_error (error);
  /* end of stream at the TCP level, no TLS close_notify: what a client that exits sends */
  g_assert_true (g_socket_shutdown (g_socket_connection_get_socket (conn), FALSE, TRUE, &error));
  g_assert_no_error (error);
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf, sizeof buf, NULL,
                                   &error)) > 0)
    g_string_append_len (out, buf, n);
  /* both answered, then the server closed: end of stream, not the 10 s timeout */
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  g_assert_true (g_str_has_prefix (out->str, "HTTP/1.1 200"));
  second = strstr (out->str + 1, "HTTP/1.1 ");
  g_assert_nonnull (second);
  g_assert_true (g_str_has_prefix (second, "HTTP/1.1 200"));
  g_assert_nonnull (strstr (second, "\"status\":\"stored\""));
  g_clear_object (&conn);
  for (guint tries = 0; tries < 100 && count_fds (main_sdc.proc) > before; tries++)
    g_usleep (50000);
  g_assert_cmpuint (count_fds (main_sdc.proc), <=, before);
  g_assert_cmpuint (count_reports_with_uuid (&main_sdc, uuid), ==, 1);
}

/* The request log is written once per main-loop iteration (sdc-log.c), not a line at a
 * time: a request's line must still be on disk as soon as the server goes idle (no
 * later request pushes it out), every request gets exactly one whole line, and stopping
 * the server leaves none behind. */
static void
test_log_lines (void)
{
  Sdc sdc = { 0 };
  g_auto (Creds) c = { 0 };
  g_autoptr (GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *log = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *refused = NULL;
  g_autofree char *refused_line = NULL;
  gboolean seen = FALSE;

  sdc_start (&sdc, NULL);
  sdc_register (&sdc, &c, "9009", "LOGLINES1");
  for (guint i = 0; i < 40; i++)
    {
      g_auto (Reply) r = { 0 };
      char *uuid = g_uuid_string_random ();
      g_autofree char *json = report_json (uuid, "heartbeat", NULL);
      g_ptr_array_add (uuids, uuid);
      sdc_post (&sdc, &r, "/esa/v1/heartbeat", c.id, c.password, json);
      g_assert_cmpuint (r.status, ==, 200);
    }
  /* a report refused once read (by the writer thread) is logged with its uuid too */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *json = NULL;
    refused = g_uuid_string_random ();
    json = report_json (refused, "problem", NULL);
    sdc_post (&sdc, &r, "/esa/v1/heartbeat", c.id, c.password, json);
    assert_error (&r, 400, "invalid_field", "kind");
  }
  /* the server is idle now: the last line must come without any further request */
  for (guint tries = 0; tries < 40 && !seen; tries++)
    {
      g_autofree char *text = read_log (&sdc);
      seen = strstr (text, g_ptr_array_index (uuids, uuids->len - 1)) != NULL;
      if (!seen)
        g_usleep (50000);
    }
  g_assert_true (seen);
  g_assert_cmpint (esa_test_stop (sdc.proc), ==, 0);
  g_clear_object (&sdc.proc);
  log = read_log (&sdc);
  g_assert_true (g_str_has_suffix (log, "\n"));
  lines = g_strsplit (log, "\n", -1);
  for (guint i = 0; i < uuids->len; i++)
    {
      g_autofree char *needle = g_strdup_printf (" uuid=%s", (char *) g_ptr_array_index (uuids, i));
      guint n = 0;
      for (guint l = 0; lines[l] != NULL; l++)
        if (strstr (lines[l], needle) != NULL)
          {
            /* whole: the timestamp first, the outcome last */
            g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ esa-sdc: request scheme=https "
                                                 "remote=127\\.0\\.0\\.1 method=POST path=/esa/v1/heartbeat status=200 "
                                                 "system=ESA-\\S+ uuid=\\S+$",
                                                 lines[l], 0, 0));
            n++;
          }
      g_assert_cmpuint (n, ==, 1);
    }
  refused_line = g_strdup_printf (" status=400 system=%s uuid=%s error=invalid_field\n", c.id, refused);
  g_assert_nonnull (strstr (log, refused_line));
  /* the lines that sum up the run, SQLite's checkpoints among them */
  g_assert_true (g_regex_match_simple ("^esa-sdc: writer: \\d+ reports in \\d+ commits ", log, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^esa-sdc: checkpoints: 0 passes and 0 database syncs on their thread, 0 closing copies and 0 forced in commits$",
                                       log, G_REGEX_MULTILINE, 0));
  sdc_stop (&sdc);
}

/* Issue 10, item 9: a client on 127.0.0.1 holding 100 connections that never start
 * their TLS handshake (each once held one of GLib's few handshake threads, so every
 * other client waited up to 20 s) while a client on 127.0.0.2 keeps being served; the
 * stalled connections the cap let in are closed after --header-timeout. */
static void
test_stalled_handshakes (void)
{
  Sdc sdc = { 0 };
  const char *extra[] = { "--header-timeout", "3", NULL };
  g_autoptr (GPtrArray) stalled = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GInetAddress) lo2 = g_inet_address_new_from_string ("127.0.0.2");
  g_autoptr (GSocketAddress) target = NULL;
  g_autoptr (GSocketAddress) legit_addr = g_inet_socket_address_new (lo2, 0);
  g_autofree char *url = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *log = NULL;
  g_autoptr (GTlsDatabase) db = NULL;
  gint64 deadline;
  guint closed = 0;

  sdc_start (&sdc, extra);
  target = g_inet_socket_address_new (lo, sdc.port);
  url = sdc_url (&sdc, FALSE, "/esa/v1/config");
  ca = g_build_filename (sdc.dir, "ca.pem", NULL);
  db = g_tls_file_database_new (ca, NULL);
  for (guint i = 0; i < 100; i++)
    {
      g_autoptr (GError) error = NULL;
      GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
      g_assert_no_error (error);
      g_socket_connect (s, target, NULL, &error);
      g_assert_no_error (error);
      g_ptr_array_add (stalled, s);
    }
  g_usleep (300000);
  for (guint round = 0; round < 3; round++)
    {
      /* a new session each time: a new connection and handshake */
      g_autoptr (SoupSession) session = soup_session_new_with_options ("tls-database", db, "timeout", 5,
                                                                       "local-address", legit_addr, NULL);
      g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
    }
  /* every stalled connection ends: refused at once, or closed after 3 s */
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (closed < stalled->len && g_get_monotonic_time () < deadline)
    {
      closed = 0;
      for (guint i = 0; i < stalled->len; i++)
        {
          GSocket *s = g_ptr_array_index (stalled, i);
          char byte;
          if (g_socket_condition_check (s, G_IO_IN | G_IO_HUP | G_IO_ERR) != 0 &&
              g_socket_receive (s, &byte, 1, NULL, NULL) <= 0)
            closed++;
        }
      if (closed < stalled->len)
        g_usleep (200000);
    }
  g_assert_cmpuint (closed, ==, stalled->len);
  log = read_log (&sdc);
  g_assert_nonnull (strstr (log, "connection(s) (the last from 127.0.0.1): too many connections"));
  g_assert_nonnull (strstr (log, "first request head not finished in time"));
  sdc_stop (&sdc);
}

/* Outside input that once crashed or held esa-sdc: each gets a clear 4xx. */
static void
test_hostile_bodies (void)
{
  /* 60,000 '[' (under this server's 64K limit) before authentication: json-glib's
   * parser recursed once per level; the 100,000 of the report: test_stale_parts_removed */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *deep = g_strnfill (60000, '[');
    sdc_post (&main_sdc, &r, "/esa/v1/register", NULL, NULL, deep);
    assert_error (&r, 400, "invalid_json", "nested deeper");
  }
  /* a NUL inside a string would cut the stored value short */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *uuid = g_uuid_string_random ();
    g_autofree char *json = g_strdup_printf ("{\"version\":1,\"uuid\":\"%s\",\"vendor\":\"IBM\","
                                             "\"machine_type\":\"9009\",\"serial\":\"NUL00001\","
                                             "\"hostname\":\"aix\\u0000evil\"}", uuid);
    sdc_post (&main_sdc, &r, "/esa/v1/register", NULL, NULL, json);
    assert_error (&r, 400, "invalid_json", "u0000");
  }
  /* an absurd Content-Length is answered at once, not read */
  {
    const char req[] = "POST /esa/v1/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: 99999999999\r\n\r\n{\"version\":1}";
    g_autofree char *answer = raw_https (&main_sdc, req, sizeof req - 1);
    g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 413"));
    g_assert_nonnull (strstr (answer, "too_large"));
  }
  /* and the server is still there */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *url = sdc_url (&main_sdc, FALSE, "/esa/v1/config");
    sdc_request (&main_sdc, &r, "GET", url, NULL, NULL, NULL, NULL, 0, NULL);
    g_assert_cmpuint (r.status, ==, 200);
  }
}

/* Unfinished uploads (*.part) left by a crash are removed when esa-sdc starts. */
static void
test_stale_parts_removed (void)
{
  Sdc sdc = { 0 };
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-parts");
  g_autofree char *part = NULL;
  g_autofree char *kept = NULL;
  /* sdc_start makes its own dir; plant the leftovers through --dir of a prepared one */
  sdc_start (&sdc, NULL);
  part = g_build_filename (sdc.dir, "attachments", "0b7e8c1e-5f4a-4c1e-9a4e-1d2c3b4a5f60",
                           ".snap.tar.gz.part-AbC123", NULL);
  kept = g_build_filename (sdc.dir, "attachments", "0b7e8c1e-5f4a-4c1e-9a4e-1d2c3b4a5f60", "snap.tar.gz", NULL);
  esa_test_write_file (part, "half an upload", 0600);
  esa_test_write_file (kept, "a finished one", 0600);
  g_assert_cmpint (esa_test_stop (sdc.proc), ==, 0);
  g_clear_object (&sdc.proc);
  {
    g_autofree char *bin = sdc_bin ();
    g_autofree char *listen = g_strdup_printf ("--listen=127.0.0.1:%u", sdc.port);
    const char *argv[] = { bin, "serve", "--dir", sdc.dir, listen, NULL };
    sdc.proc = esa_test_spawn (sdc.log, argv);
    g_assert_true (esa_test_wait_for_port ("127.0.0.1", sdc.port, 10000));
  }
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (kept, G_FILE_TEST_EXISTS));
  /* this server has the default 1M body limit: 100,000 '[' get a 400, not a crash */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *deep = g_strnfill (100000, '[');
    sdc_post (&sdc, &r, "/esa/v1/register", NULL, NULL, deep);
    assert_error (&r, 400, "invalid_json", "nested deeper");
  }
  {
    g_autofree char *log = read_log (&sdc);
    g_assert_nonnull (strstr (log, "removed 1 unfinished attachment upload"));
  }
  sdc_stop (&sdc);
  esa_test_rmtree (tmp);
}

static char *
register_partition_json (const char *uuid, const char *serial, int lpar_id, const char *os_uuid)
{
  return g_strdup_printf ("{\"version\":1,\"uuid\":\"%s\",\"vendor\":\"IBM\",\"machine_type\":\"9105\","
                          "\"serial\":\"%s\",\"hostname\":\"lpar%02d\",\"is_lpar\":true,\"lpar_id\":%d,"
                          "\"lpar_name\":\"lpar%02d\",\"os_uuid\":\"%s\"}",
                          uuid, serial, lpar_id, lpar_id, lpar_id, os_uuid);
}

static void
register_partition (Creds *c, const char *serial, int lpar_id, const char *os_uuid)
{
  g_auto (Reply) r = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *json = register_partition_json (uuid, serial, lpar_id, os_uuid);
  sdc_post (&main_sdc, &r, "/esa/v1/register", NULL, NULL, json);
  g_assert_cmpuint (r.status, ==, 201);
  c->id = g_strdup (json_object_get_string_member (r.json, "system_id"));
  c->password = g_strdup (json_object_get_string_member (r.json, "password"));
}

static int
run_sdc (char **out, ...)
{
  g_autofree char *bin = esa_test_build_path ("sdc/esa-sdc");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err = NULL;
  va_list ap;
  int rc;
  g_ptr_array_add (argv, bin);
  va_start (ap, out);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  rc = esa_test_run ((const char *const *) argv->pdata, out, &err);
  if (rc != 0)
    g_test_message ("esa-sdc: %s", err);
  return rc;
}

static void
post_heartbeats (Sdc *sdc, Creds *c, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_auto (Reply) r = { 0 };
      g_autofree char *uuid = g_uuid_string_random ();
      g_autofree char *json = report_json (uuid, "heartbeat", NULL);
      sdc_post (sdc, &r, "/esa/v1/heartbeat", c->id, c->password, json);
      g_assert_cmpuint (r.status, ==, 200);
    }
}

/* `esa-sdc backup --dir DIR FILE` beside a running serve: a whole copy with every report
 * acknowledged before it (they are still in the WAL, which a copy of sdc.db alone would
 * miss), never over an existing file; PostgreSQL and a missing database are refused with
 * one line. */
static void
test_backup (void)
{
  Sdc sdc = { 0 };
  g_auto (Creds) c = { 0 };
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-backup");
  g_autofree char *one = g_build_filename (tmp, "one.db", NULL);
  g_autofree char *two = g_build_filename (tmp, "two.db", NULL);
  g_autofree char *part = g_strconcat (two, ".part", NULL);
  g_autofree char *out = NULL;
  g_autofree char *empty = g_build_filename (tmp, "empty", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len = 0, after_len = 0;

  sdc_start (&sdc, NULL);
  sdc_register (&sdc, &c, "9009", "BACKUP1");
  post_heartbeats (&sdc, &c, 30);
  g_assert_cmpint (run_sdc (&out, "backup", "--dir", sdc.dir, one, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "30 reports"));
  g_assert_cmpuint (sdc_test_sqlite_count_reports (one), ==, 30);
  /* it holds password hashes: the owner's alone, wherever it goes */
  {
    GStatBuf st;
    g_assert_cmpint (g_stat (one, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  }
  /* what copying sdc.db alone gives: the reports are still in the WAL */
  {
    g_autofree char *db_path = g_build_filename (sdc.dir, "sdc.db", NULL);
    g_autofree char *plain = g_build_filename (tmp, "plain.db", NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    g_assert_true (g_file_get_contents (db_path, &bytes, &len, NULL));
    g_assert_true (g_file_set_contents (plain, bytes, (gssize) len, NULL));
    g_assert_cmpint (sqlite3_open_v2 (plain, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM reports", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step (stmt) == SQLITE_ROW)
      g_assert_cmpint (sqlite3_column_int (stmt, 0), <, 30);
    else
      g_test_message ("a copy of sdc.db alone: %s", sqlite3_errmsg (db));
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }

  post_heartbeats (&sdc, &c, 10);
  g_assert_cmpint (run_sdc (NULL, "backup", "--dir", sdc.dir, two, NULL), ==, 0);
  g_assert_cmpuint (sdc_test_sqlite_count_reports (two), ==, 40);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));

  /* never over a file */
  g_assert_true (g_file_get_contents (one, &before, &before_len, NULL));
  g_assert_cmpint (run_sdc (NULL, "backup", "--dir", sdc.dir, one, NULL), ==, 1);
  g_assert_true (g_file_get_contents (one, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
  g_assert_cmpuint (sdc_test_sqlite_count_reports (one), ==, 30);
  sdc_stop (&sdc);

  {
    const char *argv_pg[] = { NULL, "backup", "--db", "postgresql:///sdc", two, NULL };
    const char *argv_none[] = { NULL, "backup", "--dir", empty, two, NULL };
    g_autofree char *bin = esa_test_build_path ("sdc/esa-sdc");
    g_autofree char *err = NULL;
    argv_pg[0] = bin;
    argv_none[0] = bin;
    g_assert_cmpint (esa_test_run (argv_pg, NULL, &err), ==, 2);
    g_assert_nonnull (strstr (err, "pg_dump"));
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (g_mkdir (empty, 0700), ==, 0);
    g_assert_cmpint (esa_test_run (argv_none, NULL, &err), ==, 1);
    g_assert_nonnull (strstr (err, "sdc.db: no such database"));
  }
  esa_test_rmtree (tmp);
}

/* Two LPARs of one frame are two systems: both registered, both deliver. */
static void
test_register_partitions (void)
{
  g_auto (Creds) a = { 0 };
  g_auto (Creds) b = { 0 };
  g_autofree char *out = NULL;
  register_partition (&a, "PART0001", 5, "os-uuid-5");
  register_partition (&b, "PART0001", 6, "os-uuid-6");
  g_assert_cmpstr (a.id, !=, b.id);
  for (guint i = 0; i < 2; i++)
    {
      g_auto (Reply) r = { 0 };
      heartbeat_as (&main_sdc, &r, i == 0 ? a.id : b.id, i == 0 ? a.password : b.password);
      g_assert_cmpuint (r.status, ==, 200);
    }
  /* the listing shows the frame (machine and serial) and the partition */
  g_assert_cmpint (run_sdc (&out, "systems", "--dir", main_sdc.dir, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "5 lpar05"));
  g_assert_nonnull (strstr (out, "6 lpar06"));
}

/* Re-registering an existing system without its credentials is not a takeover: the
 * stranger waits for the admin (202), the real agent keeps working; once the admin
 * approves, the same request gets the credentials, once. */
static void
test_register_stranger (void)
{
  g_auto (Creds) real = { 0 };
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *json = NULL;
  g_autofree char *registration = NULL;
  g_autofree char *out = NULL;
  register_partition (&real, "STRG0001", 3, "os-uuid-3");
  json = register_partition_json (uuid, "STRG0001", 3, "os-uuid-3");
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/register", NULL, NULL, json);
    g_assert_cmpuint (r.status, ==, 202);
    g_assert_cmpstr (json_object_get_string_member (r.json, "status"), ==, "pending");
    g_assert_false (json_object_has_member (r.json, "password"));
    registration = g_strdup (json_object_get_string_member (r.json, "registration"));
    g_assert_true (g_str_has_prefix (registration, "REG-"));
  }
  /* wrong credentials are refused outright */
  {
    g_auto (Reply) r = { 0 };
    g_autofree char *u2 = g_uuid_string_random ();
    g_autofree char *j2 = register_partition_json (u2, "STRG0001", 3, "os-uuid-3");
    sdc_post (&main_sdc, &r, "/esa/v1/register", real.id, "not-the-password", j2);
    assert_error (&r, 401, "unauthorized", NULL);
  }
  /* the real agent still works, and a retry of the stranger still waits */
  {
    g_auto (Reply) r = { 0 };
    heartbeat_as (&main_sdc, &r, real.id, real.password);
    g_assert_cmpuint (r.status, ==, 200);
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/register", NULL, NULL, json);
    g_assert_cmpuint (r.status, ==, 202);
    g_assert_cmpstr (json_object_get_string_member (r.json, "registration"), ==, registration);
  }
  g_assert_cmpint (run_sdc (&out, "systems", "pending", "--dir", main_sdc.dir, NULL), ==, 0);
  g_assert_nonnull (strstr (out, registration));
  g_assert_cmpint (run_sdc (NULL, "systems", "approve", "REG-0000000000000000", "--dir", main_sdc.dir, NULL), !=, 0);
  g_assert_cmpint (run_sdc (NULL, "systems", "approve", registration, "--dir", main_sdc.dir, NULL), ==, 0);
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/register", NULL, NULL, json);
    g_assert_cmpuint (r.status, ==, 201);
    g_assert_cmpstr (json_object_get_string_member (r.json, "system_id"), ==, real.id);
  }
  /* approved once: the same request cannot collect a second password */
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/register", NULL, NULL, json);
    assert_error (&r, 409, "duplicate", registration);
  }
}

/* Contact and deactivation: authenticated, no re-registration; a deactivated system's
 * credentials are refused at once (also when remembered by the auth cache). */
static void
test_contact_deactivate (void)
{
  g_auto (Creds) c = { 0 };
  g_autofree char *out = NULL;
  register_partition (&c, "DEAC0001", 2, "os-uuid-2");
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/contact", NULL, NULL,
              "{\"version\":1,\"contact\":{\"name\":\"Grace\",\"email\":\"grace@example.com\"}}");
    assert_error (&r, 401, "unauthorized", NULL);
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/contact", c.id, c.password, "{\"version\":1,\"contact\":{\"name\":7}}");
    assert_error (&r, 400, "invalid_field", "contact.name");
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/contact", c.id, c.password,
              "{\"version\":1,\"contact\":{\"name\":\"Grace\",\"email\":\"grace@example.com\"}}");
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (r.json, "status"), ==, "stored");
  }
  g_assert_cmpint (run_sdc (&out, "systems", "--dir", main_sdc.dir, "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "grace@example.com"));
  {
    g_auto (Reply) r = { 0 };
    heartbeat_as (&main_sdc, &r, c.id, c.password); /* now in the auth cache */
    g_assert_cmpuint (r.status, ==, 200);
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_post (&main_sdc, &r, "/esa/v1/deactivate", c.id, c.password, "{\"version\":1}");
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (r.json, "status"), ==, "deactivated");
  }
  {
    g_auto (Reply) r = { 0 };
    heartbeat_as (&main_sdc, &r, c.id, c.password);
    assert_error (&r, 401, "unauthorized", NULL);
  }
  /* a deactivated system may be activated again, without the old credentials */
  {
    g_auto (Creds) again = { 0 };
    register_partition (&again, "DEAC0001", 2, "os-uuid-2");
    g_assert_cmpstr (again.id, ==, c.id);
  }
}

/* SQLite has one write lock: more than one writer connection is refused in one line
 * naming SQLite, before anything listens. */
static void
test_db_writers_sqlite (void)
{
  g_autofree char *bin = sdc_bin ();
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-writers");
  g_autofree char *dir = g_build_filename (tmp, "sdc", NULL);
  g_autofree char *err = NULL;
  const char *argv[] = { bin, "serve", "--dir", dir, "--listen", "127.0.0.1:0", "--db-writers", "2", NULL };
  const char *argv_range[] = { bin, "serve", "--dir", dir, "--listen", "127.0.0.1:0", "--db-writers", "65", NULL };
  sdc_init_dir (dir, NULL);
  g_assert_cmpint (esa_test_run (argv, NULL, &err), !=, 0);
  g_assert_nonnull (strstr (err, "SQLite"));
  g_assert_null (strstr (err, "listening on"));
  g_assert_cmpint (strchr (err, '\n') - err, ==, (int) strlen (err) - 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (esa_test_run (argv_range, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--db-writers 65"));
  esa_test_rmtree (tmp);
}

/* POST /esa/v1/reports (docs/protocol.md, "Batches"), on SQLite (main_sdc) and on
 * PostgreSQL (a second esa-sdc on a throw-away cluster, started on first use). */
static Sdc pg_sdc;
static char *pg_skip;

static Sdc *
batch_sdc (gconstpointer engine)
{
  if (g_strcmp0 (engine, "sqlite") == 0)
    return &main_sdc;
#ifdef HAVE_LIBPQ
  if (pg_sdc.proc == NULL && pg_skip == NULL)
    {
      g_autofree char *db = esa_test_pg_new_database (&pg_skip);
      const char *extra[] = { "--max-body", "64K", "--db", db, NULL };
      if (db != NULL)
        {
          sdc_start (&pg_sdc, extra);
          pg_sdc.db = g_strdup (db);
        }
    }
#else
  if (pg_skip == NULL)
    pg_skip = g_strdup ("esa-sdc was built without libpq");
#endif
  if (pg_sdc.proc == NULL)
    {
      g_test_skip (pg_skip);
      return NULL;
    }
  return &pg_sdc;
}

/* {"version":1,"reports":[…]} of the envelopes in @reports */
static char *
batch_json (GPtrArray *reports)
{
  GString *s = g_string_new ("{\"version\":1,\"reports\":[");
  for (guint i = 0; i < reports->len; i++)
    g_string_append_printf (s, "%s%s", i > 0 ? "," : "", (const char *) g_ptr_array_index (reports, i));
  g_string_append (s, "]}");
  return g_string_free (s, FALSE);
}

/* Posts the batch; asserts 200 and one result per report; returns the results. */
static JsonArray *
batch_post (Sdc *sdc, Reply *r, const Creds *c, GPtrArray *reports)
{
  g_autofree char *body = batch_json (reports);
  JsonArray *results;
  sdc_post (sdc, r, "/esa/v1/reports", c->id, c->password, body);
  if (r->status != 200)
    g_error ("batch: expected 200, got %u %s", r->status, r->body);
  g_assert_cmpstr (soup_message_headers_get_content_type (r->headers, NULL), ==, "application/json");
  g_assert_cmpuint (json_object_get_size (r->json), ==, 1);
  results = json_object_get_array_member (r->json, "results");
  g_assert_cmpuint (json_array_get_length (results), ==, reports->len);
  return results;
}

/* result i's "answer", as its endpoint's generator writes it */
static char *
result_answer (JsonArray *results, guint i)
{
  JsonObject *res = json_array_get_object_element (results, i);
  g_assert_cmpuint (json_object_get_size (res), ==, 3);
  return json_to_string (json_object_get_member (res, "answer"), FALSE);
}

static guint
result_status (JsonArray *results, guint i)
{
  return (guint) json_object_get_int_member (json_array_get_object_element (results, i), "status");
}

/* The same envelope to its own endpoint: the status and body it answers. */
static void
assert_single_answers (Sdc *sdc, const Creds *c, const char *kind, const char *envelope, guint status,
                       const char *answer)
{
  g_auto (Reply) r = { 0 };
  g_autofree char *path = g_strconcat ("/esa/v1/", kind, NULL);
  sdc_post (sdc, &r, path, c->id, c->password, envelope);
  g_assert_cmpuint (r.status, ==, status);
  g_assert_cmpstr (r.body, ==, answer);
}

static guint
count_lines_with (const char *text, const char *a, const char *b)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], a) != NULL && (b == NULL || strstr (lines[i], b) != NULL))
      n++;
  return n;
}

/* Mixed kinds, each stored once, each answered as its endpoint answers; one log line each. */
static void
test_batch_stored (gconstpointer engine)
{
  Sdc *sdc = batch_sdc (engine);
  g_auto (Creds) c = { 0 };
  g_autoptr (GPtrArray) reports = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
  const char *kinds[] = { "heartbeat", "problem", "inventory", "uak-status", "extended-data", "problem" };
  g_auto (Reply) r = { 0 };
  g_autofree char *log = NULL;
  JsonArray *results;
  gint64 sr[2] = { 0 };
  guint problems = 0;

  if (sdc == NULL)
    return;
  sdc_register (sdc, &c, "9009", "BAT00001");
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      char *uuid = g_uuid_string_random ();
      g_ptr_array_add (uuids, uuid);
      if (g_str_equal (kinds[i], "extended-data"))
        /* the snap of the problem sent just before it, in the same batch */
        g_ptr_array_add (reports, g_strdup_printf ("{\"version\":1,\"uuid\":\"%s\",\"kind\":\"extended-data\","
                                                   "\"plugin\":\"snap\",\"created\":\"2026-11-25T09:00:00Z\","
                                                   "\"parent\":\"%s\",\"body\":{\"note\":\"from test\"},"
                                                   "\"attachments\":[]}",
                                                   uuid, (char *) g_ptr_array_index (uuids, 1)));
      else
        g_ptr_array_add (reports, report_json (uuid, kinds[i], NULL));
    }
  results = batch_post (sdc, &r, &c, reports);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      JsonObject *res = json_array_get_object_element (results, i);
      JsonObject *answer = json_object_get_object_member (res, "answer");
      const char *uuid = g_ptr_array_index (uuids, i);
      g_autofree char *text = result_answer (results, i);

      g_assert_cmpstr (json_object_get_string_member (res, "uuid"), ==, uuid);
      g_assert_cmpuint (result_status (results, i), ==, 200);
      g_assert_cmpstr (json_object_get_string_member (answer, "status"), ==, "stored");
      g_assert_cmpstr (json_object_get_string_member (answer, "uuid"), ==, uuid);
      g_assert_cmpuint (count_reports_with_uuid (sdc, uuid), ==, 1);
      if (g_str_equal (kinds[i], "problem"))
        sr[problems++] = g_ascii_strtoll (json_object_get_string_member (answer, "service_request") + 2, NULL, 10);
      else
        g_assert_false (json_object_has_member (answer, "service_request"));
      g_assert_true (json_object_has_member (answer, "last_seen") == g_str_equal (kinds[i], "heartbeat"));
      /* its endpoint answers the same report with the same bytes (the stored answer) */
      assert_single_answers (sdc, &c, kinds[i], g_ptr_array_index (reports, i), 200, text);
    }
  /* two service requests, one after the other (a group stores in uuid order, so which
   * comes first is not the order sent) */
  g_assert_cmpint (ABS (sr[1] - sr[0]), ==, 1);
  /* the request log: one line per report, with its uuid */
  log = read_log (sdc);
  for (guint i = 0; i < uuids->len; i++)
    {
      g_autofree char *needle = g_strdup_printf ("uuid=%s", (char *) g_ptr_array_index (uuids, i));
      g_assert_cmpuint (count_lines_with (log, "path=/esa/v1/reports status=200", needle), ==, 1);
    }
  {
    g_autofree char *sys = g_strdup_printf ("system=%s", c.id);
    g_assert_cmpuint (count_lines_with (log, "path=/esa/v1/reports ", sys), ==, uuids->len);
  }
}

/* Exactly-once across and within batches: a uuid twice in one batch, a batch sent again,
 * a uuid reused for another kind. */
static void
test_batch_exactly_once (gconstpointer engine)
{
  Sdc *sdc = batch_sdc (engine);
  g_auto (Creds) c = { 0 };
  g_autoptr (GPtrArray) reports = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *p1 = g_uuid_string_random ();
  g_autofree char *hb = g_uuid_string_random ();
  g_autofree char *p2 = g_uuid_string_random ();
  g_autofree char *upper = g_ascii_strup (p1, -1);
  g_auto (Reply) first = { 0 };
  g_auto (Reply) again = { 0 };
  g_autofree char *log = NULL;
  g_autofree char *needle = NULL;
  JsonArray *r1;
  JsonArray *r2;

  if (sdc == NULL)
    return;
  sdc_register (sdc, &c, "9009", "BAT00002");
  g_ptr_array_add (reports, report_json (p1, "problem", NULL));   /* 0 */
  g_ptr_array_add (reports, report_json (hb, "heartbeat", NULL)); /* 1 */
  g_ptr_array_add (reports, report_json (p1, "problem", NULL));   /* 2: again, same batch */
  g_ptr_array_add (reports, report_json (p2, "problem", NULL));   /* 3 */
  g_ptr_array_add (reports, report_json (upper, "problem", NULL)); /* 4: p1 in capitals */
  g_ptr_array_add (reports, report_json (p2, "inventory", NULL)); /* 5: p2's uuid, another kind */
  r1 = batch_post (sdc, &first, &c, reports);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (result_status (r1, i), ==, 200);
  {
    g_autofree char *a0 = result_answer (r1, 0);
    g_autofree char *a2 = result_answer (r1, 2);
    g_autofree char *a4 = result_answer (r1, 4);
    g_autofree char *a3 = result_answer (r1, 3);
    g_assert_cmpstr (a2, ==, a0);
    g_assert_cmpstr (a4, ==, a0);
    g_assert_cmpstr (a3, !=, a0);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (r1, 4), "uuid"), ==, p1);
  }
  /* as its endpoint would: 409, never the other kind's answer */
  g_assert_cmpuint (result_status (r1, 5), ==, 409);
  {
    JsonObject *err = json_object_get_object_member (
        json_object_get_object_member (json_array_get_object_element (r1, 5), "answer"), "error");
    g_autofree char *text = result_answer (r1, 5);
    g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "duplicate");
    g_assert_null (strstr (text, "SR"));
    assert_single_answers (sdc, &c, "inventory", g_ptr_array_index (reports, 5), 409, text);
  }
  /* the whole batch again (its answer was lost): every result the first time's */
  r2 = batch_post (sdc, &again, &c, reports);
  for (guint i = 0; i < reports->len; i++)
    {
      g_autofree char *a = result_answer (r1, i);
      g_autofree char *b = result_answer (r2, i);
      g_assert_cmpuint (result_status (r2, i), ==, result_status (r1, i));
      g_assert_cmpstr (b, ==, a);
    }
  g_assert_cmpuint (count_reports_with_uuid (sdc, p1), ==, 1);
  g_assert_cmpuint (count_reports_with_uuid (sdc, hb), ==, 1);
  g_assert_cmpuint (count_reports_with_uuid (sdc, p2), ==, 1);
  {
    g_autoptr (JsonArray) mine = list_reports (sdc, c.id);
    g_assert_cmpuint (json_array_get_length (mine), ==, 3);
  }
  log = read_log (sdc);
  needle = g_strdup_printf ("uuid=%s", p1);
  /* 3 in the first batch (2 of them duplicates), 3 in the second (all duplicates) */
  g_assert_cmpuint (count_lines_with (log, "path=/esa/v1/reports ", needle), ==, 6);
  g_assert_cmpuint (count_lines_with (log, needle, "duplicate=yes"), ==, 5);
}

/* A bad report gets its own 400 (the one its endpoint gives); the others are stored. */
static void
test_batch_bad_report (gconstpointer engine)
{
  Sdc *sdc = batch_sdc (engine);
  g_auto (Creds) c = { 0 };
  g_autoptr (GPtrArray) reports = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *good1 = g_uuid_string_random ();
  g_autofree char *good2 = g_uuid_string_random ();
  g_autofree char *u = g_uuid_string_random ();
  g_auto (Reply) r = { 0 };
  g_autofree char *log = NULL;
  JsonArray *results;
  struct {
    const char *body;        /* @U: a fresh uuid */
    const char *endpoint;    /* where the same body gets the same answer; NULL: none */
    guint status;
    const char *code;
    const char *needle;
    const char *uuid;        /* the result's uuid: NULL for null, "@U" for the fresh one */
  } bad[] = {
    { "{\"version\":1,\"uuid\":\"nope\",\"kind\":\"heartbeat\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{}}",
      "heartbeat", 400, "invalid_field", "uuid", "nope" },
    { "{\"version\":1,\"kind\":\"heartbeat\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{}}",
      "heartbeat", 400, "invalid_field", "uuid", NULL },
    { "{\"version\":1,\"uuid\":42,\"kind\":\"heartbeat\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{}}",
      "heartbeat", 400, "invalid_field", "uuid", NULL },
    { "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"heartbeat\",\"created\":\"2026-11-25T09:00:00Z\"}",
      "heartbeat", 400, "invalid_field", "body", "@U" },
    { "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"bogus\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{}}",
      NULL, 400, "invalid_field", "kind: \"bogus\"", "@U" },
    { "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"uak\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{}}",
      NULL, 400, "invalid_field", "kind: \"uak\"", "@U" },
    { "{\"version\":1,\"uuid\":\"@U\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{}}",
      "heartbeat", 400, "invalid_field", "kind", "@U" },
    { "{\"version\":2,\"uuid\":\"@U\",\"kind\":\"heartbeat\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{}}",
      "heartbeat", 400, "unsupported_version", NULL, "@U" },
    { "[1]", "heartbeat", 400, "invalid_json", "object", NULL },
    { "{\"version\":1,\"uuid\":\"@U\",\"kind\":\"problem\",\"created\":\"2026-11-25T09:00:00Z\",\"body\":{},"
      "\"attachments\":[{\"name\":\"../x\",\"size\":1,\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
      "problem", 400, "invalid_field", "attachments[0].name", "@U" },
  };

  if (sdc == NULL)
    return;
  sdc_register (sdc, &c, "9009", "BAT00003");
  g_ptr_array_add (reports, report_json (good1, "heartbeat", NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto (GStrv) parts = g_strsplit (bad[i].body, "@U", -1);
      g_ptr_array_add (reports, g_strjoinv (u, parts));
    }
  g_ptr_array_add (reports, report_json (good2, "problem", NULL));
  results = batch_post (sdc, &r, &c, reports);
  g_assert_cmpuint (result_status (results, 0), ==, 200);
  g_assert_cmpuint (result_status (results, reports->len - 1), ==, 200);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      JsonObject *res = json_array_get_object_element (results, i + 1);
      JsonObject *err = json_object_get_object_member (json_object_get_object_member (res, "answer"), "error");
      g_autofree char *text = result_answer (results, i + 1);
      const char *want_uuid = g_strcmp0 (bad[i].uuid, "@U") == 0 ? u : bad[i].uuid;

      if (result_status (results, i + 1) != bad[i].status)
        g_error ("report %u (%s): expected %u, got %s", i, bad[i].body, bad[i].status, r.body);
      g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, bad[i].code);
      if (bad[i].needle != NULL && strstr (json_object_get_string_member (err, "message"), bad[i].needle) == NULL)
        g_error ("report %u: \"%s\" does not mention \"%s\"", i, json_object_get_string_member (err, "message"),
                 bad[i].needle);
      if (want_uuid != NULL)
        g_assert_cmpstr (json_object_get_string_member (res, "uuid"), ==, want_uuid);
      else if (!json_object_get_null_member (res, "uuid"))
        g_error ("report %u: expected \"uuid\": null, got %s", i, r.body);
      if (bad[i].endpoint != NULL)
        assert_single_answers (sdc, &c, bad[i].endpoint, g_ptr_array_index (reports, i + 1), bad[i].status, text);
    }
  g_assert_cmpuint (count_reports_with_uuid (sdc, good1), ==, 1);
  g_assert_cmpuint (count_reports_with_uuid (sdc, good2), ==, 1);
  g_assert_cmpuint (count_reports_with_uuid (sdc, u), ==, 0);
  /* the log: every report of the batch, the bad ones with their error */
  log = read_log (sdc);
  {
    g_autofree char *sys = g_strdup_printf ("system=%s", c.id);
    g_assert_cmpuint (count_lines_with (log, "path=/esa/v1/reports status=400", sys), ==, G_N_ELEMENTS (bad));
    g_assert_cmpuint (count_lines_with (log, "path=/esa/v1/reports status=200", sys), ==, 2);
  }
}

/* Whole-request mistakes: one error for the request, one line, nothing of it stored. */
static void
test_batch_refused (gconstpointer engine)
{
  Sdc *sdc = batch_sdc (engine);
  g_auto (Creds) c = { 0 };
  g_autofree char *u = g_uuid_string_random ();
  g_autofree char *one = NULL;
  g_autofree char *max = NULL;
  g_autofree char *over = NULL;
  g_autofree char *huge = NULL;
  g_autoptr (GPtrArray) many = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *url = NULL;

  if (sdc == NULL)
    return;
  sdc_register (sdc, &c, "9009", "BAT00004");
  one = report_json (u, "heartbeat", NULL);
  for (guint i = 0; i < 65; i++)
    {
      g_autofree char *uuid = i == 0 ? g_strdup (u) : g_uuid_string_random ();
      g_ptr_array_add (many, report_json (uuid, "heartbeat", NULL));
    }
  over = batch_json (many);
  {
    GString *s = g_string_new ("{\"version\":1,\"reports\":[");
    g_string_append (s, one);
    g_string_append (s, ",{\"pad\":\"");
    for (guint i = 0; i < 70 * 1024; i++)
      g_string_append_c (s, 'x');
    g_string_append (s, "\"}]}");
    huge = g_string_free (s, FALSE);
  }
  {
    struct {
      const char *body;
      guint status;
      const char *code;
      const char *needle;
    } cases[] = {
      { "", 400, "invalid_json", NULL },
      { "{\"version\":1,\"reports\":[", 400, "invalid_json", NULL },
      { "[]", 400, "invalid_json", "object" },
      { "{\"reports\":[]}", 400, "invalid_field", "version" },
      { "{\"version\":2,\"reports\":[@R]}", 400, "unsupported_version", NULL },
      { "{\"version\":1}", 400, "invalid_field", "reports" },
      { "{\"version\":1,\"reports\":@R}", 400, "invalid_field", "reports: expected array" },
      { "{\"version\":1,\"reports\":null}", 400, "invalid_field", "reports" },
      { "{\"version\":1,\"reports\":[]}", 400, "invalid_field", "reports: expected 1 to 64 reports, got 0" },
      { over, 400, "invalid_field", "reports: expected 1 to 64 reports, got 65" },
      { huge, 413, "too_large", NULL },
    };
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_auto (Reply) r = { 0 };
        g_auto (GStrv) parts = g_strsplit (cases[i].body, "@R", -1);
        g_autofree char *body = g_strjoinv (one, parts);
        sdc_post (sdc, &r, "/esa/v1/reports", c.id, c.password, body);
        if (r.status != cases[i].status)
          g_error ("case %u (%.80s): expected %u, got %u %s", i, body, cases[i].status, r.status, r.body);
        assert_error (&r, cases[i].status, cases[i].code, cases[i].needle);
        g_assert_null (strchr (r.body, '\n'));
        g_assert_cmpuint (count_reports_with_uuid (sdc, u), ==, 0);
      }
  }
  url = sdc_url (sdc, FALSE, "/esa/v1/reports");
  g_ptr_array_set_size (many, 64);
  max = batch_json (many);
  {
    g_auto (Reply) r = { 0 };
    sdc_request (sdc, &r, "POST", url, c.id, c.password, "text/plain", max, -1, NULL);
    assert_error (&r, 415, "unsupported_media_type", "Content-Type");
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_request (sdc, &r, "POST", url, NULL, NULL, "application/json", max, -1, NULL);
    assert_error (&r, 401, "unauthorized", NULL);
    g_assert_nonnull (soup_message_headers_get_one (r.headers, "WWW-Authenticate"));
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_request (sdc, &r, "POST", url, c.id, "wrong-password", "application/json", max, -1, NULL);
    assert_error (&r, 401, "unauthorized", NULL);
  }
  {
    g_auto (Reply) r = { 0 };
    sdc_request (sdc, &r, "GET", url, c.id, c.password, NULL, NULL, 0, NULL);
    assert_error (&r, 405, "method_not_allowed", NULL);
  }
  g_assert_cmpuint (count_reports_with_uuid (sdc, u), ==, 0);
  {
    g_autoptr (JsonArray) mine = list_reports (sdc, c.id);
    g_assert_cmpuint (json_array_get_length (mine), ==, 0);
  }
  /* the largest batch is taken whole */
  {
    g_auto (Reply) r = { 0 };
    JsonArray *results;
    g_autoptr (JsonArray) mine = NULL;
    results = batch_post (sdc, &r, &c, many);
    for (guint i = 0; i < many->len; i++)
      g_assert_cmpuint (result_status (results, i), ==, 200);
    mine = list_reports (sdc, c.id);
    g_assert_cmpuint (json_array_get_length (mine), ==, 64);
  }
}

int
main (int argc, char **argv)
{
  /* two HTTPS loops (one is the default on 2 cores): most tests here then also run
   * through the threads' shared state (sdc-loops.c) */
  const char *extra[] = { "--max-body", "64K", "--max-attachment", "4M", "--http-threads", "2", NULL };
  int rc;

  g_test_init (&argc, &argv, NULL);
  sdc_start (&main_sdc, extra);
  g_test_add_func ("/sdc/config", test_config);
  g_test_add_func ("/sdc/http-refuses-uploads", test_http_refuses_uploads);
  g_test_add_func ("/sdc/register", test_register);
  g_test_add_func ("/sdc/register-partitions", test_register_partitions);
  g_test_add_func ("/sdc/register-stranger", test_register_stranger);
  g_test_add_func ("/sdc/contact-deactivate", test_contact_deactivate);
  g_test_add_func ("/sdc/reports-stored", test_reports_stored);
  g_test_add_func ("/sdc/exactly-once", test_exactly_once);
  g_test_add_func ("/sdc/attachment", test_attachment);
  g_test_add_func ("/sdc/attachment-too-large", test_attachment_too_large);
  g_test_add_func ("/sdc/malformed", test_malformed);
  g_test_add_func ("/sdc/uak", test_uak);
  g_test_add_func ("/sdc/uak-test-flags", test_uak_test_flags);
  g_test_add_func ("/sdc/tls-max-version", test_tls_max_version);
  g_test_add_func ("/sdc/credential-cache", test_credential_cache);
  g_test_add_func ("/sdc/login-throttle", test_login_throttle);
  g_test_add_func ("/sdc/concurrent-duplicates", test_concurrent_duplicates);
  g_test_add_func ("/sdc/fd-keepalive-closed", test_fd_keepalive_closed);
  g_test_add_func ("/sdc/keepalive-closed-freed", test_keepalive_closed_freed);
  g_test_add_func ("/sdc/http-threads/spread", test_http_threads_spread);
  g_test_add_func ("/sdc/http-threads/port-taken", test_http_threads_port_taken);
  g_test_add_func ("/sdc/http-threads/throttle-shared", test_http_threads_throttle_shared);
  g_test_add_func ("/sdc/http-threads/range", test_http_threads_range);
  g_test_add_func ("/sdc/keepalive-half-closed", test_keepalive_half_closed);
  g_test_add_func ("/sdc/log-lines", test_log_lines);
  g_test_add_func ("/sdc/backup", test_backup);
  g_test_add_func ("/sdc/listen-backlog", test_listen_backlog);
  g_test_add_func ("/sdc/hostile-bodies", test_hostile_bodies);
  g_test_add_func ("/sdc/stalled-handshakes", test_stalled_handshakes);
  g_test_add_func ("/sdc/stale-parts-removed", test_stale_parts_removed);
  g_test_add_func ("/sdc/db-writers-sqlite", test_db_writers_sqlite);
  g_test_add_func ("/sdc/allocator", test_allocator);
  for (guint i = 0; i < 2; i++)
    {
      static const char *const engines[] = { "sqlite", "postgresql" };
      static const struct {
        const char *name;
        GTestDataFunc func;
      } batch_tests[] = {
        { "stored", test_batch_stored },
        { "exactly-once", test_batch_exactly_once },
        { "bad-report", test_batch_bad_report },
        { "refused", test_batch_refused },
      };
      for (guint j = 0; j < G_N_ELEMENTS (batch_tests); j++)
        {
          g_autofree char *path = g_strdup_printf ("/sdc/batch/%s/%s", engines[i], batch_tests[j].name);
          g_test_add_data_func (path, engines[i], batch_tests[j].func);
        }
    }
  rc = g_test_run ();
  sdc_stop (&main_sdc);
  if (pg_sdc.proc != NULL)
    sdc_stop (&pg_sdc);
  g_free (pg_skip);
#ifdef HAVE_LIBPQ
  esa_test_pg_stop ();
#endif
  return rc;
}
