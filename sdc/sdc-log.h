/* sdc-log.h: esa-sdc serve's request log lines, collected on each HTTPS loop and written
 * to stderr together before that loop waits again (one write(2) an iteration, not one a
 * request). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The calling thread's buffer to append whole lines to ("...\n"). */
GString *sdc_log_lines (void);
/* Done appending: written now if the buffer grew large, else before the main loop next
 * polls. */
void     sdc_log_lines_done (void);
/* Writes what the calling thread collected (before other lines that must follow it,
 * and at exit). */
void     sdc_log_flush (void);

G_END_DECLS
