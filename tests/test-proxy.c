/* test-proxy.c: esa-proxy as a black box on loopback: a real esa-proxy process, real client
 * sockets, an echo server and a tiny HTTP server in this process, and Debian's tinyproxy as
 * the site's upstream proxy. */
#include "config.h"

#include "esa-test-util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- destinations: an echo server and an HTTP server, in a thread of their own ---- */

static guint16 echo_port;
static guint16 http_port;
static gint servers_ready;
static GMutex http_lock;
static char *http_last_request;

static gboolean
echo_run (GThreadedSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  guint8 buf[65536];
  gssize n;

  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    if (!g_output_stream_write_all (out, buf, (gsize) n, NULL, NULL, NULL))
      break;
  return TRUE;
}

static gboolean
http_run (GThreadedSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  g_autoptr (GString) head = g_string_new (NULL);
  const char *answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
                       "Connection: close\r\n\r\n{\"config\":true}";
  char c;

  while (!g_str_has_suffix (head->str, "\r\n\r\n") && head->len < 65536 &&
         g_input_stream_read (in, &c, 1, NULL, NULL) == 1)
    g_string_append_c (head, c);
  g_mutex_lock (&http_lock);
  g_free (http_last_request);
  http_last_request = g_strdup (head->str);
  g_mutex_unlock (&http_lock);
  g_output_stream_write_all (out, answer, strlen (answer), NULL, NULL, NULL);
  return TRUE;
}

static guint16
listen_threaded (GSocketService *service)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo4 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GInetAddress) lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr (GSocketAddress) a4 = g_inet_socket_address_new (lo4, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocketAddress) a6 = NULL;
  guint16 port;

  g_socket_listener_add_address (G_SOCKET_LISTENER (service), a4, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  /* "localhost" may resolve to ::1 first: listen there too (best effort). */
  a6 = g_inet_socket_address_new (lo6, port);
  g_socket_listener_add_address (G_SOCKET_LISTENER (service), a6, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, NULL, NULL);
  return port;
}

static gpointer
servers_thread (gpointer data)
{
  GMainContext *ctx = g_main_context_new ();
  GMainLoop *loop = g_main_loop_new (ctx, FALSE);
  GSocketService *echo;
  GSocketService *http;

  g_main_context_push_thread_default (ctx);
  echo = g_threaded_socket_service_new (-1);
  http = g_threaded_socket_service_new (-1);
  echo_port = listen_threaded (echo);
  http_port = listen_threaded (http);
  g_signal_connect (echo, "run", G_CALLBACK (echo_run), NULL);
  g_signal_connect (http, "run", G_CALLBACK (http_run), NULL);
  g_socket_service_start (echo);
  g_socket_service_start (http);
  g_atomic_int_set (&servers_ready, 1);
  g_main_loop_run (loop); /* until the test program exits */
  return NULL;
}

/* An echo server for thousands of connections at once (GThreadedSocketService would start
 * a thread for each): one thread, poll (). */
#define MANY_TUNNELS 2000

static guint16 many_echo_port;

static gpointer
many_echo_thread (gpointer data)
{
  GSocket *listener = data;
  struct pollfd *fds = g_new0 (struct pollfd, MANY_TUNNELS + 16);
  nfds_t n = 1;
  char buf[65536];

  fds[0].fd = g_socket_get_fd (listener);
  fds[0].events = POLLIN;
  for (;;)
    {
      if (poll (fds, n, -1) < 0)
        continue;
      if ((fds[0].revents & POLLIN) && n < MANY_TUNNELS + 16)
        {
          int c = accept (fds[0].fd, NULL, NULL);
          if (c >= 0)
            {
              fds[n].fd = c;
              fds[n].events = POLLIN;
              fds[n].revents = 0;
              n++;
            }
        }
      for (nfds_t i = 1; i < n; i++)
        {
          ssize_t r;
          if (fds[i].revents == 0)
            continue;
          r = recv (fds[i].fd, buf, sizeof buf, 0);
          /* Small amounts per connection: a blocking send of what was read cannot stall. */
          if (r > 0 && send (fds[i].fd, buf, (size_t) r, MSG_NOSIGNAL) == r)
            continue;
          close (fds[i].fd);
          fds[i] = fds[--n];
          i--;
        }
    }
  return NULL;
}

static void
start_many_echo (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  GSocket *listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                    G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_socket_set_listen_backlog (listener, 4096);
  g_assert_true (g_socket_bind (listener, sa, TRUE, &error));
  g_assert_true (g_socket_listen (listener, &error));
  g_socket_set_blocking (listener, TRUE);
  bound = g_socket_get_local_address (listener, &error);
  g_assert_no_error (error);
  many_echo_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_thread_unref (g_thread_new ("many-echo", many_echo_thread, listener));
}

/* ---- the proxy under test ---- */

typedef struct {
  char *dir;
  char *conf;
  char *access_log;
  char *stderr_log;
  guint16 port;
  GSubprocess *proc;
  GSubprocess *tinyproxy;
  const char *env; /* NAME=value for esa-proxy's environment, or NULL */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = esa_test_mkdtemp ("esa-proxy-test");
  f->conf = g_build_filename (f->dir, "esa-proxy.conf", NULL);
  f->access_log = g_build_filename (f->dir, "access.log", NULL);
  f->stderr_log = g_build_filename (f->dir, "proxy.log", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  if (f->proc != NULL)
    esa_test_stop (f->proc);
  if (f->tinyproxy != NULL)
    esa_test_stop (f->tinyproxy);
  g_clear_object (&f->proc);
  g_clear_object (&f->tinyproxy);
  esa_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->conf);
  g_free (f->access_log);
  g_free (f->stderr_log);
}

static void
write_config (Fixture *f, const char *extra)
{
  g_autofree char *text = NULL;
  if (f->port == 0)
    f->port = esa_test_free_port ();
  text = g_strdup_printf ("[proxy]\nlisten=127.0.0.1:%u;[::1]:%u\naccess-log=%s\n%s", f->port,
                          f->port, f->access_log, extra);
  esa_test_write_file (f->conf, text, 0644);
}

/* extra: more [proxy] keys (and maybe an [upstream] group) */
static void
start_proxy (Fixture *f, const char *extra)
{
  g_autofree char *proxy = esa_test_build_path ("proxy/esa-proxy");
  const char *argv[] = { proxy, "--config", f->conf, NULL };
  /* env(1) execs esa-proxy, so the process stopped at teardown is still esa-proxy. */
  const char *env_argv[] = { "env", f->env, proxy, "--config", f->conf, NULL };

  write_config (f, extra);
  f->proc = esa_test_spawn (f->stderr_log, f->env != NULL ? env_argv : argv);
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", f->port, 10000));
}

static char *
allow_echo (const char *more)
{
  return g_strdup_printf ("allow=localhost:%u;localhost:%u\nallow-private-addresses=true\n%s",
                          echo_port, http_port, more);
}

static GSocket *
client_connect (guint16 port)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, port);
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_socket_set_timeout (s, 20);
  g_socket_connect (s, sa, NULL, &error);
  g_assert_no_error (error);
  return s;
}

/* A client on another loopback address (127.0.0.0/8 is all loopback on Linux). */
static GSocket *
client_connect_from (guint16 port, const char *from)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, port);
  g_autoptr (GSocketAddress) src = g_inet_socket_address_new_from_string (from, 0);
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_socket_set_timeout (s, 20);
  g_socket_bind (s, src, FALSE, &error);
  g_assert_no_error (error);
  g_socket_connect (s, sa, NULL, &error);
  g_assert_no_error (error);
  return s;
}

static void
send_all (GSocket *s, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  gsize off = 0;
  while (off < len)
    {
      gssize n = g_socket_send (s, (const char *) data + off, len - off, NULL, &error);
      g_assert_no_error (error);
      off += (gsize) n;
    }
}

/* Reads an HTTP answer head byte by byte (so nothing behind it is consumed). */
static guint
read_status (GSocket *s, char **head_out)
{
  g_autoptr (GString) head = g_string_new (NULL);
  char c;

  while (!g_str_has_suffix (head->str, "\r\n\r\n") && head->len < 16384)
    {
      gssize n = g_socket_receive (s, &c, 1, NULL, NULL);
      if (n <= 0)
        break;
      g_string_append_c (head, c);
    }
  if (head_out != NULL)
    *head_out = g_strdup (head->str);
  if (head->len < 12 || !g_str_has_prefix (head->str, "HTTP/1.1 "))
    return 0;
  return (guint) g_ascii_strtoull (head->str + 9, NULL, 10);
}

/* Sends a request, returns the status; *answer gets the whole answer (head and body). */
static guint
request (guint16 port, const char *text, char **answer)
{
  g_autoptr (GSocket) s = client_connect (port);
  g_autofree char *head = NULL;
  g_autoptr (GString) all = NULL;
  char buf[1024];
  gssize n;
  guint status;

  send_all (s, text, strlen (text));
  status = read_status (s, &head);
  all = g_string_new (head);
  while ((n = g_socket_receive (s, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (all, buf, n);
  if (answer != NULL)
    *answer = g_strdup (all->str);
  return status;
}

static GSocket *
open_tunnel (guint16 port, const char *dest, const char *extra_headers, guint expect)
{
  g_autofree char *req = g_strdup_printf ("CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", dest, dest,
                                          extra_headers != NULL ? extra_headers : "");
  GSocket *s = client_connect (port);
  send_all (s, req, strlen (req));
  g_assert_cmpuint (read_status (s, NULL), ==, expect);
  return s;
}

static void
assert_echo (GSocket *s, gsize size)
{
  g_autofree guint8 *out = g_malloc (size);
  g_autofree guint8 *in = g_malloc (size);
  g_autoptr (GError) error = NULL;
  gsize got = 0;

  for (gsize i = 0; i < size; i++)
    out[i] = (guint8) (i * 7 + 3);
  /* Send and receive in chunks so neither side's buffers fill up. */
  for (gsize off = 0; off < size; off += 65536)
    {
      gsize chunk = MIN (65536, size - off);
      send_all (s, out + off, chunk);
      while (got < off + chunk)
        {
          gssize n = g_socket_receive (s, (char *) in + got, size - got, NULL, &error);
          g_assert_no_error (error);
          g_assert_cmpint (n, >, 0);
          got += (gsize) n;
        }
    }
  g_assert_cmpmem (in, size, out, size);
}

static char *
read_access_log (Fixture *f)
{
  char *text = NULL;
  if (!g_file_get_contents (f->access_log, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

/* The access log is written when a connection ends, which may be just after the client saw
 * it end: wait (bounded) for a line containing needle. */
static gboolean
wait_log (Fixture *f, const char *needle)
{
  for (int i = 0; i < 500; i++)
    {
      g_autofree char *log = read_access_log (f);
      if (strstr (log, needle) != NULL)
        return TRUE;
      g_usleep (10 * 1000);
    }
  return FALSE;
}

static gboolean
socket_closed (GSocket *s)
{
  char c;
  return g_socket_receive (s, &c, 1, NULL, NULL) == 0;
}

/* ---- tests ---- */

static void
test_tunnel_echo (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("");
  g_autofree char *dest = NULL;
  g_autofree char *needle = NULL;
  g_autoptr (GSocket) s = NULL;

  start_proxy (f, extra);
  dest = g_strdup_printf ("localhost:%u", echo_port);
  s = open_tunnel (f->port, dest, NULL, 200);
  assert_echo (s, 5);
  assert_echo (s, 3 * 1024 * 1024 + 17);
  g_socket_close (s, NULL);
  needle = g_strdup_printf ("method=CONNECT dest=localhost:%u status=200 up=3145750 down=3145750", echo_port);
  g_assert_true (wait_log (f, needle));
  g_assert_true (wait_log (f, "result=ok"));
}

/* 2,000 tunnels open at once, each carrying its own bytes both ways: what the tunnel
 * workers hand between threads never crosses from one tunnel into another, and every
 * tunnel's end reaches the main loop (one access-log line each). data: NULL for the
 * platform's poller, "ESA_PROXY_POLLER=poll" for the portable one. */
static void
test_tunnel_many (Fixture *f, gconstpointer data)
{
  struct rlimit rl;
  g_autofree char *extra = NULL;
  g_autofree char *dest = NULL;
  g_autofree char *needle = NULL;
  GSocket **s = g_new0 (GSocket *, MANY_TUNNELS);
  guint n_ok = 0;

  /* The test holds 2 descriptors per tunnel and esa-proxy another 2 (it raises its own). */
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * MANY_TUNNELS + 256)
    {
      g_test_skip ("RLIMIT_NOFILE hard limit below 4,256");
      g_free (s);
      return;
    }
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : rl.rlim_max;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  if (many_echo_port == 0)
    start_many_echo ();

  extra = g_strdup_printf ("allow=127.0.0.1:%u\nallow-private-addresses=true\nmax-tunnels=%u\n",
                           many_echo_port, MANY_TUNNELS + 100);
  f->env = data;
  start_proxy (f, extra);
  dest = g_strdup_printf ("127.0.0.1:%u", many_echo_port);
  for (guint i = 0; i < MANY_TUNNELS; i++)
    s[i] = open_tunnel (f->port, dest, NULL, 200);

  /* Everything is sent before anything is read, so all tunnels carry data at once. */
  for (guint round = 0; round < 2; round++)
    {
      for (guint i = 0; i < MANY_TUNNELS; i++)
        {
          char msg[600];
          int len = g_snprintf (msg, sizeof msg, "tunnel %u round %u ", i, round);
          memset (msg + len, 'a' + (char) (i % 26), sizeof msg - (gsize) len);
          send_all (s[i], msg, sizeof msg);
        }
      for (guint i = 0; i < MANY_TUNNELS; i++)
        {
          char want[600];
          char got[600];
          gsize have = 0;
          int len = g_snprintf (want, sizeof want, "tunnel %u round %u ", i, round);
          memset (want + len, 'a' + (char) (i % 26), sizeof want - (gsize) len);
          while (have < sizeof got)
            {
              g_autoptr (GError) error = NULL;
              gssize n = g_socket_receive (s[i], got + have, sizeof got - have, NULL, &error);
              g_assert_no_error (error);
              g_assert_cmpint (n, >, 0);
              have += (gsize) n;
            }
          g_assert_cmpmem (got, sizeof got, want, sizeof want);
        }
    }
  for (guint i = 0; i < MANY_TUNNELS; i++)
    g_object_unref (s[i]);
  g_free (s);

  /* Each tunnel's end is logged once, with the bytes it carried. */
  needle = g_strdup_printf ("dest=127.0.0.1:%u status=200 up=1200 down=1200", many_echo_port);
  for (int tries = 0; tries < 1000 && n_ok < MANY_TUNNELS; tries++)
    {
      g_autofree char *log = read_access_log (f);
      n_ok = 0;
      for (const char *p = strstr (log, needle); p != NULL; p = strstr (p + 1, needle))
        n_ok++;
      if (n_ok < MANY_TUNNELS)
        g_usleep (20 * 1000);
    }
  g_assert_cmpuint (n_ok, ==, MANY_TUNNELS);
}

/* One address holding 1,100 half-sent CONNECT heads (more than max-tunnels) must not lock
 * out a client on another address: past its per-address share the attacker is refused. */
static void
test_slow_clients (Fixture *f, gconstpointer data)
{
  struct rlimit rl;
  g_autofree char *extra = allow_echo ("");
  g_autofree char *dest = NULL;
  g_autofree char *half = NULL;
  g_autofree char *full = NULL;
  g_autofree char *head = NULL;
  GSocket **attack = g_new0 (GSocket *, 1100);
  guint status;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 1400)
    {
      g_test_skip ("RLIMIT_NOFILE hard limit below 1,400");
      g_free (attack);
      return;
    }
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : rl.rlim_max;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);

  start_proxy (f, extra);
  dest = g_strdup_printf ("localhost:%u", echo_port);
  half = g_strdup_printf ("CONNECT %s HTTP/1.1\r\nHost: ", dest);
  full = g_strdup_printf ("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", dest, dest);
  for (guint i = 0; i < 1100; i++)
    {
      attack[i] = client_connect (f->port);
      send_all (attack[i], half, strlen (half));
    }
  /* The legitimate client keeps being served while the heads are held. */
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr (GSocket) s = client_connect_from (f->port, "127.0.0.2");
      g_autofree char *answer = NULL;
      send_all (s, full, strlen (full));
      if (read_status (s, &answer) != 200)
        g_error ("legitimate client refused during the attack: %s", answer);
      assert_echo (s, 5);
      g_usleep (100 * 1000);
    }
  /* The attacker got its share (16) and then 429, or past MAX_REFUSING just a close. */
  g_assert_cmpuint (read_status (attack[16], &head), ==, 429);
  g_assert_nonnull (strstr (head, "429 Too Many Requests"));
  status = read_status (attack[1099], NULL);
  g_assert_true (status == 429 || status == 0);
  g_assert_true (wait_log (f, "client=127.0.0.2:"));
  for (guint i = 0; i < 1100; i++)
    g_object_unref (attack[i]);
  g_free (attack);
}

static void
test_tunnel_early_data (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("");
  g_autofree char *req = NULL;
  g_autoptr (GSocket) s = NULL;
  char buf[16] = { 0 };
  gsize got = 0;

  /* Bytes sent right behind the CONNECT head are tunnel data, not another request. */
  start_proxy (f, extra);
  req = g_strdup_printf ("CONNECT localhost:%u HTTP/1.1\r\n\r\nCONNECT x:1 HTTP/1.1\r\n", echo_port);
  s = client_connect (f->port);
  send_all (s, req, strlen (req));
  g_assert_cmpuint (read_status (s, NULL), ==, 200);
  while (got < 22)
    {
      gssize n = g_socket_receive (s, buf + got, MIN (sizeof buf - 1, 22 - got) , NULL, NULL);
      g_assert_cmpint (n, >, 0);
      got += (gsize) n;
      if (got >= sizeof buf - 1)
        break;
    }
  g_assert_true (g_str_has_prefix (buf, "CONNECT x:1"));
}

static void
test_refused_destinations (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("");
  guint16 other = esa_test_free_port ();
  struct {
    const char *fmt; /* {P}: the echo port */
    guint status;
  } cases[] = {
    /* not on the list */
    { "CONNECT localhost:1 HTTP/1.1\r\n\r\n", 403 },
    { "CONNECT localhost:443 HTTP/1.1\r\n\r\n", 403 },
    { "CONNECT sdc.example.invalid:443 HTTP/1.1\r\n\r\n", 403 },
    { "CONNECT localhost.localdomain:{P} HTTP/1.1\r\n\r\n", 403 },
    { "CONNECT localhost.evil.example:{P} HTTP/1.1\r\n\r\n", 403 },
    /* IP literals of the very same address */
    { "CONNECT 127.0.0.1:{P} HTTP/1.1\r\n\r\n", 403 },
    { "CONNECT [::1]:{P} HTTP/1.1\r\n\r\n", 403 },
    { "CONNECT [::ffff:127.0.0.1]:{P} HTTP/1.1\r\n\r\n", 403 },
    { "CONNECT 127.1:{P} HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT 2130706433:{P} HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT 0x7f000001:{P} HTTP/1.1\r\n\r\n", 400 },
    /* host:port tricks */
    { "CONNECT localhost:{P}:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT localhost:0{P} HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT localhost HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT localhost:{P}/ HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT http://localhost:{P} HTTP/1.1\r\n\r\n", 400 },
    /* trailing dots */
    { "CONNECT localhost..:{P} HTTP/1.1\r\n\r\n", 400 },
    /* percent-encoding */
    { "CONNECT local%68ost:{P} HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT localhost%2e:{P} HTTP/1.1\r\n\r\n", 400 },
    /* userinfo */
    { "CONNECT user@localhost:{P} HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT localhost:{P}@sdc.example.invalid:443 HTTP/1.1\r\n\r\n", 400 },
    /* Host header disagreeing, duplicated */
    { "CONNECT sdc.example.invalid:443 HTTP/1.1\r\nHost: localhost:{P}\r\n\r\n", 400 },
    { "CONNECT localhost:{P} HTTP/1.1\r\nHost: sdc.example.invalid:443\r\n\r\n", 400 },
    { "CONNECT localhost:{P} HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n", 400 },
    /* smuggling: bodies, Content-Length + Transfer-Encoding, bare LF/CR, obs-fold */
    { "CONNECT localhost:{P} HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd", 400 },
    { "CONNECT localhost:{P} HTTP/1.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "CONNECT localhost:{P} HTTP/1.1\nHost: localhost\n\n", 400 },
    { "CONNECT localhost:{P} HTTP/1.1\r\nX: a\rHost: b\r\n\r\n", 400 },
    { "CONNECT localhost:{P} HTTP/1.1\r\nX: a\r\n Host: b\r\n\r\n", 400 },
    /* plain-HTTP GET: config of allow-listed hosts only */
    { "GET http://sdc.example.invalid/esa/v1/config HTTP/1.1\r\n\r\n", 403 },
    { "GET http://127.0.0.1:{P}/esa/v1/config HTTP/1.1\r\n\r\n", 403 },
    { "GET http://localhost:{P}/esa/v1/report HTTP/1.1\r\n\r\n", 403 },
    { "GET http://localhost:{P}/esa/v1/config/../x HTTP/1.1\r\n\r\n", 403 },
    { "GET http://localhost:{P}/esa/v1/%63onfig HTTP/1.1\r\n\r\n", 403 },
    { "GET /esa/v1/config HTTP/1.1\r\nHost: localhost:{P}\r\n\r\n", 400 },
    { "GET http://sdc.example.invalid/esa/v1/config HTTP/1.1\r\nHost: localhost:{P}\r\n\r\n", 400 },
    { "GET http://u@localhost:{P}/esa/v1/config HTTP/1.1\r\n\r\n", 400 },
    { "GET http://localhost:{P}/esa/v1/config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
    /* other methods */
    { "POST http://localhost:{P}/esa/v1/config HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405 },
    { "PUT http://localhost:{P}/x HTTP/1.1\r\n\r\n", 405 },
    { "OPTIONS * HTTP/1.1\r\n\r\n", 405 },
    { "HEAD http://localhost:{P}/esa/v1/config HTTP/1.1\r\n\r\n", 405 },
    { "get http://localhost:{P}/esa/v1/config HTTP/1.1\r\n\r\n", 405 },
    /* garbage */
    { "\x16\x03\x01\x02\x05\x01\x07\x01\xfc\x03\x03", 400 }, /* a TLS hello */
  };

  (void) other;
  start_proxy (f, extra);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *head = NULL;
      g_autoptr (GString) t = g_string_new (cases[i].fmt);
      g_autofree char *port = g_strdup_printf ("%u", echo_port);
      const char *text;
      g_string_replace (t, "{P}", port, 0);
      text = t->str;
      guint status = request (f->port, text, &head);
      if (status != cases[i].status)
        g_error ("case %" G_GSIZE_FORMAT " (%s): got %u (%s), expected %u", i, text, status, head,
                 cases[i].status);
      g_assert_nonnull (strstr (head, "Connection: close\r\n"));
    }
  g_assert_true (wait_log (f, "status=405"));
  g_assert_true (wait_log (f, "result=refused reason=\"localhost:"));
}

static void
test_normalized_names (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("");
  g_autofree char *upper = NULL;
  g_autofree char *dot = NULL;
  g_autoptr (GSocket) a = NULL;
  g_autoptr (GSocket) b = NULL;

  /* Case and one trailing dot are spellings of the same name: same decision. */
  start_proxy (f, extra);
  upper = g_strdup_printf ("LocalHost:%u", echo_port);
  dot = g_strdup_printf ("localhost.:%u", echo_port);
  a = open_tunnel (f->port, upper, NULL, 200);
  assert_echo (a, 100);
  b = open_tunnel (f->port, dot, NULL, 200);
  assert_echo (b, 100);
}

static void
test_oversized_head (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("max-header-size=1024\n");
  g_autoptr (GString) req = g_string_new (NULL);
  g_autoptr (GString) line = g_string_new ("CONNECT ");

  start_proxy (f, extra);
  g_string_printf (req, "CONNECT localhost:%u HTTP/1.1\r\n", echo_port);
  while (req->len < 4000)
    g_string_append (req, "X-Filler: 0123456789012345678901234567890123456789\r\n");
  g_string_append (req, "\r\n");
  g_assert_cmpuint (request (f->port, req->str, NULL), ==, 431);
  while (line->len < 4000)
    g_string_append (line, "aaaaaaaaaaaaaaaaaaaaaaaa");
  g_assert_cmpuint (request (f->port, line->str, NULL), ==, 431);
}

static void
test_get_config (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("");
  g_autofree char *req = NULL;
  g_autofree char *head = NULL;
  g_autoptr (GSocket) s = NULL;
  char body[64] = { 0 };
  gsize got = 0;
  gssize n;

  start_proxy (f, extra);
  req = g_strdup_printf ("GET http://localhost:%u/esa/v1/config?system=1 HTTP/1.1\r\n"
                         "Host: localhost:%u\r\nAccept: application/json\r\n"
                         "Proxy-Connection: keep-alive\r\nConnection: x-site-token\r\n"
                         "X-Site-Token: internal\r\n\r\n",
                         http_port, http_port);
  s = client_connect (f->port);
  send_all (s, req, strlen (req));
  g_assert_cmpuint (read_status (s, &head), ==, 200);
  while ((n = g_socket_receive (s, body + got, sizeof body - 1 - got, NULL, NULL)) > 0)
    got += (gsize) n;
  g_assert_cmpstr (body, ==, "{\"config\":true}");
  g_mutex_lock (&http_lock);
  g_assert_true (g_str_has_prefix (http_last_request, "GET /esa/v1/config?system=1 HTTP/1.1\r\n"));
  g_assert_nonnull (strstr (http_last_request, "Accept: application/json\r\n"));
  g_assert_nonnull (strstr (http_last_request, "Connection: close\r\n"));
  g_assert_null (strstr (http_last_request, "Proxy-Connection"));
  /* named in Connection: for the proxy hop only (RFC 9110 §7.6.1) */
  g_assert_null (strstr (http_last_request, "X-Site-Token"));
  g_mutex_unlock (&http_lock);
}

static void
test_private_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = g_strdup_printf ("allow=localhost:%u\n", echo_port);
  g_autofree char *req = g_strdup_printf ("CONNECT localhost:%u HTTP/1.1\r\n\r\n", echo_port);
  g_autofree char *head = NULL;

  /* Allow-listed by name, but the name leads into loopback: no pivoting. */
  start_proxy (f, extra);
  g_assert_cmpuint (request (f->port, req, &head), ==, 403);
  g_assert_nonnull (strstr (head, "resolves to non-public address"));
  g_assert_true (wait_log (f, "non-public address"));
}

static void
test_private_cidr (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = g_strdup_printf ("allow=localhost:%u\nallow-private-addresses=127.0.0.0/8\n",
                                            echo_port);
  g_autofree char *dest = g_strdup_printf ("localhost:%u", echo_port);
  g_autoptr (GSocket) s = NULL;

  /* Only the IPv4 loopback range is allowed: localhost's 127.0.0.1 is used, ::1 is not. */
  start_proxy (f, extra);
  s = open_tunnel (f->port, dest, NULL, 200);
  assert_echo (s, 1000);
}

/* A listening socket on 127.0.0.1 that takes no more connections: its accept queue
 * (backlog 0: room for one) is full, so the kernel drops further SYNs and a connect to
 * it hangs. @held is the one connection that filled it. */
static GSocket *
full_listener (guint16 *port, GSocket **held)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  GSocket *l = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (l, any, FALSE, &error));
  g_socket_set_listen_backlog (l, 0);
  g_assert_true (g_socket_listen (l, &error));
  bound = g_socket_get_local_address (l, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  *held = client_connect (*port);
  return l;
}

/* The dial to the destination (a socket of esa-proxy's own since the tunnel-open rate
 * work): a refused connect is a 502, a connect that never completes a 504 after
 * connect-timeout, and the tunnel after both still works. */
static void
test_dial_failures (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) closed = NULL;
  g_autoptr (GSocket) full = NULL;
  g_autoptr (GSocket) held = NULL;
  g_autoptr (GSocket) s1 = NULL;
  g_autoptr (GSocket) s2 = NULL;
  g_autoptr (GSocket) s3 = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *extra = NULL;
  g_autofree char *refused = NULL;
  g_autofree char *hanging = NULL;
  g_autofree char *echo = g_strdup_printf ("127.0.0.1:%u", echo_port);
  guint16 closed_port, full_port;
  gint64 t0;

  /* a port nobody listens on: bound, then closed */
  closed = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  addr = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_assert_true (g_socket_bind (closed, addr, FALSE, &error));
  g_clear_object (&addr);
  addr = g_socket_get_local_address (closed, &error);
  closed_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr));
  g_socket_close (closed, NULL);
  full = full_listener (&full_port, &held);

  refused = g_strdup_printf ("127.0.0.1:%u", closed_port);
  hanging = g_strdup_printf ("127.0.0.1:%u", full_port);
  extra = g_strdup_printf ("allow=%s;%s;%s\nallow-private-addresses=127.0.0.0/8\nconnect-timeout=1\n",
                           refused, hanging, echo);
  start_proxy (f, extra);
  s1 = open_tunnel (f->port, refused, NULL, 502);
  t0 = g_get_monotonic_time ();
  s2 = open_tunnel (f->port, hanging, NULL, 504);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, G_USEC_PER_SEC / 2);
  s3 = open_tunnel (f->port, echo, NULL, 200);
  assert_echo (s3, 100000);
}

static char *
make_users_file (Fixture *f)
{
  g_autofree char *proxy = esa_test_build_path ("proxy/esa-proxy");
  g_autofree char *path = g_build_filename (f->dir, "users", NULL);
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc =
      g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                        proxy, "--hash-password", "--iterations", "2000", "alice", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, "wonder land\n", NULL, &out, NULL, &error));
  g_assert_true (g_subprocess_get_successful (proc));
  esa_test_write_file (path, out, 0600);
  return g_steal_pointer (&path);
}

static char *
basic (const char *user, const char *password)
{
  g_autofree char *pair = g_strdup_printf ("%s:%s", user, password);
  g_autofree char *b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
  return g_strdup_printf ("Proxy-Authorization: Basic %s\r\n", b64);
}

static void
test_auth (Fixture *f, gconstpointer data)
{
  g_autofree char *users = make_users_file (f);
  g_autofree char *more = g_strdup_printf ("users-file=%s\n", users);
  g_autofree char *extra = allow_echo (more);
  g_autofree char *dest = g_strdup_printf ("localhost:%u", echo_port);
  g_autofree char *good = basic ("alice", "wonder land");
  g_autofree char *bad = basic ("alice", "wonderland");
  g_autofree char *unknown = basic ("bob", "wonder land");
  g_autofree char *head = NULL;
  g_autofree char *req = g_strdup_printf ("CONNECT %s HTTP/1.1\r\n\r\n", dest);
  g_autoptr (GSocket) s = NULL;

  start_proxy (f, extra);
  g_assert_cmpuint (request (f->port, req, &head), ==, 407);
  g_assert_nonnull (strstr (head, "Proxy-Authenticate: Basic realm=\"esa-proxy\""));
  g_clear_object (&s);
  s = open_tunnel (f->port, dest, bad, 407);
  g_clear_object (&s);
  s = open_tunnel (f->port, dest, unknown, 407);
  g_clear_object (&s);
  s = open_tunnel (f->port, dest, "Proxy-Authorization: Bearer abc\r\n", 407);
  g_clear_object (&s);
  s = open_tunnel (f->port, dest, good, 200);
  assert_echo (s, 100);
  g_clear_object (&s);
  /* second time from the cache of verified credentials */
  s = open_tunnel (f->port, dest, good, 200);
  assert_echo (s, 100);
  g_socket_close (s, NULL);
  g_assert_true (wait_log (f, "user=alice method=CONNECT"));
  g_assert_true (wait_log (f, "status=407"));
  /* a refused destination stays refused for an authenticated user */
  g_clear_object (&s);
  s = open_tunnel (f->port, "sdc.example.invalid:443", good, 403);
}

static void
test_clients (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("clients=10.0.0.0/8;fd00::/8\n");
  g_autofree char *dest = g_strdup_printf ("localhost:%u", echo_port);
  g_autoptr (GSocket) s = NULL;

  start_proxy (f, extra);
  s = open_tunnel (f->port, dest, NULL, 403);
  g_assert_true (wait_log (f, "client address not allowed"));
}

static void
test_idle_timeout (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("idle-timeout=1\n");
  g_autofree char *dest = g_strdup_printf ("localhost:%u", echo_port);
  g_autoptr (GSocket) s = NULL;

  start_proxy (f, extra);
  s = open_tunnel (f->port, dest, NULL, 200);
  assert_echo (s, 10);
  /* silence: the proxy closes the tunnel (the socket's own timeout is 20 s) */
  g_assert_true (socket_closed (s));
  g_assert_true (wait_log (f, "result=idle-timeout"));
}

static void
test_connection_limit (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("max-tunnels=2\n");
  g_autofree char *dest = g_strdup_printf ("localhost:%u", echo_port);
  g_autofree char *head = NULL;
  g_autoptr (GSocket) a = NULL;
  g_autoptr (GSocket) b = NULL;
  g_autoptr (GSocket) c = NULL;
  g_autoptr (GSocket) d = NULL;
  guint status = 0;

  start_proxy (f, extra);
  a = open_tunnel (f->port, dest, NULL, 200);
  b = open_tunnel (f->port, dest, NULL, 200);
  c = client_connect (f->port);
  g_assert_cmpuint (read_status (c, &head), ==, 503);
  g_assert_nonnull (strstr (head, "Connection: close"));
  /* the others are still served */
  assert_echo (a, 1000);
  assert_echo (b, 1000);
  /* a freed slot is usable again (once the proxy has seen the close) */
  g_socket_close (a, NULL);
  for (int i = 0; i < 200 && status != 200; i++)
    {
      g_autofree char *req = g_strdup_printf ("CONNECT %s HTTP/1.1\r\n\r\n", dest);
      g_clear_object (&d);
      d = client_connect (f->port);
      send_all (d, req, strlen (req));
      status = read_status (d, NULL);
      if (status != 200)
        g_usleep (20 * 1000);
    }
  g_assert_cmpuint (status, ==, 200);
  assert_echo (d, 1000);
  g_assert_true (wait_log (f, "status=503"));
}

static void
test_reload (Fixture *f, gconstpointer data)
{
  g_autofree char *first = g_strdup_printf ("allow=localhost:%u\nallow-private-addresses=true\n", http_port);
  g_autofree char *second = allow_echo ("");
  g_autofree char *dest = g_strdup_printf ("localhost:%u", echo_port);
  g_autofree char *proxy_log = NULL;
  g_autoptr (GSocket) s = NULL;
  guint status = 0;

  start_proxy (f, first);
  s = open_tunnel (f->port, dest, NULL, 403);
  g_clear_object (&s);
  write_config (f, second);
  g_subprocess_send_signal (f->proc, SIGHUP);
  for (int i = 0; i < 200 && status != 200; i++)
    {
      g_autofree char *req = g_strdup_printf ("CONNECT %s HTTP/1.1\r\n\r\n", dest);
      g_clear_object (&s);
      s = client_connect (f->port);
      send_all (s, req, strlen (req));
      status = read_status (s, NULL);
      if (status != 200)
        g_usleep (20 * 1000);
    }
  g_assert_cmpuint (status, ==, 200);
  assert_echo (s, 100);

  /* A broken file keeps the running configuration and says why. */
  esa_test_write_file (f->conf, "[proxy]\nallow=localhost:1\nmax-tunnels=lots\n", 0644);
  g_subprocess_send_signal (f->proc, SIGHUP);
  for (int i = 0; i < 500; i++)
    {
      g_free (proxy_log);
      g_file_get_contents (f->stderr_log, &proxy_log, NULL, NULL);
      if (proxy_log != NULL && strstr (proxy_log, "reload refused") != NULL)
        break;
      g_usleep (10 * 1000);
    }
  g_assert_nonnull (strstr (proxy_log, "reload refused, keeping the running configuration: "));
  g_assert_nonnull (strstr (proxy_log, "[proxy] max-tunnels: \"lots\""));
  assert_echo (s, 100); /* the open tunnel never noticed */
  g_clear_object (&s);
  s = open_tunnel (f->port, dest, NULL, 200);
  assert_echo (s, 100);
}

static void
test_graceful_stop (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("shutdown-timeout=30\n");
  g_autofree char *dest = g_strdup_printf ("localhost:%u", echo_port);
  g_autoptr (GSocket) s = NULL;
  g_autoptr (GError) error = NULL;

  start_proxy (f, extra);
  s = open_tunnel (f->port, dest, NULL, 200);
  g_subprocess_send_signal (f->proc, SIGTERM);
  /* new clients are turned away (no listener any more) ... */
  for (int i = 0; i < 200; i++)
    {
      g_autoptr (GSocketClient) client = g_socket_client_new ();
      g_autoptr (GSocketConnection) conn =
          g_socket_client_connect_to_host (client, "127.0.0.1", f->port, NULL, NULL);
      if (conn == NULL)
        break;
      g_usleep (10 * 1000);
    }
  /* ... while the open tunnel keeps working until the client ends it */
  assert_echo (s, 100000);
  g_socket_close (s, NULL);
  g_subprocess_wait (f->proc, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (f->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (f->proc), ==, 0);
  g_clear_object (&f->proc);
}

static void
test_stop_bounded (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("shutdown-timeout=1\n");
  g_autofree char *dest = g_strdup_printf ("localhost:%u", echo_port);
  g_autoptr (GSocket) s = NULL;
  g_autoptr (GError) error = NULL;

  /* A tunnel that never ends does not keep the proxy from stopping. */
  start_proxy (f, extra);
  s = open_tunnel (f->port, dest, NULL, 200);
  g_subprocess_send_signal (f->proc, SIGTERM);
  g_assert_true (socket_closed (s));
  g_subprocess_wait (f->proc, NULL, &error);
  g_assert_cmpint (g_subprocess_get_exit_status (f->proc), ==, 0);
  g_clear_object (&f->proc);
  g_assert_true (wait_log (f, "result=shutdown"));
}

static void
test_curl (Fixture *f, gconstpointer data)
{
  g_autofree char *extra = allow_echo ("");
  g_autofree char *proxy = NULL;
  g_autofree char *url = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *curl = g_find_program_in_path ("curl");

  if (curl == NULL)
    {
      g_test_skip ("curl not installed");
      return;
    }
  start_proxy (f, extra);
  proxy = g_strdup_printf ("http://127.0.0.1:%u", f->port);
  url = g_strdup_printf ("http://localhost:%u/esa/v1/config", http_port);
  {
    /* -p: CONNECT tunnel, as for https:// */
    const char *argv[] = { curl, "-sS", "--noproxy", "", "-p", "-x", proxy, url, NULL };
    g_assert_cmpint (esa_test_run (argv, &out, &err), ==, 0);
    g_assert_cmpstr (out, ==, "{\"config\":true}");
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    /* plain proxy GET, the agent's HTTP fallback */
    const char *argv[] = { curl, "-sS", "--noproxy", "", "-x", proxy, url, NULL };
    g_assert_cmpint (esa_test_run (argv, &out, &err), ==, 0);
    g_assert_cmpstr (out, ==, "{\"config\":true}");
  }
}

static GSubprocess *
start_tinyproxy (Fixture *f, guint16 *port_out)
{
  g_autofree char *conf = g_build_filename (f->dir, "tinyproxy.conf", NULL);
  g_autofree char *log = g_build_filename (f->dir, "tinyproxy.log", NULL);
  g_autofree char *text = NULL;
  guint16 port = esa_test_free_port ();
  const char *argv[] = { "/usr/bin/tinyproxy", "-d", "-c", conf, NULL };
  GSubprocess *proc;

  text = g_strdup_printf ("%sPort %u\nListen 127.0.0.1\nTimeout 60\nMaxClients 50\n"
                          "Allow 127.0.0.1\nBasicAuth upuser uppass\nLogLevel Info\n",
                          geteuid () == 0 ? "User nobody\nGroup nogroup\n" : "", port);
  esa_test_write_file (conf, text, 0644);
  proc = esa_test_spawn (log, argv);
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", port, 10000));
  *port_out = port;
  return proc;
}

static void
test_upstream (Fixture *f, gconstpointer data)
{
  g_autofree char *pass = g_build_filename (f->dir, "upstream.pass", NULL);
  g_autofree char *more = NULL;
  g_autofree char *extra = NULL;
  g_autofree char *dest = g_strdup_printf ("localhost:%u", echo_port);
  g_autofree char *req = NULL;
  g_autofree char *head = NULL;
  g_autoptr (GSocket) s = NULL;
  char body[64] = { 0 };
  gsize got = 0;
  gssize n;
  guint16 tp = 0;

  if (!g_file_test ("/usr/bin/tinyproxy", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("tinyproxy not installed");
      return;
    }
  f->tinyproxy = start_tinyproxy (f, &tp);
  esa_test_write_file (pass, "uppass\n", 0600);
  more = g_strdup_printf ("[upstream]\nurl=http://127.0.0.1:%u\nuser=upuser\npassword-file=%s\n", tp, pass);
  extra = allow_echo (more);
  start_proxy (f, extra);

  s = open_tunnel (f->port, dest, NULL, 200);
  assert_echo (s, 256 * 1024);
  g_clear_object (&s);

  /* the config GET goes through the upstream too */
  req = g_strdup_printf ("GET http://localhost:%u/esa/v1/config HTTP/1.1\r\n\r\n", http_port);
  s = client_connect (f->port);
  send_all (s, req, strlen (req));
  g_assert_cmpuint (read_status (s, &head), ==, 200);
  while ((n = g_socket_receive (s, body + got, sizeof body - 1 - got, NULL, NULL)) > 0)
    got += (gsize) n;
  g_assert_cmpstr (body, ==, "{\"config\":true}");
  g_clear_object (&s);

  /* the allow-list still applies in front of the upstream */
  s = open_tunnel (f->port, "sdc.example.invalid:443", NULL, 403);
  g_clear_object (&s);

  /* wrong upstream credentials: 502, and the log says why */
  esa_test_stop (f->proc);
  g_clear_object (&f->proc);
  esa_test_write_file (pass, "wrong\n", 0600);
  start_proxy (f, extra);
  s = open_tunnel (f->port, dest, NULL, 502);
  if (!wait_log (f, "upstream proxy refused our credentials"))
    g_error ("%s", read_access_log (f));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_thread_unref (g_thread_new ("servers", servers_thread, NULL));
  while (!g_atomic_int_get (&servers_ready))
    g_usleep (1000);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/proxy/tunnel/echo", test_tunnel_echo);
  ADD ("/proxy/tunnel/early-data", test_tunnel_early_data);
  g_test_add ("/proxy/tunnel/many", Fixture, NULL, fixture_setup, test_tunnel_many, fixture_teardown);
  g_test_add ("/proxy/tunnel/many-poll", Fixture, "ESA_PROXY_POLLER=poll", fixture_setup, test_tunnel_many,
              fixture_teardown);
  ADD ("/proxy/refused/destinations-and-tricks", test_refused_destinations);
  ADD ("/proxy/refused/oversized", test_oversized_head);
  ADD ("/proxy/normalized-names", test_normalized_names);
  ADD ("/proxy/get-config", test_get_config);
  ADD ("/proxy/private/refused", test_private_refused);
  ADD ("/proxy/private/cidr", test_private_cidr);
  ADD ("/proxy/dial/failures", test_dial_failures);
  ADD ("/proxy/auth", test_auth);
  ADD ("/proxy/clients", test_clients);
  ADD ("/proxy/idle-timeout", test_idle_timeout);
  ADD ("/proxy/connection-limit", test_connection_limit);
  ADD ("/proxy/slow-clients", test_slow_clients);
  ADD ("/proxy/reload", test_reload);
  ADD ("/proxy/stop/graceful", test_graceful_stop);
  ADD ("/proxy/stop/bounded", test_stop_bounded);
  ADD ("/proxy/curl", test_curl);
  ADD ("/proxy/upstream/tinyproxy", test_upstream);
  return g_test_run ();
}
