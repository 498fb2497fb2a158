/* esa-sender.h: drains the queue through the transport the config names
 * (esa-transport.h) in a worker thread, with backoff for what failed.
 * Internal to OpenESA (the daemon starts it): not installed. */
#pragma once

#include "esa-engine.h"

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
/* Records visited so far merging what passes learnt for drain_async
 * callers: linear in the reports (tests read it). */
guint64    esa_sender_merge_steps (EsaSender *self);
/* The delay before the next retry: min * 2^attempts, capped, with jitter. */
guint64    esa_sender_backoff    (guint attempts, guint64 min_s, guint64 max_s, double random01);

G_END_DECLS
