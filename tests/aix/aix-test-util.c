/* aix-test-util.c: what every AIX parser test shares: running a fake AIX
 * command of tests/fixtures/aix-bin/ and checking warnings and errors. */
#include "config.h"

#include "aix-test-util.h"
#include "esa/esa-error.h"
#include "esa/esa-subprocess.h"

#include <stdarg.h>
#include <string.h>

char *
fake (const char *machine, const char *arg0, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  char *out;
  va_list ap;

  g_ptr_array_add (argv, (gpointer)arg0);
  va_start (ap, arg0);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer)a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_setenv ("ESA_FAKE_AIX_MACHINE", machine, TRUE);
  out = esa_subprocess_run ((const char *const *)argv->pdata, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return out;
}

GPtrArray *
warnings_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

gboolean
warned (GPtrArray *warnings, const char *needle)
{
  for (guint i = 0; i < warnings->len; i++)
    if (strstr (g_ptr_array_index (warnings, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

void
assert_invalid (GError *error, const char *prefix)
{
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  if (!g_str_has_prefix (error->message, prefix))
    g_error ("message \"%s\" does not start with \"%s\"", error->message, prefix);
}

void
aix_test_init (int *argc, char ***argv)
{
  g_autofree char *bin = NULL;

  g_test_init (argc, argv, NULL);
  bin = esa_test_src_path ("tests/fixtures/aix-bin");
  g_setenv ("ESA_COMMAND_PATH", bin, TRUE);
  g_setenv ("ESA_FAKE_AIX_MACHINE", "p9-standalone", TRUE);
  g_unsetenv ("ESA_FAKE_UAK_FILE");
}
