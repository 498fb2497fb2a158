/* test-aix-parse.c: the AIX output parsers, fed by the fake AIX commands of
 * tests/fixtures/aix-bin/ (run for real) and by malformed text. */
#include "config.h"

#include "esa/esa-aix.h"
#include "esa-test-util.h"
#include "esa/esa-error.h"
#include "esa/esa-subprocess.h"

#include <stdarg.h>
#include <string.h>

/* stdout of a fake AIX command on the given machine variant */
static char *fake (const char *machine, const char *arg0, ...) G_GNUC_NULL_TERMINATED;

static char *
fake (const char *machine, const char *arg0, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  char *out;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) arg0);
  va_start (ap, arg0);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_setenv ("ESA_FAKE_AIX_MACHINE", machine, TRUE);
  out = esa_subprocess_run ((const char *const *) argv->pdata, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return out;
}

static GPtrArray *
warnings_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

static gboolean
warned (GPtrArray *warnings, const char *needle)
{
  for (guint i = 0; i < warnings->len; i++)
    if (strstr (g_ptr_array_index (warnings, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

static void
assert_invalid (GError *error, const char *prefix)
{
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  if (!g_str_has_prefix (error->message, prefix))
    g_error ("message \"%s\" does not start with \"%s\"", error->message, prefix);
}

/* ---- shared ---------------------------------------------------------------- */

static void
test_parse_helpers (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *vendor = NULL;
  g_autofree char *rest = NULL;
  g_autofree char *type = NULL;
  g_autofree char *model = NULL;
  g_autofree char *name = NULL;
  g_autofree char *date = NULL;
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

/* ---- uname ------------------------------------------------------------------ */

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

/* ---- lsattr -------------------------------------------------------------------- */

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
  g_assert_cmpstr (((EsaAixAttr *) g_ptr_array_index (a1, 1))->description, ==,
                   "Something new in 7.3 TL3");
  g_assert_true (warned (warnings, "line 3: no True/False column"));

  /* empty value: told from an empty description by the column it starts in */
  a2 = esa_aix_parse_lsattr ("autorestart  true   Automatically REBOOT  True\n"
                             "os_uuid             N/A                   True\n"
                             "clouddev     1                            False\n",
                             warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (esa_aix_attrs_lookup (a2, "os_uuid"), ==, "");
  g_assert_cmpstr (((EsaAixAttr *) g_ptr_array_index (a2, 1))->description, ==, "N/A");
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
  g_autofree char *av = fake ("p9-standalone", "lsattr", "-El", "sys0", "-a", "modelname", "-a",
                              "systemid", "-F", "attribute:value", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *model = esa_aix_parse_single_line ("lsattr", value, &error);
  g_autoptr (GPtrArray) attrs = esa_aix_parse_lsattr_colon (av, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (model, ==, "BULL,9009-22A");
  g_assert_cmpuint (attrs->len, ==, 2);
  g_assert_cmpstr (esa_aix_attrs_lookup (attrs, "systemid"), ==, "IBM,0278ABCDE");
}

/* ---- prtconf ---------------------------------------------------------------------- */

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

/* ---- lsmcode ------------------------------------------------------------------------ */

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

/* ---- lslpp ---------------------------------------------------------------------------- */

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
  g_assert_cmpstr (((EsaAixFileset *) g_ptr_array_index (list1, 0))->level, ==, "7.3.1.0");

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
  l3 = esa_aix_parse_lslpp_Lc ("bos:bos.net.tcp:7.3.1.0: : :C:F:TCP/IP: Client Support : : : : : : :0:0:/:2245\r\n"
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
  g_assert_null (esa_aix_parse_lslpp_lc ("/usr/lib/objrepos:bos.rte:latest::COMMITTED:I:x:0\n", warnings,
                                         &error));
  assert_invalid (error, "lslpp -lc: line 1");
}

/* ---- errpt ---------------------------------------------------------------------------------- */

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
  g_assert_null (((EsaAixErrptEntry *) g_ptr_array_index (odd, 0))->date);
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
    n += g_strcmp0 (((EsaAixErrptSection *) g_ptr_array_index (r->sections, i))->heading, heading) == 0;
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
  g_assert_nonnull (strstr (((EsaAixErrptSection *) g_ptr_array_index (r->sections, r->sections->len - 1))->text,
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
  list = esa_aix_parse_errpt_a ("---------------------------------------------------------------------------\r\n"
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

/* ---- diag ------------------------------------------------------------------------------------ */

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
  g_assert_cmpstr (p->description, ==,
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
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (frus, 0), "probability"), ==, 85);
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

  g_assert_null (esa_aix_parse_diag ("diag: 0653-006 Device foo is not in the system configuration.\n",
                                     warnings, &error));
  assert_invalid (error, "diag: line 1: \"diag: 0653-006 Device foo");
  g_clear_error (&error);
  g_assert_null (esa_aix_parse_diag ("", warnings, &error));
  assert_invalid (error, "diag: empty output");
}

/* ---- lscfg, lparstat, UAK ----------------------------------------------------------------- */

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

/* ---- the fakes themselves: UAK state, snap archive ---------------------------------------- */

static void
test_fake_uak (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-fake-uak");
  g_autofree char *state = g_build_filename (dir, "uak.state", NULL);
  g_autofree char *key = g_build_filename (dir, "new.key", NULL);
  g_autofree char *old_key = g_build_filename (dir, "old.key", NULL);
  const char *update[] = { "uak_update", key, NULL };
  const char *update_old[] = { "uak_update", old_key, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *applied = NULL;
  g_autofree char *after = NULL;
  g_autofree char *vpd = NULL;
  g_autofree char *refused = NULL;
  g_autofree char *date = NULL;
  g_autoptr (GPtrArray) v = NULL;

  g_setenv ("ESA_FAKE_UAK_FILE", state, TRUE);
  before = fake ("p9-standalone", "uak_expiry", NULL);
  g_assert_cmpstr (before, ==, "20270825\n");
  esa_test_write_file (key, "-----BEGIN UAK-----\nmachine=9009-42A 78ABCDE\nexpiry=20290131\n", 0600);
  g_setenv ("ESA_FAKE_AIX_MACHINE", "p9-standalone", TRUE);
  applied = esa_subprocess_run (update, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  after = fake ("p9-standalone", "uak_expiry", NULL);
  g_assert_true (esa_aix_parse_yyyymmdd ("uak_expiry", after, &date, &error));
  g_assert_cmpstr (date, ==, "20290131");
  vpd = fake ("p9-standalone", "lscfg", "-vpl", "sysplanar0", NULL);
  v = esa_aix_parse_lscfg_vpd (vpd, NULL, &error);
  g_assert_cmpstr (esa_aix_vpd_lookup (v, "Update Access Key Exp Date"), ==, "20290131");

  /* an older key is refused, the state stays */
  esa_test_write_file (old_key, "20200101\n", 0600);
  refused = esa_subprocess_run (update_old, NULL, NULL, NULL, NULL, &error);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "uak_update: exited with status 3"));
  g_unsetenv ("ESA_FAKE_UAK_FILE");
  esa_test_rmtree (dir);
}

static void
test_fake_snap (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-fake-snap");
  g_autofree char *snapdir = g_build_filename (dir, "snap", NULL);
  g_autofree char *archive = g_build_filename (snapdir, "snap.pax.Z", NULL);
  g_autofree char *general = g_build_filename (snapdir, "general", "general.snap", NULL);
  g_autofree char *out = fake ("p9-standalone", "snap", "-g", "-c", "-d", snapdir, NULL);
  g_autofree char *contents = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *cmd = NULL;
  gsize len = 0;

  g_assert_nonnull (strstr (out, "Checking space requirement for general information"));
  g_assert_true (g_file_get_contents (archive, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 100);
  g_assert_true (g_file_test (general, G_FILE_TEST_IS_REGULAR));
  cmd = g_strdup_printf ("gzip -dc '%s' | tar tf -", archive);
  {
    const char *argv[] = { "sh", "-c", cmd, NULL };
    g_autoptr (GError) error = NULL;
    listing = esa_subprocess_run (argv, NULL, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
  }
  g_assert_nonnull (strstr (listing, "general/general.snap"));
  esa_test_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_autofree char *bin = NULL;

  g_test_init (&argc, &argv, NULL);
  bin = esa_test_src_path ("tests/fixtures/aix-bin");
  g_setenv ("ESA_COMMAND_PATH", bin, TRUE);
  g_setenv ("ESA_FAKE_AIX_MACHINE", "p9-standalone", TRUE);
  g_unsetenv ("ESA_FAKE_UAK_FILE");

  g_test_add_func ("/aix-parse/helpers", test_parse_helpers);
  g_test_add_func ("/aix-parse/uname", test_parse_uname);
  g_test_add_func ("/aix-parse/lsattr", test_parse_lsattr);
  g_test_add_func ("/aix-parse/lsattr-malformed", test_parse_lsattr_malformed);
  g_test_add_func ("/aix-parse/lsattr-fake-forms", test_parse_lsattr_fake_forms);
  g_test_add_func ("/aix-parse/prtconf", test_parse_prtconf);
  g_test_add_func ("/aix-parse/prtconf-malformed", test_parse_prtconf_malformed);
  g_test_add_func ("/aix-parse/lsmcode", test_parse_lsmcode);
  g_test_add_func ("/aix-parse/lslpp-l", test_parse_lslpp_l);
  g_test_add_func ("/aix-parse/lslpp-colon", test_parse_lslpp_colon);
  g_test_add_func ("/aix-parse/errpt-summary", test_parse_errpt_summary);
  g_test_add_func ("/aix-parse/errpt-a", test_parse_errpt_a);
  g_test_add_func ("/aix-parse/errpt-a-malformed", test_parse_errpt_a_malformed);
  g_test_add_func ("/aix-parse/diag", test_parse_diag);
  g_test_add_func ("/aix-parse/diag-malformed", test_parse_diag_malformed);
  g_test_add_func ("/aix-parse/lscfg", test_parse_lscfg);
  g_test_add_func ("/aix-parse/lparstat", test_parse_lparstat);
  g_test_add_func ("/aix-fake/uak", test_fake_uak);
  g_test_add_func ("/aix-fake/snap", test_fake_snap);
  return g_test_run ();
}
