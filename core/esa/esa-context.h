/* esa-context.h: what the core offers a plugin (jobs, reports, config, events). */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include "esa-report.h"
#include "esa-platform.h"

G_BEGIN_DECLS

typedef struct _EsaContext EsaContext; /* one per plugin, owned by the core */
typedef struct _EsaJobRun  EsaJobRun;  /* one per run of a job */

/* A job body. It runs in a worker thread (a GTask), so it may block on
 * commands and files, never on the main loop. Return FALSE with @error set on
 * failure; the dispatcher logs it with the plugin's name and retries a
 * failed scheduled run with backoff (1 min doubling to 1 h, never later
 * than the next slot; docs/reliability.md). */
typedef gboolean (*EsaJobFunc) (EsaJobRun *run, gpointer user_data, GError **error);

/* Called in the main thread when the SDC accepted a report of this plugin;
 * @answer is the SDC's JSON answer (e.g. a service request number). */
typedef void (*EsaDeliveredFunc) (EsaContext *ctx, const char *report_uuid,
                                  const char *kind, JsonObject *answer,
                                  gpointer user_data);

/* Schedules: "daily HH:MM", "weekly DAY HH:MM", "every N{m,h,d}", "on-event[:NAME]".
 * [job.NAME] schedule= and splay= in esa.conf override the default given here.
 * Only call this from init. */
gboolean     esa_context_add_job          (EsaContext *ctx, const char *job_name,
                                           const char *default_schedule,
                                           EsaJobFunc func, gpointer user_data,
                                           GDestroyNotify destroy, GError **error);
/* Spreads a fleet: each host runs the job at a stable offset in [0, splay)
 * after its slot (daily/weekly jobs). [job.NAME] splay= overrides it. Call
 * after esa_context_add_job, from init. */
gboolean     esa_context_set_job_splay    (EsaContext *ctx, const char *job_name, guint64 splay_s,
                                           GError **error);
void         esa_context_on_delivered     (EsaContext *ctx, EsaDeliveredFunc func,
                                           gpointer user_data);

const char  *esa_context_get_plugin_name  (EsaContext *ctx);
/* <state-dir>/plugins/<name>, created 0700 on first use. */
const char  *esa_context_get_state_dir    (EsaContext *ctx);
/* <state-dir>/temp: scratch space for collectors (snap -d points here). */
const char  *esa_context_get_temp_dir     (EsaContext *ctx);

/* Typed reads of [plugin.<name>] in esa.conf. On a bad value they fail with an
 * error naming file, group, key, value and what was expected. */
char        *esa_context_get_string       (EsaContext *ctx, const char *key,
                                           const char *fallback);
gboolean     esa_context_get_int          (EsaContext *ctx, const char *key, gint64 fallback,
                                           gint64 min, gint64 max, gint64 *out, GError **error);
gboolean     esa_context_get_duration     (EsaContext *ctx, const char *key, guint64 fallback_s,
                                           guint64 *out_s, GError **error);
gboolean     esa_context_get_bool         (EsaContext *ctx, const char *key, gboolean fallback,
                                           gboolean *out, GError **error);
/* Any group/key of esa.conf, for the few shared settings (contact, vendors). */
char        *esa_context_get_global       (EsaContext *ctx, const char *group, const char *key);
/* The system's contact as the admin last gave it (esactl activate / contact set, kept
 * in the state dir), else esa.conf's [activation] contact-*. Each out value is newly
 * allocated, NULL when not set. FALSE (with a warning logged) when the state dir's
 * contact file is unreadable: then all three are NULL. */
gboolean     esa_context_get_contact      (EsaContext *ctx, char **name, char **email, char **phone);

/* The platform as detected at start-up (never NULL; fields may be NULL). */
const EsaPlatform *esa_context_get_platform (EsaContext *ctx);
/* Cancelled when esad stops. Plugin commands pass it to every
 * esa_subprocess_run () (jobs use esa_job_run_get_cancellable ()), so a
 * stop kills their commands instead of waiting them out. */
GCancellable *esa_context_get_cancellable (EsaContext *ctx);

/* Hands a report to the persistent queue (thread-safe). When this returns TRUE
 * the report and its attachments are on disk and will be delivered. */
gboolean     esa_context_submit           (EsaContext *ctx, EsaReport *report, GError **error);

/* Raises an event: every job scheduled "on-event:NAME" (or plain "on-event"
 * with NAME equal to its job name) runs with @data. Thread-safe. */
void         esa_context_emit_event       (EsaContext *ctx, const char *event, JsonObject *data);

/* Hands a report to the queue, starts sending it, and waits (in a worker
 * thread, never the main thread) until the SDC answered or @timeout_s passed.
 * TRUE with the SDC's answer (a service request number …); FALSE when it was
 * rejected, could not be sent in time (it stays queued and will still be
 * delivered: ESA_ERROR_TIMEOUT / ESA_ERROR_NETWORK), or was never queued. */
gboolean     esa_context_submit_and_wait  (EsaContext *ctx, EsaReport *report, guint timeout_s,
                                           JsonObject **answer, GError **error);

/* TRUE while the calling thread builds a preview (esactl preview): what it
 * submits is kept aside and never sent, so the plugin must act on nothing
 * either — no request to the SDC, no key written, no log or state updated. */
gboolean     esa_context_is_preview       (EsaContext *ctx);

/* One request/answer with the SDC outside the queue (e.g. asking for a
 * renewed UAK): POST /esa/v1/@endpoint with @request, over the same routes,
 * proxies and TLS policy as reports. Worker threads only. */
gboolean     esa_context_call_sdc         (EsaContext *ctx, const char *endpoint,
                                           JsonObject *request, JsonObject **answer,
                                           GError **error);

/* An esactl command served by the plugin: `esactl WORDS ARGS…`. Runs in a
 * worker thread with the words after the command; returns a JSON object
 * whose "text" member is printed for people and "data" member for --json. */
typedef JsonObject *(*EsaCommandFunc) (EsaContext *ctx, const char *const *args,
                                       gpointer user_data, GError **error);
/* @words: "problem list"; @usage: "[ID]"; only from init. */
gboolean     esa_context_add_command      (EsaContext *ctx, const char *words, const char *usage,
                                           const char *summary, EsaCommandFunc func,
                                           gpointer user_data, GError **error);

/* Inside a job run. */
EsaContext  *esa_job_run_get_context      (EsaJobRun *run);
const char  *esa_job_run_get_job_name     (EsaJobRun *run);
/* The event that started this run, or NULL for a scheduled run. */
const char  *esa_job_run_get_event        (EsaJobRun *run);
JsonObject  *esa_job_run_get_event_data   (EsaJobRun *run);
GCancellable *esa_job_run_get_cancellable (EsaJobRun *run);
/* A short outcome shown by `esactl status` (e.g. "queued heartbeat 1f3c…"). */
void         esa_job_run_set_summary      (EsaJobRun *run, const char *summary);

G_END_DECLS
