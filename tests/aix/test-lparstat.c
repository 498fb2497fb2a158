/* test-lparstat.c: plugins/uak/uak-lparstat.c, lparstat -u and YYYYMMDD dates. */
#include "config.h"

#include "uak-lparstat.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

static void
test_parse_yyyymmdd (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *date = NULL;

  g_assert_true (esa_aix_parse_yyyymmdd ("uak_expiry", "20270825\n", &date, &error));
  g_assert_cmpstr (date, ==, "20270825");
  g_clear_pointer (&date, g_free);
  g_assert_true (esa_aix_parse_yyyymmdd ("uak_expiry", "-\n", &date, &error));
  g_assert_null (date);
  g_assert_false (esa_aix_parse_yyyymmdd ("uak_expiry", "2027-08-25\n", &date, &error));
  assert_invalid (error, "uak_expiry: line 1: \"2027-08-25\": expected a date");
  g_clear_error (&error);
  g_assert_false (esa_aix_parse_yyyymmdd ("uak_expiry", "20271345", &date, &error));
  g_clear_error (&error);
  g_assert_false (esa_aix_parse_yyyymmdd ("uak_expiry", "", &date, &error));
  assert_invalid (error, "uak_expiry: empty output");
}

static void
test_parse_lparstat (void)
{
  g_autofree char *p9 = fake ("p9-standalone", "lparstat", "-u", NULL);
  g_autofree char *p10 = fake ("p10-lpar", "lparstat", "-u", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaAixUak) u9 = esa_aix_parse_lparstat_u (p9, warnings, &error);
  g_autoptr (EsaAixUak) u10 = NULL;
  g_autoptr (EsaAixUak) odd = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (u9->fw_expiry, ==, "20270825");
  g_assert_null (u9->aix_expiry);
  g_assert_cmpstr (u9->image_date, ==, "20231110");
  u10 = esa_aix_parse_lparstat_u (p10, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (u10->aix_expiry, ==, "20270825");
  g_assert_cmpuint (warnings->len, ==, 0);

  odd = esa_aix_parse_lparstat_u ("FW Update Access Key Expiration (YYYYMMDD): 2027/08/25\r\n"
                                  "Partition Name: lpar05\r\n"
                                  "AIX Update Access Key Expiration (YYYYMMDD): 20280101\r\n",
                                  warnings, &error);
  g_assert_no_error (error);
  g_assert_null (odd->fw_expiry);
  g_assert_cmpstr (odd->aix_expiry, ==, "20280101");
  g_assert_true (warned (warnings, "\"2027/08/25\" is not a YYYYMMDD date"));
  g_assert_true (warned (warnings, "line 2"));
  g_assert_null (esa_aix_parse_lparstat_u ("lparstat: illegal option -- u\n", warnings, &error));
  assert_invalid (error, "lparstat -u: line 1: \"lparstat: illegal option -- u\"");
}

/* Issue 10 item 10: invalid UTF-8 never reaches a regex or a message. */
static void
test_parse_lparstat_invalid_utf8 (void)
{
  g_autofree char *sample0 = fake ("p10-lpar", "lparstat", "-u", NULL);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_lparstat_u, (GDestroyNotify) esa_aix_uak_free, sample0);
}

int
main (int argc, char **argv)
{
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-parse/yyyymmdd", test_parse_yyyymmdd);
  g_test_add_func ("/aix-parse/lparstat", test_parse_lparstat);
  g_test_add_func ("/aix-parse/lparstat-invalid-utf8", test_parse_lparstat_invalid_utf8);
  return g_test_run ();
}
