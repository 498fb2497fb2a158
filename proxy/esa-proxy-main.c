/* esa-proxy-main.c: the esa-proxy program: options, signals, the main loop. */
#include "config.h"

#include "esa-proxy-auth.h"
#include "esa-proxy-config.h"
#include "esa-proxy-log.h"
#include "esa-proxy-server.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

typedef struct {
  GMainLoop *loop;
  EsaProxyServer *server;
  char *config_path;
  gboolean stopping;
} App;

static gboolean
reload_cb (gpointer user_data)
{
  App *app = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaProxyConfig) config = esa_proxy_config_load (app->config_path, &error);

  if (config == NULL)
    {
      g_warning ("reload refused, keeping the running configuration: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  if (!esa_proxy_server_reload (app->server, config, &error))
    {
      g_warning ("reload refused, keeping the running configuration: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  g_message ("reloaded %s: %u allowed destination(s)", app->config_path,
             esa_proxy_allow_list_size (config->allow));
  return G_SOURCE_CONTINUE;
}

static gboolean
stopped_cb (gpointer user_data)
{
  App *app = user_data;
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
terminate_cb (gpointer user_data)
{
  App *app = user_data;
  if (app->stopping)
    {
      g_message ("second signal: stopping now");
      g_main_loop_quit (app->loop);
      return G_SOURCE_CONTINUE;
    }
  app->stopping = TRUE;
  g_message ("stopping");
  esa_proxy_server_stop (app->server, stopped_cb, app);
  return G_SOURCE_CONTINUE;
}

/* Each tunnel needs two descriptors; the default soft limit (often 1024) is far too low. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
        g_debug ("cannot raise the descriptor limit");
    }
}

static int
hash_password (const char *user, guint iterations)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = NULL;
  char line[1024];
  gboolean tty = isatty (STDIN_FILENO);
  struct termios old;
  gsize len;

  if (user != NULL && (user[0] == '\0' || strchr (user, ':') != NULL))
    {
      g_printerr ("esa-proxy: user name \"%s\": must be non-empty and without ':'\n", user);
      return 1;
    }
  if (tty)
    {
      struct termios noecho;
      g_printerr ("Password: ");
      tcgetattr (STDIN_FILENO, &old);
      noecho = old;
      noecho.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &noecho);
    }
  if (fgets (line, sizeof line, stdin) == NULL)
    line[0] = '\0';
  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
      g_printerr ("\n");
    }
  len = strcspn (line, "\r\n");
  line[len] = '\0';
  if (len == 0)
    {
      g_printerr ("esa-proxy: empty password (read from standard input)\n");
      return 1;
    }
  hash = esa_proxy_password_hash (line, iterations, &error);
  memset (line, 0, sizeof line);
  if (hash == NULL)
    {
      g_printerr ("esa-proxy: %s\n", error->message);
      return 1;
    }
  if (user != NULL)
    g_print ("%s:%s\n", user, hash);
  else
    g_print ("%s\n", hash);
  return 0;
}

static void
print_check (EsaProxyConfig *config)
{
  g_auto (GStrv) allow = esa_proxy_allow_list_to_strv (config->allow);
  g_autofree char *allow_text = g_strjoinv (" ", allow);

  g_print ("%s: OK\n", config->path);
  g_print ("  listen: %s\n", config->listen_text);
  g_print ("  allow: %s%s%s\n", allow_text, config->esa_conf != NULL ? " (with [sdc] servers of " : "",
           config->esa_conf != NULL ? config->esa_conf : "");
  if (config->esa_conf != NULL)
    g_print (")\n");
  g_print ("  private addresses: %s\n",
           config->allow_private_all ? "allowed"
           : esa_proxy_cidr_list_size (config->allow_private) > 0 ? "allowed in listed ranges"
                                                                  : "refused");
  g_print ("  clients: %s\n", config->clients != NULL ? "listed ranges only" : "any");
  g_print ("  authentication: %s\n", config->users != NULL ? config->users_file : "none");
  g_print ("  upstream: %s\n", config->upstream_host != NULL ? config->upstream_host : "none (direct)");
  g_print ("  limits: max-tunnels=%u idle-timeout=%us connect-timeout=%us header-timeout=%us "
           "max-header-size=%zu\n",
           config->max_tunnels, config->idle_timeout, config->connect_timeout,
           config->header_timeout, config->max_header_size);
}

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  gboolean check_config = FALSE;
  gboolean want_hash = FALSE;
  gboolean version = FALSE;
  gint iterations = ESA_PROXY_PBKDF2_DEFAULT_ITERATIONS;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (EsaProxyConfig) config = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  EsaProxyLog *log;
  App app = { 0 };
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Configuration file (default " ESA_PROXY_DEFAULT_CONFIG ")", "FILE" },
    { "check-config", 0, 0, G_OPTION_ARG_NONE, &check_config,
      "Check the configuration, print a summary and exit", NULL },
    { "hash-password", 0, 0, G_OPTION_ARG_NONE, &want_hash,
      "Read a password on standard input and print a users-file entry for USER", NULL },
    { "iterations", 0, 0, G_OPTION_ARG_INT, &iterations,
      "PBKDF2 iterations for --hash-password", "N" },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  ctx = g_option_context_new ("[USER]");
  g_option_context_set_summary (ctx, "OpenESA Service and Support Proxy: a CONNECT proxy that "
                                     "reaches only allow-listed destinations.");
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("esa-proxy: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("esa-proxy %s\n", ESA_VERSION);
      return 0;
    }
  if (want_hash)
    {
      if (argc > 2 || iterations < 1000)
        {
          g_printerr ("esa-proxy: usage: esa-proxy --hash-password [--iterations N>=1000] [USER]\n");
          return 2;
        }
      return hash_password (argc == 2 ? argv[1] : NULL, (guint) iterations);
    }
  if (argc > 1)
    {
      g_printerr ("esa-proxy: unexpected argument \"%s\"\n", argv[1]);
      return 2;
    }
  if (config_path == NULL)
    config_path = g_strdup (ESA_PROXY_DEFAULT_CONFIG);

  config = esa_proxy_config_load (config_path, &error);
  if (config == NULL)
    {
      g_printerr ("esa-proxy: %s\n", error->message);
      return 1;
    }
  if (check_config)
    {
      print_check (config);
      return 0;
    }

  signal (SIGPIPE, SIG_IGN);
  raise_fd_limit ();
  log = esa_proxy_log_open (config->access_log, &error);
  if (log == NULL)
    {
      g_printerr ("esa-proxy: %s\n", error->message);
      return 1;
    }
  loop = g_main_loop_new (NULL, FALSE);
  app.loop = loop;
  app.config_path = config_path;
  app.server = esa_proxy_server_new (config, log);
  if (!esa_proxy_server_start (app.server, &error))
    {
      g_printerr ("esa-proxy: %s\n", error->message);
      esa_proxy_server_free (app.server);
      return 1;
    }
  g_unix_signal_add (SIGHUP, reload_cb, &app);
  g_unix_signal_add (SIGTERM, terminate_cb, &app);
  g_unix_signal_add (SIGINT, terminate_cb, &app);
  g_message ("listening on %s; %u allowed destination(s)", config->listen_text,
             esa_proxy_allow_list_size (config->allow));
  g_main_loop_run (loop);
  esa_proxy_server_free (app.server);
  g_message ("stopped");
  return 0;
}
