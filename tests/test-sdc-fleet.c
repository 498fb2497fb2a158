/* test-sdc-fleet.c: two esa-sdc instances sharing one PostgreSQL database behave as one
 * SDC. An agent with both in servers= delivers a queue of problem reports with
 * attachments; the first instance is SIGKILLed mid-upload; the agent fails over to the
 * second. At the database: every report the queue held is stored exactly once with its
 * attachments, the system is registered once, and the instances sign UAKs with one key. */
#include "config.h"

#include "esa-test-util.h"
#include "sdc-test-pg.h"
#include "test-transport-util.h"

#include <signal.h>
#include <string.h>

static char *
sdc_json (const char *db, const char *what)
{
  g_autofree char *sdc = et_bin ("sdc/esa-sdc");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = { sdc, what, "--db", db, "--json", NULL };
  if (esa_test_run (argv, &out, &err) != 0)
    g_error ("esa-sdc %s: %s", what, err);
  return g_steal_pointer (&out);
}

static JsonArray *
parse_array (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  return json_array_ref (json_node_get_array (json_parser_get_root (p)));
}

static void
test_two_instances (void)
{
  g_autofree char *why = NULL;
  g_autofree char *db = esa_test_pg_new_database (&why);
  g_autoptr (EtWorld) w = NULL;
  g_autofree char *db_arg = NULL;
  g_autofree char *dir_b = NULL;
  g_autofree char *log_b = NULL;
  g_autofree char *listen_b = NULL;
  g_autofree char *servers = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *sdc = NULL;
  g_autofree char *systems_text = NULL;
  g_autofree char *reports_text = NULL;
  g_autofree char *log_b_text = NULL;
  g_autoptr (GPtrArray) uuids = NULL;
  g_autoptr (JsonArray) systems = NULL;
  g_autoptr (JsonArray) reports = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GSubprocess *b;
  guint16 port_b;
  gint64 deadline;
  guint at_a = 0;

  if (db == NULL)
    {
      g_test_skip (why);
      return;
    }
  w = et_world_new (NULL);
  db_arg = g_strdup_printf ("--db=%s", db);
  sdc = et_bin ("sdc/esa-sdc");

  /* B: the same certificates (copied), its own UAK key file; the database's key wins */
  dir_b = g_build_filename (w->dir, "sdc-b", NULL);
  {
    g_autofree char *scratch = g_build_filename (w->dir, "scratch-init", NULL);
    g_autofree char *src = g_build_filename (scratch, "uak-key.pem", NULL);
    g_autofree char *dst = g_build_filename (dir_b, "uak-key.pem", NULL);
    const char *cp[] = { "cp", "-a", w->sdc_dir, dir_b, NULL };
    const char *init[] = { sdc, "init", scratch, NULL };
    g_autofree char *key = NULL;
    g_assert_cmpint (esa_test_run (cp, NULL, NULL), ==, 0);
    g_assert_cmpint (esa_test_run (init, NULL, NULL), ==, 0);
    g_assert_true (g_file_get_contents (src, &key, NULL, NULL));
    esa_test_write_file (dst, key, 0600);
  }
  {
    const char *extra[] = { db_arg, NULL };
    et_sdc_start (w, extra);
  }
  port_b = esa_test_free_port ();
  listen_b = g_strdup_printf ("--listen=127.0.0.1:%u", port_b);
  log_b = g_build_filename (w->dir, "sdc-b.log", NULL);
  {
    const char *argv[] = { sdc, "serve", "--dir", dir_b, db_arg, listen_b, NULL };
    b = esa_test_spawn (log_b, argv);
    g_ptr_array_add (w->procs, b);
  }
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", port_b, 10000));

  servers = g_strdup_printf ("https://localhost:%u/;https://127.0.0.1:%u/", w->port, port_b);
  conf = g_strdup_printf ("[sdc]\nservers=%s\nca-file=%s/ca.pem\ntimeout=20s\n"
                          "[queue]\nbackoff-min=1s\nbackoff-max=2s\n",
                          servers, w->sdc_dir);
  et_write_conf (w, conf);
  et_esad_start (w, NULL);
  et_activate (w);
  et_esad_stop (w);
  uuids = et_enqueue_reports (w, 40);

  /* deliver, and kill A once it has stored some of the queue */
  et_esad_start (w, NULL);
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while ((at_a = et_sdc_log_count (w, "path=/esa/v1/attachment/", "status=200", NULL)) < 6 &&
         g_get_monotonic_time () < deadline)
    g_usleep (5000);
  g_assert_cmpuint (at_a, >=, 6);
  g_subprocess_send_signal (w->sdc, SIGKILL);
  g_subprocess_wait (w->sdc, NULL, NULL);
  g_clear_object (&w->sdc);

  /* everything else goes to B */
  deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (JsonNode) q = et_queue_list (w);
      JsonObject *o = json_node_get_object (q);
      guint pending = json_array_get_length (json_object_get_array_member (o, "queued"));
      if (pending == 0)
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("%u reports still queued", pending);
      g_usleep (100000);
    }

  /* at the database: one system, every queued report once, every attachment stored */
  systems_text = sdc_json (db, "systems");
  systems = parse_array (systems_text);
  g_assert_cmpuint (json_array_get_length (systems), ==, 1);
  reports_text = sdc_json (db, "reports");
  reports = parse_array (reports_text);
  for (guint i = 0; i < json_array_get_length (reports); i++)
    {
      JsonObject *r = json_array_get_object_element (reports, i);
      const char *uuid = json_object_get_string_member (r, "uuid");
      JsonArray *atts = json_object_get_array_member (r, "attachments");
      g_assert_false (g_hash_table_contains (seen, uuid));
      g_hash_table_add (seen, (gpointer) uuid);
      if (g_strcmp0 (json_object_get_string_member (r, "kind"), "problem") != 0)
        continue;
      g_assert_cmpuint (json_array_get_length (atts), ==, 2);
      for (guint j = 0; j < 2; j++)
        g_assert_false (json_object_get_null_member (json_array_get_object_element (atts, j), "path"));
    }
  for (guint i = 0; i < uuids->len; i++)
    if (!g_hash_table_contains (seen, g_ptr_array_index (uuids, i)))
      g_error ("report %s was queued but is not in the database", (char *) g_ptr_array_index (uuids, i));
  /* B took over */
  g_assert_cmpuint (g_hash_table_size (seen), >=, uuids->len);
  g_assert_true (g_file_get_contents (log_b, &log_b_text, NULL, NULL));
  g_assert_nonnull (strstr (log_b_text, "path=/esa/v1/problem status=200"));
  /* one UAK signing key: B found its own file differs and signs with the database's */
  g_assert_nonnull (strstr (log_b_text, "differs from the UAK signing key in the database"));
  g_test_message ("%u reports queued, %u stored at A before it was killed", uuids->len, at_a);
}

int
main (int argc, char **argv)
{
  int rc;
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/sdc-fleet/two-instances", test_two_instances);
  rc = g_test_run ();
  esa_test_pg_stop ();
  return rc;
}
