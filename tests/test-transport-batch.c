/* test-transport-batch.c: reports sent several to a request (POST
 * /esa/v1/reports, docs/protocol.md "Batch"). A queue of 300 drains to a real
 * esa-sdc in batches, each report stored once and in the history once, those
 * with attachments alone with their PUTs; esad SIGKILLed mid-drain doubles
 * nothing; a batch answer that is hostile or broken (one result 500, a result
 * or answer naming another report, a result without answer, too few results,
 * not JSON, endless, no answer at all) leaves exactly the reports not
 * acknowledged queued, and a real SDC then stores each once; an SDC without
 * the endpoint (404) gets every report one by one, and is asked only once.
 * Real esad and esa-sdc on loopback; the broken servers are stand-ins
 * answering each request as the test says (et_stub_start_with). */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"
#include "esa-history.h"
#include "esa-queue.h"
#include "esa/esa-protocol.h"

#include <string.h>

#define PLUGIN "batchtest"

static void
write_conf (EtWorld *w, const char *servers, guint parallel)
{
  g_autofree char *par = parallel > 0 ? g_strdup_printf ("[transport]\nparallel=%u\n", parallel) : g_strdup ("");
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=%s\nca-file=%s/ca.pem\ntimeout=20s\n%s", servers,
                                           w->sdc_dir, par);
  et_write_conf (w, text);
}

/* Activated against the real SDC, then stopped: the spool is the test's. */
static void
activated_world (EtWorld *w)
{
  g_autofree char *sdc = g_strdup_printf ("https://localhost:%u/", w->port);
  write_conf (w, sdc, 0);
  et_sdc_start (w, NULL);
  et_esad_start (w, NULL);
  et_activate (w);
  et_esad_stop (w);
}

/* @n small inventory reports into the stopped esad's spool, in this order;
 * every @att_every-th (0: none) with an attachment. Returns their uuids. */
static GPtrArray *
enqueue_plain (EtWorld *w, guint n, guint att_every, GPtrArray **with_att)
{
  g_autofree char *spool = g_build_filename (w->state_dir, "spool", NULL);
  g_autofree char *att = g_build_filename (w->dir, "inventory.txt", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueue) queue = esa_queue_open (spool, &error);
  GPtrArray *uuids = g_ptr_array_new_with_free_func (g_free);
  g_assert_no_error (error);
  esa_test_write_file (att, "lslpp -L output, more or less\n", 0600);
  if (with_att != NULL)
    *with_att = g_ptr_array_new_with_free_func (g_free);
  esa_queue_wait_ready (queue);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (EsaReport) r = esa_report_new (ESA_REPORT_KIND_INVENTORY, PLUGIN);
      json_object_set_int_member (esa_report_get_body (r), "sequence", i);
      json_object_set_string_member (esa_report_get_body (r), "filesets", "bos.rte 7.3.1.0; bos.net 7.3.1.0");
      if (att_every > 0 && i % att_every == att_every - 1)
        {
          g_assert_true (esa_report_add_attachment (r, att, "text/plain", &error));
          g_ptr_array_add (*with_att, g_strdup (esa_report_get_uuid (r)));
        }
      g_assert_true (esa_queue_enqueue (queue, r, &error));
      g_assert_no_error (error);
      g_ptr_array_add (uuids, g_strdup (esa_report_get_uuid (r)));
    }
  return uuids;
}

/* The test's reports still queued: uuid -> last_error; @failed: failed/'s count. */
static GHashTable *
queued (EtWorld *w, guint *failed)
{
  g_autoptr (JsonNode) list = et_queue_list (w);
  JsonObject *o = json_node_get_object (list);
  JsonArray *q = json_object_get_array_member (o, "queued");
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  *failed = json_array_get_length (json_object_get_array_member (o, "failed"));
  for (guint i = 0; i < json_array_get_length (q); i++)
    {
      JsonObject *e = json_array_get_object_element (q, i);
      const char *last = json_object_has_member (e, "last_error") && !json_object_get_null_member (e, "last_error")
                             ? json_object_get_string_member (e, "last_error") : "";
      if (g_strcmp0 (json_object_get_string_member (e, "plugin"), PLUGIN) == 0)
        g_hash_table_insert (out, g_strdup (json_object_get_string_member (e, "uuid")), g_strdup (last));
    }
  return out;
}

static void
wait_drained (EtWorld *w, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  for (;;)
    {
      guint failed = 0;
      g_autoptr (GHashTable) q = queued (w, &failed);
      g_assert_cmpuint (failed, ==, 0);
      if (g_hash_table_size (q) == 0)
        return;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (200 * 1000);
    }
}

/* uuid (lower case) -> rows at the real SDC, the test's reports only. */
static GHashTable *
sdc_rows (EtWorld *w)
{
  g_autoptr (JsonNode) n = et_sdc_reports (w);
  JsonArray *a = json_node_get_array (n);
  GHashTable *rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      g_autofree char *u = NULL;
      if (g_strcmp0 (json_object_get_string_member (o, "kind"), ESA_REPORT_KIND_INVENTORY) != 0)
        continue;
      u = g_ascii_strdown (json_object_get_string_member (o, "uuid"), -1);
      g_hash_table_replace (rows, g_strdup (u), GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (rows, u)) + 1));
    }
  return rows;
}

static guint
rows_of (GHashTable *rows, const char *uuid)
{
  g_autofree char *u = g_ascii_strdown (uuid, -1);
  return GPOINTER_TO_UINT (g_hash_table_lookup (rows, u));
}

/* ---- a stand-in SDC whose answers the test chooses ---- */

typedef enum {
  ANSWER_MIXED,      /* per report: stored, 500, answer for another uuid, result for another uuid, no answer */
  ANSWER_SHORT,      /* right acknowledgements, one result too few */
  ANSWER_NOT_JSON,
  ANSWER_ENDLESS,    /* 200, then 3 MiB without end of body */
  ANSWER_CUT,        /* the request read whole, then the connection closed */
  ANSWER_NO_BATCH,   /* 404 to the batch endpoint; single reports acknowledged */
} Answer;

typedef struct {
  Answer answer;
  GMutex lock;
  GHashTable *acked;       /* uuids the stand-in acknowledged */
  GHashTable *sent;        /* uuids that arrived in a batch */
  guint batches, singles;
} Stand;

static char *
http (guint status, const char *body)
{
  return g_strdup_printf ("HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                          "Connection: close\r\n\r\n%s", status, status == 200 ? "OK" : "Whatever",
                          strlen (body), body);
}

static char *
stored (const char *uuid)
{
  return g_strdup_printf ("{\"status\": \"stored\", \"uuid\": \"%s\"}", uuid);
}

static char *
stand_answer (const char *request, GString *body, gpointer data)
{
  Stand *s = data;
  g_autoptr (JsonNode) n = json_from_string (body->str, NULL);
  JsonObject *o = n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&s->lock);
  g_autoptr (GString) out = g_string_new ("{\"results\": [");
  JsonArray *reports;
  guint len;
  if (!g_str_has_prefix (request, "POST " ESA_PROTOCOL_PATH_REPORTS " "))
    {
      /* one report alone: acknowledged */
      const char *uuid = o != NULL ? json_object_get_string_member (o, "uuid") : "none";
      g_autofree char *ack = stored (uuid);
      s->singles++;
      g_hash_table_add (s->acked, g_strdup (uuid));
      return http (200, ack);
    }
  s->batches++;
  reports = json_object_get_array_member (o, "reports");
  len = json_array_get_length (reports);
  for (guint i = 0; i < len; i++)
    g_hash_table_add (s->sent, g_strdup (json_object_get_string_member (json_array_get_object_element (reports, i),
                                                                        "uuid")));
  switch (s->answer)
    {
    case ANSWER_NO_BATCH:
      return http (404, "{\"error\": {\"code\": \"not_found\", \"message\": \"no such endpoint\"}}");
    case ANSWER_NOT_JSON:
      return g_strdup ("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
                       "<html>hello!</html>\n");
    case ANSWER_ENDLESS:
      {
        GString *e = g_string_new ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                                   "{\"results\": [");
        for (guint i = 0; i < 3 * 1024 * 1024 / 64; i++)
          g_string_append (e, "                                                               \n");
        return g_string_free (e, FALSE);
      }
    case ANSWER_CUT:
      return NULL;
    case ANSWER_SHORT:
    case ANSWER_MIXED:
    default:
      break;
    }
  for (guint i = 0; i < len; i++)
    {
      const char *uuid = json_object_get_string_member (json_array_get_object_element (reports, i), "uuid");
      g_autofree char *other = g_uuid_string_random ();
      g_autofree char *ack = stored (uuid);
      g_autofree char *wrong = stored (other);
      if (s->answer == ANSWER_SHORT)
        {
          if (i + 1 == len)
            break;
          g_string_append_printf (out, "%s{\"uuid\": \"%s\", \"status\": 200, \"answer\": %s}", i ? "," : "", uuid, ack);
          continue;
        }
      if (i > 0)
        g_string_append_c (out, ',');
      switch (i % 5)
        {
        case 0:
          g_hash_table_add (s->acked, g_strdup (uuid));
          g_string_append_printf (out, "{\"uuid\": \"%s\", \"status\": 200, \"answer\": %s}", uuid, ack);
          break;
        case 1:
          g_string_append_printf (out, "{\"uuid\": \"%s\", \"status\": 500, \"answer\": {\"error\": {\"code\": "
                                  "\"internal\", \"message\": \"the disk is on fire\"}}}", uuid);
          break;
        case 2:
          g_string_append_printf (out, "{\"uuid\": \"%s\", \"status\": 200, \"answer\": %s}", uuid, wrong);
          break;
        case 3:
          g_string_append_printf (out, "{\"uuid\": \"%s\", \"status\": 200, \"answer\": %s}", other, ack);
          break;
        default:
          g_string_append_printf (out, "{\"uuid\": \"%s\", \"status\": 200}", uuid);
          break;
        }
    }
  g_string_append (out, "]}");
  return http (200, out->str);
}

static Stand *
stand_new (Answer answer)
{
  Stand *s = g_new0 (Stand, 1);
  s->answer = answer;
  g_mutex_init (&s->lock);
  s->acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return s;
}

static void
stand_free (Stand *s)
{
  g_hash_table_unref (s->acked);
  g_hash_table_unref (s->sent);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* An activated esad with 40 reports queued, sending to the stand-in @s
 * only (one lane: the batches are the queue's order, not a race's); one
 * pass asked for and over. Returns the reports' uuids; @stub_out the stand-in. */
static GPtrArray *
stand_world (EtWorld *w, Stand *s, EtStub **stub_out)
{
  g_autofree char *servers = NULL;
  g_autofree char *out = NULL, *err = NULL;
  GPtrArray *uuids;
  activated_world (w);
  uuids = enqueue_plain (w, 40, 0, NULL);
  *stub_out = et_stub_start_with (w, TRUE, stand_answer, s);
  servers = g_strdup_printf ("https://localhost:%u/", et_stub_port (*stub_out));
  write_conf (w, servers, 1);
  et_esad_start (w, NULL);
  /* its exit status says what stays queued: the test looks for itself */
  et_esactl (w, &out, &err, "queue", "send", NULL);
  return uuids;
}

/* ---- tests ---- */

/* 300 queued reports (4 with an attachment) drain to a real esa-sdc in
 * batches: each stored once, queue empty, each once in the history as
 * delivered; the attachment ones went alone, with their PUTs. */
static void
test_drain (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autoptr (GPtrArray) with_att = NULL;
  g_autoptr (GPtrArray) uuids = NULL;
  g_autoptr (GHashTable) rows = NULL;
  g_autoptr (GHashTable) delivered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (JsonArray) history = NULL;
  g_autofree char *sdc = g_strdup_printf ("https://localhost:%u/", w->port);
  guint batched;
  activated_world (w);
  uuids = enqueue_plain (w, 300, 75, &with_att);
  write_conf (w, sdc, 0);
  et_esad_start (w, NULL);
  wait_drained (w, 120);
  et_esad_stop (w);
  rows = sdc_rows (w);
  for (guint i = 0; i < uuids->len; i++)
    g_assert_cmpuint (rows_of (rows, g_ptr_array_index (uuids, i)), ==, 1);
  g_assert_cmpuint (g_hash_table_size (rows), ==, uuids->len);
  history = esa_history_read (w->state_dir, NULL, NULL);
  for (guint i = 0; i < json_array_get_length (history); i++)
    {
      JsonObject *r = json_array_get_object_element (history, i);
      if (g_strcmp0 (json_object_get_string_member (r, "plugin"), PLUGIN) != 0)
        continue;
      g_assert_true (json_object_get_boolean_member (r, "delivered"));
      g_assert_false (g_hash_table_contains (delivered, json_object_get_string_member (r, "uuid")));
      g_hash_table_add (delivered, g_strdup (json_object_get_string_member (r, "uuid")));
    }
  g_assert_cmpuint (g_hash_table_size (delivered), ==, uuids->len);
  /* the SDC logs a line per report of a batch */
  batched = et_sdc_log_count (w, "path=" ESA_PROTOCOL_PATH_REPORTS " ", "status=200", NULL);
  g_test_message ("%u of %u reports came in batches", batched, uuids->len);
  g_assert_cmpuint (batched, >=, uuids->len / 2);
  g_assert_cmpuint (batched, <=, uuids->len - with_att->len);
  for (guint i = 0; i < with_att->len; i++)
    {
      g_autofree char *u = g_strdup_printf ("uuid=%s", (char *) g_ptr_array_index (with_att, i));
      g_assert_cmpuint (et_sdc_log_count (w, "path=" ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_INVENTORY " ", u,
                                          "status=200", NULL), ==, 1);
      g_assert_cmpuint (et_sdc_log_count (w, "path=" ESA_PROTOCOL_BASE_PATH ESA_REPORT_KIND_INVENTORY " ", u, NULL), ==, 1);
      g_assert_cmpuint (et_sdc_log_count (w, "path=" ESA_PROTOCOL_PATH_REPORTS " ", u, NULL), ==, 0);
    }
  g_assert_cmpuint (et_sdc_log_count (w, "method=PUT", "path=" ESA_PROTOCOL_PATH_ATTACHMENT, "status=200", NULL),
                    ==, with_att->len);
}

/* esad SIGKILLed while batches are in flight: after a restart each report is
 * at the SDC exactly once (a batch stored but not yet removed from the spool
 * is sent again, and answered with the stored answers). */
static void
test_kill_mid_drain (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autoptr (GPtrArray) uuids = NULL;
  g_autofree char *sdc = g_strdup_printf ("https://localhost:%u/", w->port);
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  activated_world (w);
  uuids = enqueue_plain (w, 600, 0, NULL);
  write_conf (w, sdc, 0);
  et_esad_start (w, NULL);
  for (;;)
    {
      g_autoptr (GHashTable) rows = sdc_rows (w);
      if (g_hash_table_size (rows) >= 40)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (10 * 1000);
    }
  g_subprocess_force_exit (w->esad);
  g_subprocess_wait (w->esad, NULL, NULL);
  g_clear_object (&w->esad);
  et_esad_start (w, NULL);
  wait_drained (w, 180);
  et_esad_stop (w);
  {
    g_autoptr (GHashTable) rows = sdc_rows (w);
    for (guint i = 0; i < uuids->len; i++)
      g_assert_cmpuint (rows_of (rows, g_ptr_array_index (uuids, i)), ==, 1);
    g_assert_cmpuint (g_hash_table_size (rows), ==, uuids->len);
  }
}

/* A stand-in answers every batch as @data says: exactly the reports it did
 * not acknowledge stay queued (none in failed/), each with a last error;
 * esad lives on; then the real SDC stores each of those once. */
static void
test_broken_answer (gconstpointer data)
{
  Answer answer = GPOINTER_TO_UINT (data);
  g_autoptr (EtWorld) w = et_world_new (NULL);
  Stand *s = stand_new (answer);
  g_autoptr (EtStub) stub = NULL;
  g_autoptr (GPtrArray) uuids = NULL;
  g_autoptr (GHashTable) left = NULL;
  g_autofree char *sdc = g_strdup_printf ("https://localhost:%u/", w->port);
  g_autofree char *out = NULL, *err = NULL;
  guint failed = 0, kept = 0;
  uuids = stand_world (w, s, &stub);
  left = queued (w, &failed);
  g_assert_cmpuint (failed, ==, 0);
  g_mutex_lock (&s->lock);
  g_test_message ("%u batches, %u acknowledged, %u left", s->batches, g_hash_table_size (s->acked),
                  g_hash_table_size (left));
  g_assert_cmpuint (s->batches, >=, 1);
  g_assert_cmpuint (s->singles, ==, 0);
  for (guint i = 0; i < uuids->len; i++)
    {
      const char *u = g_ptr_array_index (uuids, i);
      gboolean acked = g_hash_table_contains (s->acked, u);
      const char *why = g_hash_table_lookup (left, u);
      /* queued exactly when not acknowledged (and tried: in a batch that arrived) */
      g_assert_true (acked != (why != NULL));
      if (why != NULL && g_hash_table_contains (s->sent, u))
        {
          kept++;
          if (why[0] == '\0')
            g_error ("%s: kept without a last error", u);
        }
    }
  g_assert_cmpuint (kept, >=, 1);
  if (answer == ANSWER_MIXED)
    g_assert_cmpuint (g_hash_table_size (s->acked), >=, 1);
  else
    g_assert_cmpuint (g_hash_table_size (s->acked), ==, 0);
  g_mutex_unlock (&s->lock);
  /* esad lives on and says so */
  g_assert_cmpint (et_esactl (w, NULL, NULL, "status", NULL), ==, 0);
  et_esad_stop (w);
  /* the real SDC next: what is left is stored, once; nothing acknowledged is sent again */
  write_conf (w, sdc, 0);
  et_esad_start (w, NULL);
  /* asked for: the backoff of those kept does not apply */
  et_esactl (w, &out, &err, "queue", "send", NULL);
  wait_drained (w, 120);
  et_esad_stop (w);
  {
    g_autoptr (GHashTable) rows = sdc_rows (w);
    for (guint i = 0; i < uuids->len; i++)
      {
        const char *u = g_ptr_array_index (uuids, i);
        g_assert_cmpuint (rows_of (rows, u), ==, g_hash_table_contains (s->acked, u) ? 0 : 1);
      }
  }
  et_stub_stop (g_steal_pointer (&stub));
  stand_free (s);
}

/* An SDC without POST /esa/v1/reports (404): every report goes one by one
 * in the same pass, none counted as failed, and the endpoint is asked once. */
static void
test_no_endpoint (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  Stand *s = stand_new (ANSWER_NO_BATCH);
  g_autoptr (EtStub) stub = NULL;
  g_autoptr (GPtrArray) uuids = NULL;
  g_autoptr (GPtrArray) more = NULL;
  uuids = stand_world (w, s, &stub);
  wait_drained (w, 60);
  et_esad_stop (w);
  /* another esad, more reports: asked once more, then one by one */
  more = enqueue_plain (w, 10, 0, NULL);
  et_esad_start (w, NULL);
  wait_drained (w, 60);
  et_esad_stop (w);
  g_mutex_lock (&s->lock);
  g_test_message ("%u batch requests, %u single", s->batches, s->singles);
  /* once per esad: the 404 is remembered for the life of the process */
  g_assert_cmpuint (s->batches, ==, 2);
  g_assert_cmpuint (s->singles, >=, uuids->len + more->len);
  for (guint i = 0; i < uuids->len; i++)
    g_assert_true (g_hash_table_contains (s->acked, g_ptr_array_index (uuids, i)));
  for (guint i = 0; i < more->len; i++)
    g_assert_true (g_hash_table_contains (s->acked, g_ptr_array_index (more, i)));
  g_mutex_unlock (&s->lock);
  {
    /* none was ever counted as not delivered */
    g_autoptr (JsonArray) history = esa_history_read (w->state_dir, NULL, NULL);
    for (guint i = 0; i < json_array_get_length (history); i++)
      {
        JsonObject *r = json_array_get_object_element (history, i);
        if (g_strcmp0 (json_object_get_string_member (r, "plugin"), PLUGIN) == 0)
          g_assert_true (json_object_get_boolean_member (r, "delivered"));
      }
  }
  et_stub_stop (g_steal_pointer (&stub));
  stand_free (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/transport/batch/drain", test_drain);
  g_test_add_func ("/transport/batch/kill-mid-drain", test_kill_mid_drain);
  g_test_add_data_func ("/transport/batch/answer/mixed", GUINT_TO_POINTER (ANSWER_MIXED), test_broken_answer);
  g_test_add_data_func ("/transport/batch/answer/short", GUINT_TO_POINTER (ANSWER_SHORT), test_broken_answer);
  g_test_add_data_func ("/transport/batch/answer/not-json", GUINT_TO_POINTER (ANSWER_NOT_JSON), test_broken_answer);
  g_test_add_data_func ("/transport/batch/answer/endless", GUINT_TO_POINTER (ANSWER_ENDLESS), test_broken_answer);
  g_test_add_data_func ("/transport/batch/answer/cut", GUINT_TO_POINTER (ANSWER_CUT), test_broken_answer);
  g_test_add_func ("/transport/batch/no-endpoint", test_no_endpoint);
  return g_test_run ();
}
