/* esa-file-transport.h: the "file" transport — reports written to the
 * outbox folder for sites without connectivity (esa-outbox.c). */
#pragma once

#include "esa-transport.h"

G_BEGIN_DECLS

#define ESA_TYPE_FILE_TRANSPORT (esa_file_transport_get_type ())
G_DECLARE_FINAL_TYPE (EsaFileTransport, esa_file_transport, ESA, FILE_TRANSPORT, GObject)

G_END_DECLS
