/* replay.c: feeds every file of a fuzz corpus to a harness's LLVMFuzzerTestOneInput, one
 * TAP line per file, so make check replays the corpora (crashes found once stay fixed)
 * without clang or libFuzzer. Linked once per harness; FUZZ_NAME names its corpus,
 * tests/fuzz/corpus/FUZZ_NAME/ under ESA_TOP_SRCDIR. Arguments: other files or folders.
 *
 * An input named "xfail-…" reproduces a known bug whose fix belongs to another branch:
 * it runs in a child process and a crash is reported as "not ok … # TODO", so the suite
 * stays green; once the bug is fixed it passes, the TAP driver reports an unexpected pass
 * (a failure), and the "xfail-" prefix must go. */
#include "config.h"

#include "fuzz.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void
collect (const char *path, GPtrArray *files)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_ptr_array_add (files, g_strdup (path));
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (files, g_build_filename (path, name, NULL));
}

/* Runs one known-bug input in a child: TRUE when it still fails. */
static gboolean
still_fails (const char *data, gsize len)
{
  int status = 0;
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return !WIFEXITED (status) || WEXITSTATUS (status) != 0;
}

static int
compare (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  if (argc > 1)
    for (int i = 1; i < argc; i++)
      collect (argv[i], files);
  else
    {
      const char *top = g_getenv ("ESA_TOP_SRCDIR");
      g_autofree char *dir = g_build_filename (top != NULL ? top : ".", "tests", "fuzz", "corpus",
                                               FUZZ_NAME, NULL);
      collect (dir, files);
    }
  g_ptr_array_sort (files, compare);
  if (files->len == 0)
    {
      printf ("1..0 # SKIP no corpus for %s\n", FUZZ_NAME);
      return 0;
    }
  printf ("1..%u\n", files->len);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = files->pdata[i];
      g_autofree char *data = NULL;
      gsize len = 0;
      g_autoptr (GError) error = NULL;
      g_autofree char *base = g_path_get_basename (path);

      if (!g_file_get_contents (path, &data, &len, &error))
        {
          printf ("not ok %u %s: %s\n", i + 1, path, error->message);
          continue;
        }
      fflush (stdout);
      if (g_str_has_prefix (base, "xfail-"))
        {
          if (still_fails (data, len))
            printf ("not ok %u %s # TODO known bug, fixed on another branch\n", i + 1, base);
          else
            printf ("ok %u %s # TODO fixed now: drop the xfail- prefix\n", i + 1, base);
          continue;
        }
      /* A crash ends the program; the TAP driver reports the missing results. */
      LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
      printf ("ok %u %s\n", i + 1, base);
    }
  return 0;
}
