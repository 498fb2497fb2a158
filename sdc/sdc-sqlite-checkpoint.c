/* sdc-sqlite-checkpoint.c: WAL checkpoints on a thread of their own.
 *
 * SQLite's own checkpoint runs inside the COMMIT that took the WAL past the mark, and no
 * other report commits until it is done. Its cost is scattered writes into sdc.db, one
 * per distinct page: on a database of 310 MB, checkpoints of 10,000 pages held the
 * writer 60-200 ms and put p99 at 63-80 ms (docs/performance.md, "WAL checkpoints").
 *
 * A checkpoint beside a writer that keeps committing never finds the whole WAL copied,
 * and the WAL starts again from its beginning only then (the next write transaction
 * after a checkpoint that copied all of it): left alone, it grew to 275,000 pages in
 * 8 s. So the thread copies in passes until a pass finds little new (each pass copies
 * what was committed during the one before), and the next commit past the mark copies
 * that little itself, a few hundred pages; its next write starts the WAL again.
 *
 * If the thread falls behind or fails (it cannot open the file, a full disk), a commit
 * that finds the WAL at four times the mark checkpoints itself, as SQLite would. */
#include "config.h"

#include "sdc-sqlite-checkpoint.h"

/* A pass that copied fewer pages than this has caught up with the writer. */
#define CAUGHT_UP_PAGES 200
#define MAX_PASSES 6
#define FORCED_PAGES (4 * SDC_SQLITE_CHECKPOINT_PAGES)
/* A failure that repeats (a full disk) is logged at most this often. */
#define ERROR_LOG_INTERVAL (60 * G_TIME_SPAN_SECOND)

struct _SdcSqliteCheckpointer {
  char *path;
  guint refs; /* under registry_lock */
  GMutex lock;
  GCond cond;
  GCond changed; /* broadcast when the thread takes a request and when its passes end */
  GThread *thread;
  gboolean wanted, busy, stop;
  /* the WAL frames copied when the thread last caught up, or -1 */
  int caught_up_to;
  gint64 error_logged;
  SdcSqliteCheckpointStats stats;
  sqlite3 *db; /* the thread's own connection */
  /* the thread's: WAL frames copied as its last pass ended, or -1 (a commit may reset it
   * under LOCK while the thread is idle: forget_counts_past_restart) */
  int last_done;
};

static GMutex registry_lock;
static GHashTable *registry; /* path -> SdcSqliteCheckpointer */
/* tests: FALSE as if no thread could be started */
static gboolean threads_enabled = TRUE;

static void
log_failure (SdcSqliteCheckpointer *ck, const char *what, const char *why)
{
  gint64 now = g_get_monotonic_time ();
  g_mutex_lock (&ck->lock);
  gboolean quiet = ck->error_logged != 0 && now - ck->error_logged < ERROR_LOG_INTERVAL;
  if (!quiet)
    ck->error_logged = now;
  g_mutex_unlock (&ck->lock);
  if (!quiet)
    g_printerr ("esa-sdc: checkpoint of %s: %s: %s (the reports stay in the WAL; tried again after the next commit)\n",
                ck->path, what, why);
}

static gboolean
open_own_connection (SdcSqliteCheckpointer *ck)
{
  char *err = NULL;
  if (sqlite3_open_v2 (ck->path, &ck->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK)
    {
      sqlite3_busy_timeout (ck->db, 1000);
      /* FULL: a checkpoint syncs the WAL before it copies and the database after; the
       * read lets the connection find that the file is in WAL mode */
      if (sqlite3_exec (ck->db, "PRAGMA synchronous = FULL; SELECT count(*) FROM sqlite_master;", NULL, NULL,
                        &err) == SQLITE_OK)
        return TRUE;
    }
  log_failure (ck, "open", err != NULL ? err : sqlite3_errmsg (ck->db));
  sqlite3_free (err);
  sqlite3_close (ck->db);
  ck->db = NULL;
  return FALSE;
}

/* Passes until one copies little; returns the frames copied by then, or -1 when it
 * did not catch up (or the WAL started again under it, or another process's
 * checkpoint was running). COPIED: whether a pass copied anything (a reader's old
 * snapshot can leave every pass with nothing to copy). */
static int
run_passes (SdcSqliteCheckpointer *ck, gboolean *copied)
{
  int prev = -1;
  *copied = FALSE;
  for (int i = 0; i < MAX_PASSES; i++)
    {
      int log = 0, done = 0;
      int rc = sqlite3_wal_checkpoint_v2 (ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc != SQLITE_OK)
        {
          if (rc != SQLITE_BUSY)
            log_failure (ck, "copy", sqlite3_errmsg (ck->db));
          return -1;
        }
      g_mutex_lock (&ck->lock);
      ck->stats.passes++;
      g_mutex_unlock (&ck->lock);
      if (done != ck->last_done)
        *copied = TRUE;
      ck->last_done = done;
      if (log < 0 || done < prev)
        return -1;
      if (done == log || (prev >= 0 && done - prev < CAUGHT_UP_PAGES))
        return done;
      prev = done;
    }
  return -1;
}

/* The pages the passes copied into the database file, written to the disk here. SQLite
 * syncs the database only after a checkpoint that copied the whole WAL, which beside a
 * busy writer is the commit's closing copy: that fdatasync then wrote every page the
 * passes had left in the page cache, tens of MB on a database of 170 MB, and held the
 * writer, and every report waiting for it, 36-41 ms (docs/performance.md, "WAL
 * checkpoints"). Written here, the closing copy's sync finds only its own few hundred
 * pages. Only after passes that copied something: a sync of a file with nothing to write
 * still flushes the disk's cache on most file systems, and a reader's old snapshot
 * (nothing to copy) has the thread asked again after every commit. A failure is logged;
 * the WAL is kept all the same, since SQLite starts it again only after a checkpoint
 * whose own sync succeeded, and Linux reports a failed write-back to every descriptor
 * open on the file, the committing connection's too. */
static void
sync_database (SdcSqliteCheckpointer *ck)
{
  sqlite3_file *file = NULL;
  int rc;
  if (sqlite3_file_control (ck->db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == NULL ||
      file->pMethods == NULL)
    return;
  rc = file->pMethods->xSync (file, SQLITE_SYNC_NORMAL);
  if (rc != SQLITE_OK)
    {
      log_failure (ck, "sync", sqlite3_errstr (rc));
      return;
    }
  g_mutex_lock (&ck->lock);
  ck->stats.syncs++;
  g_mutex_unlock (&ck->lock);
}

static gpointer
checkpoint_thread (gpointer data)
{
  SdcSqliteCheckpointer *ck = data;
  gboolean opened = open_own_connection (ck);
  g_mutex_lock (&ck->lock);
  for (;;)
    {
      while (!ck->wanted && !ck->stop)
        g_cond_wait (&ck->cond, &ck->lock);
      if (ck->stop)
        break;
      ck->wanted = FALSE;
      ck->busy = TRUE;
      ck->stats.series++;
      g_cond_broadcast (&ck->changed);
      g_mutex_unlock (&ck->lock);
      gboolean copied = FALSE;
      int upto = opened ? run_passes (ck, &copied) : -1;
      if (copied)
        sync_database (ck);
      g_mutex_lock (&ck->lock);
      ck->busy = FALSE;
      ck->caught_up_to = upto;
      g_cond_broadcast (&ck->changed);
    }
  g_mutex_unlock (&ck->lock);
  sqlite3_close (ck->db);
  ck->db = NULL;
  return NULL;
}

/* A commit into a WAL of fewer FRAMES than the thread last counted: the WAL has started
 * again from frame 0 since (after a copy of all of it, the thread's or a commit's). Under
 * a steady writer it starts again at about the same size each time, so the counts kept
 * from before would be met again: the thread's next pass, ending at the frame its last
 * one did, taken for one that copied nothing (no sync: CI's ASan build once wrote this
 * way), and a commit, reaching the count the thread had caught up to, taken for the
 * closing copy of a few hundred pages when 10,000 are left (the copy the thread is there
 * to spare the commits). Under LOCK. */
static void
forget_counts_past_restart (SdcSqliteCheckpointer *ck, int frames)
{
  if (ck->busy)
    return;
  if (ck->caught_up_to > frames)
    ck->caught_up_to = -1;
  if (ck->last_done > frames)
    ck->last_done = -1;
}

/* Called on the committing connection after each commit, its write lock released. */
static int
wal_hook (void *data, sqlite3 *db, const char *name, int frames)
{
  SdcSqliteCheckpointer *ck = data;
  gboolean copy_here = FALSE;

  g_mutex_lock (&ck->lock);
  forget_counts_past_restart (ck, frames);
  if (frames < SDC_SQLITE_CHECKPOINT_PAGES)
    {
      g_mutex_unlock (&ck->lock);
      return SQLITE_OK;
    }
  if (frames >= FORCED_PAGES)
    {
      /* the thread is not asked again: once its passes end, this connection copies the
       * WAL whole (no other commit runs meanwhile) and it starts again */
      if (!ck->busy)
        {
          ck->stats.forced++;
          copy_here = TRUE;
        }
    }
  else if (!ck->busy && !ck->wanted)
    {
      int upto = ck->caught_up_to;
      ck->caught_up_to = -1;
      if (upto >= 0 && frames >= upto && frames - upto <= 2 * CAUGHT_UP_PAGES)
        {
          ck->stats.closing++;
          copy_here = TRUE;
        }
      else
        {
          if (ck->thread == NULL && g_atomic_int_get (&threads_enabled))
            ck->thread = g_thread_try_new ("sdc-checkpoint", checkpoint_thread, ck, NULL);
          if (ck->thread != NULL)
            {
              ck->wanted = TRUE;
              g_cond_signal (&ck->cond);
            }
        }
    }
  g_mutex_unlock (&ck->lock);
  if (copy_here)
    sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  return SQLITE_OK;
}

SdcSqliteCheckpointer *
sdc_sqlite_checkpointer_attach (sqlite3 *db, const char *path)
{
  SdcSqliteCheckpointer *ck;
  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new (g_str_hash, g_str_equal);
  ck = g_hash_table_lookup (registry, path);
  if (ck == NULL)
    {
      ck = g_new0 (SdcSqliteCheckpointer, 1);
      ck->path = g_strdup (path);
      ck->caught_up_to = -1;
      ck->last_done = -1;
      g_mutex_init (&ck->lock);
      g_cond_init (&ck->cond);
      g_cond_init (&ck->changed);
      g_hash_table_insert (registry, ck->path, ck);
    }
  ck->refs++;
  g_mutex_unlock (&registry_lock);
  sqlite3_wal_hook (db, wal_hook, ck);
  return ck;
}

void
sdc_sqlite_checkpointer_release (SdcSqliteCheckpointer *ck, sqlite3 *db)
{
  gboolean last;
  sqlite3_wal_hook (db, NULL, NULL);
  g_mutex_lock (&registry_lock);
  last = --ck->refs == 0;
  if (last)
    g_hash_table_remove (registry, ck->path);
  g_mutex_unlock (&registry_lock);
  if (!last)
    return;
  if (ck->thread != NULL)
    {
      g_mutex_lock (&ck->lock);
      ck->stop = TRUE;
      g_cond_signal (&ck->cond);
      g_mutex_unlock (&ck->lock);
      g_thread_join (ck->thread);
    }
  g_mutex_clear (&ck->lock);
  g_cond_clear (&ck->cond);
  g_cond_clear (&ck->changed);
  g_free (ck->path);
  g_free (ck);
}

void
sdc_sqlite_checkpointer_get_stats (SdcSqliteCheckpointer *ck, SdcSqliteCheckpointStats *stats)
{
  g_mutex_lock (&ck->lock);
  *stats = ck->stats;
  g_mutex_unlock (&ck->lock);
}

void
sdc_sqlite_checkpointer_wait (SdcSqliteCheckpointer *ck, gboolean until_idle)
{
  g_mutex_lock (&ck->lock);
  while (ck->thread != NULL && (ck->wanted || (until_idle && ck->busy)))
    g_cond_wait (&ck->changed, &ck->lock);
  g_mutex_unlock (&ck->lock);
}

void
sdc_sqlite_checkpointer_set_threads_enabled (gboolean enabled)
{
  g_atomic_int_set (&threads_enabled, enabled);
}
