/* esa-info-routes.c: GET /v1/info — everything the admin configured and the
 * agent knows, in one answer (docs/schemas/info.json): identity, activation,
 * servers and proxies in order with the last result of each (from the
 * delivery history), contact, plugins, jobs, queue counts, last contact. */
#include "config.h"

#include "esa-info-routes-private.h"
#include "esa-identity-routes-private.h"
#include "esa-credentials.h"
#include "esa-engine.h"
#include "esa-history.h"
#include "esa-plugin-loader.h"
#include "esa/esa-json.h"

#include <string.h>

static gboolean
route_uses (const char *line, const char *needle, gboolean server)
{
  /* a route line starts with its server; a proxy appears as "via proxy N URL" */
  return line != NULL && (server ? g_str_has_prefix (line, needle) : strstr (line, needle) != NULL);
}

/* The newest attempt (from the delivery history) through @needle, a server
 * URL or a proxy URL: its time, whether it worked, and what it said. */
static void
add_last_result (JsonObject *o, JsonArray *history, const char *needle, gboolean server)
{
  for (guint i = json_array_get_length (history); i > 0; i--)
    {
      JsonObject *r = json_array_get_object_element (history, i - 1);
      JsonNode *an = json_object_get_member (r, "attempts");
      JsonArray *tried = an != NULL && JSON_NODE_HOLDS_ARRAY (an) ? json_node_get_array (an) : NULL;
      const char *line = NULL;
      gboolean ok = FALSE;
      for (guint j = tried ? json_array_get_length (tried) : 0; j > 0 && line == NULL; j--)
        {
          JsonNode *e = json_array_get_element (tried, j - 1);
          const char *text = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING
                                 ? json_node_get_string (e) : NULL;
          if (route_uses (text, needle, server))
            {
              line = text;
              /* only the last attempt of a delivered report worked */
              ok = esa_json_peek_boolean (r, "delivered", FALSE) && j == json_array_get_length (tried);
            }
        }
      if (line == NULL && route_uses (esa_json_peek_string (r, "route"), needle, server))
        {
          line = esa_json_peek_string (r, "route");
          ok = esa_json_peek_boolean (r, "delivered", FALSE);
        }
      if (line == NULL)
        continue;
      json_object_set_string_member (o, "last_time", esa_json_peek_string (r, "time"));
      json_object_set_boolean_member (o, "last_ok", ok);
      json_object_set_string_member (o, "last_result", line);
      return;
    }
  json_object_set_null_member (o, "last_time");
  json_object_set_null_member (o, "last_ok");
  json_object_set_null_member (o, "last_result");
}

static void
set_str_or_null (JsonObject *o, const char *member, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (o, member, value);
  else
    json_object_set_null_member (o, member);
}

static void
get_info (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  EsaConfig *config = esa_engine_get_config (engine);
  const char *state_dir = esa_config_get_state_dir (config);
  g_autoptr (EsaCredentials) creds = esa_credentials_load (state_dir, NULL);
  g_autoptr (JsonArray) history = esa_history_read (state_dir, NULL, NULL);
  g_autoptr (JsonNode) status = esa_engine_status_to_json (engine);
  g_autoptr (JsonNode) plugins = esa_plugin_records_to_json (esa_engine_get_plugins (engine));
  JsonObject *st = json_node_get_object (status);
  JsonObject *o = json_object_new ();
  JsonObject *act = json_object_new ();
  JsonObject *sdc = json_object_new ();
  JsonObject *contact = json_object_new ();
  JsonObject *queue = json_object_new ();
  JsonArray *servers = json_array_new ();
  JsonArray *proxies = json_array_new ();
  JsonArray *enabled = json_array_new ();
  const char *const *list = esa_config_get_servers (config);
  const char *last_contact = NULL;
  JsonNode *n;

  json_object_set_member (o, "system", json_node_copy (json_object_get_member (st, "platform")));
  json_object_set_boolean_member (act, "activated", creds != NULL);
  set_str_or_null (act, "system_id", creds ? creds->system_id : NULL);
  set_str_or_null (act, "server", creds ? creds->server : NULL);
  {
    g_autofree char *when = creds && creds->activated ? esa_json_time_iso (creds->activated) : NULL;
    set_str_or_null (act, "since", when);
  }
  /* a registration the SDC's admin has still to approve (esad asks again) */
  json_object_set_member (act, "pending", esa_identity_pending_to_json (state_dir));
  json_object_set_object_member (o, "activation", act);

  /* Without [sdc] servers= the server of activation is the one used. */
  if ((list == NULL || list[0] == NULL) && creds != NULL && creds->server != NULL)
    {
      JsonObject *s = json_object_new ();
      json_object_set_string_member (s, "url", creds->server);
      json_object_set_string_member (s, "from", "activation");
      add_last_result (s, history, creds->server, TRUE);
      json_array_add_object_element (servers, s);
    }
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    {
      JsonObject *s = json_object_new ();
      json_object_set_string_member (s, "url", list[i]);
      json_object_set_string_member (s, "from", "config");
      add_last_result (s, history, list[i], TRUE);
      json_array_add_object_element (servers, s);
    }
  for (guint i = 0; i < esa_config_get_n_proxies (config); i++)
    {
      JsonObject *p = json_object_new ();
      const char *url = NULL, *user = NULL;
      esa_config_get_proxy (config, i, &url, &user, NULL);
      json_object_set_string_member (p, "url", url);
      set_str_or_null (p, "user", user);
      add_last_result (p, history, url, FALSE);
      json_array_add_object_element (proxies, p);
    }
  json_object_set_array_member (sdc, "servers", servers);
  json_object_set_array_member (sdc, "proxies", proxies);
  json_object_set_boolean_member (sdc, "direct", esa_config_get_direct (config));
  set_str_or_null (sdc, "config_url", esa_config_get_config_url (config));
  /* the last time every https route failed and the config-url was asked */
  {
    JsonObject *fb = json_object_new ();
    if (esa_config_get_config_url (config) != NULL)
      add_last_result (fb, history, "config-url ", TRUE);
    else
      {
        json_object_set_null_member (fb, "last_time");
        json_object_set_null_member (fb, "last_result");
      }
    json_object_remove_member (fb, "last_ok");
    json_object_set_object_member (sdc, "config_url_fallback", fb);
  }
  json_object_set_string_member (sdc, "transport", esa_config_get_transport (config));
  json_object_set_object_member (o, "sdc", sdc);

  set_str_or_null (contact, "name", esa_config_get_contact_name (config));
  set_str_or_null (contact, "email", esa_config_get_contact_email (config));
  set_str_or_null (contact, "phone", esa_config_get_contact_phone (config));
  json_object_set_object_member (o, "contact", contact);

  for (guint i = 0; i < json_array_get_length (json_node_get_array (plugins)); i++)
    {
      JsonObject *p = json_array_get_object_element (json_node_get_array (plugins), i);
      JsonObject *e;
      if (!esa_json_peek_boolean (p, "enabled", FALSE))
        continue;
      e = json_object_new ();
      json_object_set_string_member (e, "name", esa_json_peek_string (p, "name"));
      set_str_or_null (e, "version", esa_json_peek_string (p, "version"));
      json_object_set_string_member (e, "state", esa_json_peek_string (p, "state"));
      json_array_add_object_element (enabled, e);
    }
  json_object_set_array_member (o, "plugins", enabled);
  json_object_set_member (o, "jobs", json_node_copy (json_object_get_member (st, "jobs")));

  json_object_set_int_member (queue, "queued", esa_json_peek_int (st, "queued", 0));
  json_object_set_int_member (queue, "failed", esa_json_peek_int (st, "failed", 0));
  json_object_set_object_member (o, "queue", queue);

  for (guint i = json_array_get_length (history); i > 0 && last_contact == NULL; i--)
    {
      JsonObject *r = json_array_get_object_element (history, i - 1);
      if (esa_json_peek_boolean (r, "delivered", FALSE))
        last_contact = esa_json_peek_string (r, "time");
    }
  set_str_or_null (o, "last_contact", last_contact);
  n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  esa_control_reply (ctl, msg, n);
}

void
esa_info_add_routes (EsaControl *ctl)
{
  esa_control_add_route (ctl, "GET", "/v1/info", get_info, NULL);
}
