/* test-uname.c: core/aix/uname.c: uname -a, uname -L and the identity helpers. */
#include "config.h"

#include "esa/esa-aix.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

static void
test_parse_helpers (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *vendor = NULL;
  g_autofree char *rest = NULL;
  g_autofree char *type = NULL;
  g_autofree char *model = NULL;
  g_autofree char *name = NULL;
  int id = 0;

  esa_aix_split_vendor ("IBM,9009-42A", &vendor, &rest);
  g_assert_cmpstr (vendor, ==, "IBM");
  g_assert_cmpstr (rest, ==, "9009-42A");
  g_clear_pointer (&vendor, g_free);
  g_clear_pointer (&rest, g_free);
  esa_aix_split_vendor ("9009-42A", &vendor, &rest);
  g_assert_null (vendor);
  g_assert_cmpstr (rest, ==, "9009-42A");
  g_assert_true (esa_aix_split_type_model (rest, &type, &model));
  g_assert_cmpstr (type, ==, "9009");
  g_assert_cmpstr (model, ==, "42A");
  g_assert_false (esa_aix_split_type_model ("9009", &type, &model));
  g_assert_false (esa_aix_split_type_model ("-42A", &type, &model));

  g_assert_true (esa_aix_parse_lpar_info ("uname -L", "5 lpar05\n", &id, &name, &error));
  g_assert_cmpint (id, ==, 5);
  g_assert_cmpstr (name, ==, "lpar05");
  g_clear_pointer (&name, g_free);
  g_assert_true (esa_aix_parse_lpar_info ("uname -L", "-1 NULL\r\n", &id, &name, &error));
  g_assert_cmpint (id, ==, -1);
  g_assert_null (name);
  g_assert_true (esa_aix_parse_lpar_info ("uname -L", "12\n", &id, &name, &error));
  g_assert_cmpint (id, ==, 12);
  g_assert_null (name);
  g_assert_false (esa_aix_parse_lpar_info ("uname -L", "lpar05 5\n", &id, &name, &error));
  assert_invalid (error, "uname -L: line 1: \"lpar05 5\"");
  g_clear_error (&error);
  g_assert_false (esa_aix_parse_lpar_info ("uname -L", "1 a b\n", &id, &name, &error));
  g_clear_error (&error);
  g_assert_false (esa_aix_parse_lpar_info ("uname -L", "\n  \n", &id, &name, &error));
  assert_invalid (error, "uname -L: empty output");
  g_clear_error (&error);
}

static void
test_parse_uname (void)
{
  g_autofree char *out = fake ("p10-lpar", "uname", "-a", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaAixUname) u = esa_aix_parse_uname_a (out, warnings, &error);
  g_autofree char *version = NULL;
  g_autoptr (EsaAixUname) u2 = NULL;
  g_autoptr (EsaAixUname) u3 = NULL;
  g_autoptr (EsaAixUname) u4 = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (u->sysname, ==, "AIX");
  g_assert_cmpstr (u->nodename, ==, "lpar05");
  g_assert_cmpstr (u->machine_id, ==, "00C9A1B24C00");
  version = esa_aix_uname_os_version (u);
  g_assert_cmpstr (version, ==, "7.3");
  g_assert_cmpuint (warnings->len, ==, 0);

  /* short, foreign, CRLF: usable with warnings */
  u2 = esa_aix_parse_uname_a ("AIX host 2 7\r\n", warnings, &error);
  g_assert_no_error (error);
  g_assert_null (u2->machine_id);
  g_assert_true (warned (warnings, "no machine id"));
  u3 = esa_aix_parse_uname_a ("Linux box 6 1 x86_64 extra\n", warnings, &error);
  g_assert_no_error (error);
  g_assert_true (warned (warnings, "not AIX"));
  g_assert_true (warned (warnings, "extra words"));

  u4 = esa_aix_parse_uname_a ("AIX host three seven 00F8\n", warnings, &error);
  g_assert_null (u4);
  assert_invalid (error, "uname -a: line 1: \"AIX host three seven 00F8\"");
  g_clear_error (&error);
  g_assert_null (esa_aix_parse_uname_a ("\x01\x02garbage\n", NULL, &error));
  assert_invalid (error, "uname -a: line 1: \"\\x01\\x02garbage\"");
}

/* Issue 10 item 10: invalid UTF-8 never reaches a regex or a message. */
static void
test_parse_uname_invalid_utf8 (void)
{
  g_autofree char *sample0 = fake ("p10-lpar", "uname", "-a", NULL);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_uname_a, (GDestroyNotify) esa_aix_uname_free, sample0);
}

int
main (int argc, char **argv)
{
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-parse/helpers", test_parse_helpers);
  g_test_add_func ("/aix-parse/uname", test_parse_uname);
  g_test_add_func ("/aix-parse/uname-invalid-utf8", test_parse_uname_invalid_utf8);
  return g_test_run ();
}
