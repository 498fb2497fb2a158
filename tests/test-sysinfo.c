/* test-sysinfo.c: the sysinfo plugin's collecting — dpkg/rpm list parsers
 * (with malformed input), the inventory body from the fake AIX commands
 * (also with a damaged lslpp -Lc), the snap attachment, and the Linux
 * configuration archive from a fake root. */
#include "config.h"

#include <string.h>

#include "esa-test-util.h"
#include "sysinfo-private.h"

static void
test_dpkg (void)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = esa_sysinfo_parse_dpkg ("adduser\t3.134\tinstall ok installed\n"
                                                       "libc6\t2.36-9+deb12u4\tinstall ok installed\r\n"
                                                       "\n"
                                                       "oldpkg\t1.0\tdeinstall ok config-files\n"
                                                       "broken line without tabs\n"
                                                       "two\tfields\n"
                                                       "\t1.0\tinstall ok installed\n"
                                                       "name with space\t1\tinstall ok installed\n"
                                                       "held\t2:1.0~rc1\thold ok installed\n",
                                                       warnings, &error);
  JsonObject *o;
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  o = g_ptr_array_index (list, 1);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "libc6");
  g_assert_cmpstr (json_object_get_string_member (o, "version"), ==, "2.36-9+deb12u4");
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "install ok installed");
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (list, 2), "version"), ==, "2:1.0~rc1");
  g_assert_cmpuint (warnings->len, ==, 4);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "dpkg-query: line 5:"));
}

static void
test_dpkg_garbage (void)
{
  const char *inputs[] = { "dpkg-query: error: no packages found\n", "\x01\x02\x03", "a\tb\tc\td\n" };
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) list = esa_sysinfo_parse_dpkg (inputs[i], warnings, &error);
      g_assert_null (list);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, "dpkg-query: line 1:"));
    }
  /* empty output: no packages, no error */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) list = esa_sysinfo_parse_dpkg ("", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (list->len, ==, 0);
  }
  /* many bad lines: the warnings are capped */
  {
    g_autoptr (GString) s = g_string_new ("ok\t1\tinstall ok installed\n");
    g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GPtrArray) list = NULL;
    for (guint i = 0; i < 500; i++)
      g_string_append (s, "junk\n");
    list = esa_sysinfo_parse_dpkg (s->str, warnings, NULL);
    g_assert_cmpuint (list->len, ==, 1);
    g_assert_cmpuint (warnings->len, ==, 21);
    g_assert_nonnull (strstr (g_ptr_array_index (warnings, 20), "480 more"));
  }
  /* invalid UTF-8 in a field is repaired, not passed on to JSON */
  {
    g_autoptr (GPtrArray) list = esa_sysinfo_parse_dpkg ("caf\xe9\t1\tinstall ok installed\n", NULL, NULL);
    const char *name = json_object_get_string_member (g_ptr_array_index (list, 0), "name");
    g_assert_true (g_utf8_validate (name, -1, NULL));
  }
}

static void
test_rpm (void)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = esa_sysinfo_parse_rpm ("bash\t5.1.8-6.el9\tx86_64\n"
                                                      "gpg-pubkey\t3228467c-613798eb\t(none)\n"
                                                      "error: rpmdb: damaged header #42\n",
                                                      warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (list, 0), "arch"), ==, "x86_64");
  g_assert_cmpuint (warnings->len, ==, 1);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = esa_sysinfo_parse_rpm ("error: cannot open Packages database\n", NULL, &error);
  g_assert_null (list);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
}

static void
aix_env (const char *machine)
{
  g_autofree char *bin = esa_test_src_path ("tests/fixtures/aix-bin");
  g_setenv ("ESA_PLATFORM", "aix", TRUE);
  g_setenv ("ESA_COMMAND_PATH", bin, TRUE);
  g_setenv ("ESA_FAKE_AIX_MACHINE", machine, TRUE);
  g_unsetenv ("ESA_FAKE_LSLPP_MALFORMED");
  g_unsetenv ("ESA_FAKE_SNAP_FAIL");
}

static JsonObject *
aix_body (GPtrArray *warnings)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) pf = esa_platform_detect (&error);
  EsaSysinfoInput in = { pf, TRUE, "/", "Ada", "ada@example.com", NULL };
  JsonObject *body;
  g_assert_no_error (error);
  body = esa_sysinfo_collect_body (&in, warnings, &error);
  g_assert_no_error (error);
  return body;
}

static gboolean
has_fileset (JsonObject *body, const char *name)
{
  JsonArray *a = json_object_get_array_member (body, "packages");
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (a, i), "fileset"), name) == 0)
      return TRUE;
  return FALSE;
}

static void
test_aix_body (void)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonObject) body = NULL;
  JsonObject *contact;
  aix_env ("p9-standalone");
  body = aix_body (warnings);
  g_assert_cmpstr (json_object_get_string_member (body, "agent_version"), ==, ESA_VERSION);
  g_assert_cmpstr (json_object_get_string_member (body, "os"), ==, "AIX");
  g_assert_cmpstr (json_object_get_string_member (body, "os_version"), ==, "7.3");
  g_assert_cmpstr (json_object_get_string_member (body, "machine_type"), ==, "9009");
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "42A");
  g_assert_cmpstr (json_object_get_string_member (body, "serial"), ==, "78ABCDE");
  g_assert_cmpstr (json_object_get_string_member (body, "manufacturer"), ==, "IBM");
  g_assert_cmpstr (json_object_get_string_member (body, "system_id"), ==, "IBM,0278ABCDE");
  g_assert_cmpstr (json_object_get_string_member (body, "hostname"), ==, "aixp9");
  g_assert_nonnull (json_object_get_string_member (body, "firmware"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (body, "firmware_levels"), "permanent"),
                   ==, "VL940_027");
  g_assert_cmpstr (json_object_get_string_member (body, "agent_package"), ==, "bos.esagent 7.3.1.0");
  g_assert_cmpstr (json_object_get_string_member (body, "package_source"), ==, "lslpp -Lc");
  g_assert_true (has_fileset (body, "bos.rte"));
  g_assert_false (json_object_get_boolean_member (body, "is_lpar"));
  contact = json_object_get_object_member (body, "contact");
  g_assert_cmpstr (json_object_get_string_member (contact, "name"), ==, "Ada");
  g_assert_true (json_object_get_null_member (contact, "phone"));
}

static void
test_aix_lslpp_malformed (void)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonObject) body = NULL;
  JsonArray *w;
  guint bad = 0;
  aix_env ("p10-lpar");
  g_setenv ("ESA_FAKE_LSLPP_MALFORMED", "1", TRUE);
  body = aix_body (warnings);
  g_unsetenv ("ESA_FAKE_LSLPP_MALFORMED");
  g_assert_true (has_fileset (body, "bos.rte"));
  g_assert_true (has_fileset (body, "bos.esagent"));
  g_assert_false (has_fileset (body, "bos.broken"));
  g_assert_true (json_object_get_boolean_member (body, "is_lpar"));
  g_assert_cmpstr (json_object_get_string_member (body, "lpar_name"), ==, "lpar05");
  w = json_object_get_array_member (body, "warnings");
  for (guint i = 0; i < json_array_get_length (w); i++)
    if (strstr (json_array_get_string_element (w, i), "lslpp -Lc: line") != NULL)
      bad++;
  g_assert_cmpuint (bad, >=, 3);
}

static void
test_aix_snap (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-sysinfo");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) pf = NULL;
  g_autofree char *archive = NULL, *type = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  EsaSysinfoInput in = { NULL, TRUE, "/", NULL, NULL, NULL };

  aix_env ("p9-standalone");
  pf = esa_platform_detect (&error);
  in.platform = pf;
  archive = esa_sysinfo_collect_config (&in, dir, &type, warnings, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (archive, "/snap/snap.pax.Z"));
  g_assert_cmpstr (type, ==, "application/x-compress");
  g_assert_true (g_file_test (archive, G_FILE_TEST_IS_REGULAR));
  g_clear_pointer (&archive, g_free);
  g_clear_pointer (&type, g_free);

  /* a failing snap is an error the caller reports (and sends without it) */
  g_setenv ("ESA_FAKE_SNAP_FAIL", "1", TRUE);
  archive = esa_sysinfo_collect_config (&in, dir, &type, warnings, &error);
  g_unsetenv ("ESA_FAKE_SNAP_FAIL");
  g_assert_null (archive);
  g_assert_nonnull (strstr (error->message, "0040-015"));
  esa_sysinfo_rmtree (dir);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

static void
test_linux_archive (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-sysinfo");
  g_autofree char *root = esa_test_src_path ("tests/fixtures/linux-root/power9-lpar");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) pf = NULL;
  g_autoptr (JsonObject) body = NULL;
  g_autofree char *archive = NULL, *type = NULL, *out = NULL, *err = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  EsaSysinfoInput in = { NULL, FALSE, root, NULL, NULL, NULL };
  const char *tar[] = { "tar", "tzf", NULL, NULL };

  g_setenv ("ESA_PLATFORM", "linux", TRUE);
  g_setenv ("ESA_SYSROOT", root, TRUE);
  g_unsetenv ("ESA_COMMAND_PATH");
  pf = esa_platform_detect (&error);
  g_assert_no_error (error);
  in.platform = pf;
  archive = esa_sysinfo_collect_config (&in, dir, &type, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (type, ==, "application/gzip");
  tar[2] = archive;
  g_assert_cmpint (esa_test_run (tar, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "configuration/os-release"));
  g_assert_nonnull (strstr (out, "configuration/cpuinfo"));
  g_assert_nonnull (strstr (out, "configuration/uname.txt"));
  /* this Debian host has dpkg */
  if (g_file_test ("/usr/bin/dpkg-query", G_FILE_TEST_IS_EXECUTABLE))
    g_assert_nonnull (strstr (out, "configuration/packages.txt"));
  /* the fake root has no meminfo: a warning, not a failure */
  g_assert_cmpuint (warnings->len, >=, 1);

  body = esa_sysinfo_collect_body (&in, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (body, "os"), ==, "Linux");
  g_assert_cmpstr (json_object_get_string_member (body, "manufacturer"), ==, "IBM");
  if (g_file_test ("/usr/bin/dpkg-query", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_assert_cmpstr (json_object_get_string_member (body, "package_source"), ==, "dpkg-query");
      g_assert_cmpint (json_object_get_int_member (body, "package_count"), >, 10);
    }
  g_unsetenv ("ESA_SYSROOT");
  g_unsetenv ("ESA_PLATFORM");
  esa_sysinfo_rmtree (dir);
}

/* Issue 10 item 10: invalid UTF-8 anywhere in dpkg/rpm output; the error
 * quotes the line, so it must be valid UTF-8 too. */
static void
test_packages_invalid_utf8 (void)
{
  const char *inputs[] = { "651-204\xff\x16\xff", "\xff\xfe\n\xc0\x80\n", "bash\xed\xa0\x80 5 x\n" };
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) list = esa_sysinfo_parse_rpm (inputs[i], warnings, &error);
      g_assert_null (list);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      for (guint k = 0; k < warnings->len; k++)
        g_assert_true (g_utf8_validate (g_ptr_array_index (warnings, k), -1, NULL));
    }
  {
    g_autoptr (GPtrArray) list = esa_sysinfo_parse_rpm ("bash\t5.1\xff\tx86_64\n\xf4\x90\x80\x80\n", NULL, NULL);
    g_assert_cmpuint (list->len, ==, 1);
    g_assert_true (g_utf8_validate (json_object_get_string_member (g_ptr_array_index (list, 0), "version"), -1, NULL));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sysinfo/dpkg", test_dpkg);
  g_test_add_func ("/sysinfo/dpkg-garbage", test_dpkg_garbage);
  g_test_add_func ("/sysinfo/rpm", test_rpm);
  g_test_add_func ("/sysinfo/aix-body", test_aix_body);
  g_test_add_func ("/sysinfo/aix-lslpp-malformed", test_aix_lslpp_malformed);
  g_test_add_func ("/sysinfo/aix-snap", test_aix_snap);
  g_test_add_func ("/sysinfo/linux-archive", test_linux_archive);
  g_test_add_func ("/sysinfo/packages-invalid-utf8", test_packages_invalid_utf8);
  return g_test_run ();
}
