/* esad-extensions-private.h: what esad starts beside the core — the sender
 * (transports) and its control calls (activate, test, heartbeat …). */
#pragma once

#include "esa-control-private.h"
#include "esa-engine-private.h"

G_BEGIN_DECLS

gboolean esad_extensions_init     (EsaEngine *engine, EsaControl *control, GError **error);
void     esad_extensions_reload   (EsaEngine *engine);
void     esad_extensions_shutdown (EsaEngine *engine);

G_END_DECLS
