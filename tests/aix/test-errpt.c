/* test-errpt.c: plugins/diag/diag-errpt.c, errpt and errpt -a. */
#include "config.h"

#include "diag-errpt.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

static void
test_parse_errpt_summary (void)
{
  g_autofree char *out = fake ("p9-standalone", "errpt", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = esa_aix_parse_errpt_summary (out, warnings, &error);
  g_autoptr (GPtrArray) empty = NULL;
  g_autoptr (GPtrArray) odd = NULL;
  EsaAixErrptEntry *e;

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 4);
  e = g_ptr_array_index (list, 0);
  g_assert_cmpstr (e->identifier, ==, "D22852C1");
  g_assert_cmpstr (e->date, ==, "2025-08-26T09:00:00");
  g_assert_cmpstr (e->type, ==, "P");
  g_assert_cmpstr (e->klass, ==, "H");
  g_assert_cmpstr (e->resource, ==, "sysplanar0");
  g_assert_cmpstr (e->description, ==, "The AIX Update Access Key has expired");

  empty = esa_aix_parse_errpt_summary ("", warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (empty->len, ==, 0);

  odd = esa_aix_parse_errpt_summary ("IDENTIFIER TIMESTAMP  T C RESOURCE_NAME  DESCRIPTION\r\n"
                                     "B6267342   1399101525 P H hdisk1         DISK OPERATION ERROR\r\n"
                                     "B6267342 0826\r\n",
                                     warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (odd->len, ==, 1);
  g_assert_null (((EsaAixErrptEntry *)g_ptr_array_index (odd, 0))->date);
  g_assert_true (warned (warnings, "timestamp \"1399101525\""));
  g_assert_true (warned (warnings, "errpt: line 3"));

  g_assert_null (esa_aix_parse_errpt_summary ("ksh: errpt: not found\n", warnings, &error));
  assert_invalid (error, "errpt: line 1: \"ksh: errpt: not found\"");
}

static EsaAixErrptRecord *
find_record (GPtrArray *list, gint64 seq)
{
  for (guint i = 0; i < list->len; i++)
    {
      EsaAixErrptRecord *r = g_ptr_array_index (list, i);
      if (r->sequence == seq)
        return r;
    }
  return NULL;
}

static guint
count_sections (EsaAixErrptRecord *r, const char *heading)
{
  guint n = 0;
  for (guint i = 0; i < r->sections->len; i++)
    n += g_strcmp0 (((EsaAixErrptSection *)g_ptr_array_index (r->sections, i))->heading, heading) == 0;
  return n;
}

static void
test_parse_errpt_a (void)
{
  g_autofree char *out = fake ("p9-standalone", "errpt", "-a", NULL);
  g_autofree char *one = fake ("p9-standalone", "errpt", "-a", "-l", "1240", NULL);
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = esa_aix_parse_errpt_a (out, warnings, &error);
  g_autoptr (GPtrArray) list1 = NULL;
  g_autoptr (JsonObject) json = NULL;
  EsaAixErrptRecord *r;

  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 0);
  g_assert_cmpuint (list->len, ==, 4);
  r = find_record (list, 1234);
  g_assert_nonnull (r);
  g_assert_cmpstr (r->label, ==, "SC_DISK_ERR2");
  g_assert_cmpstr (r->identifier, ==, "B6267342");
  g_assert_cmpstr (r->date_raw, ==, "Tue Aug 26 10:15:22 CDT 2025");
  g_assert_cmpstr (r->date, ==, "2025-08-26T10:15:22");
  g_assert_cmpstr (r->machine_id, ==, "00F812344C00");
  g_assert_cmpstr (r->node_id, ==, "aixp9");
  g_assert_cmpstr (r->klass, ==, "H");
  g_assert_cmpstr (r->type, ==, "PERM");
  g_assert_cmpstr (r->wpar, ==, "Global");
  g_assert_cmpstr (r->resource_name, ==, "hdisk1");
  g_assert_cmpstr (r->resource_class, ==, "disk");
  g_assert_cmpstr (r->resource_type, ==, "sas_disk");
  g_assert_cmpstr (r->location, ==, "U9009.42A.78ABCDE-P3-D4");
  g_assert_nonnull (strstr (r->vpd, "FRU Number..................00E1234"));
  g_assert_cmpstr (r->description, ==, "DISK OPERATION ERROR");
  g_assert_cmpuint (count_sections (r, "Recommended Actions"), ==, 1);
  g_assert_cmpuint (count_sections (r, "Failure Causes"), ==, 1);
  g_assert_nonnull (
    strstr (((EsaAixErrptSection *)g_ptr_array_index (r->sections, r->sections->len - 1))->text,
            "SENSE DATA\n0A00 2A00"));
  r = find_record (list, 1180);
  g_assert_cmpuint (count_sections (r, "Recommended Actions"), ==, 2);
  g_assert_null (r->location);

  list1 = esa_aix_parse_errpt_a (one, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list1->len, ==, 1);
  r = g_ptr_array_index (list1, 0);
  g_assert_cmpstr (r->identifier, ==, "D22852C1");
  g_assert_cmpstr (r->resource_name, ==, "sysplanar0");
  g_assert_null (r->location);
  g_assert_cmpstr (r->description, ==, "The AIX Update Access Key has expired");

  json = esa_aix_errpt_record_to_json (r);
  g_assert_cmpstr (json_object_get_string_member (json, "identifier"), ==, "D22852C1");
  g_assert_cmpint (json_object_get_int_member (json, "sequence"), ==, 1240);
  g_assert_true (json_object_get_null_member (json, "location"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json, "sections")), ==, 4);
}

static void
test_parse_errpt_a_malformed (void)
{
  const char *argv[] = { "errpt", "-a", "-l", "99999", NULL };
  EsaSubprocessOptions opts = { .allow_failure = TRUE };
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) l2 = NULL;
  int status = 0;
  EsaAixErrptRecord *r;

  /* an unknown sequence number: the fake says so on stderr, like errpt */
  g_setenv ("ESA_FAKE_AIX_MACHINE", "p9-standalone", TRUE);
  out = esa_subprocess_run (argv, &opts, &status, &err, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status, !=, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_null (esa_aix_parse_errpt_a (err, warnings, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "0251-138 Cannot find error record"));
  g_clear_error (&error);

  /* localized date, no blank after IDENTIFIER, missing sequence, CRLF,
   * a record of garbage between two dash lines */
  list
    = esa_aix_parse_errpt_a ("---------------------------------------------------------------------------\r\n"
                             "LABEL:          DISK_ERR4\r\n"
                             "IDENTIFIER:     1581762B\r\n"
                             "Date/Time:       mar. 26 août 2025 10:15:22 CEST\r\n"
                             "Class:           H\r\n"
                             "Resource Name:   hdisk0\r\n"
                             "Description\r\n"
                             "DISK OPERATION ERROR\r\n"
                             "---------------------------------------------------------------------------\r\n"
                             "@@@@ not a record @@@@\r\n"
                             "---------------------------------------------------------------------------\r\n"
                             "LABEL:          OPMSG\r\n"
                             "Sequence Number: 12x\r\n",
                             warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  r = g_ptr_array_index (list, 0);
  g_assert_cmpstr (r->identifier, ==, "1581762B");
  g_assert_null (r->date);
  g_assert_cmpstr (r->date_raw, ==, "mar. 26 août 2025 10:15:22 CEST");
  g_assert_cmpint (r->sequence, ==, -1);
  g_assert_cmpstr (r->description, ==, "DISK OPERATION ERROR");
  g_assert_true (warned (warnings, "DISK_ERR4: unreadable Date/Time"));
  g_assert_true (warned (warnings, "DISK_ERR4: no Sequence Number"));
  g_assert_true (warned (warnings, "lines 10-10: no LABEL or IDENTIFIER"));
  g_assert_true (warned (warnings, "Sequence Number \"12x\""));
  g_assert_true (warned (warnings, "OPMSG: no Date/Time"));

  /* empty log: nothing, no error; garbage: an error naming the line */
  l2 = esa_aix_parse_errpt_a ("\n", warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (l2->len, ==, 0);
  g_assert_null (esa_aix_parse_errpt_a ("Usage: errpt [-a]\n", warnings, &error));
  assert_invalid (error, "errpt -a: line 1: \"Usage: errpt [-a]\"");
}

/* Issue 10 item 10: invalid UTF-8 never reaches a regex or a message. */
static void
test_parse_errpt_invalid_utf8 (void)
{
  g_autofree char *sample0 = fake ("p9-standalone", "errpt", NULL);
  g_autofree char *sample1 = fake ("p9-standalone", "errpt", "-a", NULL);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_errpt_summary, (GDestroyNotify) g_ptr_array_unref, sample0);
  check_invalid_utf8 ((AixParseFunc) esa_aix_parse_errpt_a, (GDestroyNotify) g_ptr_array_unref, sample1);
}

int
main (int argc, char **argv)
{
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-parse/errpt-summary", test_parse_errpt_summary);
  g_test_add_func ("/aix-parse/errpt-a", test_parse_errpt_a);
  g_test_add_func ("/aix-parse/errpt-a-malformed", test_parse_errpt_a_malformed);
  g_test_add_func ("/aix-parse/errpt-invalid-utf8", test_parse_errpt_invalid_utf8);
  return g_test_run ();
}
