/* test-transport-queue.c: what happens to reports on the way out — server
 * failover, never a POST over plain HTTP, exactly-once storage at the SDC,
 * rejection to failed/ and retry, the file transport and queue export, and
 * activation (vendor check, credentials file). */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  EtWorld *w;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->w = et_world_new (NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->w, et_world_free);
}

static void
write_conf (EtWorld *w, const char *servers, const char *more)
{
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=%s\nca-file=%s/ca.pem\ntimeout=20s\n%s", servers,
                                           w->sdc_dir, more ? more : "");
  et_write_conf (w, text);
}

static char *
good_server (EtWorld *w)
{
  return g_strdup_printf ("https://localhost:%u/", w->port);
}

static JsonObject *
only_entry (JsonNode *list, const char *member)
{
  JsonArray *a = json_object_get_array_member (json_node_get_object (list), member);
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  return json_array_get_object_element (a, 0);
}

/* The primary SDC is down: the backup gets the report. */
static void
test_server_failover (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 dead = esa_test_free_port ();
  g_autofree char *servers = g_strdup_printf ("https://localhost:%u/;https://localhost:%u/", dead, w->port);
  g_autofree char *out = NULL, *err = NULL, *want = NULL;
  int rc;
  et_sdc_start (w, NULL);
  write_conf (w, servers, NULL);
  et_esad_start (w, NULL);
  et_activate (w);
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 0);
  want = g_strdup_printf ("via https://localhost:%u/ (direct): 200", w->port);
  g_assert_nonnull (strstr (out, want));
  g_assert_cmpuint (et_sdc_count_all (w), ==, 1);
}

/* http:// for uploads is refused when the config is read. */
static void
test_http_server_refused (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *servers = g_strdup_printf ("http://127.0.0.1:%u/", w->http_port);
  g_autofree char *out = NULL, *err = NULL;
  int rc;
  write_conf (w, servers, NULL);
  rc = et_esactl (w, &out, &err, "config", "check", NULL);
  g_assert_cmpint (rc, ==, 3);
  g_assert_nonnull (strstr (err, "[sdc] servers"));
  g_assert_nonnull (strstr (err, "never uploaded over plain HTTP"));
}

/* Every HTTPS route fails: esactl test fetches the config over plain HTTP,
 * and the HTTP listener never sees anything but GET. */
static void
test_http_config_fallback (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 dead = esa_test_free_port ();
  g_autofree char *servers = g_strdup_printf ("https://localhost:%u/", dead);
  g_autofree char *more = g_strdup_printf ("config-url=http://127.0.0.1:%u/esa/v1/config\n", w->http_port);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonArray *routes;
  JsonObject *last;
  int rc;

  et_sdc_start (w, NULL);
  write_conf (w, servers, more);
  et_esad_start (w, NULL);
  et_activate (w); /* with --server: the one HTTPS server that works */
  rc = et_esactl (w, &out, &err, "test", "--json", NULL);
  g_assert_cmpint (rc, ==, 6);
  g_assert_true (json_parser_load_from_data (p, out, -1, NULL));
  routes = json_object_get_array_member (json_node_get_object (json_parser_get_root (p)), "routes");
  g_assert_cmpuint (json_array_get_length (routes), ==, 2);
  g_assert_false (json_object_get_boolean_member (json_array_get_object_element (routes, 0), "ok"));
  last = json_array_get_object_element (routes, 1);
  g_assert_cmpstr (json_object_get_string_member (last, "kind"), ==, "config-fallback");
  g_assert_true (json_object_get_boolean_member (last, "ok"));
  g_assert_cmpint (json_object_get_int_member (last, "http_status"), ==, 200);

  /* A heartbeat now fails over every HTTPS route and is kept. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 6);
  g_assert_nonnull (strstr (err, "kept in queue"));

  g_assert_cmpuint (et_sdc_log_count (w, "scheme=http ", "method=GET", "path=/esa/v1/config", NULL), >=, 1);
  g_assert_cmpuint (et_sdc_log_count (w, "scheme=http ", "method=POST", NULL), ==, 0);
  g_assert_cmpuint (et_sdc_log_count (w, "scheme=http ", "method=PUT", NULL), ==, 0);
  g_assert_cmpuint (et_sdc_count_all (w), ==, 0);
}

static char *
spool_file (EtWorld *w, const char *uuid)
{
  g_autofree char *name = g_strdup_printf ("%s.json", uuid);
  return g_build_filename (w->state_dir, "spool", name, NULL);
}

/* The same report sent twice (agent crashed after the SDC stored it) is
 * stored once: the SDC deduplicates by UUID. */
static void
test_duplicate_delivery (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *server = good_server (w);
  g_autofree char *out = NULL, *err = NULL, *uuid = NULL, *spool = NULL, *saved = NULL;
  g_autoptr (JsonNode) list = NULL;
  gsize len = 0;
  int rc;

  et_sdc_start (w, NULL);
  write_conf (w, server, NULL);
  et_esad_start (w, NULL);
  et_activate (w);
  et_sdc_stop (w);
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 6);
  list = et_queue_list (w);
  uuid = g_strdup (json_object_get_string_member (only_entry (list, "queued"), "uuid"));
  spool = spool_file (w, uuid);
  g_assert_true (g_file_get_contents (spool, &saved, &len, NULL));

  et_sdc_start (w, NULL);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *o = NULL, *e = NULL;
      if (i == 1)
        {
          /* As if the agent died before removing it from the spool. */
          g_assert_false (g_file_test (spool, G_FILE_TEST_EXISTS));
          g_assert_true (g_file_set_contents (spool, saved, (gssize) len, NULL));
        }
      rc = et_esactl (w, &o, &e, "queue", "send", NULL);
      if (rc != 0)
        g_printerr ("queue send: %s%s", o, e);
      g_assert_cmpint (rc, ==, 0);
      g_assert_nonnull (strstr (o, uuid));
    }
  g_assert_cmpuint (et_sdc_log_count (w, uuid, "method=POST", "status=200", NULL), ==, 2);
  g_assert_cmpuint (et_sdc_log_count (w, uuid, "duplicate=yes", NULL), ==, 1);
  g_assert_cmpuint (et_sdc_count_uuid (w, uuid), ==, 1);
  g_assert_cmpuint (et_sdc_count_all (w), ==, 1);
}

/* A 4xx about the report (413: too large) moves it to failed/ with the
 * SDC's message; `esactl queue retry` puts it back. */
static void
test_rejected_then_retry (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *server = good_server (w);
  g_autofree char *out = NULL, *err = NULL, *uuid = NULL, *failed_dir = NULL;
  g_autoptr (JsonNode) list = NULL, list2 = NULL;
  const char *extra[] = { "--max-body=16", NULL };
  JsonObject *e;
  int rc;

  et_sdc_start (w, NULL);
  write_conf (w, server, NULL);
  et_esad_start (w, NULL);
  et_activate (w);
  et_sdc_stop (w);
  et_sdc_start (w, extra);

  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 6);
  g_assert_nonnull (strstr (err, "rejected, in failed/"));
  g_assert_nonnull (strstr (err, "413"));
  list = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (list), "queued")), ==, 0);
  e = only_entry (list, "failed");
  uuid = g_strdup (json_object_get_string_member (e, "uuid"));
  {
    g_autofree char *text = json_to_string (json_object_get_member (json_node_get_object (list), "failed"), FALSE);
    g_test_message ("failed: %s", text);
    /* The SDC's own words are kept with the report. */
    g_assert_nonnull (strstr (text, "413"));
    g_assert_nonnull (strstr (text, "exceeds the limit"));
  }
  failed_dir = g_build_filename (w->state_dir, "spool", "failed", NULL);
  g_assert_true (g_file_test (failed_dir, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (et_sdc_count_all (w), ==, 0);

  /* The SDC is fixed; the admin requeues it. */
  et_sdc_stop (w);
  et_sdc_start (w, NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "queue", "retry", uuid, NULL);
  if (rc != 0)
    g_printerr ("queue retry: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "queue", "send", NULL);
  g_assert_cmpint (rc, ==, 0);
  list2 = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (list2), "failed")), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (list2), "queued")), ==, 0);
  g_assert_cmpuint (et_sdc_count_uuid (w, uuid), ==, 1);
}

static void
assert_outbox_report (const char *outbox, const char *uuid)
{
  g_autofree char *path = g_build_filename (outbox, uuid, "report.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json_parser_get_root (p)), "uuid"), ==,
                   uuid);
}

/* [transport] type=file: reports land in the outbox, nothing on the network. */
static void
test_file_transport (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *outbox = g_build_filename (w->dir, "outbox", NULL);
  g_autofree char *more = g_strdup_printf ("[transport]\ntype=file\noutbox=%s\n", outbox);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GDir) dir = NULL;
  const char *name;
  guint n = 0;
  int rc;

  et_write_conf (w, more);
  et_esad_start (w, NULL);
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  if (rc != 0)
    g_printerr ("heartbeat: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  dir = g_dir_open (outbox, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_assert_false (g_str_has_prefix (name, ".tmp-"));
      g_assert_true (g_uuid_string_is_valid (name));
      g_assert_nonnull (strstr (out, name));
      assert_outbox_report (outbox, name);
      n++;
    }
  g_assert_cmpuint (n, ==, 1);
}

/* `esactl queue export DIR` empties the queue into DIR. */
static void
test_queue_export (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *server = good_server (w);
  g_autofree char *export = g_build_filename (w->dir, "export", NULL);
  g_autofree char *out = NULL, *err = NULL, *uuid = NULL;
  g_autoptr (JsonNode) list = NULL, list2 = NULL;
  int rc;

  write_conf (w, server, NULL);
  et_esad_start (w, NULL);
  /* Not activated: the heartbeat waits in the queue. */
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, !=, 0);
  list = et_queue_list (w);
  uuid = g_strdup (json_object_get_string_member (only_entry (list, "queued"), "uuid"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "queue", "export", export, NULL);
  if (rc != 0)
    g_printerr ("export: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "exported 1 report(s)"));
  assert_outbox_report (export, uuid);
  list2 = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (list2), "queued")), ==, 0);
}

/* A vendor outside [activation] vendors= (default IBM) is not activated. */
static void
test_activation_vendor (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *server = good_server (w);
  g_autofree char *text = g_strdup_printf ("[sdc]\nca-file=%s/ca.pem\n[activation]\n", w->sdc_dir);
  g_autofree char *out = NULL, *err = NULL, *creds = NULL;
  const char *env[] = { "ESA_FAKE_AIX_MACHINE=bull", NULL };
  int rc;

  et_sdc_start (w, NULL);
  et_write_conf (w, text);
  et_esad_start (w, env);
  rc = et_esactl (w, &out, &err, "activate", "--server", server, NULL);
  g_assert_cmpint (rc, ==, 5);
  g_assert_nonnull (strstr (err, "vendor is BULL"));
  g_assert_nonnull (strstr (err, "IBM"));
  creds = g_build_filename (w->state_dir, "credentials", NULL);
  g_assert_false (g_file_test (creds, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (et_sdc_log_count (w, "path=/esa/v1/register", NULL), ==, 0);
}

/* Credentials are 0600; deactivate removes them. */
static void
test_activation_credentials (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *server = good_server (w);
  g_autofree char *creds = g_build_filename (w->state_dir, "credentials", NULL);
  g_autofree char *out = NULL, *err = NULL;
  GStatBuf st;
  int rc;

  et_sdc_start (w, NULL);
  write_conf (w, server, NULL);
  et_esad_start (w, NULL);
  et_activate (w);
  g_assert_cmpint (g_stat (creds, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  rc = et_esactl (w, &out, &err, "status", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "activated:  ESA-"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "deactivate", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_false (g_file_test (creds, G_FILE_TEST_EXISTS));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "status", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "activated:  no"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* Without credentials nothing goes out. */
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, !=, 0);
  g_assert_cmpuint (et_sdc_count_all (w), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add ("/transport/queue/server-failover", Fixture, NULL, fixture_setup, test_server_failover,
              fixture_teardown);
  g_test_add ("/transport/queue/http-server-refused", Fixture, NULL, fixture_setup, test_http_server_refused,
              fixture_teardown);
  g_test_add ("/transport/queue/http-config-fallback", Fixture, NULL, fixture_setup, test_http_config_fallback,
              fixture_teardown);
  g_test_add ("/transport/queue/duplicate-delivery", Fixture, NULL, fixture_setup, test_duplicate_delivery,
              fixture_teardown);
  g_test_add ("/transport/queue/rejected-then-retry", Fixture, NULL, fixture_setup, test_rejected_then_retry,
              fixture_teardown);
  g_test_add ("/transport/queue/file-transport", Fixture, NULL, fixture_setup, test_file_transport,
              fixture_teardown);
  g_test_add ("/transport/queue/export", Fixture, NULL, fixture_setup, test_queue_export, fixture_teardown);
  g_test_add ("/transport/activation/vendor", Fixture, NULL, fixture_setup, test_activation_vendor,
              fixture_teardown);
  g_test_add ("/transport/activation/credentials", Fixture, NULL, fixture_setup, test_activation_credentials,
              fixture_teardown);
  return g_test_run ();
}
