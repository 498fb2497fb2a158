/* esa-transport.h: the way reports leave the machine, as an interface with
 * named implementations ("https", "file" in transports/), in the shape of
 * GIO's extension points: the daemon registers each implementation by name,
 * the sender (esa-sender.c) opens the one [transport] type= names for each
 * pass over the queue. Internal to OpenESA: not installed. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include "esa/esa-report.h"
#include "esa-config.h"

G_BEGIN_DECLS

#define ESA_TYPE_TRANSPORT (esa_transport_get_type ())
G_DECLARE_INTERFACE (EsaTransport, esa_transport, ESA, TRANSPORT, GObject)

/* What one attempt at one report says; the sender acts on it. */
typedef enum {
  ESA_TRANSPORT_SENT,      /* delivered: the report leaves the queue */
  ESA_TRANSPORT_REJECTED,  /* refused for good (4xx): the report goes to failed/ */
  ESA_TRANSPORT_AUTH,      /* our credentials were refused: retry later, stop the pass */
  ESA_TRANSPORT_RETRY,     /* no way out right now: retry later, stop the pass */
  ESA_TRANSPORT_UNTRIED,   /* send_batch only: not tried (an earlier report's failure
                            * stopped it); the report stays as it is */
} EsaTransportOutcome;

typedef struct {
  EsaTransportOutcome outcome;
  char *message;           /* one line: the route that worked, or what failed */
  JsonNode *answer;        /* the receiver's answer to the report, or NULL */
  JsonObject *manifest;    /* what left the machine, for the history: server,
                            * body_bytes, body_sha256, attachments [{name, size,
                            * sha256}]; NULL when the transport cannot say */
} EsaTransportResult;

void esa_transport_result_clear (EsaTransportResult *result);

struct _EsaTransportInterface {
  GTypeInterface g_iface;

  /* Once per pass, in the sender's worker thread, before any send. FALSE
   * keeps every queued report where it is (ESA_ERROR_NOT_ACTIVATED: the
   * agent waits for activation, which kicks the queue). */
  gboolean (*open)   (EsaTransport *self, EsaConfig *config, GError **error);
  /* Sends one report (worker thread); fills @result, never fails otherwise.
   * The implementation logs what only it can explain (routes tried …). */
  void     (*send)   (EsaTransport *self, EsaReport *report, GCancellable *cancellable,
                      EsaTransportResult *result);
  /* Optional. How many sends may run at once, each in its own thread of the
   * pass (the sender takes the smaller of this and [transport] parallel=).
   * Unset: 1, every send from one thread. */
  guint    (*max_parallel)   (EsaTransport *self);
  /* Optional. The calling thread sends nothing more in this pass: drop what
   * it holds (its connections). Called by each sending thread at its end. */
  void     (*release_thread) (EsaTransport *self);
  /* Optional. How many reports send_batch takes now; unset or <= 1: none,
   * every report goes through send. */
  guint    (*batch_max)      (EsaTransport *self);
  /* Optional (with batch_max). Sends @n (2..batch_max) reports without
   * attachments, together where the receiver can take them; @results[i]
   * (zeroed by the caller) says what send would have said of @reports[i]:
   * each report's own outcome, answer and manifest. */
  void     (*send_batch)     (EsaTransport *self, EsaReport *const *reports, guint n,
                              GCancellable *cancellable, EsaTransportResult *results);
};

gboolean      esa_transport_open     (EsaTransport *self, EsaConfig *config, GError **error);
void          esa_transport_send     (EsaTransport *self, EsaReport *report,
                                      GCancellable *cancellable, EsaTransportResult *result);
guint         esa_transport_max_parallel   (EsaTransport *self);
void          esa_transport_release_thread (EsaTransport *self);
/* 1 when the transport has no send_batch. */
guint         esa_transport_batch_max      (EsaTransport *self);
void          esa_transport_send_batch     (EsaTransport *self, EsaReport *const *reports, guint n,
                                            GCancellable *cancellable, EsaTransportResult *results);

/* Registers @type (implementing EsaTransport) under @name; a second
 * registration of a name replaces the first. Main thread, before the sender starts. */
void          esa_transport_register (const char *name, GType type);
/* A new instance of the implementation registered as @name (any thread).
 * ESA_ERROR_INVALID_CONFIG when no implementation has that name. */
EsaTransport *esa_transport_new      (const char *name, GError **error);

G_END_DECLS
