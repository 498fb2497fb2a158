/* sdc-sqlite-checkpoint.h: SQLite's WAL copied into the database by a thread of its own,
 * so that the commits that fill the WAL do not wait for the copy (docs/performance.md,
 * "WAL checkpoints"). One checkpointer per database file and process, shared by every
 * connection to that file; its thread starts at the first checkpoint it is asked for. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#include "sdc-store.h"

G_BEGIN_DECLS

/* WAL pages after which a checkpoint starts (about 40 MB with 4 KiB pages). */
#define SDC_SQLITE_CHECKPOINT_PAGES 10000

typedef struct _SdcSqliteCheckpointer SdcSqliteCheckpointer;

/* What a checkpointer did, for tests and the log: passes its thread ran and its syncs
 * of the database file after passes that copied something, the short closing copies a
 * committing connection made so the WAL could start again, and the checkpoints a
 * committing connection ran itself because the WAL had grown to four times the mark
 * (the thread behind or failing). */
typedef struct {
  guint64 series;  /* of passes: the times the thread was asked and ran */
  guint64 passes;
  guint64 syncs;   /* of the database file by the thread, after its passes */
  guint64 closing;
  guint64 forced;
} SdcSqliteCheckpointStats;

/* Attaches the checkpointer of PATH to DB (a connection in WAL mode that may commit),
 * in place of SQLite's own checkpoint after a commit. Returns a reference to it. */
SdcSqliteCheckpointer *sdc_sqlite_checkpointer_attach (sqlite3 *db, const char *path);
/* Call before DB is closed: the last release stops the thread and closes its connection. */
void sdc_sqlite_checkpointer_release (SdcSqliteCheckpointer *ck, sqlite3 *db);
void sdc_sqlite_checkpointer_get_stats (SdcSqliteCheckpointer *ck, SdcSqliteCheckpointStats *stats);
/* Tests: returns once the thread has taken what it was asked for and, with UNTIL_IDLE,
 * once its passes have ended too. */
void sdc_sqlite_checkpointer_wait (SdcSqliteCheckpointer *ck, gboolean until_idle);
/* Tests: with FALSE, checkpointers attached later start no thread (as if none could be
 * started), so the commits' own checkpoint at four times the mark is all there is. */
void sdc_sqlite_checkpointer_set_threads_enabled (gboolean enabled);
/* The stats of the checkpointer of an SQLite store's file. */
void sdc_store_sqlite_checkpoint_stats (SdcStore *store, SdcSqliteCheckpointStats *stats);
/* Tests: sdc_sqlite_checkpointer_wait on the checkpointer of an SQLite store's file. */
void sdc_store_sqlite_checkpoint_wait (SdcStore *store, gboolean until_idle);

G_END_DECLS
