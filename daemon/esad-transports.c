/* esad-transports.c: esad's wiring of the transports into the engine — the
 * named implementations, the sender that drains the queue through them,
 * the SDC calls of plugins and the sender's control calls. */
#include "config.h"

#include "esad-transports.h"
#include "esa-file-transport.h"
#include "esa-https-transport.h"
#include "esa-sender-routes-private.h"
#include "esa-info-routes-private.h"
#include "esa-preview-routes-private.h"

gboolean
esad_transports_init (EsadTransports *self, EsaEngine *engine, EsaControl *control, GError **error)
{
  esa_transport_register ("https", ESA_TYPE_HTTPS_TRANSPORT);
  esa_transport_register ("file", ESA_TYPE_FILE_TRANSPORT);
  self->engine = engine;
  self->sender = esa_sender_new (engine);
  /* A plugin's question to the SDC goes over HTTPS whatever the queue uses. */
  esa_engine_set_call_sdc (engine, esa_https_transport_call_sdc, NULL);
  self->registration_poll = esa_registration_poll_new (engine, self->sender);
  esa_registration_poll_update (self->registration_poll);
  esa_sender_add_routes (control, self->sender, self->registration_poll);
  esa_info_add_routes (control);
  esa_preview_add_routes (control);
  return TRUE;
}

void
esad_transports_reload (EsadTransports *self)
{
  /* New proxies/servers apply from the next pass; try at once with them. */
  esa_sender_kick (self->sender);
}

void
esad_transports_shutdown (EsadTransports *self)
{
  if (self->engine != NULL)
    esa_engine_set_call_sdc (self->engine, NULL, NULL);
  g_clear_pointer (&self->registration_poll, esa_registration_poll_free);
  g_clear_pointer (&self->sender, esa_sender_free);
}
