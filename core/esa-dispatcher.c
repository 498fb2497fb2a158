/* esa-dispatcher.c: the job scheduler. Each run is a GTask in a worker thread
 * so a collector blocked on a slow command never stalls the main loop; the
 * last run of every job is written to a state file after it ends. */
#include "config.h"

#include "esa-dispatcher.h"
#include "esa-context-private.h"
#include "esa-fileutil.h"
#include "esa-schedule-private.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"
#include "esa-preview.h"

#include <string.h>

/* The timer wakes at least this often, so a stepped clock or a suspend is
 * noticed within a minute without any polling in between. */
#define MAX_SLEEP_S 60

typedef struct {
  char *event;
  JsonObject *data;
  GTask *waiter; /* run_now caller, or NULL */
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
  gboolean running;
  GQueue pending;        /* PendingRun*: events that arrived while running */
} Job;

struct _EsaJobRun {
  Job *job;
  char *event;
  JsonObject *data;
  GCancellable *cancellable;
  char *summary;
  GDateTime *started;
  EsaQueue *preview;     /* a preview run: its reports go here, not to the queue */
};

struct _EsaDispatcher {
  char *state_file;
  char *seed;
  GPtrArray *jobs;      /* Job* */
  GTimeZone *tz;
  guint timer_id;
  GCancellable *cancellable;
  guint running;
  gboolean started;
  GMainContext *main_context;
};

static void pending_free (PendingRun *p)
{
  g_free (p->event);
  if (p->data != NULL)
    json_object_unref (p->data);
  g_clear_object (&p->waiter);
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
      json_object_set_object_member (root, job->name, jo);
    }
  json_node_set_object (node, root);
  text = json_to_string (node, TRUE);
  if (!esa_file_write_atomic (self->state_file, NULL, text, strlen (text), 0600, &error))
    g_warning ("cannot save job history: %s", error->message);
}

/* ---- scheduling ---- */

static void arm_timer (EsaDispatcher *self);
static void start_run (EsaDispatcher *self, Job *job, PendingRun *p);

static void
compute_next (EsaDispatcher *self, Job *job, GDateTime *from)
{
  g_autoptr (GDateTime) next = NULL;
  g_clear_pointer (&job->next_run, g_date_time_unref);
  if (!job->enabled || esa_schedule_get_kind (job->schedule) == ESA_SCHEDULE_ON_EVENT)
    return;
  next = esa_schedule_next (job->schedule, from, self->tz);
  if (next == NULL)
    return;
  if (job->splay_s > 0 && esa_schedule_get_kind (job->schedule) != ESA_SCHEDULE_EVERY)
    {
      g_autofree char *seed = g_strdup_printf ("%s/%s", self->seed, job->name);
      job->next_run = g_date_time_add_seconds (next, (gdouble) esa_splay_offset (seed, job->splay_s));
    }
  else
    job->next_run = g_steal_pointer (&next);
}

static gboolean
on_timer (gpointer user_data)
{
  EsaDispatcher *self = user_data;
  g_autoptr (GDateTime) now = g_date_time_new_now (self->tz);
  self->timer_id = 0;
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

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EsaJobRun *run = task_data;
  GError *error = NULL;
  gboolean ok;
  esa_preview_set_sink (run->preview);
  ok = run->job->func (run, run->job->user_data, &error);
  esa_preview_set_sink (NULL);
  if (!ok && error == NULL)
    {
      /* fwupd's runner rule: FALSE without an error is a plugin bug, said loudly. */
      g_critical ("%s: job %s failed without saying why", esa_context_get_plugin_name (run->job->ctx),
                  run->job->name);
      error = g_error_new (ESA_ERROR, ESA_ERROR_FAILED, "internal error: job returned FALSE without an error");
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
  if (run->preview == NULL)
    g_free (job->last_result);
  if (g_task_propagate_boolean (task, &error))
    {
      if (run->preview == NULL)
        job->last_result = g_strdup_printf ("ok%s%s", run->summary ? ": " : "", run->summary ? run->summary : "");
      g_info ("%s: job %s done%s%s", plugin, job->name, run->summary ? ": " : "", run->summary ? run->summary : "");
      if (waiter != NULL)
        g_task_return_pointer (waiter, g_strdup (run->summary ? run->summary : "done"), g_free);
    }
  else
    {
      if (run->preview == NULL)
        job->last_result = g_strdup_printf ("error: %s", error->message);
      g_warning ("failed to run %s/%s: %s", plugin, job->name, error->message);
      if (waiter != NULL)
        g_task_return_new_error (waiter, error->domain, error->code, "%s: %s", plugin, error->message);
    }
  /* Scheduled runs move the clock; event runs are recorded but don't. */
  if (run->event == NULL)
    {
      g_clear_pointer (&job->last_run, g_date_time_unref);
      job->last_run = g_date_time_ref (run->started);
      save_state (self);
      compute_next (self, job, run->started);
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
  if (p != NULL)
    {
      run->event = g_steal_pointer (&p->event);
      run->data = g_steal_pointer (&p->data);
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
  for (guint i = 0; i < self->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (self->jobs, i);
      if (!job->enabled)
        continue;
      if (esa_schedule_is_due (job->schedule, job->last_run, now, self->tz))
        {
          g_info ("job %s: %s, running it now", job->name,
                  job->last_run ? "a run was missed while the agent was down" : "never ran");
          start_run (self, job, NULL);
        }
      else
        compute_next (self, job, job->last_run != NULL && g_date_time_compare (job->last_run, now) > 0
                                     ? now : (job->last_run ? job->last_run : now));
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

typedef struct {
  EsaDispatcher *self;
  char *event;
  JsonObject *data;
} EmitData;

static gboolean
emit_in_main (gpointer user_data)
{
  EmitData *ed = user_data;
  guint matched = 0;
  for (guint i = 0; i < ed->self->jobs->len && ed->self->started; i++)
    {
      Job *job = g_ptr_array_index (ed->self->jobs, i);
      const char *want;
      PendingRun *p;
      if (esa_schedule_get_kind (job->schedule) != ESA_SCHEDULE_ON_EVENT || !job->enabled)
        continue;
      want = esa_schedule_get_event (job->schedule);
      if (g_strcmp0 (want != NULL ? want : job->name, ed->event) != 0)
        continue;
      p = g_new0 (PendingRun, 1);
      p->event = g_strdup (ed->event);
      p->data = ed->data ? json_object_ref (ed->data) : NULL;
      start_run (ed->self, job, p);
      matched++;
    }
  if (matched == 0)
    g_info ("event %s: no job is waiting for it", ed->event);
  g_free (ed->event);
  if (ed->data != NULL)
    json_object_unref (ed->data);
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
  g_main_context_invoke (self->main_context, emit_in_main, ed);
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
