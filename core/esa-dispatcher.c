/* esa-dispatcher.c: the job scheduler. Each run is a GTask in a worker thread
 * so a collector blocked on a slow command never stalls the main loop; the
 * last run of every job is written to a state file after it ends, and every
 * run an event asked for is a file in <state>/events/ from the moment the
 * event is emitted until the run has finished, so a crash never loses one. */
#include "config.h"

#include "esa-dispatcher.h"
#include "esa-context-private.h"
#include "esa-fileutil.h"
#include "esa-memory-private.h"
#include "esa-schedule-private.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"
#include "esa-preview.h"
#include "esa-report-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

/* A pending event run's file: small JSON, written by us, read at start-up. */
#define EVENT_RECORD_MAX_BYTES (4 * 1024 * 1024)
#define EVENT_RECORD_MAX_DEPTH 64

/* The timer wakes at least this often, so a stepped clock or a suspend is
 * noticed within a minute without any polling in between. */
#define MAX_SLEEP_S 60

/* A failing scheduled run is retried after BACKOFF_MIN_S, doubling per
 * consecutive failure up to BACKOFF_MAX_S, each delay jittered by ±25 % so
 * a fleet failing together does not retry together; never later than the
 * job's next regular slot, which runs anyway (docs/reliability.md). */
#define BACKOFF_MIN_S 60
#define BACKOFF_MAX_S 3600

typedef struct {
  char *event;
  JsonObject *data;
  GTask *waiter; /* run_now caller, or NULL */
  char *record;  /* <state>/events/ file of an emitted event, or NULL */
  JsonObject *record_obj; /* its content, when read at start-up */
  EsaQueue *preview; /* esa_dispatcher_preview: where its reports go (borrowed) */
} PendingRun;

typedef struct {
  char *name;
  EsaContext *ctx;
  EsaSchedule *schedule;
  guint64 splay_s;
  gboolean enabled;
  EsaJobFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  GDateTime *last_run;
  GDateTime *next_run;   /* NULL for on-event jobs */
  char *last_result;     /* "ok: summary" or the error */
  guint failures;        /* consecutive failed scheduled runs (persisted) */
  gboolean running;
  GQueue pending;        /* PendingRun*: events that arrived while running */
} Job;

struct _EsaJobRun {
  Job *job;
  char *event;
  JsonObject *data;
  char *record;         /* removed once the run has finished */
  JsonObject *record_obj; /* its content, read at the first report with a parent */
  GHashTable *claimed;  /* uuids of the record's reports this attempt submitted */
  GCancellable *cancellable;
  char *summary;
  GDateTime *started;
  EsaQueue *preview;     /* a preview run: its reports go here, not to the queue */
};

struct _EsaDispatcher {
  char *state_file;
  char *events_dir;     /* pending event runs, one file each */
  char *seed;
  GPtrArray *jobs;      /* Job* */
  GTimeZone *tz;
  guint timer_id;
  GCancellable *cancellable;
  guint running;
  gboolean started;
  GMainContext *main_context;
  EsaQueue *queue;      /* the spool, for reconciling event records at start */
};

/* The run whose job body this worker thread is executing (esa_engine_submit). */
static GPrivate current_run;

static void pending_free (PendingRun *p)
{
  g_free (p->event);
  if (p->data != NULL)
    json_object_unref (p->data);
  g_clear_object (&p->waiter);
  g_free (p->record);
  if (p->record_obj != NULL)
    json_object_unref (p->record_obj);
  g_free (p);
}

static void
job_free (Job *job)
{
  if (job->destroy != NULL)
    job->destroy (job->user_data);
  g_free (job->name);
  esa_schedule_free (job->schedule);
  g_clear_pointer (&job->last_run, g_date_time_unref);
  g_clear_pointer (&job->next_run, g_date_time_unref);
  g_free (job->last_result);
  g_queue_clear_full (&job->pending, (GDestroyNotify) pending_free);
  g_free (job);
}

static void
run_free (EsaJobRun *run)
{
  g_free (run->event);
  if (run->data != NULL)
    json_object_unref (run->data);
  g_free (run->record);
  if (run->record_obj != NULL)
    json_object_unref (run->record_obj);
  g_hash_table_unref (run->claimed);
  g_clear_object (&run->cancellable);
  g_free (run->summary);
  g_clear_pointer (&run->started, g_date_time_unref);
  g_free (run);
}

/* ---- EsaJobRun accessors (public API) ---- */

EsaContext *esa_job_run_get_context (EsaJobRun *run) { return run->job->ctx; }
const char *esa_job_run_get_job_name (EsaJobRun *run) { return run->job->name; }
const char *esa_job_run_get_event (EsaJobRun *run) { return run->event; }
JsonObject *esa_job_run_get_event_data (EsaJobRun *run) { return run->data; }
GCancellable *esa_job_run_get_cancellable (EsaJobRun *run) { return run->cancellable; }

void
esa_job_run_set_summary (EsaJobRun *run, const char *summary)
{
  g_free (run->summary);
  run->summary = g_strdup (summary);
}

/* ---- state file ---- */

static void
load_state (EsaDispatcher *self)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root;
  if (!g_file_test (self->state_file, G_FILE_TEST_EXISTS))
    return;
  if (!json_parser_load_from_file (parser, self->state_file, &error))
    {
      g_warning ("%s: %s; job history starts afresh", self->state_file, error->message);
      return;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_warning ("%s: not a JSON object; job history starts afresh", self->state_file);
      return;
    }
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      /* An edited file is outside input: a member of the wrong type reads as absent. */
      JsonObject *jo = esa_json_peek_object (json_node_get_object (root), job->name);
      const char *last;
      if (jo == NULL)
        continue;
      last = esa_json_peek_string (jo, "last_run");
      if (last != NULL)
        {
          g_clear_pointer (&job->last_run, g_date_time_unref);
          job->last_run = g_date_time_new_from_iso8601 (last, NULL);
          if (job->last_run == NULL)
            g_warning ("%s: job %s: last_run \"%s\" is not a time; treated as never", self->state_file,
                       job->name, last);
        }
      g_free (job->last_result);
      job->last_result = g_strdup (esa_json_peek_string (jo, "last_result"));
      job->failures = (guint) CLAMP (esa_json_peek_int (jo, "failures", 0), 0, 1000);
    }
}

static void
save_state (EsaDispatcher *self)
{
  g_autoptr (JsonObject) root = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      JsonObject *jo;
      g_autofree char *last = NULL;
      if (job->last_run == NULL)
        continue;
      jo = json_object_new ();
      last = g_date_time_format_iso8601 (job->last_run);
      json_object_set_string_member (jo, "last_run", last);
      if (job->last_result != NULL)
        json_object_set_string_member (jo, "last_result", job->last_result);
      if (job->failures > 0)
        json_object_set_int_member (jo, "failures", job->failures);
      json_object_set_object_member (root, job->name, jo);
    }
  json_node_set_object (node, root);
  text = esa_json_to_string (node, TRUE);
  if (!esa_file_write_atomic (self->state_file, NULL, text, strlen (text), 0600, &error))
    g_warning ("cannot save job history: %s", error->message);
}

/* ---- scheduling ---- */

static void arm_timer (EsaDispatcher *self);
static void start_run (EsaDispatcher *self, Job *job, PendingRun *p);
static void resume_event_runs (EsaDispatcher *self);

/* The job's first regular slot after @from (splay included), or NULL. */
static GDateTime *
slot_after (EsaDispatcher *self, Job *job, GDateTime *from)
{
  g_autoptr (GDateTime) next = NULL;
  if (!job->enabled || esa_schedule_get_kind (job->schedule) == ESA_SCHEDULE_ON_EVENT)
    return NULL;
  next = esa_schedule_next (job->schedule, from, self->tz);
  if (next == NULL)
    return NULL;
  if (job->splay_s > 0 && esa_schedule_get_kind (job->schedule) != ESA_SCHEDULE_EVERY)
    {
      g_autofree char *seed = g_strdup_printf ("%s/%s", self->seed, job->name);
      return g_date_time_add_seconds (next, (gdouble) esa_splay_offset (seed, job->splay_s));
    }
  return g_steal_pointer (&next);
}

static void
compute_next (EsaDispatcher *self, Job *job, GDateTime *from)
{
  g_clear_pointer (&job->next_run, g_date_time_unref);
  job->next_run = slot_after (self, job, from);
}

/* A next run computed by this dispatcher is never later than the job's
 * first slot after now plus its splay (a retry only comes sooner, a catch-up
 * waits less than the splay). One that is later was computed while the wall clock was ahead — a year, say, then
 * set back — and would stall the job for that long: it is recomputed from
 * now. Runs at every timer wake-up (at least once a minute) and status read. */
static void
recheck_clock (EsaDispatcher *self)
{
  g_autoptr (GDateTime) now = g_date_time_new_now (self->tz);
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      g_autoptr (GDateTime) fresh = NULL;
      g_autofree char *was = NULL;
      if (job->next_run == NULL || job->running)
        continue;
      fresh = slot_after (self, job, now);
      /* The splay allowance: a catch-up run waits up to the splay. */
      if (fresh == NULL ||
          g_date_time_difference (job->next_run, fresh) <= (GTimeSpan) (job->splay_s + 60) * G_TIME_SPAN_SECOND)
        continue;
      was = g_date_time_format_iso8601 (job->next_run);
      g_message ("job %s: next run %s is past its next slot: the clock went back; rescheduled", job->name, was);
      g_clear_pointer (&job->next_run, g_date_time_unref);
      job->next_run = g_steal_pointer (&fresh);
      /* A last run "in the future" would make a restart think so too. */
      if (job->last_run != NULL && g_date_time_compare (job->last_run, now) > 0)
        {
          g_clear_pointer (&job->last_run, g_date_time_unref);
          job->last_run = g_date_time_ref (now);
          save_state (self);
        }
    }
}

/* The delay before retrying a job that failed @failures times in a row. */
static gint64
backoff_delay_s (guint failures, gboolean jitter)
{
  gint64 delay = BACKOFF_MIN_S;
  for (guint i = 1; i < failures && delay < BACKOFF_MAX_S; i++)
    delay *= 2;
  delay = MIN (delay, BACKOFF_MAX_S);
  if (jitter)
    delay = (gint64) ((gdouble) delay * g_random_double_range (0.75, 1.25));
  return MAX (delay, 1);
}

/* After a failed scheduled run: retry at @from + backoff, unless the next
 * regular slot (already in ->next_run) comes first. */
static void
apply_backoff (Job *job, GDateTime *from, gboolean jitter)
{
  g_autoptr (GDateTime) retry = NULL;
  if (job->failures == 0 || !job->enabled || esa_schedule_get_kind (job->schedule) == ESA_SCHEDULE_ON_EVENT)
    return;
  retry = g_date_time_add_seconds (from, (gdouble) backoff_delay_s (job->failures, jitter));
  if (job->next_run == NULL || g_date_time_compare (retry, job->next_run) < 0)
    {
      g_clear_pointer (&job->next_run, g_date_time_unref);
      job->next_run = g_steal_pointer (&retry);
    }
}

static gboolean
on_timer (gpointer user_data)
{
  EsaDispatcher *self = user_data;
  g_autoptr (GDateTime) now = g_date_time_new_now (self->tz);
  self->timer_id = 0;
  recheck_clock (self);
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      if (job->next_run != NULL && g_date_time_compare (job->next_run, now) <= 0 && !job->running)
        start_run (self, job, NULL);
    }
  arm_timer (self);
  return G_SOURCE_REMOVE;
}

static void
arm_timer (EsaDispatcher *self)
{
  g_autoptr (GDateTime) now = g_date_time_new_now (self->tz);
  gint64 sleep_s = MAX_SLEEP_S;
  GSource *source;
  if (!self->started)
    return;
  if (self->timer_id != 0)
    g_source_remove (self->timer_id);
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      if (job->next_run != NULL && !job->running)
        sleep_s = MIN (sleep_s, MAX (0, g_date_time_difference (job->next_run, now) / G_USEC_PER_SEC));
    }
  /* +1 so we wake just after the slot, not a hair before it. */
  source = g_timeout_source_new_seconds ((guint) sleep_s + 1);
  g_source_set_callback (source, on_timer, self, NULL);
  g_source_set_name (source, "esa-dispatcher");
  self->timer_id = g_source_attach (source, self->main_context);
  g_source_unref (source);
}

static void test_hook_stall (EsaJobRun *run, const char *point);

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EsaJobRun *run = task_data;
  GError *error = NULL;
  gboolean ok;
  esa_preview_set_sink (run->preview);
  g_private_set (&current_run, run);
  ok = run->job->func (run, run->job->user_data, &error);
  g_private_set (&current_run, NULL);
  esa_preview_set_sink (NULL);
  if (run->record != NULL)
    test_hook_stall (run, "event-run-returned");
  if (!ok && error == NULL)
    {
      /* fwupd's runner rule: FALSE without an error is a plugin bug, said loudly. */
      g_critical ("%s: job %s failed without saying why", esa_context_get_plugin_name (run->job->ctx),
                  run->job->name);
      error = g_error_new (ESA_ERROR, ESA_ERROR_FAILED, "internal error: job returned FALSE without an error");
    }
  /* The run has finished: its event is done with. Removed here, not on the
   * main thread later, so a crash right after the job queued its report
   * repeats the run only in that instant. A run cut short by esad stopping
   * keeps its file and is resumed at the next start. */
  if (run->record != NULL && !(error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      if (g_unlink (run->record) != 0)
        g_warning ("%s: cannot remove the finished event run: %s", run->record, g_strerror (errno));
      g_clear_pointer (&run->record, g_free);
    }
  if (!ok)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
run_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  EsaDispatcher *self = user_data;
  GTask *task = G_TASK (res);
  EsaJobRun *run = g_task_get_task_data (task);
  Job *job = run->job;
  GTask *waiter = g_object_get_data (G_OBJECT (task), "waiter");
  g_autoptr (GError) error = NULL;
  const char *plugin = esa_context_get_plugin_name (job->ctx);

  job->running = FALSE;
  self->running--;
  esa_memory_trim_soon ();
  if (run->preview == NULL)
    g_free (job->last_result);
  if (g_task_propagate_boolean (task, &error))
    {
      if (run->preview == NULL)
        {
          if (run->event == NULL)
            job->failures = 0;
          job->last_result = g_strdup_printf ("ok%s%s", run->summary ? ": " : "", run->summary ? run->summary : "");
        }
      g_info ("%s: job %s done%s%s", plugin, job->name, run->summary ? ": " : "", run->summary ? run->summary : "");
      if (waiter != NULL)
        g_task_return_pointer (waiter, g_strdup (run->summary ? run->summary : "done"), g_free);
    }
  else
    {
      /* A run cut short by esad stopping is not the job's failure; a preview
       * leaves the job's record alone. */
      if (run->preview == NULL && run->event == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        job->failures++;
      if (run->preview != NULL)
        ;
      else if (job->failures > 1 && run->event == NULL)
        job->last_result = g_strdup_printf ("error (%u failures in a row, retrying with backoff): %s",
                                            job->failures, error->message);
      else
        job->last_result = g_strdup_printf ("error: %s", error->message);
      g_warning ("failed to run %s/%s: %s", plugin, job->name, error->message);
      if (waiter != NULL)
        g_task_return_new_error (waiter, error->domain, error->code, "%s: %s", plugin, error->message);
    }
  /* Scheduled runs move the clock; event runs are recorded but don't. A
   * run esad's stop cut short did not happen: the next start runs it. */
  if (run->event == NULL &&
      !(error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
        g_cancellable_is_cancelled (self->cancellable)))
    {
      g_clear_pointer (&job->last_run, g_date_time_unref);
      job->last_run = g_date_time_ref (run->started);
      save_state (self);
      compute_next (self, job, run->started);
      /* Backoff counts from the end of the failed run, not its start. */
      {
        g_autoptr (GDateTime) ended = g_date_time_new_now (self->tz);
        apply_backoff (job, ended, TRUE);
      }
    }
  if (!g_queue_is_empty (&job->pending) && self->started)
    start_run (self, job, g_queue_pop_head (&job->pending));
  arm_timer (self);
}

/* Takes ownership of @p (may be NULL for a scheduled run). */
static void
start_run (EsaDispatcher *self, Job *job, PendingRun *p)
{
  EsaJobRun *run;
  g_autoptr (GTask) task = NULL;
  if (job->running)
    {
      if (p == NULL)
        p = g_new0 (PendingRun, 1);
      g_queue_push_tail (&job->pending, p);
      return;
    }
  run = g_new0 (EsaJobRun, 1);
  run->job = job;
  run->cancellable = g_object_ref (self->cancellable);
  run->started = g_date_time_new_now (self->tz);
  run->claimed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (p != NULL)
    {
      run->event = g_steal_pointer (&p->event);
      run->data = g_steal_pointer (&p->data);
      run->record = g_steal_pointer (&p->record);
      run->record_obj = g_steal_pointer (&p->record_obj);
      run->preview = p->preview;
    }
  task = g_task_new (NULL, self->cancellable, run_done, self);
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);
  g_task_set_name (task, job->name);
  if (p != NULL && p->waiter != NULL)
    g_object_set_data_full (G_OBJECT (task), "waiter", g_steal_pointer (&p->waiter), g_object_unref);
  if (p != NULL)
    pending_free (p);
  job->running = TRUE;
  self->running++;
  g_debug ("%s: starting job %s%s%s", esa_context_get_plugin_name (job->ctx), job->name,
           run->event ? " for event " : "", run->event ? run->event : "");
  g_task_run_in_thread (task, run_thread);
}

/* ---- public ---- */

EsaDispatcher *
esa_dispatcher_new (const char *state_file, const char *seed)
{
  EsaDispatcher *self = g_new0 (EsaDispatcher, 1);
  self->state_file = g_strdup (state_file);
  {
    g_autofree char *dir = g_path_get_dirname (state_file);
    self->events_dir = g_build_filename (dir, "events", NULL);
  }
  self->seed = g_strdup (seed != NULL ? seed : "");
  self->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) job_free);
  self->tz = g_time_zone_new_local ();
  self->cancellable = g_cancellable_new ();
  self->main_context = g_main_context_ref_thread_default ();
  return self;
}

void
esa_dispatcher_free (EsaDispatcher *self)
{
  if (self == NULL)
    return;
  esa_dispatcher_stop (self);
  /* Running threads hold the dispatcher; callers wait for get_running () == 0. */
  g_ptr_array_unref (self->jobs);
  g_time_zone_unref (self->tz);
  g_object_unref (self->cancellable);
  g_main_context_unref (self->main_context);
  g_free (self->state_file);
  g_free (self->events_dir);
  g_free (self->seed);
  g_free (self);
}

static Job *
find_job (EsaDispatcher *self, const char *name)
{
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      if (g_str_equal (job->name, name))
        return job;
    }
  return NULL;
}

gboolean
esa_dispatcher_add_job (EsaDispatcher *self, EsaContext *ctx, const char *name,
                        const char *schedule, guint64 splay_s, gboolean enabled,
                        EsaJobFunc func, gpointer user_data, GDestroyNotify destroy,
                        GError **error)
{
  EsaSchedule *sched;
  Job *job;
  if (find_job (self, name) != NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "job \"%s\" is already registered", name);
      return FALSE;
    }
  sched = esa_schedule_parse (schedule, error);
  if (sched == NULL)
    return FALSE;
  job = g_new0 (Job, 1);
  job->name = g_strdup (name);
  job->ctx = ctx;
  job->schedule = sched;
  job->splay_s = splay_s;
  job->enabled = enabled;
  job->func = func;
  job->user_data = user_data;
  job->destroy = destroy;
  g_queue_init (&job->pending);
  g_ptr_array_add (self->jobs, job);
  return TRUE;
}

gboolean
esa_dispatcher_set_splay (EsaDispatcher *self, EsaContext *ctx, const char *name, guint64 splay_s,
                          GError **error)
{
  Job *job = find_job (self, name);
  if (job == NULL || job->ctx != ctx)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "no job named \"%s\" in this plugin", name);
      return FALSE;
    }
  job->splay_s = splay_s;
  return TRUE;
}

gboolean
esa_dispatcher_reconfigure_job (EsaDispatcher *self, const char *name, const char *schedule, guint64 splay_s,
                                gboolean enabled, GError **error)
{
  Job *job = find_job (self, name);
  EsaSchedule *sched;
  g_autofree char *before = NULL, *after = NULL;
  if (job == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "no job named \"%s\"", name);
      return FALSE;
    }
  sched = esa_schedule_parse (schedule, error);
  if (sched == NULL)
    return FALSE;
  before = esa_schedule_to_string (job->schedule);
  after = esa_schedule_to_string (sched);
  if (g_str_equal (before, after) && job->splay_s == splay_s && job->enabled == enabled)
    {
      esa_schedule_free (sched);
      return TRUE;
    }
  esa_schedule_free (job->schedule);
  job->schedule = sched;
  job->splay_s = splay_s;
  job->enabled = enabled;
  g_message ("job %s: schedule now %s%s", name, after, enabled ? "" : " (disabled)");
  if (self->started)
    {
      g_autoptr (GDateTime) now = g_date_time_new_now (self->tz);
      compute_next (self, job, now);
      arm_timer (self);
    }
  return TRUE;
}

void
esa_dispatcher_remove_jobs_of (EsaDispatcher *self, EsaContext *ctx)
{
  for (guint i = self->jobs->len; i > 0; i--)
    if (((Job *) g_ptr_array_index (self->jobs, i - 1))->ctx == ctx)
      g_ptr_array_remove_index (self->jobs, i - 1);
}

void
esa_dispatcher_start (EsaDispatcher *self)
{
  g_autoptr (GDateTime) now = g_date_time_new_now (self->tz);
  load_state (self);
  self->started = TRUE;
  resume_event_runs (self);
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      if (!job->enabled)
        continue;
      compute_next (self, job, job->last_run != NULL && g_date_time_compare (job->last_run, now) > 0
                                   ? now : (job->last_run ? job->last_run : now));
      /* The last run failed: its retry (without jitter: the same on every
       * restart) may come before the next slot. */
      if (job->last_run != NULL && g_date_time_compare (job->last_run, now) <= 0)
        apply_backoff (job, job->last_run, FALSE);
      if (esa_schedule_is_due (job->schedule, job->last_run, now, self->tz) ||
          (job->next_run != NULL && g_date_time_compare (job->next_run, now) <= 0))
        {
          g_autofree char *seed = g_strdup_printf ("%s/%s", self->seed, job->name);
          /* Like their slots: the splay spreads daily and weekly jobs only. */
          guint64 offset = esa_schedule_get_kind (job->schedule) == ESA_SCHEDULE_EVERY
                               ? 0 : esa_splay_offset (seed, job->splay_s);
          const char *why = job->last_run == NULL ? "never ran"
                            : job->failures > 0   ? "its retry fell due while the agent was down"
                                                  : "a run was missed while the agent was down";
          g_clear_pointer (&job->next_run, g_date_time_unref);
          if (offset == 0)
            {
              g_info ("job %s: %s, running it now", job->name, why);
              start_run (self, job, NULL);
              continue;
            }
          /* A fleet rebooted together must not call home together: the
           * catch-up run waits the job's stable per-host splay offset. */
          g_info ("job %s: %s, running it in %" G_GUINT64_FORMAT " s (splay)", job->name, why, offset);
          job->next_run = g_date_time_add_seconds (now, (gdouble) offset);
        }
    }
  arm_timer (self);
}

void
esa_dispatcher_stop (EsaDispatcher *self)
{
  /* Runs that never started: their callers get an answer, not silence. */
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      PendingRun *p;
      while ((p = g_queue_pop_head (&job->pending)) != NULL)
        {
          if (p->waiter != NULL)
            g_task_return_new_error (p->waiter, ESA_ERROR, ESA_ERROR_FAILED,
                                     "job %s not run: esad is stopping", job->name);
          pending_free (p);
        }
    }
  self->started = FALSE;
  g_cancellable_cancel (self->cancellable);
  if (self->timer_id != 0)
    g_source_remove (self->timer_id);
  self->timer_id = 0;
}

guint
esa_dispatcher_get_running (EsaDispatcher *self)
{
  return self->running;
}

GCancellable *
esa_dispatcher_get_cancellable (EsaDispatcher *self)
{
  return self->cancellable;
}

static gboolean
wait_idle_tick (gpointer user_data)
{
  return G_SOURCE_REMOVE;
}

gboolean
esa_dispatcher_wait_idle (EsaDispatcher *self, guint timeout_s)
{
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) timeout_s * G_USEC_PER_SEC;
  gint64 next_note = start + 5 * G_USEC_PER_SEC;
  while (self->running > 0)
    {
      gint64 now = g_get_monotonic_time ();
      if (now >= deadline || now >= next_note)
        {
          g_autoptr (GString) names = g_string_new (NULL);
          for (guint i = 0; i < self->jobs->len; i++)
            {
              Job *job = g_ptr_array_index (self->jobs, i);
              if (job->running)
                g_string_append_printf (names, "%s%s", names->len > 0 ? ", " : "", job->name);
            }
          if (now >= deadline)
            {
              g_warning ("%u job(s) still running after %u s: %s", self->running, timeout_s, names->str);
              return FALSE;
            }
          g_message ("waiting for %u running job(s) to end: %s", self->running, names->str);
          next_note = now + 5 * G_USEC_PER_SEC;
        }
      /* run_done () arrives as a source on this context; the tick bounds
       * each wait so the deadline is checked even when nothing happens. */
      {
        GSource *tick = g_timeout_source_new (100);
        g_source_set_callback (tick, wait_idle_tick, NULL, NULL);
        g_source_attach (tick, self->main_context);
        g_main_context_iteration (self->main_context, TRUE);
        g_source_destroy (tick);
        g_source_unref (tick);
      }
    }
  return TRUE;
}

/* run_now and preview: a run of job @name now, answered through @callback. */
static gboolean
run_job_now (EsaDispatcher *self, const char *name, const char *event, JsonObject *data, EsaQueue *preview,
             GAsyncReadyCallback callback, gpointer user_data, GError **error)
{
  Job *job = find_job (self, name);
  PendingRun *p;
  if (job == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "no job named \"%s\"", name);
      return FALSE;
    }
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "job %s not run: esad is stopping", name);
      return FALSE;
    }
  p = g_new0 (PendingRun, 1);
  p->event = g_strdup (event);
  p->data = data ? json_object_ref (data) : NULL;
  p->preview = preview;
  if (callback != NULL)
    p->waiter = g_task_new (NULL, NULL, callback, user_data);
  start_run (self, job, p);
  return TRUE;
}

gboolean
esa_dispatcher_run_now (EsaDispatcher *self, const char *name, const char *event,
                        JsonObject *data, GAsyncReadyCallback callback, gpointer user_data,
                        GError **error)
{
  return run_job_now (self, name, event, data, NULL, callback, user_data, error);
}

gboolean
esa_dispatcher_preview (EsaDispatcher *self, const char *name, EsaQueue *sink,
                        GAsyncReadyCallback callback, gpointer user_data, GError **error)
{
  /* what `esactl heartbeat` (run_now, "requested") would send; an event run,
   * so a preview does not move the job's clock */
  return run_job_now (self, name, "requested", NULL, sink, callback, user_data, error);
}

char *
esa_dispatcher_run_finish (EsaDispatcher *self, GAsyncResult *res, GError **error)
{
  return g_task_propagate_pointer (G_TASK (res), error);
}

static gboolean
job_waits_for (Job *job, const char *event)
{
  const char *want;
  if (esa_schedule_get_kind (job->schedule) != ESA_SCHEDULE_ON_EVENT || !job->enabled)
    return FALSE;
  want = esa_schedule_get_event (job->schedule);
  return g_strcmp0 (want != NULL ? want : job->name, event) == 0;
}

/* An event record, whole or not at all (atomic replace). */
static gboolean
write_record (const char *path, JsonObject *o, GError **error)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  json_node_set_object (node, o);
  text = esa_json_to_string (node, FALSE);
  return esa_file_write_atomic (path, NULL, text, strlen (text), 0600, error);
}

static JsonObject *
read_record (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (JsonNode) root = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  root = esa_json_parse (text, (gssize) len, EVENT_RECORD_MAX_BYTES, EVENT_RECORD_MAX_DEPTH, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: not a JSON object", path);
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

/* Writes the pending run of @job for @event to <state>/events/ (atomically:
 * a crash leaves the whole file or none). Names sort in emission order. */
static char *
write_event_record (EsaDispatcher *self, Job *job, const char *event, JsonObject *data, GError **error)
{
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *emitted = g_date_time_format_iso8601 (now);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *name = g_strdup_printf ("%020" G_GINT64_FORMAT "-%s.json", g_get_real_time (), uuid);
  g_autofree char *path = g_build_filename (self->events_dir, name, NULL);
  if (!esa_mkdir_p (self->events_dir, 0700, error))
    return NULL;
  json_object_set_string_member (o, "job", job->name);
  json_object_set_string_member (o, "event", event);
  json_object_set_string_member (o, "emitted", emitted);
  if (data != NULL)
    json_object_set_object_member (o, "data", json_object_ref (data));
  if (!write_record (path, o, error))
    return NULL;
  return g_steal_pointer (&path);
}

typedef struct {
  EsaDispatcher *self;
  char *event;
  JsonObject *data;
  GPtrArray *jobs;      /* Job* waiting for the event */
  GPtrArray *records;   /* char*: its file per job, or NULL when it could not be written */
  gboolean was_started; /* emitted before start: esa_dispatcher_start () resumes it from its file */
} EmitData;

static gboolean
emit_in_main (gpointer user_data)
{
  EmitData *ed = user_data;
  for (guint i = 0; i < ed->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (ed->jobs, i);
      PendingRun *p;
      /* Stopping: the file (if any) is run at the next start. */
      if (!ed->self->started || (!ed->was_started && g_ptr_array_index (ed->records, i) != NULL))
        continue;
      p = g_new0 (PendingRun, 1);
      p->event = g_strdup (ed->event);
      p->data = ed->data ? json_object_ref (ed->data) : NULL;
      p->record = g_strdup (g_ptr_array_index (ed->records, i));
      start_run (ed->self, job, p);
    }
  g_free (ed->event);
  if (ed->data != NULL)
    json_object_unref (ed->data);
  g_ptr_array_unref (ed->jobs);
  g_ptr_array_unref (ed->records);
  g_free (ed);
  return G_SOURCE_REMOVE;
}

void
esa_dispatcher_emit (EsaDispatcher *self, const char *event, JsonObject *data)
{
  EmitData *ed = g_new0 (EmitData, 1);
  ed->self = self;
  ed->event = g_strdup (event);
  ed->data = data ? json_object_ref (data) : NULL;
  ed->jobs = g_ptr_array_new ();
  ed->records = g_ptr_array_new_with_free_func (g_free);
  ed->was_started = self->started;
  /* The job list is fixed once started, so it is read here, in the
   * emitter's thread: the run is on disk before this returns. */
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      g_autoptr (GError) error = NULL;
      char *record;
      if (!job_waits_for (job, event))
        continue;
      record = write_event_record (self, job, event, data, &error);
      if (record == NULL)
        g_warning ("event %s: job %s runs, but would be lost in a crash: %s", event, job->name, error->message);
      g_ptr_array_add (ed->jobs, job);
      g_ptr_array_add (ed->records, record);
    }
  if (ed->jobs->len == 0)
    g_info ("event %s: no job is waiting for it", event);
  g_main_context_invoke (self->main_context, emit_in_main, ed);
}

/* ---- the reports of an event run ----
 *
 * A resumed run does its work again (snap collects again); what it submits
 * must not become a second report at the SDC. So the run's record lists each
 * report with a parent (extended data for a problem) it submits, as
 * {"uuid", "kind", "parent", "state"}: "intent" is written before the
 * enqueue, "queued" once the report is committed and before the sender can
 * see it (esa_queue_enqueue_full). When a resumed run submits a report of
 * the same kind and parent, it takes the listed UUID; a "queued" one is not
 * queued again (it is waiting, or was delivered), an "intent" one is (it was
 * never committed: esa_dispatcher_start checked the spool before the sender
 * started). Reports without a parent are queued as they come: nothing says
 * which earlier one they would repeat. */

static JsonArray *
record_reports (JsonObject *o, gboolean create)
{
  JsonNode *n = json_object_get_member (o, "reports");
  if (n != NULL && JSON_NODE_HOLDS_ARRAY (n))
    return json_node_get_array (n);
  if (!create)
    return NULL;
  json_object_set_array_member (o, "reports", json_array_new ());
  return json_object_get_array_member (o, "reports");
}

static JsonObject *
record_report_at (JsonArray *reports, guint i)
{
  JsonNode *n = json_array_get_element (reports, i);
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* Test hook (configure --enable-test-hooks): ESA_TEST_STALL=POINT stops an
 * event run's worker at POINT, saying so in the log, until esad stops; the
 * tests SIGKILL esad there (tests/test-snap-e2e). */
static void
test_hook_stall (EsaJobRun *run, const char *point)
{
#ifdef ESA_ENABLE_TEST_HOOKS
  if (g_strcmp0 (g_getenv ("ESA_TEST_STALL"), point) != 0)
    return;
  g_message ("test hook: job %s stalled at %s", run->job->name, point);
  while (!g_cancellable_is_cancelled (run->cancellable))
    g_usleep (50 * 1000);
#else
  (void) run;
  (void) point;
#endif
}

EsaJobRun *
esa_dispatcher_get_current_run (void)
{
  return g_private_get (&current_run);
}

typedef struct {
  EsaJobRun *run;
  JsonObject *entry;
} CommitNote;

static void
note_queued (EsaQueue *queue, const char *uuid, gpointer user_data)
{
  CommitNote *c = user_data;
  g_autoptr (GError) error = NULL;
  test_hook_stall (c->run, "event-run-committed");
  json_object_set_string_member (c->entry, "state", "queued");
  if (!write_record (c->run->record, c->run->record_obj, &error))
    g_warning ("%s: report %s is queued, but if esad dies before the run ends the resumed run may queue it "
               "again: %s", c->run->record, uuid, error->message);
}

gboolean
esa_job_run_enqueue (EsaJobRun *run, EsaQueue *queue, EsaReport *report, gboolean *already, GError **error)
{
  const char *kind = esa_report_get_kind (report);
  const char *parent = esa_report_get_parent (report);
  JsonArray *reports;
  JsonObject *entry = NULL;
  CommitNote note;

  *already = FALSE;
  if (run == NULL || run->record == NULL || parent == NULL)
    return esa_queue_enqueue (queue, report, error);
  if (run->record_obj == NULL)
    {
      g_autoptr (GError) local = NULL;
      run->record_obj = read_record (run->record, &local);
      if (run->record_obj == NULL)
        {
          g_warning ("%s: %s; report %s is queued without a note in it", run->record, local->message,
                     esa_report_get_uuid (report));
          return esa_queue_enqueue (queue, report, error);
        }
    }
  reports = record_reports (run->record_obj, TRUE);
  for (guint i = 0; i < json_array_get_length (reports) && entry == NULL; i++)
    {
      JsonObject *e = record_report_at (reports, i);
      const char *uuid = esa_json_peek_string (e, "uuid");
      if (uuid != NULL && g_uuid_string_is_valid (uuid) && !g_hash_table_contains (run->claimed, uuid) &&
          g_strcmp0 (esa_json_peek_string (e, "kind"), kind) == 0 &&
          g_strcmp0 (esa_json_peek_string (e, "parent"), parent) == 0)
        entry = e;
    }
  if (entry != NULL)
    {
      const char *uuid = esa_json_peek_string (entry, "uuid");
      g_hash_table_add (run->claimed, g_strdup (uuid));
      esa_report_set_uuid (report, uuid);
      if (g_strcmp0 (esa_json_peek_string (entry, "state"), "queued") == 0)
        {
          *already = TRUE;
          return TRUE;
        }
    }
  else
    {
      g_autoptr (GError) local = NULL;
      entry = json_object_new ();
      json_object_set_string_member (entry, "uuid", esa_report_get_uuid (report));
      json_object_set_string_member (entry, "kind", kind);
      json_object_set_string_member (entry, "parent", parent);
      json_object_set_string_member (entry, "state", "intent");
      json_array_add_object_element (reports, entry);
      g_hash_table_add (run->claimed, g_strdup (esa_report_get_uuid (report)));
      /* Not fatal: the report matters more than the note (at worst a crash
       * then repeats it, as without the note). */
      if (!write_record (run->record, run->record_obj, &local))
        g_warning ("%s: %s; report %s is queued without a note in it", run->record, local->message,
                   esa_report_get_uuid (report));
    }
  test_hook_stall (run, "event-run-intent");
  note.run = run;
  note.entry = entry;
  return esa_queue_enqueue_full (queue, report, note_queued, &note, error);
}

/* At start, before the sender runs: a report an event record lists as
 * "intent" that the spool holds was committed just before esad died; it is
 * "queued" from now on (the sender may deliver it before the run resumes). */
static void
reconcile_record (EsaDispatcher *self, const char *path, JsonObject *o)
{
  JsonArray *reports = record_reports (o, FALSE);
  gboolean changed = FALSE;
  g_autoptr (GError) error = NULL;
  for (guint i = 0; self->queue != NULL && reports != NULL && i < json_array_get_length (reports); i++)
    {
      JsonObject *e = record_report_at (reports, i);
      const char *uuid = esa_json_peek_string (e, "uuid");
      if (uuid != NULL && g_uuid_string_is_valid (uuid) &&
          g_strcmp0 (esa_json_peek_string (e, "state"), "intent") == 0 && esa_queue_holds (self->queue, uuid))
        {
          json_object_set_string_member (e, "state", "queued");
          changed = TRUE;
        }
    }
  if (changed && !write_record (path, o, &error))
    g_warning ("%s: %s", path, error->message);
}

void
esa_dispatcher_set_queue (EsaDispatcher *self, EsaQueue *queue)
{
  self->queue = queue;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Runs the event runs a crash or a stop left in <state>/events/, oldest
 * first. A file that is not ours is set aside as NAME.bad, not retried. */
static void
resume_event_runs (EsaDispatcher *self)
{
  g_autoptr (GDir) dir = g_dir_open (self->events_dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".json") && name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (self->events_dir, g_ptr_array_index (names, i), NULL);
      g_autofree char *text = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) root = NULL;
      JsonObject *o = NULL;
      const char *job_name = NULL, *event = NULL;
      Job *job = NULL;
      PendingRun *p;
      gsize len = 0;
      if (g_file_get_contents (path, &text, &len, &error))
        root = esa_json_parse (text, (gssize) len, EVENT_RECORD_MAX_BYTES, EVENT_RECORD_MAX_DEPTH, &error);
      if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
        {
          o = json_node_get_object (root);
          job_name = esa_json_peek_string (o, "job");
          event = esa_json_peek_string (o, "event");
        }
      if (job_name == NULL || event == NULL)
        {
          g_autofree char *bad = g_strconcat (path, ".bad", NULL);
          g_warning ("%s: %s; set aside as %s", path,
                     error != NULL ? error->message : "not a pending event run (expected an object with \"job\" and \"event\" strings)",
                     bad);
          if (g_rename (path, bad) != 0)
            g_warning ("%s: %s", bad, g_strerror (errno));
          continue;
        }
      /* every record, the job loaded or not: the sender starts after this */
      reconcile_record (self, path, o);
      for (guint j = 0; j < self->jobs->len && job == NULL; j++)
        if (g_str_equal (((Job *) g_ptr_array_index (self->jobs, j))->name, job_name))
          job = g_ptr_array_index (self->jobs, j);
      if (job == NULL || !job->enabled)
        {
          /* Its plugin may be enabled again: kept, not dropped. */
          g_warning ("%s: job %s is not loaded; the %s run waits for it", path, job_name, event);
          continue;
        }
      g_info ("job %s: resuming the run for event %s (esad stopped before it finished)", job->name, event);
      p = g_new0 (PendingRun, 1);
      p->event = g_strdup (event);
      p->data = esa_json_peek_object (o, "data") != NULL ? json_object_ref (esa_json_peek_object (o, "data")) : NULL;
      p->record = g_steal_pointer (&path);
      p->record_obj = json_object_ref (o);
      start_run (self, job, p);
    }
}

static void
add_time (JsonBuilder *b, const char *member, GDateTime *dt)
{
  json_builder_set_member_name (b, member);
  if (dt != NULL)
    {
      g_autofree char *s = esa_json_time (dt);
      json_builder_add_string_value (b, s);
    }
  else
    json_builder_add_null_value (b);
}

JsonNode *
esa_dispatcher_to_json (EsaDispatcher *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  /* Status must not show a next run a stepped-back clock left a year away. */
  if (self->started)
    {
      recheck_clock (self);
      arm_timer (self);
    }
  json_builder_begin_array (b);
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      g_autofree char *sched = esa_schedule_to_string (job->schedule);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, job->name);
      json_builder_set_member_name (b, "plugin");
      json_builder_add_string_value (b, esa_context_get_plugin_name (job->ctx));
      json_builder_set_member_name (b, "schedule");
      json_builder_add_string_value (b, sched);
      json_builder_set_member_name (b, "enabled");
      json_builder_add_boolean_value (b, job->enabled);
      json_builder_set_member_name (b, "running");
      json_builder_add_boolean_value (b, job->running);
      add_time (b, "last_run", job->last_run);
      add_time (b, "next_run", job->next_run);
      json_builder_set_member_name (b, "failures");
      json_builder_add_int_value (b, job->failures);
      json_builder_set_member_name (b, "last_result");
      if (job->last_result)
        json_builder_add_string_value (b, job->last_result);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}
