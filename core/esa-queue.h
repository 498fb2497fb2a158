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
} EsaQueueEntry;

void       esa_queue_entry_free   (EsaQueueEntry *entry);

/* Opens (creating) DIR with tmp/ and failed/ beside the reports, and recovers
 * from a crash: half-written files are removed, unreadable reports are moved
 * into failed/ with a warning. */
EsaQueue  *esa_queue_open         (const char *dir, GError **error);
void       esa_queue_free         (EsaQueue *self);
const char *esa_queue_get_dir     (EsaQueue *self);

/* Writes the report and copies its attachments into the spool, durably
 * (temp file, fsync, rename, fsync dir). Thread-safe. */
gboolean   esa_queue_enqueue      (EsaQueue *self, EsaReport *report, GError **error);

/* Entries waiting, oldest first (EsaQueueEntry*). */
GPtrArray *esa_queue_list         (EsaQueue *self);
GPtrArray *esa_queue_list_failed  (EsaQueue *self);
/* The entry's report; attachment paths point into the spool. */
EsaReport *esa_queue_load         (EsaQueue *self, const char *uuid,
                                   EsaQueueEntry **entry_out, GError **error);
/* Delivered: removes the report and its attachments. */
gboolean   esa_queue_remove       (EsaQueue *self, const char *uuid, GError **error);
/* Retryable failure: records it and the time of the next attempt. */
gboolean   esa_queue_reschedule   (EsaQueue *self, const char *uuid, const char *reason,
                                   gint64 next_attempt, GError **error);
/* Rejected by the SDC: moves it to failed/ with the reason. */
gboolean   esa_queue_fail         (EsaQueue *self, const char *uuid, const char *reason,
                                   GError **error);
/* Puts a failed report back in the queue (after the admin fixed the cause). */
gboolean   esa_queue_retry_failed (EsaQueue *self, const char *uuid, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaQueue, esa_queue_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaQueueEntry, esa_queue_entry_free)

G_END_DECLS
