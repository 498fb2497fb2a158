/* test-esad.c: esad end to end — started in the foreground on a temporary
 * config, driven with esactl (status, plugin list, queue list), reloaded with
 * a broken config (refused, keeps running), stopped with SIGTERM (socket and
 * PID file removed; in the middle of a long job: the job's command killed,
 * nothing freed under it), and esactl's answer when esad is not running. */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <unistd.h>

#include "esa-test-util.h"

typedef struct {
  char *dir;
  char *conf;
  char *sock;
  char *pid_file;
  char *log;
  GSubprocess *esad;
} Fixture;

static void
copy_module (const char *src_rel, const char *dir, const char *name)
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
  g_assert_cmpint (g_chmod (dst, 0755), ==, 0);
}

static void
write_config (Fixture *f, const char *extra)
{
  g_autofree char *text = g_strdup_printf (
      "[agent]\nstate-dir=%s/state\nplugin-dir=%s/plugins\npid-file=%s\nlog-level=info\n\n"
      "[plugins]\nenabled=heartbeat;broken\n\n[job.heartbeat]\nschedule=every 1h\n%s",
      f->dir, f->dir, f->pid_file, extra);
  esa_test_write_file (f->conf, text, 0644);
}

static void
fixture_setup (Fixture *f, gconstpointer user_data)
{
  g_autofree char *plugins = NULL;
  f->dir = esa_test_mkdtemp ("esa-esad");
  f->conf = g_build_filename (f->dir, "esa.conf", NULL);
  f->sock = g_build_filename (f->dir, "state", "run", "esad.sock", NULL);
  f->pid_file = g_build_filename (f->dir, "esad.pid", NULL);
  f->log = g_build_filename (f->dir, "esad.log", NULL);
  plugins = g_build_filename (f->dir, "plugins", NULL);
  g_assert_cmpint (g_mkdir (plugins, 0755), ==, 0);
  copy_module ("plugins/heartbeat/.libs/heartbeat.so", plugins, "heartbeat.so");
  copy_module ("tests/plugins/.libs/wrong-abi.so", plugins, "broken.so");
  write_config (f, "");
}

static void
fixture_teardown (Fixture *f, gconstpointer user_data)
{
  if (f->esad != NULL)
    {
      esa_test_stop (f->esad);
      g_object_unref (f->esad);
    }
  esa_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->conf);
  g_free (f->sock);
  g_free (f->pid_file);
  g_free (f->log);
}

static char *
esad_log (Fixture *f)
{
  char *text = NULL;
  if (!g_file_get_contents (f->log, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

static gboolean
socket_answers (const char *path)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (path);
  g_autoptr (GSocketConnection) conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, NULL);
  return conn != NULL;
}

/* Starts esad with @env (KEY=VALUE…, NULL-terminated, may be NULL) added. */
static void
start_esad_env (Fixture *f, const char *const *env)
{
  g_autofree char *esad = esa_test_build_path ("daemon/esad");
  const char *argv[] = { esad, "-f", "-c", f->conf, NULL };
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GError) error = NULL;
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    {
      g_auto (GStrv) kv = g_strsplit (env[i], "=", 2);
      g_subprocess_launcher_setenv (l, kv[0], kv[1], TRUE);
    }
  g_subprocess_launcher_set_stdout_file_path (l, f->log);
  f->esad = g_subprocess_launcher_spawnv (l, argv, &error);
  g_assert_no_error (error);
  while (!socket_answers (f->sock))
    {
      if (g_get_monotonic_time () > deadline || g_subprocess_get_identifier (f->esad) == NULL)
        {
          g_autofree char *log = esad_log (f);
          g_test_message ("esad log:\n%s", log);
          g_assert_not_reached ();
        }
      g_usleep (20 * 1000);
    }
}

static void
start_esad (Fixture *f)
{
  start_esad_env (f, NULL);
}

/* Runs esactl -c CONF ARGS…; returns its exit code. */
static int
esactl (Fixture *f, char **out, char **err, ...) G_GNUC_NULL_TERMINATED;

static int
esactl (Fixture *f, char **out, char **err, ...)
{
  g_autofree char *bin = esa_test_build_path ("cli/esactl");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list args;
  const char *a;
  g_ptr_array_add (argv, bin);
  g_ptr_array_add (argv, (gpointer) "-c");
  g_ptr_array_add (argv, f->conf);
  va_start (args, err);
  while ((a = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  return esa_test_run ((const char *const *) argv->pdata, out, err);
}

static JsonNode *
esactl_json (Fixture *f, ...) G_GNUC_NULL_TERMINATED;

static JsonNode *
esactl_json (Fixture *f, ...)
{
  g_autofree char *bin = esa_test_build_path ("cli/esactl");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  va_list args;
  const char *a;
  int rc;
  g_ptr_array_add (argv, bin);
  g_ptr_array_add (argv, (gpointer) "-c");
  g_ptr_array_add (argv, f->conf);
  g_ptr_array_add (argv, (gpointer) "--json");
  va_start (args, f);
  while ((a = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  rc = esa_test_run ((const char *const *) argv->pdata, &out, &err);
  if (rc != 0)
    g_test_message ("esactl exit %d: %s", rc, err);
  g_assert_cmpint (rc, ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static guint
count_lines (const char *text)
{
  guint n = 0;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

static JsonObject *
find_plugin (JsonArray *a, const char *name)
{
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member (o, "name"), name) == 0)
        return o;
    }
  g_assert_not_reached ();
}

static void
test_esad_lifecycle (Fixture *f, gconstpointer user_data)
{
  g_autoptr (JsonNode) status = NULL;
  g_autoptr (JsonNode) plugins = NULL;
  g_autoptr (JsonNode) queue = NULL;
  g_autofree char *pid_text = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *log = NULL;
  JsonObject *o;
  JsonArray *jobs;
  JsonArray *queued = NULL;
  gint64 pid;
  gint64 deadline;
  int rc;

  start_esad (f);
  pid = g_ascii_strtoll (g_subprocess_get_identifier (f->esad), NULL, 10);

  /* status */
  status = esactl_json (f, "status", NULL);
  o = json_node_get_object (status);
  g_assert_cmpint (json_object_get_int_member (o, "pid"), ==, pid);
  g_assert_cmpstr (json_object_get_string_member (o, "config"), ==, f->conf);
  g_assert_cmpint (json_object_get_int_member (o, "plugins_loaded"), ==, 1);
  jobs = json_object_get_array_member (o, "jobs");
  g_assert_cmpuint (json_array_get_length (jobs), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (jobs, 0), "name"), ==, "heartbeat");
  /* [job.heartbeat] schedule= overrides the plugin's "daily 02:15". */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (jobs, 0), "schedule"), ==, "every 1h");
  rc = esactl (f, &out, &err, "status", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (g_str_has_prefix (out, "esad "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* plugin list */
  plugins = esactl_json (f, "plugin", "list", NULL);
  o = find_plugin (json_node_get_array (plugins), "heartbeat");
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "loaded");
  g_assert_true (json_object_get_boolean_member (o, "enabled"));
  o = find_plugin (json_node_get_array (plugins), "broken");
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "refused");
  g_assert_nonnull (strstr (json_object_get_string_member (o, "reason"), "plugin ABI 999"));

  /* queue list: "every 1h" never ran, so it ran at start and queued a heartbeat. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_clear_pointer (&queue, json_node_unref);
      queue = esactl_json (f, "queue", "list", NULL);
      queued = json_object_get_array_member (json_node_get_object (queue), "queued");
      if (json_array_get_length (queued) > 0)
        break;
      g_usleep (50 * 1000);
    }
  g_assert_cmpuint (json_array_get_length (queued), ==, 1);
  o = json_array_get_object_element (queued, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "heartbeat");
  g_assert_cmpstr (json_object_get_string_member (o, "plugin"), ==, "heartbeat");
  g_assert_true (g_uuid_string_is_valid (json_object_get_string_member (o, "uuid")));

  /* PID file */
  g_assert_true (g_file_get_contents (f->pid_file, &pid_text, NULL, NULL));
  g_assert_cmpint (g_ascii_strtoll (pid_text, NULL, 10), ==, pid);

  /* SIGHUP with a broken config: refused, still running on the old one. */
  write_config (f, "[sdc]\nservers=http://insecure.example.com/\n");
  g_subprocess_send_signal (f->esad, SIGHUP);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_free (log);
      log = esad_log (f);
      if (strstr (log, "reload refused") != NULL)
        break;
      g_usleep (20 * 1000);
    }
  g_test_message ("esad log:\n%s", log);
  g_assert_nonnull (strstr (log, "reload refused, keeping the running config"));
  g_assert_nonnull (strstr (log, "never uploaded over plain HTTP"));
  /* (esactl reads the socket path from the config, so fix the file first.) */
  g_assert_nonnull (g_subprocess_get_identifier (f->esad));
  write_config (f, "");
  g_clear_pointer (&status, json_node_unref);
  status = esactl_json (f, "status", NULL);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (status), "pid"), ==, pid);

  /* SIGTERM: clean exit, socket and PID file gone. */
  rc = esa_test_stop (f->esad);
  g_clear_object (&f->esad);
  g_free (log);
  log = esad_log (f);
  g_test_message ("esad log:\n%s", log);
  g_assert_cmpint (rc, ==, 0);
  g_assert_false (g_file_test (f->sock, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (f->pid_file, G_FILE_TEST_EXISTS));
  g_assert_nonnull (strstr (log, "stopped"));

  /* esactl against a stopped esad: exit 4, one line. */
  rc = esactl (f, &out, &err, "status", NULL);
  g_assert_cmpint (rc, ==, 4);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpuint (count_lines (err), ==, 1);
  g_assert_true (g_str_has_prefix (err, "esactl: esad is not running"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = esactl (f, &out, &err, "queue", "list", NULL);
  g_assert_cmpint (rc, ==, 4);
  g_assert_cmpuint (count_lines (err), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The spool survived the restart-less stop. */
  {
    g_autofree char *spool = g_build_filename (f->dir, "state", "spool", NULL);
    g_autoptr (GDir) d = g_dir_open (spool, 0, NULL);
    const char *name;
    guint reports = 0;
    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      reports += g_str_has_suffix (name, ".json");
    g_assert_cmpuint (reports, ==, 1);
  }
}

static void
test_esad_stale_socket (Fixture *f, gconstpointer user_data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *run = g_build_filename (f->dir, "state", "run", NULL);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd;
  int rc;

  /* What a SIGKILLed esad leaves: a socket file nobody listens on. */
  g_assert_cmpint (g_mkdir_with_parents (run, 0700), ==, 0);
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  strncpy (sa.sun_path, f->sock, sizeof sa.sun_path - 1);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  close (fd);
  rc = esactl (f, &out, &err, "status", NULL);
  g_assert_cmpint (rc, ==, 4);
  g_assert_cmpuint (count_lines (err), ==, 1);
  g_assert_true (g_str_has_prefix (err, "esactl: esad is not running"));

  /* And esad itself starts over it. */
  start_esad (f);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = esactl (f, &out, &err, "status", NULL);
  g_assert_cmpint (rc, ==, 0);
}

static void
test_esad_bad_config (Fixture *f, gconstpointer user_data)
{
  g_autofree char *esad = esa_test_build_path ("daemon/esad");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = { esad, "-f", "-c", f->conf, NULL };
  int rc;
  write_config (f, "[agent]\nlog-level=loud\n");
  /* Duplicate group: the second [agent] is merged by GKeyFile; the bad value
   * stops esad before it does anything. */
  rc = esa_test_run (argv, &out, &err);
  g_assert_cmpint (rc, ==, 1);
  g_assert_nonnull (strstr (err, "log-level"));
  g_assert_nonnull (strstr (err, "\"loud\""));
  g_assert_false (g_file_test (f->sock, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (f->pid_file, G_FILE_TEST_EXISTS));
}

/* esa.conf broken on disk while esad runs on the config it loaded: esactl
 * still reaches esad (with a warning), instead of refusing every command. */
static void
test_esad_broken_config_on_disk (Fixture *f, gconstpointer user_data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int rc;
  start_esad (f);
  write_config (f, "[sdc]\ntimeout=forever\n");
  rc = esactl (f, &out, &err, "status", NULL);
  g_test_message ("esactl status: exit %d\n%s%s", rc, out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (g_str_has_prefix (out, "esad "));
  g_assert_true (g_str_has_prefix (err, "esactl: warning: "));
  g_assert_nonnull (strstr (err, "has errors (see esactl config check: "));
  g_assert_nonnull (strstr (err, "); trying the control socket"));
  g_assert_nonnull (strstr (err, f->sock));
  g_assert_cmpuint (count_lines (err), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* config check itself still says what is wrong. */
  rc = esactl (f, &out, &err, "config", "check", NULL);
  g_assert_cmpint (rc, ==, 3);
  g_assert_nonnull (strstr (err, "[sdc] timeout: \"forever\""));
}

static guint
count_fds (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/fd", pid);
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  guint n = 0;
  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* One HTTP/1.1 exchange on the control socket; returns the whole answer. */
static char *
control_http (const char *sock, const char *method, const char *path, const char *body)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (sock);
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) answer = g_string_new (NULL);
  g_autofree char *req = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: esad\r\nConnection: close\r\n"
                                          "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                          method, path, body ? strlen (body) : 0, body ? body : "");
  char buf[4096];
  gssize n;
  conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), req, strlen (req), NULL, NULL,
                             &error);
  g_assert_no_error (error);
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf, sizeof buf, NULL,
                                   &error)) > 0)
    g_string_append_len (answer, buf, n);
  g_assert_no_error (error);
  return g_string_free (g_steal_pointer (&answer), FALSE);
}

typedef struct {
  const char *sock;
  char *body;
  char *answer;
} JobCall;

static gpointer
job_call_thread (gpointer user_data)
{
  JobCall *jc = user_data;
  jc->answer = control_http (jc->sock, "POST", "/v1/jobs/good/run", jc->body);
  return NULL;
}

static gint
cmp_gint64 (const gint64 *a, const gint64 *b)
{
  return *a < *b ? -1 : *a > *b;
}

static guint
count_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* One keep-alive request read to its end, then the client hangs up (as
 * esactl does); with @request FALSE it hangs up without asking anything. */
static void
keepalive_request (const char *sock, gboolean request)
{
  const char req[] = "GET /v1/status HTTP/1.1\r\nHost: esad\r\n\r\n";
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct timeval tv = { 5, 0 };
  g_autoptr (GString) in = g_string_new (NULL);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  strncpy (sa.sun_path, sock, sizeof sa.sun_path - 1);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
  if (request)
    {
      char buf[4096];
      const char *end = NULL;
      gsize want = 0;
      g_assert_cmpint (write (fd, req, sizeof req - 1), ==, (gssize) sizeof req - 1);
      while (end == NULL || in->len < want)
        {
          ssize_t n = read (fd, buf, sizeof buf);
          g_assert_cmpint (n, >, 0);
          g_string_append_len (in, buf, n);
          if (end == NULL && (end = strstr (in->str, "\r\n\r\n")) != NULL)
            {
              const char *cl = g_strstr_len (in->str, end - in->str, "Content-Length: ");
              g_assert_nonnull (cl);
              want = (gsize) (end + 4 - in->str) + (gsize) g_ascii_strtoull (cl + strlen ("Content-Length: "), NULL, 10);
            }
        }
      g_assert_true (g_str_has_prefix (in->str, "HTTP/1.1 200"));
    }
  close (fd);
}

/* libsoup 3.2's server leaks the fd of every keep-alive connection the
 * client closes while idle (NOTES.md): 300 such connections (and 50 that
 * never asked anything) must leave esad with the fds it started with. */
static void
test_esad_keepalive_fds (Fixture *f, gconstpointer user_data)
{
  const char *pid;
  guint before, after = 0;
  gint64 deadline;

  start_esad (f);
  pid = g_subprocess_get_identifier (f->esad);
  keepalive_request (f->sock, TRUE);
  g_usleep (200 * 1000);
  before = count_fds (pid);
  for (guint i = 0; i < 300; i++)
    keepalive_request (f->sock, TRUE);
  for (guint i = 0; i < 50; i++)
    keepalive_request (f->sock, FALSE);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      after = count_fds (pid);
      if (after <= before + 3)
        break;
      g_usleep (50 * 1000);
    }
  g_test_message ("esad fds: %u before, %u after 350 client-closed connections", before, after);
  g_assert_cmpuint (after, <=, before + 3);
  /* And it still answers. */
  keepalive_request (f->sock, TRUE);
}

/* Gone, or a zombie nobody reaped yet (its parent has exited). */
static gboolean
process_gone (gint64 pid)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *stat = NULL;
  const char *end;
  if (kill ((pid_t) pid, 0) != 0 && errno == ESRCH)
    return TRUE;
  if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
    return TRUE;
  end = strrchr (stat, ')');
  return end != NULL && end[1] == ' ' && end[2] == 'Z';
}

/* SIGTERM while the inventory job waits for a 60 s lslpp: esad kills the
 * command through the job's cancellable, waits for the job to end, and only
 * then shuts the plugins down and frees the engine (issue 9 item 4). Under
 * --enable-sanitizers a use-after-free here is an ASan report in the log. */
static void
test_esad_stop_mid_job (Fixture *f, gconstpointer user_data)
{
  g_autofree char *bin = esa_test_src_path ("tests/fixtures/aix-bin");
  g_autofree char *slow_pid_file = g_build_filename (f->dir, "slow.pid", NULL);
  g_autofree char *plugins = g_build_filename (f->dir, "plugins", NULL);
  g_autofree char *text = g_strdup_printf (
      "[agent]\nstate-dir=%s/state\nplugin-dir=%s/plugins\npid-file=%s\nlog-level=info\n\n"
      "[plugins]\nenabled=sysinfo\n\n[job.inventory]\nschedule=every 1h\n",
      f->dir, f->dir, f->pid_file);
  g_autofree char *pid_text = NULL;
  g_autofree char *log = NULL;
  g_autofree char *spool = g_build_filename (f->dir, "state", "spool", NULL);
  g_autoptr (GDir) dir = NULL;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  gint64 slow_pid, stop_start, stop_ms;
  const char *name;
  int rc;

  copy_module ("plugins/sysinfo/.libs/sysinfo.so", plugins, "sysinfo.so");
  esa_test_write_file (f->conf, text, 0644);
  {
    g_autofree char *cmd_path = g_strdup_printf ("ESA_COMMAND_PATH=%s", bin);
    g_autofree char *pid_env = g_strdup_printf ("ESA_FAKE_SLOW_PIDFILE=%s", slow_pid_file);
    const char *env[] = { "ESA_PLATFORM=aix", cmd_path, "ESA_FAKE_SLOW=lslpp:60", pid_env, NULL };
    start_esad_env (f, env);
  }

  /* The job never ran, so it runs at start; wait until lslpp sleeps. */
  while (!g_file_get_contents (slow_pid_file, &pid_text, NULL, NULL))
    {
      if (g_get_monotonic_time () > deadline)
        {
          log = esad_log (f);
          g_test_message ("esad log:\n%s", log);
          g_assert_not_reached ();
        }
      g_usleep (50 * 1000);
    }
  slow_pid = g_ascii_strtoll (pid_text, NULL, 10);
  g_assert_cmpint (slow_pid, >, 1);
  g_assert_false (process_gone (slow_pid));

  stop_start = g_get_monotonic_time ();
  rc = esa_test_stop (f->esad);
  stop_ms = (g_get_monotonic_time () - stop_start) / 1000;
  g_clear_object (&f->esad);
  log = esad_log (f);
  g_test_message ("stopped in %" G_GINT64_FORMAT " ms; esad log:\n%s", stop_ms, log);
  g_assert_cmpint (rc, ==, 0);
  g_assert_null (strstr (log, "AddressSanitizer"));
  g_assert_null (strstr (log, "runtime error"));
  g_assert_null (strstr (log, "still running"));
  g_assert_nonnull (strstr (log, "failed to run sysinfo/inventory"));
  g_assert_nonnull (strstr (log, "stopped"));
  /* The command was killed, not left behind (nor waited out). */
  g_assert_true (process_gone (slow_pid));
  /* The run cut short is not recorded as done: the next start runs it. */
  {
    g_autofree char *jobs = g_build_filename (f->dir, "state", "jobs.json", NULL);
    g_autofree char *jobs_text = NULL;
    if (g_file_get_contents (jobs, &jobs_text, NULL, NULL))
      g_assert_null (strstr (jobs_text, "inventory"));
  }
  /* A half-collected inventory is not sent. */
  dir = g_dir_open (spool, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_assert_false (g_str_has_suffix (name, ".json"));
}

/* Issue 9 item 5: while a job enqueues a 200 MiB attachment (copied,
 * hashed and fsynced into the spool), the control socket keeps answering
 * status and queue listing within 100 ms (a correctness bound, not a
 * benchmark: before, both waited for the whole copy on the queue's mutex). */
static void
test_esad_enqueue_does_not_stall (Fixture *f, gconstpointer user_data)
{
  g_autofree char *plugins = g_build_filename (f->dir, "plugins", NULL);
  g_autofree char *big = g_build_filename (f->dir, "big.bin", NULL);
  g_autofree char *tmp = g_build_filename (f->dir, "state", "spool", "tmp", NULL);
  g_autofree char *text = g_strdup_printf (
      "[agent]\nstate-dir=%s/state\nplugin-dir=%s/plugins\npid-file=%s\nlog-level=info\n\n"
      "[plugins]\nenabled=good\n",
      f->dir, f->dir, f->pid_file);
  JobCall jc = { f->sock, NULL, NULL };
  GThread *thread;
  g_autoptr (GArray) during = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 worst = 0, median;
  guint samples = 0;
  int fd;

  copy_module ("tests/plugins/.libs/good.so", plugins, "good.so");
  esa_test_write_file (f->conf, text, 0644);
  /* Zeros on disk: written for real by the spool copy. */
  fd = g_open (big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 200 * 1024 * 1024), ==, 0);
  close (fd);
  start_esad (f);

  jc.body = g_strdup_printf ("{\"event\": \"good-event\", \"data\": {\"what\": \"big\", \"attach\": \"%s\"}}", big);
  thread = g_thread_new ("job", job_call_thread, &jc);
  while (g_atomic_pointer_get (&jc.answer) == NULL)
    {
      const char *paths[] = { "/v1/status", "/v1/queue?limit=5" };
      for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
        {
          gboolean copying = count_dir (tmp) > 0;
          gint64 t0 = g_get_monotonic_time ();
          g_autofree char *answer = control_http (f->sock, "GET", paths[i], NULL);
          gint64 dt = g_get_monotonic_time () - t0;
          g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 200"));
          /* Samples asked while the copy ran. Before the fix there were at
           * most one or two (each waited for the whole copy). */
          if (copying)
            {
              g_array_append_val (during, dt);
              worst = MAX (worst, dt);
            }
          samples++;
        }
      g_usleep (5000);
    }
  g_thread_join (thread);
  g_assert_true (g_str_has_prefix (jc.answer, "HTTP/1.1 200"));
  g_assert_cmpuint (during->len, >=, 5);
  g_array_sort (during, (GCompareFunc) cmp_gint64);
  median = g_array_index (during, gint64, during->len / 2);
  g_test_message ("%u samples, %u during the copy: median %" G_GINT64_FORMAT " us, slowest %" G_GINT64_FORMAT " us",
                  samples, during->len, median, worst);
  /* The median, not the slowest: on a shared 2-core machine at load 15 the
   * scheduler alone can delay one answer past 100 ms. */
  g_assert_cmpint (median, <, 100 * 1000);
  g_free (jc.body);
  g_free (jc.answer);
}

/* Issue 10 item 7 through the control socket: a truncated report file is
 * counted in `status` ("failed"), listed by `queue list` with its reason,
 * and `queue retry` sees it (and says it is still corrupt). */
static void
test_esad_corrupt_report_listed (Fixture *f, gconstpointer user_data)
{
  g_autofree char *spool = g_build_filename (f->dir, "state", "spool", NULL);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *path = g_strdup_printf ("%s/%s.json", spool, uuid);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) list = NULL;
  JsonArray *failed;
  gint64 deadline;
  int rc;

  g_assert_cmpint (g_mkdir_with_parents (spool, 0700), ==, 0);
  esa_test_write_file (path, "{\"report\": {\"uuid\": \"trunc", 0600);
  start_esad (f);
  /* The spool's thread started at open quarantines it shortly after the start. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (JsonNode) status = esactl_json (f, "status", NULL);
      JsonObject *o = json_node_get_object (status);
      if (json_object_get_int_member (o, "failed") == 1)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20 * 1000);
    }
  list = esactl_json (f, "queue", "list", NULL);
  failed = json_object_get_array_member (json_node_get_object (list), "failed");
  g_assert_cmpuint (json_array_get_length (failed), ==, 1);
  {
    /* Not among the queued ones (the heartbeat job may have queued its own). */
    g_autofree char *queued = json_to_string (json_object_get_member (json_node_get_object (list), "queued"), FALSE);
    g_assert_null (strstr (queued, uuid));
  }
  {
    JsonObject *e = json_array_get_object_element (failed, 0);
    g_assert_cmpstr (json_object_get_string_member (e, "uuid"), ==, uuid);
    g_assert_true (json_object_get_boolean_member (e, "corrupt"));
    g_assert_true (g_str_has_prefix (json_object_get_string_member (e, "failed_reason"), "spool file corrupt: "));
  }
  rc = esactl (f, &out, &err, "queue", "list", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "spool file corrupt"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = esactl (f, &out, &err, "queue", "retry", uuid, NULL);
  g_assert_cmpint (rc, !=, 0);
  g_assert_nonnull (strstr (err, "still corrupt"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/esad/lifecycle", test_esad_lifecycle);
  ADD ("/esad/stale-socket", test_esad_stale_socket);
  ADD ("/esad/bad-config", test_esad_bad_config);
  ADD ("/esad/keepalive-fds", test_esad_keepalive_fds);
  ADD ("/esad/broken-config-on-disk", test_esad_broken_config_on_disk);
  ADD ("/esad/stop-mid-job", test_esad_stop_mid_job);
  ADD ("/esad/enqueue-does-not-stall", test_esad_enqueue_does_not_stall);
  ADD ("/esad/corrupt-report-listed", test_esad_corrupt_report_listed);
#undef ADD
  return g_test_run ();
}
