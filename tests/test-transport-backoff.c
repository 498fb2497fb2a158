/* test-transport-backoff.c: the sender's retry delay — min * 2^attempts,
 * capped at max, then ±25 % jitter so a fleet does not retry in step; and
 * what a pass tells the main loop while it runs (in-process, through the
 * file transport). */
#include "config.h"

#include "esa-sender.h"
#include "esa-engine.h"
#include "esa-file-transport.h"
#include "esa-test-util.h"
#include "esa/esa-json.h"

static void
test_backoff_growth (void)
{
  /* random01 = 0.5 is the middle of the jitter: the exact delay. */
  g_assert_cmpuint (esa_sender_backoff (0, 60, 21600, 0.5), ==, 60);
  g_assert_cmpuint (esa_sender_backoff (1, 60, 21600, 0.5), ==, 120);
  g_assert_cmpuint (esa_sender_backoff (2, 60, 21600, 0.5), ==, 240);
  g_assert_cmpuint (esa_sender_backoff (5, 60, 21600, 0.5), ==, 1920);
  /* Each step at least doubles until the cap. */
  for (guint a = 0; a < 8; a++)
    g_assert_cmpuint (esa_sender_backoff (a + 1, 60, 21600, 0.5), ==,
                      2 * esa_sender_backoff (a, 60, 21600, 0.5));
}

static void
test_backoff_cap (void)
{
  g_assert_cmpuint (esa_sender_backoff (9, 60, 21600, 0.5), ==, 21600);
  g_assert_cmpuint (esa_sender_backoff (30, 60, 21600, 0.5), ==, 21600);
  /* Huge attempt counts neither overflow nor wrap to a short delay. */
  g_assert_cmpuint (esa_sender_backoff (G_MAXUINT, 60, 21600, 0.5), ==, 21600);
  g_assert_cmpuint (esa_sender_backoff (1000, 1, G_MAXUINT32, 0.5), ==, G_MAXUINT32);
  /* min == max: always that (± jitter). */
  g_assert_cmpuint (esa_sender_backoff (0, 300, 300, 0.5), ==, 300);
  g_assert_cmpuint (esa_sender_backoff (7, 300, 300, 0.5), ==, 300);
}

static void
test_backoff_jitter (void)
{
  /* The jitter spans [0.75, 1.25) of the delay, capped delay included. */
  g_assert_cmpuint (esa_sender_backoff (0, 60, 21600, 0.0), ==, 45);
  g_assert_cmpuint (esa_sender_backoff (0, 60, 21600, 1.0), ==, 75);
  g_assert_cmpuint (esa_sender_backoff (20, 60, 21600, 0.0), ==, 16200);
  g_assert_cmpuint (esa_sender_backoff (20, 60, 21600, 1.0), ==, 27000);
  for (guint i = 0; i < 1000; i++)
    {
      double r = g_random_double ();
      guint attempts = g_random_int_range (0, 20);
      guint64 base = MIN ((guint64) 60 << attempts, (guint64) 21600);
      guint64 d = esa_sender_backoff (attempts, 60, 21600, r);
      g_assert_cmpuint (d, >=, (guint64) (base * 0.75) - 1);
      g_assert_cmpuint (d, <=, (guint64) (base * 1.25) + 1);
    }
  /* Monotonic in the random number: no surprise inversions. */
  for (double r = 0.0; r < 0.99; r += 0.01)
    g_assert_cmpuint (esa_sender_backoff (3, 60, 21600, r), <=, esa_sender_backoff (3, 60, 21600, r + 0.01));
}

static void
test_backoff_floor (void)
{
  /* Never 0 s (a tight retry loop), even with the lowest jitter. */
  g_assert_cmpuint (esa_sender_backoff (0, 1, 1, 0.0), ==, 1);
  g_assert_cmpuint (esa_sender_backoff (0, 1, 10, 0.0), >=, 1);
}

typedef struct {
  EsaEngine *engine;
  EsaReport *report;
  GError *error;
  gboolean ok;
  gint done;
} WaitArgs;

static gpointer
submit_and_wait_thread (gpointer user_data)
{
  WaitArgs *a = user_data;
  a->ok = esa_engine_submit_and_wait (a->engine, a->report, 120, NULL, &a->error);
  g_atomic_int_set (&a->done, 1);
  return NULL;
}

/* An engine whose transport writes to <dir>/outbox (the file transport),
 * its state under <dir>/state, no plugins. */
static EsaEngine *
file_engine_new (const char *dir)
{
  g_autofree char *conf = g_build_filename (dir, "esa.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[agent]\nstate-dir=%s/state\nplugin-dir=%s/none\n"
                                           "[transport]\ntype=file\noutbox=%s/outbox\n", dir, dir, dir);
  g_autoptr (GError) error = NULL;
  EsaConfig *config;
  EsaEngine *engine;
  esa_transport_register ("file", ESA_TYPE_FILE_TRANSPORT);
  esa_test_write_file (conf, text, 0644);
  config = esa_config_load (conf, &error);
  g_assert_no_error (error);
  engine = esa_engine_new (config, &error);
  g_assert_no_error (error);
  return engine;
}

#define PASS_REPORTS 500

/* A job waiting for its report (the oldest of 500 queued) hears of the
 * delivery soon after it, not when the pass has sent all 500: a pass hands
 * what it learns to the main loop in pieces (and so does not hold a record
 * of every report of a long drain until it ends). */
static void
test_answers_during_pass (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-sender-pieces");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaReport) first = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "test");
  WaitArgs a = { NULL, first, NULL, FALSE, 0 };
  EsaEngine *engine = file_engine_new (dir);
  EsaQueue *queue;
  EsaSender *sender;
  GThread *t;
  guint left_when_told = 0;

  queue = esa_engine_get_queue (engine);
  a.engine = engine;
  t = g_thread_new ("waiter", submit_and_wait_thread, &a);
  ESA_TEST_WAIT_UNTIL (esa_queue_count (queue, NULL) == 1);
  for (guint i = 1; i < PASS_REPORTS; i++)
    {
      g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "test");
      g_assert_true (esa_engine_submit (engine, r, &error));
      g_assert_no_error (error);
    }
  sender = esa_sender_new (engine);
  esa_sender_kick (sender);
  while (!g_atomic_int_get (&a.done))
    g_main_context_iteration (NULL, TRUE);
  left_when_told = esa_queue_count (queue, NULL);
  g_thread_join (t);
  g_assert_no_error (a.error);
  g_assert_true (a.ok);
  g_test_message ("told with %u of %u reports still queued", left_when_told, PASS_REPORTS);
  /* Before, at the end of the pass: none left. */
  g_assert_cmpuint (left_when_told, >, PASS_REPORTS / 2);
  ESA_TEST_WAIT_UNTIL (esa_queue_count (queue, NULL) == 0);
  esa_sender_free (sender);
  esa_engine_free (engine);
  esa_test_rmtree (dir);
}

#define MERGE_REPORTS 3000

static void
on_drained (GObject *source, GAsyncResult *res, gpointer user_data)
{
  JsonNode **out = user_data;
  g_autoptr (GError) error = NULL;
  *out = esa_sender_drain_finish (NULL, res, &error);
  g_assert_no_error (error);
}

/* esactl queue send during a long drain: what the passes learn is merged
 * for the waiting caller in work linear in the reports (it compared each
 * record with every one before it: 3,000 reports, ~4.5 million steps, and
 * esad's main loop frozen for minutes at 100,000). Counted, not timed. */
static void
test_merge_linear (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-sender-merge");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GHashTable) uuids = g_hash_table_new (g_str_hash, g_str_equal);
  EsaEngine *engine = file_engine_new (dir);
  EsaSender *sender;
  JsonArray *delivered;

  for (guint i = 0; i < MERGE_REPORTS; i++)
    {
      g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, "test");
      g_assert_true (esa_engine_submit (engine, r, &error));
      g_assert_no_error (error);
    }
  sender = esa_sender_new (engine);
  esa_sender_drain_async (sender, on_drained, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  delivered = json_object_get_array_member (json_node_get_object (result), "delivered");
  g_assert_cmpuint (json_array_get_length (delivered), ==, MERGE_REPORTS);
  /* Each delivered once in the answer. */
  for (guint i = 0; i < MERGE_REPORTS; i++)
    g_hash_table_add (uuids, (gpointer) esa_json_peek_string (json_array_get_object_element (delivered, i), "uuid"));
  g_assert_cmpuint (g_hash_table_size (uuids), ==, MERGE_REPORTS);
  g_test_message ("%" G_GUINT64_FORMAT " merge steps for %u reports", esa_sender_merge_steps (sender), MERGE_REPORTS);
  g_assert_cmpuint (esa_sender_merge_steps (sender), <=, 4 * MERGE_REPORTS);
  ESA_TEST_WAIT_UNTIL (esa_queue_count (esa_engine_get_queue (engine), NULL) == 0);
  esa_sender_free (sender);
  esa_engine_free (engine);
  esa_test_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/transport/backoff/growth", test_backoff_growth);
  g_test_add_func ("/transport/backoff/cap", test_backoff_cap);
  g_test_add_func ("/transport/backoff/jitter", test_backoff_jitter);
  g_test_add_func ("/transport/backoff/floor", test_backoff_floor);
  g_test_add_func ("/transport/sender/answers-during-pass", test_answers_during_pass);
  g_test_add_func ("/transport/sender/merge-linear", test_merge_linear);
  return g_test_run ();
}
