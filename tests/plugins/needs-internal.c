/* needs-internal.c: a plugin calling a libesa function that is not part of the
 * plugin API (esa_queue_remove, declared here by hand). libesa does not export
 * it, so the loader must refuse the module when it loads it, naming the
 * symbol, instead of crashing at the first call. Linked without libesa and
 * with undefined symbols allowed: `pkg-config esa-plugin` builds refuse it. */
#include "config.h"

#include <esa/esa-plugin.h>

gboolean esa_queue_remove (gpointer queue, const char *uuid, GError **error);

static gboolean
needs_internal_init (EsaContext *ctx, GError **error)
{
  return esa_queue_remove (NULL, "none", error);
}

ESA_PLUGIN_DESCRIBE ("needs-internal", "1.0", "Calls an internal libesa function",
                     needs_internal_init, NULL)
