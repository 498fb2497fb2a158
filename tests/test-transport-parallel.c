/* test-transport-parallel.c: [transport] parallel= — several reports really
 * are in flight at once (counted by a relay between esad and esa-sdc), never
 * more than asked; esad SIGKILLed mid-drain loses and doubles nothing at the
 * SDC; a failing route keeps every report queued and stops new sends. */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"

#include <string.h>

/* ---- a TCP relay that counts requests in flight ----
 * It cannot read inside TLS, but a connection whose client spoke last waits
 * for an answer: the number of such connections at once is the number of
 * requests (or handshakes) in flight. Each answer is held back a little so
 * that requests sent together are seen together. */

#define RELAY_HOLD_US (40 * 1000)

typedef struct {
  GSocketListener *listener;
  GCancellable *cancel;
  guint16 port, target;
  GThread *thread;
  GMutex lock;
  guint waiting, max_waiting, accepted;
  GPtrArray *pumps;       /* GThread* */
} Relay;

typedef struct {
  Relay *relay;
  GSocketConnection *client, *server;
  gboolean waiting;       /* the client spoke last (under relay->lock) */
  gint refs;
} Pair;

static void
pair_unref (Pair *pair)
{
  if (!g_atomic_int_dec_and_test (&pair->refs))
    return;
  g_object_unref (pair->client);
  g_object_unref (pair->server);
  g_free (pair);
}

static void
relay_note (Relay *r, Pair *pair, gboolean from_client)
{
  g_mutex_lock (&r->lock);
  if (from_client && !pair->waiting)
    {
      pair->waiting = TRUE;
      r->waiting++;
      r->max_waiting = MAX (r->max_waiting, r->waiting);
    }
  else if (!from_client && pair->waiting)
    {
      pair->waiting = FALSE;
      r->waiting--;
    }
  g_mutex_unlock (&r->lock);
}

static void
pump (Pair *pair, gboolean from_client)
{
  Relay *r = pair->relay;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (from_client ? pair->client : pair->server));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (from_client ? pair->server : pair->client));
  char buf[16384];
  gssize n;
  while ((n = g_input_stream_read (in, buf, sizeof buf, r->cancel, NULL)) > 0)
    {
      if (from_client)
        relay_note (r, pair, TRUE);
      else
        {
          g_usleep (RELAY_HOLD_US);
          relay_note (r, pair, FALSE);
        }
      if (!g_output_stream_write_all (out, buf, (gsize) n, NULL, r->cancel, NULL))
        break;
    }
  /* One side closed: close both, so the other pump ends too. */
  relay_note (r, pair, FALSE);
  g_io_stream_close (G_IO_STREAM (pair->client), NULL, NULL);
  g_io_stream_close (G_IO_STREAM (pair->server), NULL, NULL);
}

static gpointer
pump_up (gpointer data)
{
  pump (data, TRUE);
  pair_unref (data);
  return NULL;
}

static gpointer
pump_down (gpointer data)
{
  pump (data, FALSE);
  pair_unref (data);
  return NULL;
}

static gpointer
relay_thread (gpointer data)
{
  Relay *r = data;
  for (;;)
    {
      g_autoptr (GSocketClient) sc = g_socket_client_new ();
      GSocketConnection *client = g_socket_listener_accept (r->listener, NULL, r->cancel, NULL);
      GSocketConnection *server;
      Pair *pair;
      if (client == NULL)
        {
          if (g_cancellable_is_cancelled (r->cancel))
            return NULL;
          continue;
        }
      server = g_socket_client_connect_to_host (sc, "127.0.0.1", r->target, r->cancel, NULL);
      if (server == NULL)
        {
          g_object_unref (client);
          continue;
        }
      pair = g_new0 (Pair, 1);
      pair->relay = r;
      pair->client = client;
      pair->server = server;
      pair->refs = 2;
      g_mutex_lock (&r->lock);
      r->accepted++;
      g_ptr_array_add (r->pumps, g_thread_new ("relay-up", pump_up, pair));
      g_ptr_array_add (r->pumps, g_thread_new ("relay-down", pump_down, pair));
      g_mutex_unlock (&r->lock);
    }
}

static Relay *
relay_start (guint16 target)
{
  Relay *r = g_new0 (Relay, 1);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;
  g_mutex_init (&r->lock);
  r->target = target;
  r->cancel = g_cancellable_new ();
  r->pumps = g_ptr_array_new ();
  r->listener = g_socket_listener_new ();
  g_socket_listener_add_address (r->listener, addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound,
                                 &error);
  g_assert_no_error (error);
  r->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  r->thread = g_thread_new ("relay", relay_thread, r);
  return r;
}

static void
relay_stop (Relay *r)
{
  g_cancellable_cancel (r->cancel);
  g_thread_join (r->thread);
  g_socket_listener_close (r->listener);
  for (guint i = 0; i < r->pumps->len; i++)
    g_thread_join (g_ptr_array_index (r->pumps, i));
  g_ptr_array_unref (r->pumps);
  g_object_unref (r->listener);
  g_object_unref (r->cancel);
  g_mutex_clear (&r->lock);
  g_free (r);
}

/* ---- helpers ---- */

static void
write_conf (EtWorld *w, const char *servers, guint parallel)
{
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=%s\nca-file=%s/ca.pem\ntimeout=30s\n"
                                           "[transport]\nparallel=%u\n",
                                           servers, w->sdc_dir, parallel);
  et_write_conf (w, text);
}

/* The writer's problem reports the SDC holds, each counted once per row. */
static GHashTable *
stored_uuids (EtWorld *w, guint *rows)
{
  g_autoptr (JsonNode) n = et_sdc_reports (w);
  JsonArray *a = json_node_get_array (n);
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  *rows = 0;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member (o, "kind"), "problem") != 0)
        continue;
      (*rows)++;
      g_hash_table_add (seen, g_ascii_strdown (json_object_get_string_member (o, "uuid"), -1));
    }
  return seen;
}

/* The writer's reports still queued (heartbeats aside); all of failed/. */
static guint
queued_count (EtWorld *w, guint *failed, guint *attempted)
{
  g_autoptr (JsonNode) list = et_queue_list (w);
  JsonObject *o = json_node_get_object (list);
  JsonArray *q = json_object_get_array_member (o, "queued");
  guint n = 0;
  *failed = json_array_get_length (json_object_get_array_member (o, "failed"));
  if (attempted != NULL)
    *attempted = 0;
  for (guint i = 0; i < json_array_get_length (q); i++)
    {
      JsonObject *e = json_array_get_object_element (q, i);
      if (g_strcmp0 (json_object_get_string_member (e, "plugin"), "writer") != 0)
        continue;
      n++;
      if (attempted != NULL && json_object_get_int_member (e, "attempts") > 0)
        (*attempted)++;
    }
  return n;
}

/* The uuids of the spool's reports (char*, owned by the table): files named
 * <stamp>-<uuid>.json (or <uuid>.json, as an older esad wrote them). */
static GHashTable *
spool_names (EtWorld *w)
{
  g_autofree char *spool = g_build_filename (w->state_dir, "spool", NULL);
  g_autoptr (GDir) dir = g_dir_open (spool, 0, NULL);
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      gsize len = strlen (name);
      if (!g_str_has_suffix (name, ".json") || len < 36 + 5)
        continue;
      if (len == 36 + 5 || name[len - 5 - 36 - 1] == '-')
        g_hash_table_add (names, g_strndup (name + len - 5 - 36, 36));
    }
  return names;
}

/* The writer's reports as the spool holds them: the uuids it printed and
 * maybe one more (killed between its enqueue and its printf). */
static GPtrArray *
enqueue_writer_reports (EtWorld *w, guint n)
{
  g_autoptr (GHashTable) before = spool_names (w);
  g_autoptr (GPtrArray) printed = et_enqueue_reports (w, n);
  g_autoptr (GHashTable) after = spool_names (w);
  GPtrArray *uuids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer key;
  for (guint i = 0; i < printed->len; i++)
    g_assert_true (g_hash_table_contains (after, g_ptr_array_index (printed, i)));
  g_hash_table_iter_init (&it, after);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (before, key))
      g_ptr_array_add (uuids, g_strdup (key));
  return uuids;
}

/* Activated, then stopped, with @n reports queued for @servers. */
static GPtrArray *
queued_world_servers (EtWorld *w, const char *servers, guint parallel, guint n)
{
  g_autofree char *sdc = g_strdup_printf ("https://localhost:%u/", w->port);
  write_conf (w, sdc, parallel);
  et_sdc_start (w, NULL);
  et_esad_start (w, NULL);
  et_activate (w);
  et_esad_stop (w);
  write_conf (w, servers, parallel);
  return enqueue_writer_reports (w, n);
}

/* The same, for the one server on @port. */
static GPtrArray *
queued_world (EtWorld *w, guint16 port, guint parallel, guint n)
{
  g_autofree char *server = g_strdup_printf ("https://localhost:%u/", port);
  return queued_world_servers (w, server, parallel, n);
}

static void
wait_drained (EtWorld *w, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  guint failed = 0;
  while (queued_count (w, &failed, NULL) > 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (200 * 1000);
    }
  g_assert_cmpuint (failed, ==, 0);
}

static void
assert_all_stored_once (EtWorld *w, GPtrArray *uuids)
{
  guint rows = 0;
  g_autoptr (GHashTable) seen = stored_uuids (w, &rows);
  for (guint i = 0; i < uuids->len; i++)
    {
      g_autofree char *u = g_ascii_strdown (g_ptr_array_index (uuids, i), -1);
      if (!g_hash_table_contains (seen, u))
        g_error ("report %s is not at the SDC", u);
    }
  g_assert_cmpuint (rows, ==, uuids->len);
  g_assert_cmpuint (g_hash_table_size (seen), ==, uuids->len);
}

/* ---- tests ---- */

/* parallel=4: several requests wait for their answers at once, never more
 * than four, over keep-alive connections (a few, not one per report). */
static void
test_in_flight (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  Relay *relay = relay_start (w->port);
  g_autoptr (GPtrArray) uuids = queued_world (w, relay->port, 4, 40);
  guint max_waiting, accepted;
  et_esad_start (w, NULL);
  wait_drained (w, 120);
  et_esad_stop (w);
  assert_all_stored_once (w, uuids);
  g_mutex_lock (&relay->lock);
  max_waiting = relay->max_waiting;
  accepted = relay->accepted;
  g_mutex_unlock (&relay->lock);
  g_test_message ("%u reports: at most %u in flight, %u connections", uuids->len, max_waiting, accepted);
  g_assert_cmpuint (max_waiting, >=, 2);
  g_assert_cmpuint (max_waiting, <=, 4);
  /* each lane keeps its connection; a pass or two may open new ones */
  g_assert_cmpuint (accepted, <, uuids->len / 2);
  relay_stop (relay);
}

/* parallel=1 is the old sender: one request at a time. */
static void
test_one_at_a_time (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  Relay *relay = relay_start (w->port);
  g_autoptr (GPtrArray) uuids = queued_world (w, relay->port, 1, 12);
  et_esad_start (w, NULL);
  wait_drained (w, 120);
  et_esad_stop (w);
  assert_all_stored_once (w, uuids);
  g_assert_cmpuint (relay->max_waiting, ==, 1);
  relay_stop (relay);
}

/* esad SIGKILLed while four reports are in flight: after a restart every
 * report is at the SDC exactly once (those stored but not yet removed from
 * the spool are sent again and recognised by their uuid). */
static void
test_kill_mid_drain (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autoptr (GPtrArray) uuids = queued_world (w, w->port, 4, 150);
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  guint rows = 0, failed = 0, left;
  et_esad_start (w, NULL);
  for (;;)
    {
      g_autoptr (GHashTable) seen = stored_uuids (w, &rows);
      if (rows >= 10)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20 * 1000);
    }
  g_subprocess_force_exit (w->esad);
  g_subprocess_wait (w->esad, NULL, NULL);
  g_clear_object (&w->esad);
  left = 0;
  {
    g_autoptr (GHashTable) seen = stored_uuids (w, &rows);
    left = uuids->len - g_hash_table_size (seen);
  }
  g_test_message ("killed with %u of %u stored", uuids->len - left, uuids->len);
  et_esad_start (w, NULL);
  wait_drained (w, 180);
  g_assert_cmpuint (queued_count (w, &failed, NULL), ==, 0);
  g_assert_cmpuint (failed, ==, 0);
  et_esad_stop (w);
  assert_all_stored_once (w, uuids);
}

/* The first server is down: every lane fails over to the second, and every
 * report is stored there once. */
static void
test_failover (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autofree char *servers = g_strdup_printf ("https://localhost:%u/;https://localhost:%u/",
                                              esa_test_free_port (), w->port);
  g_autoptr (GPtrArray) uuids = queued_world_servers (w, servers, 4, 30);
  et_esad_start (w, NULL);
  wait_drained (w, 120);
  et_esad_stop (w);
  assert_all_stored_once (w, uuids);
}

/* The only server answers 503: every report stays queued, none in failed/,
 * and no more reports were tried than were in flight when it failed. */
static void
test_failing_route_keeps_all (void)
{
  g_autoptr (EtWorld) w = et_world_new (NULL);
  g_autoptr (EtStub) stub = NULL;
  g_autoptr (GPtrArray) uuids = NULL;
  g_autofree char *out = NULL, *err = NULL;
  guint failed = 0, attempted = 0, queued;
  stub = et_stub_start (w, TRUE, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  uuids = queued_world (w, et_stub_port (stub), 4, 20);
  et_esad_start (w, NULL);
  /* the pass of the start, then one asked for (backoff does not apply) */
  et_esactl (w, &out, &err, "queue", "send", NULL);
  queued = queued_count (w, &failed, &attempted);
  g_test_message ("%u queued, %u tried, %u requests", queued, attempted, et_stub_requests (stub));
  g_assert_cmpuint (queued, ==, uuids->len);
  g_assert_cmpuint (failed, ==, 0);
  g_assert_cmpuint (attempted, >=, 1);
  g_assert_cmpuint (attempted, <=, 4);
  g_assert_cmpuint (et_stub_requests (stub), <=, 8);
  {
    guint rows = 0;
    g_autoptr (GHashTable) seen = stored_uuids (w, &rows);
    g_assert_cmpuint (rows, ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/transport/parallel/in-flight", test_in_flight);
  g_test_add_func ("/transport/parallel/one-at-a-time", test_one_at_a_time);
  g_test_add_func ("/transport/parallel/kill-mid-drain", test_kill_mid_drain);
  g_test_add_func ("/transport/parallel/failover", test_failover);
  g_test_add_func ("/transport/parallel/failing-route-keeps-all", test_failing_route_keeps_all);
  return g_test_run ();
}
