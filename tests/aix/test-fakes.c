/* test-fakes.c: the fake AIX commands themselves (UAK state, snap archive). */
#include "config.h"

#include "uak-lparstat.h"
#include "uak-lscfg.h"
#include "aix-test-util.h"
#include "esa/esa-error.h"

#include <string.h>

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
  aix_test_init (&argc, &argv);
  g_test_add_func ("/aix-fake/uak", test_fake_uak);
  g_test_add_func ("/aix-fake/snap", test_fake_snap);
  return g_test_run ();
}
