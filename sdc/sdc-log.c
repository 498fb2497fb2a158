/* sdc-log.c: the request log of esa-sdc serve, one write(2) per loop iteration.
 *
 * Every request gets one line on stderr (what the tests and an admin read). A write(2)
 * per line was one system call in every request on the main loop, which is what limits
 * esa-sdc on SQLite (docs/performance.md). The lines are collected instead and written
 * by a source's prepare function, which GLib runs at the start of every iteration, so
 * before the loop polls: a line is out microseconds after its request ended, never
 * held while the server waits, and whole lines only go out, in the order the requests
 * ended. `esa-sdc serve` writes what is left when it stops (sdc_server_free). What a
 * crash can lose is the lines of the requests finished in the iteration it happened in.
 * Each HTTPS loop (sdc-loops.c) collects its own lines and writes them itself; stdio's
 * lock keeps each write whole, so lines of different loops never mix. */
#include "config.h"

#include "sdc-log.h"

#include <stdio.h>

/* Written at once beyond this, so a long iteration cannot grow the buffer much. */
#define SDC_LOG_MAX_PENDING (16 * 1024)

/* One call under stdio's lock: other threads' messages go before or after, whole. */
static void
write_lines (GString *lines)
{
  if (lines->len == 0)
    return;
  fwrite (lines->str, 1, lines->len, stderr);
  fflush (stderr);
  g_string_truncate (lines, 0);
}

static void
pending_free (gpointer data)
{
  write_lines (data);
  g_string_free (data, TRUE);
}

/* this thread's lines; written when the thread ends, too */
static GPrivate pending_key = G_PRIVATE_INIT (pending_free);

static gboolean
flush_prepare (GSource *source, gint *timeout)
{
  (void) source;
  *timeout = -1;
  sdc_log_flush ();
  return FALSE;
}

static gboolean
flush_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  (void) source;
  (void) callback;
  (void) user_data;
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_funcs = {
  .prepare = flush_prepare,
  .dispatch = flush_dispatch,
};

GString *
sdc_log_lines (void)
{
  GString *pending = g_private_get (&pending_key);
  if (G_UNLIKELY (pending == NULL))
    {
      GSource *source = g_source_new (&flush_funcs, sizeof (GSource));
      pending = g_string_sized_new (SDC_LOG_MAX_PENDING + 1024);
      g_private_set (&pending_key, pending);
      /* first in every iteration: nothing logged waits for other sources or the poll */
      g_source_set_priority (source, G_PRIORITY_HIGH);
      g_source_set_static_name (source, "[sdc-log] flush");
      g_source_attach (source, g_main_context_get_thread_default ());
      g_source_unref (source);
    }
  return pending;
}

void
sdc_log_lines_done (void)
{
  GString *pending = g_private_get (&pending_key);
  if (pending != NULL && pending->len >= SDC_LOG_MAX_PENDING)
    sdc_log_flush ();
}

void
sdc_log_flush (void)
{
  GString *pending = g_private_get (&pending_key);
  if (pending != NULL)
    write_lines (pending);
}
