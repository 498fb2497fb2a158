/* wrong-abi.c: a plugin built for a future ABI (999). The symbols are defined
 * by hand, as ESA_PLUGIN_DEFINE would only ever write the current ABI. The
 * loader must refuse it from the data symbol alone, without calling it. */
#include "config.h"

#include <stdlib.h>

#include <esa/esa-plugin.h>

G_MODULE_EXPORT const guint32 esa_plugin_abi = 999;

G_MODULE_EXPORT const EsaPluginInfo *esa_plugin_query (void);

const EsaPluginInfo *
esa_plugin_query (void)
{
  /* Running any code of a wrong-ABI module is the bug this plugin catches. */
  abort ();
}
