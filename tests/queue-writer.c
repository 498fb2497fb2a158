/* queue-writer.c: helper of test-queue's crash test. Enqueues reports with
 * two attachments into the spool DIR in a loop and prints each report's UUID
 * on stdout only after esa_queue_enqueue () returned, so every printed UUID
 * is one the queue promised to keep. The test SIGKILLs it at random points.
 *
 * Attachment a.txt is the UUID and a newline repeated "lines" times (body
 * member), b.bin a few fixed bytes: the test can tell a truncated copy. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "esa-queue.h"

int
main (int argc, char **argv)
{
  g_autoptr (EsaQueue) queue = NULL;
  g_autoptr (GError) error = NULL;
  const char *src_dir;

  if (argc != 3)
    {
      g_printerr ("usage: queue-writer SPOOL-DIR SCRATCH-DIR\n");
      return 2;
    }
  src_dir = argv[2];
  queue = esa_queue_open (argv[1], &error);
  if (queue == NULL)
    {
      g_printerr ("queue-writer: %s\n", error->message);
      return 1;
    }
  for (guint n = 0;; n++)
    {
      g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_PROBLEM, "writer");
      const char *uuid = esa_report_get_uuid (report);
      g_autofree char *a_path = g_build_filename (src_dir, "a.txt", NULL);
      g_autofree char *b_path = g_build_filename (src_dir, "b.bin", NULL);
      g_autoptr (GString) text = g_string_new (NULL);
      /* Sizes from a few bytes to ~150 KiB, so copies take a varying time. */
      guint lines = 1 + (n * 997) % 4000;
      const char b_bytes[] = { 0, 1, 2, (char) 0xff, '\n', 'x' };

      for (guint i = 0; i < lines; i++)
        g_string_append_printf (text, "%s\n", uuid);
      if (!g_file_set_contents (a_path, text->str, (gssize) text->len, &error) ||
          !g_file_set_contents (b_path, b_bytes, sizeof b_bytes, &error))
        {
          g_printerr ("queue-writer: %s\n", error->message);
          return 1;
        }
      json_object_set_int_member (esa_report_get_body (report), "lines", lines);
      if (!esa_report_add_attachment (report, a_path, "text/plain", &error) ||
          !esa_report_add_attachment (report, b_path, NULL, &error) ||
          !esa_queue_enqueue (queue, report, &error))
        {
          g_printerr ("queue-writer: %s\n", error->message);
          return 1;
        }
      printf ("%s\n", uuid);
      fflush (stdout);
    }
  return 0;
}
