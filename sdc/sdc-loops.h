/* sdc-loops.h: the extra HTTPS threads of `esa-sdc serve`, each running its own main
 * loop (GMainContext) with its own SoupServer (sdc-loops.c says why and how). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SdcLoops SdcLoops;

/* @n contexts for @n threads, not started yet: objects and sources for thread i are
 * made with sdc_loops_push (i) around them, before sdc_loops_start. */
SdcLoops     *sdc_loops_new     (guint n);
guint         sdc_loops_get_n   (SdcLoops *loops);
/* Makes thread @i's context the calling thread's default until sdc_loops_pop (for
 * setting up its server before the thread runs, and tearing it down after). */
void          sdc_loops_push    (SdcLoops *loops, guint i);
void          sdc_loops_pop     (SdcLoops *loops, guint i);
void          sdc_loops_start   (SdcLoops *loops);
/* Each thread handles what has already arrived (up to @grace_ms), writes its request
 * log lines and ends; returns once every thread has. */
void          sdc_loops_stop    (SdcLoops *loops, guint grace_ms);
void          sdc_loops_free    (SdcLoops *loops);

/* Runs the calling thread's default context for what is ready, until nothing is or
 * @grace_ms have passed. */
void          sdc_loops_handle_ready (guint grace_ms);

/* A timeout in the calling thread's default context (the loop that owns the connection
 * it is about): a reference to destroy and unref when it is no longer wanted. */
GSource      *sdc_timeout_here  (guint ms, GSourceFunc func, gpointer data);
/* Destroys and unrefs *@source if set, and clears it. */
void          sdc_timeout_clear (GSource **source);

G_END_DECLS
