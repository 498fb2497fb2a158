/* test-esactl-cli.c: a CLI that keeps its word (issue 12) — help of every
 * command with its own options, exit codes (usage 2, permission denied 5),
 * errors as JSON under --json, -q, one time format, no raw SDC JSON in human
 * output, each failed report listed once, activate names the server that
 * answered. Real esa-sdc, esad and esactl on loopback. */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <string.h>

typedef struct {
  EtWorld *w;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->w = et_world_new (NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->w, et_world_free);
}

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  if (!json_parser_load_from_data (p, text, -1, &error))
    g_error ("not JSON (%s): %s", error->message, text);
  return json_node_copy (json_parser_get_root (p));
}

/* Runs the built esactl with @args (NULL-terminated) and no config. */
static int
esactl_bare (char **out, char **err, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  const char *arg;
  va_list ap;
  g_ptr_array_add (argv, et_bin ("cli/esactl"));
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  return esa_test_run ((const char *const *) argv->pdata, out, err);
}

static void
write_conf (EtWorld *w, const char *servers)
{
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=%s\nca-file=%s/ca.pem\ntimeout=10s\n", servers, w->sdc_dir);
  et_write_conf (w, text);
}

/* `esactl --help` lists every command on stdout; `esactl COMMAND --help`
 * lists that command's own options and runs nothing. */
static void
test_help (void)
{
  g_autofree char *out = NULL, *err = NULL;
  int rc = esactl_bare (&out, &err, "--help", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "  queue export DIR"));
  g_assert_nonnull (strstr (out, "  status "));
  g_assert_nonnull (strstr (out, "--quiet"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = esactl_bare (&out, &err, "activate", "--help", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "--contact-email EMAIL"));
  g_assert_nonnull (strstr (out, "SDC to register with"));
  g_assert_null (strstr (out, "--keep"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = esactl_bare (&out, &err, "queue", "export", "--help", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "--keep"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* No options of its own: the help, and no call to esad (that would exit 4). */
  rc = esactl_bare (&out, &err, "heartbeat", "--help", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "usage: esactl [OPTIONS] heartbeat"));
}

/* Usage errors exit 2, also for a group word without its command. */
static void
test_usage_exit (void)
{
  const char *const cases[][3] = {
    { "queue", NULL, NULL },
    { "queue", "bogus", NULL },
    { "queue", "export", "--bogus" },
    { "queue", "retry", NULL },
    { "--bogus", NULL, NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL, *err = NULL;
      int rc = esactl_bare (&out, &err, cases[i][0], cases[i][1], cases[i][2], NULL);
      g_test_message ("esactl %s %s: %d %s", cases[i][0], cases[i][1] ? cases[i][1] : "", rc, err);
      g_assert_cmpint (rc, ==, 2);
      g_assert_nonnull (strstr (err, "esactl: "));
    }
}

/* Under --json an error is JSON on stdout, "esad is not running" too. */
static void
test_json_errors (void)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) n = NULL;
  JsonObject *e;
  int rc;
  g_setenv ("ESA_SOCKET", "/nonexistent/esad.sock", TRUE);
  rc = esactl_bare (&out, &err, "--json", "status", NULL);
  g_unsetenv ("ESA_SOCKET");
  g_assert_cmpint (rc, ==, 4);
  n = parse (out);
  e = json_object_get_object_member (json_node_get_object (n), "error");
  g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "not_running");
  g_assert_cmpint (json_object_get_int_member (e, "exit"), ==, 4);
  g_assert_cmpstr (err, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&n, json_node_unref);
  rc = esactl_bare (&out, &err, "--json", "queue", NULL);
  g_assert_cmpint (rc, ==, 2);
  n = parse (out);
  e = json_object_get_object_member (json_node_get_object (n), "error");
  g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "usage");
}

/* A control socket we may not open: "permission denied", exit 5, not "not running". */
static void
test_permission_denied (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-esactl-perm");
  g_autofree char *path = g_build_filename (dir, "esad.sock", NULL);
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (path);
  g_autoptr (GError) error = NULL;
  g_autofree char *esactl = et_bin ("cli/esactl");
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *env = g_strdup_printf ("ESA_SOCKET=%s", path);
  const char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", env,
                         "ESA_CONFIG=/nonexistent/esa.conf", esactl, "status", NULL };
  int rc;
  if (geteuid () != 0 || !g_find_program_in_path ("setpriv"))
    {
      g_test_skip ("needs root and setpriv to run esactl as another user");
      return;
    }
  g_assert_true (g_socket_bind (sock, addr, TRUE, &error));
  g_assert_true (g_socket_listen (sock, &error));
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  rc = esa_test_run (argv, &out, &err);
  g_test_message ("%s", err);
  g_assert_cmpint (rc, ==, 5);
  g_assert_nonnull (strstr (err, "permission denied"));
  esa_test_rmtree (dir);
}

static gboolean
is_iso_utc (const char *s)
{
  return g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", s, 0, 0);
}

/* -q prints less; human output never shows the SDC's JSON; times are ISO
 * 8601 UTC; activate names the server that answered (the second). */
static void
test_quiet_words_times (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 dead = esa_test_free_port ();
  g_autofree char *servers = g_strdup_printf ("https://localhost:%u/;https://localhost:%u/", dead, w->port);
  g_autofree char *good = g_strdup_printf ("https://localhost:%u/", w->port);
  g_autofree char *want = g_strdup_printf ("at %s\n", good);
  g_autofree char *out = NULL, *err = NULL;
  g_auto (GStrv) lines = NULL;
  int rc;
  const char *const tokyo[] = { "TZ=Asia/Tokyo", NULL };
  et_sdc_start (w, NULL);
  write_conf (w, servers);
  et_esad_start (w, tokyo);
  rc = et_esactl (w, &out, &err, "activate", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (g_str_has_suffix (out, want));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_null (strchr (out, '{'));
  g_assert_nonnull (strstr (out, ": stored\n"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = et_esactl (w, &out, &err, "-q", "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpuint (et_sdc_count_all (w), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = et_esactl (w, &out, &err, "status", NULL);
  g_assert_cmpint (rc, ==, 0);
  lines = g_strsplit (out, "\n", -1);
  {
    const char *since = strstr (lines[0], "running since ");
    g_assert_nonnull (since);
    g_assert_true (is_iso_utc (since + strlen ("running since ")));
  }
  /* the heartbeat job's NEXT RUN column: esad runs in Tokyo, we speak UTC */
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "heartbeat "))
      {
        g_auto (GStrv) cols = g_regex_split_simple ("  +", lines[i], 0, 0);
        g_assert_true (is_iso_utc (cols[4]));
      }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "-q", "status", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_null (strstr (out, "LAST RUN"));
}

/* The SDC goes away: a heartbeat fails; its UUID is in failed[] once and the
 * failure line appears once. */
static void
test_failed_once (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *good = g_strdup_printf ("https://localhost:%u/", w->port);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) n = NULL;
  JsonArray *failed;
  int rc;
  et_sdc_start (w, NULL);
  write_conf (w, good);
  et_esad_start (w, NULL);
  et_activate (w);
  et_sdc_stop (w);
  rc = et_esactl (w, &out, &err, "--json", "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 6);
  n = parse (out);
  failed = json_object_get_array_member (json_node_get_object (n), "failed");
  g_assert_cmpuint (json_array_get_length (failed), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 6);
  {
    /* the new heartbeat and the one still queued: one line each */
    g_auto (GStrv) lines = g_strsplit (g_strstrip (err), "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 2);
    g_assert_true (g_str_has_prefix (lines[0], "not sent heartbeat "));
    g_assert_true (g_str_has_prefix (lines[1], "not sent heartbeat "));
    g_assert_cmpstr (lines[0], !=, lines[1]);
  }
}

/* A word no plugin serves is a usage error (2), like one esactl doesn't know. */
static void
test_unknown_plugin_word (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *out = NULL, *err = NULL;
  int rc;
  write_conf (w, "https://localhost:1/");
  et_esad_start (w, NULL);
  rc = et_esactl (w, &out, &err, "frobnicate", NULL);
  g_assert_cmpint (rc, ==, 2);
  g_assert_nonnull (strstr (err, "unknown command"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/esactl-cli/help", test_help);
  g_test_add_func ("/esactl-cli/usage-exit", test_usage_exit);
  g_test_add_func ("/esactl-cli/json-errors", test_json_errors);
  g_test_add_func ("/esactl-cli/permission-denied", test_permission_denied);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/esactl-cli/quiet-words-times", test_quiet_words_times);
  ADD ("/esactl-cli/failed-once", test_failed_once);
  ADD ("/esactl-cli/unknown-plugin-word", test_unknown_plugin_word);
  return g_test_run ();
}
