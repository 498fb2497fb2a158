/* idle-ref.c: the reference for bench/idle.sh — a minimal GLib + libsoup
 * daemon: a main loop, a SoupServer on a Unix socket (like esad's control
 * socket), a SoupSession, a timer; nothing else.
 *
 *   idle-ref SOCKET */
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

int
main (int argc, char **argv)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GError) error = NULL;
  if (argc != 2)
    return 2;
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
