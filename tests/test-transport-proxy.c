/* test-transport-proxy.c: reports go out through a third-party HTTP proxy
 * (Debian's tinyproxy) with CONNECT, with and without Basic auth, and fail
 * over from a dead or refusing proxy to the next; with every proxy down the
 * report waits in the queue until one is back. */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"

#include <string.h>
#include <glib/gstdio.h>

typedef struct {
  EtWorld *w;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->w = et_world_new (NULL);
  et_sdc_start (f->w, NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->w, et_world_free);
}

/* [sdc] for localhost:PORT plus @proxies verbatim. */
static void
write_conf (EtWorld *w, const char *proxies)
{
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\ntimeout=20s\n%s",
                                           w->port, w->sdc_dir, proxies);
  et_write_conf (w, text);
}

static char *
heartbeat_ok (EtWorld *w)
{
  g_autofree char *out = NULL, *err = NULL;
  int rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  if (rc != 0)
    g_printerr ("heartbeat: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  return g_steal_pointer (&out);
}

static guint
count_in_file (const char *path, const char *word)
{
  g_autofree char *text = NULL;
  guint n = 0;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (const char *p = strstr (text, word); p != NULL; p = strstr (p + 1, word))
    n++;
  return n;
}

static void
test_tinyproxy (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  gboolean with_auth = GPOINTER_TO_INT (data);
  guint16 tp = esa_test_free_port ();
  g_autofree char *proxies = NULL, *out = NULL, *want = NULL, *log = NULL;
  g_autofree char *pass = et_write_secret (w, "proxy.pass", "s3cret\n");

  et_tinyproxy_start (w, tp, w->port, 0, with_auth ? "esa" : NULL, "s3cret");
  if (with_auth)
    proxies = g_strdup_printf ("[proxy.1]\nurl=http://127.0.0.1:%u\nuser=esa\npassword-file=%s\n", tp, pass);
  else
    proxies = g_strdup_printf ("[proxy.1]\nurl=http://127.0.0.1:%u\n", tp);
  write_conf (w, proxies);
  et_esad_start (w, NULL);
  et_activate (w);
  out = heartbeat_ok (w);
  want = g_strdup_printf ("via https://localhost:%u/ via proxy 1 http://127.0.0.1:%u: 200", w->port, tp);
  g_assert_nonnull (strstr (out, want));
  /* It really went through the proxy: the SDC saw it come from there. */
  log = g_strdup_printf ("%s/tinyproxy-%u.log", w->dir, tp);
  g_assert_cmpuint (count_in_file (log, "Established connection to host \"localhost\""), >=, 2);
  g_assert_cmpuint (et_sdc_count_all (w), ==, 1);
}

/* Proxy 1 is a port nobody listens on: proxy 2 carries the report. */
static void
test_proxy1_down (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 dead = esa_test_free_port ();
  guint16 tp = esa_test_free_port ();
  g_autofree char *proxies = NULL, *out = NULL, *want = NULL;
  et_tinyproxy_start (w, tp, w->port, 0, NULL, NULL);
  proxies = g_strdup_printf ("[proxy.1]\nurl=http://127.0.0.1:%u\n[proxy.2]\nurl=http://127.0.0.1:%u\n", dead, tp);
  write_conf (w, proxies);
  et_esad_start (w, NULL);
  et_activate (w);
  out = heartbeat_ok (w);
  want = g_strdup_printf ("via proxy 2 http://127.0.0.1:%u: 200", tp);
  g_assert_nonnull (strstr (out, want));
  g_assert_cmpuint (et_sdc_count_all (w), ==, 1);
}

/* Proxy 1 wants other credentials (tinyproxy answers 401 to CONNECT, see
 * NOTES.md): one try, then proxy 2 — not a CONNECT loop. */
static void
test_proxy1_bad_credentials (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 tp1 = esa_test_free_port ();
  guint16 tp2 = esa_test_free_port ();
  g_autofree char *pass = et_write_secret (w, "wrong.pass", "not-the-password\n");
  g_autofree char *proxies = NULL, *out = NULL, *err = NULL, *want = NULL, *log1 = NULL;
  g_autoptr (JsonNode) test = NULL;
  JsonArray *routes;
  int rc;

  et_tinyproxy_start (w, tp1, w->port, 0, "esa", "s3cret");
  et_tinyproxy_start (w, tp2, w->port, 0, NULL, NULL);
  proxies = g_strdup_printf ("[proxy.1]\nurl=http://127.0.0.1:%u\nuser=esa\npassword-file=%s\n"
                             "[proxy.2]\nurl=http://127.0.0.1:%u\n", tp1, pass, tp2);
  write_conf (w, proxies);
  et_esad_start (w, NULL);
  et_activate (w);
  out = heartbeat_ok (w);
  want = g_strdup_printf ("via proxy 2 http://127.0.0.1:%u: 200", tp2);
  g_assert_nonnull (strstr (out, want));
  g_clear_pointer (&out, g_free);

  /* esactl test names the proxy's refusal. */
  rc = et_esactl (w, &out, &err, "test", "--json", NULL);
  g_assert_cmpint (rc, ==, 0);
  {
    g_autoptr (JsonParser) p = json_parser_new ();
    g_assert_true (json_parser_load_from_data (p, out, -1, NULL));
    test = json_node_copy (json_parser_get_root (p));
  }
  routes = json_object_get_array_member (json_node_get_object (test), "routes");
  g_assert_cmpuint (json_array_get_length (routes), ==, 2);
  {
    JsonObject *r1 = json_array_get_object_element (routes, 0);
    JsonObject *r2 = json_array_get_object_element (routes, 1);
    g_assert_false (json_object_get_boolean_member (r1, "ok"));
    g_assert_nonnull (strstr (json_object_get_string_member (r1, "result"), "proxy"));
    g_assert_true (json_object_get_boolean_member (r2, "ok"));
  }
  /* Two CONNECTs (without, then with credentials) for each of activate,
   * heartbeat and test: never a loop. */
  log1 = g_strdup_printf ("%s/tinyproxy-%u.log", w->dir, tp1);
  g_assert_cmpuint (count_in_file (log1, "): CONNECT "), >=, 3);
  g_assert_cmpuint (count_in_file (log1, "): CONNECT "), <=, 6);
  g_assert_cmpuint (et_sdc_count_all (w), ==, 1);
}

/* Every proxy down: the heartbeat waits in the queue; a proxy comes back and
 * `esactl queue send` delivers it, once. */
static void
test_all_proxies_down (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 p1 = esa_test_free_port ();
  guint16 p2 = esa_test_free_port ();
  guint16 tp = esa_test_free_port ();
  g_autofree char *proxies = NULL, *out = NULL, *err = NULL, *uuid = NULL, *want = NULL;
  g_autofree char *good = NULL;
  g_autoptr (JsonNode) list = NULL;
  JsonArray *queued;
  JsonObject *e;
  int rc;

  /* Activate through a live proxy, then configure only dead ones. */
  et_tinyproxy_start (w, tp, w->port, 0, NULL, NULL);
  good = g_strdup_printf ("[proxy.1]\nurl=http://127.0.0.1:%u\n", tp);
  write_conf (w, good);
  et_esad_start (w, NULL);
  et_activate (w);
  et_esad_stop (w);

  proxies = g_strdup_printf ("[proxy.1]\nurl=http://127.0.0.1:%u\n[proxy.2]\nurl=http://127.0.0.1:%u\n", p1, p2);
  write_conf (w, proxies);
  et_esad_start (w, NULL);
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 6);
  g_assert_nonnull (strstr (err, "kept in queue"));
  g_assert_nonnull (strstr (err, "cannot reach the proxy"));

  list = et_queue_list (w);
  queued = json_object_get_array_member (json_node_get_object (list), "queued");
  g_assert_cmpuint (json_array_get_length (queued), ==, 1);
  e = json_array_get_object_element (queued, 0);
  uuid = g_strdup (json_object_get_string_member (e, "uuid"));
  g_assert_cmpint (json_object_get_int_member (e, "attempts"), >=, 1);
  g_assert_nonnull (strstr (json_object_get_string_member (e, "last_error"), "proxy"));
  g_assert_cmpuint (et_sdc_count_uuid (w, uuid), ==, 0);

  /* Proxy 2 comes back (the backoff is minutes: queue send means now). */
  et_tinyproxy_start (w, p2, w->port, 0, NULL, NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "queue", "send", NULL);
  if (rc != 0)
    g_printerr ("queue send: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  want = g_strdup_printf ("sent heartbeat %s", uuid);
  g_assert_nonnull (strstr (out, want));
  g_assert_nonnull (strstr (out, "via proxy 2"));
  g_assert_nonnull (strstr (out, "0 report(s) still queued"));
  g_assert_cmpuint (et_sdc_count_uuid (w, uuid), ==, 1);
  g_assert_cmpuint (et_sdc_log_count (w, uuid, "method=POST", NULL), ==, 1);
}

static void
install_plugin (EtWorld *w, const char *name)
{
  g_autofree char *rel = g_strdup_printf ("plugins/%s/.libs/%s.so", name, name);
  g_autofree char *so = et_bin (rel);
  g_autofree char *base = g_strdup_printf ("%s.so", name);
  g_autofree char *dst = g_build_filename (w->dir, "plugins", base, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (so, &data, &len, NULL));
  g_assert_true (g_file_set_contents (dst, data, (gssize) len, NULL));
  g_assert_cmpint (g_chmod (dst, 0755), ==, 0);
}

/* The attachment of a report goes over the tunnel its report opened (a
 * pooled keep-alive connection: no CONNECT, no handshake this time). The
 * SDC's 4xx there is the SDC's word, not the proxy's: the report goes to
 * failed/ instead of being retried forever with "proxy answered 413". */
static void
test_reused_tunnel_rejected (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 tp = esa_test_free_port ();
  const char *extra[] = { "--max-attachment", "1", NULL };
  g_autofree char *text = NULL, *out = NULL, *err = NULL, *failed_text = NULL;
  g_autoptr (JsonNode) list = NULL;
  JsonObject *o;
  int rc;

  et_sdc_stop (w);
  et_sdc_start (w, extra);
  install_plugin (w, "sysinfo");
  et_tinyproxy_start (w, tp, w->port, 0, NULL, NULL);
  text = g_strdup_printf ("[agent]\nstate-dir=%s\nplugin-dir=%s/plugins\n"
                          "[plugins]\nenabled=heartbeat;sysinfo\n[activation]\nvendors=*\n"
                          "[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\ntimeout=20s\n"
                          "[proxy.1]\nurl=http://127.0.0.1:%u\n",
                          w->state_dir, w->dir, w->port, w->sdc_dir, tp);
  esa_test_write_file (w->conf, text, 0644);
  et_esad_start (w, NULL);
  et_activate (w);

  rc = et_esactl (w, &out, &err, "inventory", "send", NULL);
  g_test_message ("inventory send (%d): %s%s", rc, out, err);
  g_assert_cmpint (rc, !=, 0);
  list = et_queue_list (w);
  o = json_node_get_object (list);
  failed_text = json_to_string (json_object_get_member (o, "failed"), FALSE);
  if (json_array_get_length (json_object_get_array_member (o, "failed")) != 1)
    {
      g_autofree char *all = json_to_string (list, TRUE);
      g_printerr ("queue: %s\n", all);
    }
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "queued")), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "failed")), ==, 1);
  g_assert_nonnull (strstr (failed_text, "SDC answered 413"));
  g_assert_null (strstr (failed_text, "proxy answered"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  if (!g_file_test ("/usr/bin/tinyproxy", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("needs /usr/bin/tinyproxy (Debian package tinyproxy)");
      return 77;
    }
  g_test_add ("/transport/proxy/tinyproxy", Fixture, GINT_TO_POINTER (FALSE), fixture_setup, test_tinyproxy,
              fixture_teardown);
  g_test_add ("/transport/proxy/tinyproxy-auth", Fixture, GINT_TO_POINTER (TRUE), fixture_setup, test_tinyproxy,
              fixture_teardown);
  g_test_add ("/transport/proxy/proxy1-down", Fixture, NULL, fixture_setup, test_proxy1_down, fixture_teardown);
  g_test_add ("/transport/proxy/proxy1-bad-credentials", Fixture, NULL, fixture_setup,
              test_proxy1_bad_credentials, fixture_teardown);
  g_test_add ("/transport/proxy/all-down-then-back", Fixture, NULL, fixture_setup, test_all_proxies_down,
              fixture_teardown);
  g_test_add ("/transport/proxy/reused-tunnel-rejected", Fixture, NULL, fixture_setup,
              test_reused_tunnel_rejected, fixture_teardown);
  return g_test_run ();
}
