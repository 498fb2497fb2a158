/* test-queue.c: the persistent spool — enqueue/list/load/remove across
 * reopen, attachments copied into the spool, delivery state, failed/ and
 * retry, recovery at open (corrupt reports, orphans, tmp/ leftovers), and a
 * writer killed with SIGKILL at random points losing nothing it promised. */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "esa-queue.h"
#include "esa-test-util.h"
#include "esa/esa-error.h"

typedef struct {
  char *dir;   /* scratch: source files live here */
  char *spool; /* <dir>/spool */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer user_data)
{
  f->dir = esa_test_mkdtemp ("esa-queue");
  f->spool = g_build_filename (f->dir, "spool", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer user_data)
{
  esa_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->spool);
}

static char *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *text = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;
  /* the owner's lock file (.lock) is no entry */
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    n += !g_str_equal (name, ".lock");
  return n;
}

/* The path of queued report @uuid's file: <stamp>-<uuid>.json (the stamp is
 * its creation time, so that the names sort in sending order). */
static char *
spooled_json (Fixture *f, const char *uuid)
{
  g_autoptr (GDir) d = g_dir_open (f->spool, 0, NULL);
  g_autofree char *suffix = g_strdup_printf ("-%s.json", uuid);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, suffix))
      return g_build_filename (f->spool, name, NULL);
  g_assert_not_reached ();
}

/* A report with attachments "one.txt" and "two.bin" written in @f->dir. */
static EsaReport *
report_with_attachments (Fixture *f, const char *tag)
{
  EsaReport *report = esa_report_new (ESA_REPORT_KIND_PROBLEM, "diag");
  g_autofree char *one = g_build_filename (f->dir, "one.txt", NULL);
  g_autofree char *two = g_build_filename (f->dir, "two.bin", NULL);
  g_autofree char *one_text = g_strdup_printf ("first attachment of %s\n", tag);
  g_autoptr (GError) error = NULL;
  esa_test_write_file (one, one_text, 0644);
  esa_test_write_file (two, "\x01\x02\x03", 0600);
  json_object_set_string_member (esa_report_get_body (report), "tag", tag);
  g_assert_true (esa_report_add_attachment (report, one, "text/plain", &error));
  g_assert_true (esa_report_add_attachment (report, two, NULL, &error));
  g_assert_no_error (error);
  return report;
}

static void
test_queue_basic (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) r1 = report_with_attachments (f, "r1");
  g_autoptr (EsaReport) r2 = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "heartbeat");
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (EsaReport) loaded = NULL;
  g_autoptr (EsaQueueEntry) entry = NULL;
  g_autofree char *one_src = g_build_filename (f->dir, "one.txt", NULL);
  g_autofree char *tmp = g_build_filename (f->spool, "tmp", NULL);
  g_autofree char *failed = g_build_filename (f->spool, "failed", NULL);
  GPtrArray *atts;

  g_assert_no_error (error);
  g_assert_cmpstr (esa_queue_get_dir (queue), ==, f->spool);
  g_assert_true (g_file_test (tmp, G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_test (failed, G_FILE_TEST_IS_DIR));
  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  g_assert_true (esa_queue_enqueue (queue, r1, &error));
  g_assert_no_error (error);
  g_assert_true (esa_queue_enqueue (queue, r2, &error));
  g_assert_no_error (error);
  /* Enqueue is idempotent: the same report twice is one entry. */
  g_assert_true (esa_queue_enqueue (queue, r1, &error));
  g_assert_no_error (error);
  /* The spool has its own copy: the source may go away. */
  g_unlink (one_src);
  g_assert_cmpuint (count_entries (tmp), ==, 0);

  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 2);
  /* Oldest first. */
  g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (list, 0))->uuid, ==, esa_report_get_uuid (r1));
  g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (list, 1))->uuid, ==, esa_report_get_uuid (r2));
  {
    EsaQueueEntry *e = g_ptr_array_index (list, 0);
    g_assert_cmpstr (e->kind, ==, "problem");
    g_assert_cmpstr (e->plugin, ==, "diag");
    g_assert_cmpuint (e->attempts, ==, 0);
    g_assert_cmpint (e->next_attempt, ==, 0);
    g_assert_null (e->last_error);
    g_assert_null (e->failed_reason);
    g_assert_cmpuint (e->size, >, 3);
  }
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Reopen: everything is still there. */
  g_clear_pointer (&queue, esa_queue_free);
  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 2);

  loaded = esa_queue_load (queue, esa_report_get_uuid (r1), &entry, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  g_assert_nonnull (entry);
  g_assert_cmpstr (entry->uuid, ==, esa_report_get_uuid (r1));
  g_assert_cmpstr (json_object_get_string_member (esa_report_get_body (loaded), "tag"), ==, "r1");
  atts = esa_report_get_attachments (loaded);
  g_assert_cmpuint (atts->len, ==, 2);
  for (guint i = 0; i < atts->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (atts, i);
      g_autofree char *d = g_strdup_printf ("%s/%s.d/", f->spool, esa_report_get_uuid (r1));
      /* Paths point into the spool, not at the original files. */
      g_assert_true (g_str_has_prefix (att->path, d));
      g_assert_true (g_str_has_suffix (att->path, att->name));
    }
  {
    EsaAttachment *one = g_ptr_array_index (atts, 0);
    EsaAttachment *two = g_ptr_array_index (atts, 1);
    g_autofree char *text = read_file (one->path);
    g_autofree char *bin = NULL;
    gsize len = 0;
    g_assert_cmpstr (one->name, ==, "one.txt");
    g_assert_cmpstr (one->content_type, ==, "text/plain");
    g_assert_cmpstr (text, ==, "first attachment of r1\n");
    g_assert_true (g_file_get_contents (two->path, &bin, &len, NULL));
    g_assert_cmpmem (bin, len, "\x01\x02\x03", 3);
  }

  /* Delivered: gone, with its attachments. */
  g_assert_true (esa_queue_remove (queue, esa_report_get_uuid (r1), &error));
  g_assert_no_error (error);
  {
    g_autofree char *d = g_strdup_printf ("%s/%s.d", f->spool, esa_report_get_uuid (r1));
    g_assert_false (g_file_test (d, G_FILE_TEST_EXISTS));
  }
  g_clear_pointer (&list, g_ptr_array_unref);
  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_pointer (&loaded, esa_report_unref);
  loaded = esa_queue_load (queue, esa_report_get_uuid (r1), NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* Removing twice is not an error: delivery is at-least-once. */
  g_assert_true (esa_queue_remove (queue, esa_report_get_uuid (r1), &error));
  g_assert_no_error (error);
}

/* A batch's delivered reports leave the spool together: one folder fsync,
 * begun after the last unlink, for all of them (not one each in turn); a
 * bad name among them is the error and the others are still removed. */
static void
test_queue_remove_many (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
  guint64 syncs;
  (void) user_data;

  g_assert_no_error (error);
  for (guint i = 0; i < 32; i++)
    {
      g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "test");
      g_assert_true (esa_queue_enqueue (queue, r, &error));
      g_assert_no_error (error);
      g_ptr_array_add (uuids, g_strdup (esa_report_get_uuid (r)));
    }
  syncs = esa_queue_removal_syncs (queue);
  g_assert_true (esa_queue_remove_many (queue, (const char *const *) uuids->pdata, 16, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (esa_queue_removal_syncs (queue) - syncs, ==, 1);
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, 16);
  for (guint i = 0; i < 16; i++)
    g_assert_false (esa_queue_holds (queue, g_ptr_array_index (uuids, i)));

  /* one name that is no report's, amid the rest */
  g_free (uuids->pdata[20]);
  uuids->pdata[20] = g_strdup ("../victim");
  syncs = esa_queue_removal_syncs (queue);
  g_assert_false (esa_queue_remove_many (queue, (const char *const *) uuids->pdata + 16, 16, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_assert_cmpuint (esa_queue_removal_syncs (queue) - syncs, ==, 1);
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, 1);
}

static void
test_queue_bad_ids (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autofree char *victim = g_build_filename (f->dir, "victim.json", NULL);
  g_autoptr (EsaReport) r = NULL;
  const char *ids[] = { "../victim", "", "not-a-uuid", "6f2c1a7e-52d9-4f0b-9a3e-1f2b3c4d5e6f/../x", NULL };

  esa_test_write_file (victim, "{}", 0600);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      r = esa_queue_load (queue, ids[i], NULL, &error);
      g_assert_null (r);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
      g_clear_error (&error);
      g_assert_false (esa_queue_reschedule (queue, ids[i], "x", 0, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_false (esa_queue_fail (queue, ids[i], "x", &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_false (esa_queue_retry_failed (queue, ids[i], &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      /* Never a path outside the spool. */
      g_assert_false (esa_queue_remove (queue, ids[i], &error));
      g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
      g_clear_error (&error);
    }
  g_assert_true (g_file_test (victim, G_FILE_TEST_EXISTS));
}

static void
test_queue_missing_attachment (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_EXTENDED_DATA, "snap");
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *tmp = g_build_filename (f->spool, "tmp", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "gone.gz", NULL);

  g_assert_true (esa_report_add_attachment (r, missing, NULL, &error));
  g_assert_false (esa_queue_enqueue (queue, r, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, missing));
  /* Nothing half-done is left behind. */
  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 0);
  g_assert_cmpuint (count_entries (tmp), ==, 0);
  g_assert_cmpuint (count_entries (f->spool), ==, 2); /* tmp/ and failed/ */
}

static void
test_queue_reschedule (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) r = report_with_attachments (f, "resched");
  g_autoptr (EsaQueueEntry) entry = NULL;
  g_autoptr (EsaReport) loaded = NULL;
  const char *uuid = esa_report_get_uuid (r);

  g_assert_true (esa_queue_enqueue (queue, r, &error));
  g_assert_true (esa_queue_reschedule (queue, uuid, "connection refused", 1700000000, &error));
  g_assert_no_error (error);
  g_assert_true (esa_queue_reschedule (queue, uuid, "TLS handshake failed", 1700000600, &error));
  g_assert_no_error (error);

  g_clear_pointer (&queue, esa_queue_free);
  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  loaded = esa_queue_load (queue, uuid, &entry, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entry->attempts, ==, 2);
  g_assert_cmpint (entry->next_attempt, ==, 1700000600);
  g_assert_cmpstr (entry->last_error, ==, "TLS handshake failed");
  /* The report itself did not change. */
  g_assert_cmpuint (esa_report_get_attachments (loaded)->len, ==, 2);
  g_assert_cmpstr (json_object_get_string_member (esa_report_get_body (loaded), "tag"), ==, "resched");
}

static void
test_queue_fail_and_retry (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) r = report_with_attachments (f, "failing");
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) failed = NULL;
  g_autoptr (EsaReport) loaded = NULL;
  g_autoptr (EsaQueueEntry) entry = NULL;
  const char *uuid = esa_report_get_uuid (r);
  g_autofree char *failed_att = g_strdup_printf ("%s/failed/%s.d/one.txt", f->spool, uuid);

  g_assert_true (esa_queue_enqueue (queue, r, &error));
  g_assert_true (esa_queue_reschedule (queue, uuid, "503", 0, &error));
  g_assert_true (esa_queue_fail (queue, uuid, "SDC: 422 missing field machine_type", &error));
  g_assert_no_error (error);

  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 0);
  failed = esa_queue_list_failed (queue);
  g_assert_cmpuint (failed->len, ==, 1);
  g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (failed, 0))->uuid, ==, uuid);
  g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (failed, 0))->failed_reason, ==,
                   "SDC: 422 missing field machine_type");
  g_assert_true (g_file_test (failed_att, G_FILE_TEST_IS_REGULAR));
  loaded = esa_queue_load (queue, uuid, NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_clear_pointer (&failed, g_ptr_array_unref);

  /* Survives a reopen, then the admin retries it. */
  g_clear_pointer (&queue, esa_queue_free);
  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  failed = esa_queue_list_failed (queue);
  g_assert_cmpuint (failed->len, ==, 1);
  g_clear_pointer (&failed, g_ptr_array_unref);
  g_assert_true (esa_queue_retry_failed (queue, uuid, &error));
  g_assert_no_error (error);
  failed = esa_queue_list_failed (queue);
  g_assert_cmpuint (failed->len, ==, 0);
  loaded = esa_queue_load (queue, uuid, &entry, &error);
  g_assert_no_error (error);
  /* A fresh start: no attempts, no reason. */
  g_assert_cmpuint (entry->attempts, ==, 0);
  g_assert_null (entry->last_error);
  g_assert_null (entry->failed_reason);
  {
    EsaAttachment *one = g_ptr_array_index (esa_report_get_attachments (loaded), 0);
    g_autofree char *text = read_file (one->path);
    g_assert_cmpstr (text, ==, "first attachment of failing\n");
  }
  g_assert_false (g_file_test (failed_att, G_FILE_TEST_EXISTS));
  /* Retrying one that is not in failed/. */
  g_assert_false (esa_queue_retry_failed (queue, uuid, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
}

static void
test_queue_recovery (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) good = report_with_attachments (f, "good");
  g_autoptr (EsaReport) other = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "heartbeat");
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) failed = NULL;
  g_autofree char *garbage_uuid = g_uuid_string_random ();
  g_autofree char *wrong_uuid = g_uuid_string_random ();
  g_autofree char *notobj_uuid = g_uuid_string_random ();
  g_autofree char *orphan_uuid = g_uuid_string_random ();
  g_autofree char *garbage = g_strdup_printf ("%s/%s.json", f->spool, garbage_uuid);
  g_autofree char *wrong = g_strdup_printf ("%s/%s.json", f->spool, wrong_uuid);
  g_autofree char *notobj = g_strdup_printf ("%s/%s.json", f->spool, notobj_uuid);
  g_autofree char *orphan = g_strdup_printf ("%s/%s.d/one.txt", f->spool, orphan_uuid);
  g_autofree char *orphan_dir = g_strdup_printf ("%s/%s.d", f->spool, orphan_uuid);
  g_autofree char *leftover = g_build_filename (f->spool, "tmp", ".x.json.ABC123", NULL);
  g_autofree char *leftover_dir = g_strdup_printf ("%s/tmp/%s.d/big.gz", f->spool, orphan_uuid);
  g_autofree char *tmp = g_build_filename (f->spool, "tmp", NULL);
  g_autofree char *good_json = NULL;
  g_autofree char *good_text = NULL;
  g_autofree char *wrong_text = NULL;

  g_assert_true (esa_queue_enqueue (queue, good, &error));
  g_assert_true (esa_queue_enqueue (queue, other, &error));
  g_assert_no_error (error);
  g_clear_pointer (&queue, esa_queue_free);

  /* A crash and a disk full later: */
  esa_test_write_file (garbage, "{\"report\": {\"uuid\": \"trunc", 0600);
  good_json = spooled_json (f, esa_report_get_uuid (good));
  good_text = read_file (good_json);
  /* A copy of a valid report under another report's name. */
  esa_test_write_file (wrong, good_text, 0600);
  esa_test_write_file (notobj, "{\"report\": 42}", 0600);
  esa_test_write_file (orphan, "attachment whose report never committed", 0600);
  esa_test_write_file (leftover, "half-written", 0600);
  esa_test_write_file (leftover_dir, "half-copied", 0600);

  g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: *: *; moved to */failed/*.corrupt");
  g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: *: *; moved to */failed/*.corrupt");
  g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: *: *; moved to */failed/*.corrupt");
  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  g_assert_nonnull (queue);
  /* The reports are read by the index's thread; the quarantine is its work. */
  esa_queue_wait_ready (queue);
  g_test_assert_expected_messages ();

  /* The two good reports are intact; the bad ones moved aside, not deleted. */
  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 2);
  for (guint i = 0; i < list->len; i++)
    {
      EsaQueueEntry *e = g_ptr_array_index (list, i);
      g_autoptr (EsaReport) r = esa_queue_load (queue, e->uuid, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (r);
    }
  {
    g_autofree char *moved = g_strdup_printf ("%s/failed/%s.json.corrupt", f->spool, wrong_uuid);
    g_autofree char *moved2 = g_strdup_printf ("%s/failed/%s.json.corrupt", f->spool, garbage_uuid);
    g_autofree char *moved3 = g_strdup_printf ("%s/failed/%s.json.corrupt", f->spool, notobj_uuid);
    wrong_text = read_file (moved);
    g_assert_cmpstr (wrong_text, ==, good_text);
    g_assert_true (g_file_test (moved2, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (moved3, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_false (g_file_test (garbage, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (wrong, G_FILE_TEST_EXISTS));
  /* The orphan folder and tmp/ leftovers are gone. */
  g_assert_false (g_file_test (orphan_dir, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (tmp, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (count_entries (tmp), ==, 0);
  /* Quarantined files are counted and listed in failed/ with their reason
   * (issue 10 item 7: they used to be invisible, "0 failed"). */
  {
    guint nfailed = 0;
    g_assert_cmpuint (esa_queue_count (queue, &nfailed), ==, 2);
    g_assert_cmpuint (nfailed, ==, 3);
  }
  failed = esa_queue_list_failed (queue);
  g_assert_cmpuint (failed->len, ==, 3);
  for (guint i = 0; i < failed->len; i++)
    {
      EsaQueueEntry *e = g_ptr_array_index (failed, i);
      g_assert_true (e->corrupt);
      g_assert_true (g_str_has_prefix (e->failed_reason, "spool file corrupt: "));
      g_test_message ("%s: %s", e->uuid, e->failed_reason);
      if (g_str_equal (e->uuid, wrong_uuid))
        g_assert_nonnull (strstr (e->failed_reason, "file name and report uuid differ"));
    }
  /* The reason survives a restart. */
  g_clear_pointer (&queue, esa_queue_free);
  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  g_clear_pointer (&failed, g_ptr_array_unref);
  failed = esa_queue_list_failed (queue);
  g_assert_cmpuint (failed->len, ==, 3);
  for (guint i = 0; i < failed->len; i++)
    g_assert_null (strstr (((EsaQueueEntry *) g_ptr_array_index (failed, i))->failed_reason, "not recorded"));
}

/* A report file truncated (or otherwise broken) while the queue runs: the
 * listing and the sender's load do not skip it silently — a warning, the
 * file in failed/ with its reason, counted; `queue retry` sees it and puts
 * it back once it is repaired. */
static void
test_queue_corrupt_quarantine_retry (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) r = report_with_attachments (f, "truncated");
  g_autoptr (EsaReport) other = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "heartbeat");
  const char *uuid = esa_report_get_uuid (r);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *half = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) failed = NULL;
  g_autoptr (EsaReport) loaded = NULL;
  guint nfailed = 0;

  g_assert_true (esa_queue_enqueue (queue, r, &error));
  g_assert_true (esa_queue_enqueue (queue, other, &error));
  g_assert_no_error (error);
  path = spooled_json (f, uuid);
  text = read_file (path);
  half = g_strndup (text, strlen (text) / 2);
  esa_test_write_file (path, half, 0600);

  g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: *.json: *; moved to */failed/*.json.corrupt");
  list = esa_queue_list (queue);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpuint (esa_queue_count (queue, &nfailed), ==, 1);
  g_assert_cmpuint (nfailed, ==, 1);
  failed = esa_queue_list_failed (queue);
  g_assert_cmpuint (failed->len, ==, 1);
  {
    EsaQueueEntry *e = g_ptr_array_index (failed, 0);
    g_assert_cmpstr (e->uuid, ==, uuid);
    g_assert_true (e->corrupt);
    g_assert_true (g_str_has_prefix (e->failed_reason, "spool file corrupt: "));
    g_assert_cmpuint (e->size, >, 0);
  }

  /* Still broken: retry says so and leaves it. */
  g_assert_false (esa_queue_retry_failed (queue, uuid, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "still corrupt"));
  g_clear_error (&error);
  /* Repaired by the admin: retry puts it back, attachments and all. */
  {
    g_autofree char *corrupt = g_strdup_printf ("%s/failed/%s.json.corrupt", f->spool, uuid);
    esa_test_write_file (corrupt, text, 0600);
  }
  g_assert_true (esa_queue_retry_failed (queue, uuid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (esa_queue_count (queue, &nfailed), ==, 2);
  g_assert_cmpuint (nfailed, ==, 0);
  loaded = esa_queue_load (queue, uuid, NULL, &error);
  g_assert_no_error (error);
  {
    EsaAttachment *one = g_ptr_array_index (esa_report_get_attachments (loaded), 0);
    g_autofree char *one_text = read_file (one->path);
    g_assert_cmpstr (one_text, ==, "first attachment of truncated\n");
  }

  /* The sender's load finds it broken again: same quarantine, not a silent skip. */
  esa_test_write_file (path, "{\"report\": {\"uuid\": \"tr", 0600);
  g_clear_pointer (&loaded, esa_report_unref);
  g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: *.json: *; moved to */failed/*.json.corrupt");
  g_assert_null (esa_queue_load (queue, uuid, NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_assert_cmpuint (esa_queue_count (queue, &nfailed), ==, 1);
  g_assert_cmpuint (nfailed, ==, 1);
}

static void
test_queue_stray_file (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *stray = g_build_filename (f->spool, "README", NULL);
  esa_test_write_file (stray, "someone's notes", 0600);
  g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: */README: not a report, ignored");
  queue = esa_queue_open (f->spool, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  /* Left alone: it is not ours to delete. */
  g_assert_true (g_file_test (stray, G_FILE_TEST_EXISTS));
  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 0);
}

/* Files that turn bad while the queue is open are skipped by list and
 * refused by load, never a crash (tests run with fatal criticals). */
static void
test_queue_corrupt_while_open (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) good = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "heartbeat");
  const char *bodies[] = {
    "", "garbage", "[]", "{}", "{\"report\": 42}", "{\"report\": null}", "{\"report\": []}",
    "{\"report\": {}}", "{\"report\": {}, \"delivery\": 7}",
    "{\"report\": {}, \"delivery\": {\"attempts\": \"x\", \"last_error\": {}}, \"failed\": []}",
    NULL,
  };
  g_assert_true (esa_queue_enqueue (queue, good, &error));
  for (guint i = 0; bodies[i] != NULL; i++)
    {
      g_autofree char *uuid = g_uuid_string_random ();
      g_autofree char *path = g_strdup_printf ("%s/%s.json", f->spool, uuid);
      g_autofree char *uuid2 = g_uuid_string_random ();
      g_autofree char *path2 = g_strdup_printf ("%s/%s.json", f->spool, uuid2);
      g_autoptr (GPtrArray) list = NULL;
      g_autoptr (EsaReport) r = NULL;
      esa_test_write_file (path, bodies[i], 0600);
      /* Refused, and moved aside with a warning (never skipped silently). */
      g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: *; moved to */failed/*.json.corrupt");
      r = esa_queue_load (queue, uuid, NULL, &error);
      g_test_assert_expected_messages ();
      g_assert_null (r);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
      /* The listing reads the folder: it finds one the same way. */
      esa_test_write_file (path2, bodies[i], 0600);
      g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: *; moved to */failed/*.json.corrupt");
      list = esa_queue_list (queue);
      g_test_assert_expected_messages ();
      g_assert_cmpuint (list->len, ==, 1);
      g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (list, 0))->uuid, ==, esa_report_get_uuid (good));
      g_assert_false (g_file_test (path2, G_FILE_TEST_EXISTS));
    }
}

/* Issue 9 item 2: symlinks planted where the spool writes or deletes never
 * redirect the operation: the link itself goes, its target is untouched. */
static void
test_queue_symlinks (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = NULL;
  g_autofree char *victim = g_build_filename (f->dir, "victim", NULL);
  g_autofree char *victim_file = g_build_filename (victim, "keep.txt", NULL);
  g_autofree char *victim2 = g_build_filename (f->dir, "victim2", NULL);
  g_autofree char *tmp = g_build_filename (f->spool, "tmp", NULL);
  g_autofree char *orphan_uuid = g_uuid_string_random ();
  g_autofree char *orphan = g_strdup_printf ("%s/%s.d", f->spool, orphan_uuid);
  g_autoptr (EsaReport) r = report_with_attachments (f, "planted-tmp");
  g_autoptr (EsaReport) r2 = report_with_attachments (f, "planted-remove");
  g_autoptr (EsaReport) r3 = report_with_attachments (f, "planted-fail");
  g_autofree char *planted_tmp = NULL;
  g_autofree char *r2_att = NULL;
  g_autofree char *r3_failed_att = NULL;

  esa_test_write_file (victim_file, "not esad's to delete", 0600);
  g_assert_cmpint (g_mkdir (victim2, 0700), ==, 0);
  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  g_clear_pointer (&queue, esa_queue_free);

  /* At open: tmp/ is emptied and orphan folders removed — here both links. */
  esa_test_rmtree (tmp);
  g_assert_cmpint (symlink (victim, tmp), ==, 0);
  g_assert_cmpint (symlink (victim, orphan), ==, 0);
  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  esa_queue_wait_ready (queue); /* orphan folders go in the thread open () starts */
  g_assert_true (g_file_test (victim_file, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (orphan, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (tmp, G_FILE_TEST_IS_SYMLINK));

  /* Enqueue: a link where the attachments are copied first. */
  planted_tmp = g_strdup_printf ("%s/%s.d", tmp, esa_report_get_uuid (r));
  g_assert_cmpint (symlink (victim2, planted_tmp), ==, 0);
  g_assert_true (esa_queue_enqueue (queue, r, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (victim2), ==, 0);

  /* Remove: its attachment folder swapped for a link. */
  g_assert_true (esa_queue_enqueue (queue, r2, &error));
  r2_att = g_strdup_printf ("%s/%s.d", f->spool, esa_report_get_uuid (r2));
  esa_test_rmtree (r2_att);
  g_assert_cmpint (symlink (victim, r2_att), ==, 0);
  g_assert_true (esa_queue_remove (queue, esa_report_get_uuid (r2), &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (victim_file, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (r2_att, G_FILE_TEST_EXISTS));

  /* Fail: a link waiting in failed/ where the folder moves to. */
  g_assert_true (esa_queue_enqueue (queue, r3, &error));
  r3_failed_att = g_strdup_printf ("%s/failed/%s.d", f->spool, esa_report_get_uuid (r3));
  g_assert_cmpint (symlink (victim, r3_failed_att), ==, 0);
  g_assert_true (esa_queue_fail (queue, esa_report_get_uuid (r3), "SDC: 422", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (victim_file, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (count_entries (victim), ==, 1);
  g_assert_true (g_file_test (r3_failed_att, G_FILE_TEST_IS_DIR));
  g_assert_false (g_file_test (r3_failed_att, G_FILE_TEST_IS_SYMLINK));

  /* A report file swapped for a link is not read through it. */
  {
    g_autofree char *json = spooled_json (f, esa_report_get_uuid (r));
    g_autofree char *elsewhere = g_build_filename (f->dir, "elsewhere.json", NULL);
    g_assert_cmpint (g_rename (json, elsewhere), ==, 0);
    g_autofree char *text = read_file (elsewhere);
    g_assert_cmpint (symlink (elsewhere, json), ==, 0);
    g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: *.json: *symbolic links*; moved to */failed/*.json.corrupt");
    g_assert_null (esa_queue_load (queue, esa_report_get_uuid (r), NULL, &error));
    g_test_assert_expected_messages ();
    g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
    g_test_message ("%s", error->message);
    g_clear_error (&error);
    /* The link was moved aside, its target left as it was. */
    {
      g_autofree char *after = read_file (elsewhere);
      g_assert_cmpstr (after, ==, text);
    }
  }
}

typedef struct {
  EsaQueue *queue;
  guint count;      /* reports to enqueue */
  GPtrArray *uuids; /* filled by the thread */
} ThreadData;

static gpointer
enqueue_thread (gpointer user_data)
{
  ThreadData *td = user_data;
  for (guint i = 0; i < td->count; i++)
    {
      g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_INVENTORY, "sysinfo");
      g_autoptr (GError) error = NULL;
      g_assert_true (esa_queue_enqueue (td->queue, r, &error));
      g_assert_no_error (error);
      g_ptr_array_add (td->uuids, g_strdup (esa_report_get_uuid (r)));
    }
  return NULL;
}

/* Four threads enqueueing @each reports each, as plugins do. */
static void
enqueue_in_threads (EsaQueue *queue, guint each, ThreadData td[4])
{
  GThread *threads[4];
  for (guint i = 0; i < 4; i++)
    {
      td[i].queue = queue;
      td[i].count = each;
      td[i].uuids = g_ptr_array_new_with_free_func (g_free);
      threads[i] = g_thread_new ("enqueue", enqueue_thread, &td[i]);
    }
  for (guint i = 0; i < 4; i++)
    g_thread_join (threads[i]);
}

static void
test_queue_threads (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (GPtrArray) list = NULL;
  ThreadData td[4];
  enqueue_in_threads (queue, 25, td);
  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 100);
  for (guint i = 0; i < 4; i++)
    {
      for (guint j = 0; j < td[i].uuids->len; j++)
        {
          g_autoptr (EsaReport) r = esa_queue_load (queue, g_ptr_array_index (td[i].uuids, j), NULL, &error);
          g_assert_no_error (error);
        }
      g_ptr_array_unref (td[i].uuids);
    }
}

/* What the committed callback of esa_queue_enqueue_full () sees. The sender's
 * view is asked from another thread (as the sender does): the callback runs
 * with the spool's commit lock held, so the answer may only come after it. */
typedef struct {
  EsaQueue *queue;
  guint listed;
  gint done;
} SenderView;

typedef struct {
  guint calls;
  gboolean file_there;  /* the report's file on disk: committed */
  guint listed;         /* esa_queue_list_brief () while the callback ran */
  GThread *sender;
  SenderView view;
} CommittedSeen;

static gpointer
sender_view_thread (gpointer data)
{
  SenderView *view = data;
  g_autoptr (GPtrArray) brief = esa_queue_list_brief (view->queue, NULL, 100);
  view->listed = brief->len;
  g_atomic_int_set (&view->done, 1);
  return NULL;
}

static void
on_committed (EsaQueue *queue, const char *uuid, gpointer user_data)
{
  CommittedSeen *seen = user_data;
  g_autofree char *suffix = g_strconcat ("-", uuid, ".json", NULL);
  g_autoptr (GDir) dir = g_dir_open (esa_queue_get_dir (queue), 0, NULL);
  const char *name;
  seen->calls++;
  seen->file_there = FALSE; /* <stamp>-<uuid>.json on disk: committed */
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    seen->file_there |= g_str_has_suffix (name, suffix);
  if (seen->calls == 1)
    {
      seen->view.queue = queue;
      seen->sender = g_thread_new ("sender-view", sender_view_thread, &seen->view);
      g_usleep (200 * 1000);
      seen->listed = g_atomic_int_get (&seen->view.done) ? seen->view.listed : 0;
    }
}

/* An event run notes "queued" in its record from the committed callback
 * (core/esa-dispatcher.c): it must run once the report is on disk and before
 * the sender can see it; again when the same UUID is enqueued once more
 * (nothing doubled); and esa_queue_holds () finds the report waiting or in
 * failed/, and nothing else. */
static void
test_queue_committed_before_published (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) report = report_with_attachments (f, "committed");
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *other = g_uuid_string_random ();
  const char *uuid = esa_report_get_uuid (report);
  CommittedSeen seen = { 0 };
  g_assert_no_error (error);
  esa_queue_wait_ready (queue);
  g_assert_false (esa_queue_holds (queue, uuid));
  /* the sender has walked the (empty) queue once: its window is current, so
   * its next look answers from the window without waiting for the commit */
  g_ptr_array_unref (esa_queue_list_brief (queue, NULL, 100));
  g_assert_true (esa_queue_enqueue_full (queue, report, on_committed, &seen, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (seen.calls, ==, 1);
  g_assert_true (seen.file_there);
  g_assert_cmpuint (seen.listed, ==, 0);
  g_thread_join (seen.sender);
  {
    /* and once enqueue has returned, the sender sees it */
    g_autoptr (GPtrArray) brief = esa_queue_list_brief (queue, NULL, 100);
    g_assert_cmpuint (brief->len, ==, 1);
  }
  g_assert_true (esa_queue_holds (queue, uuid));
  g_assert_false (esa_queue_holds (queue, other));
  /* the same report again: committed already, said so, not doubled */
  g_assert_true (esa_queue_enqueue_full (queue, report, on_committed, &seen, &error));
  g_assert_cmpuint (seen.calls, ==, 2);
  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 1);
  /* rejected: still held (in failed/) */
  g_assert_true (esa_queue_fail (queue, uuid, "rejected by the test", &error));
  g_assert_no_error (error);
  g_assert_true (esa_queue_holds (queue, uuid));
  /* delivered: gone */
  g_assert_true (esa_queue_retry_failed (queue, uuid, &error));
  g_assert_true (esa_queue_remove (queue, uuid, &error));
  g_assert_no_error (error);
  g_assert_false (esa_queue_holds (queue, uuid));
}

/* A spool written by an esad before issue 13 (<uuid>.json): its reports are
 * counted, listed, loaded and sent in order at once, and renamed to the
 * sortable form by the thread open () starts. */
static void
test_queue_old_names (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) r1 = report_with_attachments (f, "old-1");
  g_autoptr (EsaReport) r2 = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "heartbeat");
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (EsaReport) loaded = NULL;
  g_autofree char *new1 = NULL;
  g_autofree char *new2 = NULL;
  g_autofree char *old1 = g_strdup_printf ("%s/%s.json", f->spool, esa_report_get_uuid (r1));
  g_autofree char *old2 = g_strdup_printf ("%s/%s.json", f->spool, esa_report_get_uuid (r2));

  g_assert_true (esa_queue_enqueue (queue, r1, &error));
  g_assert_true (esa_queue_enqueue (queue, r2, &error));
  g_assert_no_error (error);
  g_clear_pointer (&queue, esa_queue_free);
  new1 = spooled_json (f, esa_report_get_uuid (r1));
  new2 = spooled_json (f, esa_report_get_uuid (r2));
  g_assert_cmpint (g_rename (new1, old1), ==, 0);
  g_assert_cmpint (g_rename (new2, old2), ==, 0);

  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, 2);
  list = esa_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (list, 0))->uuid, ==, esa_report_get_uuid (r1));
  g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (list, 1))->uuid, ==, esa_report_get_uuid (r2));
  esa_queue_wait_ready (queue);
  g_assert_false (g_file_test (old1, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (new1, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (new2, G_FILE_TEST_IS_REGULAR));
  loaded = esa_queue_load (queue, esa_report_get_uuid (r1), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (esa_report_get_attachments (loaded)->len, ==, 2);
  g_assert_true (esa_queue_remove (queue, esa_report_get_uuid (r1), &error));
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, 1);
  g_assert_false (g_file_test (new1, G_FILE_TEST_EXISTS));
}

/* A listing made while open ()'s thread renames reports of the old form
 * sees each report once: not under both names, not under neither. */
#define LEGACY_MANY 1500
static void
test_queue_old_names_listed_while_renaming (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < LEGACY_MANY; i++)
    {
      g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "heartbeat");
      g_autofree char *now = NULL;
      g_autofree char *old = g_strdup_printf ("%s/%s.json", f->spool, esa_report_get_uuid (r));
      g_assert_true (esa_queue_enqueue (queue, r, &error));
      g_assert_no_error (error);
      now = spooled_json (f, esa_report_get_uuid (r));
      g_assert_cmpint (g_rename (now, old), ==, 0);
    }
  g_clear_pointer (&queue, esa_queue_free);

  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  list = esa_queue_list (queue);
  for (guint i = 0; i < list->len; i++)
    {
      const char *uuid = ((EsaQueueEntry *) g_ptr_array_index (list, i))->uuid;
      g_assert_false (g_hash_table_contains (seen, uuid));
      g_hash_table_add (seen, (gpointer) uuid);
    }
  g_assert_cmpuint (list->len, ==, LEGACY_MANY);
  esa_queue_wait_ready (queue);
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, LEGACY_MANY);
}

/* Issue 13: what the queue keeps in memory does not grow with the queue.
 * 2,000 reports (more than the window and the recent names together): the
 * sender's walk, listing pages at both ends, loads, removes and enqueues of
 * older reports keep esa_queue_held_records () bounded, and the walk still
 * sees every report once, oldest first, across the window's refills. */
#define MANY 2000
/* core/esa-queue.c: the window (512 names while the queue is under 2,048:
 * WINDOW_MIN) + RECENT_MAX (1,024), below MANY */
#define HELD_MAX 1536

/* A report created @ago_s seconds ago (the queue sends it before newer ones). */
static EsaReport *
report_created_ago (gint64 ago_s)
{
  g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "heartbeat");
  g_autoptr (JsonNode) node = esa_report_to_json (r);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) then = g_date_time_add_seconds (now, (gdouble) -ago_s);
  g_autofree char *created = g_date_time_format_iso8601 (then);
  g_autoptr (GError) error = NULL;
  EsaReport *old;
  json_object_set_string_member (json_node_get_object (node), "created", created);
  old = esa_report_new_from_json (node, &error);
  g_assert_no_error (error);
  return old;
}

/* Walks the whole queue as the sender does; checks the order; returns the uuids. */
static GPtrArray *
walk (EsaQueue *queue, guint batch)
{
  GPtrArray *seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (EsaQueueEntry) cursor = NULL;
  for (;;)
    {
      g_autoptr (GPtrArray) entries = esa_queue_list_brief (queue, cursor, batch);
      if (entries->len == 0)
        break;
      for (guint i = 0; i < entries->len; i++)
        {
          EsaQueueEntry *e = g_ptr_array_index (entries, i);
          if (cursor != NULL || i > 0)
            {
              EsaQueueEntry *prev = i > 0 ? g_ptr_array_index (entries, i - 1) : cursor;
              g_assert_true (prev->created_us < e->created_us ||
                             (prev->created_us == e->created_us && strcmp (prev->uuid, e->uuid) < 0));
            }
          g_ptr_array_add (seen, g_strdup (e->uuid));
        }
      g_clear_pointer (&cursor, esa_queue_entry_free);
      cursor = g_ptr_array_steal_index (entries, entries->len - 1);
      g_assert_cmpuint (esa_queue_held_records (queue), <=, HELD_MAX);
    }
  return seen;
}

static void
test_queue_memory_bounded (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (GPtrArray) seen = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (EsaReport) old = report_created_ago (3600);
  g_autoptr (EsaReport) older = report_created_ago (7200);
  g_autoptr (GHashTable) all = g_hash_table_new (g_str_hash, g_str_equal);
  ThreadData td[4];
  guint total = 0;

  enqueue_in_threads (queue, MANY / 4, td);
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, MANY);

  /* Reopened: the counts come from the names, nothing is indexed. */
  g_clear_pointer (&queue, esa_queue_free);
  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  esa_queue_wait_ready (queue);
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, MANY);
  g_assert_cmpuint (esa_queue_held_records (queue), ==, 0);

  /* The sender's walk, in batches smaller and larger than the window. */
  seen = walk (queue, 100);
  g_assert_cmpuint (seen->len, ==, MANY);
  for (guint i = 0; i < seen->len; i++)
    g_hash_table_add (all, g_ptr_array_index (seen, i));
  g_assert_cmpuint (g_hash_table_size (all), ==, MANY);
  for (guint i = 0; i < 4; i++)
    for (guint j = 0; j < td[i].uuids->len; j++)
      g_assert_true (g_hash_table_contains (all, g_ptr_array_index (td[i].uuids, j)));
  g_clear_pointer (&seen, g_ptr_array_unref);
  seen = walk (queue, 1000);
  g_assert_cmpuint (seen->len, ==, MANY);
  g_clear_pointer (&seen, g_ptr_array_unref);

  /* Pages at both ends, then a load and a remove of each of the last page. */
  page = esa_queue_list_page (queue, FALSE, 0, 50, &total);
  g_assert_cmpuint (total, ==, MANY);
  g_assert_cmpuint (page->len, ==, 50);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = esa_queue_list_page (queue, FALSE, MANY - 50, 50, &total);
  g_assert_cmpuint (page->len, ==, 50);
  for (guint i = 0; i < page->len; i++)
    {
      EsaQueueEntry *e = g_ptr_array_index (page, i);
      g_autoptr (EsaReport) r = esa_queue_load (queue, e->uuid, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (esa_queue_remove (queue, e->uuid, &error));
    }
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, MANY - 50);
  g_assert_cmpuint (esa_queue_held_records (queue), <=, HELD_MAX);

  /* Half way through a walk, a report older than all comes in (the window
   * starts before it: a new walk sees it first), and one in the window's
   * range is removed. */
  {
    g_autoptr (GPtrArray) first = esa_queue_list_brief (queue, NULL, 10);
    EsaQueueEntry *gone = g_ptr_array_index (first, 5);
    g_assert_true (esa_queue_enqueue (queue, old, &error));
    g_assert_true (esa_queue_remove (queue, gone->uuid, &error));
    g_assert_no_error (error);
    g_clear_pointer (&first, g_ptr_array_unref);
    first = esa_queue_list_brief (queue, NULL, 10);
    g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (first, 0))->uuid, ==, esa_report_get_uuid (old));
    g_assert_true (esa_queue_enqueue (queue, older, &error));
    g_clear_pointer (&first, g_ptr_array_unref);
    first = esa_queue_list_brief (queue, NULL, 10);
    g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (first, 0))->uuid, ==, esa_report_get_uuid (older));
    g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (first, 1))->uuid, ==, esa_report_get_uuid (old));
  }
  seen = walk (queue, 256);
  g_assert_cmpuint (seen->len, ==, MANY - 50 - 1 + 2);
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, MANY - 50 - 1 + 2);
  g_assert_cmpuint (esa_queue_held_records (queue), <=, HELD_MAX);
  for (guint i = 0; i < 4; i++)
    g_ptr_array_unref (td[i].uuids);
}

/* Issue 13: the sender's walk reads about the same number of names per
 * report whatever the queue's length: 8,000 queued, walked as the sender
 * does (batches of 256, each report removed once sent). The window was a
 * fixed 512 names, refilled by a pass over the whole folder: ~8 names per
 * report here (about 4 now), growing with the queue (n / 1,024: 98 at
 * 100,000; 13 now). */
#define LONG_QUEUE 8000
/* WINDOW_MAX (4,096) + RECENT_MAX (1,024) */
#define HELD_BOUND 5120

static void
test_queue_drain_names_linear (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = NULL;
  g_autoptr (EsaQueueEntry) cursor = NULL;
  g_autofree char *prev = NULL;
  guint sent = 0;
  guint64 read_before;

  g_assert_cmpint (g_mkdir_with_parents (f->spool, 0700), ==, 0);
  /* Names only: the walk reads no file. */
  for (guint i = 0; i < LONG_QUEUE; i++)
    {
      g_autofree char *uuid = g_uuid_string_random ();
      g_autofree char *name = g_strdup_printf ("20261126T%02u%02u%02u.%06uZ-%s.json", i / 3600, i / 60 % 60, i % 60,
                                               i % 1000000, uuid);
      g_autofree char *path = g_build_filename (f->spool, name, NULL);
      esa_test_write_file (path, "{}", 0600);
    }
  queue = esa_queue_open (f->spool, &error);
  g_assert_no_error (error);
  esa_queue_wait_ready (queue);
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, LONG_QUEUE);
  read_before = esa_queue_names_read (queue);
  for (;;)
    {
      g_autoptr (GPtrArray) batch = esa_queue_list_names (queue, cursor, 256);
      if (batch->len == 0)
        break;
      for (guint i = 0; i < batch->len; i++)
        {
          EsaQueueEntry *e = g_ptr_array_index (batch, i);
          g_autofree char *key = g_strdup_printf ("%020" G_GINT64_FORMAT "-%s", e->created_us, e->uuid);
          /* Oldest first, each once. */
          g_assert_true (prev == NULL || strcmp (prev, key) < 0);
          g_free (prev);
          prev = g_steal_pointer (&key);
          g_assert_true (esa_queue_remove (queue, e->uuid, &error));
          g_assert_no_error (error);
          sent++;
        }
      g_clear_pointer (&cursor, esa_queue_entry_free);
      cursor = g_ptr_array_steal_index (batch, batch->len - 1);
      g_assert_cmpuint (esa_queue_held_records (queue), <=, HELD_BOUND);
    }
  g_assert_cmpuint (sent, ==, LONG_QUEUE);
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, 0);
  g_test_message ("%" G_GUINT64_FORMAT " names read for %u reports sent", esa_queue_names_read (queue) - read_before,
                  sent);
  g_assert_cmpuint (esa_queue_names_read (queue) - read_before, <=, 5 * (guint64) LONG_QUEUE);
}

/* ---- crash test ---- */

/* Every attachment of @r is whole: a.txt is its UUID repeated "lines" times. */
static void
check_writer_report (EsaReport *r)
{
  GPtrArray *atts = esa_report_get_attachments (r);
  gint64 lines = json_object_get_int_member (esa_report_get_body (r), "lines");
  g_autoptr (GString) want = g_string_new (NULL);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  gsize a_len = 0, b_len = 0;
  const char b_bytes[] = { 0, 1, 2, (char) 0xff, '\n', 'x' };

  g_assert_cmpuint (atts->len, ==, 2);
  for (gint64 i = 0; i < lines; i++)
    g_string_append_printf (want, "%s\n", esa_report_get_uuid (r));
  g_assert_true (g_file_get_contents (((EsaAttachment *) g_ptr_array_index (atts, 0))->path, &a, &a_len, NULL));
  g_assert_cmpmem (a, a_len, want->str, want->len);
  g_assert_true (g_file_get_contents (((EsaAttachment *) g_ptr_array_index (atts, 1))->path, &b, &b_len, NULL));
  g_assert_cmpmem (b, b_len, b_bytes, sizeof b_bytes);
}

/* One process per spool: a second one (queue-writer) opening a spool this
 * process holds is refused with a clear reason, before it can remove tmp/ or
 * uncommitted attachment folders under the owner; once the owner is gone the
 * lock is gone with it. */
static void
test_queue_single_owner (Fixture *f, gconstpointer user_data)
{
  g_autofree char *writer = esa_test_build_path ("tests/queue-writer");
  g_autofree char *scratch = g_build_filename (f->dir, "scratch", NULL);
  g_autofree char *tmp = g_build_filename (f->spool, "tmp", NULL);
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  const char *argv[] = { writer, f->spool, scratch, NULL };
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (scratch, 0700), ==, 0);
  g_assert_cmpint (esa_test_run (argv, NULL, &err), ==, 1);
  g_test_message ("queue-writer: %s", err);
  g_assert_nonnull (strstr (err, "is in use by another process (pid "));
  g_assert_true (g_file_test (tmp, G_FILE_TEST_IS_DIR));
  /* a lock file is not a report */
  g_assert_cmpuint (esa_queue_count (queue, NULL), ==, 0);
}

static void
test_queue_kill9 (Fixture *f, gconstpointer user_data)
{
  g_autofree char *writer = esa_test_build_path ("tests/queue-writer");
  g_autofree char *scratch = g_build_filename (f->dir, "scratch", NULL);
  g_autofree char *failed_dir = g_build_filename (f->spool, "failed", NULL);
  g_autoptr (GHashTable) promised = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GRand) rand = g_rand_new ();
  guint total_listed = 0;

  g_assert_cmpint (g_mkdir_with_parents (scratch, 0700), ==, 0);
  for (guint round = 0; round < 20; round++)
    {
      const char *argv[] = { writer, f->spool, scratch, NULL };
      g_autoptr (GError) error = NULL;
      g_autoptr (GSubprocess) proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
      g_autoptr (GDataInputStream) in = NULL;
      g_autoptr (EsaQueue) queue = NULL;
      g_autoptr (GPtrArray) list = NULL;
      char *line;
      g_assert_no_error (error);
      in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
      /* Let it get going (the first line means the queue is open), then
       * kill it somewhere in the next few enqueues. */
      line = g_data_input_stream_read_line (in, NULL, NULL, &error);
      g_assert_no_error (error);
      if (line != NULL)
        g_hash_table_add (promised, line);
      g_usleep (g_rand_int_range (rand, 0, 30000));
      g_subprocess_send_signal (proc, SIGKILL);
      g_subprocess_wait (proc, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_if_signaled (proc));
      /* Whatever it printed before dying, the queue promised to keep. */
      while ((line = g_data_input_stream_read_line (in, NULL, NULL, &error)) != NULL)
        g_hash_table_add (promised, line);
      g_assert_no_error (error);

      queue = esa_queue_open (f->spool, &error);
      g_assert_no_error (error);
      /* Recovery found nothing corrupt: a crash never leaves a torn report. */
      g_assert_cmpuint (count_entries (failed_dir), ==, 0);
      list = esa_queue_list (queue);
      for (guint i = 0; i < list->len; i++)
        {
          EsaQueueEntry *e = g_ptr_array_index (list, i);
          g_autoptr (EsaReport) r = esa_queue_load (queue, e->uuid, NULL, &error);
          g_assert_no_error (error);
          check_writer_report (r);
        }
      {
        GHashTableIter iter;
        gpointer uuid;
        g_hash_table_iter_init (&iter, promised);
        while (g_hash_table_iter_next (&iter, &uuid, NULL))
          {
            g_autoptr (EsaReport) r = esa_queue_load (queue, uuid, NULL, &error);
            g_assert_no_error (error);
            g_assert_nonnull (r);
          }
      }
      total_listed = list->len;
    }
  g_test_message ("%u reports promised, %u in the spool", g_hash_table_size (promised), total_listed);
  g_assert_cmpuint (g_hash_table_size (promised), >=, 20);
  g_assert_cmpuint (total_listed, >=, g_hash_table_size (promised));
  /* At most one unpromised report per kill (enqueued, killed before the print). */
  g_assert_cmpuint (total_listed, <=, g_hash_table_size (promised) + 20);
}

/* A crash in retry_failed () after the attachment folder moved into the
 * spool but before the report did: open () must give the folder back to the
 * report in failed/, not delete it as an orphan of an unfinished enqueue. */
static void
test_queue_interrupted_retry (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (f->spool, &error);
  g_autoptr (EsaReport) r = report_with_attachments (f, "interrupted");
  g_autoptr (EsaReport) loaded = NULL;
  const char *uuid = esa_report_get_uuid (r);
  g_autofree char *failed_d = g_strdup_printf ("%s/failed/%s.d", f->spool, uuid);
  g_autofree char *spool_d = g_strdup_printf ("%s/%s.d", f->spool, uuid);
  g_autofree char *failed_att = g_strdup_printf ("%s/one.txt", failed_d);

  g_assert_true (esa_queue_enqueue (queue, r, &error));
  g_assert_true (esa_queue_fail (queue, uuid, "SDC: 422", &error));
  g_assert_no_error (error);
  g_clear_pointer (&queue, esa_queue_free);

  /* The first step of retry_failed (), then the crash. */
  g_assert_cmpint (g_rename (failed_d, spool_d), ==, 0);
  g_test_expect_message ("esa", G_LOG_LEVEL_WARNING, "spool: *.d: moved back to */failed/*.d (an interrupted retry)");
  queue = esa_queue_open (f->spool, &error);
  /* Attachment folders are checked by the thread open () starts. */
  esa_queue_wait_ready (queue);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_true (g_file_test (failed_att, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (spool_d, G_FILE_TEST_EXISTS));

  /* The admin's retry then finds the report whole. */
  g_assert_true (esa_queue_retry_failed (queue, uuid, &error));
  g_assert_no_error (error);
  loaded = esa_queue_load (queue, uuid, NULL, &error);
  g_assert_no_error (error);
  {
    EsaAttachment *one = g_ptr_array_index (esa_report_get_attachments (loaded), 0);
    g_autofree char *text = read_file (one->path);
    g_assert_cmpstr (text, ==, "first attachment of interrupted\n");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/queue/basic", test_queue_basic);
  ADD ("/queue/bad-ids", test_queue_bad_ids);
  ADD ("/queue/remove-many", test_queue_remove_many);
  ADD ("/queue/missing-attachment", test_queue_missing_attachment);
  ADD ("/queue/reschedule", test_queue_reschedule);
  ADD ("/queue/fail-and-retry", test_queue_fail_and_retry);
  ADD ("/queue/interrupted-retry", test_queue_interrupted_retry);
  ADD ("/queue/recovery", test_queue_recovery);
  ADD ("/queue/stray-file", test_queue_stray_file);
  ADD ("/queue/corrupt-while-open", test_queue_corrupt_while_open);
  ADD ("/queue/corrupt-quarantine-retry", test_queue_corrupt_quarantine_retry);
  ADD ("/queue/symlinks", test_queue_symlinks);
  ADD ("/queue/threads", test_queue_threads);
  ADD ("/queue/committed-before-published", test_queue_committed_before_published);
  ADD ("/queue/memory-bounded", test_queue_memory_bounded);
  ADD ("/queue/drain-names-linear", test_queue_drain_names_linear);
  ADD ("/queue/old-names", test_queue_old_names);
  ADD ("/queue/old-names-listed-while-renaming", test_queue_old_names_listed_while_renaming);
  ADD ("/queue/single-owner", test_queue_single_owner);
  ADD ("/queue/kill9", test_queue_kill9);
#undef ADD
  return g_test_run ();
}
