/* esa-info-routes-private.h: GET /v1/info, what `esactl info` shows. */
#pragma once

#include "esa-control-private.h"

G_BEGIN_DECLS

void esa_info_add_routes (EsaControl *ctl);

G_END_DECLS
