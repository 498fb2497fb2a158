/* esa-preview.h: `esactl preview` — a job run whose reports are built but not
 * queued for sending. The dispatcher marks the worker thread of a preview run
 * with a sink (a scratch EsaQueue); esa_engine_submit() puts what that thread
 * submits there instead of in the real queue. Reports submitted from any
 * other thread are never diverted: nothing real is lost to a preview. */
#pragma once

#include "esa-queue.h"

G_BEGIN_DECLS

/* The sink of the calling thread (NULL: not a preview). */
void      esa_preview_set_sink (EsaQueue *sink);
EsaQueue *esa_preview_get_sink (void);

G_END_DECLS
