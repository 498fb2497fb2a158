/* esa-memory-private.h: giving freed heap back to the system once esad is
 * idle again (after a job, a send, a control request). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Few malloc arenas: esad's threads are short-lived workers, and every arena
 * a worker touched stayed resident for good. Call once, first thing in main. */
void esa_memory_init (void);

/* From any thread: a moment later (once), malloc_trim (0) on the main context,
 * so the memory of a job run, a send or a big answer does not stay resident. */
void esa_memory_trim_soon (void);

G_END_DECLS
