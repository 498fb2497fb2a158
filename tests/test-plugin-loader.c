/* test-plugin-loader.c: the checks made before any plugin code runs (folder
 * chain, owner, mode, setuid, regular file, ABI number read from the file,
 * symbols, descriptor), disabled and missing plugins, an init that fails
 * without a reason, and every verdict as `esactl plugin list --json` shows it
 * (offline check and via esad). A module with an ELF constructor that writes
 * a marker proves that no disabled or refused module is ever loaded, and a
 * rename race driven from the test that the checked inode is what loads. */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "esa-engine-private.h"
#include "esa-plugin-loader.h"
#include "esa-plugin-loader-private.h"
#include "esa-test-util.h"

static const char *enabled_list[] = {
  "good", "init-fails", "wrong-abi", "no-symbol", "no-query", "world-writable", "group-writable",
  "not-root", "setuid", "garbage", "link", "renamed", "ctor-refused", "ctor-no-abi", "ghost", NULL,
};

typedef struct {
  char *dir;
  char *plugin_dir;
  char *conf;
  char *marker;
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
  /* Its descriptor says "good": the name must be the file's. */
  copy_module ("tests/plugins/.libs/good.so", f->plugin_dir, "renamed.so", 0755);
  /* The constructor module: disabled, refused by mode, refused by its
   * missing ABI symbol (read from the file). It must never run. */
  copy_module ("tests/plugins/.libs/ctor-abi.so", f->plugin_dir, "ctor-disabled.so", 0755);
  copy_module ("tests/plugins/.libs/ctor-abi.so", f->plugin_dir, "ctor-refused.so", 0775);
  copy_module ("tests/plugins/.libs/constructor.so", f->plugin_dir, "ctor-no-abi.so", 0755);
  copy_module ("tests/plugins/.libs/constructor.so", f->plugin_dir, "Bad Name.so", 0755);
  f->marker = g_build_filename (f->dir, "constructor-ran", NULL);
  g_setenv ("ESA_TEST_CONSTRUCTOR_MARKER", f->marker, TRUE);
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
  g_free (f->marker);
  g_unsetenv ("ESA_TEST_CONSTRUCTOR_MARKER");
}

/* The constructor module never ran (in this process or a child). */
static void
assert_no_constructor (Fixture *f)
{
  g_autofree char *text = NULL;
  g_file_get_contents (f->marker, &text, NULL, NULL);
  g_assert_cmpstr (text, ==, NULL);
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
  g_autoptr (GPtrArray) records = esa_plugin_scan (f->plugin_dir, enabled_list, ESA_PLUGIN_SCAN_LOAD);
  EsaPluginRecord *rec;

  /* Sorted by file name, the ghost last; README ignored. */
  g_assert_cmpstr (((EsaPluginRecord *) g_ptr_array_index (records, 0))->file_name, ==, "Bad Name.so");
  g_assert_cmpstr (((EsaPluginRecord *) g_ptr_array_index (records, 1))->file_name, ==, "ctor-disabled.so");
  g_assert_cmpuint (records->len, ==, f->as_root ? 19 : 18);

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
  assert_record (records, "garbage.so", ESA_PLUGIN_STATE_REFUSED, "not a loadable shared object for this system (no ELF header)");
  assert_record (records, "link.so", ESA_PLUGIN_STATE_REFUSED, "not a regular file (a symbolic link)");
  assert_record (records, "renamed.so", ESA_PLUGIN_STATE_REFUSED,
                 "descriptor name \"good\" does not match the file name renamed.so (expected good.so)");
  g_assert_null (find_record (records, "renamed.so", NULL)->module);
  assert_record (records, "ctor-refused.so", ESA_PLUGIN_STATE_REFUSED, "writable by group or others (mode 0775");
  assert_record (records, "ctor-no-abi.so", ESA_PLUGIN_STATE_REFUSED, "no esa_plugin_abi symbol");
  assert_record (records, "Bad Name.so", ESA_PLUGIN_STATE_REFUSED, "file name Bad Name.so is not a plugin name");
  /* Sane, but not in enabled=: checked, never loaded. */
  assert_record (records, "heartbeat.so", ESA_PLUGIN_STATE_DISABLED, "not in [plugins] enabled=");
  assert_record (records, "good2.so", ESA_PLUGIN_STATE_DISABLED, "not in [plugins] enabled=");
  assert_record (records, "ctor-disabled.so", ESA_PLUGIN_STATE_DISABLED, "not in [plugins] enabled=");
  g_assert_false (find_record (records, "heartbeat.so", NULL)->enabled);
  g_assert_null (find_record (records, "heartbeat.so", NULL)->module);
  assert_no_constructor (f);
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
  g_autoptr (GPtrArray) records = esa_plugin_scan ("/nonexistent/plugins", enabled, ESA_PLUGIN_SCAN_LOAD);
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
  assert_no_constructor (f);
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
  assert_json (a, "/wrong-abi.so", "refused", "plugin ABI 999");
  assert_json (a, "/no-symbol.so", "refused", "no esa_plugin_abi symbol");
  assert_json (a, "/ctor-no-abi.so", "refused", "no esa_plugin_abi symbol");
  assert_json (a, "/ctor-refused.so", "refused", "writable by group or others");
  assert_json (a, "/ctor-disabled.so", "disabled", "not in [plugins] enabled=");
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
  assert_no_constructor (f);
}

static void
test_loader_esactl_offline (Fixture *f, gconstpointer user_data)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *a = run_plugin_list (f, parser);
  assert_common_json (f, a);
  /* esactl loads nothing: what needs loading is esad's to tell. */
  assert_json (a, "/good.so", "checked", NULL);
  g_assert_nonnull (strstr (json_object_get_string_member (json_find (a, "/good.so"), "summary"), "need esad"));
  assert_json (a, "/init-fails.so", "checked", NULL);
  assert_json (a, "/no-query.so", "checked", NULL);
  assert_json (a, "/renamed.so", "checked", NULL);
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
  g_autofree char *sock = g_build_filename (f->dir, "state", "run", "esad.sock", NULL);
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
  assert_json (a, "/good.so", "loaded", NULL);
  assert_json (a, "/no-query.so", "refused", "no esa_plugin_query symbol");
  assert_json (a, "/renamed.so", "refused", "does not match the file name");
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
      g_test_skip ("needs root to give a module to another owner (CI runs the suite as root)");
      return;
    }
  g_test_message ("running as root: not-root.so is chowned to uid 65534 and must be refused");
  records = esa_plugin_scan (f->plugin_dir, enabled_list, ESA_PLUGIN_SCAN_LOAD);
  assert_record (records, "not-root.so", ESA_PLUGIN_STATE_REFUSED, "owned by uid 65534 (expected root)");
  g_assert_null (find_record (records, "not-root.so", NULL)->module);
}

/* A plugin folder anyone may write to: nothing in it is loaded, and every
 * enabled plugin says why. The same for a writable folder above it. */
static void
test_loader_folder_writable (Fixture *f, gconstpointer user_data)
{
  g_autofree char *outer = g_build_filename (f->dir, "open", NULL);
  g_autofree char *inner = g_build_filename (outer, "plugins", NULL);
  g_autofree char *expect = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GPtrArray) nested = NULL;
  const char *enabled[] = { "good", "ctor-no-abi", NULL };
  EsaPluginRecord *rec;

  g_assert_cmpint (g_chmod (f->plugin_dir, 0777), ==, 0);
  records = esa_plugin_scan (f->plugin_dir, enabled_list, ESA_PLUGIN_SCAN_LOAD);
  expect = g_strdup_printf ("plugin folder %s is writable by group or others (mode 0777; expected 0755 or stricter)",
                            f->plugin_dir);
  for (guint i = 0; i < records->len; i++)
    {
      rec = g_ptr_array_index (records, i);
      g_test_message ("%s: %s: %s", rec->name, esa_plugin_state_to_string (rec->state), rec->reason);
      g_assert_cmpint (rec->state, ==, ESA_PLUGIN_STATE_REFUSED);
      g_assert_null (rec->module);
      if (rec->enabled)
        g_assert_cmpstr (rec->reason, ==, expect);
    }
  g_assert_cmpuint (records->len, ==, g_strv_length ((char **) enabled_list));
  assert_no_constructor (f);

  /* esactl says the same, without esad. */
  {
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonArray *a = run_plugin_list (f, parser);
    for (guint i = 0; i < json_array_get_length (a); i++)
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, i), "reason"), ==, expect);
  }

  /* A 0777 folder (no sticky bit) above a sane plugin folder. */
  g_assert_cmpint (g_mkdir (outer, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (inner, 0755), ==, 0);
  copy_module ("tests/plugins/.libs/good.so", inner, "good.so", 0755);
  g_assert_cmpint (g_chmod (outer, 0777), ==, 0);
  nested = esa_plugin_scan (inner, enabled, ESA_PLUGIN_SCAN_LOAD);
  rec = find_record (nested, NULL, "good");
  g_test_message ("nested: %s", rec->reason);
  g_assert_cmpint (rec->state, ==, ESA_PLUGIN_STATE_REFUSED);
  g_assert_nonnull (strstr (rec->reason, outer));
  g_assert_nonnull (strstr (rec->reason, "is writable by group or others (mode 0777"));
  /* Sane again: the same folder loads. */
  g_assert_cmpint (g_chmod (outer, 0755), ==, 0);
  g_clear_pointer (&nested, g_ptr_array_unref);
  nested = esa_plugin_scan (inner, enabled, ESA_PLUGIN_SCAN_LOAD);
  g_assert_cmpint (find_record (nested, "good.so", NULL)->state, ==, ESA_PLUGIN_STATE_LOADED);
}

/* ---- the rename race ---- */

typedef struct {
  const char *evil;
  gboolean swapped;
} Swap;

/* Between the checks and the load, the test renames a group-writable
 * constructor module over the checked good.so. */
static void
swap_hook (const char *path, gpointer user_data)
{
  Swap *swap = user_data;
  if (!g_str_has_suffix (path, "/good.so"))
    return;
  g_assert_cmpint (rename (swap->evil, path), ==, 0);
  swap->swapped = TRUE;
}

static void
test_loader_rename_between_check_and_load (Fixture *f, gconstpointer user_data)
{
  g_autofree char *evil = g_build_filename (f->dir, "evil.so", NULL);
  const char *enabled[] = { "good", NULL };
  g_autoptr (GPtrArray) records = NULL;
  Swap swap = { evil, FALSE };
  EsaPluginRecord *rec;

  copy_module ("tests/plugins/.libs/ctor-abi.so", f->dir, "evil.so", 0775);
  esa_plugin_loader_set_checked_hook (swap_hook, &swap);
  records = esa_plugin_scan (f->plugin_dir, enabled, ESA_PLUGIN_SCAN_LOAD);
  esa_plugin_loader_set_checked_hook (NULL, NULL);
  g_assert_true (swap.swapped);
  /* The checked inode is what loaded: good's descriptor, no constructor. */
  rec = find_record (records, "good.so", NULL);
  g_assert_cmpint (rec->state, ==, ESA_PLUGIN_STATE_LOADED);
  g_assert_cmpstr (rec->summary, ==, "A plugin that does everything right");
  assert_no_constructor (f);
}

typedef struct {
  char *good_src;
  char *evil_src;
  char *tmp;
  char *target;
  gint stop;
  guint flips;
} Racer;

/* Flips the target between a sane module and a group-writable constructor
 * module, as fast as it can, each flip an atomic rename. */
static gpointer
racer_thread (gpointer data)
{
  Racer *r = data;
  while (!g_atomic_int_get (&r->stop))
    {
      const char *src = (r->flips++ % 2) ? r->evil_src : r->good_src;
      if (link (src, r->tmp) == 0)
        (void) rename (r->tmp, r->target);
    }
  return NULL;
}

static void
test_loader_rename_race (Fixture *f, gconstpointer user_data)
{
  Racer r = { 0 };
  const char *enabled[] = { "x", NULL };
  GThread *thread;
  gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  guint scans = 0, refused = 0;

  copy_module ("tests/plugins/.libs/good.so", f->dir, "good-src.so", 0755);
  copy_module ("tests/plugins/.libs/ctor-abi.so", f->dir, "evil-src.so", 0777);
  r.good_src = g_build_filename (f->dir, "good-src.so", NULL);
  r.evil_src = g_build_filename (f->dir, "evil-src.so", NULL);
  r.tmp = g_build_filename (f->plugin_dir, ".x.tmp", NULL);
  r.target = g_build_filename (f->plugin_dir, "x.so", NULL);
  thread = g_thread_new ("racer", racer_thread, &r);
  while (g_get_monotonic_time () < deadline && scans < 20000)
    {
      g_autoptr (GPtrArray) records = esa_plugin_scan (f->plugin_dir, enabled, ESA_PLUGIN_SCAN_LOAD);
      for (guint i = 0; i < records->len; i++)
        {
          EsaPluginRecord *rec = g_ptr_array_index (records, i);
          if (g_strcmp0 (rec->name, "x") == 0 && rec->state == ESA_PLUGIN_STATE_REFUSED)
            refused++;
        }
      scans++;
      if (g_file_test (f->marker, G_FILE_TEST_EXISTS))
        break;
    }
  g_atomic_int_set (&r.stop, 1);
  g_thread_join (thread);
  g_test_message ("%u scans against %u flips (%u refused)", scans, r.flips, refused);
  g_assert_cmpuint (r.flips, >, 100);
  assert_no_constructor (f);
  g_free (r.good_src);
  g_free (r.evil_src);
  g_free (r.tmp);
  g_free (r.target);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/plugin-loader/scan", test_loader_scan);
  ADD ("/plugin-loader/not-root", test_loader_not_root);
  ADD ("/plugin-loader/missing-dir", test_loader_missing_dir);
  ADD ("/plugin-loader/folder-writable", test_loader_folder_writable);
  ADD ("/plugin-loader/rename-between-check-and-load", test_loader_rename_between_check_and_load);
  ADD ("/plugin-loader/rename-race", test_loader_rename_race);
  ADD ("/plugin-loader/engine-init", test_loader_engine_init);
  ADD ("/plugin-loader/esactl-offline", test_loader_esactl_offline);
  ADD ("/plugin-loader/esactl-esad", test_loader_esactl_esad);
#undef ADD
  return g_test_run ();
}
