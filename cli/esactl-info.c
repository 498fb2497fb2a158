/* esactl-info.c: `esactl info` — everything configured and known in one
 * screen: identity, activation, servers and proxies in order with the last
 * result of each, contact, plugins, jobs, UAK expiry, queue, last contact
 * with the SDC. esad answers GET /v1/info; the UAK comes from the uak
 * plugin's `uak status` when it is loaded. */
#include "config.h"

#include "esactl-private.h"
#include "esa/esa-json.h"

/* The uak plugin's view of the key, or NULL when no plugin serves it. */
static JsonNode *
uak_status (EsactlOptions *opts)
{
  EsactlOptions quiet = *opts;
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  JsonArray *args = json_array_new ();
  JsonObject *data, *u;
  JsonNode *out;
  quiet.silent = TRUE;
  json_array_add_string_element (args, "uak");
  json_array_add_string_element (args, "status");
  json_object_set_array_member (o, "args", args);
  json_node_set_object (body, o);
  if (esactl_call (&quiet, "POST", "/v1/command", body, &reply) != 0 || !JSON_NODE_HOLDS_OBJECT (reply))
    return NULL;
  data = esa_json_peek_object (json_node_get_object (reply), "data");
  u = json_object_new ();
  if (esa_json_peek_string (data, "expiry") != NULL)
    json_object_set_string_member (u, "expiry", esa_json_peek_string (data, "expiry"));
  else
    json_object_set_null_member (u, "expiry");
  if (data != NULL && json_object_has_member (data, "days_left") &&
      json_node_get_value_type (json_object_get_member (data, "days_left")) == G_TYPE_INT64)
    json_object_set_int_member (u, "days_left", json_object_get_int_member (data, "days_left"));
  else
    json_object_set_null_member (u, "days_left");
  if (esa_json_peek_string (data, "read_error") != NULL)
    json_object_set_string_member (u, "error", esa_json_peek_string (data, "read_error"));
  out = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (out, u);
  return out;
}

static void
print_endpoints (const char *title, JsonArray *list, gboolean proxies)
{
  g_autoptr (EsactlTable) t = esactl_table_new ("#", title, "LAST", "RESULT", NULL);
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *e = json_array_get_object_element (list, i);
      g_autofree char *n = g_strdup_printf ("%u", i + 1);
      g_autofree char *what = NULL;
      JsonNode *ok = json_object_get_member (e, "last_ok");
      if (proxies && esa_json_peek_string (e, "user") != NULL)
        what = g_strdup_printf ("%s (user %s)", esactl_str (e, "url"), esactl_str (e, "user"));
      else if (!proxies && g_strcmp0 (esa_json_peek_string (e, "from"), "activation") == 0)
        what = g_strdup_printf ("%s (from activation)", esactl_str (e, "url"));
      else
        what = g_strdup (esactl_str (e, "url"));
      if (ok == NULL || JSON_NODE_HOLDS_NULL (ok))
        esactl_table_add (t, n, what, "-", "not used yet", NULL);
      else
        {
          g_autofree char *result = g_strdup_printf ("%s: %s", json_node_get_boolean (ok) ? "ok" : "failed",
                                                     esactl_str (e, "last_result"));
          esactl_table_add (t, n, what, esactl_str (e, "last_time"), result, NULL);
        }
    }
  esactl_table_print (t);
}

static int
cmd_info (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (JsonNode) reply = NULL;
  g_autoptr (JsonNode) uak = NULL;
  JsonObject *o, *sys, *act, *sdc, *contact, *queue;
  JsonArray *plugins, *jobs;
  g_autoptr (GString) names = g_string_new (NULL);
  int rc;
  if (argc > 0)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "info: unexpected \"%s\"", argv[0]);
  if ((rc = esactl_call (opts, "GET", "/v1/info", NULL, &reply)) != 0)
    return rc;
  o = json_node_get_object (reply);
  uak = uak_status (opts);
  if (uak != NULL)
    json_object_set_member (o, "uak", json_node_ref (uak));
  else
    json_object_set_null_member (o, "uak");
  if (opts->json)
    {
      esactl_print_json (reply);
      return 0;
    }
  sys = esa_json_peek_object (o, "system");
  act = esa_json_peek_object (o, "activation");
  sdc = esa_json_peek_object (o, "sdc");
  contact = esa_json_peek_object (o, "contact");
  queue = esa_json_peek_object (o, "queue");
  g_print ("system:        %s %s-%s serial %s, %s %s, host %s%s\n", esactl_str (sys, "vendor"),
           esactl_str (sys, "machine_type"), esactl_str (sys, "model"), esactl_str (sys, "serial"),
           esactl_str (sys, "os"), esactl_str (sys, "os_version"), esactl_str (sys, "hostname"),
           esa_json_peek_boolean (sys, "is_lpar", FALSE) ? " (LPAR)" : "");
  if (esa_json_peek_boolean (act, "activated", FALSE))
    g_print ("activation:    %s at %s since %s\n", esactl_str (act, "system_id"), esactl_str (act, "server"),
             esactl_str (act, "since"));
  else
    g_print ("activation:    not activated (esactl activate --server URL)\n");
  esactl_print_registration_pending (esa_json_peek_object (act, "pending"), "               ");
  g_print ("last contact:  %s\n", esa_json_peek_string (o, "last_contact") ? esactl_str (o, "last_contact")
                                                                            : "never (no report delivered yet)");
  g_print ("transport:     %s%s%s\n", esactl_str (sdc, "transport"),
           esa_json_peek_string (sdc, "config_url") ? ", config-url " : "",
           esa_json_peek_string (sdc, "config_url") ? esactl_str (sdc, "config_url") : "");
  {
    JsonObject *fb = esa_json_peek_object (sdc, "config_url_fallback");
    if (esa_json_peek_string (fb, "last_result") != NULL)
      g_print ("fallback:      %s %s\n", esactl_str (fb, "last_time"), esactl_str (fb, "last_result"));
  }
  g_print ("contact:       %s, %s, %s\n", esactl_str (contact, "name"), esactl_str (contact, "email"),
           esactl_str (contact, "phone"));
  plugins = json_object_has_member (o, "plugins") ? json_object_get_array_member (o, "plugins") : NULL;
  for (guint i = 0; plugins != NULL && i < json_array_get_length (plugins); i++)
    {
      JsonObject *p = json_array_get_object_element (plugins, i);
      g_string_append_printf (names, "%s%s (%s)", i ? ", " : "", esactl_str (p, "name"), esactl_str (p, "state"));
    }
  g_print ("plugins:       %s\n", names->len ? names->str : "none enabled");
  if (uak == NULL)
    g_print ("UAK:           - (no uak plugin loaded)\n");
  else
    {
      JsonObject *u = json_node_get_object (uak);
      if (esa_json_peek_string (u, "expiry") == NULL)
        g_print ("UAK:           %s\n", esa_json_peek_string (u, "error") ? esactl_str (u, "error") : "no key");
      else if (esa_json_peek_int (u, "days_left", 0) < 0)
        g_print ("UAK:           expired on %s\n", esactl_str (u, "expiry"));
      else
        g_print ("UAK:           expires %s (%" G_GINT64_FORMAT " days left)\n", esactl_str (u, "expiry"),
                 esa_json_peek_int (u, "days_left", 0));
    }
  g_print ("queue:         %" G_GINT64_FORMAT " waiting, %" G_GINT64_FORMAT " failed\n",
           esa_json_peek_int (queue, "queued", 0), esa_json_peek_int (queue, "failed", 0));
  g_print ("direct:        %s\n\n", esa_json_peek_boolean (sdc, "direct", FALSE) ? "allowed after the proxies" : "no");
  print_endpoints ("SERVER", esa_json_peek_object (o, "sdc") ? json_object_get_array_member (sdc, "servers") : NULL, FALSE);
  if (json_array_get_length (json_object_get_array_member (sdc, "proxies")) > 0)
    {
      g_print ("\n");
      print_endpoints ("PROXY", json_object_get_array_member (sdc, "proxies"), TRUE);
    }
  jobs = json_object_has_member (o, "jobs") ? json_object_get_array_member (o, "jobs") : NULL;
  if (jobs != NULL && !opts->quiet)
    {
      g_autoptr (EsactlTable) t = esactl_table_new ("JOB", "PLUGIN", "SCHEDULE", "LAST RUN", "NEXT RUN", NULL);
      for (guint i = 0; i < json_array_get_length (jobs); i++)
        {
          JsonObject *j = json_array_get_object_element (jobs, i);
          g_autofree char *last = esactl_time (esactl_str (j, "last_run"));
          g_autofree char *next = esactl_time (esactl_str (j, "next_run"));
          esactl_table_add (t, esactl_str (j, "name"), esactl_str (j, "plugin"), esactl_str (j, "schedule"),
                            last, next, NULL);
        }
      g_print ("\n");
      esactl_table_print (t);
    }
  return 0;
}

const EsactlCommand esactl_info_commands[] = {
  { NULL, "info", "", "everything configured and known: identity, activation, servers, proxies, contact, plugins, jobs, UAK, queue", cmd_info },
  { NULL, NULL, NULL, NULL, NULL },
};
