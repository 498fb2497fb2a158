/* diag-problem-log.h: the local record of every hardware event diag handled
 * (reported, duplicate, not reported on an LPAR, queued, failed), kept as one
 * JSON file in the plugin's state folder so it survives restarts. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Values of an entry's "status" member. */
#define DIAG_STATUS_PENDING      "pending"      /* being reported right now */
#define DIAG_STATUS_QUEUED       "queued"       /* in the queue, no SR number yet */
#define DIAG_STATUS_REPORTED     "reported"     /* the SDC answered: "service_request" */
#define DIAG_STATUS_DUPLICATE    "duplicate"    /* "duplicate_of": id of the reported one */
#define DIAG_STATUS_NOT_REPORTED "not-reported" /* "reason": "LPAR", "no trouble found" … */
#define DIAG_STATUS_FAILED       "failed"       /* "reason": why */

/* The reason of a pending entry whose reporter never recorded an outcome. */
#define DIAG_REASON_INTERRUPTED  "interrupted before the report was confirmed queued"

typedef struct _DiagProblemLog DiagProblemLog;

/* Entries beyond this many are dropped, oldest first. */
#define DIAG_PROBLEM_LOG_MAX 1000

/* Opens (or starts) the log at @path. A file that cannot be parsed is moved
 * aside to PATH.bad with a warning: the log must never stop problem reporting.
 * Pending entries found there (their reporter died) become failed with
 * reason DIAG_REASON_INTERRUPTED: they must not suppress the next occurrence. */
DiagProblemLog *diag_problem_log_new    (const char *path);
void            diag_problem_log_free   (DiagProblemLog *self);

/* Adds @entry (takes it) with a new "id" and "time" and saves. When its
 * "status" is pending and an entry with the same "key" and "resource" that
 * was reported or queued (or is pending and still being reported by this
 * process) is younger than @window_s, the new entry becomes a duplicate of it
 * instead. Test entries are never duplicates. A pending entry stays "in
 * flight" until its status changes or diag_problem_log_settle (). Returns the
 * id (0 on error; the entry is then not kept). */
guint           diag_problem_log_add    (DiagProblemLog *self, JsonObject *entry, guint64 window_s,
                                         gint64 now_unix, GError **error);
/* Sets the members of @changes on entry @id and saves. */
gboolean        diag_problem_log_update (DiagProblemLog *self, guint id, JsonObject *changes,
                                         GError **error);
/* The same, only while entry @id still has "status" @status (checked and set
 * under the lock, so a delivery recorded meanwhile is not overwritten). */
gboolean        diag_problem_log_update_if_status (DiagProblemLog *self, guint id,
                                                   const char *status, JsonObject *changes,
                                                   GError **error);
/* The reporter of entry @id is done: if it is still pending (its outcome
 * could not be recorded) it becomes failed, and it stops counting as an
 * original either way. */
void            diag_problem_log_settle (DiagProblemLog *self, guint id);
/* A report of ours was delivered late: the pending/queued entry with that
 * "uuid" becomes reported with @service_request. FALSE if none matched. */
gboolean        diag_problem_log_delivered (DiagProblemLog *self, const char *uuid,
                                            const char *service_request, GError **error);
/* Copies, newest last. */
JsonArray      *diag_problem_log_list   (DiagProblemLog *self);
JsonObject     *diag_problem_log_get    (DiagProblemLog *self, guint id);

/* "reported SR00000042", "duplicate of 3", "not reported: LPAR", "queued", "failed: …" */
char           *diag_problem_status_text (JsonObject *entry);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DiagProblemLog, diag_problem_log_free)

G_END_DECLS
