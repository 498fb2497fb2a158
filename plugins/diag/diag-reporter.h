/* diag-reporter.h: the diag plugin's state and its one pipeline — an event
 * (AIX error-log entry, Linux EDAC rise, or a test) becomes findings, each
 * finding is checked against the problem log (LPAR, duplicates), reported to
 * the SDC, and its outcome recorded. */
#pragma once

#include <esa/esa-plugin.h>
#include "diag-problem-log.h"

G_BEGIN_DECLS

#define DIAG_DEFAULT_DEDUP_WINDOW (72 * 3600)
#define DIAG_DEFAULT_WAIT         60   /* s to wait for the SR number */
#define DIAG_EVENT_PROBLEM_REPORTED "problem-reported"

typedef struct {
  EsaContext *ctx;
  DiagProblemLog *log;
  guint64 dedup_window_s;
  guint64 wait_s;
  char *sysroot;          /* "/" or $ESA_SYSROOT */
  GMutex edac_lock;       /* one EDAC scan at a time (job and esactl) */
} DiagPlugin;

DiagPlugin *diag_plugin_new  (EsaContext *ctx, GError **error);
void        diag_plugin_free (DiagPlugin *self);

/* The outcome of one finding, for summaries and esactl. */
typedef struct {
  guint id;               /* problem log id (0 if not recorded) */
  char *uuid;             /* report uuid when one was queued */
  char *status_text;      /* "reported SR00000042", "duplicate of 3" … */
  gboolean delivered;     /* the SDC answered */
} DiagOutcome;

void        diag_outcome_free (DiagOutcome *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DiagOutcome, diag_outcome_free)

/* Records and (unless LPAR/duplicate) reports one finding: a JsonObject with
 * key, resource, srn/src/code, description, frus, errlog … Never NULL. */
DiagOutcome *diag_report_finding (DiagPlugin *self, JsonObject *finding, gboolean test,
                                  GCancellable *cancellable);

/* The "errlog" event (esactl notify): AIX runs errpt + diag; elsewhere the
 * event itself is the finding. Returns a one-line summary. */
char       *diag_handle_errlog  (DiagPlugin *self, JsonObject *event, GCancellable *cancellable,
                                 GError **error);

/* One look at the EDAC counters; reports rises. Returns a summary. */
char       *diag_edac_scan      (DiagPlugin *self, GCancellable *cancellable, GError **error);

/* A test problem, end to end (esactl problem test). */
DiagOutcome *diag_report_test   (DiagPlugin *self, GCancellable *cancellable);

/* The SDC accepted one of our reports (main thread). */
void        diag_plugin_delivered (DiagPlugin *self, const char *uuid, const char *kind, JsonObject *answer);

G_END_DECLS
