/* test-dispatcher.c: jobs run in worker threads, their last run persists
 * across a restart, a missed slot is caught up once, events reach on-event
 * jobs (queued, never lost, while a run is in progress), run_now reports the
 * summary or the error prefixed with the plugin's name. (Schedule arithmetic
 * itself is in test-schedule.c.) */
#include "config.h"

#include <string.h>

#include "esa-engine-private.h"
#include "esa-schedule-private.h"
#include "esa-test-util.h"
#include "esa/esa-error.h"

/* ---- log capture: the dispatcher warns and criticals on purpose here ---- */

static GMutex log_lock;
static GPtrArray *logged;

static void
log_record_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  g_mutex_lock (&log_lock);
  g_ptr_array_add (logged, g_strdup_printf ("%s: %s", (level & G_LOG_LEVEL_CRITICAL) ? "CRITICAL"
                                                       : (level & G_LOG_LEVEL_WARNING) ? "WARNING" : "INFO",
                                            message));
  g_mutex_unlock (&log_lock);
}

static gboolean
log_fatal_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  return g_strcmp0 (domain, "esa") != 0;
}

static gboolean
logged_match (const char *pattern)
{
  gboolean found = FALSE;
  g_mutex_lock (&log_lock);
  for (guint i = 0; i < logged->len && !found; i++)
    found = g_pattern_match_simple (pattern, g_ptr_array_index (logged, i));
  g_mutex_unlock (&log_lock);
  return found;
}

/* ---- fixture: an engine (for its context) and a job recorder ---- */

typedef struct {
  GMutex lock;
  GCond cond;
  guint runs;
  GThread *thread;        /* of the last run */
  GPtrArray *events;      /* "event:what" per run, in order */
  gboolean hold;          /* runs wait for release */
  gboolean holding;       /* a run is waiting */
  const char *fail_with;  /* NULL: succeed; "": FALSE without error */
} Recorder;

typedef struct {
  char *dir;
  char *state_file;
  EsaEngine *engine;
  EsaContext *ctx;
  Recorder rec;
  guint log_handler;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer user_data)
{
  g_autofree char *conf = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  EsaConfig *config;

  logged = g_ptr_array_new_with_free_func (g_free);
  f->log_handler = g_log_set_handler ("esa", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, log_record_handler, NULL);
  g_test_log_set_fatal_handler (log_fatal_handler, NULL);

  f->dir = esa_test_mkdtemp ("esa-dispatcher");
  conf = g_build_filename (f->dir, "esa.conf", NULL);
  text = g_strdup_printf ("[agent]\nstate-dir=%s/state\nplugin-dir=%s/none\n", f->dir, f->dir);
  esa_test_write_file (conf, text, 0644);
  config = esa_config_load (conf, &error);
  g_assert_no_error (error);
  f->engine = esa_engine_new (config, &error);
  g_assert_no_error (error);
  f->ctx = esa_context_new (f->engine, NULL, "testplug");
  f->state_file = g_build_filename (f->dir, "jobs.json", NULL);
  g_mutex_init (&f->rec.lock);
  g_cond_init (&f->rec.cond);
  f->rec.events = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_teardown (Fixture *f, gconstpointer user_data)
{
  esa_context_free (f->ctx);
  esa_engine_free (f->engine);
  esa_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->state_file);
  g_ptr_array_unref (f->rec.events);
  g_mutex_clear (&f->rec.lock);
  g_cond_clear (&f->rec.cond);
  g_test_log_set_fatal_handler (NULL, NULL);
  g_log_remove_handler ("esa", f->log_handler);
  g_clear_pointer (&logged, g_ptr_array_unref);
}

static gboolean
record_job (EsaJobRun *run, gpointer user_data, GError **error)
{
  Recorder *rec = user_data;
  JsonObject *data = esa_job_run_get_event_data (run);
  g_autofree char *summary = NULL;
  g_mutex_lock (&rec->lock);
  rec->runs++;
  rec->thread = g_thread_self ();
  g_ptr_array_add (rec->events, g_strdup_printf ("%s:%s", esa_job_run_get_event (run) ? esa_job_run_get_event (run) : "-",
                                                 data ? json_object_get_string_member_with_default (data, "what", "?") : "-"));
  while (rec->hold)
    {
      rec->holding = TRUE;
      g_cond_wait (&rec->cond, &rec->lock);
    }
  rec->holding = FALSE;
  g_mutex_unlock (&rec->lock);
  if (g_cancellable_set_error_if_cancelled (esa_job_run_get_cancellable (run), error))
    return FALSE; /* what a job whose command was killed by a stop returns */
  g_assert_true (esa_job_run_get_context (run) != NULL);
  g_assert_nonnull (esa_job_run_get_cancellable (run));
  if (rec->fail_with != NULL && *rec->fail_with == '\0')
    return FALSE; /* the plugin bug: no error */
  if (rec->fail_with != NULL)
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_FAILED, rec->fail_with);
      return FALSE;
    }
  summary = g_strdup_printf ("run %u of %s", rec->runs, esa_job_run_get_job_name (run));
  esa_job_run_set_summary (run, summary);
  return TRUE;
}

static guint
rec_runs (Recorder *rec)
{
  guint n;
  g_mutex_lock (&rec->lock);
  n = rec->runs;
  g_mutex_unlock (&rec->lock);
  return n;
}

static gboolean
rec_holding (Recorder *rec)
{
  gboolean h;
  g_mutex_lock (&rec->lock);
  h = rec->holding;
  g_mutex_unlock (&rec->lock);
  return h;
}

static void
rec_release (Recorder *rec)
{
  g_mutex_lock (&rec->lock);
  rec->hold = FALSE;
  g_cond_broadcast (&rec->cond);
  g_mutex_unlock (&rec->lock);
}

/* Runs the main context for @ms, so anything that would wrongly run does. */
static void
spin (guint ms)
{
  gboolean done = FALSE;
  guint id = g_timeout_add (ms, esa_test_set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  (void) id;
}

static JsonObject *
job_json (EsaDispatcher *d, JsonNode **holder, const char *name)
{
  JsonArray *a;
  *holder = esa_dispatcher_to_json (d);
  a = json_node_get_array (*holder);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_str_equal (json_object_get_string_member (o, "name"), name))
        return o;
    }
  g_assert_not_reached ();
}

static EsaDispatcher *
new_dispatcher (Fixture *f, const char *job, const char *schedule)
{
  g_autoptr (GError) error = NULL;
  EsaDispatcher *d = esa_dispatcher_new (f->state_file, "test-host");
  g_assert_true (esa_dispatcher_add_job (d, f->ctx, job, schedule, 0, TRUE, record_job, &f->rec, NULL, &error));
  g_assert_no_error (error);
  return d;
}

static void
free_dispatcher (EsaDispatcher *d)
{
  esa_dispatcher_stop (d);
  ESA_TEST_WAIT_UNTIL (esa_dispatcher_get_running (d) == 0);
  esa_dispatcher_free (d);
}

static void
test_dispatcher_worker_thread (Fixture *f, gconstpointer user_data)
{
  /* "every" never run is due at once. */
  EsaDispatcher *d = new_dispatcher (f, "collect", "every 1h");
  g_autoptr (JsonNode) holder = NULL;
  JsonObject *o;
  esa_dispatcher_start (d);
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 1 && esa_dispatcher_get_running (d) == 0);
  g_assert_nonnull (f->rec.thread);
  g_assert_true (f->rec.thread != g_thread_self ());
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 0), ==, "-:-");
  o = job_json (d, &holder, "collect");
  g_assert_cmpstr (json_object_get_string_member (o, "plugin"), ==, "testplug");
  g_assert_cmpstr (json_object_get_string_member (o, "schedule"), ==, "every 1h");
  g_assert_cmpstr (json_object_get_string_member (o, "last_result"), ==, "ok: run 1 of collect");
  g_assert_false (json_object_get_boolean_member (o, "running"));
  g_assert_false (JSON_NODE_HOLDS_NULL (json_object_get_member (o, "last_run")));
  g_assert_false (JSON_NODE_HOLDS_NULL (json_object_get_member (o, "next_run")));
  g_assert_true (g_file_test (f->state_file, G_FILE_TEST_IS_REGULAR));
  free_dispatcher (d);
}

static void
test_dispatcher_persistence (Fixture *f, gconstpointer user_data)
{
  EsaDispatcher *d = new_dispatcher (f, "collect", "every 1h");
  g_autoptr (JsonNode) holder = NULL;
  g_autoptr (GDateTime) next = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  JsonObject *o;
  esa_dispatcher_start (d);
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 1 && esa_dispatcher_get_running (d) == 0);
  free_dispatcher (d);

  /* A restart right after: the job ran, nothing is due for an hour. */
  d = new_dispatcher (f, "collect", "every 1h");
  esa_dispatcher_start (d);
  g_assert_cmpuint (esa_dispatcher_get_running (d), ==, 0);
  spin (300);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 1);
  o = job_json (d, &holder, "collect");
  g_assert_cmpstr (json_object_get_string_member (o, "last_result"), ==, "ok: run 1 of collect");
  next = g_date_time_new_from_iso8601 (json_object_get_string_member (o, "next_run"), NULL);
  g_assert_nonnull (next);
  g_assert_cmpint (g_date_time_difference (next, now), >, 50 * G_TIME_SPAN_MINUTE);
  free_dispatcher (d);
}

/* A job "report" that last ran two days ago, due daily an hour ago:
 * writes its state file and returns the schedule. */
static char *
write_missed_daily (Fixture *f)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) slot = g_date_time_add_hours (now, -1);
  g_autoptr (GDateTime) two_days = g_date_time_add_days (now, -2);
  g_autofree char *last = g_date_time_format_iso8601 (two_days);
  g_autofree char *state = g_strdup_printf ("{\"report\": {\"last_run\": \"%s\", \"last_result\": \"ok\"}}", last);
  esa_test_write_file (f->state_file, state, 0600);
  return g_date_time_format (slot, "daily %H:%M");
}

static void
test_dispatcher_catch_up (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *schedule = write_missed_daily (f);
  EsaDispatcher *d;
  g_autoptr (JsonNode) holder = NULL;
  g_autoptr (GDateTime) next = NULL;
  JsonObject *o;

  d = new_dispatcher (f, "report", schedule);
  esa_dispatcher_start (d);
  /* Down across two slots: one run at start, not two. */
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) >= 1 && esa_dispatcher_get_running (d) == 0);
  spin (300);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 1);
  o = job_json (d, &holder, "report");
  next = g_date_time_new_from_iso8601 (json_object_get_string_member (o, "next_run"), NULL);
  g_assert_cmpint (g_date_time_compare (next, now), >, 0);
  free_dispatcher (d);
}

static void
test_dispatcher_daily_not_due (Fixture *f, gconstpointer user_data)
{
  /* Never ran and daily: it waits for its slot (no run at start). */
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) slot = g_date_time_add_hours (now, -1);
  g_autofree char *schedule = g_date_time_format (slot, "daily %H:%M");
  EsaDispatcher *d = new_dispatcher (f, "report", schedule);
  esa_dispatcher_start (d);
  spin (200);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 0);
  free_dispatcher (d);
}

static void
test_dispatcher_splay (Fixture *f, gconstpointer user_data)
{
  /* A daily job with a 2 h splay runs at a stable offset after its slot,
   * the same on every start of the same host. */
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) slot_time = g_date_time_add_hours (now, -1);
  g_autofree char *schedule = g_date_time_format (slot_time, "daily %H:%M");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) h1 = NULL;
  g_autoptr (JsonNode) h2 = NULL;
  g_autofree char *first = NULL;
  g_autoptr (GDateTime) next = NULL;
  g_autoptr (GDateTime) slot = NULL;
  EsaDispatcher *d = new_dispatcher (f, "report", schedule);
  GTimeSpan offset;

  g_assert_false (esa_dispatcher_set_splay (d, f->ctx, "no-such-job", 60, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (esa_dispatcher_set_splay (d, f->ctx, "report", 7200, &error));
  esa_dispatcher_start (d);
  first = g_strdup (json_object_get_string_member (job_json (d, &h1, "report"), "next_run"));
  free_dispatcher (d);
  /* the slot is tomorrow, same wall clock, whole minutes */
  slot = g_date_time_new_local (g_date_time_get_year (slot_time), g_date_time_get_month (slot_time),
                                g_date_time_get_day_of_month (slot_time), g_date_time_get_hour (slot_time),
                                g_date_time_get_minute (slot_time), 0);
  next = g_date_time_new_from_iso8601 (first, NULL);
  offset = g_date_time_difference (next, slot) - G_TIME_SPAN_DAY;
  g_assert_cmpint (offset, >=, 0);
  g_assert_cmpint (offset, <, 2 * G_TIME_SPAN_HOUR);

  d = new_dispatcher (f, "report", schedule);
  g_assert_true (esa_dispatcher_set_splay (d, f->ctx, "report", 7200, &error));
  esa_dispatcher_start (d);
  g_assert_cmpstr (json_object_get_string_member (job_json (d, &h2, "report"), "next_run"), ==, first);
  free_dispatcher (d);
}

static void
test_dispatcher_disabled (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  EsaDispatcher *d = esa_dispatcher_new (f->state_file, "test-host");
  g_assert_true (esa_dispatcher_add_job (d, f->ctx, "off", "every 1m", 0, FALSE, record_job, &f->rec, NULL, &error));
  esa_dispatcher_start (d);
  spin (200);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 0);
  free_dispatcher (d);
}

static void
test_dispatcher_add_errors (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  EsaDispatcher *d = esa_dispatcher_new (f->state_file, "test-host");
  g_assert_true (esa_dispatcher_add_job (d, f->ctx, "a", "every 1h", 0, TRUE, record_job, &f->rec, NULL, &error));
  g_assert_false (esa_dispatcher_add_job (d, f->ctx, "a", "every 2h", 0, TRUE, record_job, &f->rec, NULL, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (esa_dispatcher_add_job (d, f->ctx, "b", "hourly-ish", 0, TRUE, record_job, &f->rec, NULL, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  esa_dispatcher_free (d);
}

static void
test_dispatcher_bad_state_file (Fixture *f, gconstpointer user_data)
{
  EsaDispatcher *d;
  esa_test_write_file (f->state_file, "{\"collect\": {\"last_run\": \"whenever\"}, \"x\": 1", 0600);
  d = new_dispatcher (f, "collect", "every 1h");
  esa_dispatcher_start (d);
  /* History starts afresh (with a warning): the job is simply due. */
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 1 && esa_dispatcher_get_running (d) == 0);
  g_assert_true (logged_match ("WARNING: *jobs.json*job history starts afresh"));
  free_dispatcher (d);
}

/* Members of the wrong type (an edited file) read as absent, not a critical. */
static void
test_dispatcher_odd_state_file (Fixture *f, gconstpointer user_data)
{
  EsaDispatcher *d;
  esa_test_write_file (f->state_file, "{\"collect\": {\"last_run\": {\"t\": 1}, \"last_result\": [1]}}", 0600);
  d = new_dispatcher (f, "collect", "every 1h");
  esa_dispatcher_start (d);
  /* No last run: the job is simply due. */
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 1 && esa_dispatcher_get_running (d) == 0);
  free_dispatcher (d);
}

typedef struct {
  EsaDispatcher *d;
  const char *what;
} EmitArgs;

static gpointer
emit_thread (gpointer user_data)
{
  EmitArgs *ea = user_data;
  g_autoptr (JsonObject) data = json_object_new ();
  json_object_set_string_member (data, "what", ea->what);
  esa_dispatcher_emit (ea->d, "disk-error", data);
  return NULL;
}

static void
emit (EsaDispatcher *d, const char *event, const char *what)
{
  g_autoptr (JsonObject) data = json_object_new ();
  json_object_set_string_member (data, "what", what);
  esa_dispatcher_emit (d, event, data);
}

static void
test_dispatcher_events (Fixture *f, gconstpointer user_data)
{
  EsaDispatcher *d = new_dispatcher (f, "diag", "on-event:disk-error");
  EmitArgs ea = { d, "hdisk3" };
  GThread *t;

  esa_dispatcher_start (d);
  spin (100);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 0); /* on-event: never timed */

  f->rec.hold = TRUE;
  emit (d, "disk-error", "hdisk0");
  ESA_TEST_WAIT_UNTIL (rec_holding (&f->rec));
  /* While it runs, more events come in (one from another thread). */
  emit (d, "disk-error", "hdisk1");
  emit (d, "other-event", "ignored");
  emit (d, "disk-error", "hdisk2");
  t = g_thread_new ("emit", emit_thread, &ea);
  g_thread_join (t);
  spin (50);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 1);
  rec_release (&f->rec);
  /* None lost, in order, each with its own data. */
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 4 && esa_dispatcher_get_running (d) == 0);
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 0), ==, "disk-error:hdisk0");
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 1), ==, "disk-error:hdisk1");
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 2), ==, "disk-error:hdisk2");
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 3), ==, "disk-error:hdisk3");
  spin (50);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 4);
  free_dispatcher (d);
}

static void
test_dispatcher_event_named_like_job (Fixture *f, gconstpointer user_data)
{
  EsaDispatcher *d = new_dispatcher (f, "snap", "on-event");
  esa_dispatcher_start (d);
  emit (d, "snap", "problem-1");
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 1 && esa_dispatcher_get_running (d) == 0);
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 0), ==, "snap:problem-1");
  free_dispatcher (d);
}

typedef struct {
  gboolean done;
  char *summary;
  GError *error;
  EsaDispatcher *d;
} RunResult;

static void
run_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  RunResult *rr = user_data;
  rr->summary = esa_dispatcher_run_finish (rr->d, res, &rr->error);
  rr->done = TRUE;
}

static void
test_dispatcher_run_now (Fixture *f, gconstpointer user_data)
{
  EsaDispatcher *d = new_dispatcher (f, "collect", "weekly sun 03:00");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) data = json_object_new ();
  RunResult rr = { FALSE, NULL, NULL, d };

  esa_dispatcher_start (d);
  json_object_set_string_member (data, "what", "admin");
  g_assert_true (esa_dispatcher_run_now (d, "collect", "requested", data, run_cb, &rr, &error));
  g_assert_no_error (error);
  ESA_TEST_WAIT_UNTIL (rr.done);
  g_assert_no_error (rr.error);
  g_assert_cmpstr (rr.summary, ==, "run 1 of collect");
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 0), ==, "requested:admin");
  g_free (rr.summary);

  /* A failing run: the error comes back prefixed with the plugin's name. */
  memset (&rr, 0, sizeof rr);
  rr.d = d;
  f->rec.fail_with = "disk on fire";
  g_assert_true (esa_dispatcher_run_now (d, "collect", NULL, NULL, run_cb, &rr, &error));
  ESA_TEST_WAIT_UNTIL (rr.done);
  g_assert_null (rr.summary);
  g_assert_error (rr.error, ESA_ERROR, ESA_ERROR_FAILED);
  g_assert_cmpstr (rr.error->message, ==, "testplug: disk on fire");
  g_clear_error (&rr.error);
  g_assert_true (logged_match ("WARNING: failed to run testplug/collect: disk on fire"));

  /* Unknown job. */
  g_assert_false (esa_dispatcher_run_now (d, "nosuch", NULL, NULL, run_cb, &rr, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  ESA_TEST_WAIT_UNTIL (esa_dispatcher_get_running (d) == 0);
  free_dispatcher (d);
}

static void
test_dispatcher_fail_without_error (Fixture *f, gconstpointer user_data)
{
  EsaDispatcher *d = new_dispatcher (f, "collect", "on-event");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) holder = NULL;
  RunResult rr = { FALSE, NULL, NULL, d };
  JsonObject *o;

  esa_dispatcher_start (d);
  f->rec.fail_with = "";
  g_assert_true (esa_dispatcher_run_now (d, "collect", NULL, NULL, run_cb, &rr, &error));
  ESA_TEST_WAIT_UNTIL (rr.done);
  /* No crash: a critical naming the plugin, and an internal error. */
  g_assert_error (rr.error, ESA_ERROR, ESA_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (rr.error->message, "testplug: internal error"));
  g_clear_error (&rr.error);
  g_assert_true (logged_match ("CRITICAL: testplug: job collect failed without saying why"));
  o = job_json (d, &holder, "collect");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "last_result"), "error: internal error"));
  free_dispatcher (d);
}

typedef struct {
  EsaEngine *engine;
  EsaReport *report;
  GError *error;
  gboolean ok;
} WaitArgs;

static gpointer
submit_and_wait_thread (gpointer user_data)
{
  WaitArgs *a = user_data;
  a->ok = esa_engine_submit_and_wait (a->engine, a->report, 20, NULL, &a->error);
  return NULL;
}

/* A job waiting for its report's delivery is told at once when esad stops
 * (esad frees the engine a few seconds after stop, whatever still runs). */
static void
test_dispatcher_stop_wakes_waiters (Fixture *f, gconstpointer user_data)
{
  g_autoptr (EsaReport) report = esa_report_new ("heartbeat", "testplug");
  WaitArgs a = { f->engine, report, NULL, TRUE };
  GThread *t = g_thread_new ("waiter", submit_and_wait_thread, &a);
  /* Stop once the report is queued (the waiter is registered before that). */
  ESA_TEST_WAIT_UNTIL (esa_queue_count (esa_engine_get_queue (f->engine), NULL) == 1);
  esa_engine_stop (f->engine);
  g_thread_join (t);
  g_assert_false (a.ok);
  g_assert_error (a.error, ESA_ERROR, ESA_ERROR_NETWORK);
  g_assert_nonnull (strstr (a.error->message, "esad is stopping"));
  g_clear_error (&a.error);
}

typedef struct {
  EsaContext *ctx;
  gint done;
} ReloadRace;

static gpointer
reload_reader (gpointer user_data)
{
  ReloadRace *r = user_data;
  for (guint i = 0; i < 20000; i++)
    {
      g_autofree char *v = esa_context_get_string (r->ctx, "colour", NULL);
      g_autofree char *g = esa_context_get_global (r->ctx, "plugin.testplug", "colour");
      g_assert_cmpstr (v, ==, "blue");
      g_assert_cmpstr (g, ==, "blue");
    }
  g_atomic_int_set (&r->done, 1);
  return NULL;
}

/* A job reads its plugin's settings in a worker thread while SIGHUP swaps
 * the config in the main thread: the reader holds a reference, never a
 * freed key file (ASan builds catch the use-after-free this guards). */
static void
test_dispatcher_config_reload_race (Fixture *f, gconstpointer user_data)
{
  g_autofree char *conf = g_build_filename (f->dir, "esa.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[agent]\nstate-dir=%s/state\nplugin-dir=%s/none\n"
                                           "[plugin.testplug]\ncolour=blue\n", f->dir, f->dir);
  ReloadRace r = { f->ctx, 0 };
  GThread *reader;
  guint swaps = 0;
  esa_test_write_file (conf, text, 0644);
  esa_engine_set_config (f->engine, esa_config_load (conf, NULL));
  reader = g_thread_new ("reader", reload_reader, &r);
  while (!g_atomic_int_get (&r.done) || swaps < 10)
    {
      g_autoptr (GError) error = NULL;
      EsaConfig *config = esa_config_load (conf, &error);
      g_assert_no_error (error);
      esa_engine_set_config (f->engine, config);
      swaps++;
    }
  g_thread_join (reader);
  g_test_message ("%u reloads during the reads", swaps);
}


static GDateTime *
next_run_of (EsaDispatcher *d, const char *job)
{
  g_autoptr (JsonNode) holder = NULL;
  JsonObject *o = job_json (d, &holder, job);
  const char *text = json_object_get_string_member (o, "next_run");
  g_assert_nonnull (text);
  return g_date_time_new_from_iso8601 (text, NULL);
}

static gint64
failures_of (EsaDispatcher *d, const char *job)
{
  g_autoptr (JsonNode) holder = NULL;
  return json_object_get_int_member (job_json (d, &holder, job), "failures");
}

static void
run_and_wait (EsaDispatcher *d, const char *job)
{
  RunResult rr = { FALSE, NULL, NULL, d };
  g_autoptr (GError) error = NULL;
  g_assert_true (esa_dispatcher_run_now (d, job, NULL, NULL, run_cb, &rr, &error));
  ESA_TEST_WAIT_UNTIL (rr.done && esa_dispatcher_get_running (d) == 0);
  g_clear_error (&rr.error);
  g_free (rr.summary);
}

/* Seconds from now to @t. */
static gint64
secs_until (GDateTime *t)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  return g_date_time_difference (t, now) / G_TIME_SPAN_SECOND;
}

/* A failing job is retried after 1 min, then 2, 4 … (±25 %), not at its
 * next slot; a success resets it; the count survives a restart and shows in
 * the status (issue 9 item 6). */
static void
test_dispatcher_backoff (Fixture *f, gconstpointer user_data)
{
  EsaDispatcher *d = new_dispatcher (f, "collect", "every 1d");
  g_autoptr (GDateTime) n1 = NULL;
  g_autoptr (GDateTime) n2 = NULL;
  g_autoptr (GDateTime) n3 = NULL;
  g_autoptr (GDateTime) n4 = NULL;
  g_autoptr (GDateTime) n5 = NULL;
  g_autoptr (JsonNode) holder = NULL;

  f->rec.fail_with = "disk on fire";
  esa_dispatcher_start (d); /* never ran: runs at once, fails */
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 1 && esa_dispatcher_get_running (d) == 0);
  g_assert_cmpint (failures_of (d, "collect"), ==, 1);
  n1 = next_run_of (d, "collect");
  g_assert_cmpint (secs_until (n1), >=, 44);
  g_assert_cmpint (secs_until (n1), <=, 76);

  run_and_wait (d, "collect");
  g_assert_cmpint (failures_of (d, "collect"), ==, 2);
  n2 = next_run_of (d, "collect");
  g_assert_cmpint (secs_until (n2), >=, 89);
  g_assert_cmpint (secs_until (n2), <=, 151);
  g_assert_nonnull (strstr (json_object_get_string_member (job_json (d, &holder, "collect"), "last_result"),
                            "2 failures in a row"));

  run_and_wait (d, "collect");
  run_and_wait (d, "collect");
  g_assert_cmpint (failures_of (d, "collect"), ==, 4);
  n3 = next_run_of (d, "collect");
  g_assert_cmpint (secs_until (n3), >=, 359);
  g_assert_cmpint (secs_until (n3), <=, 601);
  free_dispatcher (d);

  /* Restarted: the count is kept, and the retry is not forgotten. */
  d = new_dispatcher (f, "collect", "every 1d");
  esa_dispatcher_start (d);
  g_assert_cmpint (failures_of (d, "collect"), ==, 4);
  n4 = next_run_of (d, "collect");
  g_assert_cmpint (secs_until (n4), <=, 481);
  g_assert_cmpint (secs_until (n4), >=, 400);

  /* Many failures: capped at an hour (±25 %). */
  for (guint i = 0; i < 4; i++)
    run_and_wait (d, "collect");
  g_assert_cmpint (failures_of (d, "collect"), ==, 8);
  g_clear_pointer (&n4, g_date_time_unref);
  n4 = next_run_of (d, "collect");
  g_assert_cmpint (secs_until (n4), >=, 2699);
  g_assert_cmpint (secs_until (n4), <=, 4501);

  /* Success: back to the regular slot, count reset. */
  f->rec.fail_with = NULL;
  run_and_wait (d, "collect");
  g_assert_cmpint (failures_of (d, "collect"), ==, 0);
  n5 = next_run_of (d, "collect");
  g_assert_cmpint (secs_until (n5), >=, 86000);
  free_dispatcher (d);
}

/* Backoff never delays past the regular slot: an "every 90s" job retries
 * at its slot, not after 2 min. */
static void
test_dispatcher_backoff_slot_first (Fixture *f, gconstpointer user_data)
{
  EsaDispatcher *d = new_dispatcher (f, "collect", "every 90s");
  g_autoptr (GDateTime) next = NULL;
  f->rec.fail_with = "disk on fire";
  esa_dispatcher_start (d);
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 1 && esa_dispatcher_get_running (d) == 0);
  for (guint i = 0; i < 3; i++)
    run_and_wait (d, "collect");
  g_assert_cmpint (failures_of (d, "collect"), ==, 4);
  next = next_run_of (d, "collect");
  g_assert_cmpint (secs_until (next), <=, 91);
  free_dispatcher (d);
}

/* A run missed while the agent was down waits its stable per-host splay
 * offset after start-up, not due at once on every host (issue 9 item 6). */
static void
test_dispatcher_catch_up_splay (Fixture *f, gconstpointer user_data)
{
  g_autofree char *schedule = write_missed_daily (f);
  guint64 offset = esa_splay_offset ("test-host/report", 7200);
  g_autoptr (GDateTime) next = NULL;
  g_autoptr (GDateTime) next_other = NULL;
  EsaDispatcher *d;
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (offset, >, 2);
  d = new_dispatcher (f, "report", schedule);
  g_assert_true (esa_dispatcher_set_splay (d, f->ctx, "report", 7200, &error));
  esa_dispatcher_start (d);
  spin (300);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 0);
  next = next_run_of (d, "report");
  g_assert_cmpint (secs_until (next), >=, (gint64) offset - 2);
  g_assert_cmpint (secs_until (next), <=, (gint64) offset + 1);
  free_dispatcher (d);

  /* Another host: another offset. */
  d = esa_dispatcher_new (f->state_file, "other-host");
  g_assert_true (esa_dispatcher_add_job (d, f->ctx, "report", schedule, 7200, TRUE, record_job, &f->rec, NULL, &error));
  esa_dispatcher_start (d);
  next_other = next_run_of (d, "report");
  g_assert_cmpint (g_date_time_compare (next, next_other), !=, 0);
  free_dispatcher (d);
}


static guint
count_files (const char *dir, const char *suffix)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    n += g_str_has_suffix (name, suffix);
  return n;
}

/* What a crash leaves in <state>/events/ is run at the next start, in order,
 * with its data, and removed once it ran; files that are not pending runs
 * are set aside as .bad with a warning naming them (issue 10 item 5). */
static void
test_dispatcher_event_records_resumed (Fixture *f, gconstpointer user_data)
{
  g_autofree char *events = g_build_filename (f->dir, "events", NULL);
  g_autofree char *a = g_build_filename (events, "00000000000000000001-a.json", NULL);
  g_autofree char *b = g_build_filename (events, "00000000000000000002-b.json", NULL);
  g_autofree char *bad1 = g_build_filename (events, "00000000000000000003-c.json", NULL);
  g_autofree char *bad2 = g_build_filename (events, "00000000000000000004-d.json", NULL);
  g_autofree char *other = g_build_filename (events, "00000000000000000005-e.json", NULL);
  EsaDispatcher *d;

  esa_test_write_file (a, "{\"job\": \"diag\", \"event\": \"disk-error\", \"data\": {\"what\": \"hdisk1\"}}", 0600);
  esa_test_write_file (b, "{\"job\": \"diag\", \"event\": \"disk-error\", \"data\": {\"what\": \"hdisk2\"}}", 0600);
  esa_test_write_file (bad1, "{\"job\": \"diag\", \"event\": ", 0600);
  esa_test_write_file (bad2, "{\"job\": 7, \"event\": \"disk-error\"}", 0600);
  esa_test_write_file (other, "{\"job\": \"not-loaded\", \"event\": \"x\"}", 0600);
  d = new_dispatcher (f, "diag", "on-event:disk-error");
  esa_dispatcher_start (d);
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 2 && esa_dispatcher_get_running (d) == 0);
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 0), ==, "disk-error:hdisk1");
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 1), ==, "disk-error:hdisk2");
  g_assert_false (g_file_test (a, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (b, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_files (events, ".bad"), ==, 2);
  g_assert_true (logged_match ("WARNING: *00000000000000000003-c.json: *set aside as*"));
  g_assert_true (logged_match ("WARNING: *00000000000000000004-d.json: not a pending event run (expected an object with \"job\" and \"event\" strings)*"));
  /* a job that is not loaded keeps its run for later */
  g_assert_true (g_file_test (other, G_FILE_TEST_EXISTS));
  spin (100);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 2);
  free_dispatcher (d);
}

/* An emitted event is on disk before the run starts, stays while it runs
 * and when esad stops in the middle (cancelled), and is gone after the run
 * that finished — the next start runs it exactly then. */
static void
test_dispatcher_event_record_lifecycle (Fixture *f, gconstpointer user_data)
{
  g_autofree char *events = g_build_filename (f->dir, "events", NULL);
  EsaDispatcher *d = new_dispatcher (f, "diag", "on-event:disk-error");
  esa_dispatcher_start (d);
  f->rec.hold = TRUE;
  emit (d, "disk-error", "hdisk0");
  g_assert_cmpuint (count_files (events, ".json"), ==, 1); /* before it even started */
  ESA_TEST_WAIT_UNTIL (rec_holding (&f->rec));
  emit (d, "disk-error", "hdisk1"); /* queued behind the running one */
  g_assert_cmpuint (count_files (events, ".json"), ==, 2);
  esa_dispatcher_stop (d);
  rec_release (&f->rec);
  ESA_TEST_WAIT_UNTIL (esa_dispatcher_get_running (d) == 0);
  esa_dispatcher_free (d);
  g_assert_cmpuint (rec_runs (&f->rec), ==, 1);
  g_assert_cmpuint (count_files (events, ".json"), ==, 2);

  d = new_dispatcher (f, "diag", "on-event:disk-error");
  esa_dispatcher_start (d);
  ESA_TEST_WAIT_UNTIL (rec_runs (&f->rec) == 3 && esa_dispatcher_get_running (d) == 0);
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 1), ==, "disk-error:hdisk0");
  g_assert_cmpstr (g_ptr_array_index (f->rec.events, 2), ==, "disk-error:hdisk1");
  g_assert_cmpuint (count_files (events, ".json"), ==, 0);
  free_dispatcher (d);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/dispatcher/splay", test_dispatcher_splay);
  ADD ("/dispatcher/worker-thread", test_dispatcher_worker_thread);
  ADD ("/dispatcher/persistence", test_dispatcher_persistence);
  ADD ("/dispatcher/catch-up", test_dispatcher_catch_up);
  ADD ("/dispatcher/daily-not-due", test_dispatcher_daily_not_due);
  ADD ("/dispatcher/disabled", test_dispatcher_disabled);
  ADD ("/dispatcher/add-errors", test_dispatcher_add_errors);
  ADD ("/dispatcher/bad-state-file", test_dispatcher_bad_state_file);
  ADD ("/dispatcher/odd-state-file", test_dispatcher_odd_state_file);
  ADD ("/dispatcher/events", test_dispatcher_events);
  ADD ("/dispatcher/event-named-like-job", test_dispatcher_event_named_like_job);
  ADD ("/dispatcher/run-now", test_dispatcher_run_now);
  ADD ("/dispatcher/fail-without-error", test_dispatcher_fail_without_error);
  ADD ("/dispatcher/config-reload-race", test_dispatcher_config_reload_race);
  ADD ("/dispatcher/stop-wakes-waiters", test_dispatcher_stop_wakes_waiters);
  ADD ("/dispatcher/backoff", test_dispatcher_backoff);
  ADD ("/dispatcher/backoff-slot-first", test_dispatcher_backoff_slot_first);
  ADD ("/dispatcher/catch-up-splay", test_dispatcher_catch_up_splay);
  ADD ("/dispatcher/event-records-resumed", test_dispatcher_event_records_resumed);
  ADD ("/dispatcher/event-record-lifecycle", test_dispatcher_event_record_lifecycle);
#undef ADD
  return g_test_run ();
}
