/* esactl-client.c: calls esad over its control socket (HTTP+JSON). */
#include "config.h"

#include <string.h>

#include "esactl-private.h"
#include "esa-config.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <gio/gunixsocketaddress.h>
#include <stdio.h>

char *
esactl_socket_path (EsactlOptions *opts)
{
  g_autoptr (EsaConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  const char *env = g_getenv ("ESA_SOCKET");
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  config = esa_config_load (opts->config_path, &error);
  if (config == NULL && !g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_FOUND))
    {
      /* A broken esa.conf on disk must not cut the admin off a running esad
       * (which still runs on the config it loaded): reach it anyway, and say
       * the two differ. */
      static gboolean warned;
      char *guess = esa_config_guess_socket_path (opts->config_path);
      g_free (opts->config_warning);
      opts->config_warning = g_strdup (error->message);
      if (!warned && !opts->quiet && !opts->json)
        {
          /* one line: the first error names what is wrong, config check lists them all */
          g_autofree char *first = g_strndup (error->message, strcspn (error->message, "\n"));
          g_printerr ("esactl: warning: the config file on disk is invalid and esad runs with the one it loaded "
                      "before: %s has errors (see esactl config check: %s); trying the control socket %s\n",
                      opts->config_path, first, guess);
        }
      warned = TRUE;
      return guess;
    }
  if (config == NULL)
    config = esa_config_new_default ();
  return g_strdup (esa_config_get_socket_path (config));
}

static int
error_exit_code (const char *path, guint status, const char *code)
{
  /* A word no plugin serves is a bad command line, like one esactl doesn't know. */
  if (g_str_equal (path, "/v1/command") && g_strcmp0 (code, "not_found") == 0)
    return ESACTL_EXIT_USAGE;
  if (status == 403 || g_strcmp0 (code, "refused") == 0 || g_strcmp0 (code, "not_activated") == 0)
    return ESACTL_EXIT_REFUSED;
  if (g_strcmp0 (code, "network") == 0 || g_strcmp0 (code, "tls") == 0 ||
      g_strcmp0 (code, "timeout") == 0 || g_strcmp0 (code, "busy") == 0)
    return ESACTL_EXIT_CONNECTIVITY;
  if (g_strcmp0 (code, "invalid_config") == 0)
    return ESACTL_EXIT_CONFIG;
  return ESACTL_EXIT_FAILED;
}

int
esactl_call (EsactlOptions *opts, const char *method, const char *path, JsonNode *body,
             JsonNode **reply)
{
  g_autofree char *socket_path = esactl_socket_path (opts);
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *uri = g_strdup_printf ("http://esad%s", path);
  JsonNode *root;
  guint status;

  if (socket_path == NULL)
    {
      g_autoptr (EsaConfig) config = esa_config_load (opts->config_path, &error);
      return esactl_fail (opts, ESACTL_EXIT_CONFIG, "invalid_config", "%s",
                          error ? error->message : "no control socket configured");
    }
  if (!g_file_test (socket_path, G_FILE_TEST_EXISTS))
    return esactl_fail (opts, ESACTL_EXIT_NOT_RUNNING, "not_running",
                        "esad is not running (no control socket at %s)", socket_path);
  addr = g_unix_socket_address_new (socket_path);
  /* Long calls (a heartbeat through three dead proxies) are bounded by esad. */
  session = soup_session_new_with_options ("remote-connectable", addr, "timeout", 600, NULL);
  msg = soup_message_new (method, uri);
  if (body != NULL)
    {
      char *text = esa_json_to_string (body, FALSE);
      g_autoptr (GBytes) req = g_bytes_new_take (text, strlen (text));
      soup_message_set_request_body_from_bytes (msg, "application/json", req);
    }
  {
    /* the long calls: a send through dead proxies, a snap, a route test */
    EsactlProgress *progress = NULL;
    if (g_str_equal (method, "POST") && opts->command != NULL)
      {
        g_autofree char *what = g_strdup_printf ("esactl %s%s%s: %s", opts->command->group ? opts->command->group : "",
                                                 opts->command->group ? " " : "", opts->command->name,
                                                 g_str_equal (path, "/v1/test") ? "trying every route"
                                                 : g_str_equal (path, "/v1/preview") ? "building, sending nothing"
                                                 : "esad is working, the SDC may take a while");
        /* bytes only where something is sent: not for a preview or a route test */
        progress = esactl_progress_start (opts, what,
                                          g_str_equal (path, "/v1/test") || g_str_equal (path, "/v1/preview")
                                              ? NULL : socket_path);
      }
    else if (g_str_equal (method, "POST") && g_str_equal (path, "/v1/command"))
      progress = esactl_progress_start (opts, "esactl: the plugin is working (collecting, sending)", socket_path);
    bytes = soup_session_send_and_read (session, msg, NULL, &error);
    esactl_progress_stop (progress);
  }
  if (bytes == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    /* esad runs; we may not talk to it: a refusal, not "not running". */
    return esactl_fail (opts, ESACTL_EXIT_REFUSED, "permission_denied",
                        "permission denied on the control socket %s (run as root or as a member of its group)",
                        socket_path);
  if (bytes == NULL)
    return esactl_fail (opts, ESACTL_EXIT_NOT_RUNNING, "not_running",
                        "esad is not running or not answering on %s: %s", socket_path, error->message);
  status = soup_message_get_status (msg);
  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error) ||
      (root = json_parser_get_root (parser)) == NULL)
    return esactl_fail (opts, ESACTL_EXIT_FAILED, "failed", "esad answered %u with something that is not JSON", status);
  if (status != 200)
    {
      const char *code = NULL;
      const char *message = NULL;
      if (JSON_NODE_HOLDS_OBJECT (root) && json_object_has_member (json_node_get_object (root), "error"))
        {
          JsonObject *e = json_object_get_object_member (json_node_get_object (root), "error");
          code = json_object_get_string_member_with_default (e, "code", NULL);
          message = json_object_get_string_member_with_default (e, "message", NULL);
        }
      return esactl_fail (opts, error_exit_code (path, status, code), code ? code : "failed", "%s",
                          message ? message : soup_status_get_phrase (status));
    }
  if (reply != NULL)
    *reply = json_node_copy (root);
  return ESACTL_EXIT_OK;
}

void
esactl_print_json (JsonNode *node)
{
  g_autofree char *text = esa_json_to_string (node, TRUE);
  g_print ("%s\n", text);
}

const char *
esactl_str (JsonObject *o, const char *member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return "-";
  if (json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return "?";
}
