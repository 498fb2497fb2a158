/* esa-control-routes-private.h: the core's control calls. */
#pragma once

#include "esa-control-private.h"

G_BEGIN_DECLS

void esa_control_add_core_routes (EsaControl *ctl);

G_END_DECLS
