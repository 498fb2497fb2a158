/* test-lsmcode.c: core/aix/lsmcode.c, lsmcode -c and -A. */
#include "config.h"

#include "esa/esa-aix.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

static void
test_parse_lsmcode (void)
{
  g_autofree char *p9 = fake ("p9-standalone", "lsmcode", "-c", NULL);
  g_autofree char *p8 = fake ("p8-old", "lsmcode", "-c", NULL);
  g_autofree char *a9 = fake ("p9-standalone", "lsmcode", "-A", NULL);
  g_autofree char *a10 = fake ("p10-lpar", "lsmcode", "-A", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaAixMcode) m9 = esa_aix_parse_lsmcode_c (p9, warnings, &error);
  g_autoptr (EsaAixMcode) m8 = NULL;
  g_autoptr (EsaAixMcode) m = NULL;
  g_autoptr (GPtrArray) e9 = NULL;
  g_autoptr (GPtrArray) e10 = NULL;
  EsaAixMcodeEntry *e;

  g_assert_no_error (error);
  g_assert_cmpstr (m9->permanent, ==, "VL940_027");
  g_assert_cmpstr (m9->temporary, ==, "VL940_027");
  g_assert_cmpstr (m9->booted, ==, "temporary");
  g_assert_cmpstr (esa_aix_mcode_current (m9), ==, "VL940_027");

  m8 = esa_aix_parse_lsmcode_c (p8, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (m8->platform, ==, "3F160516");
  g_assert_cmpstr (m8->system, ==, "SV860_205");
  g_assert_cmpstr (esa_aix_mcode_current (m8), ==, "SV860_205");
  g_assert_cmpuint (warnings->len, ==, 0);

  /* booted from the permanent side; an unknown sentence; CRLF */
  m = esa_aix_parse_lsmcode_c ("The current permanent system firmware image is SV860_180.\r\n"
                               "The current temporary system firmware image is SV860_205.\r\n"
                               "The system is currently booted from the permanent firmware image.\r\n"
                               "The service processor is happy.\r\n",
                               warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (esa_aix_mcode_current (m), ==, "SV860_180");
  g_assert_true (warned (warnings, "lsmcode: line 4"));
  g_assert_null (esa_aix_parse_lsmcode_c ("DISPLAY MICROCODE LEVEL 802811\n", warnings, &error));
  assert_invalid (error, "lsmcode: line 1: \"DISPLAY MICROCODE LEVEL 802811\"");
  g_clear_error (&error);

  e9 = esa_aix_parse_lsmcode_A (a9, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (e9->len, ==, 6);
  e = g_ptr_array_index (e9, 0);
  g_assert_cmpstr (e->device, ==, "sys0");
  g_assert_cmpstr (e->component, ==, "system");
  g_assert_cmpstr (e->temporary, ==, "VL940_027");
  g_assert_cmpstr (e->permanent, ==, "VL940_027");
  g_assert_cmpstr (e->booted, ==, "VL940_027");
  e = g_ptr_array_index (e9, 3);
  g_assert_cmpstr (e->device, ==, "ent0");
  g_assert_null (e->component);
  g_assert_cmpstr (e->levels, ==, "14108902.410b10");

  e10 = esa_aix_parse_lsmcode_A (a10, warnings, &error);
  g_assert_no_error (error);
  e = g_ptr_array_index (e10, 0);
  g_assert_cmpstr (e->temporary, ==, "ML1050_052");
  g_assert_cmpstr (e->booted, ==, "ML1050_052");

  g_assert_null (esa_aix_parse_lsmcode_A ("no bang here\n", warnings, &error));
  assert_invalid (error, "lsmcode -A: line 1");
}

/* Issue 10 item 10: invalid UTF-8 never reaches a regex or a message. */
static void
test_parse_lsmcode_invalid_utf8 (void)
{
  g_autofree char *sample0 = fake ("p9-standalone", "lsmcode", "-c", NULL);
  g_autofree char *sample1 = fake ("p9-standalone", "lsmcode", "-A", NULL);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_lsmcode_c, (GDestroyNotify) esa_aix_mcode_free, sample0);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_lsmcode_A, (GDestroyNotify) g_ptr_array_unref, sample1);
}

int
main (int argc, char **argv)
{
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-parse/lsmcode", test_parse_lsmcode);
  g_test_add_func ("/aix-parse/lsmcode-invalid-utf8", test_parse_lsmcode_invalid_utf8);
  return g_test_run ();
}
