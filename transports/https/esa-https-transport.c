/* esa-https-transport.c: the "https" EsaTransport. A pass opens it with the
 * credentials of activation (none: the reports wait), then each report goes
 * over the routes in order (esa-deliver.c), from as many of the sender's
 * threads at once as [transport] parallel= asks. */
#include "config.h"

#include "esa-https-transport.h"
#include "esa-credentials.h"
#include "esa-deliver.h"
#include "esa/esa-error.h"
#include "esa/esa-protocol.h"

struct _EsaHttpsTransport {
  GObject parent_instance;
  EsaConfig *config;
  EsaCredentials *creds;
  EsaDeliverer *deliverer;  /* one per pass: shares sessions, remembers dead proxies */
  GMutex lock;              /* refused_noted: the lanes answer at once */
  int refused_noted;        /* 1: cleared this pass, 2: marked */
};

static void esa_https_transport_iface_init (EsaTransportInterface *iface);

G_DEFINE_TYPE_WITH_CODE (EsaHttpsTransport, esa_https_transport, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (ESA_TYPE_TRANSPORT, esa_https_transport_iface_init))

static gboolean
esa_https_transport_open (EsaTransport *transport, EsaConfig *config, GError **error)
{
  EsaHttpsTransport *self = ESA_HTTPS_TRANSPORT (transport);
  self->creds = esa_credentials_load (esa_config_get_state_dir (config), error);
  /* A misroute is ours to fix, not the SDC's: every report stays queued
   * (esactl status says why) instead of being "rejected" one by one. */
  if (self->creds == NULL || !esa_deliverer_check_config (config, self->creds, error))
    return FALSE;
  self->config = esa_config_ref (config);
  self->deliverer = esa_deliverer_new (self->config, self->creds, NULL);
  return TRUE;
}

/* What the SDC thinks of our credentials, for `esactl status` (a 401 keeps the
 * reports queued, so without this the admin would see nothing but a growing queue). */
static void
esa_https_transport_note_auth (EsaHttpsTransport *self, const EsaDelivery *d)
{
  const char *state_dir = esa_config_get_state_dir (self->config);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  if (d->outcome == ESA_OUTCOME_OK && self->refused_noted != 1)
    {
      esa_credentials_clear_refused (state_dir);
      self->refused_noted = 1;
    }
  else if (d->outcome == ESA_OUTCOME_AUTH)
    {
      if (!esa_credentials_mark_refused (state_dir, self->creds, d->message, &error))
        g_warning ("%s", error->message);
      self->refused_noted = 2;
    }
}

/* What the deliverer said of @report, as the sender hears it. Takes @d's contents. */
static void
result_of (EsaHttpsTransport *self, EsaReport *report, EsaDelivery *d, EsaTransportResult *result)
{
  esa_https_transport_note_auth (self, d);
  switch (d->outcome)
    {
    case ESA_OUTCOME_OK:
      result->outcome = ESA_TRANSPORT_SENT;
      break;
    case ESA_OUTCOME_REJECTED:
      result->outcome = ESA_TRANSPORT_REJECTED;
      break;
    case ESA_OUTCOME_AUTH:
      result->outcome = ESA_TRANSPORT_AUTH;
      break;
    default:
      g_warning ("cannot send %s %s, will retry: every route failed; last: %s",
                 esa_report_get_kind (report), esa_report_get_uuid (report), d->message);
      result->outcome = ESA_TRANSPORT_RETRY;
      break;
    }
  result->message = g_steal_pointer (&d->message);
  result->answer = g_steal_pointer (&d->answer);
  result->manifest = g_steal_pointer (&d->manifest);
  esa_delivery_clear (d);
}

static void
esa_https_transport_send (EsaTransport *transport, EsaReport *report, GCancellable *cancellable,
                          EsaTransportResult *result)
{
  EsaHttpsTransport *self = ESA_HTTPS_TRANSPORT (transport);
  EsaDelivery d = { 0 };
  esa_deliverer_send (self->deliverer, report, cancellable, &d);
  result_of (self, report, &d, result);
}

/* Up to 32 reports a request (docs/protocol.md, "Batch"), unless the first
 * server is known not to take them. */
static guint
esa_https_transport_batch_max (EsaTransport *transport)
{
  EsaHttpsTransport *self = ESA_HTTPS_TRANSPORT (transport);
  return self->deliverer != NULL && esa_deliverer_batches (self->deliverer) ? ESA_DELIVER_BATCH_MAX : 1;
}

static void
esa_https_transport_send_batch (EsaTransport *transport, EsaReport *const *reports, guint n,
                                GCancellable *cancellable, EsaTransportResult *results)
{
  EsaHttpsTransport *self = ESA_HTTPS_TRANSPORT (transport);
  g_autofree EsaDelivery *d = g_new0 (EsaDelivery, n);
  g_autofree gboolean *tried = g_new0 (gboolean, n);
  esa_deliverer_send_batch (self->deliverer, reports, n, cancellable, d, tried);
  for (guint i = 0; i < n; i++)
    {
      if (tried[i])
        result_of (self, reports[i], &d[i], &results[i]);
      else
        {
          results[i].outcome = ESA_TRANSPORT_UNTRIED;
          esa_delivery_clear (&d[i]);
        }
    }
}

/* Every lane sends on its own connections: the SDC batches what arrives together. */
static guint
esa_https_transport_max_parallel (EsaTransport *transport)
{
  return G_MAXUINT;
}

static void
esa_https_transport_release_thread (EsaTransport *transport)
{
  EsaHttpsTransport *self = ESA_HTTPS_TRANSPORT (transport);
  if (self->deliverer != NULL)
    esa_deliverer_release_thread (self->deliverer);
}

static void
esa_https_transport_finalize (GObject *object)
{
  EsaHttpsTransport *self = ESA_HTTPS_TRANSPORT (object);
  /* The deliverer borrows the config: it goes first. */
  g_clear_pointer (&self->deliverer, esa_deliverer_free);
  g_clear_pointer (&self->creds, esa_credentials_free);
  g_clear_pointer (&self->config, esa_config_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (esa_https_transport_parent_class)->finalize (object);
}

static void
esa_https_transport_iface_init (EsaTransportInterface *iface)
{
  iface->open = esa_https_transport_open;
  iface->send = esa_https_transport_send;
  iface->max_parallel = esa_https_transport_max_parallel;
  iface->release_thread = esa_https_transport_release_thread;
  iface->batch_max = esa_https_transport_batch_max;
  iface->send_batch = esa_https_transport_send_batch;
}

static void
esa_https_transport_class_init (EsaHttpsTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = esa_https_transport_finalize;
}

static void
esa_https_transport_init (EsaHttpsTransport *self)
{
  g_mutex_init (&self->lock);
}

gboolean
esa_https_transport_call_sdc (EsaEngine *engine, const char *endpoint, JsonObject *request,
                              JsonObject **answer, GError **error, gpointer user_data)
{
  g_autoptr (EsaConfig) config = esa_engine_ref_config (engine); /* worker thread: SIGHUP may swap it */
  g_autoptr (EsaCredentials) creds = esa_credentials_load (esa_config_get_state_dir (config), error);
  g_autoptr (EsaDeliverer) deliverer = NULL;
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *path = g_strdup_printf (ESA_PROTOCOL_BASE_PATH "%s", endpoint);
  g_autofree char *key = g_uuid_string_random ();
  EsaDelivery d = { 0 };
  gboolean ok;
  if (creds == NULL)
    return FALSE;
  if (!json_object_has_member (request, "version"))
    json_object_set_int_member (request, "version", ESA_PROTOCOL_VERSION);
  if (!json_object_has_member (request, "uuid"))
    json_object_set_string_member (request, "uuid", key);
  json_node_set_object (body, request);
  deliverer = esa_deliverer_new (config, creds, NULL);
  esa_deliverer_call (deliverer, "POST", path, body, TRUE,
                      json_object_get_string_member (request, "uuid"), NULL, &d);
  ok = d.outcome == ESA_OUTCOME_OK;
  if (ok && answer != NULL)
    *answer = d.answer && JSON_NODE_HOLDS_OBJECT (d.answer) ? json_object_ref (json_node_get_object (d.answer))
                                                             : json_object_new ();
  if (!ok)
    g_set_error (error, ESA_ERROR,
                 d.outcome == ESA_OUTCOME_REJECTED ? ESA_ERROR_REJECTED
                 : d.outcome == ESA_OUTCOME_AUTH   ? ESA_ERROR_AUTH
                                                   : ESA_ERROR_NETWORK,
                 "%s", d.message);
  esa_delivery_clear (&d);
  return ok;
}
