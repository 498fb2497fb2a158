/* test-hooks.c: the test suite's hooks exist only in a build configured with
 * --enable-test-hooks. In such a build ESA_COMMAND_PATH finds a fake command
 * and passes ESA_FAKE_* on; in any other build (what gets installed: esad
 * runs as root) both are ignored and esa-sdc has no --weak-sha1. This test
 * runs in both builds (tests/run-test skips the rest of the suite in a build
 * without hooks); scripts/check builds both. The simulated machine
 * (ESA_PLATFORM, ESA_SYSROOT) and esa-sdc's other FOR TESTS options are
 * hooks too. */
#include "config.h"

#include "esa-test-util.h"
#include "esa/esa-error.h"
#include "esa/esa-platform.h"
#include "esa/esa-subprocess.h"

#include <string.h>

static void
test_command_path (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-hooks");
  g_autofree char *fake = g_build_filename (dir, "esa-hook-probe", NULL);
  const char *argv[] = { "esa-hook-probe", NULL };
  EsaSubprocessOptions opts = { .timeout_ms = 10000, .max_output = 4096 };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;

  esa_test_write_file (fake, "#!/bin/sh\necho \"faked ${ESA_FAKE_PROBE:-none}\"\n", 0755);
  g_setenv ("ESA_COMMAND_PATH", dir, TRUE);
  g_setenv ("ESA_FAKE_PROBE", "passed-on", TRUE);
  out = esa_subprocess_run (argv, &opts, NULL, NULL, NULL, &error);
#ifdef ESA_ENABLE_TEST_HOOKS
  g_test_message ("built with --enable-test-hooks: ESA_COMMAND_PATH must be honoured");
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "faked passed-on\n");
#else
  g_test_message ("built without --enable-test-hooks: ESA_COMMAND_PATH must be ignored");
  g_assert_null (out);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_assert_null (strstr (error->message, dir));
#endif
  g_unsetenv ("ESA_COMMAND_PATH");
  g_unsetenv ("ESA_FAKE_PROBE");
  esa_test_rmtree (dir);
}

static void
test_weak_sha1 (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-hooks");
  g_autofree char *sdc_dir = g_build_filename (dir, "sdc", NULL);
  g_autofree char *sdc = esa_test_build_path ("sdc/esa-sdc");
  const char *argv[] = { sdc, "init", sdc_dir, "--weak-sha1", NULL };
  g_autofree char *out = NULL, *err = NULL;
  int rc = esa_test_run (argv, &out, &err);
#ifdef ESA_ENABLE_TEST_HOOKS
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (err, "deliberately weak"));
#else
  g_assert_cmpint (rc, !=, 0);
  g_assert_nonnull (strstr (err, "weak-sha1"));
  g_assert_false (g_file_test (sdc_dir, G_FILE_TEST_EXISTS));
#endif
  esa_test_rmtree (dir);
}

/* The simulated machine (ESA_PLATFORM, ESA_SYSROOT) is a test hook too: an
 * installed esad reads the machine it runs on, whatever its environment says. */
static void
test_platform (void)
{
  g_autoptr (GError) error = NULL;
  EsaPlatform *pf;

  g_setenv ("ESA_PLATFORM", "bogus", TRUE);
  pf = esa_platform_detect (&error);
#ifdef ESA_ENABLE_TEST_HOOKS
  g_assert_null (pf);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
#else
  g_assert_no_error (error);
  g_assert_cmpstr (pf->os, ==, "Linux");
  esa_platform_free (pf);
#endif
  g_unsetenv ("ESA_PLATFORM");

  g_setenv ("ESA_SYSROOT", "/nonexistent-esa-sysroot", TRUE);
  pf = esa_platform_detect (&error);
#ifdef ESA_ENABLE_TEST_HOOKS
  g_assert_null (pf);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
#else
  g_assert_no_error (error);
  g_assert_cmpstr (pf->sysroot, ==, "/");
  esa_platform_free (pf);
#endif
  g_unsetenv ("ESA_SYSROOT");
}

/* esa-sdc's misbehaving-server options exist only for the agent's tests. */
static void
test_sdc_test_options (void)
{
  g_autofree char *sdc = esa_test_build_path ("sdc/esa-sdc");
  const char *init_argv[] = { sdc, "init", "--help", NULL };
  const char *serve_argv[] = { sdc, "serve", "--help", NULL };
  const char *options[] = { "--self-signed", "--tls-max-version", "--uak-bad-signature", "--uak-older" };
  g_autofree char *init_out = NULL, *serve_out = NULL;
  g_autofree char *err1 = NULL, *err2 = NULL;
  g_autofree char *help = NULL;

  g_assert_cmpint (esa_test_run (init_argv, &init_out, &err1), ==, 0);
  g_assert_cmpint (esa_test_run (serve_argv, &serve_out, &err2), ==, 0);
  help = g_strconcat (init_out, serve_out, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (options); i++)
    {
#ifdef ESA_ENABLE_TEST_HOOKS
      g_assert_nonnull (strstr (help, options[i]));
#else
      g_assert_null (strstr (help, options[i]));
#endif
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hooks/command-path", test_command_path);
  g_test_add_func ("/hooks/weak-sha1", test_weak_sha1);
  g_test_add_func ("/hooks/platform", test_platform);
  g_test_add_func ("/hooks/sdc-test-options", test_sdc_test_options);
  return g_test_run ();
}
