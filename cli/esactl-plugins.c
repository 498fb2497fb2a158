/* esactl-plugins.c: commands served by plugins (problem, inventory, uak …)
 * and `notify`, the entry point of AIX errnotify and Linux watchers. */
#include "config.h"

#include "esactl-private.h"

int
esactl_run_plugin_command (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  JsonArray *args = json_array_new ();
  JsonObject *r;
  int rc;
  for (int i = 0; i < argc; i++)
    json_array_add_string_element (args, argv[i]);
  json_object_set_array_member (o, "args", args);
  json_node_set_object (body, o);
  rc = esactl_call (opts, "POST", "/v1/command", body, &reply);
  if (rc != 0)
    return rc;
  r = json_node_get_object (reply);
  if (opts->json)
    {
      JsonNode *data = json_object_get_member (r, "data");
      if (data != NULL)
        esactl_print_json (data);
      else
        esactl_print_json (reply);
    }
  else if (json_object_has_member (r, "text"))
    {
      const char *text = json_object_get_string_member (r, "text");
      g_print ("%s%s", text, g_str_has_suffix (text, "\n") ? "" : "\n");
    }
  /* A plugin may say the command ran but failed (e.g. a problem not sent). */
  return (int) json_object_get_int_member_with_default (r, "exit", 0);
}

void
esactl_print_plugin_commands (EsactlOptions *opts)
{
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *socket_path = esactl_socket_path (opts);
  JsonArray *a;
  if (socket_path == NULL || !g_file_test (socket_path, G_FILE_TEST_EXISTS))
    {
      g_printerr ("\n(plugin commands such as problem, inventory and uak are listed when esad runs)\n");
      return;
    }
  if (esactl_call (opts, "GET", "/v1/commands", NULL, &reply) != 0)
    return;
  a = json_node_get_array (reply);
  if (json_array_get_length (a) > 0)
    g_printerr ("\nplugin commands:\n");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *c = json_array_get_object_element (a, i);
      g_autofree char *words = g_strdup_printf ("%s %s", esactl_str (c, "words"), esactl_str (c, "usage"));
      g_printerr ("  %-34s %s (%s)\n", g_strstrip (words), esactl_str (c, "summary"), esactl_str (c, "plugin"));
    }
}

/* esactl notify --errlog-seq N [--error-id ID] [--class C] [--type T]
 *               [--resource R] [--label L] [--source S]
 * What the errnotify stanza runs: it only hands the event to esad. */
static int
cmd_notify (EsactlOptions *opts, int argc, char **argv)
{
  gint64 seq = -1;
  g_autofree char *error_id = NULL, *klass = NULL, *type = NULL, *resource = NULL, *label = NULL,
                  *source = NULL, *event = NULL;
  GOptionEntry entries[] = {
    { "errlog-seq", 0, 0, G_OPTION_ARG_INT64, &seq, "Error log sequence number ($1)", "N" },
    { "error-id", 0, 0, G_OPTION_ARG_STRING, &error_id, "Error identifier ($2)", "ID" },
    { "class", 0, 0, G_OPTION_ARG_STRING, &klass, "Error class ($3: H S O U)", "C" },
    { "type", 0, 0, G_OPTION_ARG_STRING, &type, "Error type ($4: PERM TEMP …)", "T" },
    { "resource", 0, 0, G_OPTION_ARG_STRING, &resource, "Resource name ($6)", "R" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &label, "Error label ($9)", "L" },
    { "source", 0, 0, G_OPTION_ARG_STRING, &source, "Where the event came from (errnotify, rasdaemon, edac, smart)", "S" },
    { "event", 0, 0, G_OPTION_ARG_STRING, &event, "Event name (default errlog)", "NAME" },
    { NULL },
  };
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonObject) data = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  int rc;
  if (!esactl_parse_options (opts, "notify", &argc, &argv, entries, &rc))
    return rc;
  if (seq < 0 && label == NULL && source == NULL)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage",
                        "notify: expected --errlog-seq N (as the errnotify stanza passes $1)");
  if (seq >= 0)
    json_object_set_int_member (data, "sequence", seq);
#define SET(member, v) if (v) json_object_set_string_member (data, member, v)
  SET ("error_id", error_id);
  SET ("class", klass);
  SET ("type", type);
  SET ("resource", resource);
  SET ("label", label);
#undef SET
  json_object_set_string_member (data, "source", source ? source : "errnotify");
  json_object_set_string_member (o, "event", event ? event : "errlog");
  json_object_set_object_member (o, "data", g_steal_pointer (&data));
  json_node_set_object (body, o);
  rc = esactl_call (opts, "POST", "/v1/events", body, &reply);
  if (rc == 0 && opts->json)
    esactl_print_json (reply);
  else if (rc == 0 && !opts->quiet)
    g_print ("event %s handed to esad\n", event ? event : "errlog");
  return rc;
}

const EsactlCommand esactl_plugin_commands[] = {
  { NULL, "notify", "--errlog-seq N [--label L] [--resource R] …", "hand an error-log event to esad (errnotify)", cmd_notify },
  { NULL, NULL, NULL, NULL, NULL },
};
