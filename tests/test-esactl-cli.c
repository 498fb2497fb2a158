/* test-esactl-cli.c: a CLI that keeps its word (issue 12) — help of every
 * command with its own options, exit codes (usage 2, permission denied 5),
 * errors as JSON under --json, -q, one time format, no raw SDC JSON in human
 * output, each failed report listed once, activate names the server that
 * answered. Real esa-sdc, esad and esactl on loopback. */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"
#include "esa-history.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
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

/* An SDC, an esad with the heartbeat and sysinfo plugins, activated. */
/* esad with @env (NULL-terminated, or NULL) */
static void
start_activated_with_sysinfo_env (EtWorld *w, const char *const *env)
{
  g_autofree char *text = NULL;
  et_install_plugin (w, "sysinfo");
  et_sdc_start (w, NULL);
  text = g_strdup_printf ("[agent]\nstate-dir=%s\nplugin-dir=%s/plugins\n"
                          "[plugins]\nenabled=heartbeat;sysinfo\n[activation]\nvendors=*\n"
                          "[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\n",
                          w->state_dir, w->dir, w->port, w->sdc_dir);
  esa_test_write_file (w->conf, text, 0644);
  et_esad_start (w, env);
  et_activate (w);
}

static void
start_activated_with_sysinfo (EtWorld *w)
{
  start_activated_with_sysinfo_env (w, NULL);
}

/* The delivery history lists what the SDC stored: each report once as
 * delivered, attachment sizes and SHA-256 equal to the SDC's; `history show`
 * prints the manifest; --kind and --since filter; a torn line is skipped. */
static void
test_history (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) hist = NULL, stored = NULL;
  JsonArray *records, *reports;
  g_autofree char *inventory = NULL, *sha = NULL;
  guint delivered = 0;
  int rc;
  start_activated_with_sysinfo (w);
  g_assert_cmpint (et_esactl (w, NULL, NULL, "heartbeat", NULL), ==, 0);
  g_assert_cmpint (et_esactl (w, NULL, NULL, "inventory", "send", NULL), ==, 0);
  rc = et_esactl (w, &out, &err, "--json", "history", NULL);
  g_assert_cmpint (rc, ==, 0);
  hist = parse (out);
  records = json_object_get_array_member (json_node_get_object (hist), "records");
  stored = et_sdc_reports (w);
  reports = json_node_get_array (stored);
  g_test_message ("history: %s", out);
  for (guint i = 0; i < json_array_get_length (records); i++)
    {
      JsonObject *r = json_array_get_object_element (records, i);
      const char *uuid = json_object_get_string_member (r, "uuid");
      JsonObject *rep = NULL;
      JsonArray *ratts, *satts;
      if (!json_object_get_boolean_member (r, "delivered"))
        continue;
      delivered++;
      for (guint j = 0; j < json_array_get_length (reports); j++)
        if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (reports, j), "uuid"), uuid) == 0)
          rep = json_array_get_object_element (reports, j);
      g_assert_nonnull (rep);
      g_assert_cmpstr (json_object_get_string_member (r, "kind"), ==, json_object_get_string_member (rep, "kind"));
      ratts = json_object_get_array_member (r, "attachments");
      satts = json_object_get_array_member (rep, "attachments");
      g_assert_cmpuint (json_array_get_length (ratts), ==, json_array_get_length (satts));
      for (guint j = 0; j < json_array_get_length (ratts); j++)
        {
          JsonObject *a = json_array_get_object_element (ratts, j);
          JsonObject *s = json_array_get_object_element (satts, j);
          g_assert_cmpstr (json_object_get_string_member (a, "name"), ==, json_object_get_string_member (s, "name"));
          g_assert_cmpint (json_object_get_int_member (a, "size"), ==, json_object_get_int_member (s, "size"));
          g_assert_cmpstr (json_object_get_string_member (a, "sha256"), ==, json_object_get_string_member (s, "sha256"));
          /* what the SDC computed over the bytes it received */
          g_assert_cmpstr (json_object_get_string_member (a, "sha256"), ==,
                           json_object_get_string_member (s, "received_sha256"));
          g_assert_cmpint (json_object_get_int_member (r, "bytes"), ==,
                           json_object_get_int_member (r, "body_bytes") + json_object_get_int_member (a, "size"));
          inventory = g_strdup (uuid);
          sha = g_strdup (json_object_get_string_member (a, "sha256"));
        }
    }
  g_assert_cmpuint (delivered, ==, json_array_get_length (reports));
  g_assert_cmpuint (delivered, ==, 2);
  g_assert_nonnull (inventory);

  /* the manifest of the inventory: body and attachment with size and hash */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "history", "show", inventory, NULL);
  g_assert_cmpint (rc, ==, 0);
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, sha));
  g_assert_nonnull (strstr (out, "attachment: snap.pax.Z"));
  g_assert_nonnull (strstr (out, "body: "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "history", "show", "0b6f2c7e-4c1e-4f5a-9d55-0a8e2b1c3d4e", NULL);
  g_assert_cmpint (rc, ==, 1);

  /* filters; the human table */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "history", "--kind", "inventory", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, inventory));
  g_assert_null (strstr (out, "heartbeat"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "history", "--since", "2999-01-01", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_cmpstr (out, ==, "no transmissions match\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "history", "--since", "yesterday", NULL);
  g_assert_cmpint (rc, ==, 2);

  /* a torn last line (crash mid-write) is named and skipped; the rest stays */
  {
    g_autofree char *path = g_build_filename (w->state_dir, "history.jsonl", NULL);
    g_autofree char *old = NULL, *torn = NULL;
    g_assert_true (g_file_get_contents (path, &old, NULL, NULL));
    torn = g_strconcat (old, "{\"time\":\"2026-", NULL);
    esa_test_write_file (path, torn, 0600);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    rc = et_esactl (w, &out, &err, "history", NULL);
    g_assert_cmpint (rc, ==, 0);
    g_assert_nonnull (strstr (err, "history.jsonl:3: not a history record"));
    g_assert_nonnull (strstr (out, inventory));
  }
}

/* The history file is kept open between appends: one moved away or
 * removed by hand (logrotate, an admin) is noticed, the next record goes
 * into a new file at the name, none into the old one. */
static void
test_history_replaced (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-history");
  g_autofree char *main_file = g_build_filename (dir, ESA_HISTORY_FILE, NULL);
  g_autofree char *moved = g_build_filename (dir, "moved.jsonl", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr (JsonObject) r = json_object_new ();
      json_object_set_int_member (r, "n", i);
      g_assert_true (esa_history_append (dir, r, 1 << 20, &error));
      g_assert_no_error (error);
      if (i == 0)
        g_assert_cmpint (g_rename (main_file, moved), ==, 0);
      if (i == 2)
        g_assert_cmpint (g_unlink (main_file), ==, 0);
    }
  g_assert_true (g_file_get_contents (moved, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "{\"n\":0}\n");
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (main_file, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "{\"n\":3}\n");
  esa_test_rmtree (dir);
}

/* Rotation by size renames; no file is rewritten; reading spans them, oldest first. */
static void
test_history_rotation (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-history");
  g_autofree char *main_file = g_build_filename (dir, ESA_HISTORY_FILE, NULL);
  g_autofree char *first = g_build_filename (dir, ESA_HISTORY_FILE ".1", NULL);
  g_autofree char *before = NULL, *after = NULL;
  g_autoptr (JsonArray) all = NULL;
  g_autoptr (GError) error = NULL;
  for (guint i = 0; i < 40; i++)
    {
      g_autoptr (JsonObject) r = json_object_new ();
      json_object_set_int_member (r, "n", i);
      json_object_set_string_member (r, "pad", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
      g_assert_true (esa_history_append (dir, r, 400, &error));
      g_assert_no_error (error);
      if (i == 3)
        g_assert_true (g_file_get_contents (main_file, &before, NULL, NULL));
    }
  /* 40 records of ~70 bytes in files of 400: the oldest fell off */
  all = esa_history_read (dir, NULL, &error);
  g_assert_cmpuint (json_array_get_length (all), <, 40);
  g_assert_cmpuint (json_array_get_length (all), >=, 20);
  for (guint i = 1; i < json_array_get_length (all); i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (all, i), "n"), ==,
                     json_object_get_int_member (json_array_get_object_element (all, i - 1), "n") + 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (all, json_array_get_length (all) - 1), "n"),
                   ==, 39);
  g_assert_true (g_file_test (first, G_FILE_TEST_EXISTS));
  {
    g_autofree char *fifth = g_build_filename (dir, ESA_HISTORY_FILE ".5", NULL);
    g_assert_false (g_file_test (fifth, G_FILE_TEST_EXISTS));
  }
  g_assert_nonnull (before);
  esa_test_rmtree (dir);
}

/* esactl info: servers and proxies in order with what each last said, the
 * activation, the contact, plugins, jobs, queue, last contact. */
static void
test_info (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 dead = esa_test_free_port (), dead_proxy = esa_test_free_port ();
  g_autofree char *good = g_strdup_printf ("https://localhost:%u/", w->port);
  g_autofree char *bad = g_strdup_printf ("https://localhost:%u/", dead);
  g_autofree char *proxy = g_strdup_printf ("http://127.0.0.1:%u", dead_proxy);
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=%s;%s\nca-file=%s/ca.pem\ntimeout=10s\ndirect=true\n"
                                           "[proxy.1]\nurl=%s\n[activation]\nvendors=*\ncontact-name=Ada Admin\n"
                                           "contact-email=ada@example.com\n", bad, good, w->sdc_dir, proxy);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) n = NULL;
  JsonObject *o, *s0, *s1, *p0;
  int rc;
  et_sdc_start (w, NULL);
  et_write_conf (w, text);
  et_esad_start (w, NULL);
  rc = et_esactl (w, &out, &err, "--json", "info", NULL);
  g_assert_cmpint (rc, ==, 0);
  n = parse (out);
  o = json_node_get_object (n);
  g_assert_false (json_object_get_boolean_member (json_object_get_object_member (o, "activation"), "activated"));
  g_assert_true (json_object_get_null_member (o, "last_contact"));
  g_clear_pointer (&n, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  et_activate (w);
  g_assert_cmpint (et_esactl (w, NULL, NULL, "heartbeat", NULL), ==, 0);
  rc = et_esactl (w, &out, &err, "--json", "info", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_test_message ("%s", out);
  n = parse (out);
  o = json_node_get_object (n);
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (o, "activation"), "activated"));
  g_assert_true (is_iso_utc (json_object_get_string_member (o, "last_contact")));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "contact"), "name"), ==, "Ada Admin");
  {
    JsonObject *sdc = json_object_get_object_member (o, "sdc");
    JsonArray *servers = json_object_get_array_member (sdc, "servers");
    JsonArray *proxies = json_object_get_array_member (sdc, "proxies");
    g_assert_cmpuint (json_array_get_length (servers), ==, 2);
    s0 = json_array_get_object_element (servers, 0);
    s1 = json_array_get_object_element (servers, 1);
    p0 = json_array_get_object_element (proxies, 0);
    /* in order; the dead server and the dead proxy failed, the good server worked */
    g_assert_cmpstr (json_object_get_string_member (s0, "url"), ==, bad);
    g_assert_false (json_object_get_boolean_member (s0, "last_ok"));
    g_assert_cmpstr (json_object_get_string_member (s1, "url"), ==, good);
    g_assert_true (json_object_get_boolean_member (s1, "last_ok"));
    g_assert_cmpstr (json_object_get_string_member (p0, "url"), ==, proxy);
    g_assert_false (json_object_get_boolean_member (p0, "last_ok"));
    g_assert_nonnull (strstr (json_object_get_string_member (p0, "last_result"), "proxy"));
  }
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "jobs")), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (o, "queue"), "queued"), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "info", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, "activation:    ESA-"));
  g_assert_nonnull (strstr (out, "Ada Admin, ada@example.com"));
  g_assert_nonnull (strstr (out, "heartbeat (loaded)"));
  g_assert_nonnull (strstr (out, "UAK:           - (no uak plugin loaded)"));
  g_assert_null (strchr (out, '{'));
}

/* esactl test through proxies: the PROXY column is the proxy's answer (200
 * for a tunnel, its 401/407 when it refused us), a refused route says why in
 * words, never "Operation was cancelled". */
static void
test_test_proxy_answer (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 good = esa_test_free_port (), strict = esa_test_free_port ();
  g_autofree char *pass = et_write_secret (w, "proxy.pass", "wrong\n");
  g_autofree char *text = NULL, *out = NULL, *err = NULL;
  g_autoptr (JsonNode) n = NULL;
  JsonArray *routes;
  int rc;
  if (!g_find_program_in_path ("tinyproxy"))
    {
      g_test_skip ("tinyproxy is not installed");
      return;
    }
  et_sdc_start (w, NULL);
  et_tinyproxy_start (w, strict, w->port, 0, "esa", "s3cret");
  et_tinyproxy_start (w, good, w->port, 0, NULL, NULL);
  text = g_strdup_printf ("[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\ntimeout=10s\n"
                          "[proxy.1]\nurl=http://127.0.0.1:%u\nuser=esa\npassword-file=%s\n"
                          "[proxy.2]\nurl=http://127.0.0.1:%u\n", w->port, w->sdc_dir, strict, pass, good);
  et_write_conf (w, text);
  et_esad_start (w, NULL);
  rc = et_esactl (w, &out, &err, "--json", "test", NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  n = parse (out);
  routes = json_object_get_array_member (json_node_get_object (n), "routes");
  g_assert_cmpuint (json_array_get_length (routes), ==, 2);
  {
    JsonObject *refused = json_array_get_object_element (routes, 0);
    JsonObject *tunnel = json_array_get_object_element (routes, 1);
    gint64 st = json_object_get_int_member (refused, "proxy_status");
    g_assert_false (json_object_get_boolean_member (refused, "ok"));
    g_assert_true (st == 401 || st == 407);
    g_assert_null (strstr (json_object_get_string_member (refused, "result"), "cancelled"));
    g_assert_nonnull (strstr (json_object_get_string_member (refused, "result"), "proxy refused"));
    g_assert_true (json_object_get_boolean_member (tunnel, "ok"));
    g_assert_cmpint (json_object_get_int_member (tunnel, "proxy_status"), ==, 200);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "test", NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_null (strstr (out, "cancelled"));
}

/* esactl preview builds exactly what is then sent (but for the report's own
 * UUID and time) and sends nothing; --output holds the body byte for byte. */
static void
test_preview (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autofree char *out = NULL, *err = NULL, *dir = NULL;
  g_autoptr (JsonNode) prev = NULL, inv = NULL, stored = NULL, q = NULL;
  JsonObject *hb, *in;
  int rc;
  start_activated_with_sysinfo (w);
  dir = g_build_filename (w->dir, "preview-out", NULL);

  rc = et_esactl (w, &out, &err, "--json", "preview", "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 0);
  prev = parse (out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "--json", "preview", "inventory", "--output", dir, NULL);
  g_assert_cmpint (rc, ==, 0);
  inv = parse (out);
  /* nothing sent, nothing queued */
  g_assert_cmpuint (et_sdc_count_all (w), ==, 0);
  q = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (q), "queued")), ==, 0);
  hb = json_array_get_object_element (json_object_get_array_member (json_node_get_object (prev), "reports"), 0);
  in = json_array_get_object_element (json_object_get_array_member (json_node_get_object (inv), "reports"), 0);
  g_assert_cmpstr (json_object_get_string_member (hb, "kind"), ==, "heartbeat");
  g_assert_cmpstr (json_object_get_string_member (in, "kind"), ==, "inventory");
  /* --output: the body byte for byte (its SHA-256 is the manifest's), the attachment */
  {
    g_autofree char *name = g_strdup_printf ("%s.json", json_object_get_string_member (in, "uuid"));
    g_autofree char *path = g_build_filename (dir, name, NULL);
    g_autofree char *data = NULL;
    g_autofree char *sha = NULL;
    gsize len = 0;
    JsonObject *a = json_array_get_object_element (json_object_get_array_member (in, "attachments"), 0);
    g_autofree char *apath = g_build_filename (dir, json_object_get_string_member (in, "uuid"),
                                               json_object_get_string_member (a, "name"), NULL);
    g_assert_true (g_file_get_contents (path, &data, &len, NULL));
    sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
    g_assert_cmpstr (sha, ==, json_object_get_string_member (in, "body_sha256"));
    g_assert_cmpint ((gint64) len, ==, json_object_get_int_member (in, "body_bytes"));
    g_clear_pointer (&data, g_free);
    g_assert_true (g_file_get_contents (apath, &data, &len, NULL));
    g_assert_cmpint ((gint64) len, ==, json_object_get_int_member (a, "size"));
  }

  /* the scratch queue of the preview is gone */
  {
    g_autoptr (GDir) d = g_dir_open (w->state_dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      g_assert_false (g_str_has_prefix (name, "preview-"));
  }

  /* now send for real: the SDC stores the same bodies */
  g_assert_cmpint (et_esactl (w, NULL, NULL, "heartbeat", NULL), ==, 0);
  g_assert_cmpint (et_esactl (w, NULL, NULL, "inventory", "send", NULL), ==, 0);
  stored = et_sdc_reports (w);
  for (guint i = 0; i < json_array_get_length (json_node_get_array (stored)); i++)
    {
      JsonObject *r = json_array_get_object_element (json_node_get_array (stored), i);
      JsonObject *p = g_str_equal (json_object_get_string_member (r, "kind"), "heartbeat") ? hb : in;
      JsonObject *pbody = json_object_get_object_member (p, "body");
      g_autoptr (JsonNode) a = json_node_init_object (json_node_alloc (), json_object_get_object_member (r, "body"));
      g_autoptr (JsonNode) b = json_node_init_object (json_node_alloc (), json_object_get_object_member (pbody, "body"));
      JsonArray *satts = json_object_get_array_member (r, "attachments");
      JsonArray *patts = json_object_get_array_member (p, "attachments");
      g_assert_cmpstr (json_object_get_string_member (pbody, "plugin"), ==, json_object_get_string_member (r, "plugin"));
      g_assert_true (json_node_equal (a, b));
      g_assert_cmpuint (json_array_get_length (satts), ==, json_array_get_length (patts));
      for (guint j = 0; j < json_array_get_length (satts); j++)
        g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (satts, j), "name"), ==,
                         json_object_get_string_member (json_array_get_object_element (patts, j), "name"));
    }
  g_assert_cmpuint (json_array_get_length (json_node_get_array (stored)), ==, 2);

  /* the human form: the manifest, then the body */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "preview", "heartbeat", NULL);
  g_test_message ("%s", out);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "nothing sent"));
  g_assert_nonnull (strstr (out, "  body:       "));

  /* what cannot be previewed: a usage error naming what can */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "preview", "snap", NULL);
  g_assert_cmpint (rc, ==, 2);
  g_assert_nonnull (strstr (err, "expected heartbeat, inventory, problem-test or uak-status"));
}

static char *
job_schedule (EtWorld *w, char **next_run)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) n = NULL;
  JsonObject *job;
  g_assert_cmpint (et_esactl (w, &out, &err, "--json", "status", NULL), ==, 0);
  n = parse (out);
  job = json_array_get_object_element (json_object_get_array_member (json_node_get_object (n), "jobs"), 0);
  if (next_run != NULL)
    *next_run = g_strdup (json_object_get_string_member (job, "next_run"));
  return g_strdup (json_object_get_string_member (job, "schedule"));
}

/* SIGHUP applies [job.NAME] schedule= at once (it used to need a restart). */
static void
test_sighup_schedule (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *before = NULL, *after = NULL, *next = NULL;
  g_autoptr (GDateTime) now = NULL, when = NULL;
  gint64 deadline;
  write_conf (w, "https://localhost:1/");
  {
    g_autofree char *text = g_strdup_printf ("[sdc]\nservers=https://localhost:1/\n[job.heartbeat]\nschedule=weekly sun 03:00\n");
    et_write_conf (w, text);
  }
  et_esad_start (w, NULL);
  before = job_schedule (w, NULL);
  g_assert_cmpstr (before, ==, "weekly sun 03:00");
  et_write_conf (w, "[sdc]\nservers=https://localhost:1/\n[job.heartbeat]\nschedule=every 2h\n");
  g_subprocess_send_signal (w->esad, SIGHUP);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  do
    {
      g_clear_pointer (&after, g_free);
      g_clear_pointer (&next, g_free);
      g_usleep (100 * 1000);
      after = job_schedule (w, &next);
    }
  while (g_strcmp0 (after, "every 2h") != 0 && g_get_monotonic_time () < deadline);
  g_assert_cmpstr (after, ==, "every 2h");
  /* the next run follows the new schedule: within two hours from now */
  now = g_date_time_new_now_utc ();
  when = g_date_time_new_from_iso8601 (next, NULL);
  g_assert_nonnull (when);
  g_assert_cmpint (g_date_time_difference (when, now), <=, 2 * G_TIME_SPAN_HOUR + G_TIME_SPAN_MINUTE);
}

/* The file on disk turned invalid under a running esad: status still
 * answers and warns that what runs differs from the file. */
static void
test_status_invalid_config (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *out = NULL, *err = NULL, *broken = NULL, *text = NULL;
  g_autoptr (JsonNode) n = NULL;
  int rc;
  write_conf (w, "https://localhost:1/");
  et_esad_start (w, NULL);
  g_assert_true (g_file_get_contents (w->conf, &text, NULL, NULL));
  broken = g_strconcat (text, "[sdc]\ntimeout=soon\n", NULL);
  esa_test_write_file (w->conf, broken, 0644);
  rc = et_esactl (w, &out, &err, "status", NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "running since"));
  g_assert_nonnull (strstr (err, "warning: the config file on disk is invalid"));
  g_assert_nonnull (strstr (err, "timeout"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "--json", "status", NULL);
  g_assert_cmpint (rc, ==, 0);
  n = parse (out);
  g_assert_nonnull (json_object_get_string_member (json_node_get_object (n), "config_on_disk_error"));
}

/* Runs esactl on a terminal (script(1) gives it a pty); stdout and stderr together. */
static char *
esactl_on_tty (EtWorld *w, const char *args)
{
  g_autofree char *esactl = et_bin ("cli/esactl");
  g_autofree char *cmd = g_strdup_printf ("%s -c %s %s", esactl, w->conf, args);
  const char *argv[] = { "script", "-qec", cmd, "/dev/null", NULL };
  char *out = NULL;
  g_assert_cmpint (esa_test_run (argv, &out, NULL), ==, 0);
  return out;
}

/* On a terminal a long call says what it is doing; never under --json or
 * -q, never when the output is not a terminal. */
static void
test_progress (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *tty = NULL, *quiet = NULL, *json = NULL, *out = NULL, *err = NULL;
  g_autofree char *good = g_strdup_printf ("https://localhost:%u/", w->port);
  if (!g_find_program_in_path ("script"))
    {
      g_test_skip ("script(1) is needed for a pty");
      return;
    }
  et_sdc_start (w, NULL);
  write_conf (w, good);
  et_esad_start (w, NULL);
  et_activate (w);
  tty = esactl_on_tty (w, "heartbeat");
  g_test_message ("%s", tty);
  g_assert_nonnull (strstr (tty, "esactl heartbeat: esad is working"));
  g_assert_nonnull (strstr (tty, "sent heartbeat"));
  quiet = esactl_on_tty (w, "-q heartbeat");
  g_assert_null (strstr (quiet, "esad is working"));
  json = esactl_on_tty (w, "--json heartbeat");
  g_assert_null (strstr (json, "esad is working"));
  g_assert_cmpint (et_esactl (w, &out, &err, "heartbeat", NULL), ==, 0);
  g_assert_null (strstr (err, "esad is working"));
}

/* The percentages of the progress bar in @tty, in order ("sending KIND UUID
 * [###...]  42%  1.8 MB of 4.2 MB"). */
static GArray *
bar_percents (const char *tty, const char *kind)
{
  g_autofree char *pattern = g_strdup_printf ("sending %s [0-9a-f]{8} \\[[#.]{24}\\] +([0-9]+)%%  [0-9.]+ [kMG]?B of "
                                              "[0-9.]+ MB", kind);
  g_autoptr (GRegex) re = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  GArray *a = g_array_new (FALSE, FALSE, sizeof (guint));
  g_regex_match (re, tty, 0, &m);
  while (g_match_info_matches (m))
    {
      g_autofree char *p = g_match_info_fetch (m, 1);
      guint v = (guint) atoi (p);
      g_array_append_val (a, v);
      g_match_info_next (m, NULL);
    }
  return a;
}

/* On a terminal, `inventory send` of a report with a 4 MiB attachment (the
 * fake snap padded, esad's upload slowed by the test hook) shows a bar with
 * the bytes sent of the total, growing; never under --json or -q, never
 * when the output is not a terminal. */
static void
test_progress_bytes (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  const char *env[] = { "ESA_FAKE_SNAP_PAD_BYTES=4194304", "ESA_FAKE_UPLOAD_DELAY_MS=4", NULL };
  g_autofree char *tty = NULL, *quiet = NULL, *json = NULL, *out = NULL, *err = NULL;
  g_autoptr (GArray) seen = NULL;
  guint distinct = 0;
  if (!g_find_program_in_path ("script"))
    {
      g_test_skip ("script(1) is needed for a pty");
      return;
    }
  start_activated_with_sysinfo_env (w, env);

  tty = esactl_on_tty (w, "inventory send");
  seen = bar_percents (tty, "inventory");
  for (guint i = 0; i < seen->len; i++)
    {
      g_test_message ("bar: %u%%", g_array_index (seen, guint, i));
      if (i > 0)
        g_assert_cmpuint (g_array_index (seen, guint, i), >=, g_array_index (seen, guint, i - 1));
      if (i == 0 || g_array_index (seen, guint, i) != g_array_index (seen, guint, i - 1))
        distinct++;
    }
  if (distinct < 3)
    g_test_message ("%s", tty);
  g_assert_cmpuint (distinct, >=, 3);
  g_assert_nonnull (strstr (tty, " of 4.2 MB"));
  g_assert_nonnull (strstr (tty, "sent inventory"));

  quiet = esactl_on_tty (w, "-q inventory send");
  g_assert_null (strstr (quiet, "sending inventory"));
  g_assert_null (strstr (quiet, "[#"));
  json = esactl_on_tty (w, "--json inventory send");
  g_assert_null (strstr (json, "sending inventory"));
  g_assert_null (strstr (json, "[#"));
  g_assert_cmpint (et_esactl (w, &out, &err, "inventory", "send", NULL), ==, 0);
  g_assert_null (strstr (out, "sending inventory"));
  g_assert_null (strstr (err, "sending inventory"));
}

/* config-url fallback: of the servers the HTTP config names, only https://
 * ones are tried (an http:// one is skipped: nothing is uploaded over HTTP). */
static void
test_config_url_https_only (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  guint16 dead = esa_test_free_port ();
  g_autofree char *plain = g_strdup_printf ("http://127.0.0.1:%u/", w->http_port);
  g_autofree char *good = g_strdup_printf ("https://localhost:%u/", w->port);
  const char *extra[] = { "--public-url", plain, "--public-url", good, NULL };
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\ntimeout=10s\n"
                                           "config-url=http://127.0.0.1:%u/esa/v1/config\n",
                                           dead, w->sdc_dir, w->http_port);
  g_autofree char *out = NULL, *err = NULL;
  int rc;
  et_sdc_start (w, extra);
  et_write_conf (w, text);
  et_esad_start (w, NULL);
  {
    g_autofree char *server = g_strdup_printf ("--server=%s", good);
    g_assert_cmpint (et_esactl (w, NULL, NULL, "activate", server, NULL), ==, 0);
  }
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_cmpuint (et_sdc_count_all (w), ==, 1);
  g_assert_cmpuint (et_sdc_log_count (w, "scheme=http ", "method=POST", NULL), ==, 0);
  g_assert_cmpuint (et_sdc_log_count (w, "scheme=http ", "method=PUT", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "history", "--json", NULL), ==, 0);
  /* the history names what the fallback tried: the https server only */
  g_assert_nonnull (strstr (out, "trying https://localhost"));
  g_assert_null (strstr (out, "trying http://"));
  g_assert_null (strstr (out, ", http://"));
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
  g_test_add_func ("/esactl-cli/history", test_history);
  g_test_add_func ("/esactl-cli/history-rotation", test_history_rotation);
  g_test_add_func ("/esactl-cli/history-replaced", test_history_replaced);
  g_test_add_func ("/esactl-cli/preview", test_preview);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/esactl-cli/quiet-words-times", test_quiet_words_times);
  ADD ("/esactl-cli/failed-once", test_failed_once);
  ADD ("/esactl-cli/info", test_info);
  ADD ("/esactl-cli/config-url-https-only", test_config_url_https_only);
  ADD ("/esactl-cli/progress", test_progress);
  ADD ("/esactl-cli/progress-bytes", test_progress_bytes);
  ADD ("/esactl-cli/sighup-schedule", test_sighup_schedule);
  ADD ("/esactl-cli/status-invalid-config", test_status_invalid_config);
  ADD ("/esactl-cli/test-proxy-answer", test_test_proxy_answer);
  ADD ("/esactl-cli/unknown-plugin-word", test_unknown_plugin_word);
  return g_test_run ();
}
