/* esad-extensions.c: hooks for what esad runs beside the core. The sender
 * (transports/) plugs in here. */
#include "config.h"

#include "esad-extensions-private.h"

gboolean
esad_extensions_init (EsaEngine *engine, EsaControl *control, GError **error)
{
  return TRUE;
}

void
esad_extensions_reload (EsaEngine *engine)
{
}

void
esad_extensions_shutdown (EsaEngine *engine)
{
}
