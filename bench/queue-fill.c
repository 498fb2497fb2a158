/* queue-fill.c: fills a spool with N reports through the agent's own
 * esa_queue_enqueue (bench/queue.sh). Each report is a small problem report
 * like the diag plugin's; every 100th carries a 4 KiB attachment.
 *
 * Enqueues from several threads (THREADS, default 4), as plugins do: the
 * spool's fsyncs then overlap and 100,000 reports take a minute, not four.
 *
 *   queue-fill SPOOL N */
#include <esa-queue.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  EsaQueue *queue;
  const char *att;
  long from, to;
  GError *error;
} Part;

static gpointer
fill_part (gpointer data)
{
  Part *part = data;
  for (long i = part->from; i < part->to && part->error == NULL; i++)
    {
      g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_PROBLEM, "diag");
      JsonObject *body = esa_report_get_body (r);
      json_object_set_string_member (body, "error_id", "A6DF45AA");
      json_object_set_string_member (body, "resource", "hdisk3");
      json_object_set_string_member (body, "description", "DISK OPERATION ERROR");
      json_object_set_int_member (body, "sequence", i);
      if (i % 100 == 0 && !esa_report_add_attachment (r, part->att, "text/plain", &part->error))
        break;
      esa_queue_enqueue (part->queue, r, &part->error);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = NULL;
  g_autofree char *att = NULL;
  const char *threads_env = g_getenv ("THREADS");
  long nthreads = threads_env ? strtol (threads_env, NULL, 10) : 4;
  Part parts[64];
  GThread *threads[64];
  char blob[4096];
  int rc = 0;
  long n;
  if (argc != 3)
    {
      fprintf (stderr, "usage: queue-fill SPOOL N\n");
      return 2;
    }
  n = strtol (argv[2], NULL, 10);
  nthreads = CLAMP (nthreads, 1, 64);
  queue = esa_queue_open (argv[1], &error);
  if (queue == NULL)
    {
      fprintf (stderr, "queue-fill: %s\n", error->message);
      return 1;
    }
  /* A name of its own: benches of other builds may fill at the same time. */
  {
    int fd = g_file_open_tmp ("queue-fill-errpt-XXXXXX.txt", &att, &error);
    if (fd < 0)
      {
        fprintf (stderr, "queue-fill: %s\n", error->message);
        return 1;
      }
    close (fd);
  }
  memset (blob, 'e', sizeof blob);
  if (!g_file_set_contents (att, blob, sizeof blob, &error))
    {
      fprintf (stderr, "queue-fill: %s\n", error->message);
      return 1;
    }
  for (long t = 0; t < nthreads; t++)
    {
      parts[t] = (Part) { queue, att, n * t / nthreads, n * (t + 1) / nthreads, NULL };
      threads[t] = g_thread_new ("fill", fill_part, &parts[t]);
    }
  for (long t = 0; t < nthreads; t++)
    {
      g_thread_join (threads[t]);
      if (parts[t].error != NULL)
        {
          fprintf (stderr, "queue-fill: %s\n", parts[t].error->message);
          g_error_free (parts[t].error);
          rc = 1;
        }
    }
  g_unlink (att);
  return rc;
}
