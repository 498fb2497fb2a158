/* esa-sender-routes-private.h: the sender's control calls. */
#pragma once

#include "esa-control-private.h"
#include "esa-sender.h"

G_BEGIN_DECLS

void esa_sender_add_routes (EsaControl *ctl, EsaSender *sender);

G_END_DECLS
