/* test-transport-queue.c: what happens to reports on the way out — server
 * failover, never a POST over plain HTTP, exactly-once storage at the SDC,
 * rejection to failed/ and retry, the file transport and queue export, and
 * activation (vendor check, credentials file). */
#include "config.h"

#include "esa-queue.h"
#include "esa-test-util.h"
#include "test-transport-util.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
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

/* With [sdc] servers=@servers, a heartbeat must reach the real SDC (the
 * last server, https://localhost:PORT/) and be stored exactly once. */
static void
assert_reaches_last_server (EtWorld *w, const char *servers)
{
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

/* The primary SDC is down: the backup gets the report. */
static void
test_server_failover (Fixture *f, gconstpointer data)
{
  guint16 dead = esa_test_free_port ();
  g_autofree char *servers = g_strdup_printf ("https://localhost:%u/;https://localhost:%u/", dead, f->w->port);
  assert_reaches_last_server (f->w, servers);
}

/* A server that does not serve the API at its URL (404) is a wrong address,
 * not a verdict on the report: the next server gets it. */
static void
test_wrong_url_next_server (Fixture *f, gconstpointer data)
{
  g_autofree char *servers = g_strdup_printf ("https://localhost:%u/not-here/;https://localhost:%u/",
                                              f->w->port, f->w->port);
  assert_reaches_last_server (f->w, servers);
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

  /* A heartbeat fails over every configured HTTPS route, then goes to a
   * server the config-url names (https only) and is stored once. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_cmpuint (et_sdc_count_all (w), ==, 1);
  /* esactl info shows what the fallback did */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "info", NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "fallback: "));
  g_assert_nonnull (strstr (out, "trying https://"));

  g_assert_cmpuint (et_sdc_log_count (w, "scheme=http ", "method=GET", "path=/esa/v1/config", NULL), >=, 1);
  g_assert_cmpuint (et_sdc_log_count (w, "scheme=http ", "method=POST", NULL), ==, 0);
  g_assert_cmpuint (et_sdc_log_count (w, "scheme=http ", "method=PUT", NULL), ==, 0);
}

static char *
spool_file (EtWorld *w, const char *uuid)
{
  /* <creation stamp>-<uuid>.json: the names sort in sending order */
  g_autofree char *dir = g_build_filename (w->state_dir, "spool", NULL);
  g_autofree char *suffix = g_strdup_printf ("-%s.json", uuid);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, suffix))
      return g_build_filename (dir, name, NULL);
  g_assert_not_reached ();
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
          et_esad_stop (w);
          g_assert_true (g_file_set_contents (spool, saved, (gssize) len, NULL));
          et_esad_start (w, NULL);
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

/* Puts a problem report with one attachment (@len bytes of 'x') straight
 * into esad's spool, as the queue does; returns its uuid. */
static char *
spool_report_with_attachment (EtWorld *w, gsize len)
{
  g_autofree char *spool = g_build_filename (w->state_dir, "spool", NULL);
  g_autofree char *src = g_build_filename (w->dir, "snap.bin", NULL);
  g_autofree char *data = g_malloc (len);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = NULL;
  g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_PROBLEM, "diag");
  memset (data, 'x', len);
  g_assert_true (g_file_set_contents (src, data, (gssize) len, &error));
  queue = esa_queue_open (spool, &error);
  g_assert_no_error (error);
  g_assert_true (esa_report_add_attachment (r, src, NULL, &error));
  g_assert_true (esa_queue_enqueue (queue, r, &error));
  g_assert_no_error (error);
  return g_strdup (esa_report_get_uuid (r));
}

/* Issue 10 item 7: the SHA-256 is kept at enqueue and the spool copy is
 * checked against it before sending. A truncated copy goes to failed/ with
 * the reason and nothing reaches the SDC; a same-size change is refused by
 * the SDC on the stored checksum, so it is never stored as complete. */
static void
test_changed_attachment_not_sent (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *server = good_server (w);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *truncated = NULL, *changed = NULL;
  g_autoptr (JsonNode) list = NULL;
  JsonArray *failed;

  et_sdc_start (w, NULL);
  write_conf (w, server, NULL);
  et_esad_start (w, NULL);
  et_activate (w);
  et_esad_stop (w);

  truncated = spool_report_with_attachment (w, 100000);
  changed = spool_report_with_attachment (w, 100000);
  {
    g_autofree char *t = g_strdup_printf ("%s/spool/%s.d/snap.bin", w->state_dir, truncated);
    g_autofree char *c = g_strdup_printf ("%s/spool/%s.d/snap.bin", w->state_dir, changed);
    g_autofree char *same_size = g_malloc (100000);
    memset (same_size, 'y', 100000);
    g_assert_true (g_file_set_contents (t, "xxxx", 4, NULL));
    g_assert_true (g_file_set_contents (c, same_size, 100000, NULL));
  }
  et_esad_start (w, NULL);
  et_esactl (w, &out, &err, "queue", "send", NULL);
  g_test_message ("queue send: %s%s", out, err);
  list = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (list), "queued")), ==, 0);
  failed = json_object_get_array_member (json_node_get_object (list), "failed");
  g_assert_cmpuint (json_array_get_length (failed), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *e = json_array_get_object_element (failed, i);
      const char *reason = json_object_get_string_member (e, "failed_reason");
      g_test_message ("%s: %s", json_object_get_string_member (e, "uuid"), reason);
      if (g_str_equal (json_object_get_string_member (e, "uuid"), truncated))
        g_assert_nonnull (strstr (reason, "4 bytes in the spool, 100000 when it was queued"));
      else
        g_assert_nonnull (strstr (reason, "SHA-256"));
    }
  /* The truncated one never left; neither attachment is stored at the SDC. */
  g_assert_cmpuint (et_sdc_count_uuid (w, truncated), ==, 0);
  {
    g_autoptr (JsonNode) reports = et_sdc_reports (w);
    g_autofree char *text = json_to_string (reports, FALSE);
    g_test_message ("sdc: %s", text);
    /* The one report that reached it has its attachment announced, never received. */
    g_assert_nonnull (strstr (text, "\"received_sha256\":null"));
    g_assert_null (strstr (text, "\"received_sha256\":\""));
  }
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

/* One heartbeat queued (not activated); returns its uuid. */
static char *
queue_one (EtWorld *w)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_assert_cmpint (et_esactl (w, &out, &err, "heartbeat", NULL), !=, 0);
  list = et_queue_list (w);
  return g_strdup (json_object_get_string_member (only_entry (list, "queued"), "uuid"));
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* A planted DIR/.tmp-<uuid> symlink to a victim's folder: the export removes
 * the symlink itself, never the victim's files, and writes nothing there. */
static void
test_export_tmp_symlink (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *server = good_server (w);
  g_autofree char *export = g_build_filename (w->dir, "export", NULL);
  g_autofree char *victim = g_build_filename (w->dir, "victim", NULL);
  g_autofree char *precious = g_build_filename (victim, "precious", NULL);
  g_autofree char *uuid = NULL, *tmp = NULL, *out = NULL, *err = NULL;
  g_autoptr (JsonNode) list = NULL;
  int rc;

  write_conf (w, server, NULL);
  et_esad_start (w, NULL);
  uuid = queue_one (w);
  g_assert_cmpint (g_mkdir_with_parents (victim, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (export, 0755), ==, 0);
  esa_test_write_file (precious, "mine\n", 0644);
  tmp = g_strdup_printf ("%s/.tmp-%s", export, uuid);
  g_assert_cmpint (symlink (victim, tmp), ==, 0);
  rc = et_esactl (w, &out, &err, "queue", "export", export, NULL);
  if (rc != 0)
    g_printerr ("export: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (g_file_test (precious, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (count_entries (victim), ==, 1);
  g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
  assert_outbox_report (export, uuid);
  list = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (list), "queued")), ==, 0);
}

/* A symlinked DIR/<uuid>: not "exported before" — the export fails, says
 * why, writes nothing through it, and the report stays queued. */
static void
test_export_final_symlink (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *server = good_server (w);
  g_autofree char *export = g_build_filename (w->dir, "export", NULL);
  g_autofree char *elsewhere = g_build_filename (w->dir, "elsewhere", NULL);
  g_autofree char *uuid = NULL, *final = NULL, *out = NULL, *err = NULL;
  g_autoptr (JsonNode) list = NULL;
  int rc;

  write_conf (w, server, NULL);
  et_esad_start (w, NULL);
  uuid = queue_one (w);
  g_assert_cmpint (g_mkdir_with_parents (elsewhere, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (export, 0755), ==, 0);
  final = g_build_filename (export, uuid, NULL);
  g_assert_cmpint (symlink (elsewhere, final), ==, 0);
  rc = et_esactl (w, &out, &err, "queue", "export", export, NULL);
  if (rc == 0 || strstr (err, "symlink") == NULL)
    g_printerr ("export (%d): %s%s", rc, out, err);
  g_assert_cmpint (rc, !=, 0);
  g_assert_nonnull (strstr (err, "symlink"));
  g_assert_cmpuint (count_entries (elsewhere), ==, 0);
  list = et_queue_list (w);
  g_assert_cmpstr (json_object_get_string_member (only_entry (list, "queued"), "uuid"), ==, uuid);
  /* Once the admin removes it, the export works. */
  g_assert_cmpint (g_unlink (final), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "queue", "export", export, NULL), ==, 0);
  assert_outbox_report (export, uuid);
}

/* Credentials naming an http:// server and no [sdc] servers=: a local
 * misroute. Every report stays queued (none "rejected" into failed/), esactl
 * status says why, and fixing the config delivers them. */
static void
test_misroute_kept (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *ca = g_strdup_printf ("[sdc]\nca-file=%s/ca.pem\ntimeout=20s\n", w->sdc_dir);
  g_autofree char *creds_path = g_build_filename (w->state_dir, "credentials", NULL);
  g_autofree char *http = g_strdup_printf ("http://127.0.0.1:%u/", w->http_port);
  g_autofree char *server = good_server (w);
  g_autofree char *text = NULL, *out = NULL, *err = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (GError) error = NULL;
  JsonArray *queued;
  int rc;

  et_sdc_start (w, NULL);
  et_write_conf (w, ca);
  et_esad_start (w, NULL);
  et_activate (w);
  et_esad_stop (w);
  g_assert_true (g_file_get_contents (creds_path, &text, NULL, &error));
  g_assert_true (json_parser_load_from_data (p, text, -1, &error));
  json_object_set_string_member (json_node_get_object (json_parser_get_root (p)), "server", http);
  g_free (text);
  text = json_to_string (json_parser_get_root (p), TRUE);
  esa_test_write_file (creds_path, text, 0600);

  et_esad_start (w, NULL);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *hout = NULL, *herr = NULL;
      rc = et_esactl (w, &hout, &herr, "heartbeat", NULL);
      if (rc != 6 || strstr (herr, "not https://") == NULL)
        g_printerr ("heartbeat (%d): %s%s", rc, hout, herr);
      g_assert_cmpint (rc, ==, 6);
      g_assert_nonnull (strstr (herr, "kept in queue"));
      g_assert_nonnull (strstr (herr, "not https://"));
    }
  list = et_queue_list (w);
  queued = json_object_get_array_member (json_node_get_object (list), "queued");
  g_assert_cmpuint (json_array_get_length (queued), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (list), "failed")), ==, 0);
  rc = et_esactl (w, &out, &err, "status", NULL);
  g_assert_cmpint (rc, ==, 0);
  if (strstr (out, "BLOCKED") == NULL)
    g_printerr ("status: %s", out);
  g_assert_nonnull (strstr (out, "delivery:   BLOCKED"));
  g_assert_nonnull (strstr (out, http));
  g_assert_nonnull (strstr (out, "[sdc] servers="));
  g_assert_cmpuint (et_sdc_log_count (w, "method=POST", "path=/esa/v1/heartbeat", NULL), ==, 0);
  et_esad_stop (w);

  /* The admin fixes the config: everything goes out, once. */
  write_conf (w, server, NULL);
  et_esad_start (w, NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "queue", "send", NULL);
  if (rc != 0)
    g_printerr ("queue send (%d): %s%s", rc, out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_cmpuint (et_sdc_count_all (w), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "status", NULL), ==, 0);
  g_assert_null (strstr (out, "BLOCKED"));
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

/* A fake SDC: TLS with the real SDC's certificate, and one canned answer to
 * every request, to feed the agent answers a real SDC never gives. */
typedef struct {
  GTlsCertificate *cert;
  GSocketListener *listener;
  GCancellable *stop;
  guint status;
  const char *body;
} FakeSdc;

static gboolean
fake_sdc_answer (FakeSdc *fake, GSocketConnection *conn)
{
  g_autoptr (GIOStream) tls = g_tls_server_connection_new (G_IO_STREAM (conn), fake->cert, NULL);
  g_autoptr (GString) req = g_string_new (NULL);
  g_autofree char *head = NULL;
  GInputStream *in;
  const char *end, *cl;
  gsize want = 0;
  char buf[4096];
  gssize n;

  if (tls == NULL || !g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, NULL))
    return TRUE;
  in = g_io_stream_get_input_stream (tls);
  /* Headers, then Content-Length bytes of body. */
  for (;;)
    {
      end = strstr (req->str, "\r\n\r\n");
      if (end != NULL)
        {
          cl = g_strstr_len (req->str, end - req->str, "Content-Length: ");
          want = cl != NULL ? (gsize) g_ascii_strtoull (cl + strlen ("Content-Length: "), NULL, 10) : 0;
          if (req->len >= (gsize) (end - req->str) + 4 + want)
            break;
        }
      n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL);
      if (n <= 0)
        return TRUE;
      g_string_append_len (req, buf, n);
    }
  head = g_strdup_printf ("HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                          "Connection: close\r\n\r\n%s",
                          fake->status, fake->status == 200 ? "OK" : "Bad Request", strlen (fake->body), fake->body);
  g_output_stream_write_all (g_io_stream_get_output_stream (tls), head, strlen (head), NULL, NULL, NULL);
  g_io_stream_close (tls, NULL, NULL);
  return TRUE;
}

/* Accepts until cancelled (esactl blocks the test's main loop, so not a GSocketService). */
static gpointer
fake_sdc_thread (gpointer user_data)
{
  FakeSdc *fake = user_data;
  for (;;)
    {
      g_autoptr (GSocketConnection) conn = g_socket_listener_accept (fake->listener, NULL, fake->stop, NULL);
      if (conn == NULL)
        return NULL;
      fake_sdc_answer (fake, conn);
    }
}

/* A raw request on esad's control socket; returns the whole HTTP answer. */
static char *
control_raw (EtWorld *w, const char *path, const char *body)
{
  g_autofree char *sock = g_build_filename (w->state_dir, "run", "esad.sock", NULL);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (sock);
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *req = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: esad\r\nContent-Type: application/json\r\n"
                                          "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                          path, strlen (body), body);
  g_autoptr (GString) answer = g_string_new (NULL);
  char buf[4096];
  gssize n;
  conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), req, strlen (req), NULL, NULL, &error);
  g_assert_no_error (error);
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (answer, buf, n);
  return g_string_free (g_steal_pointer (&answer), FALSE);
}

static void
assert_esad_alive (EtWorld *w)
{
  g_autofree char *out = NULL, *err = NULL;
  int rc = et_esactl (w, &out, &err, "status", NULL);
  if (rc != 0)
    g_printerr ("status: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
}

/* SDC answers and control requests are outside input: a member of the wrong
 * type is refused with a reason, never a json-glib critical that kills esad. */
static void
test_odd_json (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *cert_path = g_build_filename (w->sdc_dir, "server.pem", NULL);
  g_autofree char *key_path = g_build_filename (w->sdc_dir, "server-key.pem", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GSocketAddress) any = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autofree char *server = NULL, *answer = NULL;
  g_autofree char *out = NULL, *err = NULL;
  FakeSdc fake = { 0 };
  GThread *thread;
  int rc;

  fake.cert = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  any = g_inet_socket_address_new (lo, 0);
  g_socket_listener_add_address (listener, any, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  fake.listener = listener;
  fake.stop = g_cancellable_new ();
  fake.status = 200;
  fake.body = "{}";
  thread = g_thread_new ("fake-sdc", fake_sdc_thread, &fake);
  server = g_strdup_printf ("https://localhost:%u/", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  write_conf (w, server, NULL);
  et_esad_start (w, NULL);

  /* A register answer whose system_id is an object. */
  fake.status = 200;
  fake.body = "{\"system_id\":{\"id\":1},\"password\":[\"x\"]}";
  rc = et_esactl (w, &out, &err, "activate", "--server", server, NULL);
  g_test_message ("activate: %s%s", out, err);
  g_assert_cmpint (rc, !=, 0);
  g_assert_nonnull (strstr (err, "no system_id/password"));
  assert_esad_alive (w);

  /* An error answer whose message is an object. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  fake.status = 400;
  fake.body = "{\"error\":{\"code\":\"x\",\"message\":{\"text\":\"no\"}}}";
  rc = et_esactl (w, &out, &err, "activate", "--server", server, NULL);
  g_test_message ("activate: %s%s", out, err);
  g_assert_cmpint (rc, !=, 0);
  g_assert_nonnull (strstr (err, "SDC answered 400"));
  assert_esad_alive (w);

  /* A control request whose "keep" is an array. */
  answer = control_raw (w, "/v1/queue/export", "{\"dir\":\"/nonexistent-esa-export\",\"keep\":[]}");
  g_test_message ("export: %s", answer);
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 400"));
  g_assert_nonnull (strstr (answer, "keep: expected boolean"));
  assert_esad_alive (w);

  et_esad_stop (w);
  g_cancellable_cancel (fake.stop);
  g_thread_join (thread);
  g_socket_listener_close (listener);
  g_object_unref (fake.stop);
  g_object_unref (fake.cert);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add ("/transport/queue/server-failover", Fixture, NULL, fixture_setup, test_server_failover,
              fixture_teardown);
  g_test_add ("/transport/queue/wrong-url-next-server", Fixture, NULL, fixture_setup, test_wrong_url_next_server,
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
  g_test_add ("/transport/queue/export-tmp-symlink", Fixture, NULL, fixture_setup, test_export_tmp_symlink,
              fixture_teardown);
  g_test_add ("/transport/queue/export-final-symlink", Fixture, NULL, fixture_setup, test_export_final_symlink,
              fixture_teardown);
  g_test_add ("/transport/queue/misroute-kept", Fixture, NULL, fixture_setup, test_misroute_kept, fixture_teardown);
  g_test_add ("/transport/queue/changed-attachment-not-sent", Fixture, NULL, fixture_setup,
              test_changed_attachment_not_sent, fixture_teardown);
  g_test_add ("/transport/activation/vendor", Fixture, NULL, fixture_setup, test_activation_vendor,
              fixture_teardown);
  g_test_add ("/transport/activation/credentials", Fixture, NULL, fixture_setup, test_activation_credentials,
              fixture_teardown);
  g_test_add ("/transport/odd-json", Fixture, NULL, fixture_setup, test_odd_json, fixture_teardown);
  return g_test_run ();
}
