/* test-diag.c: the diag plugin's helpers — problem log (duplicates, window,
 * restart, damaged file), EDAC counters (real fixture tree and malformed
 * files), and the AIX errpt/diag runs against the fake commands. */
#include "config.h"

#include "esa-test-util.h"
#include "diag-aix.h"
#include "diag-commands.h"
#include "diag-edac.h"
#include "diag-problem-log.h"

#include <esa/esa-error.h>
#include <glib/gstdio.h>
#include <string.h>

static JsonObject *
pending (const char *key, const char *resource)
{
  JsonObject *e = json_object_new ();
  json_object_set_string_member (e, "status", DIAG_STATUS_PENDING);
  json_object_set_string_member (e, "key", key);
  json_object_set_string_member (e, "srn", key);
  json_object_set_string_member (e, "resource", resource);
  return e;
}

static void
test_log_dedup (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-diag");
  g_autofree char *path = g_build_filename (dir, "problems.json", NULL);
  g_autoptr (DiagProblemLog) log = diag_problem_log_new (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) e = NULL;
  g_autoptr (JsonObject) changes = json_object_new ();
  g_autofree char *text = NULL;
  gint64 now = 1700000000;
  guint a, b, c, d, t;

  a = diag_problem_log_add (log, pending ("2D02-127", "hdisk1"), 3600, now, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a, ==, 1);
  json_object_set_string_member (changes, "status", DIAG_STATUS_REPORTED);
  json_object_set_string_member (changes, "service_request", "SR00000001");
  json_object_set_string_member (changes, "uuid", "u-1");
  g_assert_true (diag_problem_log_update (log, a, changes, &error));

  /* same SRN, same resource, inside the window: duplicate of a */
  b = diag_problem_log_add (log, pending ("2D02-127", "hdisk1"), 3600, now + 60, &error);
  e = diag_problem_log_get (log, b);
  g_assert_cmpstr (json_object_get_string_member (e, "status"), ==, DIAG_STATUS_DUPLICATE);
  g_assert_cmpint (json_object_get_int_member (e, "duplicate_of"), ==, a);
  text = diag_problem_status_text (e);
  g_assert_cmpstr (text, ==, "duplicate of 1");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&e, json_object_unref);

  /* other resource / after the window: new problems */
  c = diag_problem_log_add (log, pending ("2D02-127", "hdisk0"), 3600, now + 60, &error);
  e = diag_problem_log_get (log, c);
  g_assert_cmpstr (json_object_get_string_member (e, "status"), ==, DIAG_STATUS_PENDING);
  g_clear_pointer (&e, json_object_unref);
  d = diag_problem_log_add (log, pending ("2D02-127", "hdisk1"), 3600, now + 3600, &error);
  e = diag_problem_log_get (log, d);
  g_assert_cmpstr (json_object_get_string_member (e, "status"), ==, DIAG_STATUS_PENDING);
  g_clear_pointer (&e, json_object_unref);

  /* tests are never duplicates */
  {
    JsonObject *te = pending ("TEST", "sys0");
    json_object_set_boolean_member (te, "test", TRUE);
    t = diag_problem_log_add (log, te, 3600, now, &error);
    te = pending ("TEST", "sys0");
    json_object_set_boolean_member (te, "test", TRUE);
    t = diag_problem_log_add (log, te, 3600, now + 1, &error);
    e = diag_problem_log_get (log, t);
    g_assert_cmpstr (json_object_get_string_member (e, "status"), ==, DIAG_STATUS_PENDING);
    g_clear_pointer (&e, json_object_unref);
  }

  /* late delivery fills in the SR number */
  json_object_remove_member (changes, "service_request");
  json_object_set_string_member (changes, "status", DIAG_STATUS_QUEUED);
  json_object_set_string_member (changes, "uuid", "u-4");
  g_assert_true (diag_problem_log_update (log, d, changes, &error));
  g_assert_true (diag_problem_log_delivered (log, "u-4", "SR00000002", &error));
  g_assert_false (diag_problem_log_delivered (log, "nope", "SR1", &error));
  g_assert_no_error (error);
  /* the reporter's "still pending? then queued" must not undo a delivery
   * recorded meanwhile by the delivered callback */
  {
    g_autoptr (JsonObject) queued = json_object_new ();
    json_object_set_string_member (queued, "status", DIAG_STATUS_QUEUED);
    json_object_set_string_member (queued, "reason", "timed out");
    g_assert_true (diag_problem_log_update_if_status (log, d, DIAG_STATUS_PENDING, queued, &error));
    g_assert_no_error (error);
    e = diag_problem_log_get (log, d);
    g_assert_cmpstr (json_object_get_string_member (e, "status"), ==, DIAG_STATUS_REPORTED);
    g_assert_false (json_object_has_member (e, "reason"));
    g_clear_pointer (&e, json_object_unref);
    g_assert_true (diag_problem_log_update_if_status (log, c, DIAG_STATUS_PENDING, queued, &error));
    e = diag_problem_log_get (log, c);
    g_assert_cmpstr (json_object_get_string_member (e, "status"), ==, DIAG_STATUS_QUEUED);
    g_clear_pointer (&e, json_object_unref);
  }

  /* survives a restart */
  {
    g_autoptr (DiagProblemLog) again = diag_problem_log_new (path);
    g_autoptr (JsonArray) list = diag_problem_log_list (again);
    g_autofree char *table = NULL;
    g_assert_cmpuint (json_array_get_length (list), ==, 6);
    e = diag_problem_log_get (again, d);
    text = diag_problem_status_text (e);
    g_assert_cmpstr (text, ==, "reported SR00000002");
    table = diag_commands_format_list (list);
    g_assert_nonnull (strstr (table, "STATUS"));
    g_assert_nonnull (strstr (table, "duplicate of 1"));
    g_assert_nonnull (strstr (table, "reported SR00000001"));
    /* ids keep counting */
    g_assert_cmpuint (diag_problem_log_add (again, pending ("X", "y"), 0, now, &error), ==, 7);
  }
  esa_test_rmtree (dir);
}

static const char *
status_of (DiagProblemLog *log, guint id)
{
  g_autoptr (JsonObject) e = diag_problem_log_get (log, id);
  static char buf[32];
  g_assert_nonnull (e);
  g_strlcpy (buf, json_object_get_string_member (e, "status"), sizeof buf);
  return buf;
}

/* Issue 10 item 3: a pending entry whose report never reached the queue
 * (esad killed between the two steps, enqueue or log write failed) must not
 * suppress the next occurrence for the dedup window. */
static void
test_log_pending_not_original (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-diag");
  g_autofree char *path = g_build_filename (dir, "problems.json", NULL);
  g_autoptr (DiagProblemLog) log = diag_problem_log_new (path);
  g_autoptr (GError) error = NULL;
  gint64 now = 1700000000;
  guint a, b, c;

  /* while this process is still reporting a, a second occurrence is a duplicate */
  a = diag_problem_log_add (log, pending ("2D02-127", "hdisk1"), 3600, now, &error);
  g_assert_no_error (error);
  b = diag_problem_log_add (log, pending ("2D02-127", "hdisk1"), 3600, now + 1, &error);
  g_assert_cmpstr (status_of (log, b), ==, DIAG_STATUS_DUPLICATE);
  /* its reporter ended without recording an outcome: failed, no longer an original */
  diag_problem_log_settle (log, a);
  g_assert_cmpstr (status_of (log, a), ==, DIAG_STATUS_FAILED);
  c = diag_problem_log_add (log, pending ("2D02-127", "hdisk1"), 3600, now + 2, &error);
  g_assert_cmpstr (status_of (log, c), ==, DIAG_STATUS_PENDING);

  /* esad killed after writing the pending entry c: at the next start it is
   * reconciled to failed and the next occurrence is reported */
  {
    g_autoptr (DiagProblemLog) again = diag_problem_log_new (path);
    g_autoptr (JsonObject) e = diag_problem_log_get (again, c);
    guint d;
    g_assert_cmpstr (json_object_get_string_member (e, "status"), ==, DIAG_STATUS_FAILED);
    g_assert_cmpstr (json_object_get_string_member (e, "reason"), ==, DIAG_REASON_INTERRUPTED);
    d = diag_problem_log_add (again, pending ("2D02-127", "hdisk1"), 3600, now + 3, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (status_of (again, d), ==, DIAG_STATUS_PENDING);
    /* a pending entry written by hand (no reconcile ran in this process) is not
     * an original either: only in-flight ones are */
  }
  {
    g_autofree char *handmade = g_strdup_printf (
        "{\"version\": 1, \"next_id\": 2, \"problems\": [{\"id\": 1, \"status\": \"pending\", "
        "\"key\": \"2D02-127\", \"resource\": \"hdisk1\", \"uuid\": \"u-1\", \"time_unix\": %" G_GINT64_FORMAT "}]}",
        now);
    g_autoptr (DiagProblemLog) fresh = NULL;
    guint e;
    esa_test_write_file (path, handmade, 0600);
    fresh = diag_problem_log_new (path);
    g_assert_cmpstr (status_of (fresh, 1), ==, DIAG_STATUS_FAILED);
    e = diag_problem_log_add (fresh, pending ("2D02-127", "hdisk1"), 3600, now + 10, &error);
    g_assert_cmpuint (e, ==, 2);
    g_assert_cmpstr (status_of (fresh, e), ==, DIAG_STATUS_PENDING);
    /* the report was queued after all: its delivery still finds the entry */
    g_assert_true (diag_problem_log_delivered (fresh, "u-1", "SR00000009", &error));
    g_assert_cmpstr (status_of (fresh, 1), ==, DIAG_STATUS_REPORTED);
  }

  /* the log cannot be written (disk full, folder gone): the entry is not kept
   * in memory as an original either */
  {
    g_autofree char *gone = g_build_filename (dir, "gone", NULL);
    g_autofree char *gone_path = g_build_filename (gone, "problems.json", NULL);
    g_autoptr (DiagProblemLog) full = NULL;
    g_autoptr (JsonArray) list = NULL;
    guint f;
    g_assert_cmpint (g_mkdir (gone, 0700), ==, 0);
    full = diag_problem_log_new (gone_path);
    g_assert_cmpint (g_rmdir (gone), ==, 0);
    g_assert_cmpuint (diag_problem_log_add (full, pending ("2D02-127", "hdisk1"), 3600, now, &error), ==, 0);
    g_assert_error (error, ESA_ERROR, ESA_ERROR_FAILED);
    g_clear_error (&error);
    list = diag_problem_log_list (full);
    g_assert_cmpuint (json_array_get_length (list), ==, 0);
    g_assert_cmpint (g_mkdir (gone, 0700), ==, 0);
    f = diag_problem_log_add (full, pending ("2D02-127", "hdisk1"), 3600, now + 1, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (status_of (full, f), ==, DIAG_STATUS_PENDING);
  }
  esa_test_rmtree (dir);
}

static void
test_log_damaged (void)
{
  const char *bad[] = { "", "not json", "[1,2]", "{\"problems\": 3}", "{\"problems\": [{\"id\": \"x\"}, 5]}", NULL };
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autofree char *dir = esa_test_mkdtemp ("test-diag");
      g_autofree char *path = g_build_filename (dir, "problems.json", NULL);
      g_autofree char *moved = g_strconcat (path, ".bad", NULL);
      g_autoptr (DiagProblemLog) log = NULL;
      g_autoptr (JsonArray) list = NULL;
      g_autoptr (GError) error = NULL;
      esa_test_write_file (path, bad[i], 0600);
      if (i < 4)
        g_test_expect_message ("esa-diag", G_LOG_LEVEL_WARNING, "*starting a new problem log*");
      else
        {
          g_test_expect_message ("esa-diag", G_LOG_LEVEL_WARNING, "*problem 0: not a valid entry*");
          g_test_expect_message ("esa-diag", G_LOG_LEVEL_WARNING, "*problem 1: not a valid entry*");
        }
      log = diag_problem_log_new (path);
      g_test_assert_expected_messages ();
      list = diag_problem_log_list (log);
      g_assert_cmpuint (json_array_get_length (list), ==, 0);
      g_assert_cmpuint (diag_problem_log_add (log, pending ("A", "b"), 0, 1, &error), ==, 1);
      g_assert_no_error (error);
      if (i < 4)
        g_assert_true (g_file_test (moved, G_FILE_TEST_EXISTS));
      esa_test_rmtree (dir);
    }
}

static void
test_edac_count (void)
{
  const char *bad[] = { "", "\n", "abc", "-1", "1.5", "0x10", "99999999999999999999", "12 13", "+5", NULL };
  gint64 n = -1;
  g_autoptr (GError) error = NULL;
  g_assert_true (diag_edac_parse_count ("ue_count", "0\n", &n, &error));
  g_assert_cmpint (n, ==, 0);
  g_assert_true (diag_edac_parse_count ("ue_count", " 42 \n", &n, &error));
  g_assert_cmpint (n, ==, 42);
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) e = NULL;
      g_assert_false (diag_edac_parse_count ("mc0/ue_count", bad[i], &n, &e));
      g_assert_error (e, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (e->message, "mc0/ue_count"));
    }
}

static char *
copy_tree (const char *name)
{
  g_autofree char *src = esa_test_src_path (name);
  g_autofree char *dir = esa_test_mkdtemp ("test-diag-root");
  const char *argv[] = { "cp", "-R", src, dir, NULL };
  g_autofree char *base = g_path_get_basename (src);
  g_assert_cmpint (esa_test_run (argv, NULL, NULL), ==, 0);
  return g_build_filename (dir, base, NULL);
}

static void
set_file (const char *root, const char *rel, const char *text)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  esa_test_write_file (path, text, 0644);
}

static void
test_edac_read_compare (void)
{
  g_autofree char *root = copy_tree ("tests/fixtures/linux-root/edac-server");
  g_autofree char *top = g_path_get_dirname (root);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mcs = diag_edac_read (root, warnings, &error);
  g_autoptr (JsonObject) state = NULL;
  g_autoptr (GPtrArray) findings = NULL;
  DiagEdacMc *mc;
  JsonObject *f;
  JsonArray *frus;

  g_assert_no_error (error);
  g_assert_cmpuint (mcs->len, ==, 2);
  g_assert_cmpuint (warnings->len, ==, 0);
  mc = g_ptr_array_index (mcs, 0);
  g_assert_cmpstr (mc->name, ==, "mc0");
  g_assert_cmpstr (mc->mc_name, ==, "PowerNV MC#0");
  g_assert_cmpint (mc->ce, ==, 3);
  g_assert_cmpint (mc->ue, ==, 0);
  g_assert_cmpuint (mc->dimms->len, ==, 2);

  /* first look: baseline only */
  findings = diag_edac_compare (NULL, mcs);
  g_assert_cmpuint (findings->len, ==, 0);
  g_clear_pointer (&findings, g_ptr_array_unref);
  state = diag_edac_state (mcs);

  /* corrected errors are no problem; an uncorrectable one on dimm1 is */
  set_file (root, "sys/devices/system/edac/mc/mc0/ce_count", "10\n");
  set_file (root, "sys/devices/system/edac/mc/mc0/ue_count", "1\n");
  set_file (root, "sys/devices/system/edac/mc/mc0/dimm1/dimm_ue_count", "1\n");
  g_clear_pointer (&mcs, g_ptr_array_unref);
  mcs = diag_edac_read (root, warnings, &error);
  findings = diag_edac_compare (state, mcs);
  g_assert_cmpuint (findings->len, ==, 1);
  f = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (json_object_get_string_member (f, "code"), ==, "EDAC-UE");
  g_assert_cmpstr (json_object_get_string_member (f, "resource"), ==, "mc0");
  g_assert_nonnull (strstr (json_object_get_string_member (f, "description"), "from 0 to 1"));
  frus = json_object_get_array_member (f, "frus");
  g_assert_cmpuint (json_array_get_length (frus), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (frus, 0), "location"), ==,
                   "CPU_SrcID#0_Ha#0_Chan#1_DIMM#0");
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* counters reset (reboot): new baseline, nothing reported */
  g_clear_pointer (&state, json_object_unref);
  state = diag_edac_state (mcs);
  set_file (root, "sys/devices/system/edac/mc/mc0/ue_count", "0\n");
  g_clear_pointer (&mcs, g_ptr_array_unref);
  mcs = diag_edac_read (root, warnings, &error);
  findings = diag_edac_compare (state, mcs);
  g_assert_cmpuint (findings->len, ==, 0);
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* malformed counters: that controller is skipped with a warning naming the file */
  set_file (root, "sys/devices/system/edac/mc/mc1/ue_count", "garbage\n");
  set_file (root, "sys/devices/system/edac/mc/mc0/dimm0/dimm_ue_count", "-3\n");
  g_clear_pointer (&mcs, g_ptr_array_unref);
  mcs = diag_edac_read (root, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mcs->len, ==, 1);
  g_assert_cmpuint (warnings->len, >=, 2);
  {
    gboolean named = FALSE;
    for (guint i = 0; i < warnings->len; i++)
      named |= strstr (g_ptr_array_index (warnings, i), "mc1/ue_count") != NULL;
    g_assert_true (named);
  }
  /* a huge "attribute" is refused, a missing one too */
  {
    g_autofree char *big = g_strnfill (10000, '7');
    set_file (root, "sys/devices/system/edac/mc/mc0/ue_count", big);
    g_ptr_array_set_size (warnings, 0);
    g_clear_pointer (&mcs, g_ptr_array_unref);
    mcs = diag_edac_read (root, warnings, &error);
    g_assert_cmpuint (mcs->len, ==, 0);
  }

  /* no EDAC at all */
  {
    g_autofree char *empty = esa_test_src_path ("tests/fixtures/linux-root/empty");
    g_autoptr (GPtrArray) none = diag_edac_read (empty, NULL, &error);
    g_assert_null (none);
    g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  }
  esa_test_rmtree (top);
}

static void
test_aix_diag (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) problems = diag_aix_run_diag ("hdisk1", NULL, &error);
  JsonObject *p;
  JsonArray *frus;
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 1);
  p = g_ptr_array_index (problems, 0);
  g_assert_cmpstr (json_object_get_string_member (p, "srn"), ==, "2D02-127");
  frus = json_object_get_array_member (p, "frus");
  g_assert_cmpuint (json_array_get_length (frus), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (frus, 0), "part_number"), ==, "00E1234");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (frus, 0), "probability"), ==, 85);
  g_clear_pointer (&problems, g_ptr_array_unref);

  problems = diag_aix_run_diag ("sysplanar0", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (problems, 0), "src"), ==, "11002610");
  g_clear_pointer (&problems, g_ptr_array_unref);

  problems = diag_aix_run_diag ("ent0", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 0);
  g_clear_pointer (&problems, g_ptr_array_unref);

  /* issue 10 item 10: invalid UTF-8 from the command is refused cleanly */
  problems = diag_aix_run_diag ("hdisk7", NULL, &error);
  g_assert_null (problems);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);

  problems = diag_aix_run_diag ("hdisk99", NULL, &error);
  g_assert_null (problems);
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_setenv ("ESA_FAKE_AIX_MACHINE", "p10-lpar", TRUE);
  problems = diag_aix_run_diag ("hdisk1", NULL, &error);
  g_unsetenv ("ESA_FAKE_AIX_MACHINE");
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 0);
}

static void
test_aix_diag_malformed (void)
{
  const char *bad[] = {
    "",
    "garbage\nmore garbage\n",
    "DIAGNOSTIC ANALYSIS 801014\nA PROBLEM WAS DETECTED ON Tue Aug 26 10:20:31 CDT 2025\n\n  FRU: 00E1234 85% hdisk1\n",
    /* issue 10 item 10: this crashed PCRE2's JIT; other invalid UTF-8 */
    "651-204\xff\x16\xff",
    "SRN: 2D02-127\xff\n\xc0\x80 85% hdisk1\n",
    "\xed\xa0\x80\xf4\x90\x80\x80",
    NULL,
  };
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) problems = diag_aix_problems_from_text (bad[i], &error);
      if (problems != NULL)
        g_printerr ("case %u: %u problems\n", i, problems->len);
      g_assert_null (problems);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
    }
}

static void
test_aix_errlog (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) rec = diag_aix_read_errlog (1234, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (rec, "label"), ==, "SC_DISK_ERR2");
  g_assert_cmpstr (json_object_get_string_member (rec, "resource_name"), ==, "hdisk1");
  g_clear_pointer (&rec, json_object_unref);
  rec = diag_aix_read_errlog (4242, NULL, &error);
  g_assert_null (rec);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_autofree char *bin = esa_test_src_path ("tests/fixtures/aix-bin");
  g_setenv ("ESA_COMMAND_PATH", bin, TRUE);
  g_unsetenv ("ESA_FAKE_AIX_MACHINE");
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/diag/log/dedup", test_log_dedup);
  g_test_add_func ("/diag/log/pending-not-original", test_log_pending_not_original);
  g_test_add_func ("/diag/log/damaged", test_log_damaged);
  g_test_add_func ("/diag/edac/count-malformed", test_edac_count);
  g_test_add_func ("/diag/edac/read-compare", test_edac_read_compare);
  g_test_add_func ("/diag/aix/diag", test_aix_diag);
  g_test_add_func ("/diag/aix/diag-malformed", test_aix_diag_malformed);
  g_test_add_func ("/diag/aix/errlog", test_aix_errlog);
  return g_test_run ();
}
