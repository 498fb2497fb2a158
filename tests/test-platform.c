/* test-platform.c: platform detection, AIX through the fake commands of
 * tests/fixtures/aix-bin/, Linux through the fake trees of
 * tests/fixtures/linux-root/ (ESA_SYSROOT). */
#include "config.h"

#include "esa-test-util.h"
#include "esa/esa-error.h"
#include "esa/esa-platform.h"

#include <string.h>

static gboolean
warned (const EsaPlatform *p, const char *needle)
{
  for (guint i = 0; i < p->warnings->len; i++)
    if (strstr (g_ptr_array_index (p->warnings, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

static void
dump_warnings (const EsaPlatform *p)
{
  for (guint i = 0; i < p->warnings->len; i++)
    g_test_message ("warning: %s", (const char *) g_ptr_array_index (p->warnings, i));
}

static EsaPlatform *
detect_aix (const char *machine)
{
  g_autofree char *bin = esa_test_src_path ("tests/fixtures/aix-bin");
  g_autoptr (GError) error = NULL;
  EsaPlatform *p;

  g_setenv ("ESA_PLATFORM", "aix", TRUE);
  g_setenv ("ESA_COMMAND_PATH", bin, TRUE);
  g_setenv ("ESA_FAKE_AIX_MACHINE", machine, TRUE);
  p = esa_platform_detect (&error);
  g_assert_no_error (error);
  dump_warnings (p);
  return p;
}

static void
test_platform_aix_p9 (void)
{
  g_autoptr (EsaPlatform) p = detect_aix ("p9-standalone");
  g_assert_cmpstr (p->os, ==, "AIX");
  g_assert_cmpstr (p->os_version, ==, "7.3");
  g_assert_cmpstr (p->hostname, ==, "aixp9");
  g_assert_cmpstr (p->vendor, ==, "IBM");
  g_assert_cmpstr (p->machine_type, ==, "9009");
  g_assert_cmpstr (p->model, ==, "42A");
  g_assert_cmpstr (p->serial, ==, "78ABCDE");
  g_assert_cmpstr (p->firmware, ==, "VL940_027");
  g_assert_cmpstr (p->system_id, ==, "IBM,0278ABCDE");
  g_assert_cmpstr (p->processor, ==, "PowerPC_POWER9");
  g_assert_false (p->is_lpar);
  g_assert_cmpint (p->lpar_id, ==, -1);
  g_assert_null (p->lpar_name);
  g_assert_cmpstr (p->os_uuid, ==, "1b7f3c52-4d1e-4a0b-9a61-00F812344C00");
  g_assert_cmpuint (p->warnings->len, ==, 0);
}

static void
test_platform_aix_p10_lpar (void)
{
  g_autoptr (EsaPlatform) p = detect_aix ("p10-lpar");
  g_assert_cmpstr (p->hostname, ==, "lpar05");
  g_assert_cmpstr (p->vendor, ==, "IBM");
  g_assert_cmpstr (p->machine_type, ==, "9105");
  g_assert_cmpstr (p->model, ==, "42A");
  g_assert_cmpstr (p->serial, ==, "78A1B2C");
  g_assert_cmpstr (p->firmware, ==, "ML1050_052");
  g_assert_cmpstr (p->processor, ==, "PowerPC_POWER10");
  g_assert_true (p->is_lpar);
  g_assert_cmpint (p->lpar_id, ==, 5);
  g_assert_cmpstr (p->lpar_name, ==, "lpar05");
  g_assert_cmpstr (p->os_uuid, ==, "1b7f3c52-4d1e-4a0b-9a61-00C9A1B24C00");
  g_assert_cmpuint (p->warnings->len, ==, 0);
}

static void
test_platform_aix_bull (void)
{
  g_autoptr (EsaPlatform) p = detect_aix ("bull");
  /* the activation check refuses this vendor; the platform only reports it */
  g_assert_cmpstr (p->vendor, ==, "BULL");
  g_assert_cmpstr (p->machine_type, ==, "9009");
  g_assert_cmpstr (p->model, ==, "22A");
  g_assert_cmpstr (p->system_id, ==, "BULL,45B2C1D07");
  g_assert_cmpstr (p->serial, ==, "B2C1D07");
}

static void
test_platform_aix_p8_old (void)
{
  g_autoptr (EsaPlatform) p = detect_aix ("p8-old");
  g_assert_cmpstr (p->os_version, ==, "7.2");
  g_assert_cmpstr (p->machine_type, ==, "8286");
  /* prtconf says Not Available: the serial comes from the system id */
  g_assert_cmpstr (p->serial, ==, "21ABCDE");
  g_assert_cmpstr (p->firmware, ==, "SV860_205");
  g_assert_true (warned (p, "Machine Serial Number: Not Available"));
}

/* A command directory where some commands are broken: the rest still answers. */
static void
test_platform_aix_partial (void)
{
  g_autofree char *fixtures = esa_test_src_path ("tests/fixtures/aix-bin");
  g_autofree char *dir = esa_test_mkdtemp ("esa-partial-aix");
  const char *links[] = { "_fake-aix.sh", "uname", "hostname", "lsmcode" };
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) p = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_autofree char *src = g_build_filename (fixtures, links[i], NULL);
      g_autofree char *dst = g_build_filename (dir, links[i], NULL);
      g_assert_cmpint (symlink (src, dst), ==, 0);
    }
  {
    g_autofree char *lsattr = g_build_filename (dir, "lsattr", NULL);
    g_autofree char *prtconf = g_build_filename (dir, "prtconf", NULL);
    esa_test_write_file (lsattr, "#!/bin/sh\necho '<<< ODM is locked >>>'\n", 0755);
    esa_test_write_file (prtconf, "#!/bin/sh\necho 'prtconf: 0706-001 Cannot open /dev/nvram' >&2\nexit 2\n",
                         0755);
  }
  g_setenv ("ESA_PLATFORM", "aix", TRUE);
  g_setenv ("ESA_COMMAND_PATH", dir, TRUE);
  g_setenv ("ESA_FAKE_AIX_MACHINE", "p10-lpar", TRUE);
  p = esa_platform_detect (&error);
  g_assert_no_error (error);
  dump_warnings (p);
  g_assert_cmpstr (p->vendor, ==, "IBM");
  g_assert_cmpstr (p->machine_type, ==, "9105");
  g_assert_cmpstr (p->system_id, ==, "IBM,0278A1B2C");
  g_assert_cmpstr (p->serial, ==, "78A1B2C");
  g_assert_cmpstr (p->firmware, ==, "ML1050_052");
  g_assert_null (p->processor);
  g_assert_true (p->is_lpar);
  g_assert_true (warned (p, "prtconf: exited with status 2: prtconf: 0706-001 Cannot open /dev/nvram"));
  g_assert_true (warned (p, "lsattr: line 1: \"<<< ODM is locked >>>\""));
  esa_test_rmtree (dir);
}

static void
test_platform_aix_nothing (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-broken-aix");
  const char *cmds[] = { "uname", "hostname", "lsattr", "prtconf", "lsmcode" };
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) p = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cmds); i++)
    {
      g_autofree char *path = g_build_filename (dir, cmds[i], NULL);
      esa_test_write_file (path, "#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n", 0755);
    }
  g_setenv ("ESA_PLATFORM", "aix", TRUE);
  g_setenv ("ESA_COMMAND_PATH", dir, TRUE);
  p = esa_platform_detect (&error);
  g_assert_null (p);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "cannot read the AIX platform: uname: exited with status 139"));
  esa_test_rmtree (dir);
}

static EsaPlatform *
detect_linux (const char *tree, const char *virt, GError **error)
{
  g_autofree char *root = g_build_filename (g_getenv ("ESA_TOP_SRCDIR"), "tests/fixtures/linux-root", tree, NULL);
  g_autofree char *bin = esa_test_mkdtemp ("esa-linux-bin");
  g_autofree char *script = g_build_filename (bin, "systemd-detect-virt", NULL);
  EsaPlatform *p;

  /* systemd-detect-virt --vm, faked: prints ESA_FAKE_VIRT, fails on "none" */
  esa_test_write_file (script,
                       "#!/bin/sh\n[ \"$1\" = --vm ] || exit 9\necho \"${ESA_FAKE_VIRT:-none}\"\n"
                       "[ \"${ESA_FAKE_VIRT:-none}\" != none ]\n",
                       0755);
  g_setenv ("ESA_PLATFORM", "linux", TRUE);
  g_setenv ("ESA_SYSROOT", root, TRUE);
  g_setenv ("ESA_COMMAND_PATH", bin, TRUE);
  g_setenv ("ESA_FAKE_VIRT", virt, TRUE);
  p = esa_platform_detect (error);
  if (p != NULL)
    dump_warnings (p);
  g_unsetenv ("ESA_SYSROOT");
  esa_test_rmtree (bin);
  return p;
}

static void
test_platform_linux_power (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) p = detect_linux ("power9-lpar", "powervm", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->os, ==, "Linux");
  g_assert_cmpstr (p->os_version, ==, "6.1.0-28-powerpc64le (Debian GNU/Linux 12 (bookworm))");
  g_assert_cmpstr (p->hostname, ==, "lnxlpar3");
  g_assert_cmpstr (p->vendor, ==, "IBM");
  g_assert_cmpstr (p->machine_type, ==, "9009");
  g_assert_cmpstr (p->model, ==, "42A");
  g_assert_cmpstr (p->serial, ==, "78ABCDE");
  g_assert_cmpstr (p->system_id, ==, "IBM,0278ABCDE");
  g_assert_cmpstr (p->firmware, ==, "FW940.50 (VL940_120)");
  g_assert_cmpstr (p->processor, ==, "POWER9 (architected), altivec supported");
  g_assert_true (p->is_lpar);
  g_assert_cmpint (p->lpar_id, ==, 3);
  g_assert_cmpstr (p->lpar_name, ==, "lnxlpar3");
  g_assert_cmpstr (p->os_uuid, ==, "5f1e2d3c4b5a69788796a5b4c3d2e1f0");
  g_assert_cmpuint (p->warnings->len, ==, 0);
}

static void
test_platform_linux_kvm (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) p = detect_linux ("x86-kvm", "kvm", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->os_version, ==, "6.1.0-28-amd64 (Red Hat Enterprise Linux 9.4 (Plow))");
  g_assert_cmpstr (p->hostname, ==, "kvmguest");
  g_assert_cmpstr (p->vendor, ==, "QEMU");
  /* no type in the firmware: the architecture stands in, and says so */
  g_assert_nonnull (p->machine_type);
  g_assert_true (warned (p, "machine type: not in the firmware"));
  g_assert_cmpstr (p->model, ==, "Standard PC (Q35 + ICH9, 2009)");
  g_assert_null (p->serial);
  g_assert_cmpstr (p->system_id, ==, "4c4c4544-0042-3510-8052-b2c04f4e3432");
  g_assert_cmpstr (p->firmware, ==, "1.16.2-debian-1.16.2-1");
  g_assert_cmpstr (p->processor, ==, "Intel Xeon Processor (Icelake)");
  /* a virtual machine has no hardware of its own */
  g_assert_true (p->is_lpar);
  g_assert_cmpint (p->lpar_id, ==, -1);
  g_assert_true (warned (p, "placeholder \"Not Specified\""));
  g_assert_true (warned (p, "serial: not found"));
}

static void
test_platform_linux_metal (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) p = detect_linux ("lenovo-server", "none", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->os_version, ==, "5.14.0-427.el9.x86_64 (SUSE Linux Enterprise Server 15 SP5)");
  g_assert_cmpstr (p->vendor, ==, "Lenovo");
  g_assert_cmpstr (p->machine_type, ==, "7X06");
  g_assert_cmpstr (p->model, ==, "CTO1WW");
  g_assert_cmpstr (p->serial, ==, "J30A1B2C");
  g_assert_false (p->is_lpar);
  g_assert_cmpuint (p->warnings->len, ==, 0);
}

static void
test_platform_linux_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) p = detect_linux ("empty", "none", &error);
  g_autoptr (EsaPlatform) p2 = NULL;
  g_assert_null (p);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_clear_error (&error);
  p2 = detect_linux ("no-such-tree", "none", &error);
  g_assert_null (p2);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "no-such-tree: no such directory"));
}

static void
test_platform_linux_host (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) p = NULL;

  g_unsetenv ("ESA_PLATFORM");
  g_unsetenv ("ESA_SYSROOT");
  g_unsetenv ("ESA_COMMAND_PATH");
  p = esa_platform_detect (&error);
  g_assert_no_error (error);
  dump_warnings (p);
  g_assert_cmpstr (p->os, ==, "Linux");
  g_assert_nonnull (p->hostname);
  g_assert_nonnull (p->os_version);
}

static void
test_platform_bad_env (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaPlatform) p = NULL;
  g_setenv ("ESA_PLATFORM", "hpux", TRUE);
  p = esa_platform_detect (&error);
  g_assert_null (p);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_assert_cmpstr (error->message, ==, "ESA_PLATFORM=hpux: unknown platform (expected aix or linux)");
}

static void
test_platform_json (void)
{
  const char *keys[] = { "os", "os_version", "hostname", "vendor", "machine_type", "model", "serial",
                         "firmware", "system_id", "processor", "is_lpar", "lpar_id", "lpar_name",
                         "os_uuid", "warnings" };
  g_autoptr (EsaPlatform) p = detect_aix ("p10-lpar");
  g_autoptr (EsaPlatform) p8 = detect_aix ("p9-standalone");
  g_autoptr (JsonObject) obj = esa_platform_to_json (p);
  g_autoptr (JsonObject) obj9 = esa_platform_to_json (p8);

  g_assert_cmpuint (json_object_get_size (obj), ==, G_N_ELEMENTS (keys));
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_assert_true (json_object_has_member (obj, keys[i]));
  g_assert_cmpstr (json_object_get_string_member (obj, "vendor"), ==, "IBM");
  g_assert_cmpstr (json_object_get_string_member (obj, "machine_type"), ==, "9105");
  g_assert_true (json_object_get_boolean_member (obj, "is_lpar"));
  g_assert_cmpint (json_object_get_int_member (obj, "lpar_id"), ==, 5);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj, "warnings")), ==, 0);
  /* absent values are null, never missing keys */
  g_assert_true (json_object_get_null_member (obj9, "lpar_name"));
  g_assert_cmpint (json_object_get_int_member (obj9, "lpar_id"), ==, -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("ESA_FAKE_UAK_FILE");
  g_test_add_func ("/platform/aix/p9-standalone", test_platform_aix_p9);
  g_test_add_func ("/platform/aix/p10-lpar", test_platform_aix_p10_lpar);
  g_test_add_func ("/platform/aix/bull", test_platform_aix_bull);
  g_test_add_func ("/platform/aix/p8-old", test_platform_aix_p8_old);
  g_test_add_func ("/platform/aix/partial", test_platform_aix_partial);
  g_test_add_func ("/platform/aix/nothing", test_platform_aix_nothing);
  g_test_add_func ("/platform/linux/power", test_platform_linux_power);
  g_test_add_func ("/platform/linux/kvm", test_platform_linux_kvm);
  g_test_add_func ("/platform/linux/metal", test_platform_linux_metal);
  g_test_add_func ("/platform/linux/empty", test_platform_linux_empty);
  g_test_add_func ("/platform/linux/host", test_platform_linux_host);
  g_test_add_func ("/platform/bad-env", test_platform_bad_env);
  g_test_add_func ("/platform/json", test_platform_json);
  return g_test_run ();
}
