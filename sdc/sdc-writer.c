/* sdc-writer.c: storage off the main loop.
 *
 * TLS and HTTP stay on the main loop; the database never runs there. Reports go to one
 * writer thread that commits in groups: it takes every job that arrived while the
 * previous transaction was committing, runs each inside its own savepoint (one bad
 * report rolls back alone), and pays one COMMIT (one fsync) for all of them. A job's
 * callback runs only after its transaction committed, so an agent is acknowledged only
 * for what is durable. Should the group's COMMIT fail, every job of it is run again in
 * a transaction of its own, so one job's failure never costs the others their answer.
 *
 * The common case costs less (docs/performance.md, "SDC"): a group first runs without
 * savepoints (on PostgreSQL each one is a round trip), and only if one of its jobs fails
 * is the transaction rolled back and the group run again with a savepoint per job. Its
 * answers go back to the caller's main loop in one batch (one wakeup and one source for
 * the group rather than one per report).
 *
 * Other store work (credential checks with their PBKDF2, registration, UAK issue) goes
 * to a small GThreadPool; each pool thread opens its own connection on first use. */
#include "config.h"

#include "sdc-writer.h"
#include "sdc-error.h"

#define SDC_WRITER_MAX_GROUP 1024

typedef struct {
  SdcStoreFunc func;
  gpointer data; /* owned by the task */
  GTask *task;
  gboolean ok;
  GError *error;
} Job;

struct _SdcWriter {
  char *location;
  SdcStore *store; /* the writer thread's */
  GThread *thread;
  GAsyncQueue *queue;
  GThreadPool *pool;
  GAsyncQueue *idle_stores; /* the pool's connections, at most one per pool thread */
  GMutex stats_lock;
  guint64 commits;
  guint64 jobs;
  gint64 idle_us; /* the writer thread waiting for a first job */
  gint64 busy_us; /* running groups and handing their answers back */
};

/* a queue item that tells the writer thread to stop */
static Job stop_job;

static void
job_free (Job *job)
{
  g_clear_object (&job->task);
  g_clear_error (&job->error);
  g_free (job);
}

static void
job_return (Job *job)
{
  if (job->error == NULL && !job->ok)
    job->error = g_error_new_literal (SDC_ERROR, SDC_ERROR_INTERNAL, "storage step failed without saying why");
  if (job->error != NULL)
    g_task_return_error (job->task, g_steal_pointer (&job->error));
  else
    g_task_return_boolean (job->task, TRUE);
  job_free (job);
}

/* One job in a transaction of its own. */
static void
run_alone (SdcStore *store, Job *job)
{
  g_clear_error (&job->error);
  job->ok = FALSE;
  if (!sdc_store_begin (store, &job->error))
    return;
  if (!job->func (store, job->data, &job->error) || !sdc_store_commit (store, &job->error))
    sdc_store_rollback (store);
  else
    job->ok = TRUE;
}

static void
count_commit (SdcWriter *w, guint ok)
{
  g_mutex_lock (&w->stats_lock);
  w->commits++;
  w->jobs += ok;
  g_mutex_unlock (&w->stats_lock);
}

/* The whole group in one transaction without savepoints; FALSE (everything rolled back,
 * every job's result cleared) as soon as one job or the COMMIT fails. Job functions
 * write their results into their data, so running one again overwrites them. */
static gboolean
run_group_optimistic (SdcWriter *w, GPtrArray *group)
{
  g_autoptr (GError) error = NULL;
  guint i;

  if (!sdc_store_begin (w->store, &error))
    return FALSE;
  for (i = 0; i < group->len; i++)
    {
      Job *job = g_ptr_array_index (group, i);
      if (!job->func (w->store, job->data, &job->error))
        break;
    }
  if (i == group->len && sdc_store_commit (w->store, &error))
    {
      for (i = 0; i < group->len; i++)
        ((Job *) g_ptr_array_index (group, i))->ok = TRUE;
      count_commit (w, group->len);
      return TRUE;
    }
  sdc_store_rollback (w->store);
  for (i = 0; i < group->len; i++)
    g_clear_error (&((Job *) g_ptr_array_index (group, i))->error);
  return FALSE;
}

static void
run_group (SdcWriter *w, GPtrArray *group)
{
  g_autoptr (GError) error = NULL;
  guint ok = 0;

  if (run_group_optimistic (w, group))
    return;

  if (!sdc_store_begin (w->store, &error))
    {
      for (guint i = 0; i < group->len; i++)
        ((Job *) g_ptr_array_index (group, i))->error = g_error_copy (error);
      return;
    }
  for (guint i = 0; i < group->len; i++)
    {
      Job *job = g_ptr_array_index (group, i);
      if (!sdc_store_savepoint (w->store, &job->error))
        continue;
      if (job->func (w->store, job->data, &job->error))
        {
          if (sdc_store_release (w->store, &job->error))
            {
              job->ok = TRUE;
              ok++;
            }
        }
      else
        sdc_store_rollback_to (w->store);
    }
  if (sdc_store_commit (w->store, &error))
    {
      count_commit (w, ok);
      return;
    }
  g_printerr ("esa-sdc: group commit of %u reports failed (%s); storing them one by one\n",
              group->len, error->message);
  sdc_store_rollback (w->store);
  for (guint i = 0; i < group->len; i++)
    run_alone (w->store, g_ptr_array_index (group, i));
}

static gboolean
return_batch_cb (gpointer data)
{
  GPtrArray *batch = data;
  /* in the tasks' own context, after they were created: GTask calls back at once */
  for (guint i = 0; i < batch->len; i++)
    job_return (g_ptr_array_index (batch, i));
  g_ptr_array_set_size (batch, 0);
  return G_SOURCE_REMOVE;
}

/* One idle source per run of jobs from the same main context (normally the group). */
static void
return_group (GPtrArray *group)
{
  guint i = 0;
  while (i < group->len)
    {
      GMainContext *context = g_task_get_context (((Job *) g_ptr_array_index (group, i))->task);
      GPtrArray *batch = g_ptr_array_new ();
      GSource *source;
      while (i < group->len && g_task_get_context (((Job *) g_ptr_array_index (group, i))->task) == context)
        g_ptr_array_add (batch, g_ptr_array_index (group, i++));
      source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (source, "[sdc-writer] answers");
      g_source_set_callback (source, return_batch_cb, batch, (GDestroyNotify) g_ptr_array_unref);
      g_source_attach (source, context);
      g_source_unref (source);
    }
}

static gpointer
writer_thread (gpointer data)
{
  SdcWriter *w = data;
  for (;;)
    {
      g_autoptr (GPtrArray) group = g_ptr_array_new ();
      gint64 t0 = g_get_monotonic_time ();
      Job *job = g_async_queue_pop (w->queue);
      gint64 t1 = g_get_monotonic_time ();
      gboolean stop = (job == &stop_job);
      if (!stop)
        g_ptr_array_add (group, job);
      /* everything that queued up while the last COMMIT was on disk */
      while (!stop && group->len < SDC_WRITER_MAX_GROUP && (job = g_async_queue_try_pop (w->queue)) != NULL)
        {
          if (job == &stop_job)
            stop = TRUE;
          else
            g_ptr_array_add (group, job);
        }
      if (group->len > 0)
        {
          run_group (w, group);
          return_group (group);
        }
      /* whether this thread or the main loop limits the rate (docs/performance.md) */
      g_mutex_lock (&w->stats_lock);
      w->idle_us += t1 - t0;
      w->busy_us += g_get_monotonic_time () - t1;
      g_mutex_unlock (&w->stats_lock);
      if (stop)
        return NULL;
    }
}

static void
pool_func (gpointer data, gpointer user_data)
{
  SdcWriter *w = user_data;
  Job *job = data;
  /* GLib reuses pool threads across pools, so connections are not tied to threads:
   * take an idle one (there is one at most per running job) or open one */
  SdcStore *store = g_async_queue_try_pop (w->idle_stores);
  if (store == NULL)
    store = sdc_store_open (w->location, &job->error);
  if (store != NULL)
    {
      job->ok = job->func (store, job->data, &job->error);
      g_async_queue_push (w->idle_stores, store);
    }
  job_return (job);
}

SdcWriter *
sdc_writer_new (const char *location, guint pool_threads, GError **error)
{
  g_autoptr (SdcWriter) w = g_new0 (SdcWriter, 1);
  w->location = g_strdup (location);
  g_mutex_init (&w->stats_lock);
  w->queue = g_async_queue_new ();
  w->idle_stores = g_async_queue_new_full (g_object_unref);
  w->store = sdc_store_open (location, error);
  if (w->store == NULL)
    return NULL;
  w->pool = g_thread_pool_new (pool_func, w, (int) MAX (1, pool_threads), FALSE, error);
  if (w->pool == NULL)
    return NULL;
  w->thread = g_thread_new ("sdc-writer", writer_thread, w);
  return g_steal_pointer (&w);
}

void
sdc_writer_free (SdcWriter *w)
{
  if (w == NULL)
    return;
  if (w->thread != NULL)
    {
      g_async_queue_push (w->queue, &stop_job);
      g_thread_join (w->thread);
    }
  if (w->pool != NULL)
    g_thread_pool_free (w->pool, FALSE, TRUE);
  g_clear_object (&w->store);
  g_async_queue_unref (w->queue);
  g_async_queue_unref (w->idle_stores);
  g_mutex_clear (&w->stats_lock);
  g_free (w->location);
  g_free (w);
}

static Job *
job_new (SdcWriter *w, SdcStoreFunc func, gpointer data, GDestroyNotify destroy,
         GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  Job *job = g_new0 (Job, 1);
  job->func = func;
  job->data = data;
  job->task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_source_tag (job->task, tag);
  /* the callback can read what the job left in its data */
  g_task_set_task_data (job->task, data, destroy);
  return job;
}

void
sdc_writer_write (SdcWriter *w, SdcStoreFunc func, gpointer data, GDestroyNotify destroy,
                  GAsyncReadyCallback callback, gpointer user_data)
{
  g_async_queue_push (w->queue, job_new (w, func, data, destroy, callback, user_data, sdc_writer_write));
}

void
sdc_writer_run (SdcWriter *w, SdcStoreFunc func, gpointer data, GDestroyNotify destroy,
                GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  Job *job = job_new (w, func, data, destroy, callback, user_data, sdc_writer_run);
  if (!g_thread_pool_push (w->pool, job, &error))
    {
      job->error = g_steal_pointer (&error);
      job_return (job);
    }
}

gboolean
sdc_writer_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
sdc_writer_get_stats (SdcWriter *w, guint64 *commits, guint64 *jobs)
{
  g_mutex_lock (&w->stats_lock);
  *commits = w->commits;
  *jobs = w->jobs;
  g_mutex_unlock (&w->stats_lock);
}

void
sdc_writer_get_times (SdcWriter *w, gint64 *idle_us, gint64 *busy_us)
{
  g_mutex_lock (&w->stats_lock);
  *idle_us = w->idle_us;
  *busy_us = w->busy_us;
  g_mutex_unlock (&w->stats_lock);
}
