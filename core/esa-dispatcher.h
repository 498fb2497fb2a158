/* esa-dispatcher.h: runs plugin jobs on their schedules and events. */
#pragma once

#include <gio/gio.h>
#include "esa/esa-context.h"
#include "esa-queue.h"

G_BEGIN_DECLS

typedef struct _EsaDispatcher EsaDispatcher;

/* @state_file keeps each job's last run, so a restart neither repeats nor
 * skips a run. @seed (the host name) spreads splay offsets across a fleet. */
EsaDispatcher *esa_dispatcher_new      (const char *state_file, const char *seed);
void           esa_dispatcher_free     (EsaDispatcher *self);

/* Registers a job (before start). @schedule is already the effective text
 * ([job.NAME] schedule= or the plugin's default). */
gboolean       esa_dispatcher_add_job  (EsaDispatcher *self, EsaContext *ctx,
                                        const char *name, const char *schedule,
                                        guint64 splay_s, gboolean enabled,
                                        EsaJobFunc func, gpointer user_data,
                                        GDestroyNotify destroy, GError **error);
/* Changes a job's splay (before start); only the job's own plugin may. */
gboolean       esa_dispatcher_set_splay (EsaDispatcher *self, EsaContext *ctx, const char *name,
                                         guint64 splay_s, GError **error);
/* Forgets the jobs of a plugin whose init failed (before start). */
void           esa_dispatcher_remove_jobs_of (EsaDispatcher *self, EsaContext *ctx);
/* Runs the jobs missed while the agent was down, then arms the timer. */
void           esa_dispatcher_start    (EsaDispatcher *self);
/* Cancels running jobs and disarms timers; running threads finish on their
 * own (their subprocesses are killed by the cancellation), and their ends
 * are handled in the main context: see esa_dispatcher_wait_idle (). */
void           esa_dispatcher_stop     (EsaDispatcher *self);
/* Iterates the main context until no run is in progress or @timeout_s
 * passed (FALSE then, naming the jobs still running in a warning). */
gboolean       esa_dispatcher_wait_idle (EsaDispatcher *self, guint timeout_s);
/* Cancelled by esa_dispatcher_stop (): every run's cancellable, and the one
 * plugin commands get from esa_context_get_cancellable (). */
GCancellable  *esa_dispatcher_get_cancellable (EsaDispatcher *self);

/* Runs @name now (main thread); @callback gets the run's outcome via
 * esa_dispatcher_run_finish (). @data is the event data, or NULL. */
gboolean       esa_dispatcher_run_now  (EsaDispatcher *self, const char *name,
                                        const char *event, JsonObject *data,
                                        GAsyncReadyCallback callback, gpointer user_data,
                                        GError **error);
/* The run's summary (esa_job_run_set_summary) or its error. */
char          *esa_dispatcher_run_finish (EsaDispatcher *self, GAsyncResult *res, GError **error);
/* A reload: the job's schedule, splay and enabled from the new config; the
 * next run is computed again from now. */
gboolean       esa_dispatcher_reconfigure_job (EsaDispatcher *self, const char *name, const char *schedule,
                                               guint64 splay_s, gboolean enabled, GError **error);
/* Runs job @name now as a preview (esa-preview.h): what it submits from its
 * run goes to @sink (which must outlive the run), nothing to the queue; its
 * clock and last result stay. Finish with esa_dispatcher_run_finish (). */
gboolean       esa_dispatcher_preview  (EsaDispatcher *self, const char *name, EsaQueue *sink,
                                        GAsyncReadyCallback callback, gpointer user_data,
                                        GError **error);

/* The spool: at start, reports an event record lists as being queued are
 * checked against it (esa_job_run_enqueue). Set before start. */
void           esa_dispatcher_set_queue (EsaDispatcher *self, EsaQueue *queue);
/* The run whose job body the calling thread executes, or NULL. */
EsaJobRun     *esa_dispatcher_get_current_run (void);
/* Queues @report submitted by @run (may be NULL: just queued). For an event
 * run, a report with a parent is noted in the run's record so that the run,
 * resumed after a crash, submits the same report rather than a second one:
 * it gets the earlier attempt's UUID and, if that one was queued already,
 * is not queued again (TRUE with *@already set). */
gboolean       esa_job_run_enqueue     (EsaJobRun *run, EsaQueue *queue, EsaReport *report,
                                        gboolean *already, GError **error);

/* Runs every job waiting for @event (thread-safe: hops to the main context). */
void           esa_dispatcher_emit     (EsaDispatcher *self, const char *event, JsonObject *data);

/* Jobs with schedule, last/next run, last result, running flag. */
JsonNode      *esa_dispatcher_to_json  (EsaDispatcher *self);
/* Number of runs in progress (tests and shutdown wait for 0). */
guint          esa_dispatcher_get_running (EsaDispatcher *self);

G_END_DECLS
