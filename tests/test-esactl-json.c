/* test-esactl-json.c: every esactl --json output has the one shape its JSON
 * Schema in docs/schemas/ documents (docs/json.md), checked by
 * tests/json-schema-check.py: heartbeat and inventory send agree, times are
 * ISO 8601 UTC, failed[] names each report once, errors are JSON too. */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"

#include <string.h>

/* Checks @text against docs/schemas/@schema; returns the checker's verdict
 * and its lines in @why. */
static gboolean
matches (const char *schema, const char *text, char **why)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-esactl-json");
  g_autofree char *doc = g_build_filename (dir, "doc.json", NULL);
  g_autofree char *checker = esa_test_src_path ("tests/json-schema-check.py");
  g_autofree char *rel = g_strdup_printf ("docs/schemas/%s", schema);
  g_autofree char *path = esa_test_src_path (rel);
  g_autofree char *out = NULL;
  const char *argv[] = { "python3", checker, path, doc, NULL };
  int rc;
  esa_test_write_file (doc, text, 0600);
  rc = esa_test_run (argv, &out, why);
  esa_test_rmtree (dir);
  if (why != NULL)
    {
      char *both = g_strconcat (out, *why, NULL);
      g_free (*why);
      *why = both;
    }
  return rc == 0;
}

static void
assert_matches (const char *schema, const char *text)
{
  g_autofree char *why = NULL;
  if (!matches (schema, text, &why))
    g_error ("%s does not match:\n%s\n%s", schema, why, text);
}

static void
assert_not_matches (const char *schema, const char *text, const char *expect)
{
  g_autofree char *why = NULL;
  g_assert_false (matches (schema, text, &why));
  g_test_message ("%s", why);
  g_assert_nonnull (strstr (why, expect));
}

/* Runs esactl --json ARGS, asserts the exit code and the schema. */
static void
check (EtWorld *w, int want_rc, const char *schema, ...) G_GNUC_NULL_TERMINATED;

static void
check (EtWorld *w, int want_rc, const char *schema, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL, *err = NULL;
  const char *arg;
  va_list ap;
  int rc;
  g_ptr_array_add (argv, et_bin ("cli/esactl"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup (w->conf));
  g_ptr_array_add (argv, g_strdup ("--json"));
  va_start (ap, schema);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  rc = esa_test_run ((const char *const *) argv->pdata, &out, &err);
  g_test_message ("esactl --json %s: %d\n%s%s", (char *) argv->pdata[4], rc, out, err);
  g_assert_cmpint (rc, ==, want_rc);
  assert_matches (schema, out);
}

/* The checker itself refuses what the issue saw: inventory send's
 * "delivered": true, a UUID twice in failed[], epoch seconds, a local time. */
static void
test_checker_refuses (void)
{
  const char *uuid = "0b6f2c7e-4c1e-4f5a-9d55-0a8e2b1c3d4e";
  g_autofree char *twice = g_strdup_printf (
      "{\"delivered\":[],\"failed\":[{\"uuid\":\"%s\",\"kind\":\"heartbeat\",\"reason\":\"x\",\"final\":false},"
      "{\"uuid\":\"%s\",\"kind\":\"heartbeat\",\"reason\":\"x\",\"final\":false}],\"pending\":1}", uuid, uuid);
  g_autofree char *old_inventory = g_strdup_printf ("{\"uuid\":\"%s\",\"delivered\":true,\"answer\":{}}", uuid);
  assert_not_matches ("send.json", old_inventory, "$.delivered: expected array");
  assert_not_matches ("send.json", twice, "listed twice");
  assert_not_matches ("queue-retry.json", "{\"requeued\":12}", "expected string");
  assert_not_matches ("status.json", "{\"started\":1764169271}", "$.started: expected string");
  assert_not_matches ("status.json", "{\"started\":\"2026-11-26T16:01:11+01:00\"}", "does not match");
  assert_not_matches ("error.json", "esad is not running", "not JSON");
  assert_matches ("error.json", "{\"error\":{\"code\":\"usage\",\"message\":\"m\",\"exit\":2}}");
}

static void
test_shapes (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autofree char *text = NULL, *server = NULL, *export = NULL;
  et_install_plugin (w, "sysinfo");
  et_sdc_start (w, NULL);
  text = g_strdup_printf ("[agent]\nstate-dir=%s\nplugin-dir=%s/plugins\n"
                          "[plugins]\nenabled=heartbeat;sysinfo\n"
                          "[activation]\nvendors=*\ncontact-name=Ada Admin\ncontact-email=ada@example.com\n"
                          "[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\ntimeout=10s\n"
                          "[plugin.sysinfo]\nsend-timeout=5s\n",
                          w->state_dir, w->dir, w->port, w->sdc_dir);
  esa_test_write_file (w->conf, text, 0644);
  server = g_strdup_printf ("https://localhost:%u/", w->port);
  export = g_build_filename (w->dir, "export", NULL);

  check (w, 4, "error.json", "status", NULL);      /* esad not running yet */
  check (w, 2, "error.json", "queue", NULL);
  et_esad_start (w, NULL);
  check (w, 0, "status.json", "status", NULL);
  check (w, 0, "info.json", "info", NULL);
  check (w, 0, "plugin-list.json", "plugin", "list", NULL);
  check (w, 0, "activate.json", "activate", "--server", server, NULL);
  check (w, 0, "test.json", "test", NULL);
  check (w, 0, "preview.json", "preview", "heartbeat", NULL);
  check (w, 0, "preview.json", "preview", "inventory", NULL);
  check (w, 2, "error.json", "preview", "snap", NULL);
  check (w, 1, "error.json", "preview", "uak-status", NULL); /* no uak plugin here: no job named uak */
  check (w, 0, "send.json", "heartbeat", NULL);
  check (w, 0, "send.json", "inventory", "send", NULL);
  check (w, 0, "send.json", "queue", "send", NULL);
  /* the SDC goes away: failures, a queue with entries */
  et_sdc_stop (w);
  check (w, 6, "send.json", "heartbeat", NULL);
  check (w, 6, "send.json", "inventory", "send", NULL);
  check (w, 0, "queue-list.json", "queue", "list", NULL);
  check (w, 0, "status.json", "status", NULL);
  check (w, 6, "test.json", "test", NULL);
  check (w, 0, "queue-export.json", "queue", "export", export, "--keep", NULL);
  check (w, 2, "error.json", "queue", "retry", NULL);
  check (w, 1, "error.json", "queue", "retry", "0b6f2c7e-4c1e-4f5a-9d55-0a8e2b1c3d4e", NULL);
  check (w, 0, "info.json", "info", NULL);
  check (w, 0, "history.json", "history", NULL);
  check (w, 0, "history.json", "history", "--kind", "heartbeat", NULL);
  /* the SDC is down: deactivate says so (exit 6, credentials kept), --local forgets them here */
  check (w, 6, "error.json", "deactivate", NULL);
  check (w, 0, "deactivate.json", "deactivate", "--local", NULL);
  check (w, 2, "error.json", "frobnicate", NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  if (!g_find_program_in_path ("python3"))
    {
      g_test_skip ("python3 is needed for the schema checker");
      return g_test_run ();
    }
  g_test_add_func ("/esactl-json/checker-refuses", test_checker_refuses);
  g_test_add_func ("/esactl-json/shapes", test_shapes);
  return g_test_run ();
}
