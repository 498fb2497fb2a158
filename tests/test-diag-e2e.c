/* test-diag-e2e.c: the diag plugin end to end — esa-sdc over TLS, esad with
 * the diag (and snap) plugins, esactl notify / problem list|show|test|scan,
 * on the fake AIX machines (stand-alone POWER9, POWER10 LPAR) and on Linux
 * with a fake EDAC tree. */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

/* An SDC, the plugins, a config enabling @plugins, esad with @env, activated. */
static EtWorld *
world_up (const char *plugins, const char *extra_conf, const char *const *env)
{
  EtWorld *w = et_world_new (NULL);
  g_autofree char *conf = NULL;
  et_install_plugin (w, "diag");
  et_install_plugin (w, "snap");
  conf = g_strdup_printf ("[agent]\nstate-dir=%s\nplugin-dir=%s/plugins\n"
                          "[plugins]\nenabled=%s\n[activation]\nvendors=*\n"
                          "[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\n%s",
                          w->state_dir, w->dir, plugins, w->port, w->sdc_dir, extra_conf ? extra_conf : "");
  esa_test_write_file (w->conf, conf, 0644);
  et_sdc_start (w, NULL);
  et_esad_start (w, env);
  et_activate (w);
  return w;
}

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_data (p, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (p));
}

static JsonArray *
problem_list (EtWorld *w, JsonNode **keep)
{
  g_autofree char *out = NULL, *err = NULL;
  int rc = et_esactl (w, &out, &err, "--json", "problem", "list", NULL);
  if (rc != 0)
    g_printerr ("problem list: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  *keep = parse (out);
  return json_node_get_array (*keep);
}

/* Waits (bounded) until problem @id exists and is no longer pending/queued. */
static JsonObject *
wait_problem (EtWorld *w, guint n_expected)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (JsonNode) keep = NULL;
      JsonArray *a = problem_list (w, &keep);
      if (json_array_get_length (a) >= n_expected)
        {
          JsonObject *o = json_array_get_object_element (a, n_expected - 1);
          const char *st = json_object_get_string_member (o, "status");
          if (!g_str_equal (st, "pending") && !g_str_equal (st, "queued"))
            return json_object_ref (o);
        }
      g_usleep (100 * 1000);
    }
  {
    g_autofree char *log = NULL;
    g_file_get_contents (w->esad_log, &log, NULL, NULL);
    g_printerr ("esad log:\n%s\n", log);
  }
  g_assert_not_reached ();
  return NULL;
}

static guint
sdc_count_kind (EtWorld *w, const char *kind, JsonObject **last)
{
  g_autoptr (JsonNode) n = et_sdc_reports (w);
  JsonArray *a = json_node_get_array (n);
  guint count = 0;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member (o, "kind"), kind) == 0)
        {
          count++;
          if (last != NULL)
            {
              g_clear_pointer (last, json_object_unref);
              *last = json_object_ref (o);
            }
        }
    }
  return count;
}

static void
notify_disk (EtWorld *w)
{
  g_autofree char *out = NULL, *err = NULL;
  int rc = et_esactl (w, &out, &err, "notify", "--errlog-seq", "1234", "--error-id", "B6267342", "--class", "H",
                      "--type", "PERM", "--resource", "hdisk1", "--label", "SC_DISK_ERR2", NULL);
  if (rc != 0)
    g_printerr ("notify: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
}

static void
test_aix_standalone (void)
{
  const char *env[] = { NULL };
  g_autoptr (EtWorld) w = world_up ("diag", NULL, env);
  g_autoptr (JsonObject) p = NULL;
  g_autoptr (JsonObject) dup = NULL;
  g_autoptr (JsonObject) rep = NULL;
  g_autofree char *out = NULL, *err = NULL;
  JsonObject *body;
  const char *sr;

  notify_disk (w);
  p = wait_problem (w, 1);
  g_assert_cmpstr (json_object_get_string_member (p, "status"), ==, "reported");
  g_assert_cmpstr (json_object_get_string_member (p, "srn"), ==, "2D02-127");
  g_assert_cmpstr (json_object_get_string_member (p, "resource"), ==, "hdisk1");
  sr = json_object_get_string_member (p, "service_request");
  g_assert_true (g_str_has_prefix (sr, "SR"));

  /* the people's table shows it */
  g_assert_cmpint (et_esactl (w, &out, &err, "problem", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "2D02-127"));
  g_assert_nonnull (strstr (out, sr));
  g_assert_nonnull (strstr (out, "hdisk1"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "problem", "show", "1", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "00E1234"));
  g_assert_nonnull (strstr (out, "85%"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "problem", "show", "99", NULL), !=, 0);

  /* the SDC has it with SRN, FRUs, the errpt record and the platform */
  g_assert_cmpuint (sdc_count_kind (w, "problem", &rep), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (rep, "service_request"), ==, sr);
  body = json_object_get_object_member (rep, "body");
  g_assert_cmpstr (json_object_get_string_member (body, "srn"), ==, "2D02-127");
  g_assert_false (json_object_get_boolean_member (body, "test"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (body, "frus")), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (body, "errlog"), "label"), ==,
                   "SC_DISK_ERR2");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (body, "platform"), "serial"), ==,
                   "78ABCDE");

  /* the same error again within the window: recorded, not reported */
  notify_disk (w);
  dup = wait_problem (w, 2);
  g_assert_cmpstr (json_object_get_string_member (dup, "status"), ==, "duplicate");
  g_assert_cmpint (json_object_get_int_member (dup, "duplicate_of"), ==, 1);
  g_assert_cmpuint (sdc_count_kind (w, "problem", NULL), ==, 1);

  /* survives a restart of esad */
  et_esad_stop (w);
  et_esad_start (w, env);
  {
    g_autoptr (JsonNode) keep = NULL;
    JsonArray *a = problem_list (w, &keep);
    g_assert_cmpuint (json_array_get_length (a), ==, 2);
  }
}

/* Issue 10 item 3, a kill between the two steps: esad died after writing the
 * pending entry and before the report reached the queue. The next occurrence
 * must be reported, not taken for a duplicate of a report that never left. */
static void
test_pending_left_by_crash (void)
{
  const char *env[] = { NULL };
  g_autoptr (EtWorld) w = world_up ("diag", NULL, env);
  g_autofree char *log_path = g_build_filename (w->state_dir, "plugins", "diag", "problems.json", NULL);
  g_autofree char *left = g_strdup_printf (
      "{\"version\": 1, \"next_id\": 2, \"problems\": [{\"id\": 1, \"status\": \"pending\", "
      "\"key\": \"2D02-127\", \"srn\": \"2D02-127\", \"resource\": \"hdisk1\", "
      "\"uuid\": \"0b5e3f7c-1111-4222-8333-944455556666\", \"test\": false, "
      "\"time_unix\": %" G_GINT64_FORMAT "}]}",
      g_get_real_time () / G_USEC_PER_SEC);
  g_autoptr (JsonObject) p = NULL;
  et_esad_stop (w);
  esa_test_write_file (log_path, left, 0600);
  et_esad_start (w, env);
  notify_disk (w);
  p = wait_problem (w, 2);
  g_assert_cmpstr (json_object_get_string_member (p, "status"), ==, "reported");
  g_assert_cmpuint (sdc_count_kind (w, "problem", NULL), ==, 1);
  {
    g_autoptr (JsonNode) keep = NULL;
    JsonObject *first = json_array_get_object_element (problem_list (w, &keep), 0);
    g_assert_cmpstr (json_object_get_string_member (first, "status"), ==, "failed");
  }
}

static gboolean
log_has (EtWorld *w, const char *needle)
{
  g_autofree char *log = NULL;
  return g_file_get_contents (w->esad_log, &log, NULL, NULL) && strstr (log, needle) != NULL;
}

/* Fills the file system holding @path; returns how many bytes were written. */
static gsize
fill_disk (const char *path)
{
  static char chunk[4096];
  gsize total = 0;
  FILE *f = fopen (path, "w");
  g_assert_nonnull (f);
  setvbuf (f, NULL, _IONBF, 0);
  while (fwrite (chunk, 1, sizeof chunk, f) == sizeof chunk)
    total += sizeof chunk;
  while (fwrite (chunk, 1, 1, f) == 1)
    total++;
  fclose (f);
  return total;
}

/* Issue 10 item 3, enqueue failure: the state folder is full when a problem
 * comes (neither the problem log nor the spool can be written). Once there is
 * room again, the next occurrence must be reported. Needs a small tmpfs, so
 * root (CI runs as root). */
static void
test_enqueue_fails_disk_full (void)
{
  const char *env[] = { NULL };
  g_autoptr (EtWorld) w = world_up ("diag", NULL, env);
  g_autofree char *saved = g_strconcat (w->state_dir, ".saved", NULL);
  g_autofree char *filler = g_build_filename (w->state_dir, "filler", NULL);
  g_autofree char *copy_from = g_strconcat (saved, "/.", NULL);
  g_autoptr (JsonObject) p = NULL;
  const char *cp_argv[] = { "cp", "-a", copy_from, w->state_dir, NULL };
  g_autofree char *why = NULL;
  gint64 deadline;

  et_esad_stop (w);
  g_assert_cmpint (g_rename (w->state_dir, saved), ==, 0);
  g_assert_cmpint (g_mkdir (w->state_dir, 0700), ==, 0);
  if (!esa_test_mount_tmpfs (w->state_dir, "2m", &why))
    {
      g_test_skip (why);
      return;
    }
  g_assert_cmpint (esa_test_run (cp_argv, NULL, NULL), ==, 0);
  et_esad_start (w, env);

  g_assert_cmpuint (fill_disk (filler), >, 0);
  notify_disk (w);
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!log_has (w, "not reported") && g_get_monotonic_time () < deadline)
    g_usleep (100 * 1000);
  g_assert_true (log_has (w, "not reported"));
  g_assert_cmpuint (sdc_count_kind (w, "problem", NULL), ==, 0);

  /* room again: the next occurrence goes out */
  g_assert_cmpint (g_unlink (filler), ==, 0);
  notify_disk (w);
  p = wait_problem (w, 1);
  g_assert_cmpstr (json_object_get_string_member (p, "status"), ==, "reported");
  g_assert_cmpuint (sdc_count_kind (w, "problem", NULL), ==, 1);

  et_esad_stop (w);
  esa_test_umount (w->state_dir);
}

static void
test_aix_window (void)
{
  const char *env[] = { NULL };
  g_autoptr (EtWorld) w = world_up ("diag", "[plugin.diag]\ndedup-window=1s\n", env);
  g_autoptr (JsonObject) a = NULL;
  g_autoptr (JsonObject) b = NULL;
  notify_disk (w);
  a = wait_problem (w, 1);
  g_assert_cmpstr (json_object_get_string_member (a, "status"), ==, "reported");
  g_usleep (1100 * 1000);
  notify_disk (w);
  b = wait_problem (w, 2);
  g_assert_cmpstr (json_object_get_string_member (b, "status"), ==, "reported");
  g_assert_cmpstr (json_object_get_string_member (a, "service_request"), !=,
                   json_object_get_string_member (b, "service_request"));
  g_assert_cmpuint (sdc_count_kind (w, "problem", NULL), ==, 2);
}

static void
test_aix_lpar (void)
{
  const char *env[] = { "ESA_FAKE_AIX_MACHINE=p10-lpar", NULL };
  g_autoptr (EtWorld) w = world_up ("diag", NULL, env);
  g_autoptr (JsonObject) p = NULL;
  g_autofree char *out = NULL, *err = NULL;
  notify_disk (w);
  p = wait_problem (w, 1);
  g_assert_cmpstr (json_object_get_string_member (p, "status"), ==, "not-reported");
  g_assert_cmpstr (json_object_get_string_member (p, "reason"), ==, "LPAR");
  g_assert_cmpint (et_esactl (w, &out, &err, "problem", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "not reported: LPAR"));
  g_assert_cmpuint (sdc_count_kind (w, "problem", NULL), ==, 0);
}

static void
test_problem_test (void)
{
  const char *env[] = { NULL };
  g_autoptr (EtWorld) w = world_up ("diag", "[plugin.diag]\nwait=5s\n", env);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonObject) rep = NULL;
  int rc = et_esactl (w, &out, &err, "problem", "test", NULL);
  if (rc != 0)
    g_printerr ("problem test: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "reported SR"));
  g_assert_cmpuint (sdc_count_kind (w, "problem", &rep), ==, 1);
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (rep, "body"), "test"));
  g_assert_nonnull (strstr (out, json_object_get_string_member (rep, "service_request")));

  /* SDC gone: not delivered, non-zero exit, and it says so */
  et_sdc_stop (w);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "problem", "test", NULL);
  g_assert_cmpint (rc, !=, 0);
  g_assert_nonnull (strstr (out, "not delivered"));
}

/* esactl preview problem-test: the body `esactl problem test` then sends,
 * member for member but local_id (the preview writes no problem log, so it
 * has no number), built without acting: no problem log entry, nothing
 * queued, nothing at the SDC. */
static void
test_preview_problem_test (void)
{
  const char *env[] = { NULL };
  g_autoptr (EtWorld) w = world_up ("diag", "[plugin.diag]\nwait=5s\n", env);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) prev = NULL, q = NULL, keep = NULL;
  g_autoptr (JsonObject) rep = NULL;
  g_autoptr (JsonNode) a = NULL, b = NULL;
  JsonObject *r, *pbody, *sbody;
  JsonArray *reports;
  int rc = et_esactl (w, &out, &err, "--json", "preview", "problem-test", NULL);
  g_test_message ("preview problem-test: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  prev = parse (out);
  reports = json_object_get_array_member (json_node_get_object (prev), "reports");
  g_assert_cmpuint (json_array_get_length (reports), ==, 1);
  r = json_array_get_object_element (reports, 0);
  g_assert_cmpstr (json_object_get_string_member (r, "kind"), ==, "problem");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (r, "attachments")), ==, 0);
  pbody = json_object_get_object_member (json_object_get_object_member (r, "body"), "body");
  g_assert_true (json_object_get_boolean_member (pbody, "test"));
  g_assert_false (json_object_has_member (pbody, "local_id"));
  /* it changed nothing */
  g_assert_cmpuint (json_array_get_length (problem_list (w, &keep)), ==, 0);
  g_assert_cmpuint (et_sdc_count_all (w), ==, 0);
  q = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (q), "queued")), ==, 0);

  /* now for real: the SDC stores the same body */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "problem", "test", NULL), ==, 0);
  g_assert_cmpuint (sdc_count_kind (w, "problem", &rep), ==, 1);
  sbody = json_object_get_object_member (rep, "body");
  g_assert_cmpint (json_object_get_int_member (sbody, "local_id"), ==, 1);
  json_object_remove_member (sbody, "local_id");
  a = json_node_init_object (json_node_alloc (), sbody);
  b = json_node_init_object (json_node_alloc (), pbody);
  if (!json_node_equal (a, b))
    {
      g_autofree char *ta = json_to_string (a, TRUE), *tb = json_to_string (b, TRUE);
      g_error ("stored %s\npreview %s", ta, tb);
    }
  g_assert_cmpstr (json_object_get_string_member (rep, "plugin"),
                   ==, json_object_get_string_member (json_object_get_object_member (r, "body"), "plugin"));
}

static char *
copy_tree (const char *name, const char *into)
{
  g_autofree char *src = esa_test_src_path (name);
  const char *argv[] = { "cp", "-R", src, into, NULL };
  g_autofree char *base = g_path_get_basename (src);
  g_assert_cmpint (esa_test_run (argv, NULL, NULL), ==, 0);
  return g_build_filename (into, base, NULL);
}

static void
test_linux_edac (void)
{
  g_autofree char *tmp = esa_test_mkdtemp ("test-diag-root");
  g_autofree char *root = copy_tree ("tests/fixtures/linux-root/edac-server", tmp);
  g_autofree char *sysroot_env = g_strdup_printf ("ESA_SYSROOT=%s", root);
  g_autofree char *bin = g_build_filename (tmp, "bin", NULL);
  g_autofree char *virt = g_build_filename (bin, "systemd-detect-virt", NULL);
  g_autofree char *path_env = g_strdup_printf ("ESA_COMMAND_PATH=%s", bin);
  g_autofree char *ue = g_build_filename (root, "sys/devices/system/edac/mc/mc0/ue_count", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (EtWorld) w = NULL;
  g_autoptr (JsonObject) p = NULL;
  g_autoptr (JsonObject) rep = NULL;
  const char *env[] = { sysroot_env, path_env, NULL };

  /* bare metal, whatever runs the test */
  esa_test_write_file (virt, "#!/bin/sh\necho none\nexit 1\n", 0755);
  g_unsetenv ("ESA_PLATFORM");
  w = world_up ("diag", NULL, env);
  g_setenv ("ESA_PLATFORM", "aix", TRUE);
  g_assert_cmpint (et_esactl (w, &out, &err, "problem", "scan", NULL), ==, 0);
  /* the edac-watch job may have taken the baseline already */
  g_assert_nonnull (strstr (out, "2 memory controllers checked"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  esa_test_write_file (ue, "2\n", 0644);
  g_assert_cmpint (et_esactl (w, &out, &err, "problem", "scan", NULL), ==, 0);
  if (strstr (out, "EDAC-UE on mc0: reported SR") == NULL)
    g_printerr ("scan: %s%s", out, err);
  g_assert_nonnull (strstr (out, "EDAC-UE on mc0: reported SR"));
  p = wait_problem (w, 1);
  g_assert_cmpstr (json_object_get_string_member (p, "code"), ==, "EDAC-UE");
  g_assert_cmpuint (sdc_count_kind (w, "problem", &rep), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (rep, "body"), "source"), ==, "edac");

  /* a watcher (rasdaemon trigger) can hand over an event the same way */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "notify", "--source", "rasdaemon", "--label", "MC_UE", "--resource",
                              "mc1", NULL), ==, 0);
  g_clear_pointer (&p, json_object_unref);
  p = wait_problem (w, 2);
  g_assert_cmpstr (json_object_get_string_member (p, "status"), ==, "reported");
  g_assert_cmpstr (json_object_get_string_member (p, "code"), ==, "MC_UE");
  esa_test_rmtree (tmp);
}

int
main (int argc, char **argv)
{
  et_init_env ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/diag-e2e/aix-standalone", test_aix_standalone);
  g_test_add_func ("/diag-e2e/aix-window", test_aix_window);
  g_test_add_func ("/diag-e2e/pending-left-by-crash", test_pending_left_by_crash);
  g_test_add_func ("/diag-e2e/enqueue-fails-disk-full", test_enqueue_fails_disk_full);
  g_test_add_func ("/diag-e2e/aix-lpar", test_aix_lpar);
  g_test_add_func ("/diag-e2e/problem-test", test_problem_test);
  g_test_add_func ("/diag-e2e/preview-problem-test", test_preview_problem_test);
  g_test_add_func ("/diag-e2e/linux-edac", test_linux_edac);
  return g_test_run ();
}
