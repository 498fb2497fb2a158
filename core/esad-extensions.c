/* esad-extensions.c: what esad runs beside the core — the sender that
 * drains the queue, and its control calls. */
#include "config.h"

#include "esad-extensions-private.h"
#include "esa-sender-routes-private.h"

static EsaSender *sender;

gboolean
esad_extensions_init (EsaEngine *engine, EsaControl *control, GError **error)
{
  sender = esa_sender_new (engine);
  esa_sender_add_routes (control, sender);
  return TRUE;
}

void
esad_extensions_reload (EsaEngine *engine)
{
  /* New proxies/servers apply from the next pass; try at once with them. */
  esa_sender_kick (sender);
}

void
esad_extensions_shutdown (EsaEngine *engine)
{
  g_clear_pointer (&sender, esa_sender_free);
}
