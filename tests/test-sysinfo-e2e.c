/* test-sysinfo-e2e.c: the sysinfo plugin in a real esad against a real
 * esa-sdc over TLS on loopback — inventory with its snap attachment from a
 * stand-alone AIX system and an LPAR (fake commands), the Linux path with
 * dpkg, a damaged lslpp, and `inventory collect` without activation. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "esa-test-util.h"
#include "test-transport-util.h"

static EtWorld *
world_full (const char *const *env, gboolean activate, const char *extra)
{
  EtWorld *w = et_world_new (NULL);
  g_autofree char *text = NULL;
  et_install_plugin (w, "sysinfo");
  et_sdc_start (w, NULL);
  text = g_strdup_printf ("[agent]\nstate-dir=%s\nplugin-dir=%s/plugins\n"
                          "[plugins]\nenabled=heartbeat;sysinfo\n"
                          "[activation]\nvendors=*\ncontact-name=Ada Admin\ncontact-email=ada@example.com\n"
                          "[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\n%s",
                          w->state_dir, w->dir, w->port, w->sdc_dir, extra);
  esa_test_write_file (w->conf, text, 0644);
  et_esad_start (w, env);
  if (activate)
    et_activate (w);
  return w;
}

static EtWorld *
world (const char *const *env, gboolean activate)
{
  return world_full (env, activate, "");
}

/* Runs `esactl inventory send`, asserts it was delivered, and returns the
 * stored report (with its attachment uploaded). */
static JsonObject *
send_inventory (EtWorld *w)
{
  g_autofree char *out = NULL, *err = NULL;
  gint64 deadline;
  int rc = et_esactl (w, &out, &err, "inventory", "send", NULL);
  g_test_message ("inventory send: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, ": stored\n"));
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (JsonNode) all = et_sdc_reports (w);
      JsonArray *a = json_node_get_array (all);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonObject *r = json_array_get_object_element (a, i);
          JsonArray *atts = json_object_get_array_member (r, "attachments");
          if (g_strcmp0 (json_object_get_string_member (r, "kind"), "inventory") != 0)
            continue;
          if (atts != NULL && json_array_get_length (atts) > 0 &&
              !json_object_has_member (json_array_get_object_element (atts, 0), "path") &&
              g_get_monotonic_time () < deadline)
            break; /* not uploaded yet */
          return json_object_ref (r);
        }
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100 * 1000);
    }
}

static gboolean
has_package (JsonObject *body, const char *member, const char *name)
{
  JsonArray *a = json_object_get_array_member (body, "packages");
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (a, i), member), name) == 0)
      return TRUE;
  return FALSE;
}

static char *
attachment (EtWorld *w, JsonObject *report, const char *name)
{
  char *full;
  JsonArray *atts = json_object_get_array_member (report, "attachments");
  JsonObject *a;
  const char *path;
  g_assert_cmpuint (json_array_get_length (atts), ==, 1);
  a = json_array_get_object_element (atts, 0);
  g_assert_cmpstr (json_object_get_string_member (a, "name"), ==, name);
  path = json_object_get_string_member (a, "path");
  g_assert_nonnull (path);
  full = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (w->sdc_dir, path, NULL);
  g_assert_true (g_str_has_prefix (full, w->sdc_dir));
  g_assert_nonnull (strstr (full, "attachments/"));
  g_assert_true (g_file_test (full, G_FILE_TEST_IS_REGULAR));
  return full;
}

static void
check_aix (const char *machine, const char *type, const char *serial, gboolean lpar)
{
  g_autofree char *env_machine = g_strdup_printf ("ESA_FAKE_AIX_MACHINE=%s", machine);
  const char *env[] = { env_machine, NULL };
  g_autoptr (EtWorld) w = world (env, TRUE);
  g_autoptr (JsonObject) report = send_inventory (w);
  JsonObject *body = json_object_get_object_member (report, "body");
  g_autofree char *temp_snap = g_build_filename (w->state_dir, "temp", "snap", NULL);
  g_autofree char *path = NULL;
  g_autofree char *out = NULL, *err = NULL;
  const char *zcat[] = { "sh", "-c", NULL, NULL };
  g_autofree char *cmd = NULL;

  g_assert_cmpstr (json_object_get_string_member (report, "plugin"), ==, "sysinfo");
  g_assert_cmpstr (json_object_get_string_member (body, "agent_version"), ==, ESA_VERSION);
  g_assert_cmpstr (json_object_get_string_member (body, "os"), ==, "AIX");
  g_assert_cmpstr (json_object_get_string_member (body, "machine_type"), ==, type);
  g_assert_cmpstr (json_object_get_string_member (body, "serial"), ==, serial);
  g_assert_cmpstr (json_object_get_string_member (body, "manufacturer"), ==, "IBM");
  g_assert_nonnull (json_object_get_string_member (body, "firmware"));
  g_assert_nonnull (json_object_get_string_member (body, "model"));
  g_assert_nonnull (json_object_get_string_member (body, "system_id"));
  g_assert_nonnull (json_object_get_string_member (body, "hostname"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (body, "agent_package"), "bos.esagent 7."));
  g_assert_cmpint (json_object_get_boolean_member (body, "is_lpar"), ==, lpar);
  g_assert_true (has_package (body, "fileset", "bos.rte"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (body, "contact"), "name"), ==,
                   "Ada Admin");
  path = attachment (w, report, "snap.pax.Z");
  cmd = g_strdup_printf ("gzip -dc '%s' | tar tf -", path);
  zcat[2] = cmd;
  g_assert_cmpint (esa_test_run (zcat, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "general/general.snap"));
  /* the scratch snap directory is gone */
  g_assert_false (g_file_test (temp_snap, G_FILE_TEST_EXISTS));
}

static void
test_aix_standalone (void)
{
  check_aix ("p9-standalone", "9009", "78ABCDE", FALSE);
}

static void
test_aix_lpar (void)
{
  check_aix ("p10-lpar", "9105", "78A1B2C", TRUE);
}

static void
test_linux_dpkg (void)
{
  g_autofree char *root = esa_test_src_path ("tests/fixtures/linux-root/power9-lpar");
  g_autofree char *env_root = g_strdup_printf ("ESA_SYSROOT=%s", root);
  const char *env[] = { "ESA_PLATFORM=linux", env_root, NULL };
  g_autoptr (EtWorld) w = NULL;
  g_autoptr (JsonObject) report = NULL;
  JsonObject *body;

  if (!g_file_test ("/usr/bin/dpkg-query", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("no dpkg-query on this host");
      return;
    }
  w = world (env, TRUE);
  report = send_inventory (w);
  body = json_object_get_object_member (report, "body");
  g_assert_cmpstr (json_object_get_string_member (body, "os"), ==, "Linux");
  g_assert_cmpstr (json_object_get_string_member (body, "package_source"), ==, "dpkg-query");
  g_assert_true (has_package (body, "name", "dpkg"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (body, "configuration"), "attachment"),
                   ==, "configuration.tar.gz");
  g_free (attachment (w, report, "configuration.tar.gz"));
}

static void
test_lslpp_malformed (void)
{
  const char *env[] = { "ESA_FAKE_LSLPP_MALFORMED=1", NULL };
  g_autoptr (EtWorld) w = world (env, TRUE);
  g_autoptr (JsonObject) report = send_inventory (w);
  JsonObject *body = json_object_get_object_member (report, "body");
  JsonArray *warnings = json_object_get_array_member (body, "warnings");
  guint bad = 0;
  for (guint i = 0; i < json_array_get_length (warnings); i++)
    if (strstr (json_array_get_string_element (warnings, i), "lslpp -Lc: line") != NULL)
      bad++;
  g_assert_cmpuint (bad, ==, 3);
  g_assert_true (has_package (body, "fileset", "bos.rte"));
  g_assert_true (has_package (body, "fileset", "bos.esagent"));
}

/* What an HMC runs on a managed LPAR: no activation, nothing sent. */
static void
test_collect_not_activated (void)
{
  const char *env[] = { "ESA_FAKE_AIX_MACHINE=p10-lpar", NULL };
  g_autoptr (EtWorld) w = world_full (env, FALSE, "[plugin.sysinfo]\nsend-timeout=3s\n");
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *body;
  int rc = et_esactl (w, &out, &err, "inventory", "collect", "--stdout", NULL);
  g_assert_cmpint (rc, ==, 0);
  json_parser_load_from_data (p, out, -1, &error);
  g_assert_no_error (error);
  body = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpstr (json_object_get_string_member (body, "serial"), ==, "78A1B2C");
  g_assert_true (json_object_get_boolean_member (body, "is_lpar"));
  g_assert_cmpint (json_object_get_int_member (body, "package_count"), >, 5);

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "inventory", "collect", NULL);
  g_test_message ("inventory collect: %s", out);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "AIX 7.3 on IBM 9105-42A serial 78A1B2C"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "inventory", "collect", "--bogus", NULL);
  g_assert_cmpint (rc, !=, 0);

  /* sending without activation fails, and says so */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "inventory", "send", NULL);
  g_test_message ("inventory send (not activated): %s%s", out, err);
  g_assert_cmpint (rc, ==, 6);
  g_assert_nonnull (strstr (out, "not sent inventory"));
  g_assert_cmpuint (et_sdc_log_count (w, "path=/esa/v1/inventory", NULL), ==, 0);
}

/* The contact the admin set with esactl (kept in the state dir) is the one the
 * inventory carries from then on, not esa.conf's. */
static void
test_contact_from_state (void)
{
  const char *env[] = { "ESA_FAKE_AIX_MACHINE=p9-standalone", NULL };
  g_autoptr (EtWorld) w = world (env, TRUE);
  g_autoptr (JsonObject) report = NULL;
  g_autofree char *out = NULL, *err = NULL;
  JsonObject *contact;
  g_assert_cmpint (et_esactl (w, &out, &err, "contact", "set", "--name", "Grace Hopper", NULL), ==, 0);
  report = send_inventory (w);
  contact = json_object_get_object_member (json_object_get_object_member (report, "body"), "contact");
  g_assert_cmpstr (json_object_get_string_member (contact, "name"), ==, "Grace Hopper");
  g_assert_cmpstr (json_object_get_string_member (contact, "email"), ==, "ada@example.com");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/sysinfo-e2e/aix-standalone", test_aix_standalone);
  g_test_add_func ("/sysinfo-e2e/aix-lpar", test_aix_lpar);
  g_test_add_func ("/sysinfo-e2e/linux-dpkg", test_linux_dpkg);
  g_test_add_func ("/sysinfo-e2e/lslpp-malformed", test_lslpp_malformed);
  g_test_add_func ("/sysinfo-e2e/collect-not-activated", test_collect_not_activated);
  g_test_add_func ("/sysinfo-e2e/contact-from-state", test_contact_from_state);
  return g_test_run ();
}
