/* test-snap-e2e.c: extended error data end to end — a problem reported by
 * diag makes snap collect (fake AIX snap, or the Linux collector on a fake
 * tree) and the archive arrives at esa-sdc as an attachment of a report of
 * kind extended-data whose parent is the problem; the size cap, redaction,
 * and that no temp files are left after success or failure. */
#include "config.h"

#include "esa-test-archive.h"
#include "esa-test-util.h"
#include "test-transport-util.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

static EtWorld *
world_up (const char *extra_conf, const char *const *env)
{
  EtWorld *w = et_world_new (NULL);
  g_autofree char *conf = NULL;
  et_install_plugin (w, "diag");
  et_install_plugin (w, "snap");
  conf = g_strdup_printf ("[agent]\nstate-dir=%s\nplugin-dir=%s/plugins\n"
                          "[plugins]\nenabled=diag;snap\n[activation]\nvendors=*\n"
                          "[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\n"
                          "[plugin.diag]\nwait=30s\n%s",
                          w->state_dir, w->dir, w->port, w->sdc_dir, extra_conf ? extra_conf : "");
  esa_test_write_file (w->conf, conf, 0644);
  et_sdc_start (w, NULL);
  et_esad_start (w, env);
  et_activate (w);
  return w;
}

static JsonObject *
find_kind (JsonNode *reports, const char *kind)
{
  JsonArray *a = json_node_get_array (reports);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member (o, "kind"), kind) == 0)
        return o;
    }
  return NULL;
}

/* `esactl problem test`; returns the problem's report uuid as the SDC has it. */
static char *
problem_test (EtWorld *w)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) reports = NULL;
  JsonObject *p;
  int rc = et_esactl (w, &out, &err, "problem", "test", NULL);
  if (rc != 0)
    g_printerr ("problem test: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  reports = et_sdc_reports (w);
  p = find_kind (reports, "problem");
  g_assert_nonnull (p);
  return g_strdup (json_object_get_string_member (p, "uuid"));
}

/* The extended-data report with its attachment uploaded, or NULL at the deadline. */
static JsonObject *
wait_extended (EtWorld *w, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (JsonNode) reports = et_sdc_reports (w);
      JsonObject *x = find_kind (reports, "extended-data");
      if (x != NULL)
        {
          JsonArray *atts = json_object_get_array_member (x, "attachments");
          if (json_array_get_length (atts) == 1 &&
              json_object_get_string_member_with_default (json_array_get_object_element (atts, 0), "path", NULL) != NULL)
            return json_object_ref (x);
        }
      g_usleep (200 * 1000);
    }
  return NULL;
}

/* Polls the esad log for @needle (bounded). */
static gboolean
wait_log (EtWorld *w, const char *needle, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *log = NULL;
      if (g_file_get_contents (w->esad_log, &log, NULL, NULL) && strstr (log, needle) != NULL)
        return TRUE;
      g_usleep (100 * 1000);
    }
  return FALSE;
}

/* No snap-* folder left in <state>/temp. */
static void
assert_temp_clean (EtWorld *w)
{
  g_autofree char *temp = g_build_filename (w->state_dir, "temp", NULL);
  g_autoptr (GDir) dir = g_dir_open (temp, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "snap-"))
      g_error ("left behind: %s/%s", temp, name);
}

static void
dump_log (EtWorld *w)
{
  g_autofree char *log = NULL;
  g_file_get_contents (w->esad_log, &log, NULL, NULL);
  g_printerr ("esad log:\n%s\n", log ? log : "");
}

static char *
attachment_path (EtWorld *w, JsonObject *x, const char **name, const char **content_type)
{
  JsonObject *att = json_array_get_object_element (json_object_get_array_member (x, "attachments"), 0);
  *name = json_object_get_string_member (att, "name");
  *content_type = json_object_get_string_member_with_default (att, "content_type", NULL);
  return g_build_filename (w->sdc_dir, json_object_get_string_member (att, "path"), NULL);
}

static void
test_aix (void)
{
  const char *env[] = { NULL };
  g_autoptr (EtWorld) w = world_up (NULL, env);
  g_autofree char *problem = problem_test (w);
  g_autoptr (JsonObject) x = wait_extended (w, 60);
  g_autofree char *path = NULL, *out = NULL;
  const char *name, *ctype;
  if (x == NULL)
    dump_log (w);
  g_assert_nonnull (x);
  g_assert_cmpstr (json_object_get_string_member (x, "parent"), ==, problem);
  path = attachment_path (w, x, &name, &ctype);
  g_assert_cmpstr (name, ==, "snap.pax.Z");
  g_assert_cmpstr (ctype, ==, "application/x-compress");
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  /* it is the fake snap's archive: general/general.snap inside */
  {
    g_autofree char *cmd = g_strdup_printf ("gzip -dc '%s' | tar -tf -", path);
    {
      const char *full[] = { "sh", "-c", cmd, NULL };
      g_assert_cmpint (esa_test_run (full, &out, NULL), ==, 0);
    }
  }
  g_assert_nonnull (strstr (out, "general/general.snap"));
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (x, "body"), "test"));
  assert_temp_clean (w);
}

/* POST /v1/events to esad's control socket by hand: esactl notify sends only
 * strings, but anyone allowed on the socket can send any JSON. */
static void
post_event_raw (EtWorld *w, const char *json)
{
  g_autofree char *sock = g_build_filename (w->state_dir, "run", "esad.sock", NULL);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (sock);
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *req = g_strdup_printf ("POST /v1/events HTTP/1.1\r\nHost: localhost\r\n"
                                          "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                                          "Connection: close\r\n\r\n%s", strlen (json), json);
  char buf[4096];
  gsize n = 0;
  conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), req,
                                            strlen (req), NULL, NULL, &error));
  g_assert_true (g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf,
                                          sizeof buf - 1, &n, NULL, &error));
  buf[n] = '\0';
  g_assert_true (g_str_has_prefix (buf, "HTTP/1.1 200"));
}

/* A problem-reported event whose "test" is not a boolean (json-glib would
 * complain, fatally under G_DEBUG=fatal-criticals): taken as not a test. */
static void
test_event_test_not_boolean (void)
{
  const char *env[] = { NULL };
  g_autoptr (EtWorld) w = world_up (NULL, env);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *json = g_strdup_printf ("{\"event\":\"problem-reported\",\"data\":"
                                           "{\"uuid\":\"%s\",\"test\":{}}}", uuid);
  g_autoptr (JsonObject) x = NULL;
  post_event_raw (w, json);
  x = wait_extended (w, 60);
  if (x == NULL)
    dump_log (w);
  g_assert_nonnull (x);
  g_assert_cmpstr (json_object_get_string_member (x, "parent"), ==, uuid);
  g_assert_false (json_object_get_boolean_member (json_object_get_object_member (x, "body"), "test"));
  assert_temp_clean (w);
}

static void
test_aix_snap_fails (void)
{
  const char *env[] = { "ESA_FAKE_SNAP_FAIL=1", NULL };
  g_autoptr (EtWorld) w = world_up (NULL, env);
  g_autofree char *problem = problem_test (w);
  g_assert_true (wait_log (w, "0040-015", 60));
  assert_temp_clean (w);
  {
    g_autoptr (JsonNode) reports = et_sdc_reports (w);
    g_assert_null (find_kind (reports, "extended-data"));
  }
}

/* A Linux world on a copy of the POWER9 bare-metal tree with fake
 * systemd-detect-virt (none) and journalctl (@journal_bytes of output). */
static EtWorld *
linux_world (const char *extra_conf, guint journal_bytes, char **tmp_out)
{
  g_autofree char *tmp = esa_test_mkdtemp ("test-snap-root");
  g_autofree char *src = esa_test_src_path ("tests/fixtures/linux-root/edac-server");
  g_autofree char *bin = g_build_filename (tmp, "bin", NULL);
  g_autofree char *virt = g_build_filename (bin, "systemd-detect-virt", NULL);
  g_autofree char *journal = g_build_filename (bin, "journalctl", NULL);
  g_autofree char *root = g_build_filename (tmp, "edac-server", NULL);
  g_autofree char *sysroot_env = g_strdup_printf ("ESA_SYSROOT=%s", root);
  g_autofree char *path_env = g_strdup_printf ("ESA_COMMAND_PATH=%s", bin);
  g_autofree char *jscript = g_strdup_printf ("#!/bin/sh\nhead -c %u /dev/zero | tr '\\0' 'j'\necho\n", journal_bytes);
  g_autofree char *conf = g_strdup_printf ("[plugin.snap]\nconfig-files=/etc/esa/esa.conf;/etc/hosts\n%s",
                                           extra_conf ? extra_conf : "");
  const char *cp[] = { "cp", "-R", src, tmp, NULL };
  const char *env[] = { sysroot_env, path_env, NULL };
  EtWorld *w;
  g_assert_cmpint (esa_test_run (cp, NULL, NULL), ==, 0);
  esa_test_write_file (virt, "#!/bin/sh\necho none\nexit 1\n", 0755);
  esa_test_write_file (journal, jscript, 0755);
  g_unsetenv ("ESA_PLATFORM");
  w = world_up (conf, env);
  g_setenv ("ESA_PLATFORM", "aix", TRUE);
  *tmp_out = g_steal_pointer (&tmp);
  return w;
}


/* SIGKILL: no shutdown, whatever the run was doing stays as it was. */
static void
kill_esad (EtWorld *w)
{
  g_subprocess_force_exit (w->esad);
  g_subprocess_wait (w->esad, NULL, NULL);
  g_clear_object (&w->esad);
}

static guint
count_kind (EtWorld *w, const char *kind)
{
  g_autoptr (JsonNode) reports = et_sdc_reports (w);
  JsonArray *a = json_node_get_array (reports);
  guint n = 0;
  for (guint i = 0; i < json_array_get_length (a); i++)
    n += g_strcmp0 (json_object_get_string_member (json_array_get_object_element (a, i), "kind"), kind) == 0;
  return n;
}

/* esad is killed (SIGKILL) while snap collects for a reported problem: the
 * pending run was written to <state>/events/ when the event was emitted, so
 * the restarted esad runs it and the extended data arrives, once (issue 10
 * item 5). */
static void
test_aix_killed_mid_snap (void)
{
  g_autoptr (EtWorld) w = NULL;
  g_autofree char *pid_file = NULL;
  g_autofree char *pid_env = NULL;
  g_autofree char *pid_text = NULL;
  g_autofree char *problem = NULL;
  g_autofree char *events = NULL;
  g_autoptr (JsonObject) x = NULL;
  gint64 deadline;
  gint64 snap_pid;
  g_autofree char *tmp = esa_test_mkdtemp ("esa-slow");

  pid_file = g_build_filename (tmp, "snap.pid", NULL);
  pid_env = g_strdup_printf ("ESA_FAKE_SLOW_PIDFILE=%s", pid_file);
  {
    const char *env[] = { "ESA_FAKE_SLOW=snap:30", pid_env, NULL };
    w = world_up (NULL, env);
  }
  problem = problem_test (w);
  /* snap is collecting (asleep in the fake command) */
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!g_file_get_contents (pid_file, &pid_text, NULL, NULL))
    {
      if (g_get_monotonic_time () > deadline)
        dump_log (w);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
    }
  snap_pid = g_ascii_strtoll (pid_text, NULL, 10);
  events = g_build_filename (w->state_dir, "events", NULL);
  g_assert_true (g_file_test (events, G_FILE_TEST_IS_DIR));

  kill_esad (w);
  /* the orphaned fake snap (its own process group) goes too */
  g_assert_cmpint (snap_pid, >, 1);
  kill (-(pid_t) snap_pid, SIGKILL);
  g_assert_cmpuint (count_kind (w, "extended-data"), ==, 0);

  et_esad_start (w, NULL);
  x = wait_extended (w, 60);
  if (x == NULL)
    dump_log (w);
  g_assert_nonnull (x);
  g_assert_cmpstr (json_object_get_string_member (x, "parent"), ==, problem);
  /* once: nothing more comes */
  g_usleep (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (count_kind (w, "extended-data"), ==, 1);
  g_assert_cmpuint (count_kind (w, "problem"), ==, 1);
  /* and the finished run left nothing pending */
  {
    g_autoptr (GDir) dir = g_dir_open (events, 0, NULL);
    g_assert_nonnull (dir);
    g_assert_null (g_dir_read_name (dir));
  }
  esa_test_rmtree (tmp);
}

/* The report files waiting in @w's spool (queued or in failed/). */
static guint
spool_reports (EtWorld *w)
{
  const char *const folders[] = { "spool", "spool/failed", NULL };
  guint n = 0;
  for (guint i = 0; folders[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (w->state_dir, folders[i], NULL);
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        n += strstr (name, ".json") != NULL;
    }
  return n;
}

/* esad SIGKILLed while the snap run for a reported problem stands at @point
 * (test hook ESA_TEST_STALL, core/esa-dispatcher.c), its event record still
 * in <state>/events/: before the enqueue ("event-run-intent"), with the
 * report committed to the spool but not yet noted as queued
 * ("event-run-committed"), or after the job returned — its report queued
 * and, @delivered, already stored at the SDC — but before its record was
 * removed ("event-run-returned", the window of issue 10's soak). The restarted
 * esad resumes the run, and exactly one extended-data report for the
 * problem reaches the SDC, nothing stays in the spool (not in failed/
 * either: no second upload was refused), and the record is gone. */
static void
killed_at (const char *point, gboolean delivered, const char *noted, gboolean again)
{
  g_autofree char *stall = g_strdup_printf ("ESA_TEST_STALL=%s", point);
  g_autofree char *needle = g_strdup_printf ("stalled at %s", point);
  g_autofree char *events = NULL;
  g_autofree char *problem = NULL;
  g_autofree char *first = NULL;
  g_autoptr (EtWorld) w = NULL;
  g_autoptr (JsonObject) x = NULL;
  g_autofree char *record = NULL;
  gint64 deadline;
  {
    const char *env[] = { stall, NULL };
    w = world_up (NULL, env);
  }
  problem = problem_test (w);
  if (!wait_log (w, needle, 60))
    dump_log (w);
  g_assert_true (wait_log (w, needle, 60));
  if (delivered)
    {
      x = wait_extended (w, 60);
      g_assert_nonnull (x);
      first = g_strdup (json_object_get_string_member (x, "uuid"));
      g_clear_pointer (&x, json_object_unref);
    }
  else
    g_assert_cmpuint (count_kind (w, "extended-data"), ==, 0);
  events = g_build_filename (w->state_dir, "events", NULL);
  {
    g_autoptr (GDir) dir = g_dir_open (events, 0, NULL);
    const char *name;
    g_assert_nonnull (dir);
    name = g_dir_read_name (dir);
    g_assert_nonnull (name);
    {
      g_autofree char *path = g_build_filename (events, name, NULL);
      g_assert_true (g_file_get_contents (path, &record, NULL, NULL));
    }
  }
  kill_esad (w);

  et_esad_start (w, NULL);
  x = wait_extended (w, 60);
  if (x == NULL)
    dump_log (w);
  g_assert_nonnull (x);
  g_assert_cmpstr (json_object_get_string_member (x, "parent"), ==, problem);
  if (first != NULL)
    g_assert_cmpstr (json_object_get_string_member (x, "uuid"), ==, first);
  /* the resumed run has finished: its record is gone */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (GDir) dir = g_dir_open (events, 0, NULL);
      if (dir == NULL || g_dir_read_name (dir) == NULL)
        break;
      if (g_get_monotonic_time () > deadline)
        dump_log (w);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100 * 1000);
    }
  /* whatever the resumed run queued would be sent at once: give it time */
  g_usleep (2 * G_USEC_PER_SEC);
  if (count_kind (w, "extended-data") != 1 || spool_reports (w) != 0)
    dump_log (w);
  g_assert_cmpuint (count_kind (w, "extended-data"), ==, 1);
  g_assert_cmpuint (count_kind (w, "problem"), ==, 1);
  g_assert_cmpuint (spool_reports (w), ==, 0);
  /* the resumed run knew its report was queued (committed: found in the
   * spool at start, before the sender could deliver it and the run queue it
   * again) — or, before the enqueue, that it was not */
  {
    g_autofree char *log = NULL;
    g_assert_true (g_file_get_contents (w->esad_log, &log, NULL, NULL));
    if ((strstr (log, "not queued again") != NULL) != again)
      dump_log (w);
    g_assert_cmpint (strstr (log, "not queued again") != NULL, ==, again);
  }
  /* the record said how far the report had come when esad died */
  {
    g_autofree char *state = g_strdup_printf ("\"parent\":\"%s\",\"state\":\"%s\"", problem, noted);
    if (strstr (record, state) == NULL)
      g_printerr ("record: %s\n", record);
    g_assert_nonnull (strstr (record, state));
  }
}

static void
test_killed_before_enqueue (void)
{
  killed_at ("event-run-intent", FALSE, "intent", FALSE);
}

static void
test_killed_committed (void)
{
  killed_at ("event-run-committed", FALSE, "intent", TRUE);
}

static void
test_killed_after_queued (void)
{
  killed_at ("event-run-returned", TRUE, "queued", TRUE);
}

static void
test_linux (void)
{
  g_autofree char *tmp = NULL;
  g_autoptr (EtWorld) w = linux_world (NULL, 1000, &tmp);
  g_autofree char *problem = problem_test (w);
  g_autoptr (JsonObject) x = wait_extended (w, 60);
  g_autofree char *path = NULL;
  g_autoptr (GHashTable) files = NULL;
  const char *name, *ctype, *conf;
  if (x == NULL)
    dump_log (w);
  g_assert_nonnull (x);
  g_assert_cmpstr (json_object_get_string_member (x, "parent"), ==, problem);
  path = attachment_path (w, x, &name, &ctype);
  g_assert_cmpstr (name, ==, "openesa-snap.tar.gz");
  g_assert_cmpstr (ctype, ==, "application/gzip");
  files = esa_test_read_archive (path);
  g_assert_true (g_hash_table_contains (files, "openesa-snap/manifest.json"));
  g_assert_true (g_hash_table_contains (files, "openesa-snap/etc/os-release"));
  g_assert_true (g_hash_table_contains (files, "openesa-snap/commands/journal-24h.txt"));
  conf = g_hash_table_lookup (files, "openesa-snap/config/etc/esa/esa.conf");
  g_assert_nonnull (conf);
  g_assert_nonnull (strstr (conf, "password=***"));
  g_assert_null (strstr (conf, "hunter2"));
  g_assert_null (strstr (conf, "abc123"));
  assert_temp_clean (w);
  esa_test_rmtree (tmp);
}

static void
test_linux_cap (void)
{
  g_autofree char *tmp = NULL;
  /* a 2 MB journal against a 1 MB cap: the journal is dropped, the rest goes */
  g_autoptr (EtWorld) w = linux_world ("max-size=1048576\n", 2 * 1024 * 1024, &tmp);
  g_autofree char *problem = problem_test (w);
  g_autoptr (JsonObject) x = wait_extended (w, 60);
  g_autofree char *path = NULL, *notes = NULL;
  g_autoptr (GHashTable) files = NULL;
  const char *name, *ctype;
  if (x == NULL)
    dump_log (w);
  g_assert_nonnull (x);
  path = attachment_path (w, x, &name, &ctype);
  files = esa_test_read_archive (path);
  g_assert_false (g_hash_table_contains (files, "openesa-snap/commands/journal-24h.txt"));
  g_assert_true (g_hash_table_contains (files, "openesa-snap/etc/os-release"));
  {
    g_autoptr (JsonNode) n = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (n, json_object_get_object_member (x, "body"));
    notes = json_to_string (n, FALSE);
  }
  g_assert_nonnull (strstr (notes, "dropped"));
  g_assert_nonnull (strstr (notes, "journal-24h.txt"));
  assert_temp_clean (w);
  esa_test_rmtree (tmp);
}

static void
test_linux_cap_fails (void)
{
  g_autofree char *tmp = NULL;
  /* even the required items do not fit 4 KiB: a clear failure, nothing sent, nothing left */
  g_autoptr (EtWorld) w = linux_world ("max-size=4096\n", 1000, &tmp);
  g_autofree char *problem = problem_test (w);
  g_assert_true (wait_log (w, "max-size=4096", 60));
  assert_temp_clean (w);
  {
    g_autoptr (JsonNode) reports = et_sdc_reports (w);
    g_assert_null (find_kind (reports, "extended-data"));
  }
  esa_test_rmtree (tmp);
}

/* Every extended-data report with its attachment uploaded, oldest first. */
static GPtrArray *
wait_extended_n (EtWorld *w, guint n, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (JsonNode) reports = et_sdc_reports (w);
      JsonArray *a = json_node_get_array (reports);
      GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonObject *o = json_array_get_object_element (a, i);
          JsonArray *atts;
          if (g_strcmp0 (json_object_get_string_member (o, "kind"), "extended-data") != 0)
            continue;
          atts = json_object_get_array_member (o, "attachments");
          if (json_array_get_length (atts) == 1 &&
              json_object_get_string_member_with_default (json_array_get_object_element (atts, 0), "path", NULL) != NULL)
            g_ptr_array_add (found, json_object_ref (o));
        }
      if (found->len >= n || g_get_monotonic_time () > deadline)
        return found;
      g_ptr_array_unref (found);
      g_usleep (200 * 1000);
    }
}

/* All members of an archive joined, to look for what must not be there. */
static char *
all_text (GHashTable *files)
{
  GString *s = g_string_new (NULL);
  GHashTableIter iter;
  gpointer k, v;
  g_hash_table_iter_init (&iter, files);
  while (g_hash_table_iter_next (&iter, &k, &v))
    g_string_append_printf (s, "== %s\n%s\n", (const char *) k, (const char *) v);
  return g_string_free (s, FALSE);
}

/* Issue 12, redaction on AIX too: snap's archive is sent redacted, the
 * machine's host name and address as tokens that stay the same from one
 * run (and esad) to the next; the map stays in the state folder, 0600,
 * and is not in the archive. */
static void
test_aix_redacted (void)
{
  const char *env[] = { NULL };
  g_autoptr (EtWorld) w = world_up (NULL, env);
  g_autofree char *map = g_build_filename (w->state_dir, "plugins", "snap", "redaction-map.json", NULL);
  g_autoptr (GPtrArray) xs = NULL;
  g_autoptr (GHashTable) first = NULL;
  g_autoptr (GHashTable) second = NULL;
  g_autofree char *text1 = NULL, *text2 = NULL, *map_text = NULL, *p1 = NULL, *p2 = NULL;
  g_autofree char *problem1 = NULL, *problem2 = NULL;
  const char *name, *ctype;
  const char *host1, *host2, *snap1;
  GStatBuf st;

  problem1 = problem_test (w);
  xs = wait_extended_n (w, 1, 60);
  if (xs->len < 1)
    dump_log (w);
  g_assert_cmpuint (xs->len, ==, 1);
  p1 = attachment_path (w, g_ptr_array_index (xs, 0), &name, &ctype);
  g_assert_cmpstr (name, ==, "snap.pax.Z");
  g_assert_cmpstr (ctype, ==, "application/x-compress");
  first = esa_test_read_archive (p1);
  text1 = all_text (first);
  /* nothing of the machine's identity or secrets left */
  g_assert_null (strstr (text1, "aixp9"));
  g_assert_null (strstr (text1, "10.1.2.9"));
  g_assert_null (strstr (text1, "fd00:10:1::53"));
  g_assert_null (strstr (text1, "s3cr3t-bind"));
  g_assert_nonnull (strstr (text1, "bindpassword:***"));
  host1 = g_hash_table_lookup (first, "general/hostname.out");
  g_assert_nonnull (host1);
  g_assert_true (g_str_has_prefix (host1, "host-"));
  snap1 = g_hash_table_lookup (first, "general/prtconf.out");
  g_assert_nonnull (strstr (snap1, "IP Address: ip-"));
  /* what is not identifying stays: software levels, the machine type */
  g_assert_nonnull (strstr (text1, "9009-42A"));
  g_assert_nonnull (strstr (g_hash_table_lookup (first, "general/general.snap"), "7.3."));

  /* the map: local, 0600, holds the values, and is not in the archive */
  g_assert_cmpint (g_stat (map, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (map, &map_text, NULL, NULL));
  g_assert_nonnull (strstr (map_text, "\"aixp9\""));
  g_assert_nonnull (strstr (map_text, "\"10.1.2.9\""));
  g_assert_null (strstr (text1, "redaction-map"));
  g_assert_null (strstr (text1, "\"aixp9\""));

  /* another run, by another esad: the same tokens */
  et_esad_stop (w);
  et_esad_start (w, env);
  problem2 = g_strdup (problem1);
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (et_esactl (w, &out, &err, "problem", "test", NULL), ==, 0);
  }
  g_clear_pointer (&xs, g_ptr_array_unref);
  xs = wait_extended_n (w, 2, 60);
  if (xs->len < 2)
    dump_log (w);
  g_assert_cmpuint (xs->len, ==, 2);
  p2 = attachment_path (w, g_ptr_array_index (xs, 1), &name, &ctype);
  second = esa_test_read_archive (p2);
  text2 = all_text (second);
  host2 = g_hash_table_lookup (second, "general/hostname.out");
  g_assert_cmpstr (host1, ==, host2);
  {
    const char *a = strstr (snap1, "IP Address: ");
    const char *b = strstr (g_hash_table_lookup (second, "general/prtconf.out"), "IP Address: ");
    g_autofree char *la = g_strndup (a, strcspn (a, "\n"));
    g_autofree char *lb = g_strndup (b, strcspn (b, "\n"));
    g_assert_cmpstr (la, ==, lb);
  }
  g_assert_null (strstr (text2, "aixp9"));
  assert_temp_clean (w);
}

int
main (int argc, char **argv)
{
  et_init_env ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/snap-e2e/aix", test_aix);
  g_test_add_func ("/snap-e2e/aix-redacted", test_aix_redacted);
  g_test_add_func ("/snap-e2e/aix-snap-fails", test_aix_snap_fails);
  g_test_add_func ("/snap-e2e/aix-killed-mid-snap", test_aix_killed_mid_snap);
  g_test_add_func ("/snap-e2e/killed-before-enqueue", test_killed_before_enqueue);
  g_test_add_func ("/snap-e2e/killed-committed", test_killed_committed);
  g_test_add_func ("/snap-e2e/killed-after-queued", test_killed_after_queued);
  g_test_add_func ("/snap-e2e/event-test-not-boolean", test_event_test_not_boolean);
  g_test_add_func ("/snap-e2e/linux", test_linux);
  g_test_add_func ("/snap-e2e/linux-cap", test_linux_cap);
  g_test_add_func ("/snap-e2e/linux-cap-fails", test_linux_cap_fails);
  return g_test_run ();
}
