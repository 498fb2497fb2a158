/* test-control.c: the control socket — the peer-credential check (a user
 * that is not allowed gets 403 with a JSON error, even through a 0666
 * socket), JSON errors for unknown calls and malformed bodies, and the
 * socket path claimed only from a dead esad. */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "esa-control-private.h"
#include "esa-control-routes-private.h"
#include "esa-sender-routes-private.h"
#include "esa-test-util.h"
#include "esa/esa-error.h"

typedef struct {
  char *dir;
  char *sock;
  EsaEngine *engine;
  EsaControl *control;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer user_data)
{
  g_autofree char *conf = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  EsaConfig *config;

  f->dir = esa_test_mkdtemp ("esa-control");
  f->sock = g_build_filename (f->dir, "esad.sock", NULL);
  conf = g_build_filename (f->dir, "esa.conf", NULL);
  /* A control group nobody is in. */
  text = g_strdup_printf ("[agent]\nstate-dir=%s/state\nplugin-dir=%s/none\nsocket=%s\n"
                          "control-group=esa-test-nobody\n",
                          f->dir, f->dir, f->sock);
  esa_test_write_file (conf, text, 0644);
  config = esa_config_load (conf, &error);
  g_assert_no_error (error);
  f->engine = esa_engine_new (config, &error);
  g_assert_no_error (error);
  f->control = esa_control_new (f->engine, f->sock, &error);
  g_assert_no_error (error);
  esa_control_add_core_routes (f->control);
}

static void
fixture_teardown (Fixture *f, gconstpointer user_data)
{
  esa_control_free (f->control);
  g_assert_false (g_file_test (f->sock, G_FILE_TEST_EXISTS));
  esa_engine_free (f->engine);
  esa_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->sock);
}

/* ---- a client in the same process (the server needs the main loop) ---- */

typedef struct {
  gboolean done;
  GBytes *body;
  GError *error;
} Reply;

static void
reply_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Reply *r = user_data;
  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), res, &r->error);
  r->done = TRUE;
}

/* Returns the HTTP status; *json gets the parsed body. */
static guint
call (Fixture *f, const char *method, const char *path, const char *body, JsonNode **json)
{
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (f->sock);
  g_autoptr (SoupSession) session = soup_session_new_with_options ("remote-connectable", addr, NULL);
  g_autofree char *uri = g_strdup_printf ("http://esad%s", path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  Reply r = { 0 };
  if (body != NULL)
    {
      g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", b);
    }
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, reply_cb, &r);
  ESA_TEST_WAIT_UNTIL (r.done);
  g_assert_no_error (r.error);
  json_parser_load_from_data (parser, g_bytes_get_data (r.body, NULL), (gssize) g_bytes_get_size (r.body), &error);
  g_assert_no_error (error);
  *json = json_node_copy (json_parser_get_root (parser));
  g_bytes_unref (r.body);
  return soup_message_get_status (msg);
}

static const char *
error_code (JsonNode *json)
{
  JsonObject *e = json_object_get_object_member (json_node_get_object (json), "error");
  g_assert_nonnull (e);
  g_assert_nonnull (json_object_get_string_member (e, "message"));
  return json_object_get_string_member (e, "code");
}

static void
test_control_allowed (Fixture *f, gconstpointer user_data)
{
  g_autoptr (JsonNode) json = NULL;
  guint status = call (f, "GET", "/v1/status", NULL, &json);
  JsonObject *o;
  g_assert_cmpuint (status, ==, 200);
  o = json_node_get_object (json);
  g_assert_cmpint (json_object_get_int_member (o, "pid"), ==, getpid ());
  g_assert_cmpint (json_object_get_int_member (o, "queued"), ==, 0);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "jobs")));
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "GET", "/v1/plugins", NULL, &json), ==, 200);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json));
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "GET", "/v1/queue", NULL, &json), ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (json), "queued")), ==, 0);
}

static void
test_control_errors (Fixture *f, gconstpointer user_data)
{
  g_autoptr (JsonNode) json = NULL;
  g_assert_cmpuint (call (f, "GET", "/v1/nosuch", NULL, &json), ==, 404);
  g_assert_cmpstr (error_code (json), ==, "not_found");
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "DELETE", "/v1/status", NULL, &json), ==, 404);
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "POST", "/v1/events", "{not json", &json), ==, 400);
  g_assert_cmpstr (error_code (json), ==, "invalid_json");
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "POST", "/v1/events", "[1, 2]", &json), ==, 400);
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "POST", "/v1/events", "{}", &json), ==, 400);
  g_assert_cmpstr (error_code (json), ==, "invalid_data");
  g_clear_pointer (&json, json_node_unref);
  /* Members of the wrong type are bad requests, not criticals in esad. */
  g_assert_cmpuint (call (f, "POST", "/v1/events", "{\"event\": {\"a\": 1}}", &json), ==, 400);
  g_assert_cmpstr (error_code (json), ==, "invalid_data");
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "POST", "/v1/events", "{\"event\": [\"x\"]}", &json), ==, 400);
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "POST", "/v1/jobs/nosuch/run", "{\"event\": [1]}", &json), ==, 400);
  g_assert_cmpstr (error_code (json), ==, "invalid_data");
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "POST", "/v1/jobs/nosuch/run", "{}", &json), ==, 404);
  g_assert_cmpstr (error_code (json), ==, "not_found");
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (call (f, "POST", "/v1/jobs/nosuch", "{}", &json), ==, 404);
  g_clear_pointer (&json, json_node_unref);
  /* Deep nesting is refused before json-glib's recursive parser sees it
   * (100,000 '[' overflow its stack: esad would die). */
  {
    g_autofree char *deep = g_strnfill (100000, '[');
    g_assert_cmpuint (call (f, "POST", "/v1/events", deep, &json), ==, 400);
    g_assert_cmpstr (error_code (json), ==, "invalid_json");
    g_assert_nonnull (strstr (json_object_get_string_member (json_object_get_object_member (
                                  json_node_get_object (json), "error"), "message"), "nested deeper"));
    g_clear_pointer (&json, json_node_unref);
  }
  /* A well-formed event nobody waits for is accepted. */
  g_assert_cmpuint (call (f, "POST", "/v1/events", "{\"event\": \"disk-error\", \"data\": {\"d\": \"hdisk0\"}}", &json), ==, 200);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (json), "accepted"));
}

static void
test_control_peer_allowed_self (Fixture *f, gconstpointer user_data)
{
  int fds[2];
  g_autoptr (GSocket) a = NULL;
  g_autoptr (GSocket) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *why = NULL;
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  a = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  b = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  /* Our own user is always allowed (root, or esad's own user). */
  g_assert_true (esa_control_peer_allowed (a, "esa-test-nobody", &why));
  g_assert_null (why);
  g_assert_true (esa_control_peer_allowed (b, NULL, &why));
  g_assert_null (why);
}

/* The child: become nobody, speak HTTP by hand, write the answer to @out.
 * Only plain system calls after fork (the parent has threads). */
static void
child_request_as (const char *sock_path, gid_t gid, int out)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  const char req[] = "GET /v1/status HTTP/1.1\r\nHost: esad\r\nConnection: close\r\n\r\n";
  char buf[4096];
  ssize_t n;
  int fd;
  if (setgroups (0, NULL) != 0 || setgid (gid) != 0 || setuid (65534) != 0)
    _exit (10);
  if (getuid () != 65534)
    _exit (11);
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  strncpy (sa.sun_path, sock_path, sizeof sa.sun_path - 1);
  if (fd < 0)
    _exit (12);
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0)
    _exit (errno == EACCES ? 20 : 12);
  if (write (fd, req, sizeof req - 1) != (ssize_t) (sizeof req - 1))
    _exit (13);
  while ((n = read (fd, buf, sizeof buf)) > 0)
    if (write (out, buf, (size_t) n) != n)
      _exit (14);
  _exit (0);
}

static void
child_exited (GPid pid, gint status, gpointer user_data)
{
  *(gint *) user_data = status;
}

/* Runs child_request_as in a child (uid 65534, primary group @gid) while
 * this process serves; returns the child's exit code, *answer its reply. */
static int
request_as_nobody (const char *sock, gid_t gid, GString *answer)
{
  int pipefd[2];
  pid_t pid;
  gint status = -1;
  char buf[4096];
  ssize_t n;
  g_assert_cmpint (pipe (pipefd), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (pipefd[0]);
      child_request_as (sock, gid, pipefd[1]);
    }
  close (pipefd[1]);
  g_child_watch_add (pid, child_exited, &status);
  ESA_TEST_WAIT_UNTIL (status != -1);
  while ((n = read (pipefd[0], buf, sizeof buf)) > 0)
    g_string_append_len (answer, buf, n);
  close (pipefd[0]);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_control_peer_refused (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GString) answer = g_string_new (NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  const char *body;
  JsonObject *e;
  int rc;

  if (geteuid () != 0)
    {
      g_test_skip ("needs root to connect as another user (CI runs the suite as root)");
      return;
    }
  g_test_message ("running as root: a child drops to uid 65534 and must be refused");
  /* Open the first gate (file mode) so the second (peer credentials) is
   * what refuses. */
  g_assert_cmpint (g_chmod (f->dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (f->sock, 0666), ==, 0);
  rc = request_as_nobody (f->sock, 65534, answer);
  g_test_message ("child exit %d, answer:\n%s", rc, answer->str);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (g_str_has_prefix (answer->str, "HTTP/1.1 403"));
  body = strstr (answer->str, "\r\n\r\n");
  g_assert_nonnull (body);
  json_parser_load_from_data (parser, body + 4, -1, &error);
  g_assert_no_error (error);
  e = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "error");
  g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "forbidden");
  g_assert_nonnull (strstr (json_object_get_string_member (e, "message"), "uid 65534 is not root and not in group esa-test-nobody"));
}

/* Who may export the queue where (esad writes the folder as root). */
static void
test_export_dir_policy (Fixture *f, gconstpointer user_data)
{
  g_autofree char *conf = g_build_filename (f->dir, "export.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[agent]\nstate-dir=%s/state\n[transport]\noutbox=%s/outbox\n", f->dir, f->dir);
  g_autofree char *outbox = g_build_filename (f->dir, "outbox", NULL);
  g_autofree char *outbox_slash = g_strdup_printf ("%s/./", outbox);
  g_autoptr (EsaConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  esa_test_write_file (conf, text, 0644);
  config = esa_config_load (conf, &error);
  g_assert_no_error (error);
  /* root and esad's own user: any folder. */
  g_assert_true (esa_export_dir_allowed (config, 0, 1000, "/etc", NULL));
  g_assert_true (esa_export_dir_allowed (config, 1000, 1000, "/anywhere", NULL));
  /* a control-group member: the configured outbox only. */
  g_assert_true (esa_export_dir_allowed (config, 1001, 0, outbox, NULL));
  g_assert_true (esa_export_dir_allowed (config, 1001, 0, outbox_slash, NULL));
  g_assert_false (esa_export_dir_allowed (config, 1001, 0, "/etc", &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "outbox="));
  g_clear_error (&error);
  g_assert_false (esa_export_dir_allowed (config, 1001, 0, NULL, &error));
  g_clear_error (&error);
}

/* Activation decides where every report goes: a control-group member may only
 * name a server esa.conf already lists (a hostile member could otherwise send
 * the machine's reports to an SDC of their own with any CA-signed certificate). */
static void
test_activate_server_policy (Fixture *f, gconstpointer user_data)
{
  g_autofree char *conf = g_build_filename (f->dir, "activate.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[agent]\nstate-dir=%s/state\n[sdc]\nservers=https://sdc.example:8443/\n",
                                           f->dir);
  g_autoptr (EsaConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  esa_test_write_file (conf, text, 0644);
  config = esa_config_load (conf, &error);
  g_assert_no_error (error);
  /* root and esad's own user: any server */
  g_assert_true (esa_activate_server_allowed (config, 0, 1000, "https://elsewhere.example/", NULL));
  g_assert_true (esa_activate_server_allowed (config, 1000, 1000, "https://elsewhere.example/", NULL));
  /* a control-group member: the configured servers (or none named) only */
  g_assert_true (esa_activate_server_allowed (config, 1001, 0, NULL, NULL));
  g_assert_true (esa_activate_server_allowed (config, 1001, 0, "https://sdc.example:8443", NULL));
  g_assert_false (esa_activate_server_allowed (config, 1001, 0, "https://elsewhere.example/", &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "servers="));
}

static void
test_control_socket_claim (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *stale = g_build_filename (f->dir, "stale.sock", NULL);
  EsaControl *second;

  /* A live esad's socket is never stolen. */
  second = esa_control_new (f->engine, f->sock, &error);
  g_assert_null (second);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "another esad is already listening"));
  g_assert_true (g_file_test (f->sock, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* A crashed esad's socket (nobody listening) is replaced. */
  {
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strncpy (sa.sun_path, stale, sizeof sa.sun_path - 1);
    g_assert_cmpint (bind (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
    close (fd);
  }
  second = esa_control_new (f->engine, stale, &error);
  g_assert_no_error (error);
  g_assert_nonnull (second);
  esa_control_free (second);
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));
}

/* A group with no listed members that is not nobody's (65534) group: the
 * control group of the group tests, so nobody is a member only when a child
 * takes it as its group. */
static struct group *
find_unused_group (void)
{
  struct group *gr;
  setgrent ();
  while ((gr = getgrent ()) != NULL)
    if (gr->gr_gid != 0 && gr->gr_gid != 65534 && (gr->gr_mem == NULL || gr->gr_mem[0] == NULL))
      break;
  endgrent ();
  return gr;
}

typedef struct {
  char *dir;
  char *state;
  char *run;
  char *sock;
  EsaEngine *engine;
} GroupSetup;

/* esad's default socket place: <state-dir>/run/esad.sock, group @group. */
static EsaControl *
group_setup (GroupSetup *g, const char *group, GError **error)
{
  g_autofree char *conf = g_build_filename (g->dir, "esa.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[agent]\nstate-dir=%s\nplugin-dir=%s/none\ncontrol-group=%s\n",
                                           g->state, g->dir, group);
  g_autoptr (GError) local = NULL;
  EsaConfig *config;
  esa_test_write_file (conf, text, 0644);
  config = esa_config_load (conf, &local);
  g_assert_no_error (local);
  g_assert_cmpstr (esa_config_get_socket_path (config), ==, g->sock);
  g->engine = esa_engine_new (config, &local);
  g_assert_no_error (local);
  return esa_control_new (g->engine, g->sock, error);
}

static void
group_setup_init (GroupSetup *g)
{
  g->dir = esa_test_mkdtemp ("esa-control-group");
  /* Like /var: anyone may pass; the state folder is where the gates are. */
  g_assert_cmpint (g_chmod (g->dir, 0755), ==, 0);
  g->state = g_build_filename (g->dir, "state", NULL);
  g->run = g_build_filename (g->state, "run", NULL);
  g->sock = g_build_filename (g->run, "esad.sock", NULL);
}

static void
group_setup_clear (GroupSetup *g)
{
  g_clear_pointer (&g->engine, esa_engine_free);
  esa_test_rmtree (g->dir);
  g_free (g->dir);
  g_free (g->state);
  g_free (g->run);
  g_free (g->sock);
}

/* The group feature: a member of control-group reaches the socket with
 * esad's default paths (the folder gate and the peer check let it in), a
 * non-member is stopped by the folder's mode already. */
static void
test_control_group_member (Fixture *f, gconstpointer user_data)
{
  GroupSetup g = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) answer = g_string_new (NULL);
  EsaControl *control;
  struct group *gr;
  gid_t gid;
  GStatBuf st;

  if (geteuid () != 0)
    {
      g_test_skip ("needs root to connect as another user and group (CI runs the suite as root)");
      return;
    }
  gr = find_unused_group ();
  g_assert_nonnull (gr);
  gid = gr->gr_gid;
  g_test_message ("running as root: children as uid 65534 with group %s (%u) and without it", gr->gr_name, (guint) gid);
  group_setup_init (&g);
  control = group_setup (&g, gr->gr_name, &error);
  g_assert_no_error (error);
  esa_control_add_core_routes (control);

  g_assert_cmpint (g_stat (g.run, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0750);
  g_assert_cmpint (st.st_gid, ==, gid);
  g_assert_cmpint (g_stat (g.state, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0710);
  g_assert_cmpint (st.st_gid, ==, gid);

  /* A member: in through both gates. */
  g_assert_cmpint (request_as_nobody (g.sock, gid, answer), ==, 0);
  g_test_message ("member: %s", answer->str);
  g_assert_true (g_str_has_prefix (answer->str, "HTTP/1.1 200"));
  /* Not a member: the folder's mode stops it at connect (). */
  g_string_truncate (answer, 0);
  g_assert_cmpint (request_as_nobody (g.sock, 65534, answer), ==, 20);
  esa_control_free (control);
  group_setup_clear (&g);
}

/* The socket folder must be esad's own real folder. */
static void
test_control_socket_folder_refused (Fixture *f, gconstpointer user_data)
{
  GroupSetup g = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *elsewhere = NULL;
  EsaControl *control;

  group_setup_init (&g);
  elsewhere = g_build_filename (g.dir, "elsewhere", NULL);
  g_assert_cmpint (g_mkdir (elsewhere, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (g.state, 0700), ==, 0);
  g_assert_cmpint (symlink (elsewhere, g.run), ==, 0);
  control = group_setup (&g, "root", &error);
  g_assert_null (control);
  g_test_message ("%s", error->message);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "a symbolic link or not a folder; refused"));
  g_assert_false (g_file_test (g.sock, G_FILE_TEST_EXISTS));
  group_setup_clear (&g);

  if (geteuid () != 0)
    {
      g_test_message ("not root: the foreign-owner case needs root to chown (CI runs the suite as root)");
      return;
    }
  g_test_message ("running as root: a socket folder owned by uid 65534 must be refused");
  g_clear_error (&error);
  memset (&g, 0, sizeof g);
  group_setup_init (&g);
  g_assert_cmpint (g_mkdir (g.state, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (g.run, 0750), ==, 0);
  g_assert_cmpint (chown (g.run, 65534, 65534), ==, 0);
  control = group_setup (&g, "root", &error);
  g_assert_null (control);
  g_test_message ("%s", error->message);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "is owned by uid 65534 (expected 0, esad's user)"));
  group_setup_clear (&g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/control/allowed", test_control_allowed);
  ADD ("/control/errors", test_control_errors);
  ADD ("/control/peer-allowed-self", test_control_peer_allowed_self);
  ADD ("/control/peer-refused", test_control_peer_refused);
  ADD ("/control/socket-claim", test_control_socket_claim);
  ADD ("/control/group-member", test_control_group_member);
  ADD ("/control/socket-folder-refused", test_control_socket_folder_refused);
  ADD ("/control/export-dir-policy", test_export_dir_policy);
  ADD ("/control/activate-server-policy", test_activate_server_policy);
#undef ADD
  return g_test_run ();
}
