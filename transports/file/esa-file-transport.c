/* esa-file-transport.c: the "file" EsaTransport: each report is written to
 * [transport] outbox=; a write that fails keeps the report for a retry. */
#include "config.h"

#include "esa-file-transport.h"
#include "esa-outbox.h"

struct _EsaFileTransport {
  GObject parent_instance;
  EsaConfig *config;
};

static void esa_file_transport_iface_init (EsaTransportInterface *iface);

G_DEFINE_TYPE_WITH_CODE (EsaFileTransport, esa_file_transport, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (ESA_TYPE_TRANSPORT, esa_file_transport_iface_init))

static gboolean
esa_file_transport_open (EsaTransport *transport, EsaConfig *config, GError **error)
{
  ESA_FILE_TRANSPORT (transport)->config = esa_config_ref (config);
  return TRUE;
}

static void
esa_file_transport_send (EsaTransport *transport, EsaReport *report, GCancellable *cancellable,
                         EsaTransportResult *result)
{
  EsaFileTransport *self = ESA_FILE_TRANSPORT (transport);
  const char *outbox = esa_config_get_outbox (self->config);
  g_autoptr (GError) error = NULL;
  if (!esa_outbox_write (outbox, report, &error))
    {
      result->outcome = ESA_TRANSPORT_RETRY;
      result->message = g_strdup (error->message);
      return;
    }
  result->outcome = ESA_TRANSPORT_SENT;
  result->message = g_strdup_printf ("written to %s", outbox);
}

static void
esa_file_transport_finalize (GObject *object)
{
  g_clear_pointer (&ESA_FILE_TRANSPORT (object)->config, esa_config_unref);
  G_OBJECT_CLASS (esa_file_transport_parent_class)->finalize (object);
}

static void
esa_file_transport_iface_init (EsaTransportInterface *iface)
{
  iface->open = esa_file_transport_open;
  iface->send = esa_file_transport_send;
}

static void
esa_file_transport_class_init (EsaFileTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = esa_file_transport_finalize;
}

static void
esa_file_transport_init (EsaFileTransport *self)
{
}
