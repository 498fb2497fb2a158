/* test-config.c: esa.conf loading — a valid file, every kind of invalid
 * value (each error names file:line, [group] key, the value and what was
 * expected), unknown groups and keys as warnings, and `esactl config check`. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "esa-config-private.h"
#include "esa-test-util.h"
#include "esa/esa-error.h"

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", "config", name, NULL);
}

static void
test_config_valid (void)
{
  g_autofree char *path = fixture ("valid.conf");
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *ca = g_canonicalize_filename ("ca.pem", dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load (path, &error);
  g_autofree char *sched = NULL;
  g_autofree char *fallback = NULL;
  g_autofree char *where = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (config);
  g_assert_cmpuint (config->warnings->len, ==, 0);
  g_assert_cmpstr (config->path, ==, path);
  g_assert_cmpstr (config->state_dir, ==, "/var/lib/esa-test");
  g_assert_cmpstr (config->socket_path, ==, "/run/esa-test/esad.sock");
  g_assert_cmpstr (config->plugin_dir, ==, "/usr/lib/openesa/plugins");
  g_assert_cmpstr (config->pid_file, ==, "/run/esa-test/esad.pid");
  g_assert_cmpstr (config->log_level, ==, "info");
  g_assert_cmpstr (config->control_group, ==, "esa");
  g_assert_cmpuint (g_strv_length (config->enabled_plugins), ==, 5);
  g_assert_true (esa_config_plugin_enabled (config, "uak"));
  g_assert_false (esa_config_plugin_enabled (config, "nosuch"));
  g_assert_cmpuint (g_strv_length (config->servers), ==, 2);
  g_assert_cmpstr (config->servers[0], ==, "https://sdc1.example.com:443/");
  g_assert_cmpstr (config->servers[1], ==, "https://sdc2.example.com/");
  g_assert_cmpstr (config->config_url, ==, "http://sdc1.example.com/esa/v1/config");
  /* Relative paths are relative to the config file's folder. */
  g_assert_cmpstr (config->ca_file, ==, ca);
  g_assert_cmpuint (config->timeout_s, ==, 90);
  g_assert_false (config->direct);
  /* [proxy.2] is not configured: proxy.3 becomes the second one tried. */
  g_assert_cmpuint (config->n_proxies, ==, 2);
  g_assert_cmpstr (config->proxies[0].url, ==, "http://proxy.example.com:3128");
  g_assert_cmpstr (config->proxies[0].user, ==, "alice");
  g_assert_cmpstr (config->proxies[0].password_file, ==, "/etc/esa/proxy1.pass");
  g_assert_cmpstr (config->proxies[1].url, ==, "http://[::1]:8080");
  g_assert_null (config->proxies[1].user);
  g_assert_null (config->proxies[1].password_file);
  g_assert_cmpuint (g_strv_length (config->vendors), ==, 2);
  g_assert_cmpstr (config->contact_name, ==, "Ada Admin");
  g_assert_cmpstr (config->contact_phone, ==, "+1 555 0100");
  g_assert_cmpuint (config->backoff_min_s, ==, 30);
  g_assert_cmpuint (config->backoff_max_s, ==, 7200);
  g_assert_cmpstr (config->transport, ==, "https");
  g_assert_null (config->outbox);

  sched = esa_config_get_job_schedule (config, "heartbeat", "daily 02:15");
  g_assert_cmpstr (sched, ==, "every 6h");
  fallback = esa_config_get_job_schedule (config, "diag", "on-event");
  g_assert_cmpstr (fallback, ==, "on-event");
  g_assert_cmpuint (esa_config_get_job_splay (config, "heartbeat", 0), ==, 900);
  g_assert_cmpuint (esa_config_get_job_splay (config, "diag", 0), ==, 0);
  g_assert_cmpuint (esa_config_get_job_splay (config, "diag", 7200), ==, 7200);
  g_assert_true (esa_config_get_job_enabled (config, "heartbeat"));
  g_assert_false (esa_config_get_job_enabled (config, "sysinfo"));
  g_assert_true (esa_config_get_job_enabled (config, "diag"));

  where = esa_config_describe_key (config, "sdc", "timeout");
  {
    g_autofree char *want = g_strdup_printf ("%s:17: [sdc] timeout", path);
    g_assert_cmpstr (where, ==, want);
  }
}

static void
test_config_defaults (void)
{
  g_autoptr (EsaConfig) config = esa_config_new_default ();
  g_assert_null (config->path);
  g_assert_true (g_str_has_suffix (config->state_dir, "/esa"));
  g_assert_true (g_str_has_prefix (config->socket_path, config->state_dir));
  g_assert_cmpstr (config->log_level, ==, "message");
  g_assert_true (esa_config_plugin_enabled (config, "heartbeat"));
  g_assert_cmpuint (g_strv_length (config->servers), ==, 0);
  g_assert_cmpuint (config->n_proxies, ==, 0);
  /* No proxy configured: the only route is direct. */
  g_assert_true (config->direct);
  g_assert_cmpuint (config->timeout_s, ==, 60);
  g_assert_cmpstr (config->transport, ==, "https");
  g_assert_cmpuint (config->warnings->len, ==, 0);
}

static void
test_config_empty_file (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-config");
  g_autofree char *path = g_build_filename (dir, "empty.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = NULL;
  esa_test_write_file (path, "", 0644);
  config = esa_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->log_level, ==, "message");
  esa_test_rmtree (dir);
}

/* One invalid file: the line the error must point at, the "[group] key"
 * (or "[group]"), the offending value (NULL: none quoted) and a piece of
 * the "expected" part. */
typedef struct {
  const char *file;
  guint line;
  const char *where;
  const char *value;
  const char *expected;
} BadCase;

static const BadCase bad_cases[] = {
  { "bad-path.conf", 2, "[agent] state-dir", "var/esa", "not an absolute path (expected /" },
  { "bad-scheme.conf", 3, "[proxy.1] url", "htp://proxy.example.com:3128",
    "unsupported scheme htp (expected http://host:port)" },
  { "http-upload.conf", 2, "[sdc] servers", "http://sdc2.example.com/",
    "never uploaded over plain HTTP (expected https://" },
  { "bad-duration.conf", 5, "[sdc] timeout", "5 parsecs", "(expected s, m, h or d)" },
  { "bad-schedule.conf", 3, "[job.heartbeat] schedule", "daily 25:00", "hour 25 out of range" },
  { "bad-bool.conf", 2, "[sdc] direct", "yes", "not a boolean (expected true or false)" },
  { "proxy4.conf", 4, "[proxy.4]", NULL, "at most three proxies (expected [proxy.1], [proxy.2] or [proxy.3])" },
  { "user-no-password.conf", 3, "[proxy.2] user", "alice", "password-file=" },
  { "bad-log-level.conf", 2, "[agent] log-level", "verbose",
    "unknown level (expected error, warning, message, info or debug)" },
  { "bad-config-url.conf", 2, "[sdc] config-url", "ftp://sdc.example.com/config",
    "unsupported scheme ftp (expected http:// or https:// URL)" },
  { "file-no-outbox.conf", 1, "[transport] outbox", "", "file transport needs an absolute outbox" },
  { "backoff-order.conf", 2, "[queue] backoff-min", "2h", "not above backoff-max" },
  { "bad-group-name.conf", 2, "[agent] control-group", "Wheel", "bad character 'W' (expected [a-z0-9_-]+)" },
  { "bad-transport.conf", 2, "[transport] type", "carrier-pigeon", "expected https or file" },
  { "bad-plugin-name.conf", 2, "[plugins] enabled", "../evil", "bad character '.'" },
};

static void
test_config_invalid (gconstpointer user_data)
{
  const BadCase *bc = user_data;
  g_autofree char *path = fixture (bc->file);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load (path, &error);
  g_autofree char *prefix = NULL;

  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_test_message ("%s", error->message);
  prefix = g_strdup_printf ("%s:%u: %s", path, bc->line, bc->where);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  if (bc->value != NULL)
    {
      g_autofree char *quoted = g_strdup_printf ("%s: \"%s\": ", prefix, bc->value);
      g_assert_true (g_str_has_prefix (error->message, quoted));
    }
  g_assert_nonnull (strstr (error->message, bc->expected));
  /* One line, for logs and for esactl. */
  g_assert_null (strchr (error->message, '\n'));
}

static void
test_config_proxy_credentials (void)
{
  g_autofree char *path = fixture ("proxy-credentials.conf");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load (path, &error);
  g_autofree char *prefix = g_strdup_printf ("%s:2: [proxy.1] url: ", path);
  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_assert_nonnull (strstr (error->message, "use user= and password-file="));
  /* The password itself never reaches a log. */
  g_assert_null (strstr (error->message, "secret"));
}

static void
test_config_garbage (void)
{
  g_autofree char *path = fixture ("garbage.conf");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load (path, &error);
  g_autofree char *prefix = g_strdup_printf ("%s:3: ", path);
  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_assert_nonnull (strstr (error->message, "this line is not a key file line"));
}

static void
test_config_binary_garbage (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-config");
  g_autofree char *path = g_build_filename (dir, "esa.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = NULL;
  esa_test_write_file (path, "{\"this\": \"is json\"}\n", 0644);
  config = esa_config_load (path, &error);
  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_clear_error (&error);

  esa_test_write_file (path, "[agent\nstate-dir=/x\n", 0644);
  config = esa_config_load (path, &error);
  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, path));
  esa_test_rmtree (dir);
}

static void
test_config_non_utf8 (void)
{
  g_autofree char *path = fixture ("non-utf8.conf");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load (path, &error);
  g_autofree char *prefix = g_strdup_printf ("%s:2: ", path);
  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_assert_nonnull (strstr (error->message, "UTF-8"));
}

static void
test_config_unknown_is_warning (void)
{
  g_autofree char *path = fixture ("unknown.conf");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load (path, &error);
  g_autofree char *w0 = g_strdup_printf ("%s:3: [agent] frobnicate: unknown key, ignored", path);
  g_autofree char *w1 = g_strdup_printf ("%s:5: [mystery]", path);
  g_assert_no_error (error);
  g_assert_nonnull (config);
  g_assert_cmpstr (config->state_dir, ==, "/var/esa");
  g_assert_cmpuint (config->warnings->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (config->warnings, 0), ==, w0);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (config->warnings, 1), w1));
  g_assert_nonnull (strstr (g_ptr_array_index (config->warnings, 1), "unknown group"));
}

static void
test_config_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load ("/nonexistent/esa.conf", &error);
  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "/nonexistent/esa.conf: "));
}

static void
test_config_unreadable (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-config");
  g_autoptr (GError) error = NULL;
  /* A folder where the file should be: an error, but not "not found". */
  g_autoptr (EsaConfig) config = esa_config_load (dir, &error);
  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_assert_true (g_str_has_prefix (error->message, dir));
  esa_test_rmtree (dir);
}

/* ---- esactl config check ---- */

static int
run_esactl (char **out, char **err, ...) G_GNUC_NULL_TERMINATED;

static int
run_esactl (char **out, char **err, ...)
{
  g_autofree char *esactl = esa_test_build_path ("cli/esactl");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list args;
  const char *a;
  g_ptr_array_add (argv, esactl);
  va_start (args, err);
  while ((a = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  return esa_test_run ((const char *const *) argv->pdata, out, err);
}

static guint
count_lines (const char *text)
{
  guint n = 0;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

static void
test_esactl_config_check (void)
{
  g_autofree char *valid = fixture ("valid.conf");
  g_autofree char *bad = fixture ("bad-scheme.conf");
  g_autofree char *unknown = fixture ("unknown.conf");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *want = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;
  int rc;

  rc = run_esactl (&out, &err, "config", "check", valid, NULL);
  g_assert_cmpint (rc, ==, 0);
  want = g_strdup_printf ("%s: OK\n", valid);
  g_assert_cmpstr (out, ==, want);
  g_assert_cmpstr (err, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&want, g_free);

  /* Invalid: exit 3 and exactly one line naming file:line, key and value. */
  rc = run_esactl (&out, &err, "config", "check", bad, NULL);
  g_assert_cmpint (rc, ==, 3);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpuint (count_lines (err), ==, 1);
  want = g_strdup_printf ("esactl: %s:3: [proxy.1] url: \"htp://proxy.example.com:3128\": ", bad);
  g_assert_true (g_str_has_prefix (err, want));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* --config FILE works the same as the argument. */
  rc = run_esactl (&out, &err, "--config", bad, "config", "check", NULL);
  g_assert_cmpint (rc, ==, 3);
  g_assert_cmpuint (count_lines (err), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = run_esactl (&out, &err, "config", "check", "/nonexistent/esa.conf", NULL);
  g_assert_cmpint (rc, ==, 3);
  g_assert_cmpuint (count_lines (err), ==, 1);
  g_assert_nonnull (strstr (err, "/nonexistent/esa.conf"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Warnings do not fail the check. */
  rc = run_esactl (&out, &err, "config", "check", unknown, NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_cmpuint (count_lines (err), ==, 2);
  g_assert_nonnull (strstr (err, "unknown key"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* --json for scripts. */
  rc = run_esactl (&out, &err, "--json", "config", "check", bad, NULL);
  g_assert_cmpint (rc, ==, 3);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_false (json_object_get_boolean_member (o, "valid"));
  g_assert_nonnull (strstr (json_object_get_string_member (o, "error"), "unsupported scheme htp"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = run_esactl (&out, &err, "--json", "config", "check", unknown, NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (o, "valid"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "warnings")), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/valid", test_config_valid);
  g_test_add_func ("/config/defaults", test_config_defaults);
  g_test_add_func ("/config/empty-file", test_config_empty_file);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/config/invalid/%s", bad_cases[i].file);
      g_test_add_data_func (name, &bad_cases[i], test_config_invalid);
    }
  g_test_add_func ("/config/invalid/proxy-credentials", test_config_proxy_credentials);
  g_test_add_func ("/config/invalid/garbage", test_config_garbage);
  g_test_add_func ("/config/invalid/not-a-keyfile", test_config_binary_garbage);
  g_test_add_func ("/config/invalid/non-utf8", test_config_non_utf8);
  g_test_add_func ("/config/unknown-is-warning", test_config_unknown_is_warning);
  g_test_add_func ("/config/missing", test_config_missing);
  g_test_add_func ("/config/unreadable", test_config_unreadable);
  g_test_add_func ("/config/esactl-check", test_esactl_config_check);
  return g_test_run ();
}
