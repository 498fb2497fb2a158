/* sdc-batch.h: POST /esa/v1/reports, several reports in one request (docs/protocol.md,
 * "Batches"): each report checked and stored as its own endpoint would, one answer for all. */
#pragma once

#include "sdc-server.h"

G_BEGIN_DECLS

typedef struct _SdcBatch SdcBatch;

/* Once every report of the batch has its result (in the main loop's context). */
typedef void (*SdcBatchDone) (SdcBatch *batch, gpointer user_data);

/* Parses the body of @system_id's batch and checks each report: NULL and the error when
 * the request as a whole is refused (then nothing of it is stored). */
SdcBatch   *sdc_batch_new        (const char *system_id, const char *data, gsize len, gsize max_body,
                                  GError **error);
/* Stores the batch's valid reports, each as its own writer job; @done runs once all have
 * their result (at once when none had to be stored). */
void        sdc_batch_run        (SdcBatch *batch, SdcServer *server, SdcBatchDone done, gpointer user_data);
/* {"results":[{"uuid":…,"status":…,"answer":{…}},…]}, in the order the reports came. */
char       *sdc_batch_answer     (SdcBatch *batch);
/* For the request log, one line per report: its canonical uuid (NULL when it had none),
 * status, error code (NULL when stored) and whether it was a duplicate. */
guint       sdc_batch_get_length (SdcBatch *batch);
void        sdc_batch_get_result (SdcBatch *batch, guint i, const char **uuid, guint *status,
                                  const char **error_code, gboolean *duplicate);
void        sdc_batch_free       (SdcBatch *batch);

G_END_DECLS
