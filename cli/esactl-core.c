/* esactl-core.c: status, plugin list, queue list, config check. */
#include "config.h"

#include "esactl-private.h"
#include "esa-config.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"
#include "esa-plugin-loader.h"

static int
cmd_status (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (JsonNode) reply = NULL;
  JsonObject *o, *p;
  JsonArray *jobs;
  g_autofree char *started = NULL;
  int rc = esactl_call (opts, "GET", "/v1/status", NULL, &reply);
  if (rc != 0)
    return rc;
  if (opts->config_warning != NULL)
    {
      /* what esad runs with is not what the file says */
      /* (the client warned on stderr when it fell back to the socket) */
      json_object_set_string_member (json_node_get_object (reply), "config_on_disk_error", opts->config_warning);
    }
  if (opts->json)
    {
      esactl_print_json (reply);
      return 0;
    }
  o = json_node_get_object (reply);
  p = json_object_get_object_member (o, "platform");
  started = esactl_time (esactl_str (o, "started"));
  g_print ("esad %s, pid %" G_GINT64_FORMAT ", running since %s\n", esactl_str (o, "version"),
           json_object_get_int_member (o, "pid"), started);
  g_print ("config:     %s\nstate dir:  %s\n", esactl_str (o, "config"), esactl_str (o, "state_dir"));
  if (json_object_has_member (o, "activated"))
    g_print ("activated:  %s\n", json_object_get_boolean_member (o, "activated")
                                     ? esactl_str (o, "system_id") : "no");
  esactl_print_credentials_refused (o);
  esactl_print_registration_pending (esa_json_peek_object (o, "registration_pending"), "            ");
  g_print ("system:     %s %s-%s serial %s, %s %s%s\n", esactl_str (p, "vendor"),
           esactl_str (p, "machine_type"), esactl_str (p, "model"), esactl_str (p, "serial"),
           esactl_str (p, "os"), esactl_str (p, "os_version"),
           json_object_get_boolean_member_with_default (p, "is_lpar", FALSE) ? " (LPAR)" : "");
  esactl_print_partition (p);
  g_print ("plugins:    %" G_GINT64_FORMAT " loaded\n", json_object_get_int_member (o, "plugins_loaded"));
  g_print ("queue:      %" G_GINT64_FORMAT " waiting, %" G_GINT64_FORMAT " failed\n",
           json_object_get_int_member (o, "queued"), json_object_get_int_member (o, "failed"));
  if (json_object_has_member (o, "delivery_blocked"))
    g_print ("delivery:   BLOCKED, reports kept: %s\n", esactl_str (o, "delivery_blocked"));
  if (opts->quiet)
    return 0;
  g_print ("\n");
  jobs = json_object_get_array_member (o, "jobs");
  {
    g_autoptr (EsactlTable) t = esactl_table_new ("JOB", "PLUGIN", "SCHEDULE", "LAST RUN", "NEXT RUN", "LAST RESULT", NULL);
    for (guint i = 0; i < json_array_get_length (jobs); i++)
      {
        JsonObject *j = json_array_get_object_element (jobs, i);
        g_autofree char *last = esactl_time (esactl_str (j, "last_run"));
        g_autofree char *next = esactl_time (esactl_str (j, "next_run"));
        esactl_table_add (t, esactl_str (j, "name"), esactl_str (j, "plugin"),
                          esactl_str (j, "schedule"), last, next, esactl_str (j, "last_result"), NULL);
      }
    esactl_table_print (t);
  }
  return 0;
}

static void
print_plugins (EsactlOptions *opts, JsonNode *list)
{
  JsonArray *a = json_node_get_array (list);
  g_autoptr (EsactlTable) t = NULL;
  if (opts->json)
    {
      esactl_print_json (list);
      return;
    }
  t = esactl_table_new ("NAME", "VERSION", "ENABLED", "STATE", "SUMMARY / REASON", NULL);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *p = json_array_get_object_element (a, i);
      const char *state = esactl_str (p, "state");
      gboolean ok = g_str_equal (state, "loaded") || g_str_equal (state, "disabled") || g_str_equal (state, "checked");
      g_autofree char *text = ok ? g_strdup (esactl_str (p, "summary"))
                                 : g_strdup_printf ("%s", esactl_str (p, "reason"));
      /* Third-party plugins are marked: not shipped (nor vetted) with OpenESA. */
      g_autofree char *name = json_object_get_boolean_member_with_default (p, "third_party", FALSE)
                                  ? g_strdup_printf ("%s (third party)", esactl_str (p, "name"))
                                  : g_strdup (esactl_str (p, "name"));
      esactl_table_add (t, name, esactl_str (p, "version"),
                        json_object_get_boolean_member (p, "enabled") ? "yes" : "no", state, text, NULL);
    }
  esactl_table_print (t);
}

/* Works without esad (see esactl_plugins_json). */
static int
cmd_plugin_list (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (JsonNode) reply = NULL;
  gboolean from_esad = FALSE;
  int rc = esactl_plugins_json (opts, &reply, &from_esad);
  if (rc == 0)
    print_plugins (opts, reply);
  return rc;
}

static void
print_entries (JsonArray *a, gboolean failed)
{
  g_autoptr (EsactlTable) t = failed
      ? esactl_table_new ("UUID", "KIND", "PLUGIN", "CREATED", "REASON", NULL)
      : esactl_table_new ("UUID", "KIND", "PLUGIN", "CREATED", "SIZE", "TRIES", "LAST ERROR", NULL);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *e = json_array_get_object_element (a, i);
      g_autofree char *size = esactl_size ((guint64) json_object_get_int_member (e, "size"));
      g_autofree char *created = esactl_time (esactl_str (e, "created"));
      g_autofree char *tries = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (e, "attempts"));
      if (failed)
        esactl_table_add (t, esactl_str (e, "uuid"), esactl_str (e, "kind"), esactl_str (e, "plugin"),
                          created, esactl_str (e, "failed_reason"), NULL);
      else
        esactl_table_add (t, esactl_str (e, "uuid"), esactl_str (e, "kind"), esactl_str (e, "plugin"),
                          created, size, tries, esactl_str (e, "last_error"), NULL);
    }
  esactl_table_print (t);
}

static int
cmd_queue_list (EsactlOptions *opts, int argc, char **argv)
{
  gint limit = -1, offset = 0;
  GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "Show at most N reports of each list", "N" },
    { "offset", 0, 0, G_OPTION_ARG_INT, &offset, "Skip the first M (oldest) reports of each list", "M" },
    { NULL },
  };
  g_autoptr (JsonNode) reply = NULL;
  g_autoptr (GString) path = g_string_new ("/v1/queue");
  JsonObject *o;
  int rc;
  if (!esactl_parse_options (opts, "queue list", &argc, &argv, entries, &rc))
    return rc;
  if (argc != 0 || limit < -1 || offset < 0)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage",
                        "queue list: expected [--limit N] [--offset M], N and M >= 0");
  g_string_append_printf (path, "?offset=%d", offset);
  if (limit >= 0)
    g_string_append_printf (path, "&limit=%d", limit);
  rc = esactl_call (opts, "GET", path->str, NULL, &reply);
  if (rc != 0)
    return rc;
  if (opts->json)
    {
      esactl_print_json (reply);
      return 0;
    }
  o = json_node_get_object (reply);
  g_print ("Waiting to be sent (%" G_GINT64_FORMAT " in all):\n", esa_json_peek_int (o, "total_queued", 0));
  print_entries (json_object_get_array_member (o, "queued"), FALSE);
  if (json_array_get_length (json_object_get_array_member (o, "failed")) > 0)
    {
      g_print ("\nRejected by the SDC or unreadable (in failed/, %" G_GINT64_FORMAT " in all):\n",
               esa_json_peek_int (o, "total_failed", 0));
      print_entries (json_object_get_array_member (o, "failed"), TRUE);
    }
  return 0;
}

static int
cmd_config_check (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = NULL;
  const char *path = argc > 0 ? argv[0] : opts->config_path;
  config = esa_config_load (path, &error);
  if (config == NULL)
    {
      /* One line per error, every error of the file. */
      g_auto (GStrv) lines = g_strsplit (error->message, "\n", -1);
      if (opts->json)
        {
          g_autoptr (JsonObject) o = json_object_new ();
          g_autoptr (JsonNode) n = json_node_new (JSON_NODE_OBJECT);
          JsonArray *errors = json_array_new ();
          for (guint i = 0; lines[i] != NULL; i++)
            json_array_add_string_element (errors, lines[i]);
          json_object_set_boolean_member (o, "valid", FALSE);
          json_object_set_string_member (o, "error", lines[0]);
          json_object_set_array_member (o, "errors", errors);
          json_node_set_object (n, o);
          esactl_print_json (n);
        }
      else
        for (guint i = 0; lines[i] != NULL; i++)
          g_printerr ("esactl: %s\n", lines[i]);
      return ESACTL_EXIT_CONFIG;
    }
  if (opts->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "valid");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_set_member_name (b, "warnings");
      json_builder_begin_array (b);
      for (guint i = 0; i < esa_config_get_warnings (config)->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (esa_config_get_warnings (config), i));
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      esactl_print_json (root);
      return 0;
    }
  for (guint i = 0; i < esa_config_get_warnings (config)->len; i++)
    g_printerr ("warning: %s\n", (const char *) g_ptr_array_index (esa_config_get_warnings (config), i));
  g_print ("%s: OK\n", path);
  return 0;
}

const EsactlCommand esactl_core_commands[] = {
  { NULL, "status", "", "show the agent, its jobs and its queue", cmd_status },
  { "plugin", "list", "", "list plugins: enabled, loaded, disabled or refused (and why)", cmd_plugin_list },
  { "queue", "list", "[--limit N] [--offset M]", "list reports waiting to be sent and those the SDC rejected", cmd_queue_list },
  { "config", "check", "[FILE]", "validate a config file", cmd_config_check },
  { NULL, NULL, NULL, NULL, NULL },
};
