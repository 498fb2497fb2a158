/* sdc-writer.h: the storage threads: reports are written by writer threads in group
 * commits, and other store work runs on a small pool of threads, each with its own
 * connection. */
#pragma once

#include <gio/gio.h>

#include "sdc-store.h"

G_BEGIN_DECLS

typedef struct _SdcWriter SdcWriter;

/* Runs in a storage thread with that thread's connection. For a write, the writer has
 * opened a transaction (and a savepoint for this job alone); FALSE rolls back this job
 * only. */
typedef gboolean (*SdcStoreFunc) (SdcStore *store, gpointer data, GError **error);
/* Several jobs' @data at once, in the group's order, inside the writer's transaction
 * (no savepoints): TRUE when every one of them succeeded. FALSE rolls back the group,
 * which then runs again with each job's SdcStoreFunc inside its own savepoint. */
typedef gboolean (*SdcStoreGroupFunc) (SdcStore *store, gpointer *data, guint n, GError **error);

/* Reads a job's input in the writer thread before its group runs, and names its @key
 * (newly allocated); FALSE: the job is answered with @error and stored nothing. */
typedef gboolean (*SdcPrepareFunc) (gpointer data, char **key, GError **error);
/* Opens @location once per storage thread (@writers + @pool_threads). @writers 0: the
 * default for the engine (sdc_writer_default_writers); more than 1 is refused on SQLite,
 * whose single write lock they would only queue for. */
SdcWriter *sdc_writer_new          (const char *location, guint writers, guint pool_threads,
                                    GError **error);
guint      sdc_writer_default_writers (const char *location);
void       sdc_writer_free         (SdcWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcWriter, sdc_writer_free)

/* @data (freed with @destroy after @callback) is g_task_get_task_data() in @callback.
 * Group commit: @func joins the next transaction; @callback (in the caller's main
 * context) runs only after that transaction committed (or failed). A group runs its
 * jobs in the order of their @key (copied; for a report "SYSTEM-ID\tUUID"), so that
 * concurrent groups take their row locks in one order and cannot deadlock. */
void       sdc_writer_write        (SdcWriter *w, const char *key, SdcStoreFunc func, gpointer data,
                                    GDestroyNotify destroy, GAsyncReadyCallback callback,
                                    gpointer user_data);
/* The same, and adjacent jobs of a group with the same @group_func run in one call of
 * it (one statement for all of them on PostgreSQL); @func is the fallback per job. */
void       sdc_writer_write_group  (SdcWriter *w, const char *key, SdcStoreFunc func,
                                    SdcStoreGroupFunc group_func, gpointer data, GDestroyNotify destroy,
                                    GAsyncReadyCallback callback, gpointer user_data);
/* The same for a job whose input is read first, off the main loop, by @prepare (which
 * also gives its key); @release (may be NULL) frees in the writer thread, once the job's
 * transaction is over, what @callback will not need. */
void       sdc_writer_write_prepared (SdcWriter *w, SdcPrepareFunc prepare, SdcStoreFunc func,
                                      SdcStoreGroupFunc group_func, GDestroyNotify release, gpointer data,
                                      GDestroyNotify destroy, GAsyncReadyCallback callback,
                                      gpointer user_data);
/* Anything else (reads, PBKDF2, registration in its own transaction) on the pool. */
void       sdc_writer_run          (SdcWriter *w, SdcStoreFunc func, gpointer data,
                                    GDestroyNotify destroy, GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean   sdc_writer_finish       (GAsyncResult *result, GError **error);

/* Counters, for tests and the log: transactions committed and jobs they carried. */
void       sdc_writer_get_stats    (SdcWriter *w, guint64 *commits, guint64 *jobs);
/* Writer threads, and groups rolled back and run again (a job failed, or a deadlock). */
guint      sdc_writer_get_writers  (SdcWriter *w);
guint64    sdc_writer_get_retries  (SdcWriter *w);
/* The writer threads' time (summed over them) waiting for work and working (µs), since it started. */
void       sdc_writer_get_times    (SdcWriter *w, gint64 *idle_us, gint64 *busy_us);

G_END_DECLS
