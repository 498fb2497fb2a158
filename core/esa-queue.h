/* esa-queue.h: the persistent spool of reports waiting to be sent. */
#pragma once

#include <glib.h>
#include "esa/esa-report.h"

G_BEGIN_DECLS

typedef struct _EsaQueue EsaQueue;

typedef struct {
  char *uuid;
  char *kind;
  char *plugin;
  char *created;       /* ISO 8601 */
  guint attempts;
  gint64 next_attempt; /* unix seconds; 0 = now */
  char *last_error;    /* NULL if never tried */
  guint64 size;        /* bytes on disk, attachments included */
  char *failed_reason; /* only for entries of failed/ */
  gint64 created_us;   /* the listing order (with the uuid) */
  gboolean corrupt;    /* failed/ only: a spool file that could not be read */
} EsaQueueEntry;

void       esa_queue_entry_free   (EsaQueueEntry *entry);

/* Opens (creating) DIR with tmp/ and failed/ beside the reports, and recovers
 * from a crash: half-written files are removed at once and the reports
 * counted, by their names only; a thread then removes attachment folders whose
 * report never committed and renames reports spooled by an older esad (one
 * that is unreadable goes into failed/ with a warning and its reason).
 * esa_queue_wait_ready () waits for that thread; nothing else needs to. */
EsaQueue  *esa_queue_open         (const char *dir, GError **error);
void       esa_queue_wait_ready   (EsaQueue *self);
/* Reports waiting (and in failed/, quarantined ones included), kept on every
 * change: cheap enough for the main loop. */
guint      esa_queue_count        (EsaQueue *self, guint *failed_out);
/* How many reports' records the queue holds in memory (the sender's window
 * and the names listed last): bounded, whatever the queue's length. */
guint      esa_queue_held_records (EsaQueue *self);
/* Names the passes over the spool folder have read since open (window
 * refills and listings); per report a drain sends, about the same whatever
 * the queue's length up to 16,000 (tests read it). */
guint64    esa_queue_names_read   (EsaQueue *self);
/* Folder fsyncs run to make removals durable since open (tests read it). */
guint64    esa_queue_removal_syncs (EsaQueue *self);
void       esa_queue_free         (EsaQueue *self);
const char *esa_queue_get_dir     (EsaQueue *self);

/* Writes the report and copies its attachments into the spool, durably
 * (temp file, fsync, rename, fsync dir), keeping each attachment's size and
 * SHA-256 (computed while copying) in the report. Thread-safe; no lock is held
 * while attachments are copied. */
gboolean   esa_queue_enqueue      (EsaQueue *self, EsaReport *report, GError **error);
/* Called by esa_queue_enqueue_full () once the report is committed (on disk,
 * whole) and before it is published to the sender (the index): whatever it
 * records about the report is durable before the report can be delivered.
 * Also called when the report was committed already (enqueue is idempotent). */
typedef void (*EsaQueueCommittedFunc) (EsaQueue *queue, const char *uuid, gpointer user_data);
gboolean   esa_queue_enqueue_full (EsaQueue *self, EsaReport *report, EsaQueueCommittedFunc committed,
                                   gpointer user_data, GError **error);
/* Whether a report with @uuid is in the spool, waiting or in failed/
 * (quarantined ones included), read from the files: the index need not be
 * ready. */
gboolean   esa_queue_holds        (EsaQueue *self, const char *uuid);

/* Entries waiting, oldest first (EsaQueueEntry*), read from their files.
 * These read every report: use the page or the brief form for big queues. */
GPtrArray *esa_queue_list         (EsaQueue *self);
GPtrArray *esa_queue_list_failed  (EsaQueue *self);
/* Entries [offset, offset + limit) of the queue (or failed/), read from their
 * files; @total_out gets the count of all. One pass over the folder's names
 * keeping offset + limit of them: call it from a worker thread. A queued file
 * found corrupt is quarantined (warning) and left out. */
GPtrArray *esa_queue_list_page    (EsaQueue *self, gboolean failed, guint offset, guint limit,
                                   guint *total_out);
/* Up to @limit queued entries after @after (NULL: from the oldest): uuid,
 * kind, plugin, created, attempts, next_attempt (no last_error, size 0), read
 * from their files; the names come from a bounded window of the queue's
 * oldest, refilled from the folder as the walk goes on. An empty array is the
 * end of the queue. For walking a big queue in pieces. */
GPtrArray *esa_queue_list_brief   (EsaQueue *self, const EsaQueueEntry *after, guint limit);
/* Up to @limit queued names after @after (NULL: from the oldest), from the
 * same window as esa_queue_list_brief but without reading a file: uuid and
 * created_us only (kind and plugin "?"). For a walk that loads each report
 * anyway (the sender: esa_queue_load_brief), so it reads each file once. */
GPtrArray *esa_queue_list_names   (EsaQueue *self, const EsaQueueEntry *after, guint limit);
/* esa_queue_load, with @brief_out the entry esa_queue_list_brief would give,
 * from the same read of the file. */
EsaReport *esa_queue_load_brief   (EsaQueue *self, const char *uuid, EsaQueueEntry **brief_out,
                                   GError **error);
/* The entry's report; attachment paths point into the spool. A file that no
 * longer reads as a report is quarantined (warning) and ESA_ERROR_INVALID_DATA
 * returned. */
EsaReport *esa_queue_load         (EsaQueue *self, const char *uuid,
                                   EsaQueueEntry **entry_out, GError **error);
/* Delivered: removes the report and its attachments. */
gboolean   esa_queue_remove       (EsaQueue *self, const char *uuid, GError **error);
/* Delivered together (one batch's acknowledged reports): each removed as
 * esa_queue_remove does, with one fsync of the folder for all of them, begun
 * after the last unlink: every removal is durable when this returns. The
 * first error is returned; the others are still removed. */
gboolean   esa_queue_remove_many  (EsaQueue *self, const char *const *uuids, guint n,
                                   GError **error);
/* Retryable failure: records it and the time of the next attempt. */
gboolean   esa_queue_reschedule   (EsaQueue *self, const char *uuid, const char *reason,
                                   gint64 next_attempt, GError **error);
/* Rejected by the SDC: moves it to failed/ with the reason. */
gboolean   esa_queue_fail         (EsaQueue *self, const char *uuid, const char *reason,
                                   GError **error);
/* Puts a failed report back in the queue (after the admin fixed the cause);
 * a quarantined one only once it reads as a whole report again. */
gboolean   esa_queue_retry_failed (EsaQueue *self, const char *uuid, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaQueue, esa_queue_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaQueueEntry, esa_queue_entry_free)

G_END_DECLS
