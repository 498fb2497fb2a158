/* test-plugin-admin.c: `esactl plugin info|enable|disable` (cli/
 * esactl-plugin-admin.c) — the config edit keeps every other line, the
 * comments, the mode and the owner, replaces the file atomically and refuses
 * to write a config that would not load; with esad running, enable asks it
 * to reload, list marks third-party plugins and info shows the jobs. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "esa-test-util.h"
#include "test-transport-util.h"

static const char conf_text[] = "# site config — keep this comment\n"
                                "[agent]\n"
                                "state-dir=%s/state\n"
                                "\n"
                                "[plugins]\n"
                                "# the collectors we run\n"
                                "enabled = heartbeat;diag\n"
                                "\n"
                                "[activation]\n"
                                "vendors=*   # not a comment in a key file, a value\n";

static int
esactl (const char *conf, char **out, char **err, const char *a1, const char *a2, const char *a3)
{
  g_autofree char *bin = esa_test_build_path ("cli/esactl");
  const char *argv[] = { bin, "-c", conf, a1, a2, a3, NULL };
  return esa_test_run (argv, out, err);
}

static void
test_edit (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-padmin");
  g_autofree char *conf = g_build_filename (dir, "esa.conf", NULL);
  g_autofree char *text = g_strdup_printf (conf_text, dir);
  g_autofree char *after = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *out = NULL, *err = NULL;
  GStatBuf before, now;

  esa_test_write_file (conf, text, 0640);
  g_assert_cmpint (g_stat (conf, &before), ==, 0);

  g_assert_cmpint (esactl (conf, &out, &err, "plugin", "enable", "acme"), ==, 0);
  g_assert_nonnull (strstr (out, "plugin acme enabled"));
  g_assert_true (g_file_get_contents (conf, &after, NULL, NULL));
  /* Only the enabled= line changed; the file was replaced (new inode) with
   * the same mode and owner. */
  expected = g_strdup_printf (conf_text, dir);
  {
    g_autoptr (GString) e = g_string_new (expected);
    g_string_replace (e, "enabled = heartbeat;diag", "enabled=heartbeat;diag;acme", 1);
    g_assert_cmpstr (after, ==, e->str);
  }
  g_assert_cmpint (g_stat (conf, &now), ==, 0);
  g_assert_cmpuint (now.st_mode & 07777, ==, 0640);
  g_assert_cmpuint (now.st_uid, ==, before.st_uid);
  g_assert_cmpuint (now.st_gid, ==, before.st_gid);
  g_assert_cmpuint (now.st_ino, !=, before.st_ino);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&after, g_free);

  g_assert_cmpint (esactl (conf, &out, &err, "plugin", "disable", "diag"), ==, 0);
  g_assert_true (g_file_get_contents (conf, &after, NULL, NULL));
  g_assert_nonnull (strstr (after, "\nenabled=heartbeat;acme\n"));
  g_assert_nonnull (strstr (after, "# the collectors we run\n"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Already so: nothing written. */
  g_assert_cmpint (g_stat (conf, &before), ==, 0);
  g_assert_cmpint (esactl (conf, &out, &err, "plugin", "disable", "diag"), ==, 0);
  g_assert_nonnull (strstr (out, "already disabled"));
  g_assert_cmpint (g_stat (conf, &now), ==, 0);
  g_assert_cmpuint (now.st_ino, ==, before.st_ino);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Not a plugin name: usage error, file untouched. */
  g_assert_cmpint (esactl (conf, &out, &err, "plugin", "enable", "../evil"), ==, 2);
  g_assert_nonnull (strstr (err, "is not a plugin name"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  esa_test_rmtree (dir);
}

/* No [plugins] group: enable adds one at the end. A config with an error
 * stays as it was, the error naming the admin's file. */
static void
test_edit_missing_and_broken (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-padmin");
  g_autofree char *conf = g_build_filename (dir, "esa.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[agent]\nstate-dir=%s/state\n", dir);
  g_autofree char *broken = g_strdup_printf ("[agent]\nstate-dir=%s/state\nlog-level=chatty\n", dir);
  g_autofree char *after = NULL;
  g_autofree char *out = NULL, *err = NULL;

  esa_test_write_file (conf, text, 0600);
  g_assert_cmpint (esactl (conf, &out, &err, "plugin", "enable", "acme"), ==, 0);
  g_assert_true (g_file_get_contents (conf, &after, NULL, NULL));
  {
    g_autofree char *want = g_strdup_printf ("%s\n[plugins]\nenabled=acme\n", text);
    g_assert_cmpstr (after, ==, want);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&after, g_free);

  esa_test_write_file (conf, broken, 0600);
  g_assert_cmpint (esactl (conf, &out, &err, "plugin", "enable", "acme"), ==, 3);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "not changed"));
  g_assert_nonnull (strstr (err, conf));
  g_assert_true (g_file_get_contents (conf, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, broken);
  esa_test_rmtree (dir);
}

static void
test_with_esad (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *log = NULL;
  int rc;

  {
    /* The test plugin "good", as a third party's module. */
    g_autofree char *so = esa_test_build_path ("tests/plugins/.libs/good.so");
    et_install_module (w, so, "good");
  }
  et_write_conf (w, NULL);
  et_esad_start (w, NULL);

  rc = et_esactl (w, &out, &err, "plugin", "list", NULL);
  g_test_message ("%s", out);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "good (third party)"));
  g_assert_null (strstr (out, "heartbeat (third party)"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = et_esactl (w, &out, &err, "plugin", "enable", "good", NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "restart esad to load the plugin"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* The reload came through the control API (the same path as SIGHUP). */
  g_assert_true (g_file_get_contents (w->esad_log, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "configuration reloaded from"));

  et_esad_stop (w);
  et_esad_start (w, NULL);
  rc = et_esactl (w, &out, &err, "notify", "--event", "good-event", "--source", "test", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  for (int i = 0; i < 100; i++)
    {
      rc = et_esactl (w, &out, &err, "plugin", "info", "good", NULL);
      g_assert_cmpint (rc, ==, 0);
      if (strstr (out, "good ran for good-event") != NULL)
        break;
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
      g_usleep (100 * 1000);
    }
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, "origin:      third party"));
  g_assert_nonnull (strstr (out, "/plugins/good.so"));
  g_assert_nonnull (strstr (out, "ABI:         2\n"));
  g_assert_nonnull (strstr (out, "version:     1.0"));
  g_assert_nonnull (strstr (out, "state:       loaded"));
  g_assert_nonnull (strstr (out, "on-event:good-event"));
  g_assert_nonnull (strstr (out, "good ran for good-event"));
  g_assert_null (strstr (out, "owner:       -"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = et_esactl (w, &out, &err, "plugin", "info", "nosuch", NULL);
  g_assert_cmpint (rc, ==, 1);
  g_assert_nonnull (strstr (err, "no plugin nosuch"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/plugin-admin/edit", test_edit);
  g_test_add_func ("/plugin-admin/edit-missing-and-broken", test_edit_missing_and_broken);
  g_test_add_func ("/plugin-admin/with-esad", test_with_esad);
  return g_test_run ();
}
