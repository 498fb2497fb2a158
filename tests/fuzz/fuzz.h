/* fuzz.h: the libFuzzer entry point every harness in tests/fuzz/ defines; replay.c feeds
 * it a corpus without libFuzzer. Also the small helpers several harnesses share. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static inline GLogWriterOutput
fuzz_drop_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  /* what ends the run is shown */
  if (level & (G_LOG_FLAG_FATAL | G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return g_log_writer_standard_streams (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

/* Once per process: messages and warnings about bad input are expected by the thousand
 * (dropped, they only slow the fuzzer), but a critical is a bug in our use of GLib or
 * json-glib, so it aborts like a crash. */
static inline void
fuzz_init_logging (void)
{
  static gboolean done;
  if (done)
    return;
  done = TRUE;
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  if (g_getenv ("FUZZ_VERBOSE") == NULL)
    g_log_set_writer_func (fuzz_drop_log, NULL, NULL);
}

/* A NUL-terminated copy of exactly @size bytes (ASan catches a read past the end). */
static inline char *
fuzz_text (const uint8_t *data, size_t size)
{
  char *text = g_malloc (size + 1);
  if (size > 0)
    memcpy (text, data, size);
  text[size] = '\0';
  return text;
}

/* Writes @data to @path (truncating): a plain write, because g_file_set_contents ()
 * renames and syncs, a hundred times slower. */
static inline void
fuzz_write_file (const char *path, const uint8_t *data, size_t size)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, data, size), ==, (gssize) size);
  close (fd);
}
