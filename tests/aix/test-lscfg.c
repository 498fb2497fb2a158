/* test-lscfg.c: plugins/uak/uak-lscfg.c, lscfg -vp VPD lines. */
#include "config.h"

#include "uak-lscfg.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

static void
test_parse_lscfg (void)
{
  g_autofree char *p9 = fake ("p9-standalone", "lscfg", "-vpl", "sysplanar0", NULL);
  g_autofree char *p8 = fake ("p8-old", "lscfg", "-vpl", "sysplanar0", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) v9 = esa_aix_parse_lscfg_vpd (p9, warnings, &error);
  g_autoptr (GPtrArray) v8 = NULL;
  g_autoptr (GPtrArray) odd = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (esa_aix_vpd_lookup (v9, "Update Access Key Exp Date"), ==, "20270825");
  g_assert_cmpstr (esa_aix_vpd_lookup (v9, "Machine/Cabinet Serial No"), ==, "78ABCDE");
  g_assert_cmpstr (esa_aix_vpd_lookup (v9, "ROM Level.(alterable)"), ==, "VL940_027");
  g_assert_cmpstr (esa_aix_vpd_lookup (v9, "Microcode Image"), ==, "VL940_027 VL940_027 VL940_027");
  /* repeated keys: the first wins */
  g_assert_cmpstr (esa_aix_vpd_lookup (v9, "Hardware Location Code"), ==, "U9009.42A.78ABCDE-P1");

  v8 = esa_aix_parse_lscfg_vpd (p8, warnings, &error);
  g_assert_no_error (error);
  g_assert_null (esa_aix_vpd_lookup (v8, "Update Access Key Exp Date"));
  g_assert_cmpstr (esa_aix_vpd_lookup (v8, "Microcode Entitlement Date"), ==, "20190301");

  odd = esa_aix_parse_lscfg_vpd ("      Empty Field.................\r\n", warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (esa_aix_vpd_lookup (odd, "Empty Field"), ==, "");
  g_assert_null (esa_aix_parse_lscfg_vpd ("lscfg: device foo not found.\n", warnings, &error));
  assert_invalid (error, "lscfg: line 1");
}

/* Issue 10 item 10: invalid UTF-8 never reaches a regex or a message. */
static void
test_parse_lscfg_invalid_utf8 (void)
{
  g_autofree char *sample0 = fake ("p9-standalone", "lscfg", "-vpl", "sysplanar0", NULL);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_lscfg_vpd, (GDestroyNotify) g_ptr_array_unref, sample0);
}

int
main (int argc, char **argv)
{
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-parse/lscfg", test_parse_lscfg);
  g_test_add_func ("/aix-parse/lscfg-invalid-utf8", test_parse_lscfg_invalid_utf8);
  return g_test_run ();
}
