/* esa-registration-poll-private.h: esad asks again, by itself, for a
 * registration the SDC holds for its admin (docs/protocol.md: 202 "pending",
 * `esa-sdc systems approve REG-…`), with backoff from 1 min to 1 h, until the
 * SDC answers with credentials (saved; the queue goes out) or refuses it. */
#pragma once

#include "esa-engine.h"
#include "esa-sender.h"

G_BEGIN_DECLS

typedef struct _EsaRegistrationPoll EsaRegistrationPoll;

EsaRegistrationPoll *esa_registration_poll_new  (EsaEngine *engine, EsaSender *sender);
/* Stops asking (an attempt in flight is cancelled) and drops the caller's reference. */
void                 esa_registration_poll_free (EsaRegistrationPoll *self);
/* At start and after each activation: asks again from the shortest wait when a
 * registration is pending (and esad has not stopped asking), else stops. */
void                 esa_registration_poll_update (EsaRegistrationPoll *self);

G_END_DECLS
