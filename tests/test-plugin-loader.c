/* test-plugin-loader.c: the checks made before any plugin code runs (owner,
 * mode, setuid, regular file, ABI number, symbols, descriptor), disabled and
 * missing plugins, an init that fails without a reason, and every verdict
 * as `esactl plugin list --json` shows it (offline scan and via esad). */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "esa-engine-private.h"
#include "esa-plugin-loader.h"
#include "esa-test-util.h"

static const char *enabled_list[] = {
  "good", "init-fails", "wrong-abi", "no-symbol", "no-query", "world-writable", "group-writable",
  "not-root", "setuid", "garbage", "link", "ghost", NULL,
};

typedef struct {
  char *dir;
  char *plugin_dir;
  char *conf;
  gboolean as_root;
} Fixture;

/* Messages of the "esa" domain, recorded instead of aborting: the loader
 * warns about every refusal, and that is what is under test. */
static GPtrArray *logged;

static guint log_handler_id;

static void
log_record_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  g_ptr_array_add (logged, g_strdup (message));
}

static gboolean
log_fatal_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  return g_strcmp0 (domain, "esa") != 0;
}

static gboolean
logged_match (const char *pattern)
{
  for (guint i = 0; i < logged->len; i++)
    if (g_pattern_match_simple (pattern, g_ptr_array_index (logged, i)))
      return TRUE;
  return FALSE;
}

static void
copy_module (const char *src_rel, const char *dir, const char *name, int mode)
{
  g_autofree char *src = esa_test_build_path (src_rel);
  g_autofree char *dst = g_build_filename (dir, name, NULL);
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  g_file_get_contents (src, &data, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (dst, data, (gssize) len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (dst, mode), ==, 0);
}

static void
fixture_setup (Fixture *f, gconstpointer user_data)
{
  g_autofree char *enabled = g_strjoinv (";", (char **) enabled_list);
  g_autofree char *text = NULL;
  g_autofree char *garbage = NULL;
  g_autofree char *link = NULL;

  f->as_root = geteuid () == 0;
  f->dir = esa_test_mkdtemp ("esa-loader");
  f->plugin_dir = g_build_filename (f->dir, "plugins", NULL);
  f->conf = g_build_filename (f->dir, "esa.conf", NULL);
  g_assert_cmpint (g_mkdir (f->plugin_dir, 0755), ==, 0);

  copy_module ("plugins/heartbeat/.libs/heartbeat.so", f->plugin_dir, "heartbeat.so", 0755);
  copy_module ("tests/plugins/.libs/good.so", f->plugin_dir, "good.so", 0755);
  copy_module ("tests/plugins/.libs/good.so", f->plugin_dir, "good2.so", 0755);
  copy_module ("tests/plugins/.libs/init-fails.so", f->plugin_dir, "init-fails.so", 0755);
  copy_module ("tests/plugins/.libs/wrong-abi.so", f->plugin_dir, "wrong-abi.so", 0755);
  copy_module ("tests/plugins/.libs/no-symbol.so", f->plugin_dir, "no-symbol.so", 0755);
  copy_module ("tests/plugins/.libs/no-query.so", f->plugin_dir, "no-query.so", 0755);
  copy_module ("tests/plugins/.libs/good.so", f->plugin_dir, "world-writable.so", 0666);
  copy_module ("tests/plugins/.libs/good.so", f->plugin_dir, "group-writable.so", 0775);
  copy_module ("tests/plugins/.libs/good.so", f->plugin_dir, "setuid.so", 04755);
  garbage = g_build_filename (f->plugin_dir, "garbage.so", NULL);
  esa_test_write_file (garbage, "this is not an ELF file\n", 0755);
  link = g_build_filename (f->plugin_dir, "link.so", NULL);
  g_assert_cmpint (symlink ("good.so", link), ==, 0);
  if (f->as_root)
    {
      g_autofree char *not_root = g_build_filename (f->plugin_dir, "not-root.so", NULL);
      copy_module ("tests/plugins/.libs/good.so", f->plugin_dir, "not-root.so", 0755);
      g_assert_cmpint (chown (not_root, 65534, 65534), ==, 0);
    }
  /* A README beside the modules is not a module. */
  {
    g_autofree char *readme = g_build_filename (f->plugin_dir, "README", NULL);
    esa_test_write_file (readme, "not a plugin", 0644);
  }
  text = g_strdup_printf ("[agent]\nstate-dir=%s/state\nplugin-dir=%s\n\n[plugins]\nenabled=%s\n",
                          f->dir, f->plugin_dir, enabled);
  esa_test_write_file (f->conf, text, 0644);
  logged = g_ptr_array_new_with_free_func (g_free);
  log_handler_id = g_log_set_handler ("esa", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL | G_LOG_FLAG_FATAL,
                                      log_record_handler, NULL);
  g_test_log_set_fatal_handler (log_fatal_handler, NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer user_data)
{
  g_test_log_set_fatal_handler (NULL, NULL);
  g_log_remove_handler ("esa", log_handler_id);
  g_clear_pointer (&logged, g_ptr_array_unref);
  esa_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->plugin_dir);
  g_free (f->conf);
}

/* The record for a file name (or, for ghosts, a plugin name). */
static EsaPluginRecord *
find_record (GPtrArray *records, const char *file, const char *name)
{
  for (guint i = 0; i < records->len; i++)
    {
      EsaPluginRecord *rec = g_ptr_array_index (records, i);
      if (file != NULL && g_strcmp0 (rec->file_name, file) == 0)
        return rec;
      if (file == NULL && rec->file_name == NULL && g_strcmp0 (rec->name, name) == 0)
        return rec;
    }
  g_assert_not_reached ();
}

static void
assert_record (GPtrArray *records, const char *file, EsaPluginState state, const char *reason_part)
{
  EsaPluginRecord *rec = find_record (records, file, NULL);
  g_test_message ("%s: %s: %s", file, esa_plugin_state_to_string (rec->state), rec->reason);
  g_assert_cmpstr (esa_plugin_state_to_string (rec->state), ==, esa_plugin_state_to_string (state));
  if (reason_part == NULL)
    g_assert_null (rec->reason);
  else
    g_assert_nonnull (strstr (rec->reason, reason_part));
}

static void
test_loader_scan (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GPtrArray) records = esa_plugin_scan (f->plugin_dir, enabled_list);
  EsaPluginRecord *rec;

  /* Sorted by file name, the ghost last; README ignored. */
  g_assert_cmpstr (((EsaPluginRecord *) g_ptr_array_index (records, 0))->file_name, ==, "garbage.so");
  g_assert_cmpuint (records->len, ==, f->as_root ? 14 : 13);

  assert_record (records, "good.so", ESA_PLUGIN_STATE_LOADED, NULL);
  rec = find_record (records, "good.so", NULL);
  g_assert_cmpstr (rec->name, ==, "good");
  g_assert_cmpstr (rec->version, ==, "1.0");
  g_assert_cmpstr (rec->summary, ==, "A plugin that does everything right");
  g_assert_true (rec->enabled);
  g_assert_nonnull (rec->module);
  g_assert_nonnull (rec->info);

  /* The ABI number is read as data: the module's query () aborts if called. */
  assert_record (records, "wrong-abi.so", ESA_PLUGIN_STATE_REFUSED, "plugin ABI 999, this esad speaks ABI 1");
  assert_record (records, "no-symbol.so", ESA_PLUGIN_STATE_REFUSED, "no esa_plugin_abi symbol");
  assert_record (records, "no-query.so", ESA_PLUGIN_STATE_REFUSED, "no esa_plugin_query symbol");
  assert_record (records, "world-writable.so", ESA_PLUGIN_STATE_REFUSED, "writable by group or others (mode 0666");
  assert_record (records, "group-writable.so", ESA_PLUGIN_STATE_REFUSED, "writable by group or others (mode 0775");
  assert_record (records, "setuid.so", ESA_PLUGIN_STATE_REFUSED, "setuid/setgid bit set (mode 4755)");
  assert_record (records, "garbage.so", ESA_PLUGIN_STATE_REFUSED, "cannot open");
  assert_record (records, "link.so", ESA_PLUGIN_STATE_REFUSED, "not a regular file");
  assert_record (records, "good2.so", ESA_PLUGIN_STATE_REFUSED, "another module already provides plugin \"good\"");
  /* Sane, but not in enabled=. */
  assert_record (records, "heartbeat.so", ESA_PLUGIN_STATE_DISABLED, "not in [plugins] enabled=");
  g_assert_false (find_record (records, "heartbeat.so", NULL)->enabled);
  /* Opened, not initialised: the scan never runs init. */
  assert_record (records, "init-fails.so", ESA_PLUGIN_STATE_LOADED, NULL);
  if (f->as_root)
    assert_record (records, "not-root.so", ESA_PLUGIN_STATE_REFUSED, "owned by uid 65534 (expected root)");
  rec = find_record (records, NULL, "ghost");
  g_assert_cmpstr (esa_plugin_state_to_string (rec->state), ==, "refused");
  g_assert_nonnull (strstr (rec->reason, "no module ghost.so in"));
  g_assert_true (rec->enabled);
}

static void
test_loader_missing_dir (Fixture *f, gconstpointer user_data)
{
  const char *enabled[] = { "heartbeat", NULL };
  g_autoptr (GPtrArray) records = esa_plugin_scan ("/nonexistent/plugins", enabled);
  EsaPluginRecord *rec;
  g_assert_cmpuint (records->len, ==, 1);
  rec = g_ptr_array_index (records, 0);
  g_assert_cmpint (rec->state, ==, ESA_PLUGIN_STATE_REFUSED);
  g_assert_nonnull (strstr (rec->reason, "/nonexistent/plugins"));
}

/* The engine runs init: a FALSE without an error is the plugin's bug,
 * reported as "internal error" — the core goes on with the others. */
static void
test_loader_engine_init (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  EsaConfig *config = esa_config_load (f->conf, &error);
  g_autoptr (EsaEngine) engine = NULL;
  EsaPluginRecord *rec;
  g_autoptr (JsonNode) json = NULL;

  g_assert_no_error (error);
  engine = esa_engine_new (config, &error);
  g_assert_no_error (error);
  esa_engine_load_plugins (engine);

  rec = find_record (engine->plugins, "init-fails.so", NULL);
  g_assert_cmpint (rec->state, ==, ESA_PLUGIN_STATE_FAILED);
  g_assert_nonnull (strstr (rec->reason, "failed to start init-fails: internal error"));
  rec = find_record (engine->plugins, "good.so", NULL);
  g_assert_cmpint (rec->state, ==, ESA_PLUGIN_STATE_LOADED);
  /* Only good got a context; its job is registered. */
  g_assert_cmpuint (engine->contexts->len, ==, 1);
  json = esa_dispatcher_to_json (engine->dispatcher);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (json)), ==, 1);
  g_assert_true (logged_match ("plugin init-fails: init returned FALSE without an error"));
  g_assert_true (logged_match ("plugin wrong-abi.so refused: plugin ABI 999*"));
  g_assert_true (logged_match ("plugin ghost refused: *"));
}

/* ---- esactl plugin list --json ---- */

static JsonArray *
run_plugin_list (Fixture *f, JsonParser *parser)
{
  g_autofree char *esactl = esa_test_build_path ("cli/esactl");
  const char *argv[] = { esactl, "-c", f->conf, "plugin", "list", "--json", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int rc = esa_test_run (argv, &out, &err);
  g_test_message ("esactl stderr: %s", err);
  g_assert_cmpint (rc, ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)));
  return json_node_get_array (json_parser_get_root (parser));
}

static JsonObject *
json_find (JsonArray *a, const char *file)
{
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      JsonNode *path = json_object_get_member (o, "path");
      if (file == NULL && JSON_NODE_HOLDS_NULL (path))
        return o;
      if (file != NULL && !JSON_NODE_HOLDS_NULL (path) && g_str_has_suffix (json_node_get_string (path), file))
        return o;
    }
  g_assert_not_reached ();
}

static void
assert_json (JsonArray *a, const char *file, const char *state, const char *reason_part)
{
  JsonObject *o = json_find (a, file);
  JsonNode *reason = json_object_get_member (o, "reason");
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, state);
  if (reason_part == NULL)
    g_assert_true (JSON_NODE_HOLDS_NULL (reason));
  else
    g_assert_nonnull (strstr (json_node_get_string (reason), reason_part));
}

static void
assert_common_json (Fixture *f, JsonArray *a)
{
  assert_json (a, "/good.so", "loaded", NULL);
  assert_json (a, "/wrong-abi.so", "refused", "plugin ABI 999");
  assert_json (a, "/no-symbol.so", "refused", "no esa_plugin_abi symbol");
  assert_json (a, "/no-query.so", "refused", "no esa_plugin_query symbol");
  assert_json (a, "/world-writable.so", "refused", "writable by group or others");
  assert_json (a, "/group-writable.so", "refused", "writable by group or others");
  assert_json (a, "/setuid.so", "refused", "setuid");
  assert_json (a, "/heartbeat.so", "disabled", "not in [plugins] enabled=");
  g_assert_false (json_object_get_boolean_member (json_find (a, "/heartbeat.so"), "enabled"));
  g_assert_true (json_object_get_boolean_member (json_find (a, "/good.so"), "enabled"));
  g_assert_cmpstr (json_object_get_string_member (json_find (a, "/good.so"), "name"), ==, "good");
  if (f->as_root)
    assert_json (a, "/not-root.so", "refused", "owned by uid 65534");
  assert_json (a, NULL, "refused", "no module ghost.so");
}

static void
test_loader_esactl_offline (Fixture *f, gconstpointer user_data)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *a = run_plugin_list (f, parser);
  assert_common_json (f, a);
  /* esactl scans without running init. */
  assert_json (a, "/init-fails.so", "loaded", NULL);
}

static gboolean
wait_for_socket (const char *path, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (GSocketClient) client = g_socket_client_new ();
      g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (path);
      g_autoptr (GSocketConnection) conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, NULL);
      if (conn != NULL)
        return TRUE;
      g_usleep (20 * 1000);
    }
  return FALSE;
}

static void
test_loader_esactl_esad (Fixture *f, gconstpointer user_data)
{
  g_autofree char *esad = esa_test_build_path ("daemon/esad");
  g_autofree char *log = g_build_filename (f->dir, "esad.log", NULL);
  g_autofree char *sock = g_build_filename (f->dir, "state", "esad.sock", NULL);
  g_autofree char *log_text = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *argv[] = { esad, "-f", "-c", f->conf, NULL };
  JsonArray *a;
  int rc;

  /* esad logs the plugin's bug as a critical; here that must not abort it. */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  if (!wait_for_socket (sock, 10000))
    {
      g_file_get_contents (log, &log_text, NULL, NULL);
      g_test_message ("esad log:\n%s", log_text);
      g_assert_not_reached ();
    }
  a = run_plugin_list (f, parser);
  assert_common_json (f, a);
  assert_json (a, "/init-fails.so", "failed", "internal error");
  rc = esa_test_stop (proc);
  g_assert_cmpint (rc, ==, 0);
  g_file_get_contents (log, &log_text, NULL, NULL);
  g_test_message ("esad log:\n%s", log_text);
  g_assert_nonnull (strstr (log_text, "init returned FALSE without an error"));
}

static void
test_loader_not_root (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GPtrArray) records = NULL;
  if (!f->as_root)
    {
      g_test_skip ("needs root to give a module to another owner");
      return;
    }
  records = esa_plugin_scan (f->plugin_dir, enabled_list);
  assert_record (records, "not-root.so", ESA_PLUGIN_STATE_REFUSED, "owned by uid 65534 (expected root)");
  g_assert_null (find_record (records, "not-root.so", NULL)->module);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/plugin-loader/scan", test_loader_scan);
  ADD ("/plugin-loader/not-root", test_loader_not_root);
  ADD ("/plugin-loader/missing-dir", test_loader_missing_dir);
  ADD ("/plugin-loader/engine-init", test_loader_engine_init);
  ADD ("/plugin-loader/esactl-offline", test_loader_esactl_offline);
  ADD ("/plugin-loader/esactl-esad", test_loader_esactl_esad);
#undef ADD
  return g_test_run ();
}
