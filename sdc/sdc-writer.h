/* sdc-writer.h: the storage thread: reports are written there in group commits, and
 * other store work runs on a small pool of threads, each with its own connection. */
#pragma once

#include <gio/gio.h>

#include "sdc-store.h"

G_BEGIN_DECLS

typedef struct _SdcWriter SdcWriter;

/* Runs in a storage thread with that thread's connection. For a write, the writer has
 * opened a transaction (and a savepoint for this job alone); FALSE rolls back this job
 * only. */
typedef gboolean (*SdcStoreFunc) (SdcStore *store, gpointer data, GError **error);

/* Opens @location once per storage thread (1 writer + @pool_threads). */
SdcWriter *sdc_writer_new          (const char *location, guint pool_threads, GError **error);
void       sdc_writer_free         (SdcWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcWriter, sdc_writer_free)

/* @data (freed with @destroy after @callback) is g_task_get_task_data() in @callback.
 * Group commit: @func joins the next transaction; @callback (in the caller's main
 * context) runs only after that transaction committed (or failed). */
void       sdc_writer_write        (SdcWriter *w, SdcStoreFunc func, gpointer data,
                                    GDestroyNotify destroy, GAsyncReadyCallback callback,
                                    gpointer user_data);
/* Anything else (reads, PBKDF2, registration in its own transaction) on the pool. */
void       sdc_writer_run          (SdcWriter *w, SdcStoreFunc func, gpointer data,
                                    GDestroyNotify destroy, GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean   sdc_writer_finish       (GAsyncResult *result, GError **error);

/* Counters, for tests and the log: transactions committed and jobs they carried. */
void       sdc_writer_get_stats    (SdcWriter *w, guint64 *commits, guint64 *jobs);
/* The writer thread's time waiting for work and working (µs), since it started. */
void       sdc_writer_get_times    (SdcWriter *w, gint64 *idle_us, gint64 *busy_us);

G_END_DECLS
