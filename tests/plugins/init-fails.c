/* init-fails.c: a plugin whose init returns FALSE without setting an error —
 * a plugin bug the core must report ("internal error") instead of crashing. */
#include "config.h"

#include <esa/esa-plugin.h>

static gboolean
init_fails_init (EsaContext *ctx, GError **error)
{
  return FALSE;
}

static const EsaPluginInfo init_fails_info = {
  .abi_version = ESA_PLUGIN_ABI_VERSION,
  .struct_size = sizeof (EsaPluginInfo),
  .name = "init-fails",
  .version = "1.0",
  .summary = "init returns FALSE and says nothing",
  .init = init_fails_init,
};

ESA_PLUGIN_DEFINE (init_fails_info)
