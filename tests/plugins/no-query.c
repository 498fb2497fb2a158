/* no-query.c: has the ABI number but no esa_plugin_query entry point. */
#include "config.h"

#include <esa/esa-plugin.h>

G_MODULE_EXPORT const guint32 esa_plugin_abi = ESA_PLUGIN_ABI_VERSION;
