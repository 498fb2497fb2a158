/* no-symbol.c: a shared object that is not an OpenESA plugin at all (no
 * esa_plugin_abi, no esa_plugin_query). */
#include "config.h"

#include <gmodule.h>

G_MODULE_EXPORT int no_symbol_answer (void);

int
no_symbol_answer (void)
{
  return 42;
}
