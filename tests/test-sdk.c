/* test-sdk.c: the plugin SDK as a third party uses it — libesa, the headers
 * and esa-plugin.pc installed to a temp prefix, docs/examples/
 * example-collector.c built out of the tree with `pkg-config esa-plugin`
 * (tests/sdk-build.sh, which also checks that an internal libesa function
 * does not link), then loaded by a real esad whose report reaches a real
 * esa-sdc over TLS on loopback. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "esa-test-util.h"
#include "test-transport-util.h"

/* The stored report holding @needle (the example's label). */
static JsonObject *
wait_report (EtWorld *w, const char *needle)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (JsonNode) all = et_sdc_reports (w);
      JsonArray *a = json_node_get_array (all);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *r = json_array_get_element (a, i);
          g_autofree char *text = json_to_string (r, FALSE);
          if (strstr (text, needle) != NULL)
            {
              g_test_message ("stored: %s", text);
              return json_object_ref (json_node_get_object (r));
            }
        }
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (200 * 1000);
    }
}

static void
test_sdk_example (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autofree char *work = g_build_filename (w->dir, "sdk", NULL);
  g_autofree char *script = esa_test_src_path ("tests/sdk-build.sh");
  g_autofree char *build = esa_test_build_path ("");
  g_autofree char *src = esa_test_src_path ("");
  g_autofree char *so = g_build_filename (work, "example.so", NULL);
  g_autofree char *libdir = NULL;
  g_autofree char *env_ld = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *sections = NULL;
  g_autoptr (JsonObject) report = NULL;
  int rc;

  g_assert_cmpint (g_mkdir (work, 0700), ==, 0);
  {
    const char *argv[] = { "/bin/sh", script, build, src, work, NULL };
    rc = esa_test_run (argv, &out, &err);
    g_test_message ("sdk-build.sh: %s%s", out, err);
    g_assert_cmpint (rc, ==, 0);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  et_install_module (w, so, "example");

  et_sdc_start (w, NULL);
  sections = g_strdup_printf ("[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\n"
                              "[plugin.example]\nlabel=rack 12\n"
                              "[job.example]\nschedule=on-event:example-now\n",
                              w->port, w->sdc_dir);
  et_write_conf (w, sections);
  /* The admin's way in: esactl edits [plugins] enabled= (esad not running). */
  rc = et_esactl (w, &out, &err, "plugin", "enable", "example", NULL);
  g_test_message ("plugin enable: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The plugin's libesa.so.0 is the one installed to the temp prefix
   * (its libdir depends on configure's --prefix/--libdir). */
  {
    g_autofree char *found = NULL;
    const char *argv[] = { "find", work, "-name", "libesa.so.0", NULL };
    g_assert_cmpint (esa_test_run (argv, &found, NULL), ==, 0);
    g_assert_nonnull (strstr (found, "libesa.so.0"));
    libdir = g_path_get_dirname (g_strstrip (found));
  }
  env_ld = g_strdup_printf ("LD_LIBRARY_PATH=%s", libdir);
  {
    const char *env[] = { env_ld, NULL };
    et_esad_start (w, env);
  }
  et_activate (w);

  rc = et_esactl (w, &out, &err, "plugin", "list", NULL);
  g_test_message ("plugin list: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "example (third party)"));
  g_assert_nonnull (strstr (out, "Example collector"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Its esactl command, served through esad. */
  rc = et_esactl (w, &out, &err, "example", "show", NULL);
  g_test_message ("example show: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "AIX"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = et_esactl (w, &out, &err, "notify", "--event", "example-now", "--source", "test", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* The job queued the report; send it now rather than wait for the sender. */
  for (int i = 0; i < 100; i++)
    {
      g_autoptr (JsonNode) q = et_queue_list (w);
      if (json_array_get_length (json_object_get_array_member (json_node_get_object (q), "queued")) > 0)
        break;
      g_usleep (100 * 1000);
    }
  et_esactl (w, &out, &err, "queue", "send", NULL);
  g_test_message ("queue send: %s%s", out, err);

  report = wait_report (w, "rack 12");
  g_assert_cmpstr (json_object_get_string_member (report, "kind"), ==, "inventory");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/sdk/example-out-of-tree", test_sdk_example);
  return g_test_run ();
}
