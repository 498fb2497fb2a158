/* esa-identity-routes.c: the control calls about who this system is to the SDC.
 *
 * Activation itself lives with the other SDC calls (esa-sender-routes.c); this file
 * gives it the partition and the proof of the current credentials, and serves
 * `esactl contact` and `esactl deactivate`. Network work runs in worker threads. */
#include "config.h"

#include "esa-identity-routes-private.h"
#include "esa-contact.h"
#include "esa-credentials.h"
#include "esa-fileutil.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"
#include "esa/esa-protocol.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

/* ---- registration ---- */

void
esa_identity_add_partition (JsonObject *req, const EsaPlatform *pf)
{
  if (pf->lpar_id >= 0)
    json_object_set_int_member (req, "lpar_id", pf->lpar_id);
  if (pf->lpar_name != NULL)
    json_object_set_string_member (req, "lpar_name", pf->lpar_name);
  if (pf->os_uuid != NULL)
    json_object_set_string_member (req, "os_uuid", pf->os_uuid);
}

static char *
pending_path (const char *state_dir)
{
  return g_build_filename (state_dir, "registration-pending", NULL);
}

JsonObject *
esa_identity_pending_load (const char *state_dir)
{
  g_autofree char *path = pending_path (state_dir);
  g_autofree char *text = NULL;
  g_autoptr (JsonNode) root = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  root = esa_json_parse (text, (gssize) len, 256 * 1024, 8, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) || esa_json_peek_string (json_node_get_object (root), "uuid") == NULL)
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

/* The uuid of the registration the SDC holds for its admin, if it went to @server. */
static char *
pending_uuid (const char *state_dir, const char *server)
{
  g_autoptr (JsonObject) o = esa_identity_pending_load (state_dir);
  if (o == NULL || g_strcmp0 (esa_json_peek_string (o, "server"), server) != 0)
    return NULL;
  return g_strdup (esa_json_peek_string (o, "uuid"));
}

static void
pending_write (const char *state_dir, JsonObject *o)
{
  g_autoptr (JsonNode) n = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *path = pending_path (state_dir);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  json_node_set_object (n, o);
  text = esa_json_to_string (n, TRUE);
  if (!esa_file_write_atomic (path, NULL, text, strlen (text), 0600, &error))
    g_warning ("%s", error->message);
}

/* Everything esad needs to ask again by itself (esa-registration-poll.c): the
 * request and what `esactl activate` was given, and since when it waits. */
static void
pending_save (const char *state_dir, const char *server, const char *uuid, JsonObject *answer, JsonObject *req,
              JsonObject *activation)
{
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonObject) before = esa_identity_pending_load (state_dir);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *now_s = esa_json_time (now);
  const char *since = before != NULL && g_strcmp0 (esa_json_peek_string (before, "uuid"), uuid) == 0
                          ? esa_json_peek_string (before, "since") : NULL;
  json_object_set_string_member (o, "server", server != NULL ? server : "");
  json_object_set_string_member (o, "uuid", uuid);
  json_object_set_string_member (o, "registration", esa_json_peek_string (answer, "registration") ?: "");
  json_object_set_string_member (o, "message", esa_json_peek_string (answer, "message") ?: "waiting for the SDC's admin");
  json_object_set_string_member (o, "since", since != NULL ? since : now_s);
  json_object_set_string_member (o, "last_attempt", now_s);
  json_object_set_object_member (o, "request", json_object_ref (req));
  if (activation != NULL)
    json_object_set_object_member (o, "activation", json_object_ref (activation));
  pending_write (state_dir, o);
}

JsonNode *
esa_identity_pending_to_json (const char *state_dir)
{
  static const char *const members[] = { "since", "registration", "server", "message", "last_attempt", "stopped" };
  g_autoptr (JsonObject) pending = esa_identity_pending_load (state_dir);
  JsonObject *o;
  if (pending == NULL)
    return json_node_new (JSON_NODE_NULL);
  o = json_object_new ();
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      const char *v = esa_json_peek_string (pending, members[i]);
      if (v != NULL && *v != '\0')
        json_object_set_string_member (o, members[i], v);
      else
        json_object_set_null_member (o, members[i]);
    }
  {
    JsonNode *n = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (n, o);
    return n;
  }
}

void
esa_identity_pending_stop (const char *state_dir, const char *why)
{
  g_autoptr (JsonObject) o = esa_identity_pending_load (state_dir);
  if (o == NULL)
    return;
  json_object_set_string_member (o, "stopped", why);
  pending_write (state_dir, o);
}

void
esa_identity_register (EsaConfig *config, const char *state_dir, const char *server, JsonObject *req,
                       JsonObject *activation, GCancellable *cancellable, EsaDelivery *d, char **pending)
{
  const char *servers[] = { server, NULL };
  g_autoptr (EsaCredentials) creds = esa_credentials_load (state_dir, NULL);
  g_autofree char *uuid = pending_uuid (state_dir, server != NULL ? server : "");
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *answer;

  if (uuid == NULL)
    uuid = g_uuid_string_random ();
  json_object_set_string_member (req, "uuid", uuid);
  json_node_set_object (node, req);
  {
    g_autoptr (EsaDeliverer) deliverer = esa_deliverer_new (config, creds, server != NULL ? servers : NULL);
    esa_deliverer_call (deliverer, "POST", ESA_PROTOCOL_PATH_REGISTER, node, creds != NULL, uuid, cancellable, d);
  }
  /* credentials the SDC no longer takes (deactivated there, or replaced) prove
   * nothing: ask like a new agent, which the SDC may hold for its admin */
  if (creds != NULL && d->outcome == ESA_OUTCOME_AUTH)
    {
      g_autoptr (EsaDeliverer) deliverer = esa_deliverer_new (config, NULL, server != NULL ? servers : NULL);
      g_message ("registration: the SDC refuses the current credentials (%s); asking without them", d->message);
      esa_delivery_clear (d);
      esa_deliverer_call (deliverer, "POST", ESA_PROTOCOL_PATH_REGISTER, node, FALSE, uuid, cancellable, d);
    }
  if (d->outcome != ESA_OUTCOME_OK)
    return;
  answer = d->answer != NULL && JSON_NODE_HOLDS_OBJECT (d->answer) ? json_node_get_object (d->answer) : NULL;
  if (g_strcmp0 (esa_json_peek_string (answer, "status"), "pending") == 0)
    {
      pending_save (state_dir, server != NULL ? server : "", uuid, answer, req, activation);
      *pending = g_strdup (esa_json_peek_string (answer, "message") ?: "waiting for the SDC's admin");
      return;
    }
  {
    g_autofree char *path = pending_path (state_dir);
    g_unlink (path);
  }
}

JsonNode *
esa_identity_accept (const char *state_dir, JsonObject *activation, EsaDelivery *d, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  JsonObject *answer = d->answer && JSON_NODE_HOLDS_OBJECT (d->answer) ? json_node_get_object (d->answer) : NULL;
  EsaCredentials creds = { 0 };
  g_autofree char *activated = g_date_time_format_iso8601 (now);
  JsonObject *o;
  JsonNode *n;
  /* The SDC's answer is outside input: a member of another type is missing
   * (json-glib's _with_default getters raise a critical on objects/arrays). */
  creds.system_id = (char *) esa_json_peek_string (answer, "system_id");
  creds.password = (char *) esa_json_peek_string (answer, "password");
  /* The server that answered: with failover it may not be the first one. */
  creds.server = d->server;
  creds.activated = activated;
  if (creds.system_id == NULL || creds.password == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "activation failed: the SDC's answer has no system_id/password");
      return NULL;
    }
  if (!esa_credentials_save (state_dir, &creds, error) || !esa_identity_activated (state_dir, activation, error))
    return NULL;
  o = json_object_new ();
  n = json_node_new (JSON_NODE_OBJECT);
  json_object_set_string_member (o, "system_id", creds.system_id);
  json_object_set_string_member (o, "server", creds.server);
  json_object_set_string_member (o, "route", d->message);
  json_node_take_object (n, o);
  g_message ("activated as %s with %s", creds.system_id, creds.server);
  return n;
}

gboolean
esa_identity_activated (const char *state_dir, JsonObject *body, GError **error)
{
  const char *name = esa_json_peek_string (body, "contact_name");
  const char *email = esa_json_peek_string (body, "contact_email");
  const char *phone = esa_json_peek_string (body, "contact_phone");
  esa_credentials_clear_refused (state_dir);
  /* the contact given at activation is the admin's latest word: keep it for every
   * report from now on, not only for the registration */
  if (name != NULL || email != NULL || phone != NULL)
    {
      EsaContact contact = { (char *) name, (char *) email, (char *) phone, TRUE };
      return esa_contact_save (state_dir, &contact, error);
    }
  return TRUE;
}

void
esa_identity_status_extra (const char *state_dir, JsonBuilder *b)
{
  g_autoptr (EsaCredentials) creds = esa_credentials_load (state_dir, NULL);
  g_autoptr (JsonObject) refused = esa_credentials_get_refused (state_dir, creds);
  json_builder_set_member_name (b, "registration_pending");
  json_builder_add_value (b, esa_identity_pending_to_json (state_dir));
  json_builder_set_member_name (b, "credentials_refused");
  if (refused == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "since");
  json_builder_add_string_value (b, json_object_get_string_member (refused, "since"));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, json_object_get_string_member (refused, "message"));
  json_builder_end_object (b);
}

/* ---- calls that reach the SDC in a worker thread ---- */

typedef struct {
  EsaControl *ctl;
  SoupServerMessage *msg;
  EsaConfig *config;
  JsonObject *body;
} IdCall;

static void
id_call_free (IdCall *c)
{
  g_clear_object (&c->msg);
  esa_config_unref (c->config);
  json_object_unref (c->body);
  g_free (c);
}

static void
id_call_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  IdCall *c = g_task_get_task_data (G_TASK (res));
  g_autoptr (GError) error = NULL;
  JsonNode *node = g_task_propagate_pointer (G_TASK (res), &error);
  if (node == NULL)
    esa_control_reply_error (c->ctl, c->msg, error);
  else
    esa_control_reply (c->ctl, c->msg, node);
}

static void
id_run (EsaControl *ctl, SoupServerMessage *msg, JsonObject *body, GTaskThreadFunc func)
{
  IdCall *c = g_new0 (IdCall, 1);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, id_call_done, NULL);
  c->ctl = ctl;
  c->msg = g_object_ref (msg);
  c->config = esa_engine_ref_config (esa_control_get_engine (ctl));
  c->body = body != NULL ? json_object_ref (body) : json_object_new ();
  esa_control_hold (ctl, msg);
  g_task_set_task_data (task, c, (GDestroyNotify) id_call_free);
  g_task_run_in_thread (task, func);
}

/* One authenticated JSON call to the SDC with the current credentials. */
static void
sdc_call (EsaConfig *config, const EsaCredentials *creds, const char *path, JsonObject *req,
          GCancellable *cancellable, EsaDelivery *d)
{
  g_autoptr (EsaDeliverer) deliverer = esa_deliverer_new (config, creds, NULL);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *uuid = g_uuid_string_random ();
  json_object_set_int_member (req, "version", ESA_PROTOCOL_VERSION);
  json_object_set_string_member (req, "uuid", uuid);
  json_node_set_object (node, req);
  esa_deliverer_call (deliverer, "POST", path, node, TRUE, uuid, cancellable, d);
}

static JsonNode *
node_take (JsonObject *o)
{
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

/* ---- deactivate ---- */

static void
deactivate_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  IdCall *c = task_data;
  const char *state_dir = esa_config_get_state_dir (c->config);
  gboolean local = esa_json_peek_boolean (c->body, "local", FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaCredentials) creds = esa_credentials_load (state_dir, &error);
  g_autofree char *sdc = NULL;
  JsonObject *o;
  EsaDelivery d = { 0 };

  if (creds == NULL && !(local && g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_ACTIVATED)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (local)
    sdc = g_strdup ("not told (--local): the SDC still counts this system as active");
  else
    {
      sdc_call (c->config, creds, ESA_PROTOCOL_PATH_DEACTIVATE, json_object_new (), cancellable, &d);
      if (d.outcome == ESA_OUTCOME_OK)
        sdc = g_strdup_printf ("deactivated %s (%s)", creds->system_id, d.message);
      else if (d.outcome == ESA_OUTCOME_AUTH)
        /* deactivated there already, or the credentials were replaced: either
         * way they open nothing any more */
        sdc = g_strdup_printf ("refuses these credentials already (%s)", d.message);
      else
        {
          g_task_return_new_error (task, ESA_ERROR,
                                   d.outcome == ESA_OUTCOME_REJECTED ? ESA_ERROR_REJECTED : ESA_ERROR_NETWORK,
                                   "cannot tell the SDC: %s; the credentials are kept "
                                   "(esactl deactivate --local forgets them here only)", d.message);
          esa_delivery_clear (&d);
          return;
        }
      esa_delivery_clear (&d);
    }
  if (!esa_credentials_remove (state_dir, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  esa_credentials_clear_refused (state_dir);
  g_message ("deactivated: credentials removed; SDC: %s", sdc);
  o = json_object_new ();
  json_object_set_boolean_member (o, "activated", FALSE);
  json_object_set_boolean_member (o, "sdc_told", !local);
  json_object_set_string_member (o, "sdc", sdc);
  g_task_return_pointer (task, node_take (o), (GDestroyNotify) json_node_unref);
}

static void
post_deactivate (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  id_run (ctl, msg, body, deactivate_thread);
}

/* ---- contact ---- */

static JsonObject *
contact_reply (const EsaContact *contact)
{
  JsonObject *o = json_object_new ();
  json_object_set_object_member (o, "contact", esa_contact_to_json (contact));
  json_object_set_string_member (o, "source", contact->from_state ? "state" : "esa.conf");
  return o;
}

static void
get_contact (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  g_autoptr (EsaConfig) config = esa_engine_ref_config (esa_control_get_engine (ctl));
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaContact) contact = esa_contact_load (config, &error);
  if (contact == NULL)
    {
      esa_control_reply_error (ctl, msg, error);
      return;
    }
  esa_control_reply (ctl, msg, node_take (contact_reply (contact)));
}

/* Replaces the fields given; "" clears one. */
static gboolean
contact_update (EsaContact *contact, JsonObject *body, GError **error)
{
  struct { const char *member; char **field; } fields[] = {
    { "name", &contact->name }, { "email", &contact->email }, { "phone", &contact->phone },
  };
  gboolean any = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autoptr (GError) local = NULL;
      const char *v = esa_json_get_string (body, NULL, fields[i].member, ESA_JSON_OPTIONAL, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (v == NULL)
        continue;
      any = TRUE;
      g_free (*fields[i].field);
      *fields[i].field = v[0] != '\0' ? g_strdup (v) : NULL;
    }
  if (!any)
    g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                         "nothing to set: give --name, --email or --phone");
  return any;
}

static void
set_contact_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  IdCall *c = task_data;
  const char *state_dir = esa_config_get_state_dir (c->config);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaContact) contact = esa_contact_load (c->config, &error);
  g_autoptr (EsaCredentials) creds = NULL;
  JsonObject *o;
  EsaDelivery d = { 0 };

  if (contact == NULL || !contact_update (contact, c->body, &error) ||
      !esa_contact_save (state_dir, contact, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  contact->from_state = TRUE;
  o = contact_reply (contact);
  /* the SDC learns it now, without a new activation; not activated yet, it
   * learns it at activation */
  creds = esa_credentials_load (state_dir, NULL);
  if (creds == NULL)
    {
      json_object_set_boolean_member (o, "sent", FALSE);
      json_object_set_string_member (o, "sdc", "not activated: the contact goes with esactl activate");
    }
  else
    {
      JsonObject *req = json_object_new ();
      json_object_set_object_member (req, "contact", esa_contact_to_json (contact));
      sdc_call (c->config, creds, ESA_PROTOCOL_PATH_CONTACT, req, cancellable, &d);
      json_object_set_boolean_member (o, "sent", d.outcome == ESA_OUTCOME_OK);
      json_object_set_string_member (o, "sdc", d.message != NULL ? d.message : "");
      if (d.outcome != ESA_OUTCOME_OK)
        g_warning ("contact saved here, but not sent to the SDC: %s", d.message);
      esa_delivery_clear (&d);
    }
  g_task_return_pointer (task, node_take (o), (GDestroyNotify) json_node_unref);
}

static void
post_contact (EsaControl *ctl, SoupServerMessage *msg, const char *rest, JsonObject *body, gpointer user_data)
{
  id_run (ctl, msg, body, set_contact_thread);
}

void
esa_identity_add_routes (EsaControl *ctl)
{
  esa_control_add_route (ctl, "POST", "/v1/deactivate", post_deactivate, NULL);
  esa_control_add_route (ctl, "GET", "/v1/contact", get_contact, NULL);
  esa_control_add_route (ctl, "POST", "/v1/contact", post_contact, NULL);
}
