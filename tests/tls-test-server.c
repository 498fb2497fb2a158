/* tls-test-server.c: a tiny TLS server for tests/test-transport-tls, in
 * place of gnutls-serv, which has no bind option and listens on every
 * address; the tests' contract is loopback only. It binds 127.0.0.1:<port>,
 * serves --cert/--key with exactly the suites of --priority, and logs one
 * line per event to stdout (line-buffered, so a test reading the log file
 * sees it at once):
 *   handshake: <protocol> <kx>-<cipher>-<mac>   after every handshake
 *   handshake failed: <GnuTLS error>             when one fails
 *   application data: <n> bytes                 for every record after it
 * and answers any request with a minimal HTTP 200. It runs until killed. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  gnutls_certificate_credentials_t cred;
  const char *priority;
} Server;

static GMutex log_lock;

static void
log_line (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
log_line (const char *fmt, ...)
{
  va_list ap;
  g_mutex_lock (&log_lock);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
  fflush (stdout);
  g_mutex_unlock (&log_lock);
}

typedef struct {
  Server *server;
  int fd;
} Conn;

static void
serve_session (gnutls_session_t session)
{
  static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  char buf[16384];
  gboolean answered = FALSE;
  int rc;

  do
    rc = gnutls_handshake (session);
  while (rc < 0 && gnutls_error_is_fatal (rc) == 0);
  if (rc < 0)
    {
      log_line ("handshake failed: %s", gnutls_strerror (rc));
      return;
    }
  log_line ("handshake: %s %s-%s-%s", gnutls_protocol_get_name (gnutls_protocol_get_version (session)),
            gnutls_kx_get_name (gnutls_kx_get (session)), gnutls_cipher_get_name (gnutls_cipher_get (session)),
            gnutls_mac_get_name (gnutls_mac_get (session)));

  for (;;)
    {
      ssize_t n = gnutls_record_recv (session, buf, sizeof buf);
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        continue;
      if (n <= 0)
        break;
      log_line ("application data: %zd bytes", n);
      /* Enough HTTP for a client to finish cleanly; the tests only count. */
      if (!answered)
        {
          answered = TRUE;
          if (gnutls_record_send (session, answer, sizeof answer - 1) < 0)
            break;
        }
    }
  gnutls_bye (session, GNUTLS_SHUT_WR);
}

/* One thread per connection: a client may hold one open while it opens the
 * next. */
static gpointer
conn_thread (gpointer data)
{
  Conn *conn = data;
  gnutls_session_t session;
  int rc;

  rc = gnutls_init (&session, GNUTLS_SERVER);
  if (rc == GNUTLS_E_SUCCESS)
    {
      gnutls_priority_set_direct (session, conn->server->priority, NULL);
      gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, conn->server->cred);
      gnutls_transport_set_int (session, conn->fd);
      gnutls_handshake_set_timeout (session, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
      serve_session (session);
      gnutls_deinit (session);
    }
  else
    log_line ("session failed: %s", gnutls_strerror (rc));
  close (conn->fd);
  g_free (conn);
  return NULL;
}

static int
listen_loopback (guint16 port, GError **error)
{
  struct sockaddr_in addr = { 0 };
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "socket: %s", g_strerror (errno));
      return -1;
    }
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* 127.0.0.1 and nothing else: the point of this program. */
  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 16) < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "bind 127.0.0.1:%u: %s", port,
                   g_strerror (saved));
      close (fd);
      return -1;
    }
  return fd;
}

int
main (int argc, char **argv)
{
  g_autofree char *cert = NULL, *key = NULL, *priority = NULL;
  int port = 0;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port on 127.0.0.1", "PORT" },
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &cert, "server certificate chain (PEM)", "FILE" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &key, "server key (PEM)", "FILE" },
    { "priority", 0, 0, G_OPTION_ARG_STRING, &priority, "GnuTLS priority string", "STRING" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- TLS test server on 127.0.0.1");
  g_autoptr (GError) error = NULL;
  const char *err_pos = NULL;
  gnutls_priority_t checked;
  Server server;
  int fd, rc;

  setvbuf (stdout, NULL, _IOLBF, 0);
  signal (SIGPIPE, SIG_IGN);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("tls-test-server: %s\n", error->message);
      return 2;
    }
  if (port <= 0 || port > 65535 || cert == NULL || key == NULL || priority == NULL)
    {
      g_printerr ("tls-test-server: --port (1-65535), --cert, --key and --priority are required\n");
      return 2;
    }

  gnutls_global_init ();
  gnutls_certificate_allocate_credentials (&server.cred);
  rc = gnutls_certificate_set_x509_key_file (server.cred, cert, key, GNUTLS_X509_FMT_PEM);
  if (rc < 0)
    {
      g_printerr ("tls-test-server: %s / %s: %s\n", cert, key, gnutls_strerror (rc));
      return 1;
    }
  /* Checked once here so a typo fails at start, not per connection. */
  rc = gnutls_priority_init (&checked, priority, &err_pos);
  if (rc < 0)
    {
      g_printerr ("tls-test-server: --priority %s: %s at '%s'\n", priority, gnutls_strerror (rc),
                  err_pos != NULL ? err_pos : "");
      return 1;
    }
  gnutls_priority_deinit (checked);
  server.priority = priority;

  fd = listen_loopback ((guint16) port, &error);
  if (fd < 0)
    {
      g_printerr ("tls-test-server: %s\n", error->message);
      return 1;
    }
  log_line ("listening on 127.0.0.1:%d", port);

  for (;;)
    {
      Conn *conn;
      int cfd = accept4 (fd, NULL, NULL, SOCK_CLOEXEC);
      if (cfd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          g_printerr ("tls-test-server: accept: %s\n", g_strerror (errno));
          return 1;
        }
      conn = g_new0 (Conn, 1);
      conn->server = &server;
      conn->fd = cfd;
      g_thread_unref (g_thread_new ("conn", conn_thread, conn));
    }
}
