/* esad-transports.h: how esad wires the ways out into the engine — the
 * named transports (https, file), the sender that drains the queue through
 * them, the SDC calls of plugins, and their control calls (activate, test,
 * send …). The state is a struct owned by esad's main (). */
#pragma once

#include "esa-control-private.h"
#include "esa-engine.h"
#include "esa-sender.h"
#include "esa-registration-poll-private.h"

G_BEGIN_DECLS

typedef struct {
  EsaEngine *engine;
  EsaSender *sender;
  EsaRegistrationPoll *registration_poll; /* a registration pending approval, asked again */
} EsadTransports;

gboolean esad_transports_init     (EsadTransports *self, EsaEngine *engine, EsaControl *control,
                                   GError **error);
/* After a SIGHUP: new proxies and servers apply from the next pass. */
void     esad_transports_reload   (EsadTransports *self);
void     esad_transports_shutdown (EsadTransports *self);

G_END_DECLS
