/* esa-preview-routes-private.h: POST /v1/preview, what `esactl preview` shows. */
#pragma once

#include "esa-control-private.h"

G_BEGIN_DECLS

void esa_preview_add_routes (EsaControl *ctl);

G_END_DECLS
