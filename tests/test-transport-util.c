/* test-transport-util.c: processes and files shared by the transport
 * end-to-end tests (see test-transport-util.h). */
#include "config.h"

#include "test-transport-util.h"
#include "esa-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

static GSubprocessLauncher *
launcher_new (GSubprocessFlags flags)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new (flags);
  g_subprocess_launcher_set_child_setup (l, esa_test_die_with_parent, NULL, NULL);
  return l;
}

void
et_init_env (void)
{
  g_autofree char *bin = esa_test_src_path ("tests/fixtures/aix-bin");
  g_setenv ("ESA_PLATFORM", "aix", TRUE);
  g_setenv ("ESA_COMMAND_PATH", bin, TRUE);
  g_unsetenv ("ESA_FAKE_AIX_MACHINE");
  /* Never a proxy from the environment: each test says which one it wants. */
  g_unsetenv ("http_proxy");
  g_unsetenv ("https_proxy");
  g_unsetenv ("HTTPS_PROXY");
  g_unsetenv ("all_proxy");
}

char *
et_bin (const char *rel)
{
  return esa_test_build_path (rel);
}

static int
run_argv (GPtrArray *argv, char **out, char **err)
{
  g_ptr_array_add (argv, NULL);
  return esa_test_run ((const char *const *) argv->pdata, out, err);
}

EtWorld *
et_world_new (const char *const *init_args)
{
  EtWorld *w = g_new0 (EtWorld, 1);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *plugins = NULL;
  int rc;

  w->dir = esa_test_mkdtemp ("test-transport");
  w->sdc_dir = g_build_filename (w->dir, "sdc", NULL);
  w->sdc_log = g_build_filename (w->dir, "sdc.log", NULL);
  w->esad_log = g_build_filename (w->dir, "esad.log", NULL);
  w->conf = g_build_filename (w->dir, "esa.conf", NULL);
  w->state_dir = g_build_filename (w->dir, "state", NULL);
  w->procs = g_ptr_array_new_with_free_func (g_object_unref);
  w->port = esa_test_free_port ();
  do
    w->http_port = esa_test_free_port ();
  while (w->http_port == w->port);

  g_ptr_array_add (argv, et_bin ("sdc/esa-sdc"));
  g_ptr_array_add (argv, g_strdup ("init"));
  g_ptr_array_add (argv, g_strdup (w->sdc_dir));
  for (guint i = 0; init_args != NULL && init_args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (init_args[i]));
  rc = run_argv (argv, &out, &err);
  if (rc != 0)
    g_printerr ("esa-sdc init: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);

  /* The loader wants plugins owned by us and not group/world writable. */
  plugins = g_build_filename (w->dir, "plugins", NULL);
  g_assert_cmpint (g_mkdir (plugins, 0755), ==, 0);
  et_install_plugin (w, "heartbeat");
  return w;
}

void
et_install_module (EtWorld *w, const char *so, const char *name)
{
  g_autofree char *base = g_strdup_printf ("%s.so", name);
  g_autofree char *dst = g_build_filename (w->dir, "plugins", base, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (so, &data, &len, NULL));
  g_assert_true (g_file_set_contents (dst, data, (gssize) len, NULL));
  g_assert_cmpint (g_chmod (dst, 0755), ==, 0);
}

void
et_install_plugin (EtWorld *w, const char *name)
{
  g_autofree char *rel = g_strdup_printf ("plugins/%s/.libs/%s.so", name, name);
  g_autofree char *so = et_bin (rel);
  et_install_module (w, so, name);
}

void
et_world_free (EtWorld *w)
{
  if (w == NULL)
    return;
  et_esad_stop (w);
  et_sdc_stop (w);
  for (guint i = 0; i < w->procs->len; i++)
    esa_test_stop (g_ptr_array_index (w->procs, i));
  g_ptr_array_unref (w->procs);
  if (g_getenv ("ET_KEEP") == NULL)
    esa_test_rmtree (w->dir);
  else
    g_printerr ("# kept %s\n", w->dir);
  g_free (w->dir);
  g_free (w->sdc_dir);
  g_free (w->sdc_log);
  g_free (w->esad_log);
  g_free (w->conf);
  g_free (w->state_dir);
  g_free (w);
}

void
et_sdc_start (EtWorld *w, const char *const *extra)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_assert_null (w->sdc);
  g_ptr_array_add (argv, et_bin ("sdc/esa-sdc"));
  g_ptr_array_add (argv, g_strdup ("serve"));
  g_ptr_array_add (argv, g_strdup_printf ("--dir=%s", w->sdc_dir));
  g_ptr_array_add (argv, g_strdup_printf ("--listen=127.0.0.1:%u", w->port));
  g_ptr_array_add (argv, g_strdup_printf ("--listen=[::1]:%u", w->port));
  g_ptr_array_add (argv, g_strdup_printf ("--http-listen=127.0.0.1:%u", w->http_port));
  /* two HTTPS loops, as on a 4-core host: the agents' tests go through both */
  g_ptr_array_add (argv, g_strdup ("--http-threads=2"));
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra[i]));
  g_ptr_array_add (argv, NULL);
  /* Appends: a restarted SDC keeps the earlier lines. */
  {
    g_autoptr (GSubprocessLauncher) l = launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_autoptr (GError) error = NULL;
    g_subprocess_launcher_set_stderr_file_path (l, w->sdc_log);
    w->sdc = g_subprocess_launcher_spawnv (l, (const char *const *) argv->pdata, &error);
    g_assert_no_error (error);
  }
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", w->port, 10000));
  g_assert_true (esa_test_wait_for_port ("::1", w->port, 10000));
}

void
et_sdc_stop (EtWorld *w)
{
  if (w->sdc == NULL)
    return;
  esa_test_stop (w->sdc);
  g_clear_object (&w->sdc);
}

void
et_write_conf (EtWorld *w, const char *sections)
{
  g_autofree char *text = g_strdup_printf ("[agent]\n"
                                           "state-dir=%s\n"
                                           "plugin-dir=%s/plugins\n"
                                           "[plugins]\n"
                                           "enabled=heartbeat\n"
                                           "%s"
                                           "%s",
                                           w->state_dir, w->dir,
                                           sections && strstr (sections, "[activation]") ? ""
                                               : "[activation]\nvendors=*\n",
                                           sections ? sections : "");
  esa_test_write_file (w->conf, text, 0644);
}

void
et_esad_start (EtWorld *w, const char *const *env)
{
  g_autoptr (GSubprocessLauncher) l = launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GError) error = NULL;
  g_autofree char *esad = et_bin ("daemon/esad");
  const char *argv[] = { esad, "-f", "-c", w->conf, NULL };
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  gboolean up = FALSE;

  g_assert_null (w->esad);
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    {
      g_auto (GStrv) kv = g_strsplit (env[i], "=", 2);
      g_subprocess_launcher_setenv (l, kv[0], kv[1], TRUE);
    }
  g_subprocess_launcher_set_stderr_file_path (l, w->esad_log);
  w->esad = g_subprocess_launcher_spawnv (l, argv, &error);
  g_assert_no_error (error);
  while (!up && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_subprocess_get_identifier (w->esad) == NULL)
        break;
      up = et_esactl (w, NULL, NULL, "status", NULL) == 0;
      if (!up)
        g_usleep (50 * 1000);
    }
  if (!up)
    {
      g_autofree char *log = NULL;
      g_file_get_contents (w->esad_log, &log, NULL, NULL);
      g_printerr ("esad did not come up:\n%s\n", log ? log : "");
    }
  g_assert_true (up);
}

void
et_esad_stop (EtWorld *w)
{
  if (w->esad == NULL)
    return;
  esa_test_stop (w->esad);
  g_clear_object (&w->esad);
}

int
et_esactl (EtWorld *w, char **out, char **err, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  const char *arg;
  va_list ap;
  g_ptr_array_add (argv, et_bin ("cli/esactl"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup (w->conf));
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  return run_argv (argv, out, err);
}

void
et_activate (EtWorld *w)
{
  g_autofree char *server = g_strdup_printf ("https://localhost:%u/", w->port);
  g_autofree char *out = NULL, *err = NULL;
  int rc = et_esactl (w, &out, &err, "activate", "--server", server, NULL);
  if (rc != 0)
    g_printerr ("activate: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "activated: system id"));
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_data (p, text, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (json_parser_get_root (p));
  return json_node_copy (json_parser_get_root (p));
}

JsonNode *
et_sdc_reports (EtWorld *w)
{
  g_autofree char *sdc = et_bin ("sdc/esa-sdc");
  g_autofree char *dir = g_strdup_printf ("--dir=%s", w->sdc_dir);
  const char *argv[] = { sdc, "reports", dir, "--json", NULL };
  g_autofree char *out = NULL, *err = NULL;
  int rc = esa_test_run (argv, &out, &err);
  if (rc != 0)
    g_printerr ("esa-sdc reports: %s", err);
  g_assert_cmpint (rc, ==, 0);
  return parse_json (out);
}

guint
et_sdc_count_uuid (EtWorld *w, const char *uuid)
{
  g_autoptr (JsonNode) n = et_sdc_reports (w);
  JsonArray *a = json_node_get_array (n);
  guint count = 0;
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (a, i), "uuid"), uuid) == 0)
      count++;
  return count;
}

guint
et_sdc_count_all (EtWorld *w)
{
  g_autoptr (JsonNode) n = et_sdc_reports (w);
  return json_array_get_length (json_node_get_array (n));
}

JsonNode *
et_queue_list (EtWorld *w)
{
  g_autofree char *out = NULL, *err = NULL;
  int rc = et_esactl (w, &out, &err, "queue", "list", "--json", NULL);
  if (rc != 0)
    g_printerr ("queue list: %s", err);
  g_assert_cmpint (rc, ==, 0);
  return parse_json (out);
}

GSubprocess *
et_tinyproxy_start (EtWorld *w, guint16 port, guint16 connect_port, guint16 connect_port2,
                    const char *user, const char *password)
{
  g_autofree char *conf = g_strdup_printf ("%s/tinyproxy-%u.conf", w->dir, port);
  g_autofree char *log = g_strdup_printf ("%s/tinyproxy-%u.log", w->dir, port);
  g_autoptr (GString) text = g_string_new (NULL);
  GSubprocess *proc;
  const char *argv[] = { "/usr/bin/tinyproxy", "-d", "-c", conf, NULL };

  g_string_append_printf (text, "Port %u\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 30\n"
                          "LogLevel Info\nMaxClients 20\nConnectPort %u\n", port, connect_port);
  if (connect_port2 != 0)
    g_string_append_printf (text, "ConnectPort %u\n", connect_port2);
  if (user != NULL)
    g_string_append_printf (text, "BasicAuth %s %s\n", user, password);
  /* tinyproxy runs as root when asked to; as another user it could not read
   * its config in our 0700 temp dir. */
  esa_test_write_file (conf, text->str, 0644);
  {
    g_autoptr (GSubprocessLauncher) l = launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_autoptr (GError) error = NULL;
    g_subprocess_launcher_set_stdout_file_path (l, log);
    proc = g_subprocess_launcher_spawnv (l, argv, &error);
    g_assert_no_error (error);
  }
  g_ptr_array_add (w->procs, proc);
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", port, 10000));
  return proc;
}

char *
et_write_secret (EtWorld *w, const char *name, const char *text)
{
  char *path = g_build_filename (w->dir, name, NULL);
  esa_test_write_file (path, text, 0600);
  return path;
}

guint
et_sdc_log_count (EtWorld *w, ...)
{
  g_autofree char *log = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) words = g_ptr_array_new ();
  const char *word;
  guint count = 0;
  va_list ap;
  va_start (ap, w);
  while ((word = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (words, (gpointer) word);
  va_end (ap);
  if (!g_file_get_contents (w->sdc_log, &log, NULL, NULL))
    return 0;
  lines = g_strsplit (log, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gboolean all = TRUE;
      for (guint j = 0; j < words->len && all; j++)
        all = strstr (lines[i], g_ptr_array_index (words, j)) != NULL;
      if (all && words->len > 0)
        count++;
    }
  return count;
}

void
et_certtool (const char *const *argv)
{
  g_autofree char *out = NULL, *err = NULL;
  int rc = esa_test_run (argv, &out, &err);
  if (rc != 0)
    g_printerr ("certtool: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
}

/* ---- a stand-in server (see et_stub_start) ---- */

struct _EtStub {
  GSocketListener *listener;
  GCancellable *cancel;
  GTlsCertificate *cert;   /* NULL: plain HTTP */
  char *response;
  EtStubFunc func;         /* or an answer made for each request */
  gpointer func_data;
  guint16 port;
  GThread *thread;
  gint requests;           /* atomic */
  gint64 bytes;            /* under lock */
  gint64 sent;             /* under lock: bytes of answers written */
  GMutex lock;
};

static void
stub_add_bytes (EtStub *stub, gsize n)
{
  g_mutex_lock (&stub->lock);
  stub->bytes += (gint64) n;
  g_mutex_unlock (&stub->lock);
}

/* Reads one request (head, then a Content-Length body unless the client
 * waits for 100-continue) and answers it. */
static void
stub_serve (EtStub *stub, GIOStream *io)
{
  GInputStream *in = g_io_stream_get_input_stream (io);
  g_autoptr (GString) head = g_string_new (NULL);
  char buf[16384];
  gssize n;
  const char *end;
  g_autofree char *lower = NULL;
  const char *cl;
  gint64 want = 0, have;

  while ((end = strstr (head->str, "\r\n\r\n")) == NULL)
    {
      n = g_input_stream_read (in, buf, sizeof buf - 1, stub->cancel, NULL);
      if (n <= 0)
        return;
      stub_add_bytes (stub, (gsize) n);
      g_string_append_len (head, buf, n);
    }
  g_atomic_int_inc (&stub->requests);
  lower = g_ascii_strdown (head->str, (gssize) (end - head->str));
  cl = strstr (lower, "\ncontent-length:");
  if (cl != NULL && strstr (lower, "\nexpect: 100-continue") == NULL)
    want = g_ascii_strtoll (cl + strlen ("\ncontent-length:"), NULL, 10);
  have = (gint64) head->len - (gint64) (end + 4 - head->str);
  {
    g_autoptr (GString) body = g_string_new_len (end + 4, (gssize) have);
    while (have < want && (n = g_input_stream_read (in, buf, sizeof buf, stub->cancel, NULL)) > 0)
      {
        stub_add_bytes (stub, (gsize) n);
        if (stub->func != NULL)
          g_string_append_len (body, buf, n);
        have += n;
      }
    if (stub->func != NULL)
      {
        g_autofree char *request = g_strndup (head->str, (gsize) (end - head->str));
        g_free (stub->response);
        stub->response = stub->func (request, body, stub->func_data);
        if (stub->response == NULL)
          return; /* no answer: the connection is closed */
      }
  }
  {
    gsize written = 0;
    g_output_stream_write_all (g_io_stream_get_output_stream (io), stub->response, strlen (stub->response),
                               &written, stub->cancel, NULL);
    g_mutex_lock (&stub->lock);
    stub->sent += (gint64) written;
    g_mutex_unlock (&stub->lock);
  }
}

static gpointer
stub_thread (gpointer data)
{
  EtStub *stub = data;
  for (;;)
    {
      g_autoptr (GSocketConnection) conn = g_socket_listener_accept (stub->listener, NULL, stub->cancel, NULL);
      g_autoptr (GIOStream) io = NULL;
      if (conn == NULL)
        {
          if (g_cancellable_is_cancelled (stub->cancel))
            return NULL;
          continue;
        }
      if (stub->cert != NULL)
        {
          io = g_tls_server_connection_new (G_IO_STREAM (conn), stub->cert, NULL);
          if (io == NULL || !g_tls_connection_handshake (G_TLS_CONNECTION (io), stub->cancel, NULL))
            continue;
        }
      else
        io = G_IO_STREAM (g_object_ref (conn));
      stub_serve (stub, io);
      g_io_stream_close (io, NULL, NULL);
    }
}

EtStub *
et_stub_start (EtWorld *w, gboolean tls, const char *response)
{
  EtStub *stub = g_new0 (EtStub, 1);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  g_mutex_init (&stub->lock);
  stub->listener = g_socket_listener_new ();
  stub->cancel = g_cancellable_new ();
  stub->response = g_strdup (response);
  g_socket_listener_add_address (stub->listener, addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &bound, &error);
  g_assert_no_error (error);
  stub->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  if (tls)
    {
      g_autofree char *cert = g_build_filename (w->sdc_dir, "server.pem", NULL);
      g_autofree char *key = g_build_filename (w->sdc_dir, "server-key.pem", NULL);
      stub->cert = g_tls_certificate_new_from_files (cert, key, &error);
      g_assert_no_error (error);
    }
  stub->thread = g_thread_new ("et-stub", stub_thread, stub);
  return stub;
}

EtStub *
et_stub_start_with (EtWorld *w, gboolean tls, EtStubFunc func, gpointer data)
{
  EtStub *stub = et_stub_start (w, tls, "");
  /* the stub's thread reads them only once a request arrives */
  stub->func_data = data;
  g_atomic_pointer_set (&stub->func, func);
  return stub;
}

guint16
et_stub_port (EtStub *stub)
{
  return stub->port;
}

guint
et_stub_requests (EtStub *stub)
{
  return (guint) g_atomic_int_get (&stub->requests);
}

guint64
et_stub_bytes (EtStub *stub)
{
  gint64 n;
  g_mutex_lock (&stub->lock);
  n = stub->bytes;
  g_mutex_unlock (&stub->lock);
  return (guint64) n;
}

guint64
et_stub_sent (EtStub *stub)
{
  gint64 n;
  g_mutex_lock (&stub->lock);
  n = stub->sent;
  g_mutex_unlock (&stub->lock);
  return (guint64) n;
}

void
et_stub_stop (EtStub *stub)
{
  if (stub == NULL)
    return;
  g_cancellable_cancel (stub->cancel);
  g_thread_join (stub->thread);
  g_socket_listener_close (stub->listener);
  g_object_unref (stub->listener);
  g_object_unref (stub->cancel);
  g_clear_object (&stub->cert);
  g_mutex_clear (&stub->lock);
  g_free (stub->response);
  g_free (stub);
}

/* ---- a queue to drain (see et_enqueue_reports) ---- */

GPtrArray *
et_enqueue_reports (EtWorld *w, guint want)
{
  g_autofree char *writer = esa_test_build_path ("tests/queue-writer");
  g_autofree char *spool = g_build_filename (w->state_dir, "spool", NULL);
  g_autofree char *scratch = g_build_filename (w->dir, "writer", NULL);
  g_autofree char *out_path = g_build_filename (w->dir, "writer.out", NULL);
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *uuids = g_ptr_array_new_with_free_func (g_free);
  const char *argv[] = { writer, spool, scratch, NULL };
  GSubprocess *proc;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  g_assert_cmpint (g_mkdir_with_parents (scratch, 0700), ==, 0);
  {
    g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
    g_autoptr (GError) error = NULL;
    g_subprocess_launcher_set_stdout_file_path (l, out_path);
    proc = g_subprocess_launcher_spawnv (l, argv, &error);
    g_assert_no_error (error);
  }
  for (;;)
    {
      g_autofree char *text = NULL;
      g_file_get_contents (out_path, &text, NULL, NULL);
      if ((text != NULL && g_strv_length (lines = g_strsplit (text, "\n", -1)) > want) ||
          g_get_monotonic_time () > deadline)
        break;
      g_clear_pointer (&lines, g_strfreev);
      g_usleep (20000);
    }
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  g_object_unref (proc);
  g_clear_pointer (&lines, g_strfreev);
  g_assert_true (g_file_get_contents (out_path, &out, NULL, NULL));
  lines = g_strsplit (out, "\n", -1);
  /* only complete lines: each is a report the queue promised to keep */
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    if (strlen (lines[i]) == 36)
      g_ptr_array_add (uuids, g_strdup (lines[i]));
  g_assert_cmpuint (uuids->len, >=, want);
  return uuids;
}
