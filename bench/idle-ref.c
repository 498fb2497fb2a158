/* idle-ref.c: the reference for bench/idle.sh — a minimal GLib + libsoup
 * daemon: a main loop, a SoupServer on a Unix socket (like esad's control
 * socket), a SoupSession, a timer; nothing else.
 *
 *   idle-ref SOCKET               never makes a TLS connection (row a)
 *   idle-ref SOCKET URL CA-FILE   first makes one HTTPS GET of URL through the
 *                                 session, trusting only CA-FILE as esad does
 *                                 (a GTlsFileDatabase made the backend's
 *                                 default, no proxy resolver), then idles
 *                                 with the session kept (row b)
 *   idle-ref --once URL CA-FILE   the same GET, then exits: what a short-lived
 *                                 HTTPS worker process pays per wake-up (exec,
 *                                 libraries, TLS set-up, handshake) */
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <signal.h>

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, "{}", 2);
}

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
on_term (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer loop)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  if (body == NULL)
    g_printerr ("idle-ref: %s\n", error->message);
  else
    g_print ("idle-ref: HTTPS status %u, %zu bytes\n", soup_message_get_status (msg), g_bytes_get_size (body));
  if (loop != NULL)
    g_main_loop_quit (loop);
}

int
main (int argc, char **argv)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GError) error = NULL;
  gboolean once = argc == 4 && g_str_equal (argv[1], "--once");
  if (argc != 2 && argc != 4)
    return 2;
  if (argc == 4)
    {
      g_autoptr (GTlsDatabase) db = g_tls_file_database_new (argv[3], &error);
      g_autoptr (SoupMessage) msg = soup_message_new ("GET", argv[2]);
      if (db == NULL || msg == NULL)
        {
          g_printerr ("idle-ref: %s\n", db == NULL ? error->message : "bad URL");
          return 1;
        }
      g_tls_backend_set_default_database (g_tls_backend_get_default (), db);
      session = soup_session_new_with_options ("proxy-resolver", NULL, "tls-database", db, NULL);
      soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, once ? loop : NULL);
      if (once)
        {
          g_main_loop_run (loop);
          return 0;
        }
    }
  else
    session = soup_session_new ();
  addr = g_unix_socket_address_new (argv[1]);
  soup_server_add_handler (server, NULL, on_request, NULL, NULL);
  if (!soup_server_listen (server, addr, 0, &error))
    {
      g_printerr ("idle-ref: %s\n", error->message);
      return 1;
    }
  g_timeout_add_seconds (60, on_tick, NULL);
  g_unix_signal_add (SIGTERM, on_term, loop);
  g_main_loop_run (loop);
  return 0;
}
