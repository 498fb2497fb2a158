/* test-lslpp.c: core/aix/lslpp.c, lslpp -l, -lc and -Lc. */
#include "config.h"

#include "esa/esa-aix.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

static EsaAixFileset *
find_fileset (GPtrArray *list, const char *name, const char *path)
{
  for (guint i = 0; i < list->len; i++)
    {
      EsaAixFileset *f = g_ptr_array_index (list, i);
      if (g_strcmp0 (f->fileset, name) == 0 && (path == NULL || g_strcmp0 (f->path, path) == 0))
        return f;
    }
  return NULL;
}

static void
test_parse_lslpp_l (void)
{
  g_autofree char *out = fake ("p9-standalone", "lslpp", "-l", NULL);
  g_autofree char *one = fake ("p9-standalone", "lslpp", "-l", "bos.esagent", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = esa_aix_parse_lslpp_l (out, warnings, &error);
  g_autoptr (GPtrArray) list1 = NULL;
  g_autoptr (GPtrArray) list2 = NULL;
  EsaAixFileset *f;

  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 0);
  g_assert_cmpuint (list->len, ==, 19);
  f = find_fileset (list, "bos.mp64", "/usr/lib/objrepos");
  g_assert_cmpstr (f->level, ==, "7.3.1.1");
  g_assert_cmpstr (f->state, ==, "APPLIED");
  g_assert_cmpstr (f->description, ==, "Base Operating System 64-bit Multiprocessor Runtime");
  g_assert_nonnull (find_fileset (list, "bos.mp64", "/etc/objrepos"));
  f = find_fileset (list, "bos.perf.tools", NULL);
  g_assert_true (f->efix_locked);
  g_assert_cmpstr (f->description, ==, "Base Performance Tools");
  f = find_fileset (list, "openssh.base.server", NULL);
  g_assert_cmpstr (f->level, ==, "9.2.112.2400");
  g_assert_cmpstr (f->state, ==, "COMMITTED");
  f = find_fileset (list, "devices.pciex.df1020e214103c04.diag", NULL);
  g_assert_cmpstr (f->description, ==, "PCIe3 4-port (10Gb FCoE & 1GbE) SR&RJ45 Adapter Diagnostics");
  g_assert_null (find_fileset (list, "bos.rte.libc", "/etc/objrepos"));

  list1 = esa_aix_parse_lslpp_l (one, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list1->len, ==, 2);
  g_assert_cmpstr (((EsaAixFileset *)g_ptr_array_index (list1, 0))->level, ==, "7.3.1.0");

  /* a fileset name on its own line, CRLF, an error line, garbage in between */
  list2 = esa_aix_parse_lslpp_l ("  Fileset                      Level  State      Description\r\n"
                                 "  ------------------------------------------------\r\n"
                                 "Path: /usr/lib/objrepos\r\n"
                                 "  devices.pciex.a.very.long.fileset.name.diag\r\n"
                                 "                             7.3.0.0  COMMITTED  Long Name\r\n"
                                 "                                                 Diagnostics\r\n"
                                 "lslpp: 0504-132  Fileset bos.nope not installed.\r\n"
                                 "@@@ what is this @@@\r\n"
                                 "  bos.rte                    7.3.1.0  COMMITTED  Base Operating\r\n",
                                 warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list2->len, ==, 2);
  f = g_ptr_array_index (list2, 0);
  g_assert_cmpstr (f->fileset, ==, "devices.pciex.a.very.long.fileset.name.diag");
  g_assert_cmpstr (f->description, ==, "Long Name Diagnostics");
  g_assert_cmpstr (f->path, ==, "/usr/lib/objrepos");
  g_assert_true (warned (warnings, "0504-132"));
  g_assert_true (warned (warnings, "lslpp -l: line 8"));

  g_assert_null (esa_aix_parse_lslpp_l ("Segmentation fault (core dumped)\n", warnings, &error));
  assert_invalid (error, "lslpp -l: line 1: \"Segmentation fault (core dumped)\"");
}

static void
test_parse_lslpp_colon (void)
{
  g_autofree char *lc = fake ("p9-standalone", "lslpp", "-lc", NULL);
  g_autofree char *Lc = fake ("p9-standalone", "lslpp", "-Lc", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) l1 = esa_aix_parse_lslpp_lc (lc, warnings, &error);
  g_autoptr (GPtrArray) l2 = NULL;
  g_autoptr (GPtrArray) l3 = NULL;
  g_autoptr (GPtrArray) l4 = NULL;
  EsaAixFileset *f;

  g_assert_no_error (error);
  g_assert_cmpuint (l1->len, ==, 19);
  f = find_fileset (l1, "bos.mp64", "/etc/objrepos");
  g_assert_cmpstr (f->state, ==, "APPLIED");
  g_assert_cmpstr (f->type, ==, "F");
  g_assert_null (f->ptf);
  g_assert_true (find_fileset (l1, "bos.perf.tools", NULL)->efix_locked);

  l2 = esa_aix_parse_lslpp_Lc (Lc, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 0);
  g_assert_cmpuint (l2->len, ==, 14);
  f = find_fileset (l2, "bos.rte", NULL);
  g_assert_cmpstr (f->package, ==, "bos");
  g_assert_cmpstr (f->state, ==, "C");
  g_assert_cmpstr (f->type, ==, "F");
  g_assert_cmpstr (f->description, ==, "Base Operating System Runtime");
  g_assert_cmpstr (f->build_date, ==, "2245");
  g_assert_null (f->path);
  f = find_fileset (l2, "bash-5.2.15-1", NULL);
  g_assert_cmpstr (f->type, ==, "R");
  g_assert_cmpstr (f->build_date, ==, "Mon Jun 12 09:14:02 CDT 2023");
  f = find_fileset (l2, "IJ47121s2a", NULL);
  g_assert_cmpstr (f->type, ==, "E");
  g_assert_cmpstr (f->description, ==, "\"ifix for bos.rte (IJ47121) at 7300-01-02");

  /* colons in a description, a short line, CRLF, garbage */
  l3 = esa_aix_parse_lslpp_Lc (
    "bos:bos.net.tcp:7.3.1.0: : :C:F:TCP/IP: Client Support : : : : : : :0:0:/:2245\r\n"
    "xlC.rte:xlC.rte:16.1.0.10: : :C:F:XL C++ Runtime: : :\r\n"
    "this is not lslpp\r\n",
    warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (l3->len, ==, 2);
  f = g_ptr_array_index (l3, 0);
  g_assert_cmpstr (f->description, ==, "TCP/IP: Client Support");
  g_assert_cmpstr (f->build_date, ==, "2245");
  g_assert_true (warned (warnings, "line 2: 11 fields, expected 18"));
  g_assert_true (warned (warnings, "line 3: not a fileset line"));

  l4 = esa_aix_parse_lslpp_lc ("#Source:Fileset\n", warnings, &error);
  g_assert_no_error (error);
  g_assert_null (esa_aix_parse_lslpp_Lc ("a:b\nc:d\n", warnings, &error));
  assert_invalid (error, "lslpp -Lc: line 1: \"a:b\"");
  g_clear_error (&error);
  g_assert_null (
    esa_aix_parse_lslpp_lc ("/usr/lib/objrepos:bos.rte:latest::COMMITTED:I:x:0\n", warnings, &error));
  assert_invalid (error, "lslpp -lc: line 1");
}

/* Issue 10 item 10: invalid UTF-8 never reaches a regex or a message. */
static void
test_parse_lslpp_invalid_utf8 (void)
{
  g_autofree char *sample0 = fake ("p9-standalone", "lslpp", "-l", NULL);
  g_autofree char *sample1 = fake ("p9-standalone", "lslpp", "-lc", NULL);
  g_autofree char *sample2 = fake ("p9-standalone", "lslpp", "-Lc", NULL);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_lslpp_l, (GDestroyNotify) g_ptr_array_unref, sample0);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_lslpp_lc, (GDestroyNotify) g_ptr_array_unref, sample1);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_lslpp_Lc, (GDestroyNotify) g_ptr_array_unref, sample2);
}

int
main (int argc, char **argv)
{
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-parse/lslpp-l", test_parse_lslpp_l);
  g_test_add_func ("/aix-parse/lslpp-colon", test_parse_lslpp_colon);
  g_test_add_func ("/aix-parse/lslpp-invalid-utf8", test_parse_lslpp_invalid_utf8);
  return g_test_run ();
}
