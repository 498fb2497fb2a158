/* sdc-writer.c: storage off the main loop.
 *
 * TLS and HTTP stay on the main loop; the database never runs there. Reports go to the
 * writer threads (one on SQLite, which has one write lock; more on PostgreSQL, each with
 * its own connection) that commit in groups: a writer takes every job that arrived while
 * its previous transaction was committing, runs each inside its own savepoint (one bad
 * report rolls back alone), and pays one COMMIT (one fsync) for all of them. A job's
 * callback runs only after its transaction committed, so an agent is acknowledged only
 * for what is durable. Should the group's COMMIT fail, every job of it is run again in
 * a transaction of its own, so one job's failure never costs the others their answer.
 *
 * The common case costs less (docs/performance.md, "SDC"): a group first runs without
 * savepoints (on PostgreSQL each one is a round trip), and only if one of its jobs fails
 * is the transaction rolled back and the group run again with a savepoint per job.
 * Jobs written with a group function (reports) run first as one call of it for all of
 * them, one statement on PostgreSQL; the savepoint run calls each job's own function. Its
 * answers go back to the caller's main loop in one batch (one wakeup and one source for
 * the group rather than one per report).
 *
 * With several writers two groups run at once, so a group runs its jobs sorted by the
 * key each caller gives (a report's system id, then its uuid): every transaction takes
 * its row locks (the systems row for last_seen, the uuid's index entry) in the same
 * order, and two groups wait for each other but never deadlock. A report whose uuid is
 * in another writer's open transaction waits for it, then is a duplicate (or stored, had
 * that one rolled back). Should PostgreSQL still abort a job as a deadlock or a
 * serialization failure (G_IO_ERROR_BUSY from the store), the job is run again alone.
 *
 * A job may also bring input still to be read (a report's JSON as it came): the writer
 * reads it (its prepare function) before sorting the group, since reading gives the key,
 * and answers one that fails outside the transaction; after the commit, what the answer
 * does not need is freed here too (its release function). Both keep work off the main
 * loop, the one thread that cannot be more than one (docs/performance.md, "Work off the
 * main loop").
 *
 * Other store work (credential checks with their PBKDF2, registration, UAK issue) goes
 * to a small GThreadPool; each pool thread opens its own connection on first use. */
#include "config.h"

#include "sdc-writer.h"
#include "sdc-error.h"

#define SDC_WRITER_MAX_GROUP 1024
#define SDC_WRITER_MAX_WRITERS 64

typedef struct {
  SdcPrepareFunc prepare; /* NULL: nothing to read first */
  GDestroyNotify release; /* NULL: nothing to drop before the answer goes back */
  SdcStoreFunc func;
  SdcStoreGroupFunc group_func; /* NULL: the job runs alone (func) */
  char *key; /* the group's run order (row locks in one order across writers) */
  gpointer data; /* owned by the task */
  GTask *task;
  gboolean ok;
  GError *error;
} Job;

typedef struct {
  SdcWriter *w;
  SdcStore *store; /* this writer thread's own connection */
  GThread *thread;
} WriterThread;

struct _SdcWriter {
  char *location;
  GPtrArray *writers; /* WriterThread, all taking groups from one queue */
  GAsyncQueue *queue;
  GThreadPool *pool;
  GAsyncQueue *idle_stores; /* the pool's connections, at most one per pool thread */
  GMutex stats_lock;
  guint64 commits;
  guint64 jobs;
  guint64 retries; /* groups rolled back and run again */
  gint64 idle_us; /* the writer threads waiting for a first job (summed) */
  gint64 busy_us; /* running groups and handing their answers back (summed) */
};

/* a queue item that tells the writer thread to stop */
static Job stop_job;

static void
job_free (Job *job)
{
  g_clear_object (&job->task);
  g_free (job->key);
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

/* A deadlock or serialization failure: the job did nothing wrong, it may run again. */
static gboolean
is_transient (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY);
}

/* One job in a transaction of its own (again, a few times, while PostgreSQL aborts it
 * as the loser of a deadlock). */
static void
run_alone (SdcStore *store, Job *job)
{
  for (guint attempt = 0; attempt < 3; attempt++)
    {
      g_clear_error (&job->error);
      job->ok = FALSE;
      if (!sdc_store_begin (store, &job->error))
        return;
      if (!job->func (store, job->data, &job->error) || !sdc_store_commit (store, &job->error))
        sdc_store_rollback (store);
      else
        job->ok = TRUE;
      if (job->ok || !is_transient (job->error))
        return;
    }
}

static void
count_commit (SdcWriter *w, guint ok)
{
  g_mutex_lock (&w->stats_lock);
  w->commits++;
  w->jobs += ok;
  g_mutex_unlock (&w->stats_lock);
}

/* Runs group[*i] and, when it has a group function, the jobs after it that share it, in
 * one call; advances *i past them. */
static gboolean
run_jobs (SdcStore *store, GPtrArray *group, guint *i, GError **error)
{
  Job *job = g_ptr_array_index (group, *i);
  g_autoptr (GPtrArray) data = NULL;
  guint end = *i + 1;

  if (job->group_func == NULL)
    {
      *i = end;
      return job->func (store, job->data, error);
    }
  while (end < group->len && ((Job *) g_ptr_array_index (group, end))->group_func == job->group_func)
    end++;
  data = g_ptr_array_sized_new (end - *i);
  for (guint k = *i; k < end; k++)
    g_ptr_array_add (data, ((Job *) g_ptr_array_index (group, k))->data);
  *i = end;
  return job->group_func (store, data->pdata, data->len, error);
}

/* The whole group in one transaction without savepoints; FALSE (everything rolled back,
 * every job's result cleared) as soon as one job or the COMMIT fails. Job functions
 * write their results into their data, so running one again overwrites them. */
static gboolean
run_group_optimistic (SdcWriter *w, SdcStore *store, GPtrArray *group)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = TRUE;
  guint i = 0;

  if (!sdc_store_begin (store, &error))
    return FALSE;
  while (ok && i < group->len)
    ok = run_jobs (store, group, &i, &error);
  if (ok && sdc_store_commit (store, &error))
    {
      for (i = 0; i < group->len; i++)
        ((Job *) g_ptr_array_index (group, i))->ok = TRUE;
      count_commit (w, group->len);
      return TRUE;
    }
  sdc_store_rollback (store);
  for (i = 0; i < group->len; i++)
    g_clear_error (&((Job *) g_ptr_array_index (group, i))->error);
  return FALSE;
}

static void
run_group (SdcWriter *w, SdcStore *store, GPtrArray *group)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) again = g_ptr_array_new ();
  guint ok = 0;

  if (run_group_optimistic (w, store, group))
    return;
  g_mutex_lock (&w->stats_lock);
  w->retries++;
  g_mutex_unlock (&w->stats_lock);

  if (!sdc_store_begin (store, &error))
    {
      for (guint i = 0; i < group->len; i++)
        ((Job *) g_ptr_array_index (group, i))->error = g_error_copy (error);
      return;
    }
  for (guint i = 0; i < group->len; i++)
    {
      Job *job = g_ptr_array_index (group, i);
      if (!sdc_store_savepoint (store, &job->error))
        continue;
      if (job->func (store, job->data, &job->error))
        {
          if (sdc_store_release (store, &job->error))
            {
              job->ok = TRUE;
              ok++;
            }
        }
      else
        {
          sdc_store_rollback_to (store);
          /* aborted as the loser of a deadlock: alone once this group is done */
          if (is_transient (job->error))
            g_ptr_array_add (again, job);
        }
    }
  if (sdc_store_commit (store, &error))
    {
      for (guint i = 0; i < again->len; i++)
        {
          Job *job = g_ptr_array_index (again, i);
          run_alone (store, job);
          ok += job->ok ? 1 : 0;
        }
      count_commit (w, ok);
      return;
    }
  g_printerr ("esa-sdc: group commit of %u reports failed (%s); storing them one by one\n",
              group->len, error->message);
  sdc_store_rollback (store);
  for (guint i = 0; i < group->len; i++)
    run_alone (store, g_ptr_array_index (group, i));
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

static int
compare_jobs (gconstpointer a, gconstpointer b)
{
  const Job *ja = *(Job *const *) a;
  const Job *jb = *(Job *const *) b;
  return g_strcmp0 (ja->key, jb->key);
}

/* Jobs that read their input in the writer thread (a report's JSON: the main loop only
 * collects the bytes) do it before the group is sorted, since that gives their key. One
 * that fails goes straight back, outside the transaction; the others stay in @group. */
static void
prepare_jobs (GPtrArray *group, GPtrArray *refused)
{
  guint kept = 0;
  for (guint i = 0; i < group->len; i++)
    {
      Job *job = g_ptr_array_index (group, i);
      if (job->prepare != NULL && !job->prepare (job->data, &job->key, &job->error))
        g_ptr_array_add (refused, job);
      else
        group->pdata[kept++] = job;
    }
  g_ptr_array_set_size (group, kept);
}

/* What the callbacks no longer need (a report's parsed JSON) is freed here rather than
 * on the main loop, which has less time to spare. */
static void
release_jobs (GPtrArray *group)
{
  for (guint i = 0; i < group->len; i++)
    {
      Job *job = g_ptr_array_index (group, i);
      if (job->release != NULL)
        job->release (job->data);
    }
}

static gpointer
writer_thread (gpointer data)
{
  WriterThread *wt = data;
  SdcWriter *w = wt->w;
  for (;;)
    {
      g_autoptr (GPtrArray) group = g_ptr_array_new ();
      g_autoptr (GPtrArray) refused = g_ptr_array_new ();
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
      prepare_jobs (group, refused);
      if (group->len > 0)
        {
          /* a stable sort: jobs of one key keep their order of arrival */
          g_ptr_array_sort (group, compare_jobs);
          run_group (w, wt->store, group);
        }
      /* with the group's answers: one wakeup of the main loop for both */
      g_ptr_array_extend_and_steal (group, g_steal_pointer (&refused));
      release_jobs (group);
      return_group (group);
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

static void
writer_thread_free (WriterThread *wt)
{
  g_clear_object (&wt->store);
  g_free (wt);
}

/* PostgreSQL on another host: two, so one connection's round trips overlap the other's
 * work. On this host (the database shares esa-sdc's cores, round trips cost microseconds)
 * one: a second made groups smaller and cost the database about a third more CPU per
 * report with nothing gained (docs/performance.md). */
guint
sdc_writer_default_writers (const char *location)
{
  if (!sdc_store_location_is_pg (location))
    return 1;
  return sdc_store_pg_is_local (location) ? 1 : 2;
}

SdcWriter *
sdc_writer_new (const char *location, guint writers, guint pool_threads, GError **error)
{
  g_autoptr (SdcWriter) w = NULL;

  if (writers == 0)
    writers = sdc_writer_default_writers (location);
  if (writers > 1 && !sdc_store_location_is_pg (location))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%u database writers on SQLite: it has one write lock, so more than 1 would only "
                   "wait for it (more help on PostgreSQL only)", writers);
      return NULL;
    }
  if (writers > SDC_WRITER_MAX_WRITERS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%u database writers: expected 1-%u", writers, SDC_WRITER_MAX_WRITERS);
      return NULL;
    }
  w = g_new0 (SdcWriter, 1);
  w->location = g_strdup (location);
  g_mutex_init (&w->stats_lock);
  w->queue = g_async_queue_new ();
  w->idle_stores = g_async_queue_new_full (g_object_unref);
  w->writers = g_ptr_array_new_with_free_func ((GDestroyNotify) writer_thread_free);
  /* every connection opened before any thread starts: a bad location fails here */
  for (guint i = 0; i < writers; i++)
    {
      WriterThread *wt = g_new0 (WriterThread, 1);
      wt->w = w;
      g_ptr_array_add (w->writers, wt);
      wt->store = sdc_store_open (location, error);
      if (wt->store == NULL)
        return NULL;
    }
  w->pool = g_thread_pool_new (pool_func, w, (int) MAX (1, pool_threads), FALSE, error);
  if (w->pool == NULL)
    return NULL;
  for (guint i = 0; i < w->writers->len; i++)
    {
      WriterThread *wt = g_ptr_array_index (w->writers, i);
      wt->thread = g_thread_new ("sdc-writer", writer_thread, wt);
    }
  return g_steal_pointer (&w);
}

void
sdc_writer_free (SdcWriter *w)
{
  if (w == NULL)
    return;
  /* one stop item each, after all work: a writer takes one and ends */
  for (guint i = 0; w->writers != NULL && i < w->writers->len; i++)
    if (((WriterThread *) g_ptr_array_index (w->writers, i))->thread != NULL)
      g_async_queue_push (w->queue, &stop_job);
  for (guint i = 0; w->writers != NULL && i < w->writers->len; i++)
    {
      WriterThread *wt = g_ptr_array_index (w->writers, i);
      if (wt->thread != NULL)
        g_thread_join (wt->thread);
    }
  if (w->pool != NULL)
    g_thread_pool_free (w->pool, FALSE, TRUE);
  g_clear_pointer (&w->writers, g_ptr_array_unref);
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
sdc_writer_write (SdcWriter *w, const char *key, SdcStoreFunc func, gpointer data, GDestroyNotify destroy,
                  GAsyncReadyCallback callback, gpointer user_data)
{
  sdc_writer_write_group (w, key, func, NULL, data, destroy, callback, user_data);
}

void
sdc_writer_write_group (SdcWriter *w, const char *key, SdcStoreFunc func, SdcStoreGroupFunc group_func,
                        gpointer data, GDestroyNotify destroy, GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = job_new (w, func, data, destroy, callback, user_data, sdc_writer_write);
  job->key = g_strdup (key);
  job->group_func = group_func;
  g_async_queue_push (w->queue, job);
}

void
sdc_writer_write_prepared (SdcWriter *w, SdcPrepareFunc prepare, SdcStoreFunc func, SdcStoreGroupFunc group_func,
                           GDestroyNotify release, gpointer data, GDestroyNotify destroy,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = job_new (w, func, data, destroy, callback, user_data, sdc_writer_write);
  job->prepare = prepare;
  job->release = release;
  job->group_func = group_func;
  g_async_queue_push (w->queue, job);
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

guint
sdc_writer_get_writers (SdcWriter *w)
{
  return w->writers->len;
}

guint64
sdc_writer_get_retries (SdcWriter *w)
{
  guint64 retries;
  g_mutex_lock (&w->stats_lock);
  retries = w->retries;
  g_mutex_unlock (&w->stats_lock);
  return retries;
}

void
sdc_writer_get_times (SdcWriter *w, gint64 *idle_us, gint64 *busy_us)
{
  g_mutex_lock (&w->stats_lock);
  *idle_us = w->idle_us;
  *busy_us = w->busy_us;
  g_mutex_unlock (&w->stats_lock);
}
