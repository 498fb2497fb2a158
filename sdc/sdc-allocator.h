/* sdc-allocator.h: which malloc esa-sdc runs on (esa-sdc --version names it). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "jemalloc 5.3.0_0" when esa-sdc's malloc is jemalloc's, else what it is. */
char *sdc_allocator_describe (void);

G_END_DECLS
