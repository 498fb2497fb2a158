/* sdc-batch.c: POST /esa/v1/reports, up to ESA_PROTOCOL_BATCH_MAX reports in one request.
 *
 * A batch saves the per-request costs (TLS records, libsoup's request machinery, a
 * main-loop wakeup) and nothing else: each report is checked by the single endpoint's
 * own code (sdc_api_report_check), stored as its own writer job in the group commit, and
 * answered with what its endpoint would have answered. One bad report costs only its own
 * result. A uuid that comes twice in one batch is stored after the first one's result is
 * in, as two requests one after the other would be: the second gets the first's stored
 * answer, whatever writer thread or group each lands in. */
#include "config.h"

#include "sdc-batch.h"
#include "sdc-error.h"
#include "sdc-json.h"
#include "sdc-server-private.h"
#include "esa/esa-json.h"
#include "esa/esa-protocol.h"

#include <string.h>

typedef struct {
  SdcBatch *batch;
  char *uuid;          /* canonical, once known: the log line's */
  char *uuid_json;     /* the result's "uuid" member as JSON: the string given, or null */
  SdcReportJob *job;   /* valid and not yet handed to the writer */
  gint next_same;      /* the next report with this uuid, stored after this one; -1 none */
  gboolean waiting;    /* a report with this uuid comes earlier in the batch */
  guint status;
  char *answer;        /* JSON object text */
  const char *error_code;
  gboolean duplicate;
} SdcBatchItem;

struct _SdcBatch {
  char *system_id;     /* the jobs' rows point to it */
  SdcBatchItem *items;
  guint n_items;
  guint pending;
  SdcServer *server;
  SdcBatchDone done;
  gpointer user_data;
};

static void
item_set_error (SdcBatchItem *item, const GError *error)
{
  SdcError code = sdc_error_code_of (error);
  if (code == SDC_ERROR_INTERNAL)
    g_printerr ("esa-sdc: internal error: %s\n", error->message);
  item->status = sdc_error_http_status (code);
  item->error_code = sdc_error_code_name (code);
  g_free (item->answer);
  item->answer = sdc_json_error_body (error);
}

/* The result's "uuid": the canonical form, else the string the report gave, else null. */
static char *
uuid_json (JsonNode *element, const char *canonical)
{
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT (element) ? json_node_get_object (element) : NULL;
  const char *given = esa_json_peek_string (obj, "uuid");
  g_autoptr (JsonNode) node = NULL;
  if (canonical != NULL)
    return g_strdup_printf ("\"%s\"", canonical);
  if (given == NULL)
    return g_strdup ("null");
  node = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (node, given);
  return esa_json_to_string (node, FALSE);
}

static void
item_check (SdcBatch *batch, SdcBatchItem *item, JsonNode *element)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) obj = sdc_json_check_request (element, &error);
  if (obj != NULL)
    item->job = sdc_api_report_check (batch->system_id, NULL, NULL, obj, &item->uuid, &error);
  item->uuid_json = uuid_json (element, item->uuid);
  if (item->job == NULL)
    item_set_error (item, error);
}

SdcBatch *
sdc_batch_new (const char *system_id, const char *data, gsize len, gsize max_body, GError **error)
{
  g_autoptr (JsonObject) obj = NULL;
  g_autoptr (GHashTable) last_of_uuid = NULL;
  JsonArray *reports;
  SdcBatch *batch;
  guint n;

  /* the reports sit two levels deeper than a single report's body does */
  obj = sdc_json_parse_request_depth (data, len, max_body, ESA_JSON_MAX_DEPTH_DEFAULT + 2, error);
  if (obj == NULL)
    return NULL;
  reports = esa_json_get_array (obj, NULL, "reports", ESA_JSON_REQUIRED, error);
  if (reports == NULL)
    return NULL;
  n = json_array_get_length (reports);
  if (n == 0 || n > ESA_PROTOCOL_BATCH_MAX)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "reports: expected 1 to %d reports, got %u",
                   ESA_PROTOCOL_BATCH_MAX, n);
      return NULL;
    }

  batch = g_new0 (SdcBatch, 1);
  batch->system_id = g_strdup (system_id);
  batch->items = g_new0 (SdcBatchItem, n);
  batch->n_items = n;
  last_of_uuid = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++)
    {
      SdcBatchItem *item = &batch->items[i];
      gpointer prev;
      item->batch = batch;
      item->next_same = -1;
      item_check (batch, item, json_array_get_element (reports, i));
      if (item->job == NULL)
        continue;
      if (g_hash_table_lookup_extended (last_of_uuid, item->uuid, NULL, &prev))
        {
          batch->items[GPOINTER_TO_UINT (prev)].next_same = (gint) i;
          item->waiting = TRUE;
        }
      g_hash_table_insert (last_of_uuid, item->uuid, GUINT_TO_POINTER (i));
    }
  return batch;
}

static void submit (SdcBatchItem *item);

static void
item_stored_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SdcBatchItem *item = user_data;
  SdcBatch *batch = item->batch;
  SdcReportJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  if (sdc_writer_finish (result, &error))
    {
      item->status = job->status;
      item->answer = g_steal_pointer (&job->answer);
      item->duplicate = job->duplicate;
    }
  else
    item_set_error (item, error);
  if (item->next_same >= 0)
    submit (&batch->items[item->next_same]);
  if (--batch->pending == 0)
    batch->done (batch, batch->user_data);
}

static void
submit (SdcBatchItem *item)
{
  sdc_server_write_report (item->batch->server, g_steal_pointer (&item->job), item_stored_cb, item);
}

void
sdc_batch_run (SdcBatch *batch, SdcServer *server, SdcBatchDone done, gpointer user_data)
{
  batch->server = server;
  batch->done = done;
  batch->user_data = user_data;
  for (guint i = 0; i < batch->n_items; i++)
    batch->pending += batch->items[i].job != NULL ? 1 : 0;
  if (batch->pending == 0)
    {
      done (batch, user_data);
      return;
    }
  /* all counted before the first is handed over (callbacks come from the main loop,
   * never from within sdc_writer_write, but the count must not depend on that) */
  for (guint i = 0; i < batch->n_items; i++)
    if (batch->items[i].job != NULL && !batch->items[i].waiting)
      submit (&batch->items[i]);
}

char *
sdc_batch_answer (SdcBatch *batch)
{
  GString *out = g_string_new ("{\"results\":[");
  for (guint i = 0; i < batch->n_items; i++)
    {
      SdcBatchItem *item = &batch->items[i];
      /* every answer is a JSON object esa-sdc wrote (stored or an error body): as is */
      g_string_append_printf (out, "%s{\"uuid\":%s,\"status\":%u,\"answer\":%s}", i > 0 ? "," : "",
                              item->uuid_json, item->status, item->answer);
    }
  g_string_append (out, "]}");
  return g_string_free (out, FALSE);
}

guint
sdc_batch_get_length (SdcBatch *batch)
{
  return batch->n_items;
}

void
sdc_batch_get_result (SdcBatch *batch, guint i, const char **uuid, guint *status, const char **error_code,
                      gboolean *duplicate)
{
  SdcBatchItem *item = &batch->items[i];
  *uuid = item->uuid;
  *status = item->status;
  *error_code = item->error_code;
  *duplicate = item->duplicate;
}

void
sdc_batch_free (SdcBatch *batch)
{
  if (batch == NULL)
    return;
  for (guint i = 0; i < batch->n_items; i++)
    {
      g_free (batch->items[i].uuid);
      g_free (batch->items[i].uuid_json);
      g_free (batch->items[i].answer);
      sdc_report_job_free (batch->items[i].job);
    }
  g_free (batch->items);
  g_free (batch->system_id);
  g_free (batch);
}
