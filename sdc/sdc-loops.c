/* sdc-loops.c: HTTPS on more than one thread (`esa-sdc serve --http-threads N`).
 *
 * One libsoup main loop limits esa-sdc: every request costs it 80-100 µs of CPU, about
 * 60 % of that libsoup's, GLib's and GObject's per-message machinery, so at ~10,000
 * reports/s the loop is saturated while the rest of a 2-core machine waits
 * (docs/performance.md). Storage already runs off the loop (sdc-writer.c); this spreads
 * the HTTP and TLS work too. Each extra thread runs its own GMainContext and, in
 * sdc-server.c, its own SoupServer listening on its own socket for every --listen
 * address, all bound with SO_REUSEPORT, so the kernel spreads new connections over
 * them. A connection stays with the loop that accepted it, and every request is handled
 * there exactly as on the main loop; storage answers come back to the loop that asked
 * (each GTask returns to the context it was made in). State the loops share (credential
 * cache, login throttle, stalled-connection guard, web view sessions, UAK signer, the
 * attachment store connection) is locked; per-connection state is not shared. */
#include "config.h"

#include "sdc-loops.h"

typedef struct {
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  guint grace_ms;
} Loop;

struct _SdcLoops {
  guint n;
  Loop *loops;
};

SdcLoops *
sdc_loops_new (guint n)
{
  SdcLoops *loops = g_new0 (SdcLoops, 1);
  loops->n = n;
  loops->loops = g_new0 (Loop, n);
  for (guint i = 0; i < n; i++)
    {
      loops->loops[i].context = g_main_context_new ();
      loops->loops[i].loop = g_main_loop_new (loops->loops[i].context, FALSE);
    }
  return loops;
}

guint
sdc_loops_get_n (SdcLoops *loops)
{
  return loops != NULL ? loops->n : 0;
}

void
sdc_loops_push (SdcLoops *loops, guint i)
{
  g_main_context_push_thread_default (loops->loops[i].context);
}

void
sdc_loops_pop (SdcLoops *loops, guint i)
{
  g_main_context_pop_thread_default (loops->loops[i].context);
}

void
sdc_loops_handle_ready (guint grace_ms)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gint64 deadline = g_get_monotonic_time () + (gint64) grace_ms * G_TIME_SPAN_MILLISECOND;
  while (g_main_context_iteration (context, FALSE) && g_get_monotonic_time () < deadline)
    ;
}

static gpointer
loop_thread (gpointer data)
{
  Loop *l = data;
  g_main_context_push_thread_default (l->context);
  g_main_loop_run (l->loop);
  sdc_loops_handle_ready (l->grace_ms);
  g_main_context_pop_thread_default (l->context);
  return NULL;
}

void
sdc_loops_start (SdcLoops *loops)
{
  for (guint i = 0; loops != NULL && i < loops->n; i++)
    {
      g_autofree char *name = g_strdup_printf ("sdc-https-%u", i + 1);
      loops->loops[i].thread = g_thread_new (name, loop_thread, &loops->loops[i]);
    }
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
sdc_loops_stop (SdcLoops *loops, guint grace_ms)
{
  for (guint i = 0; loops != NULL && i < loops->n; i++)
    if (loops->loops[i].thread != NULL)
      {
        loops->loops[i].grace_ms = grace_ms;
        /* in the loop itself, so a quit before it started running is not lost */
        g_main_context_invoke (loops->loops[i].context, quit_cb, loops->loops[i].loop);
      }
  for (guint i = 0; loops != NULL && i < loops->n; i++)
    if (loops->loops[i].thread != NULL)
      {
        g_thread_join (loops->loops[i].thread);
        loops->loops[i].thread = NULL;
      }
}

void
sdc_loops_free (SdcLoops *loops)
{
  if (loops == NULL)
    return;
  sdc_loops_stop (loops, 0);
  for (guint i = 0; i < loops->n; i++)
    {
      g_main_loop_unref (loops->loops[i].loop);
      g_main_context_unref (loops->loops[i].context);
    }
  g_free (loops->loops);
  g_free (loops);
}

GSource *
sdc_timeout_here (guint ms, GSourceFunc func, gpointer data)
{
  GSource *source = g_timeout_source_new (ms);
  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

void
sdc_timeout_clear (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_source_unref (*source);
  *source = NULL;
}
