/* esa-transport.c: the transport interface and its registry of named
 * implementations. */
#include "config.h"

#include "esa-transport.h"
#include "esa-memory-private.h"
#include "esa/esa-error.h"

G_DEFINE_INTERFACE (EsaTransport, esa_transport, G_TYPE_OBJECT)

static GMutex registry_lock;
static GHashTable *registry; /* name -> GType */

static void
esa_transport_default_init (EsaTransportInterface *iface)
{
}

void
esa_transport_result_clear (EsaTransportResult *result)
{
  g_clear_pointer (&result->message, g_free);
  g_clear_pointer (&result->answer, json_node_unref);
  g_clear_pointer (&result->manifest, json_object_unref);
}

gboolean
esa_transport_open (EsaTransport *self, EsaConfig *config, GError **error)
{
  EsaTransportInterface *iface = ESA_TRANSPORT_GET_IFACE (self);
  if (iface->open == NULL)
    return TRUE;
  return iface->open (self, config, error);
}

void
esa_transport_send (EsaTransport *self, EsaReport *report, GCancellable *cancellable,
                    EsaTransportResult *result)
{
  ESA_TRANSPORT_GET_IFACE (self)->send (self, report, cancellable, result);
}

guint
esa_transport_max_parallel (EsaTransport *self)
{
  EsaTransportInterface *iface = ESA_TRANSPORT_GET_IFACE (self);
  return iface->max_parallel != NULL ? MAX (1u, iface->max_parallel (self)) : 1;
}

void
esa_transport_release_thread (EsaTransport *self)
{
  EsaTransportInterface *iface = ESA_TRANSPORT_GET_IFACE (self);
  if (iface->release_thread != NULL)
    iface->release_thread (self);
}

guint
esa_transport_batch_max (EsaTransport *self)
{
  EsaTransportInterface *iface = ESA_TRANSPORT_GET_IFACE (self);
  if (iface->batch_max == NULL || iface->send_batch == NULL)
    return 1;
  return MAX (1u, iface->batch_max (self));
}

void
esa_transport_send_batch (EsaTransport *self, EsaReport *const *reports, guint n, GCancellable *cancellable,
                          EsaTransportResult *results)
{
  ESA_TRANSPORT_GET_IFACE (self)->send_batch (self, reports, n, cancellable, results);
}

void
esa_transport_register (const char *name, GType type)
{
  g_return_if_fail (g_type_is_a (type, ESA_TYPE_TRANSPORT));
  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_insert (registry, g_strdup (name), GSIZE_TO_POINTER (type));
  g_mutex_unlock (&registry_lock);
}

/* A transport lives for one sender pass: once it is gone, so are its
 * sessions, TLS connections and buffers, and the heap they used goes back. */
static void
trim_after_pass (gpointer data, GObject *where_the_object_was)
{
  esa_memory_trim_soon ();
}

EsaTransport *
esa_transport_new (const char *name, GError **error)
{
  EsaTransport *transport;
  GType type = G_TYPE_INVALID;
  g_mutex_lock (&registry_lock);
  if (registry != NULL)
    type = GPOINTER_TO_SIZE (g_hash_table_lookup (registry, name));
  g_mutex_unlock (&registry_lock);
  if (type == G_TYPE_INVALID)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "[transport] type: \"%s\": no such transport in this esad", name);
      return NULL;
    }
  transport = g_object_new (type, NULL);
  g_object_weak_ref (G_OBJECT (transport), trim_after_pass, NULL);
  return transport;
}
