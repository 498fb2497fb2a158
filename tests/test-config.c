/* test-config.c: esa.conf loading — a valid file, every kind of invalid
 * value (each error names file:line, [group] key, the value and what was
 * expected), every error of a file reported at once, files that are not
 * config files (/dev/zero, a FIFO, 2 MiB), unknown groups and keys as
 * warnings, and `esactl config check`. */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esa-config-private.h"
#include "esa-test-util.h"
#include "esa/esa-error.h"

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", "config", name, NULL);
}

#define FAKE_PEM "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

/* valid.conf beside the files it names: ca.pem and a 0600 proxy1.pass
 * (git cannot keep a 0600 file in the fixtures). Returns the folder. */
static char *
valid_copy (char **path)
{
  g_autofree char *src = fixture ("valid.conf");
  g_autofree char *text = NULL;
  char *dir = esa_test_mkdtemp ("esa-config-valid");
  g_autofree char *ca = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *pass = g_build_filename (dir, "proxy1.pass", NULL);
  g_assert_true (g_file_get_contents (src, &text, NULL, NULL));
  *path = g_build_filename (dir, "valid.conf", NULL);
  esa_test_write_file (*path, text, 0644);
  esa_test_write_file (ca, FAKE_PEM, 0644);
  esa_test_write_file (pass, "secret\n", 0600);
  return dir;
}

static void
test_config_valid (void)
{
  g_autofree char *path = NULL;
  g_autofree char *dir = valid_copy (&path);
  g_autofree char *ca = g_canonicalize_filename ("ca.pem", dir);
  g_autofree char *pass = g_canonicalize_filename ("proxy1.pass", dir);
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
  g_assert_cmpstr (config->proxies[0].password_file, ==, pass);
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
  g_assert_cmpuint (esa_config_get_parallel (config), ==, 8);

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
  esa_test_rmtree (dir);
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
  g_assert_cmpuint (esa_config_get_parallel (config), ==, 4);
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
  { "bad-parallel.conf", 2, "[transport] parallel", "0", "not a number from 1 to 64" },
  { "bad-parallel-big.conf", 2, "[transport] parallel", "65", "not a number from 1 to 64" },
  { "bad-parallel-word.conf", 2, "[transport] parallel", "four", "not a number from 1 to 64" },
  { "bad-plugin-name.conf", 2, "[plugins] enabled", "../evil", "bad character '.'" },
};

/* @message is one line "PATH:LINE: WHERE: "VALUE": …EXPECTED…". */
static void
assert_config_error (const char *message, const char *path, guint line, const char *where,
                     const char *value, const char *expected)
{
  g_autofree char *prefix = g_strdup_printf ("%s:%u: %s", path, line, where);
  g_test_message ("%s", message);
  g_assert_true (g_str_has_prefix (message, prefix));
  if (value != NULL)
    {
      g_autofree char *quoted = g_strdup_printf ("%s: \"%s\": ", prefix, value);
      g_assert_true (g_str_has_prefix (message, quoted));
    }
  g_assert_nonnull (strstr (message, expected));
  /* One line, for logs and for esactl. */
  g_assert_null (strchr (message, '\n'));
}

static void
test_config_invalid (gconstpointer user_data)
{
  const BadCase *bc = user_data;
  g_autofree char *path = fixture (bc->file);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load (path, &error);

  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  assert_config_error (error->message, path, bc->line, bc->where, bc->value, bc->expected);
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

/* ---- cases written at run time (they name files that must exist or not) ---- */

typedef struct {
  const char *name;
  const char *text;     /* "@DIR@": the case's folder */
  guint line;
  const char *where;
  const char *value;    /* "@DIR@" allowed; NULL: not checked */
  const char *expected;
} TmpCase;

static const TmpCase tmp_cases[] = {
  { "ca-file-missing", "[sdc]\nca-file=@DIR@/nosuch.pem\n", 2, "[sdc] ca-file", "@DIR@/nosuch.pem",
    "cannot read @DIR@/nosuch.pem: No such file or directory" },
  { "ca-file-not-pem", "[sdc]\nca-file=notpem.txt\n", 2, "[sdc] ca-file", "notpem.txt",
    "no PEM certificate in it (expected -----BEGIN CERTIFICATE----- blocks)" },
  { "password-file-missing", "[proxy.1]\nurl=http://proxy:3128\nuser=esa\npassword-file=@DIR@/nosuch.pass\n",
    4, "[proxy.1] password-file", "@DIR@/nosuch.pass", "cannot read @DIR@/nosuch.pass: No such file" },
  { "password-file-world-readable", "[proxy.1]\nurl=http://proxy:3128\nuser=esa\npassword-file=open.pass\n",
    4, "[proxy.1] password-file", "open.pass", "readable by everyone (mode 0644; expected 0600 or 0640)" },
  { "proxy-no-port", "[proxy.1]\nurl=http://proxy.example.com\n", 2, "[proxy.1] url",
    "http://proxy.example.com", "no port (expected http://host:port)" },
  { "duplicate-key", "[agent]\nlog-level=info\n# later\nlog-level=debug\n", 4, "[agent] log-level", "debug",
    "duplicate key (already set at line 2; expected each key once)" },
  { "timeout-huge", "[sdc]\ntimeout=100000d\n", 2, "[sdc] timeout", "100000d", "too long (expected at most 366d)" },
  { "timeout-too-long", "[sdc]\ntimeout=2h\n", 2, "[sdc] timeout", "2h", "too long for one request (expected at most 1h)" },
  { "backoff-huge", "[queue]\nbackoff-max=100000d\n", 2, "[queue] backoff-max", "100000d", "too long" },
  { "socket-too-long",
    "[agent]\nsocket=/run/esa/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
    2, "[agent] socket", NULL, "126 bytes long, a Unix socket path holds at most 107 (expected a shorter path)" },
  { "state-dir-too-long",
    "[agent]\nstate-dir=/var/lib/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
    2, "[agent] state-dir", NULL, "/run/esad.sock would be 121 bytes long, a Unix socket path holds at most 107 (expected a shorter state-dir, or socket=)" },
  { "plugin-group-name", "[plugin.Bad]\nx=1\n", 1, "[plugin.Bad]", "Bad", "bad character 'B' (expected [a-z0-9_-]+)" },
};

/* @pattern with every @DIR@ replaced by @dir. */
static char *
with_dir (const char *pattern, const char *dir)
{
  g_auto (GStrv) parts = g_strsplit (pattern, "@DIR@", -1);
  return g_strjoinv (dir, parts);
}

static char *
tmp_case_dir (const TmpCase *tc, char **path)
{
  char *dir = esa_test_mkdtemp ("esa-config-case");
  g_autofree char *text = with_dir (tc->text, dir);
  g_autofree char *notpem = g_build_filename (dir, "notpem.txt", NULL);
  g_autofree char *open_pass = g_build_filename (dir, "open.pass", NULL);
  *path = g_build_filename (dir, "esa.conf", NULL);
  esa_test_write_file (*path, text, 0644);
  esa_test_write_file (notpem, "just some text, no certificate\n", 0644);
  esa_test_write_file (open_pass, "secret\n", 0644);
  return dir;
}

static void
test_config_tmp_case (gconstpointer user_data)
{
  const TmpCase *tc = user_data;
  g_autofree char *path = NULL;
  g_autofree char *dir = tmp_case_dir (tc, &path);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load (path, &error);
  g_autofree char *expected = with_dir (tc->expected, dir);
  g_autofree char *value = tc->value != NULL ? with_dir (tc->value, dir) : NULL;

  g_assert_null (config);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  assert_config_error (error->message, path, tc->line, tc->where, value, expected);
  esa_test_rmtree (dir);
}

/* A [plugin.NAME] group for a plugin that is not enabled: a warning. */
static void
test_config_plugin_group_not_enabled (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-config");
  g_autofree char *path = g_build_filename (dir, "esa.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = NULL;
  esa_test_write_file (path, "[plugins]\nenabled=heartbeat\n\n[plugin.uak]\nbackend=file\n", 0644);
  config = esa_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->warnings->len, ==, 1);
  g_test_message ("%s", (char *) g_ptr_array_index (config->warnings, 0));
  g_assert_nonnull (strstr (g_ptr_array_index (config->warnings, 0),
                            ":4: [plugin.uak]: plugin uak is not in [plugins] enabled=, its settings are not used"));
  esa_test_rmtree (dir);
}

/* Every error of a file, one line each — not only the first. */
static const char many_errors[] =
  "[agent]\n"
  "log-level=verbose\n"
  "log-level=info\n"
  "[sdc]\n"
  "timeout=100000d\n"
  "direct=yes\n"
  "[proxy.1]\n"
  "url=http://proxy.example.com\n";

static void
test_config_every_error (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-config");
  g_autofree char *path = g_build_filename (dir, "esa.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = NULL;
  g_auto (GStrv) lines = NULL;
  const char *expect[] = {
    ":3: [agent] log-level: \"info\": duplicate key",
    ":5: [sdc] timeout: \"100000d\": too long",
    ":6: [sdc] direct: \"yes\": not a boolean",
    ":8: [proxy.1] url: \"http://proxy.example.com\": no port",
  };
  esa_test_write_file (path, many_errors, 0644);
  config = esa_config_load (path, &error);
  g_assert_null (config);
  g_test_message ("%s", error->message);
  lines = g_strsplit (error->message, "\n", -1);
  /* Duplicates, then each key's check (GKeyFile keeps the last
   * log-level, info, which is valid). */
  g_assert_cmpuint (g_strv_length (lines), ==, G_N_ELEMENTS (expect));
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    g_assert_nonnull (strstr (lines[i], expect[i]));
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_true (g_str_has_prefix (lines[i], path));
  esa_test_rmtree (dir);
}

typedef struct {
  char *path;
  GError *error;
  gint done;
} LoadJob;

static gpointer
load_thread (gpointer data)
{
  LoadJob *job = data;
  EsaConfig *config = esa_config_load (job->path, &job->error);
  g_assert_null (config);
  g_atomic_int_set (&job->done, 1);
  return NULL;
}

/* Loads @path in a thread: a config read that blocks (a FIFO) or never
 * ends (/dev/zero) fails the test after 10 s instead of hanging it. */
static GError *
load_bounded (const char *path)
{
  LoadJob *job = g_new0 (LoadJob, 1);
  GThread *thread;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GError *error;
  job->path = g_strdup (path);
  thread = g_thread_new ("load", load_thread, job);
  while (!g_atomic_int_get (&job->done) && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  if (!g_atomic_int_get (&job->done))
    g_error ("loading %s did not return within 10 s", path);
  g_thread_join (thread);
  error = job->error;
  g_free (job->path);
  g_free (job);
  return error;
}

static void
test_config_not_a_file (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-config");
  g_autofree char *fifo = g_build_filename (dir, "fifo.conf", NULL);
  g_autofree char *big = g_build_filename (dir, "big.conf", NULL);
  g_autofree char *text = NULL;
  GError *error;

  error = load_bounded ("/dev/zero");
  g_test_message ("%s", error->message);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_assert_cmpstr (error->message, ==, "/dev/zero: cannot read: not a regular file (expected a config file)");
  g_clear_error (&error);

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  error = load_bounded (fifo);
  g_test_message ("%s", error->message);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);

  /* 2 MiB of comments: a regular file, but no config is that big. */
  text = g_strnfill (2 * 1024 * 1024, '#');
  esa_test_write_file (big, text, 0644);
  error = load_bounded (big);
  g_test_message ("%s", error->message);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "too large (more than 1048576 bytes; expected a config file)"));
  g_clear_error (&error);
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
  g_autofree char *valid = NULL;
  g_autofree char *valid_dir = valid_copy (&valid);
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
  esa_test_rmtree (valid_dir);
}

/* esactl config check prints every error, one line each (and all in --json). */
static void
test_esactl_config_check_every_error (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-config");
  g_autofree char *path = g_build_filename (dir, "esa.conf", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;
  int rc;
  esa_test_write_file (path, many_errors, 0644);
  rc = run_esactl (&out, &err, "config", "check", path, NULL);
  g_test_message ("%s", err);
  g_assert_cmpint (rc, ==, 3);
  g_assert_cmpuint (count_lines (err), ==, 4);
  g_assert_nonnull (strstr (err, "duplicate key"));
  g_assert_nonnull (strstr (err, "too long"));
  g_assert_nonnull (strstr (err, "not a boolean"));
  g_assert_nonnull (strstr (err, "no port"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = run_esactl (&out, &err, "--json", "config", "check", path, NULL);
  g_assert_cmpint (rc, ==, 3);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "errors")), ==, 4);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* And /dev/zero: refused at once, not read forever. */
  rc = run_esactl (&out, &err, "config", "check", "/dev/zero", NULL);
  g_assert_cmpint (rc, ==, 3);
  g_assert_cmpstr (err, ==, "esactl: /dev/zero: cannot read: not a regular file (expected a config file)\n");
  esa_test_rmtree (dir);
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
  for (guint i = 0; i < G_N_ELEMENTS (tmp_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/config/invalid/%s", tmp_cases[i].name);
      g_test_add_data_func (name, &tmp_cases[i], test_config_tmp_case);
    }
  g_test_add_func ("/config/invalid/every-error", test_config_every_error);
  g_test_add_func ("/config/invalid/not-a-file", test_config_not_a_file);
  g_test_add_func ("/config/plugin-group-not-enabled", test_config_plugin_group_not_enabled);
  g_test_add_func ("/config/invalid/proxy-credentials", test_config_proxy_credentials);
  g_test_add_func ("/config/invalid/garbage", test_config_garbage);
  g_test_add_func ("/config/invalid/not-a-keyfile", test_config_binary_garbage);
  g_test_add_func ("/config/invalid/non-utf8", test_config_non_utf8);
  g_test_add_func ("/config/unknown-is-warning", test_config_unknown_is_warning);
  g_test_add_func ("/config/missing", test_config_missing);
  g_test_add_func ("/config/unreadable", test_config_unreadable);
  g_test_add_func ("/config/esactl-check", test_esactl_config_check);
  g_test_add_func ("/config/esactl-check-every-error", test_esactl_config_check_every_error);
  return g_test_run ();
}
