/* sdc-upload.h: one attachment being streamed to disk, checksummed as it arrives. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SdcUpload SdcUpload;

/* Opens a temporary file beside @final_path (creating its directory 0700). */
SdcUpload *sdc_upload_new    (const char *final_path, const char *expected_sha256,
                              gint64 expected_size, GError **error);
gboolean   sdc_upload_write  (SdcUpload *up, const guint8 *data, gsize len, GError **error);
/* Verifies size and SHA-256, fsyncs and renames into place; on a mismatch the data is
 * removed and SDC_ERROR_CHECKSUM_MISMATCH returned. */
gboolean   sdc_upload_finish (SdcUpload *up, GError **error);
gint64     sdc_upload_get_received (SdcUpload *up);
const char *sdc_upload_get_sha256  (SdcUpload *up);
/* Removes the temporary file unless the upload finished. */
void       sdc_upload_free   (SdcUpload *up);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcUpload, sdc_upload_free)

G_END_DECLS
