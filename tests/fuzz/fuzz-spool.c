/* fuzz-spool.c: the spool's record reader. The input is written as one report file of a
 * queue folder, which is then opened as esad does at start-up (esa_queue_open recovers:
 * a record that does not read is quarantined in failed/ with its reason), listed and
 * loaded (core/esa-queue.c, and esa_report_new_from_json in core/esa-report.c). The
 * same bytes are also read as a bare report through esa_json_parse. */
#include "config.h"

#include "fuzz.h"

#include "esa-fileutil.h"
#include "esa-queue.h"
#include "esa/esa-json.h"
#include "esa/esa-report.h"

#define UUID "123e4567-e89b-42d3-a456-426614174000"

static char *dir;

static void
remove_dir (void)
{
  esa_rm_rf (dir);
}

/* Some file of failed/ holds the record (its name is the queue's business). */
static gboolean
kept_in_failed (void)
{
  g_autofree char *failed = g_build_filename (dir, "failed", NULL);
  g_autoptr (GDir) d = g_dir_open (failed, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, UUID) && strstr (name, ".json") != NULL)
      return TRUE;
  return FALSE;
}

static void
check_report (EsaReport *report)
{
  g_autoptr (JsonNode) again = esa_report_to_json (report);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaReport) copy = esa_report_new_from_json (again, &error);

  /* what the spool wrote it reads back */
  g_assert_no_error (error);
  g_assert_cmpstr (esa_report_get_uuid (copy), ==, esa_report_get_uuid (report));
  g_assert_cmpuint (esa_report_get_attachments (copy)->len, ==, esa_report_get_attachments (report)->len);
}

static void
bare_report (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = esa_json_parse ((const char *) data, (gssize) size, ESA_JSON_MAX_BYTES_DEFAULT,
                                              ESA_JSON_MAX_DEPTH_DEFAULT, NULL);
  g_autoptr (EsaReport) report = NULL;
  if (node == NULL)
    return;
  report = esa_report_new_from_json (node, &error);
  if (report == NULL)
    g_assert_true (error != NULL && error->message != NULL);
  else
    check_report (report);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GPtrArray) failed = NULL;
  g_autofree char *path = NULL;

  fuzz_init_logging ();
  if (dir == NULL)
    {
      g_autofree char *top = g_dir_make_tmp ("fuzz-spool-XXXXXX", NULL);
      g_assert_nonnull (top);
      dir = g_build_filename (top, "queue", NULL);
      atexit (remove_dir);
    }
  bare_report (data, size);

  esa_rm_rf (dir);
  g_assert_true (esa_mkdir_p (dir, 0700, NULL));
  path = g_build_filename (dir, UUID ".json", NULL);
  fuzz_write_file (path, data, size);
  queue = esa_queue_open (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (queue);
  entries = esa_queue_list (queue);
  failed = esa_queue_list_failed (queue);
  /* nothing is lost: the record is waiting, or kept in failed/ for whoever investigates */
  g_assert_cmpuint (entries->len, <=, 1);
  g_assert_true (entries->len == 1 || kept_in_failed ());
  for (guint i = 0; i < entries->len; i++)
    {
      EsaQueueEntry *e = g_ptr_array_index (entries, i);
      g_autoptr (EsaQueueEntry) loaded = NULL;
      g_autoptr (EsaReport) report = esa_queue_load (queue, e->uuid, &loaded, &error);
      g_assert_cmpstr (e->uuid, ==, UUID);
      if (report == NULL)
        {
          g_assert_nonnull (error);
          g_clear_error (&error);
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpstr (esa_report_get_uuid (report), ==, UUID);
      check_report (report);
    }
  for (guint i = 0; i < failed->len; i++)
    g_assert_cmpstr (((EsaQueueEntry *) g_ptr_array_index (failed, i))->uuid, ==, UUID);
  return 0;
}
