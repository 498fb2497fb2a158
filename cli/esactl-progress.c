/* esactl-progress.c: what a long call is doing, on a terminal only. While
 * esactl waits for esad (a send, a problem test, a snap), a thread draws one
 * line on stderr: what esad is doing and for how long, and, while a report
 * is on its way to the SDC, a bar with the bytes sent of the total — esad's
 * GET /v1/progress (the https transport counts the body bytes libsoup
 * writes), polled four times a second over the control socket. Never under
 * --json or -q, never when stdout or stderr is not a terminal. */
#include "config.h"

#include "esactl-private.h"
#include "esa/esa-json.h"

#include <gio/gunixsocketaddress.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ESACTL_BAR_WIDTH 24

struct _EsactlProgress {
  char *what;
  char *socket_path; /* NULL: no bytes to ask for */
  gint64 start;
  gint stop;
  GMutex lock;
  GCond cond;
  GThread *thread;
};

/* esad's GET /v1/progress, or NULL (esad busy, gone, older). */
static JsonObject *
poll_progress (SoupSession *session)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", "http://esad/v1/progress");
  g_autoptr (GBytes) bytes = soup_session_send_and_read (session, msg, NULL, NULL);
  g_autoptr (GError) error = NULL;
  JsonNode *root;
  if (bytes == NULL || soup_message_get_status (msg) != 200)
    return NULL;
  root = esa_json_parse (g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), 64 * 1024,
                         ESA_JSON_MAX_DEPTH_DEFAULT, &error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      json_node_unref (root);
      return NULL;
    }
  {
    JsonObject *o = json_object_ref (json_node_get_object (root));
    json_node_unref (root);
    return o;
  }
}

/* "sending inventory 6d095417 [#########...............]  38%  1.6 MB of 4.2 MB" */
static char *
bar_line (JsonObject *p)
{
  guint64 sent = (guint64) esa_json_peek_int (p, "sent", 0);
  guint64 total = (guint64) esa_json_peek_int (p, "total", 0);
  guint percent = total > 0 ? (guint) (sent * 100 / total) : 0;
  guint filled = total > 0 ? (guint) (sent * ESACTL_BAR_WIDTH / total) : 0;
  g_autofree char *s = esactl_size (sent);
  g_autofree char *t = esactl_size (total);
  char bar[ESACTL_BAR_WIDTH + 1];
  memset (bar, '#', filled);
  memset (bar + filled, '.', ESACTL_BAR_WIDTH - filled);
  bar[ESACTL_BAR_WIDTH] = '\0';
  return g_strdup_printf ("sending %s %.8s [%s] %3u%%  %s of %s", esactl_str (p, "kind"), esactl_str (p, "uuid"), bar,
                          percent, s, t);
}

static gpointer
progress_thread (gpointer data)
{
  EsactlProgress *p = data;
  g_autoptr (SoupSession) session = NULL;
  if (p->socket_path != NULL)
    {
      g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (p->socket_path);
      session = soup_session_new_with_options ("remote-connectable", addr, "timeout", 2, NULL);
    }
  g_mutex_lock (&p->lock);
  while (!g_atomic_int_get (&p->stop))
    {
      gint64 s = (g_get_monotonic_time () - p->start) / G_USEC_PER_SEC;
      g_autoptr (JsonObject) up = NULL;
      g_autofree char *bar = NULL;
      if (session != NULL)
        {
          /* not under the lock: stop must not wait for esad's answer */
          g_mutex_unlock (&p->lock);
          up = poll_progress (session);
          g_mutex_lock (&p->lock);
          if (g_atomic_int_get (&p->stop))
            break;
        }
      if (up != NULL && esa_json_peek_boolean (up, "active", FALSE))
        bar = bar_line (up);
      fprintf (stderr, "\r\033[K%s … %" G_GINT64_FORMAT "s%s%s", p->what, s, bar ? "  " : "", bar ? bar : "");
      fflush (stderr);
      g_cond_wait_until (&p->cond, &p->lock, g_get_monotonic_time () + G_USEC_PER_SEC / 4);
    }
  g_mutex_unlock (&p->lock);
  /* the line goes away: what follows is the answer */
  fprintf (stderr, "\r\033[K");
  fflush (stderr);
  return NULL;
}

EsactlProgress *
esactl_progress_start (EsactlOptions *opts, const char *what, const char *socket_path)
{
  EsactlProgress *p;
  /* never for scripts: not under --json or -q, not when the output is no terminal */
  if (opts->json || opts->quiet || opts->silent || !isatty (STDOUT_FILENO) || !isatty (STDERR_FILENO))
    return NULL;
  p = g_new0 (EsactlProgress, 1);
  p->what = g_strdup (what);
  p->socket_path = g_strdup (socket_path);
  p->start = g_get_monotonic_time ();
  g_mutex_init (&p->lock);
  g_cond_init (&p->cond);
  p->thread = g_thread_new ("esactl-progress", progress_thread, p);
  return p;
}

void
esactl_progress_stop (EsactlProgress *p)
{
  if (p == NULL)
    return;
  g_mutex_lock (&p->lock);
  g_atomic_int_set (&p->stop, 1);
  g_cond_signal (&p->cond);
  g_mutex_unlock (&p->lock);
  g_thread_join (p->thread);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->cond);
  g_free (p->what);
  g_free (p->socket_path);
  g_free (p);
}
