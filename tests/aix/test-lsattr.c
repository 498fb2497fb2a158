/* test-lsattr.c: core/aix/lsattr.c, with fake and malformed output. */
#include "config.h"

#include "esa/esa-aix.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

static void
test_parse_lsattr (void)
{
  g_autofree char *out = fake ("p9-standalone", "lsattr", "-El", "sys0", NULL);
  g_autofree char *out_h = fake ("p10-lpar", "lsattr", "-EH", "-l", "sys0", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) attrs = esa_aix_parse_lsattr (out, warnings, &error);
  g_autoptr (GPtrArray) attrs_h = NULL;
  EsaAixAttr *first;

  g_assert_no_error (error);
  g_assert_cmpuint (attrs->len, ==, 38);
  g_assert_cmpuint (warnings->len, ==, 0);
  g_assert_cmpstr (esa_aix_attrs_lookup (attrs, "modelname"), ==, "IBM,9009-42A");
  g_assert_cmpstr (esa_aix_attrs_lookup (attrs, "systemid"), ==, "IBM,0278ABCDE");
  g_assert_cmpstr (esa_aix_attrs_lookup (attrs, "fwversion"), ==, "IBM,FW940.00 (27)");
  /* empty values on a machine that is not partitioned */
  g_assert_cmpstr (esa_aix_attrs_lookup (attrs, "id_to_partition"), ==, "");
  g_assert_null (esa_aix_attrs_lookup (attrs, "nonexistent"));
  first = g_ptr_array_index (attrs, 0);
  g_assert_cmpstr (first->attribute, ==, "SW_dist_intr");
  g_assert_cmpstr (first->description, ==, "Enable SW distribution of interrupts");
  g_assert_true (first->user_settable);
  for (guint i = 0; i < attrs->len; i++)
    {
      EsaAixAttr *a = g_ptr_array_index (attrs, i);
      if (g_strcmp0 (a->attribute, "id_to_partition") == 0)
        g_assert_cmpstr (a->description, ==, "Partition ID");
      if (g_strcmp0 (a->attribute, "modelname") == 0)
        g_assert_false (a->user_settable);
    }

  /* -H header; the attribute fills its column: one blank before the value */
  attrs_h = esa_aix_parse_lsattr (out_h, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (attrs_h->len, ==, 38);
  g_assert_cmpstr (esa_aix_attrs_lookup (attrs_h, "id_to_partition"), ==, "0X80000A2B3C400005");
  g_assert_cmpstr (esa_aix_attrs_lookup (attrs_h, "modelname"), ==, "IBM,9105-42A");
  g_assert_cmpuint (warnings->len, ==, 0);
}

static void
test_parse_lsattr_malformed (void)
{
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) a1 = NULL;
  g_autoptr (GPtrArray) a2 = NULL;
  g_autoptr (GPtrArray) a3 = NULL;
  g_autoptr (GPtrArray) a4 = NULL;
  g_autoptr (GPtrArray) a5 = NULL;

  /* CRLF, an unknown attribute, extra columns, a truncated line */
  a1 = esa_aix_parse_lsattr ("modelname  IBM,9009-42A  Machine name  False\r\n"
                             "frobnicate  42  Something new  in 7.3 TL3  True\r\n"
                             "systemid   IBM,0278ABC\r\n"
                             "\r\n",
                             warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a1->len, ==, 2);
  g_assert_cmpstr (esa_aix_attrs_lookup (a1, "frobnicate"), ==, "42");
  g_assert_cmpstr (((EsaAixAttr *)g_ptr_array_index (a1, 1))->description, ==, "Something new in 7.3 TL3");
  g_assert_true (warned (warnings, "line 3: no True/False column"));

  /* empty value: told from an empty description by the column it starts in */
  a2 = esa_aix_parse_lsattr ("autorestart  true   Automatically REBOOT  True\n"
                             "os_uuid             N/A                   True\n"
                             "clouddev     1                            False\n",
                             warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (esa_aix_attrs_lookup (a2, "os_uuid"), ==, "");
  g_assert_cmpstr (((EsaAixAttr *)g_ptr_array_index (a2, 1))->description, ==, "N/A");
  g_assert_cmpstr (esa_aix_attrs_lookup (a2, "clouddev"), ==, "1");

  /* garbage */
  a3 = esa_aix_parse_lsattr ("<html><body>Service unavailable</body></html>\n", warnings, &error);
  g_assert_null (a3);
  assert_invalid (error, "lsattr: line 1: \"<html><body>Service unavailable</body></html>\"");
  g_clear_error (&error);
  a4 = esa_aix_parse_lsattr ("", warnings, &error);
  assert_invalid (error, "lsattr: empty output");
  g_clear_error (&error);

  /* -F attribute:value (values keep their colons) */
  a5 = esa_aix_parse_lsattr_colon ("modelname:IBM,9009-42A\nfwversion:IBM,FW940.00 (27)\n"
                                   "odd line\nweird:a:b\n",
                                   warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (esa_aix_attrs_lookup (a5, "fwversion"), ==, "IBM,FW940.00 (27)");
  g_assert_cmpstr (esa_aix_attrs_lookup (a5, "weird"), ==, "a:b");
  g_assert_cmpstr (esa_aix_attrs_lookup (a5, "odd"), ==, "line");
  g_assert_null (esa_aix_parse_lsattr_colon ("::::\n", warnings, &error));
  assert_invalid (error, "lsattr: line 1: \"::::\"");
}

static void
test_parse_lsattr_fake_forms (void)
{
  g_autofree char *value = fake ("bull", "lsattr", "-El", "sys0", "-a", "modelname", "-F", "value", NULL);
  g_autofree char *av = fake ("p9-standalone", "lsattr", "-El", "sys0", "-a", "modelname", "-a", "systemid",
                              "-F", "attribute:value", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *model = esa_aix_parse_single_line ("lsattr", value, &error);
  g_autoptr (GPtrArray) attrs = esa_aix_parse_lsattr_colon (av, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (model, ==, "BULL,9009-22A");
  g_assert_cmpuint (attrs->len, ==, 2);
  g_assert_cmpstr (esa_aix_attrs_lookup (attrs, "systemid"), ==, "IBM,0278ABCDE");
}

/* Issue 10 item 10: invalid UTF-8 never reaches a regex or a message. */
static void
test_parse_lsattr_invalid_utf8 (void)
{
  g_autofree char *sample0 = fake ("p9-standalone", "lsattr", "-El", "sys0", NULL);
  g_autofree char *sample1 = g_strdup ("modelname:IBM,9009-42A\nfwversion:IBM,FW940.00 (27)\n");
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_lsattr, (GDestroyNotify) g_ptr_array_unref, sample0);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_lsattr_colon, (GDestroyNotify) g_ptr_array_unref, sample1);
}

int
main (int argc, char **argv)
{
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-parse/lsattr", test_parse_lsattr);
  g_test_add_func ("/aix-parse/lsattr-malformed", test_parse_lsattr_malformed);
  g_test_add_func ("/aix-parse/lsattr-fake-forms", test_parse_lsattr_fake_forms);
  g_test_add_func ("/aix-parse/lsattr-invalid-utf8", test_parse_lsattr_invalid_utf8);
  return g_test_run ();
}
