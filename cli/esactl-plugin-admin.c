/* esactl-plugin-admin.c: managing plugins — where the list comes from (esad,
 * or the plugin folder checked directly), `plugin info NAME` and
 * `plugin enable|disable NAME`, which edit [plugins] enabled= of esa.conf in
 * place (comments, order, mode and owner kept; atomic) and ask esad to
 * reload. */
#include "config.h"

#include "esactl-private.h"
#include "esa-config.h"
#include "esa-fileutil.h"
#include "esa-plugin-loader.h"
#include "esa/esa-error.h"

#include <pwd.h>
#include <string.h>

int
esactl_plugins_json (EsactlOptions *opts, JsonNode **out, gboolean *from_esad)
{
  g_autofree char *socket_path = esactl_socket_path (opts);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = NULL;
  g_autoptr (GPtrArray) records = NULL;
  *from_esad = FALSE;
  if (socket_path != NULL && g_file_test (socket_path, G_FILE_TEST_EXISTS) &&
      esactl_call (opts, "GET", "/v1/plugins", NULL, out) == 0)
    {
      *from_esad = TRUE;
      return 0;
    }
  /* Without esad: the folder's checks only, never loading a module (that
   * would run plugin code as the caller). */
  config = esa_config_load (opts->config_path, &error);
  if (config == NULL && g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_FOUND))
    config = esa_config_new_default ();
  else if (config == NULL)
    return esactl_fail (opts, ESACTL_EXIT_CONFIG, "invalid_config", "%s", error->message);
  if (!opts->json && !opts->quiet)
    g_printerr ("esactl: esad is not running; scanning %s directly\n", esa_config_get_plugin_dir (config));
  records = esa_plugin_scan (esa_config_get_plugin_dir (config), esa_config_get_enabled_plugins (config),
                             ESA_PLUGIN_SCAN_CHECK_ONLY);
  *out = esa_plugin_records_to_json (records);
  return 0;
}

static JsonObject *
find_plugin (JsonNode *list, const char *name)
{
  JsonArray *a = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *p = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member_with_default (p, "name", NULL), name) == 0)
        return p;
    }
  return NULL;
}

static char *
owner_text (gint64 uid)
{
  struct passwd *pw;
  if (uid < 0)
    return g_strdup ("-");
  pw = getpwuid ((uid_t) uid);
  return pw != NULL ? g_strdup_printf ("%s (uid %" G_GINT64_FORMAT ")", pw->pw_name, uid)
                    : g_strdup_printf ("uid %" G_GINT64_FORMAT, uid);
}

/* esactl plugin info NAME: the plugin's record and, with esad, its jobs. */
static int
cmd_plugin_info (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (JsonNode) status = NULL;
  g_autoptr (JsonArray) jobs = json_array_new ();
  gboolean from_esad = FALSE;
  JsonObject *p;
  int rc;
  if (argc != 1)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "plugin info: expected NAME");
  rc = esactl_plugins_json (opts, &list, &from_esad);
  if (rc != 0)
    return rc;
  p = find_plugin (list, argv[0]);
  if (p == NULL)
    return esactl_fail (opts, ESACTL_EXIT_FAILED, "not_found", "no plugin %s (see esactl plugin list)", argv[0]);
  if (from_esad && esactl_call (opts, "GET", "/v1/status", NULL, &status) == 0)
    {
      JsonNode *jn = json_object_get_member (json_node_get_object (status), "jobs");
      JsonArray *all = jn != NULL && JSON_NODE_HOLDS_ARRAY (jn) ? json_node_get_array (jn) : NULL;
      for (guint i = 0; all != NULL && i < json_array_get_length (all); i++)
        {
          JsonObject *j = json_array_get_object_element (all, i);
          if (g_strcmp0 (json_object_get_string_member_with_default (j, "plugin", NULL), argv[0]) == 0)
            json_array_add_object_element (jobs, json_object_ref (j));
        }
    }
  if (opts->json)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autoptr (JsonObject) o = json_object_new ();
      GList *members = json_object_get_members (p);
      for (GList *l = members; l != NULL; l = l->next)
        json_object_set_member (o, l->data, json_node_copy (json_object_get_member (p, l->data)));
      g_list_free (members);
      json_object_set_array_member (o, "jobs", json_array_ref (jobs));
      json_node_set_object (node, o);
      esactl_print_json (node);
      return 0;
    }
  {
    g_autofree char *owner = owner_text (json_object_get_int_member_with_default (p, "owner_uid", -1));
    gint64 abi = json_object_get_int_member_with_default (p, "abi", 0);
    g_autofree char *abi_text = abi > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT "%s", abi,
                                                           abi == ESA_PLUGIN_ABI_VERSION ? "" : " (not this esad's)")
                                        : g_strdup ("-");
    const char *reason = esactl_str (p, "reason");
    g_print ("name:        %s\n", esactl_str (p, "name"));
    g_print ("origin:      %s\n", json_object_get_boolean_member_with_default (p, "third_party", TRUE)
                                      ? "third party" : "shipped with OpenESA");
    g_print ("path:        %s\n", esactl_str (p, "path"));
    g_print ("owner:       %s\n", owner);
    g_print ("ABI:         %s\n", abi_text);
    g_print ("version:     %s\n", *esactl_str (p, "version") ? esactl_str (p, "version") : "-");
    g_print ("summary:     %s\n", *esactl_str (p, "summary") ? esactl_str (p, "summary") : "-");
    g_print ("enabled:     %s\n", json_object_get_boolean_member_with_default (p, "enabled", FALSE) ? "yes" : "no");
    g_print ("state:       %s%s%s\n", esactl_str (p, "state"), g_str_equal (reason, "-") ? "" : ": ",
             g_str_equal (reason, "-") ? "" : reason);
    if (!from_esad)
      {
        g_print ("jobs:        (esad is not running)\n");
        return 0;
      }
    if (json_array_get_length (jobs) == 0)
      {
        g_print ("jobs:        none\n");
        return 0;
      }
    g_print ("jobs:\n");
    {
      g_autoptr (EsactlTable) t = esactl_table_new ("JOB", "SCHEDULE", "LAST RUN", "LAST RESULT", "NEXT RUN", NULL);
      for (guint i = 0; i < json_array_get_length (jobs); i++)
        {
          JsonObject *j = json_array_get_object_element (jobs, i);
          g_autofree char *last = esactl_time (esactl_str (j, "last_run"));
          g_autofree char *next = esactl_time (esactl_str (j, "next_run"));
          esactl_table_add (t, esactl_str (j, "name"), esactl_str (j, "schedule"), last,
                            esactl_str (j, "last_result"), next, NULL);
        }
      esactl_table_print (t);
    }
  }
  return 0;
}

/* The value of an "enabled = …" line (stripped), or NULL for other lines. */
static const char *
enabled_value (const char *stripped)
{
  const char *eq = strchr (stripped, '=');
  g_autofree char *key = NULL;
  if (eq == NULL)
    return NULL;
  key = g_strndup (stripped, (gsize) (eq - stripped));
  return g_str_equal (g_strstrip (key), "enabled") ? eq + 1 : NULL;
}

/* The [plugins] enabled= list of esa.conf's text with @name added or
 * removed; every other line stays as it was. *changed: FALSE when it
 * already said so. */
char *
esactl_conf_set_plugin (const char *text, const char *name, gboolean enable, gboolean *changed)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean in_plugins = FALSE, done = FALSE;
  guint n = g_strv_length (lines);
  *changed = FALSE;
  for (guint i = 0; i < n; i++)
    {
      const char *line = lines[i];
      g_autofree char *stripped = g_strstrip (g_strdup (line));
      gboolean last = i + 1 == n;
      if (stripped[0] == '[')
        {
          /* Leaving [plugins] without an enabled= line: add it there. */
          if (in_plugins && !done && enable)
            {
              g_string_append_printf (out, "enabled=%s\n", name);
              *changed = done = TRUE;
            }
          in_plugins = g_str_equal (stripped, "[plugins]");
        }
      else if (in_plugins && !done && enabled_value (stripped) != NULL)
        {
          const char *value = enabled_value (stripped);
          /* A GKeyFile list, as esa-config.c reads it. */
          g_auto (GStrv) items = g_strsplit (value, ";", -1);
          g_autoptr (GPtrArray) kept = g_ptr_array_new ();
          gboolean present = FALSE;
          g_autofree char *joined = NULL;
          for (guint k = 0; items[k] != NULL; k++)
            {
              char *item = g_strstrip (items[k]);
              if (*item == '\0')
                continue;
              if (g_str_equal (item, name))
                {
                  present = TRUE;
                  if (!enable)
                    continue;
                }
              g_ptr_array_add (kept, item);
            }
          if (enable && !present)
            g_ptr_array_add (kept, (gpointer) name);
          g_ptr_array_add (kept, NULL);
          joined = g_strjoinv (";", (char **) kept->pdata);
          *changed = enable != present;
          done = TRUE;
          g_string_append_printf (out, "enabled=%s%s", joined, last ? "" : "\n");
          continue;
        }
      g_string_append (out, line);
      if (!last)
        g_string_append_c (out, '\n');
    }
  if (enable && !done)
    {
      if (out->len > 0 && out->str[out->len - 1] != '\n')
        g_string_append_c (out, '\n');
      if (in_plugins)
        g_string_append_printf (out, "enabled=%s\n", name);
      else
        g_string_append_printf (out, "%s[plugins]\nenabled=%s\n", out->len == 0 ? "" : "\n", name);
      *changed = TRUE;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The edited file must load before it replaces the admin's: it is loaded
 * from a private temp folder, errors then naming @path. */
static gboolean
edited_config_loads (const char *path, const char *edited, GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("esactl-XXXXXX", error);
  g_autofree char *tmp = NULL;
  g_autoptr (EsaConfig) check = NULL;
  if (dir == NULL)
    return FALSE;
  tmp = g_build_filename (dir, "esa.conf", NULL);
  if (g_file_set_contents_full (tmp, edited, -1, G_FILE_SET_CONTENTS_NONE, 0600, error))
    check = esa_config_load (tmp, error);
  esa_rm_rf (dir);
  if (check == NULL && error != NULL && *error != NULL)
    {
      g_autoptr (GString) msg = g_string_new ((*error)->message);
      g_string_replace (msg, tmp, path, 0);
      g_free ((*error)->message);
      (*error)->message = g_string_free (g_steal_pointer (&msg), FALSE);
    }
  return check != NULL;
}

static int
set_enabled (EsactlOptions *opts, int argc, char **argv, gboolean enable)
{
  const char *verb = enable ? "enable" : "disable";
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *edited = NULL;
  g_autofree char *socket_path = NULL;
  g_autoptr (JsonNode) reply = NULL;
  gboolean changed = FALSE, running = FALSE, restart_needed = FALSE;
  gsize len = 0;
  if (argc != 1)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "plugin %s: expected NAME", verb);
  if (!esa_plugin_name_is_valid (argv[0]))
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "\"%s\" is not a plugin name (expected [a-z0-9_-]+)",
                        argv[0]);
  if (!g_file_get_contents (opts->config_path, &text, &len, &error))
    return esactl_fail (opts, ESACTL_EXIT_CONFIG, "invalid_config", "%s", error->message);
  edited = esactl_conf_set_plugin (text, argv[0], enable, &changed);
  if (changed)
    {
      if (!edited_config_loads (opts->config_path, edited, &error))
        return esactl_fail (opts, ESACTL_EXIT_CONFIG, "invalid_config", "%s not changed: %s", opts->config_path,
                            error->message);
      if (!esa_file_replace (opts->config_path, edited, strlen (edited), &error))
        return esactl_fail (opts, ESACTL_EXIT_FAILED, "failed", "%s", error->message);
      socket_path = esactl_socket_path (opts);
      running = socket_path != NULL && g_file_test (socket_path, G_FILE_TEST_EXISTS);
    }
  if (running && esactl_call (opts, "POST", "/v1/reload", NULL, &reply) != 0)
    return ESACTL_EXIT_FAILED;
  /* esad loads plugins once, at start (modules are never unloaded). */
  restart_needed = reply != NULL &&
                   json_object_get_boolean_member_with_default (json_node_get_object (reply), "restart_needed", FALSE);
  if (opts->json)
    {
      g_autoptr (JsonObject) o = json_object_new ();
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      json_object_set_string_member (o, "plugin", argv[0]);
      json_object_set_boolean_member (o, "enabled", enable);
      json_object_set_boolean_member (o, "changed", changed);
      json_object_set_string_member (o, "config", opts->config_path);
      json_object_set_boolean_member (o, "reloaded", reply != NULL);
      json_object_set_boolean_member (o, "restart_needed", restart_needed);
      json_node_set_object (node, o);
      esactl_print_json (node);
    }
  else if (!opts->quiet && !changed)
    g_print ("plugin %s is already %sd in %s\n", argv[0], verb, opts->config_path);
  else if (!opts->quiet)
    {
      g_print ("plugin %s %sd in %s\n", argv[0], verb, opts->config_path);
      if (!running)
        g_print ("esad is not running: the change applies when it starts\n");
      else if (restart_needed)
        g_print ("esad reloaded its configuration; restart esad to %s the plugin\n", enable ? "load" : "unload");
    }
  return 0;
}

static int
cmd_plugin_enable (EsactlOptions *opts, int argc, char **argv)
{
  return set_enabled (opts, argc, argv, TRUE);
}

static int
cmd_plugin_disable (EsactlOptions *opts, int argc, char **argv)
{
  return set_enabled (opts, argc, argv, FALSE);
}

const EsactlCommand esactl_plugin_admin_commands[] = {
  { "plugin", "info", "NAME", "a plugin's path, owner, ABI, version, jobs and their last runs", cmd_plugin_info },
  { "plugin", "enable", "NAME", "add a plugin to [plugins] enabled= and reload esad", cmd_plugin_enable },
  { "plugin", "disable", "NAME", "remove a plugin from [plugins] enabled= and reload esad", cmd_plugin_disable },
  { NULL, NULL, NULL, NULL, NULL },
};
