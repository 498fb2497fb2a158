/* esa-preview.c: the per-thread preview sink (esa-preview.h). */
#include "config.h"

#include "esa-preview.h"

static GPrivate preview_sink;

void
esa_preview_set_sink (EsaQueue *sink)
{
  g_private_set (&preview_sink, sink);
}

EsaQueue *
esa_preview_get_sink (void)
{
  return g_private_get (&preview_sink);
}
