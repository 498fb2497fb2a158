/* esa-deliver.h: sends one queued report (and its attachments) over
 * the routes in order, until one works or all have failed. */
#pragma once

#include "esa-https.h"
#include "esa-credentials.h"

G_BEGIN_DECLS

typedef struct _EsaDeliverer EsaDeliverer;

typedef struct {
  EsaOutcome outcome;   /* OK, REJECTED, AUTH, or NEXT_* meaning "every route failed" */
  char *message;        /* the last failure, or the route that worked */
  JsonNode *answer;     /* the SDC's answer to the report */
  GPtrArray *attempts;  /* char*: one line per route tried */
  char *server;         /* on OK: the server that answered */
  JsonObject *manifest; /* esa_deliverer_send: what was (to be) sent, see EsaTransportResult */
} EsaDelivery;

void          esa_delivery_clear   (EsaDelivery *d);

/* One pass over the queue shares sessions and remembers failed proxies.
 * Several threads may send through it at once (each gets its own sessions). */
/* @servers overrides the configured list (activation with --server). */
EsaDeliverer *esa_deliverer_new    (EsaConfig *config, const EsaCredentials *creds,
                                    const char *const *servers);
void          esa_deliverer_free   (EsaDeliverer *self);
/* A local configuration problem that leaves no usable route (no server, or
 * only the credentials' server and it is not https://): ESA_ERROR_INVALID_CONFIG
 * naming what to fix. Such a problem keeps reports queued; it is never the
 * SDC's verdict on them. */
gboolean      esa_deliverer_check_config (EsaConfig *config, const EsaCredentials *creds, GError **error);
/* Sends @report and its attachments. */
void          esa_deliverer_send   (EsaDeliverer *self, EsaReport *report,
                                    GCancellable *cancellable, EsaDelivery *out);
/* Reports in one POST /esa/v1/reports: at most ESA_DELIVER_BATCH_MAX of
 * them, and requests of at most ESA_DELIVER_BATCH_BYTES of reports. */
#define ESA_DELIVER_BATCH_MAX   32
#define ESA_DELIVER_BATCH_BYTES (256 * 1024)
/* Sends @n reports without attachments together (docs/protocol.md, "Batch"),
 * over the routes in order; @outs[i] (zeroed by the caller) gets what
 * esa_deliverer_send would have said of @reports[i]: each result is checked
 * as a single answer is, and a report not acknowledged goes on to the next
 * route. A server without the endpoint (404/405) is remembered, and the
 * reports go to it one by one. @tried[i] says whether @reports[i] was tried:
 * a failure that would stop a pass (every route failed, credentials refused)
 * leaves the reports not yet sent untouched. */
void          esa_deliverer_send_batch (EsaDeliverer *self, EsaReport *const *reports, guint n,
                                        GCancellable *cancellable, EsaDelivery *outs, gboolean *tried);
/* Whether batches go to the first route's server (not known to lack them). */
gboolean      esa_deliverer_batches (EsaDeliverer *self);
/* One JSON call (register, uak …) over the routes, same failover rules. */
void          esa_deliverer_call   (EsaDeliverer *self, const char *method, const char *path,
                                    JsonNode *body, gboolean with_credentials,
                                    const char *idempotency_key,
                                    GCancellable *cancellable, EsaDelivery *out);
/* The calling thread sends nothing more through @self: its sessions (and
 * their connections) are freed now, in the thread that made them. */
void          esa_deliverer_release_thread (EsaDeliverer *self);
/* The routes it uses, for esactl test. */
GPtrArray    *esa_deliverer_get_routes (EsaDeliverer *self);

/* The envelope sent for a report: its JSON with size and sha256 of each
 * attachment instead of local paths. */
JsonNode     *esa_report_envelope  (EsaReport *report, GError **error);
/* What an envelope puts on the wire: body_bytes and body_sha256 of the JSON
 * body as sent, each attachment's name, size and sha256, and bytes (all). */
JsonObject   *esa_envelope_manifest (JsonNode *envelope);
/* The same for @body, @envelope as serialized (and sent) by the caller. */
JsonObject   *esa_envelope_manifest_for_body (JsonNode *envelope, GBytes *body);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaDeliverer, esa_deliverer_free)

G_END_DECLS
