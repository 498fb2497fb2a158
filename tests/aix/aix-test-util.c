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

const char *const aix_invalid_utf8[] = {
  "651-204\xff\x16\xff",
  "\xff\xfe\xfd\n\xff",
  "2D02-127\xc0\x80: overlong NUL",
  "SRN: \xed\xa0\x80 surrogate\n",
  "FRU: \xf4\x90\x80\x80 beyond U+10FFFF\n",
  "Description: cut short \xe2\x82",
  "\x80\x80\x80: \xbf",
  NULL,
};

static void
check_one (AixParseFunc parse, GDestroyNotify free_func, const char *text)
{
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  gpointer result = parse (text, warnings, &error);
  g_assert_true (result != NULL || error != NULL);
  if (error != NULL)
    g_assert_true (g_utf8_validate (error->message, -1, NULL));
  for (guint i = 0; i < warnings->len; i++)
    g_assert_true (g_utf8_validate (g_ptr_array_index (warnings, i), -1, NULL));
  if (result != NULL)
    free_func (result);
}

void
check_invalid_utf8 (AixParseFunc parse, GDestroyNotify free_func, const char *sample)
{
  for (guint i = 0; aix_invalid_utf8[i] != NULL; i++)
    {
      check_one (parse, free_func, aix_invalid_utf8[i]);
      if (sample != NULL)
        {
          /* after the first line, and in the middle of a line */
          const char *nl = strchr (sample, '\n');
          gsize cut = nl != NULL ? (gsize) (nl - sample) + 1 : strlen (sample);
          g_autofree char *spliced = g_strdup_printf ("%.*s%s\n%s", (int) cut, sample, aix_invalid_utf8[i], sample + cut);
          g_autofree char *mid = g_strdup_printf ("%.*s%s%s", (int) (cut / 2), sample, aix_invalid_utf8[i], sample + cut / 2);
          check_one (parse, free_func, spliced);
          check_one (parse, free_func, mid);
        }
    }
}
