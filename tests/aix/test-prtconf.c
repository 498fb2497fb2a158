/* test-prtconf.c: core/aix/prtconf.c, with fake and malformed output. */
#include "config.h"

#include "esa/esa-aix.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

static void
test_parse_prtconf (void)
{
  g_autofree char *p9 = fake ("p9-standalone", "prtconf", NULL);
  g_autofree char *p10 = fake ("p10-lpar", "prtconf", NULL);
  g_autofree char *p8 = fake ("p8-old", "prtconf", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaAixPrtconf) c9 = esa_aix_parse_prtconf (p9, warnings, &error);
  g_autoptr (EsaAixPrtconf) c10 = NULL;
  g_autoptr (EsaAixPrtconf) c8 = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 0);
  g_assert_cmpstr (c9->system_model, ==, "IBM,9009-42A");
  g_assert_cmpstr (c9->serial, ==, "78ABCDE");
  g_assert_cmpstr (c9->processor_type, ==, "PowerPC_POWER9");
  g_assert_cmpstr (c9->processor_mode, ==, "POWER 9");
  g_assert_cmpint (c9->n_processors, ==, 8);
  g_assert_cmpstr (c9->clock_speed, ==, "3800 MHz");
  g_assert_false (c9->is_lpar);
  g_assert_cmpint (c9->lpar_id, ==, -1);
  g_assert_null (c9->lpar_name);
  g_assert_cmpstr (c9->platform_firmware, ==, "VL940_027");
  g_assert_cmpstr (c9->firmware_version, ==, "IBM,FW940.00 (27)");
  g_assert_cmpstr (c9->memory_size, ==, "65536 MB");
  g_assert_cmpstr (c9->host_name, ==, "aixp9");
  g_assert_cmpstr (c9->ip_address, ==, "10.1.2.9");
  /* newer keys are kept, not fatal; the volume group table is not a key */
  g_assert_cmpstr (g_hash_table_lookup (c9->fields, "NX Crypto Acceleration"), ==, "Capable and Enabled");
  g_assert_cmpstr (g_hash_table_lookup (c9->fields, "Paging Space Information/Total Paging Space"), ==,
                   "4096MB");
  g_assert_false (g_hash_table_contains (c9->fields, "rootvg"));
  g_assert_false (g_hash_table_contains (c9->fields, "Model Architecture"));

  c10 = esa_aix_parse_prtconf (p10, warnings, &error);
  g_assert_no_error (error);
  g_assert_true (c10->is_lpar);
  g_assert_cmpint (c10->lpar_id, ==, 5);
  g_assert_cmpstr (c10->lpar_name, ==, "lpar05");
  g_assert_cmpstr (c10->platform_firmware, ==, "ML1050_052");

  c8 = esa_aix_parse_prtconf (p8, warnings, &error);
  g_assert_no_error (error);
  g_assert_null (c8->serial);
  g_assert_null (c8->platform_firmware);
  g_assert_true (warned (warnings, "prtconf: Machine Serial Number: Not Available"));
  g_assert_true (warned (warnings, "prtconf: Platform Firmware level: Not Available"));
}

static void
test_parse_prtconf_malformed (void)
{
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaAixPrtconf) c1 = NULL;
  g_autoptr (EsaAixPrtconf) c2 = NULL;
  g_autoptr (EsaAixPrtconf) c3 = NULL;

  /* truncated after three lines, CRLF, odd LPAR Info and processor count */
  c1 = esa_aix_parse_prtconf ("System Model: IBM,9009-42A\r\nMachine Serial Number: 78ABCDE\r\n"
                              "LPAR Info: lpar05\r\nNumber Of Processors: many\r\nProcessor Ty",
                              warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c1->serial, ==, "78ABCDE");
  g_assert_cmpint (c1->lpar_id, ==, -1);
  g_assert_cmpint (c1->n_processors, ==, -1);
  g_assert_true (warned (warnings, "prtconf LPAR Info: line 1: \"lpar05\""));
  g_assert_true (warned (warnings, "Number Of Processors: \"many\""));

  /* keys in another case, no System Model */
  c2 = esa_aix_parse_prtconf ("Platform Firmware Level: SV860_205\n", warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c2->platform_firmware, ==, "SV860_205");
  g_assert_true (warned (warnings, "no System Model"));

  c3 = esa_aix_parse_prtconf ("prtconf: 0706-001 Cannot open /dev/nvram\n", warnings, &error);
  g_assert_null (c3);
  assert_invalid (error, "prtconf: line 1: \"prtconf: 0706-001 Cannot open /dev/nvram\"");
  g_clear_error (&error);
  g_assert_null (esa_aix_parse_prtconf ("\n\n", warnings, &error));
  assert_invalid (error, "prtconf: empty output");
}

/* Issue 10 item 10: invalid UTF-8 never reaches a regex or a message. */
static void
test_parse_prtconf_invalid_utf8 (void)
{
  g_autofree char *sample0 = fake ("p9-standalone", "prtconf", NULL);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_prtconf, (GDestroyNotify) esa_aix_prtconf_free, sample0);
}

int
main (int argc, char **argv)
{
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-parse/prtconf", test_parse_prtconf);
  g_test_add_func ("/aix-parse/prtconf-malformed", test_parse_prtconf_malformed);
  g_test_add_func ("/aix-parse/prtconf-invalid-utf8", test_parse_prtconf_invalid_utf8);
  return g_test_run ();
}
