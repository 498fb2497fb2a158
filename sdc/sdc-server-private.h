/* sdc-server-private.h: what the router (sdc-server.c) and endpoints (sdc-api.c) share. */
#pragma once

#include <libsoup/soup.h>

#include "sdc-auth-cache.h"
#include "sdc-batch.h"
#include "sdc-guard.h"
#include "sdc-loops.h"
#include "sdc-server.h"
#include "sdc-store.h"
#include "sdc-throttle.h"
#include "sdc-ui.h"
#include "sdc-upload.h"
#include "sdc-writer.h"

G_BEGIN_DECLS

struct _SdcServer {
  SdcServerOptions opts;
  SdcStore *store;     /* the HTTPS loops' own connection (attachments only) */
  GMutex store_lock;   /* held around every use of store */
  SdcWriter *writer;   /* everything else: group commits and the storage pool */
  SdcAuthCache *auth_cache;
  SdcThrottle *throttle;
  SdcGuard *guard;     /* connections still in TLS handshake or first head */
  SdcUi *ui;           /* the web view under /ui/ */
  SdcUak *uak;
  GMutex uak_lock;
  SoupServer *https;   /* the main loop's */
  SdcLoops *loops;     /* the other HTTPS loops (sdc-loops.c), NULL with one */
  GPtrArray *https_more; /* their SoupServers, one a loop */
  guint64 *loop_requests; /* requests started on each HTTPS loop, the main loop's first */
  SoupServer *http;
  GPtrArray *https_urls;
};

typedef enum {
  SDC_ROUTE_REGISTER,
  SDC_ROUTE_REPORT,
  SDC_ROUTE_UAK,
  SDC_ROUTE_CONFIG,
  SDC_ROUTE_ATTACHMENT,
  SDC_ROUTE_SYSTEM,   /* contact, deactivate: report_kind names which */
  SDC_ROUTE_BATCH,    /* several reports (sdc-batch.c) */
  SDC_ROUTE_UI,
} SdcRouteKind;

typedef struct {
  const char *path; /* exact, or a prefix when it ends in '/' */
  const char *method;
  gboolean auth;
  SdcRouteKind kind;
  const char *report_kind;
} SdcRoute;

/* Per-request state, attached to the SoupServerMessage from headers to finish. */
typedef struct {
  SdcServer *server;
  gboolean https;
  const SdcRoute *route;
  char *system_id;    /* once authenticated */
  char *auth_user;    /* credentials still to check with PBKDF2 (cache miss) */
  char *auth_password;
  SoupServerMessage *msg; /* while paused for storage: a reference */
  JsonObject *obj;    /* the parsed body */
  guint retry_after;  /* seconds, with a 429 */
  guint status;       /* the answer, set by a storage thread */
  char *answer;
  GByteArray *body;   /* JSON routes: collected here, capped at max-body */
  gboolean too_large;
  char *report_uuid;  /* attachment route */
  char *att_name;
  gint64 att_size;
  SdcUpload *upload;
  gboolean discard;   /* idempotent re-upload: read and drop the body */
  GError *deferred;   /* a write error while streaming, answered at the end */
  char *uuid;         /* for the log line */
  const char *error_code;
  gboolean duplicate;
  SdcBatch *batch;    /* batch route: its reports and their results */
} SdcRequest;

void sdc_server_respond_json  (SoupServerMessage *msg, guint status, const char *json);
/* Whether @kind is the kind of a report endpoint (what a batch may carry). */
gboolean sdc_route_is_report_kind (const char *kind);
void sdc_server_respond_error (SoupServerMessage *msg, SdcRequest *req, const GError *error);

/* A report on its way to the writer thread: read and validated there
 * (sdc_api_report_read, off the main loop), or already (a batch's reports). */
typedef struct {
  SdcReportRow row; /* points into the fields below and into obj */
  /* not read yet: the body as it came, and what checking it needs */
  GByteArray *raw;
  gsize max_body;
  const char *kind_path;
  char *idempotency_key;
  char *log_uuid;   /* the uuid, as soon as reading found it (for the log line) */
  JsonObject *obj;
  GPtrArray *attachments;
  char *uuid;
  char *parent;
  char *body_json;
  char *now;
  guint status;     /* the answer, once stored */
  char *answer;
  gboolean duplicate;
} SdcReportJob;

void sdc_report_job_free (SdcReportJob *job);
/* Once stored: frees all but the answer (status, answer, duplicate, log_uuid). */
void sdc_report_job_release (SdcReportJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcReportJob, sdc_report_job_free)

/* Hands a report (owned from here; read first, in the writer thread, when it is not
 * yet) to the writer's next group commit; @callback gets it back as
 * g_task_get_task_data() once its transaction committed. */
void sdc_server_write_report (SdcServer *self, SdcReportJob *job, GAsyncReadyCallback callback,
                              gpointer user_data);

/* sdc-api.c: JSON endpoints take the parsed request and produce (status, answer).
 * register and uak run in a storage thread with that thread's @store; a report is read
 * and validated by the writer thread (sdc_api_report_read) before it is stored. */
gboolean sdc_api_register (SdcStore *store, SdcRequest *req, JsonObject *obj, guint *status,
                           char **answer, GError **error);
/* A report of @system_id (the job points to it) as it came: @body (taken), to be read
 * at most @max_body long, for the endpoint of @kind_path, with the request's
 * Idempotency-Key header or NULL. */
SdcReportJob *sdc_api_report_new_unread (const char *system_id, const char *kind_path, GByteArray *body,
                                         gsize max_body, const char *idempotency_key);
/* Parses and checks an unread report (in any thread; it touches only the job). FALSE
 * with the error the agent gets back; job->log_uuid is set once the uuid was read. */
gboolean      sdc_api_report_read    (SdcReportJob *job, GError **error);
/* What reading checks, for one parsed report of @system_id (the job points to it):
 * @kind_path is the endpoint's kind, or NULL for a batch (any report kind);
 * @idempotency_key may be NULL; *@log_uuid gets the canonical uuid as soon as it is
 * known. */
SdcReportJob *sdc_api_report_check   (const char *system_id, const char *kind_path,
                                      const char *idempotency_key, JsonObject *obj, char **log_uuid,
                                      GError **error);
gboolean sdc_api_uak      (SdcServer *self, SdcStore *store, SdcRequest *req, JsonObject *obj,
                           guint *status, char **answer, GError **error);
char    *sdc_api_config   (SdcServer *self);
/* sdc-api-system.c: contact and deactivate, in a storage thread. */
gboolean sdc_api_system   (SdcStore *store, SdcRequest *req, JsonObject *obj, guint *status,
                           char **answer, GError **error);
/* The request's optional "contact" object as JSON text (*contact_json NULL when absent). */
gboolean sdc_api_contact_json (JsonObject *obj, char **contact_json, GError **error);
/* Stores one validated report inside the caller's transaction (any thread, any engine):
 * exactly once by uuid; a duplicate gets the stored answer and *duplicate TRUE. */
gboolean sdc_api_store_report (SdcStore *store, const SdcReportRow *row, GPtrArray *attachments,
                               guint *status, char **answer, gboolean *duplicate, GError **error);
/* The same for a writer's group of report jobs at once (each gets status, answer and
 * duplicate); FALSE when any fails (the writer then stores them one by one). */
gboolean sdc_api_store_reports (SdcStore *store, SdcReportJob *const *jobs, guint n, GError **error);
/* Attachment: checks made once the headers are in, then the end of the stream. */
gboolean sdc_api_attachment_begin  (SdcServer *self, SdcRequest *req, SoupServerMessage *msg,
                                    const char *tail, GError **error);
gboolean sdc_api_attachment_finish (SdcServer *self, SdcRequest *req, guint *status,
                                    char **answer, GError **error);

G_END_DECLS
