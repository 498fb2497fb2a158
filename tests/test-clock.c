/* test-clock.c: a wall clock set a year ahead and then corrected stalls
 * nothing (issue 10 item 6) — a report whose retry time was written then is
 * sent within backoff-max after a restart, and a job that ran "in the
 * future" is rescheduled from now once the clock is back (esad under
 * libfaketime, from Debian's faketime package: scripts/deps installs it). */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "esa-queue.h"
#include "esa-test-util.h"
#include "test-transport-util.h"
#include "esa/esa-report.h"

/* libfaketime's multi-threaded build, where Debian puts it. */
static char *
find_libfaketime (void)
{
  const char *const candidates[] = {
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/powerpc64le-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
  };
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (g_file_test (candidates[i], G_FILE_TEST_EXISTS))
      return g_strdup (candidates[i]);
  return NULL;
}

static JsonObject *
job_status (EtWorld *w, JsonNode **holder, const char *name)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *jobs;
  int rc = et_esactl (w, &out, &err, "--json", "status", NULL);
  g_assert_cmpint (rc, ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  *holder = json_node_copy (json_parser_get_root (parser));
  jobs = json_object_get_array_member (json_node_get_object (*holder), "jobs");
  for (guint i = 0; i < json_array_get_length (jobs); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (jobs, i), "name"), name) == 0)
      return json_array_get_object_element (jobs, i);
  g_assert_not_reached ();
}

/* Seconds from the real now to the ISO 8601 time @text. */
static gint64
secs_from_now (const char *text)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (text, NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_assert_nonnull (t);
  return g_date_time_difference (t, now) / G_TIME_SPAN_SECOND;
}

/* The spool holds a report whose next attempt is a year away (written while
 * the clock was a year ahead). With backoff-max=2s it goes out within
 * seconds of esad's start; the spool format is untouched. */
static void
test_clock_far_future_retry (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autofree char *spool = g_build_filename (w->state_dir, "spool", NULL);
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\n"
                                           "[queue]\nbackoff-min=1s\nbackoff-max=2s\n",
                                           w->port, w->sdc_dir);
  g_autoptr (EsaReport) report = esa_report_new ("heartbeat", "heartbeat");
  g_autoptr (GError) error = NULL;
  gint64 deadline;
  EsaQueue *queue;

  et_sdc_start (w, NULL);
  et_write_conf (w, text);
  et_esad_start (w, NULL);
  et_activate (w);
  et_esad_stop (w);

  g_assert_cmpint (g_mkdir_with_parents (spool, 0700), ==, 0);
  queue = esa_queue_open (spool, &error);
  g_assert_no_error (error);
  g_assert_true (esa_queue_enqueue (queue, report, &error));
  g_assert_true (esa_queue_reschedule (queue, esa_report_get_uuid (report), "SDC unreachable",
                                       g_get_real_time () / G_USEC_PER_SEC + 365 * 24 * 3600, &error));
  g_assert_no_error (error);
  esa_queue_free (queue);

  et_esad_start (w, NULL);
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (et_sdc_count_uuid (w, esa_report_get_uuid (report)) == 0 && g_get_monotonic_time () < deadline)
    g_usleep (200 * 1000);
  g_assert_cmpuint (et_sdc_count_uuid (w, esa_report_get_uuid (report)), ==, 1);
}

/* esad's clock jumps a year ahead, a job runs there, then the clock is set
 * back: the job's next run is recomputed from now, not left a year away. */
static void
test_clock_jobs_after_clock_back (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autofree char *lib = find_libfaketime ();
  g_autofree char *stamp = g_build_filename (w->dir, "faketime", NULL);
  g_autofree char *preload = NULL;
  g_autofree char *stamp_env = NULL;
  g_autoptr (JsonNode) h1 = NULL;
  g_autoptr (JsonNode) h2 = NULL;
  JsonObject *job;
  gint64 deadline;

  if (lib == NULL)
    g_error ("libfaketime not found: install Debian's faketime package (scripts/deps does)");
  preload = g_strdup_printf ("LD_PRELOAD=%s", lib);
  stamp_env = g_strdup_printf ("FAKETIME_TIMESTAMP_FILE=%s", stamp);
  esa_test_write_file (stamp, "+365d\n", 0644);
  et_install_plugin (w, "heartbeat");
  et_write_conf (w, "[job.heartbeat]\nschedule=every 1h\nsplay=0\n");
  {
    /* Only the wall clock jumps: GLib's timers use the monotonic one. */
    const char *env[] = { preload, stamp_env, "FAKETIME_NO_CACHE=1", "FAKETIME_DONT_FAKE_MONOTONIC=1",
                          "ASAN_OPTIONS=verify_asan_link_order=0", NULL };
    et_esad_start (w, env);
  }
  /* The job never ran: it runs at once, a year ahead. */
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  for (;;)
    {
      g_clear_pointer (&h1, json_node_unref);
      job = job_status (w, &h1, "heartbeat");
      if (json_object_get_string_member (job, "last_run") != NULL && !json_object_get_boolean_member (job, "running"))
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100 * 1000);
    }
  g_test_message ("ran at %s, next %s", json_object_get_string_member (job, "last_run"),
                  json_object_get_string_member (job, "next_run"));
  g_assert_cmpint (secs_from_now (json_object_get_string_member (job, "next_run")), >, 300 * 24 * 3600);

  /* The clock is corrected. */
  esa_test_write_file (stamp, "+0d\n", 0644);
  job = job_status (w, &h2, "heartbeat");
  g_test_message ("after the correction: next %s", json_object_get_string_member (job, "next_run"));
  g_assert_cmpint (secs_from_now (json_object_get_string_member (job, "next_run")), <=, 3600 + 5);
  g_assert_cmpint (secs_from_now (json_object_get_string_member (job, "next_run")), >=, 3600 - 60);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/clock/far-future-retry", test_clock_far_future_retry);
  g_test_add_func ("/clock/jobs-after-clock-back", test_clock_jobs_after_clock_back);
  return g_test_run ();
}
