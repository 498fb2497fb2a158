/* esa-sender-private.h: drains the queue through the configured transport
 * (https or file) in a worker thread, with backoff for what failed. */
#pragma once

#include "esa-engine-private.h"

G_BEGIN_DECLS

typedef struct _EsaSender EsaSender;

EsaSender *esa_sender_new        (EsaEngine *engine);
void       esa_sender_free       (EsaSender *self);
/* Starts a pass now (or right after the running one). */
void       esa_sender_kick       (EsaSender *self);
/* Runs a pass and calls back when it is over; the result is a JSON object
 * {"delivered": [...], "failed": [...], "pending": N, "message": "…"}. */
void       esa_sender_drain_async  (EsaSender *self, GAsyncReadyCallback callback, gpointer user_data);
JsonNode  *esa_sender_drain_finish (EsaSender *self, GAsyncResult *res, GError **error);
/* The delay before the next retry: min * 2^attempts, capped, with jitter. */
guint64    esa_sender_backoff    (guint attempts, guint64 min_s, guint64 max_s, double random01);

G_END_DECLS
