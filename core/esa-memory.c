/* esa-memory.c: freed heap goes back to the system when esad is idle again.
 * glibc keeps freed memory in its arenas (one per thread that allocated, up
 * to 8 per core) and returns only the top of each; after a TLS send or a job
 * run that left idle esad a few hundred KiB to 1 MiB larger for good
 * (docs/performance.md, idle). */
#include "config.h"

#include "esa-memory-private.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Long enough that a burst (a job that submits, then its send) trims once. */
#define ESA_TRIM_DELAY_MS 2000

static gint trim_pending;

void
esa_memory_init (void)
{
#ifdef __GLIBC__
  mallopt (M_ARENA_MAX, 2);
#endif
}

static gboolean
trim_now (gpointer user_data)
{
  g_atomic_int_set (&trim_pending, 0);
#ifdef __GLIBC__
  malloc_trim (0);
#endif
  return G_SOURCE_REMOVE;
}

void
esa_memory_trim_soon (void)
{
  g_autoptr (GSource) source = NULL;
  if (!g_atomic_int_compare_and_exchange (&trim_pending, 0, 1))
    return;
  source = g_timeout_source_new (ESA_TRIM_DELAY_MS);
  g_source_set_callback (source, trim_now, NULL, NULL);
  g_source_set_static_name (source, "esa-memory-trim");
  g_source_attach (source, NULL);
}
