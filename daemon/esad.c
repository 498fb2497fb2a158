/* esad.c: the agent daemon — loads plugins, runs jobs, serves the control
 * socket; SIGTERM stops cleanly, SIGHUP reloads the config. */
#include "config.h"

#include "esa-control-routes-private.h"
#include "esa-engine.h"
#include "esa-fileutil.h"
#include "esa-log-private.h"
#include "esa-memory-private.h"
#include "esad-transports.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The longest esad waits at stop for jobs that ignore cancellation. */
#define ESAD_STOP_WAIT_S 300

typedef struct {
  GMainLoop *loop;
  char *config_path;
  EsaEngine *engine;
  EsaControl *control;
  EsadTransports transports;
  char *pid_file;
  int exit_code;
} Esad;

static gboolean
on_term (gpointer user_data)
{
  Esad *d = user_data;
  g_message ("stopping (signal)");
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

/* Re-reads the config (SIGHUP, POST /v1/reload). *restart_needed: a change
 * that only a restart applies (state-dir, socket, [plugins]). */
static gboolean
reload_config (Esad *d, gboolean *restart_needed, GError **error)
{
  EsaConfig *config = esa_config_load (d->config_path, error);
  if (config == NULL)
    {
      g_warning ("reload refused, keeping the running config: %s", (*error)->message);
      return FALSE;
    }
  EsaConfig *running = esa_engine_get_config (d->engine);
  GPtrArray *warnings = esa_config_get_warnings (config);
  for (guint i = 0; i < warnings->len; i++)
    g_warning ("%s", (const char *) g_ptr_array_index (warnings, i));
  *restart_needed = g_strcmp0 (esa_config_get_state_dir (config), esa_config_get_state_dir (running)) != 0 ||
                    g_strcmp0 (esa_config_get_socket_path (config), esa_config_get_socket_path (running)) != 0 ||
                    !g_strv_equal (esa_config_get_enabled_plugins (config), esa_config_get_enabled_plugins (running));
  if (*restart_needed)
    g_message ("reload: state-dir, socket and [plugins] changes take effect at the next start");
  esa_log_set_level (esa_config_get_log_level (config));
  esa_engine_set_config (d->engine, config);
  esad_transports_reload (&d->transports);
  g_message ("configuration reloaded from %s", d->config_path);
  return TRUE;
}

static gboolean
on_hup (gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gboolean restart_needed = FALSE;
  reload_config (user_data, &restart_needed, &error);
  return G_SOURCE_CONTINUE;
}

/* POST /v1/reload: what SIGHUP does, for esactl (plugin enable/disable). */
static void
post_reload (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body,
             gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gboolean restart_needed = FALSE;
  g_autoptr (JsonObject) o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  if (!reload_config (user_data, &restart_needed, &error))
    {
      json_node_unref (node);
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  json_object_set_boolean_member (o, "reloaded", TRUE);
  json_object_set_boolean_member (o, "restart_needed", restart_needed);
  json_node_set_object (node, o);
  esa_control_reply (ctl, msg, node);
}

/* Refuses to start over a live esad's PID file; a stale one is replaced. */
static gboolean
write_pid_file (const char *path, GError **error)
{
  g_autofree char *old = NULL;
  g_autofree char *text = NULL;
  if (g_file_get_contents (path, &old, NULL, NULL))
    {
      gint64 pid = g_ascii_strtoll (old, NULL, 10);
      if (pid > 0 && kill ((pid_t) pid, 0) == 0 && pid != getpid ())
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                       "%s: esad is already running as pid %" G_GINT64_FORMAT, path, pid);
          return FALSE;
        }
    }
  text = g_strdup_printf ("%d\n", (int) getpid ());
  return esa_file_write_atomic (path, NULL, text, strlen (text), 0644, error);
}

static gboolean
daemonize (GError **error)
{
  pid_t pid = fork ();
  int fd;
  if (pid < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "fork: %s", g_strerror (errno));
      return FALSE;
    }
  if (pid > 0)
    _exit (0);
  setsid ();
  pid = fork ();
  if (pid > 0)
    _exit (0);
  if (chdir ("/") != 0)
    return FALSE;
  fd = open ("/dev/null", O_RDWR);
  if (fd >= 0)
    {
      dup2 (fd, 0);
      dup2 (fd, 1);
      dup2 (fd, 2);
      if (fd > 2)
        close (fd);
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  gboolean foreground = FALSE;
  gboolean version = FALSE;
  g_autofree char *config_path = NULL;
  g_autofree char *pid_file = NULL;
  g_autoptr (GOptionContext) octx = NULL;
  g_autoptr (GError) error = NULL;
  Esad d = { 0 };
  EsaConfig *config;
  const GOptionEntry entries[] = {
    { "foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground, N_("Stay in the foreground, log to stderr"), NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, N_("Config file (default " SYSCONFDIR "/esa/esa.conf)"), "FILE" },
    { "pid-file", 'p', 0, G_OPTION_ARG_FILENAME, &pid_file, N_("Write the PID here (overrides [agent] pid-file=)"), "FILE" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version"), NULL },
    { NULL },
  };

  esa_memory_init ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  octx = g_option_context_new (_("— the OpenESA agent daemon"));
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      g_printerr ("esad: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("esad %s\n", ESA_VERSION);
      return 0;
    }
  /* Absolute: a daemon works from "/", and SIGHUP re-reads this path. */
  d.config_path = g_canonicalize_filename (config_path ? config_path : SYSCONFDIR "/esa/esa.conf", NULL);
  esa_log_setup (ESA_LOG_STDERR, "message");
  config = esa_config_load (d.config_path, &error);
  if (config == NULL)
    {
      g_printerr ("esad: %s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < esa_config_get_warnings (config)->len; i++)
    g_printerr ("esad: warning: %s\n", (const char *) g_ptr_array_index (esa_config_get_warnings (config), i));
  d.pid_file = pid_file ? g_canonicalize_filename (pid_file, NULL) : g_strdup (esa_config_get_pid_file (config));

  if (!foreground)
    {
      if (!daemonize (&error))
        {
          g_printerr ("esad: cannot become a daemon: %s\n", error ? error->message : "chdir failed");
          return 1;
        }
      esa_log_setup (ESA_LOG_SYSLOG, esa_config_get_log_level (config));
    }
  else
    esa_log_setup (ESA_LOG_STDERR, esa_config_get_log_level (config));

  umask (077);
  if (d.pid_file != NULL && !write_pid_file (d.pid_file, &error))
    {
      g_warning ("cannot start: %s", error->message);
      return 1;
    }
  d.engine = esa_engine_new (config, &error);
  if (d.engine == NULL)
    {
      g_warning ("cannot start: %s", error->message);
      if (d.pid_file != NULL)
        g_unlink (d.pid_file);
      return 1;
    }
  d.control = esa_control_new (d.engine, esa_config_get_socket_path (esa_engine_get_config (d.engine)), &error);
  if (d.control == NULL)
    {
      g_warning ("cannot start: %s", error->message);
      esa_engine_free (d.engine);
      if (d.pid_file != NULL)
        g_unlink (d.pid_file);
      return 1;
    }
  esa_control_add_core_routes (d.control);
  esa_control_add_route (d.control, "POST", "/v1/reload", post_reload, &d);
  esa_engine_load_plugins (d.engine);
  if (!esad_transports_init (&d.transports, d.engine, d.control, &error))
    {
      g_warning ("cannot start: %s", error->message);
      esa_control_free (d.control);
      esa_engine_free (d.engine);
      if (d.pid_file != NULL)
        g_unlink (d.pid_file);
      return 1;
    }
  esa_engine_start (d.engine);

  d.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_term, &d);
  g_unix_signal_add (SIGINT, on_term, &d);
  g_unix_signal_add (SIGHUP, on_hup, &d);
  signal (SIGPIPE, SIG_IGN);
  g_message ("esad %s running (pid %d, config %s, control %s)", ESA_VERSION, (int) getpid (),
             d.config_path, esa_config_get_socket_path (esa_engine_get_config (d.engine)));
  g_main_loop_run (d.loop);

  /* Cancelling kills the jobs' commands, so they end within moments; the
   * engine, the plugins' state and the transports (call_sdc) are freed only
   * after the last one did. A job that ignores its cancellable is waited for
   * up to ESAD_STOP_WAIT_S, then esad exits without freeing what it uses. */
  esa_engine_stop (d.engine);
  if (!esa_engine_wait_jobs (d.engine, ESAD_STOP_WAIT_S))
    {
      g_warning ("exiting with jobs still running");
      if (d.pid_file != NULL)
        g_unlink (d.pid_file);
      _exit (1);
    }
  esad_transports_shutdown (&d.transports);
  esa_control_free (d.control);
  esa_engine_free (d.engine);
  if (d.pid_file != NULL)
    g_unlink (d.pid_file);
  g_main_loop_unref (d.loop);
  g_free (d.config_path);
  g_free (d.pid_file);
  g_message ("stopped");
  return d.exit_code;
}
