/* esa-https-transport.h: the "https" transport — reports to the SDC over
 * HTTPS, through the configured proxies and servers with failover. */
#pragma once

#include "esa-engine.h"
#include "esa-transport.h"

G_BEGIN_DECLS

#define ESA_TYPE_HTTPS_TRANSPORT (esa_https_transport_get_type ())
G_DECLARE_FINAL_TYPE (EsaHttpsTransport, esa_https_transport, ESA, HTTPS_TRANSPORT, GObject)

/* esa_context_call_sdc over HTTPS (an EsaCallSdcFunc for esa_engine_set_call_sdc):
 * a plugin's request outside the queue, in a worker thread. */
gboolean esa_https_transport_call_sdc (EsaEngine *engine, const char *endpoint, JsonObject *request,
                                       JsonObject **answer, GError **error, gpointer user_data);

G_END_DECLS
