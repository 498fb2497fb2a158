/* esa-sender-routes.c: control calls that reach the SDC — activate,
 * test, send (heartbeat now …), queue export/retry. Network work
 * runs in worker threads; the control message waits, the main loop doesn't. */
#include "config.h"

#include "esa-sender-routes-private.h"
#include "esa-identity-routes-private.h"
#include "esa-contact.h"
#include "esa-peercred-private.h"
#include "esa-credentials.h"
#include "esa-deliver.h"
#include "esa-outbox.h"
#include "esa-upload-progress.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"
#include "esa/esa-protocol.h"

#include <string.h>
#include <unistd.h>

typedef struct {
  EsaControl *ctl;
  SoupServerMessage *msg;
  EsaSender *sender;
  EsaConfig *config;
  const EsaPlatform *platform_copy;
  JsonObject *body;
  char *state_dir;
  char *job;
  char *summary;
  gboolean kick_after;     /* new credentials: the queue may go out now */
  EsaRegistrationPoll *poll; /* activate: told of the outcome (pending or not) */
} Call;

static void
call_free (Call *c)
{
  g_clear_object (&c->msg);
  if (c->config != NULL)
    esa_config_unref (c->config);
  if (c->body != NULL)
    json_object_unref (c->body);
  g_free (c->state_dir);
  g_free (c->job);
  g_free (c->summary);
  g_free (c);
}

static Call *
call_new (EsaControl *ctl, SoupServerMessage *msg, JsonObject *body, EsaSender *sender)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  Call *c = g_new0 (Call, 1);
  c->ctl = ctl;
  c->msg = g_object_ref (msg);
  c->sender = sender;
  c->config = esa_config_ref (esa_engine_get_config (engine));
  c->body = json_object_ref (body);
  c->state_dir = g_strdup (esa_config_get_state_dir (c->config));
  esa_control_hold (ctl, msg);
  return c;
}

static void
call_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Call *c = user_data;
  g_autoptr (GError) error = NULL;
  JsonNode *node = g_task_propagate_pointer (G_TASK (res), &error);
  if (node == NULL)
    esa_control_reply_error (c->ctl, c->msg, error);
  else
    esa_control_reply (c->ctl, c->msg, node);
  if (node != NULL && c->kick_after)
    esa_sender_kick (c->sender);
  if (c->poll != NULL)
    esa_registration_poll_update (c->poll);
}

static void
run_call (Call *c, GTaskThreadFunc func)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, call_done, c);
  g_task_set_task_data (task, c, (GDestroyNotify) call_free);
  g_task_run_in_thread (task, func);
}

/* ---- activate ---- */

/* esad's one poller of a pending registration (esa_sender_add_routes) */
static EsaRegistrationPoll *registration_poll;

static gboolean
vendor_allowed (const char *const *vendors, const char *vendor)
{
  for (guint i = 0; vendors != NULL && vendors[i] != NULL; i++)
    if (g_str_equal (vendors[i], "*") || (vendor != NULL && g_ascii_strcasecmp (vendors[i], vendor) == 0))
      return TRUE;
  return FALSE;
}

static void
add_str (JsonObject *o, const char *member, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (o, member, value);
}

static void
activate_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Call *c = task_data;
  const EsaPlatform *pf = c->platform_copy;
  const char *server = esa_json_peek_string (c->body, "server");
  g_autoptr (JsonObject) req = json_object_new ();
  g_autoptr (JsonObject) contact = json_object_new ();
  g_autofree char *pending = NULL;
  EsaDelivery d = { 0 };
  g_autoptr (GError) error = NULL;

  if (!vendor_allowed (esa_config_get_vendors (c->config), pf->vendor))
    {
      g_autofree char *list = g_strjoinv (", ", (char **) esa_config_get_vendors (c->config));
      g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_REFUSED,
                               "not activating: system vendor is %s, and [activation] vendors= allows only %s",
                               pf->vendor ? pf->vendor : "unknown", list);
      return;
    }
  if (server == NULL && esa_config_get_servers (c->config)[0] == NULL)
    {
      g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                               "no SDC to register with: give --server https://… or set [sdc] servers=");
      return;
    }
  if (server != NULL && !g_str_has_prefix (server, "https://"))
    {
      g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                               "--server \"%s\": activation is only sent over https:// (expected https://host[:port]/)", server);
      return;
    }
  json_object_set_int_member (req, "version", ESA_PROTOCOL_VERSION);
  add_str (req, "vendor", pf->vendor);
  add_str (req, "machine_type", pf->machine_type);
  add_str (req, "model", pf->model);
  add_str (req, "serial", pf->serial);
  add_str (req, "system_id", pf->system_id);
  add_str (req, "hostname", pf->hostname);
  add_str (req, "os", pf->os);
  add_str (req, "os_version", pf->os_version);
  json_object_set_boolean_member (req, "is_lpar", pf->is_lpar);
  esa_identity_add_partition (req, pf);
  {
    /* the admin's latest contact (state dir), else esa.conf's */
    g_autoptr (EsaContact) kept = esa_contact_load (c->config, NULL);
    add_str (contact, "name", esa_json_peek_string (c->body, "contact_name") ?: (kept ? kept->name : NULL));
    add_str (contact, "email", esa_json_peek_string (c->body, "contact_email") ?: (kept ? kept->email : NULL));
    add_str (contact, "phone", esa_json_peek_string (c->body, "contact_phone") ?: (kept ? kept->phone : NULL));
  }
  json_object_set_object_member (req, "contact", g_steal_pointer (&contact));

  esa_identity_register (c->config, c->state_dir, server, req, c->body, cancellable, &d, &pending);
  if (d.outcome == ESA_OUTCOME_OK && pending != NULL)
    {
      g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_REFUSED,
                               "activation pending: %s; esad asks again by itself (esactl status shows it) and "
                               "delivers the queue once approved", pending);
      esa_delivery_clear (&d);
      return;
    }
  if (d.outcome != ESA_OUTCOME_OK)
    {
      g_task_return_new_error (task, ESA_ERROR,
                               d.outcome == ESA_OUTCOME_REJECTED ? ESA_ERROR_REJECTED : ESA_ERROR_NETWORK,
                               "activation failed: %s", d.message);
      esa_delivery_clear (&d);
      return;
    }
  {
    JsonNode *n = esa_identity_accept (c->state_dir, c->body, &d, &error);
    if (n == NULL)
      g_task_return_error (task, g_steal_pointer (&error));
    else
      g_task_return_pointer (task, n, (GDestroyNotify) json_node_unref);
  }
  esa_delivery_clear (&d);
}

gboolean
esa_activate_server_allowed (EsaConfig *config, uid_t peer, uid_t self, const char *server, GError **error)
{
  const char *const *servers = esa_config_get_servers (config);
  g_autofree char *want = NULL;
  if (peer == 0 || peer == self || server == NULL)
    return TRUE;
  /* "https://sdc.example/" and "https://sdc.example" name the same server */
  want = g_strdup (server);
  while (g_str_has_suffix (want, "/"))
    want[strlen (want) - 1] = '\0';
  for (guint i = 0; servers != NULL && servers[i] != NULL; i++)
    {
      g_autofree char *have = g_strdup (servers[i]);
      while (g_str_has_suffix (have, "/"))
        have[strlen (have) - 1] = '\0';
      if (g_str_equal (have, want))
        return TRUE;
    }
  g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
               "activation with \"%s\" refused: members of the control group may activate only against a server "
               "[sdc] servers= lists; any other server needs root", server);
  return FALSE;
}

static void
post_activate (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  uid_t uid = (uid_t) -1;
  gid_t gid = (gid_t) -1;
  Call *c;
  /* where reports go is root's choice: a group member must not pick the SDC */
  if (!esa_peer_credentials (soup_server_message_get_socket (msg), &uid, &gid, &error) ||
      !esa_activate_server_allowed (esa_engine_get_config (esa_control_get_engine (ctl)), uid, geteuid (),
                                    esa_json_peek_string (body, "server"), &error))
    {
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  c = call_new (ctl, msg, body, user_data);
  c->platform_copy = esa_engine_get_platform (esa_control_get_engine (ctl)); /* read-only, lives as long as esad */
  c->kick_after = TRUE;
  c->poll = registration_poll;
  run_call (c, activate_thread);
}

/* ---- test ---- */

static JsonObject *
exchange_to_json (const EsaRoute *route, const char *kind, const EsaExchange *ex)
{
  JsonObject *o = json_object_new ();
  g_autofree char *desc = esa_route_describe (route);
  json_object_set_string_member (o, "route", desc);
  json_object_set_string_member (o, "kind", kind);
  json_object_set_string_member (o, "server", route->server);
  if (route->proxy_url)
    json_object_set_string_member (o, "proxy", route->proxy_url);
  else
    json_object_set_null_member (o, "proxy");
  json_object_set_boolean_member (o, "ok", ex->outcome == ESA_OUTCOME_OK);
  json_object_set_int_member (o, "dns_ms", ex->resolved_ms);
  json_object_set_int_member (o, "tcp_ms", ex->connected_ms);
  if (route->proxy_url)
    json_object_set_int_member (o, "proxy_status", ex->proxy_status);
  if (ex->tls_version)
    json_object_set_string_member (o, "tls_version", ex->tls_version);
  if (ex->tls_cipher)
    json_object_set_string_member (o, "tls_cipher", ex->tls_cipher);
  if (ex->tls_peer)
    json_object_set_string_member (o, "tls_peer", ex->tls_peer);
  json_object_set_int_member (o, "http_status", ex->status);
  json_object_set_int_member (o, "elapsed_ms", ex->elapsed_ms);
  json_object_set_string_member (o, "result", ex->message ? ex->message : "");
  return o;
}

static void
test_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Call *c = task_data;
  g_autoptr (EsaCredentials) creds = esa_credentials_load (c->state_dir, NULL);
  g_autoptr (EsaDeliverer) deliverer = esa_deliverer_new (c->config, creds, NULL);
  GPtrArray *routes = esa_deliverer_get_routes (deliverer);
  JsonArray *results = json_array_new ();
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  gboolean any_ok = FALSE;

  for (guint i = 0; i < routes->len; i++)
    {
      const EsaRoute *route = g_ptr_array_index (routes, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (EsaHttps) https = esa_https_new (c->config, route, &error);
      EsaExchange ex = { 0 };
      if (https == NULL)
        {
          ex.outcome = ESA_OUTCOME_NEXT_SERVER;
          ex.message = g_strdup (error->message);
        }
      else
        esa_https_json (https, "GET", ESA_PROTOCOL_PATH_CONFIG, NULL, NULL, NULL, NULL, cancellable, &ex);
      any_ok |= ex.outcome == ESA_OUTCOME_OK;
      json_array_add_object_element (results, exchange_to_json (route, "https", &ex));
      esa_exchange_clear (&ex);
    }
  /* The plain-HTTP configuration path is tried only when HTTPS failed everywhere. */
  if (!any_ok && esa_config_get_config_url (c->config) != NULL)
    {
      EsaRoute direct = { 0 };
      EsaExchange ex = { 0 };
      direct.server = (char *) esa_config_get_config_url (c->config);
      if (esa_config_get_n_proxies (c->config) > 0)
        esa_config_get_proxy (c->config, 0, (const char **) &direct.proxy_url, NULL, NULL), direct.proxy_index = 1;
      esa_http_get_config (c->config, &direct, esa_config_get_config_url (c->config), cancellable, &ex);
      json_array_add_object_element (results, exchange_to_json (&direct, "config-fallback", &ex));
      esa_exchange_clear (&ex);
    }
  json_object_set_boolean_member (o, "ok", any_ok);
  json_object_set_array_member (o, "routes", results);
  json_node_take_object (n, o);
  g_task_return_pointer (task, n, (GDestroyNotify) json_node_unref);
}

static void
post_test (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  run_call (call_new (ctl, msg, body, user_data), test_thread);
}

/* ---- send: run a job (optional), then a queue pass, answer with both ---- */

static void
send_drained (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Call *c = user_data;
  g_autoptr (GError) error = NULL;
  JsonNode *node = esa_sender_drain_finish (c->sender, res, &error);
  if (node == NULL)
    esa_control_reply_error (c->ctl, c->msg, error);
  else
    {
      if (c->job != NULL)
        {
          json_object_set_string_member (json_node_get_object (node), "job", c->job);
          json_object_set_string_member (json_node_get_object (node), "summary", c->summary ? c->summary : "");
        }
      esa_control_reply (c->ctl, c->msg, node);
    }
  call_free (c);
}

static void
send_job_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Call *c = user_data;
  EsaEngine *engine = esa_control_get_engine (c->ctl);
  g_autoptr (GError) error = NULL;
  c->summary = esa_dispatcher_run_finish (esa_engine_get_dispatcher (engine), res, &error);
  if (c->summary == NULL)
    {
      esa_control_reply_error (c->ctl, c->msg, error);
      call_free (c);
      return;
    }
  esa_sender_drain_async (c->sender, send_drained, c);
}

static void
post_send (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  Call *c = call_new (ctl, msg, body, user_data);
  g_autoptr (GError) error = NULL;
  JsonObject *data = NULL;
  c->job = g_strdup (esa_json_peek_string (body, "job"));
  if (c->job == NULL)
    {
      esa_sender_drain_async (c->sender, send_drained, c);
      return;
    }
  data = esa_json_peek_object (body, "data");
  if (!esa_dispatcher_run_now (esa_engine_get_dispatcher (engine), c->job,
                               esa_json_peek_string (body, "event") ?: "requested", data,
                               send_job_done, c, &error))
    {
      esa_control_reply_error (ctl, msg, error);
      call_free (c);
    }
}

/* ---- queue export / retry ---- */

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Call *c = task_data;
  EsaQueue *queue = g_object_get_data (G_OBJECT (task), "queue");
  const char *dir = esa_json_peek_string (c->body, "dir");
  gboolean keep = FALSE;
  GError *keep_error = NULL;
  g_autoptr (EsaQueueEntry) cursor = NULL;
  JsonArray *done = json_array_new ();
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  /* A request body is outside input: "keep": [] is the client's mistake (400),
   * not a json-glib critical in esad. */
  if (!esa_json_get_boolean (c->body, NULL, "keep", ESA_JSON_OPTIONAL, &keep, &keep_error))
    {
      json_array_unref (done);
      json_object_unref (o);
      json_node_free (n);
      g_task_return_error (task, keep_error);
      return;
    }
  if (dir == NULL || !g_path_is_absolute (dir))
    {
      json_array_unref (done);
      json_object_unref (o);
      json_node_free (n);
      g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                               "dir \"%s\": expected an absolute folder", dir ? dir : "");
      return;
    }
  /* In pieces, oldest first: 100,000 queued reports are never all in memory. */
  for (;;)
    {
      g_autoptr (GPtrArray) entries = esa_queue_list_brief (queue, cursor, 256);
      if (entries->len == 0)
        break;
      for (guint i = 0; i < entries->len; i++)
        {
          EsaQueueEntry *e = g_ptr_array_index (entries, i);
          g_autoptr (GError) error = NULL;
          g_autoptr (EsaReport) report = esa_queue_load (queue, e->uuid, NULL, &error);
          if (report == NULL || !esa_outbox_write (dir, report, &error))
            {
              json_array_unref (done);
              json_object_unref (o);
              json_node_free (n);
              g_task_return_new_error (task, ESA_ERROR, ESA_ERROR_FAILED, "export stopped at %s: %s", e->uuid,
                                       error->message);
              return;
            }
          /* Exported reports left the machine the offline way: they are delivered. */
          if (!keep)
            esa_queue_remove (queue, e->uuid, NULL);
          json_array_add_string_element (done, e->uuid);
        }
      g_clear_pointer (&cursor, esa_queue_entry_free);
      cursor = g_ptr_array_steal_index (entries, entries->len - 1);
    }
  json_object_set_string_member (o, "dir", dir);
  json_object_set_array_member (o, "exported", done);
  json_object_set_boolean_member (o, "kept_in_queue", keep);
  json_node_take_object (n, o);
  g_task_return_pointer (task, n, (GDestroyNotify) json_node_unref);
}

gboolean
esa_export_dir_allowed (EsaConfig *config, uid_t peer, uid_t self, const char *dir, GError **error)
{
  const char *outbox = esa_config_get_outbox (config);
  g_autofree char *want = NULL;
  g_autofree char *have = NULL;
  if (peer == 0 || peer == self)
    return TRUE;
  want = outbox ? g_canonicalize_filename (outbox, "/") : NULL;
  have = dir ? g_canonicalize_filename (dir, "/") : NULL;
  if (want != NULL && have != NULL && g_str_equal (want, have))
    return TRUE;
  g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
               "export to \"%s\" refused: members of the control group may export only to [transport] outbox=%s; "
               "any other folder needs root", dir ? dir : "", outbox ? outbox : " (not set)");
  return FALSE;
}

static void
post_export (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  uid_t uid = (uid_t) -1;
  gid_t gid = (gid_t) -1;
  Call *c;
  /* esad writes the folder as root: a group member must not choose where. */
  if (!esa_peer_credentials (soup_server_message_get_socket (msg), &uid, &gid, &error) ||
      !esa_export_dir_allowed (esa_engine_get_config (esa_control_get_engine (ctl)), uid, geteuid (),
                               esa_json_peek_string (body, "dir"), &error))
    {
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  c = call_new (ctl, msg, body, user_data);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, call_done, c);
  g_object_set_data (G_OBJECT (task), "queue", esa_engine_get_queue (esa_control_get_engine (ctl)));
  g_task_set_task_data (task, c, (GDestroyNotify) call_free);
  g_task_run_in_thread (task, export_thread);
}

static void
post_retry (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  EsaEngine *engine = esa_control_get_engine (ctl);
  const char *uuid = esa_json_peek_string (body, "uuid");
  g_autoptr (GError) error = NULL;
  JsonObject *o;
  JsonNode *n;
  if (uuid == NULL || !esa_queue_retry_failed (esa_engine_get_queue (engine), uuid, &error))
    {
      if (error == NULL)
        g_set_error (&error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "uuid: missing");
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  esa_sender_kick (user_data);
  o = json_object_new ();
  json_object_set_string_member (o, "requeued", uuid);
  n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  esa_control_reply (ctl, msg, n);
}

static void
status_extra (EsaEngine *engine, JsonBuilder *b, gpointer user_data)
{
  g_autoptr (EsaCredentials) creds = esa_credentials_load (esa_config_get_state_dir (esa_engine_get_config (engine)), NULL);
  json_builder_set_member_name (b, "activated");
  json_builder_add_boolean_value (b, creds != NULL);
  json_builder_set_member_name (b, "system_id");
  if (creds != NULL)
    json_builder_add_string_value (b, creds->system_id);
  else
    json_builder_add_null_value (b);
  esa_identity_status_extra (esa_config_get_state_dir (esa_engine_get_config (engine)), b);
  json_builder_set_member_name (b, "transport");
  json_builder_add_string_value (b, esa_config_get_transport (esa_engine_get_config (engine)));
  /* Why nothing can go out, when the reason is local (issue 10 item 8). */
  if (creds != NULL && g_str_equal (esa_config_get_transport (esa_engine_get_config (engine)), "https"))
    {
      g_autoptr (GError) error = NULL;
      if (!esa_deliverer_check_config (esa_engine_get_config (engine), creds, &error))
        {
          json_builder_set_member_name (b, "delivery_blocked");
          json_builder_add_string_value (b, error->message);
        }
    }
}

/* GET /v1/progress: the transmission in progress, polled by esactl while it
 * waits for a send (its progress bar): {"active": false} or {"active": true,
 * "uuid", "kind", "sent", "total"} (bytes). */
static void
get_progress (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  esa_control_reply (ctl, msg, esa_upload_progress_to_json ());
}

void
esa_sender_add_routes (EsaControl *ctl, EsaSender *sender, EsaRegistrationPoll *poll)
{
  registration_poll = poll;
  EsaEngine *engine = esa_control_get_engine (ctl);
  esa_engine_set_status_extra (engine, status_extra, NULL);
  esa_control_add_route (ctl, "POST", "/v1/activate", post_activate, sender);
  esa_identity_add_routes (ctl);
  esa_control_add_route (ctl, "POST", "/v1/test", post_test, sender);
  esa_control_add_route (ctl, "POST", "/v1/send", post_send, sender);
  esa_control_add_route (ctl, "GET", "/v1/progress", get_progress, NULL);
  esa_control_add_route (ctl, "POST", "/v1/queue/export", post_export, sender);
  esa_control_add_route (ctl, "POST", "/v1/queue/retry", post_retry, sender);
}
