/* fuzz-sdc-request.c: esa-sdc's decoding of a JSON request body, everything it does
 * before storage: sdc_json_parse_request (sdc/sdc-json.c), then for a report the
 * envelope's fields and attachment list (sdc_api_report_read in sdc/sdc-api.c, as the
 * writer thread reads a report), the UAK date reader, and the error body an agent gets
 * back. The first byte picks the report endpoint; the rest is the body, also read as a
 * batch (sdc_batch_new in sdc/sdc-batch.c: POST /esa/v1/reports). */
#include "config.h"

#include "fuzz.h"

#include "sdc-error.h"
#include "sdc-json.h"
#include "sdc-server-private.h"
#include "sdc-uak.h"
#include "esa/esa-protocol.h"

#define MAX_BODY (1024 * 1024)

static const SdcRoute routes[] = {
  { "/esa/v1/reports/problem", "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_PROBLEM },
  { "/esa/v1/reports/heartbeat", "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_HEARTBEAT },
  { "/esa/v1/reports/inventory", "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_INVENTORY },
  { "/esa/v1/reports/extended-data", "POST", TRUE, SDC_ROUTE_REPORT, ESA_REPORT_KIND_EXTENDED_DATA },
};

/* The answer to a refused request is one JSON object an agent can read. */
static void
check_error_body (const GError *error)
{
  g_autofree char *body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_nonnull (error);
  g_assert_true (error->message != NULL && error->message[0] != '\0');
  body = sdc_json_error_body (error);
  if (!json_parser_load_from_data (parser, body, -1, NULL))
    g_error ("the error body is not JSON: %s", body);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
}

/* Strings the SDC checks: every validator on every top-level string member. */
static void
check_strings (JsonObject *obj)
{
  g_autoptr (GList) members = json_object_get_values (obj);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *n = l->data;
      const char *s;
      g_autofree char *uuid = NULL;
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        continue;
      s = json_node_get_string (n);
      /* what the SDC stores and echoes is UTF-8 */
      g_assert_true (g_utf8_validate (s, -1, NULL));
      uuid = sdc_json_canonical_uuid (s);
      if (uuid != NULL)
        g_assert_cmpuint (strlen (uuid), ==, 36);
      (void) sdc_json_is_timestamp (s);
      (void) sdc_json_is_sha256 (s);
      (void) sdc_json_is_plain_name (s);
      (void) sdc_json_is_token (s);
      (void) sdc_uak_parse_date (s, NULL);
    }
}

/* A batch: refused whole with an error body, or one result per report, each either to be
 * stored or refused with a 4xx an agent can read. */
static void
check_batch (const char *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  SdcBatch *batch = sdc_batch_new ("SYS-FUZZ", data, size, MAX_BODY, &error);
  if (batch == NULL)
    {
      check_error_body (error);
      return;
    }
  g_assert_cmpuint (sdc_batch_get_length (batch), >=, 1);
  g_assert_cmpuint (sdc_batch_get_length (batch), <=, ESA_PROTOCOL_BATCH_MAX);
  for (guint i = 0; i < sdc_batch_get_length (batch); i++)
    {
      const char *uuid;
      const char *code;
      guint status;
      gboolean duplicate;
      sdc_batch_get_result (batch, i, &uuid, &status, &code, &duplicate);
      g_assert_true (status == 0 ? code == NULL : status >= 400 && status < 500 && code != NULL);
      if (uuid != NULL)
        g_assert_cmpuint (strlen (uuid), ==, 36);
    }
  sdc_batch_free (batch);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) obj = NULL;
  SdcRequest req = { 0 };
  SdcReportJob *job;

  fuzz_init_logging ();
  if (size == 0)
    return 0;
  req.route = &routes[data[0] % G_N_ELEMENTS (routes)];
  req.system_id = (char *) "SYS-FUZZ";
  check_batch ((const char *) data + 1, size - 1);
  obj = sdc_json_parse_request ((const char *) data + 1, size - 1, MAX_BODY, &error);
  if (obj == NULL)
    {
      check_error_body (error);
      return 0;
    }
  g_assert_no_error (error);
  check_strings (obj);
  /* what the writer thread does with the bytes of a single report */
  job = sdc_api_report_new_unread (req.system_id, req.route->report_kind,
                                   g_byte_array_append (g_byte_array_new (), data + 1, (guint) size - 1), MAX_BODY,
                                   NULL);
  if (!sdc_api_report_read (job, &error))
    {
      check_error_body (error);
      sdc_report_job_free (job);
    }
  else
    {
      g_autofree char *canonical = sdc_json_canonical_uuid (job->uuid);
      g_assert_no_error (error);
      g_assert_cmpstr (canonical, ==, job->uuid);
      g_assert_true (sdc_json_is_timestamp (job->row.created));
      g_assert_nonnull (job->body_json);
      for (guint i = 0; i < job->attachments->len; i++)
        {
          SdcAttachmentDecl *a = g_ptr_array_index (job->attachments, i);
          g_assert_true (sdc_json_is_plain_name (a->name));
          g_assert_true (sdc_json_is_sha256 (a->sha256));
          g_assert_cmpint (a->size, >=, 0);
        }
      sdc_report_job_free (job);
    }
  g_free (req.uuid);
  return 0;
}
