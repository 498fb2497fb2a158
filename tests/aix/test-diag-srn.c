/* test-diag-srn.c: plugins/diag/diag-srn.c, diag -c -e output. */
#include "config.h"

#include "diag-srn.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

static void
test_parse_diag (void)
{
  g_autofree char *disk = fake ("p9-standalone", "diag", "-c", "-e", "-d", "hdisk1", NULL);
  g_autofree char *all = fake ("bull", "diag", "-c", "-e", NULL);
  g_autofree char *ntf = fake ("p9-standalone", "diag", "-c", "-e", "-d", "ent0", NULL);
  g_autofree char *lpar = fake ("p10-lpar", "diag", "-c", "-e", "-d", "hdisk1", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaAixDiag) d = esa_aix_parse_diag (disk, warnings, &error);
  g_autoptr (EsaAixDiag) d_all = NULL;
  g_autoptr (EsaAixDiag) d_ntf = NULL;
  g_autoptr (EsaAixDiag) d_lpar = NULL;
  g_autoptr (JsonObject) json = NULL;
  EsaAixDiagProblem *p;
  EsaAixFru *f;

  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 0);
  g_assert_true (d->problem_found);
  g_assert_cmpstr (d->menu, ==, "801014");
  g_assert_cmpstr (d->date_raw, ==, "Tue Aug 26 10:20:31 CDT 2025");
  g_assert_cmpuint (d->problems->len, ==, 1);
  p = g_ptr_array_index (d->problems, 0);
  g_assert_cmpstr (p->srn, ==, "2D02-127");
  g_assert_cmpstr (p->description, ==, "SAS disk drive reported a permanent media error.");
  g_assert_cmpint (p->error_sequence, ==, 1234);
  g_assert_cmpstr (p->error_label, ==, "SC_DISK_ERR2");
  g_assert_null (p->src);
  g_assert_cmpuint (p->frus->len, ==, 3);
  f = g_ptr_array_index (p->frus, 0);
  g_assert_cmpstr (f->part_number, ==, "00E1234");
  g_assert_cmpint (f->probability, ==, 85);
  g_assert_cmpstr (f->device, ==, "hdisk1");
  g_assert_cmpstr (f->location, ==, "U9009.42A.78ABCDE-P3-D4");
  g_assert_cmpstr (f->description, ==, "SAS Disk Drive (300000 MB)");
  f = g_ptr_array_index (p->frus, 2);
  g_assert_null (f->part_number);
  g_assert_cmpint (f->probability, ==, 5);
  g_assert_cmpstr (f->location, ==, "U9009.42A.78ABCDE-P3");
  g_assert_cmpstr (f->description, ==, "Disk backplane cable");

  d_all = esa_aix_parse_diag (all, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (d_all->problems->len, ==, 2);
  p = g_ptr_array_index (d_all->problems, 1);
  g_assert_cmpstr (p->srn, ==, "651-204");
  g_assert_cmpstr (p->src, ==, "11002610");
  g_assert_cmpstr (
    p->description, ==,
    "A non-critical error has been detected: the system power supply redundancy has been lost.");
  f = g_ptr_array_index (p->frus, 0);
  g_assert_cmpint (f->probability, ==, 100);
  g_assert_cmpstr (f->location, ==, "U9009.22A.B2C1D07-E1");

  d_ntf = esa_aix_parse_diag (ntf, warnings, &error);
  g_assert_no_error (error);
  g_assert_false (d_ntf->problem_found);
  g_assert_cmpstr (d_ntf->menu, ==, "802002");
  g_assert_cmpuint (d_ntf->problems->len, ==, 0);
  d_lpar = esa_aix_parse_diag (lpar, warnings, &error);
  g_assert_no_error (error);
  g_assert_false (d_lpar->problem_found);
  g_assert_cmpuint (warnings->len, ==, 0);

  json = esa_aix_diag_to_json (d);
  g_assert_true (json_object_get_boolean_member (json, "problem_found"));
  p = NULL;
  {
    JsonArray *problems = json_object_get_array_member (json, "problems");
    JsonObject *po = json_array_get_object_element (problems, 0);
    JsonArray *frus = json_object_get_array_member (po, "frus");
    g_assert_cmpstr (json_object_get_string_member (po, "srn"), ==, "2D02-127");
    g_assert_cmpuint (json_array_get_length (frus), ==, 3);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (frus, 0), "probability"), ==,
                     85);
  }
}

static void
test_parse_diag_malformed (void)
{
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaAixDiag) d1 = NULL;
  g_autoptr (EsaAixDiag) d2 = NULL;
  EsaAixDiagProblem *p;
  EsaAixFru *f;

  /* the "SRN:" form, an old location code, everything on one FRU line, CRLF,
   * a bad SRC, a bad part number, an impossible percentage */
  d1 = esa_aix_parse_diag ("SRN: 2570-604\r\n"
                           "Description: SCSI bus fault\r\n"
                           "SRC: B70069\r\n"
                           "FRU: 00P2685 U787B.001.DNW108F-P1-C1 85% scsi0\r\n"
                           "     SCSI controller\r\n"
                           "FRU: X 10-60-00-4,0 140% hdisk2\r\n",
                           warnings, &error);
  g_assert_no_error (error);
  g_assert_true (d1->problem_found);
  p = g_ptr_array_index (d1->problems, 0);
  g_assert_cmpstr (p->srn, ==, "2570-604");
  g_assert_cmpstr (p->description, ==, "SCSI bus fault");
  g_assert_cmpstr (p->src, ==, "B70069");
  g_assert_cmpuint (p->frus->len, ==, 2);
  f = g_ptr_array_index (p->frus, 0);
  g_assert_cmpstr (f->location, ==, "U787B.001.DNW108F-P1-C1");
  g_assert_cmpstr (f->device, ==, "scsi0");
  g_assert_cmpstr (f->description, ==, "SCSI controller");
  f = g_ptr_array_index (p->frus, 1);
  g_assert_cmpstr (f->location, ==, "10-60-00-4,0");
  g_assert_cmpint (f->probability, ==, -1);
  g_assert_true (warned (warnings, "SRC \"B70069\""));
  g_assert_true (warned (warnings, "part number \"X\""));
  g_assert_true (warned (warnings, "probability \"140%\""));

  /* FRU before any SRN; a problem with no SRN printed */
  d2 = esa_aix_parse_diag ("A PROBLEM WAS DETECTED ON Tue Aug 26 10:20:31 CDT 2025   801014\n"
                           "  FRU: 00E1234  50%  hdisk1\n",
                           warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (d2->menu, ==, "801014");
  g_assert_cmpstr (d2->date_raw, ==, "Tue Aug 26 10:20:31 CDT 2025");
  g_assert_true (warned (warnings, "FRU before any SRN"));

  g_assert_null (
    esa_aix_parse_diag ("diag: 0653-006 Device foo is not in the system configuration.\n", warnings, &error));
  assert_invalid (error, "diag: line 1: \"diag: 0653-006 Device foo");
  g_clear_error (&error);
  g_assert_null (esa_aix_parse_diag ("", warnings, &error));
  assert_invalid (error, "diag: empty output");
}

/* Issue 10 item 10: invalid UTF-8 never reaches a regex or a message. */
static void
test_parse_diag_srn_invalid_utf8 (void)
{
  g_autofree char *sample0 = fake ("p9-standalone", "diag", "-c", "-e", "-d", "hdisk1", NULL);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_diag, (GDestroyNotify) esa_aix_diag_free, sample0);
}

int
main (int argc, char **argv)
{
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-parse/diag", test_parse_diag);
  g_test_add_func ("/aix-parse/diag-malformed", test_parse_diag_malformed);
  g_test_add_func ("/aix-parse/diag-srn-invalid-utf8", test_parse_diag_srn_invalid_utf8);
  return g_test_run ();
}
