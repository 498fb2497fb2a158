/* test-transport-answers.c: what the agent does with a server's answer when
 * the TLS is right but the answer is not an SDC's acknowledgement — a
 * redirect (to plain HTTP), a 200 with garbage, a 200 naming another report,
 * a 200 nested 300,000 deep, a 200 of 48 MiB. In every case nothing leaves the queue, nothing
 * reaches the redirect's target, esad says why and lives on, and the report
 * is delivered once when a real SDC is next in line. Real esa-sdc and esad on
 * loopback; the wrong server is a stand-in thread (et_stub_start). */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"

#include <string.h>

typedef struct {
  EtWorld *w;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->w = et_world_new (NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->w, et_world_free);
}

static void
write_conf (EtWorld *w, const char *servers)
{
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=%s\nca-file=%s/ca.pem\ntimeout=20s\n", servers,
                                           w->sdc_dir);
  et_write_conf (w, text);
}

static JsonObject *
only_queued (JsonNode *list)
{
  JsonArray *a = json_object_get_array_member (json_node_get_object (list), "queued");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  return json_array_get_object_element (a, 0);
}

static guint
n_failed (JsonNode *list)
{
  return json_array_get_length (json_object_get_array_member (json_node_get_object (list), "failed"));
}

/* A heartbeat while only the wrong server(s) answer: kept in the queue with
 * @why in its last error (and in what esactl says); returns its uuid. */
static char *
heartbeat_kept (EtWorld *w, const char *why)
{
  g_autofree char *out = NULL, *err = NULL, *all = NULL;
  g_autoptr (JsonNode) list = NULL;
  JsonObject *e;
  int rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  all = g_strconcat (out, err, NULL);
  if (rc != 6 || strstr (all, why) == NULL)
    g_printerr ("heartbeat (%d):\n%s\n", rc, all);
  g_assert_cmpint (rc, ==, 6);
  g_assert_nonnull (strstr (all, "kept in queue"));
  g_assert_nonnull (strstr (all, why));
  list = et_queue_list (w);
  g_assert_cmpuint (n_failed (list), ==, 0);
  e = only_queued (list);
  g_assert_cmpint (json_object_get_int_member (e, "attempts"), >=, 1);
  {
    /* a retry is scheduled: next_attempt (ISO 8601, docs/json.md) lies ahead */
    g_autoptr (GDateTime) next = g_date_time_new_from_iso8601 (json_object_get_string_member (e, "next_attempt"), NULL);
    g_assert_nonnull (next);
    g_assert_cmpint (g_date_time_to_unix (next), >, g_get_real_time () / G_USEC_PER_SEC);
  }
  g_assert_nonnull (strstr (json_object_get_string_member (e, "last_error"), why));
  return g_strdup (json_object_get_string_member (e, "uuid"));
}

/* `esactl queue send` with a real SDC next in line: delivered there, once. */
static void
delivered_once (EtWorld *w, const char *uuid)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) list = NULL;
  int rc = et_esactl (w, &out, &err, "queue", "send", NULL);
  if (rc != 0)
    g_printerr ("queue send (%d):\n%s%s\n", rc, out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, uuid));
  g_assert_cmpuint (et_sdc_count_uuid (w, uuid), ==, 1);
  list = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (list), "queued")),
                    ==, 0);
  g_assert_cmpuint (n_failed (list), ==, 0);
}

/* An HTTPS server (by name and by IP literal) redirects every request to a
 * plain-HTTP listener: no redirect is followed, zero bytes arrive there,
 * `esactl test` shows the 3xx, the report stays queued and then goes once
 * to the next server. Every redirect status libsoup knows. */
static void
test_redirect (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  const guint statuses[] = { 301, 302, 303, 307, 308 };
  g_autoptr (EtStub) plain = et_stub_start (w, FALSE,
                                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                            "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
  et_sdc_start (w, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autofree char *response = g_strdup_printf ("HTTP/1.1 %u Moved\r\nLocation: http://127.0.0.1:%u/esa/v1/heartbeat\r\n"
                                                   "Content-Length: 0\r\nConnection: close\r\n\r\n",
                                                   statuses[i], et_stub_port (plain));
      g_autoptr (EtStub) stub = et_stub_start (w, TRUE, response);
      g_autofree char *wrong = g_strdup_printf ("https://localhost:%u/;https://127.0.0.1:%u/", et_stub_port (stub),
                                                et_stub_port (stub));
      g_autofree char *servers = g_strdup_printf ("%s;https://localhost:%u/", wrong, w->port);
      g_autofree char *out = NULL, *err = NULL, *all = NULL, *uuid = NULL;
      g_autofree char *want = g_strdup_printf ("%u", statuses[i]);
      int rc;

      g_test_message ("redirect %u", statuses[i]);
      write_conf (w, wrong);
      et_esad_start (w, NULL);
      if (i == 0)
        {
          g_autofree char *act = g_strdup_printf ("https://localhost:%u/", w->port);
          g_autofree char *aout = NULL, *aerr = NULL;
          rc = et_esactl (w, &aout, &aerr, "activate", "--server", act, NULL);
          if (rc != 0)
            g_printerr ("activate: %s%s", aout, aerr);
          g_assert_cmpint (rc, ==, 0);
        }
      /* esactl test shows the redirect on both routes. */
      rc = et_esactl (w, &out, &err, "test", NULL);
      all = g_strconcat (out, err, NULL);
      if (rc != 6 || strstr (all, "not followed") == NULL)
        g_printerr ("esactl test (%d):\n%s\n", rc, all);
      g_assert_cmpint (rc, ==, 6);
      g_assert_nonnull (strstr (all, "not followed"));
      g_assert_nonnull (strstr (all, want));
      g_assert_nonnull (strstr (all, "connectivity FAILED"));

      uuid = heartbeat_kept (w, "not followed");
      g_assert_cmpuint (et_stub_requests (stub), >=, 4); /* two tests, two POSTs */
      et_esad_stop (w);

      write_conf (w, servers);
      et_esad_start (w, NULL);
      delivered_once (w, uuid);
      et_esad_stop (w);
      g_assert_cmpuint (et_stub_bytes (plain), ==, 0);
      g_assert_cmpuint (et_stub_requests (plain), ==, 0);
    }
}

/* A server with the right certificate that answers 200 to anything but is
 * not an SDC (or answers for another report): nothing leaves the queue. */
static void
test_ok_without_ack (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  const char *responses[] = {
    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<html>welcome</html>",
    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 70\r\nConnection: close\r\n\r\n"
    "{\"status\": \"stored\", \"uuid\": \"0b7e8c1e-5f4a-4c1e-9a4e-1d2c3b4a5f60\"}",
    "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]",
  };
  g_autofree char *act = g_strdup_printf ("https://localhost:%u/", w->port);
  g_autofree char *aout = NULL, *aerr = NULL;

  et_sdc_start (w, NULL);
  write_conf (w, act);
  et_esad_start (w, NULL);
  g_assert_cmpint (et_esactl (w, &aout, &aerr, "activate", "--server", act, NULL), ==, 0);
  et_esad_stop (w);
  for (guint i = 0; i < G_N_ELEMENTS (responses); i++)
    {
      g_autoptr (EtStub) stub = et_stub_start (w, TRUE, responses[i]);
      g_autofree char *wrong = g_strdup_printf ("https://127.0.0.1:%u/", et_stub_port (stub));
      g_autofree char *servers = g_strdup_printf ("%s;https://localhost:%u/", wrong, w->port);
      g_autofree char *uuid = NULL;
      g_test_message ("answer %u", i);
      write_conf (w, wrong);
      et_esad_start (w, NULL);
      uuid = heartbeat_kept (w, "not an acknowledgement");
      g_assert_cmpuint (et_stub_requests (stub), >=, 1);
      et_esad_stop (w);
      write_conf (w, servers);
      et_esad_start (w, NULL);
      delivered_once (w, uuid);
      et_esad_stop (w);
    }
}

/* A stand-in answering @response first in servers= (esa-sdc running, esad
 * started with only the stand-in and activated at the real SDC); returns
 * the stand-in, and in @servers the servers= that puts the real SDC next. */
static EtStub *
wrong_first (EtWorld *w, const char *response, char **servers)
{
  EtStub *stub = et_stub_start (w, TRUE, response);
  g_autofree char *act = g_strdup_printf ("https://localhost:%u/", w->port);
  g_autofree char *wrong = g_strdup_printf ("https://127.0.0.1:%u/", et_stub_port (stub));
  g_autofree char *aout = NULL, *aerr = NULL;
  *servers = g_strdup_printf ("%s;https://localhost:%u/", wrong, w->port);
  et_sdc_start (w, NULL);
  write_conf (w, wrong);
  et_esad_start (w, NULL);
  g_assert_cmpint (et_esactl (w, &aout, &aerr, "activate", "--server", act, NULL), ==, 0);
  return stub;
}

/* An answer of 300,000 '[': esad refuses to parse it, keeps the report, and
 * lives — also when it starts again with that report still queued. */
static void
test_deep_answer (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  const gsize depth = 300000;
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n", depth);
  g_autoptr (GString) response = g_string_new (head);
  g_autoptr (EtStub) stub = NULL;
  g_autofree char *servers = NULL, *uuid = NULL, *out = NULL, *err = NULL;
  int rc;

  for (gsize i = 0; i < depth; i++)
    g_string_append_c (response, '[');
  stub = wrong_first (w, response->str, &servers);
  uuid = heartbeat_kept (w, "nested");
  g_assert_cmpint (et_esactl (w, &out, &err, "status", NULL), ==, 0);
  et_esad_stop (w);
  /* Started again with the report queued: it tries again and lives. */
  et_esad_start (w, NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (w, &out, &err, "queue", "send", NULL);
  g_assert_cmpint (rc, ==, 6);
  g_assert_nonnull (strstr (err, "nested"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "status", NULL), ==, 0);
  g_assert_cmpuint (et_stub_requests (stub), >=, 2);
  et_esad_stop (w);
  write_conf (w, servers);
  et_esad_start (w, NULL);
  delivered_once (w, uuid);
}

/* A 200 with a 48 MiB body: esad stops reading past 1 MiB (the most an
 * answer may be) instead of holding it all, keeps the report, says why,
 * and delivers it once to the real SDC next in line. */
#define ENDLESS_BYTES (48u * 1024 * 1024)
static void
test_endless_answer (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                           "Content-Length: %u\r\nConnection: close\r\n\r\n", ENDLESS_BYTES);
  g_autoptr (GString) response = g_string_sized_new (strlen (head) + ENDLESS_BYTES);
  g_autoptr (EtStub) stub = NULL;
  g_autofree char *servers = NULL, *uuid = NULL;

  g_string_append (response, head);
  for (guint i = 0; i < ENDLESS_BYTES; i++)
    g_string_append_c (response, ' ');
  stub = wrong_first (w, response->str, &servers);
  uuid = heartbeat_kept (w, "SDC answer larger than 1048576 bytes");
  /* what esad took: its 1 MiB and whatever the sockets' buffers held */
  g_assert_cmpuint (et_stub_sent (stub), <, 16u * 1024 * 1024);
  et_esad_stop (w);
  write_conf (w, servers);
  et_esad_start (w, NULL);
  delivered_once (w, uuid);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add ("/transport/answers/redirect", Fixture, NULL, fixture_setup, test_redirect, fixture_teardown);
  g_test_add ("/transport/answers/ok-without-ack", Fixture, NULL, fixture_setup, test_ok_without_ack,
              fixture_teardown);
  g_test_add ("/transport/answers/deep-answer", Fixture, NULL, fixture_setup, test_deep_answer, fixture_teardown);
  g_test_add ("/transport/answers/endless-answer", Fixture, NULL, fixture_setup, test_endless_answer,
              fixture_teardown);
  return g_test_run ();
}
