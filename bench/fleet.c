/* bench/fleet.c: load generator for esa-sdc: N simulated systems (registered first),
 * C concurrent TLS keep-alive connections (one session each, like C agents) sending
 * heartbeats (and every tenth a small problem report) for S seconds, measured once
 * every connection is up. Prints one line:
 *   reports/s=… p50_ms=… p99_ms=… errors=… rss_kib=… server_cpu_us=… client_cpu_us=…
 * (the CPU time, user + system, the server and this client spent per report while
 * measuring: on a shared machine the steady figure, and what bounds the rate).
 * FLEET_DB_PID=PID (the postmaster) adds db_cpu_us=…: the CPU the database server and
 * its backends spent per report, which shares the same cores.
 * Built by bench/sdc.sh: cc -O2 fleet.c $(pkg-config --cflags --libs libsoup-3.0).
 *
 *   fleet URL CA-FILE SYSTEMS CONNECTIONS SECONDS [SERVER-PID[,PID...]] [--static]
 * --static: only GET URL (no registration), for the nginx ceiling. */
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  char *auth;
} System;

static SoupSession *session;   /* registration */
static SoupSession **sessions; /* one per connection, as one per agent */
static char *base;
static GPtrArray *systems;
static GArray *latencies; /* µs */
static guint64 errors;
static gint64 end_time;
static guint running;
static gboolean static_mode;
static GMainLoop *loop;
static guint64 seq;
/* the first request of each system pays one PBKDF2 (then its credential is cached, as
 * for an agent in steady state), and each connection's first request its TLS handshake
 * (GLib runs handshakes on its small GTask thread pool, so 64 at once take a while):
 * measuring starts once every system and every connection has been seen */
static gboolean warm;
static guint warm_done;
static guint warm_workers;
static guint8 *worker_seen;
static guint conns;
/* connections are opened a few at a time, as separate agents would (one process opening
 * 64 at once queues their handshakes in its own small thread pool for seconds, which
 * esa-sdc rightly takes for stalled clients) */
#define FLEET_OPENING 4
static guint started;
static gint64 t0;
static guint seconds;
static const char *server_pid;
static gint64 server_cpu0;
static gint64 own_cpu0;
static gint64 db_cpu0 = -1;
/* the load generator shares the cores with the server: per request it parses no URL
 * and formats the time once a second */
static GUri *heartbeat_uri;
static GUri *problem_uri;
static GUri *static_uri;

static void send_one (guint worker);
static gint64 cpu_us (const char *pid);
static gint64 db_cpu_us (void);

static char *
uuid_new (void)
{
  return g_uuid_string_random ();
}

static const char *
now_text (void)
{
  static gint64 second = -1;
  static char text[32];
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  if (now != second)
    {
      g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (now);
      g_autofree char *s = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
      g_strlcpy (text, s, sizeof text);
      second = now;
    }
  return text;
}

typedef struct {
  guint worker;
  gint64 start;
  SoupMessage *msg;
} Req;

static gboolean
send_next (gpointer worker)
{
  send_one (GPOINTER_TO_UINT (worker));
  return G_SOURCE_REMOVE;
}

static void
done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Req *r = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  gint64 now = g_get_monotonic_time ();
  guint status = soup_message_get_status (r->msg);
  if (body == NULL || status < 200 || status >= 300)
    errors++;
  else if (r->start >= t0)
    {
      gint64 us = now - r->start;
      g_array_append_val (latencies, us);
    }
  if (!warm && !worker_seen[r->worker])
    {
      worker_seen[r->worker] = 1;
      warm_workers++;
      if (started < conns)
        {
          running++;
          send_one (started++);
        }
    }
  if (!warm && ++warm_done >= systems->len + conns && warm_workers == conns)
    {
      warm = TRUE;
      errors = 0;
      g_array_set_size (latencies, 0);
      t0 = now;
      server_cpu0 = server_pid != NULL ? cpu_us (server_pid) : -1;
      own_cpu0 = cpu_us (NULL);
      db_cpu0 = db_cpu_us ();
      end_time = now + (gint64) seconds * G_USEC_PER_SEC;
      /* for a profiler started only for the measured part (FLEET_WARM_FILE=path) */
      if (g_getenv ("FLEET_WARM_FILE") != NULL)
        g_file_set_contents (g_getenv ("FLEET_WARM_FILE"), "warm\n", -1, NULL);
    }
  g_object_unref (r->msg);
  /* the next request once libsoup has put this connection back in its pool (after this
   * callback), so it goes out at once rather than waiting in the session's queue */
  if (now < end_time)
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, send_next, GUINT_TO_POINTER (r->worker), NULL);
  else if (--running == 0)
    g_main_loop_quit (loop);
  g_free (r);
}

static void
send_one (guint worker)
{
  Req *r = g_new0 (Req, 1);
  r->worker = worker;
  r->start = g_get_monotonic_time ();
  if (static_mode)
    r->msg = soup_message_new_from_uri ("GET", static_uri);
  else
    {
      System *s = g_ptr_array_index (systems, (seq++) % systems->len);
      gboolean problem = seq % 10 == 0;
      g_autofree char *uuid = uuid_new ();
      const char *ts = now_text ();
      g_autofree char *json = g_strdup_printf (
          "{\"version\":1,\"uuid\":\"%s\",\"kind\":\"%s\",\"plugin\":\"bench\",\"created\":\"%s\","
          "\"body\":{%s}}",
          uuid, problem ? "problem" : "heartbeat", ts,
          problem ? "\"srn\":\"651-204\",\"description\":\"bench\"" : "\"uptime\":12345");
      gsize len = strlen (json);
      g_autoptr (GBytes) bytes = g_bytes_new_take (g_steal_pointer (&json), len);
      r->msg = soup_message_new_from_uri ("POST", problem ? problem_uri : heartbeat_uri);
      /* as the agent does (transports/https): without this flag libsoup opens a new
       * connection, with a new TLS handshake, for every POST, so nothing is kept alive;
       * a report is idempotent by its uuid */
      soup_message_add_flags (r->msg, SOUP_MESSAGE_IDEMPOTENT);
      soup_message_headers_replace (soup_message_get_request_headers (r->msg), "Authorization", s->auth);
      soup_message_set_request_body_from_bytes (r->msg, "application/json", bytes);
    }
  soup_session_send_and_read_async (sessions[worker], r->msg, G_PRIORITY_DEFAULT, NULL, done_cb, r);
}

static gboolean
register_all (guint n)
{
  g_autofree char *url = g_strconcat (base, "esa/v1/register", NULL);
  g_autofree char *run = uuid_new ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uuid = uuid_new ();
      g_autofree char *json = g_strdup_printf (
          "{\"version\":1,\"uuid\":\"%s\",\"vendor\":\"IBM\",\"machine_type\":\"9009\",\"model\":\"42A\","
          "\"serial\":\"B%.8s%05u\",\"hostname\":\"lpar%u\",\"os\":\"AIX\",\"os_version\":\"7.3\"}",
          uuid, run, i, i);
      g_autoptr (GBytes) bytes = g_bytes_new (json, strlen (json));
      g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
      g_autoptr (GBytes) out = NULL;
      g_autoptr (JsonParser) p = json_parser_new ();
      System *s;
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
      out = soup_session_send_and_read (session, msg, NULL, NULL);
      if (out == NULL || soup_message_get_status (msg) != 201 ||
          !json_parser_load_from_data (p, g_bytes_get_data (out, NULL), g_bytes_get_size (out), NULL))
        {
          fprintf (stderr, "fleet: registration %u failed (%u)\n", i, soup_message_get_status (msg));
          return FALSE;
        }
      {
        JsonObject *o = json_node_get_object (json_parser_get_root (p));
        g_autofree char *pair = g_strdup_printf ("%s:%s", json_object_get_string_member (o, "system_id"),
                                                 json_object_get_string_member (o, "password"));
        g_autofree char *b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
        s = g_new0 (System, 1);
        s->auth = g_strdup_printf ("Basic %s", b64);
        g_ptr_array_add (systems, s);
      }
    }
  return TRUE;
}

/* user + system CPU of process @pid (NULL: this one), in µs */
static gint64
cpu_us_one (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", pid != NULL ? pid : "self");
  g_autofree char *text = NULL;
  g_auto (GStrv) f = NULL;
  const char *p;
  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strrchr (text, ')')) == NULL)
    return -1;
  f = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (f) < 13)
    return -1;
  /* fields 14 and 15 (utime, stime) are 11 and 12 after the ")" */
  return (g_ascii_strtoll (f[11], NULL, 10) + g_ascii_strtoll (f[12], NULL, 10)) * G_USEC_PER_SEC /
         sysconf (_SC_CLK_TCK);
}

/* @pids: one pid, or several separated by commas (nginx's workers), summed */
static gint64
cpu_us (const char *pids)
{
  g_auto (GStrv) list = NULL;
  gint64 sum = 0;
  if (pids == NULL)
    return cpu_us_one (NULL);
  list = g_strsplit (pids, ",", 0);
  for (guint i = 0; list[i] != NULL; i++)
    {
      gint64 t = cpu_us_one (list[i]);
      if (t < 0)
        return -1;
      sum += t;
    }
  return sum;
}

/* FLEET_DB_PID and every process whose parent it is (PostgreSQL's backends); -1 unset */
static gint64
db_cpu_us (void)
{
  const char *pm = g_getenv ("FLEET_DB_PID");
  g_autoptr (GDir) proc = NULL;
  const char *name;
  gint64 sum;
  if (pm == NULL || (sum = cpu_us_one (pm)) < 0 || (proc = g_dir_open ("/proc", 0, NULL)) == NULL)
    return -1;
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/stat", name);
      g_autofree char *text = NULL;
      const char *p;
      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &text, NULL, NULL) ||
          (p = strrchr (text, ')')) == NULL)
        continue;
      /* ") S PPID ..." */
      if (g_ascii_strtoll (p + 4, NULL, 10) == g_ascii_strtoll (pm, NULL, 10))
        {
          gint64 t = cpu_us_one (name);
          sum += t > 0 ? t : 0;
        }
    }
  return sum;
}

static int
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static long
rss_kib (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *text = NULL;
  const char *p;
  if (pid == NULL || !g_file_get_contents (path, &text, NULL, NULL) || (p = strstr (text, "VmRSS:")) == NULL)
    return -1;
  return strtol (p + 6, NULL, 10);
}

int
main (int argc, char **argv)
{
  g_autoptr (GTlsDatabase) db = NULL;
  g_autoptr (GError) error = NULL;
  guint n_systems;
  double elapsed;
  const char *pid = NULL;

  if (argc < 6)
    {
      fprintf (stderr, "usage: fleet URL CA-FILE SYSTEMS CONNECTIONS SECONDS [SERVER-PID[,PID...]] [--static]\n");
      return 2;
    }
  n_systems = (guint) atoi (argv[3]);
  conns = (guint) atoi (argv[4]);
  seconds = (guint) atoi (argv[5]);
  for (int i = 6; i < argc; i++)
    if (g_str_equal (argv[i], "--static"))
      static_mode = TRUE;
    else
      pid = server_pid = argv[i];
  base = static_mode || g_str_has_suffix (argv[1], "/") ? g_strdup (argv[1]) : g_strconcat (argv[1], "/", NULL);
  {
    g_autofree char *hb = g_strconcat (base, "esa/v1/heartbeat", NULL);
    g_autofree char *pr = g_strconcat (base, "esa/v1/problem", NULL);
    heartbeat_uri = g_uri_parse (hb, SOUP_HTTP_URI_FLAGS, NULL);
    problem_uri = g_uri_parse (pr, SOUP_HTTP_URI_FLAGS, NULL);
    static_uri = g_uri_parse (base, SOUP_HTTP_URI_FLAGS, NULL);
    if (heartbeat_uri == NULL || problem_uri == NULL || static_uri == NULL)
      {
        fprintf (stderr, "fleet: %s: not a URL\n", argv[1]);
        return 2;
      }
  }
  db = g_tls_file_database_new (argv[2], &error);
  if (db == NULL)
    {
      fprintf (stderr, "fleet: %s\n", error->message);
      return 1;
    }
  session = soup_session_new_with_options ("tls-database", db, "timeout", 30, NULL);
  sessions = g_new0 (SoupSession *, conns);
  for (guint w = 0; w < conns; w++)
    sessions[w] = soup_session_new_with_options ("tls-database", db, "max-conns", 1, "max-conns-per-host", 1,
                                                 "timeout", 30, NULL);
  systems = g_ptr_array_new ();
  latencies = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 1 << 20);
  if (!static_mode && !register_all (n_systems))
    return 1;
  loop = g_main_loop_new (NULL, FALSE);
  worker_seen = g_new0 (guint8, conns);
  t0 = G_MAXINT64; /* nothing measured during the warm-up */
  end_time = G_MAXINT64;
  while (started < MIN (conns, FLEET_OPENING))
    {
      running++;
      send_one (started++);
    }
  g_main_loop_run (loop);
  elapsed = (g_get_monotonic_time () - t0) / 1e6;
  g_array_sort (latencies, cmp_i64);
  {
    guint n = latencies->len;
    double p50 = n ? g_array_index (latencies, gint64, n / 2) / 1000.0 : 0;
    double p99 = n ? g_array_index (latencies, gint64, MIN (n - 1, n * 99 / 100)) / 1000.0 : 0;
    gint64 server_cpu = server_cpu0 >= 0 ? cpu_us (server_pid) - server_cpu0 : -1;
    gint64 own_cpu = cpu_us (NULL) - own_cpu0;
    gint64 db_cpu = db_cpu0 >= 0 ? db_cpu_us () - db_cpu0 : -1;
    printf ("reports/s=%.0f p50_ms=%.1f p99_ms=%.1f errors=%" G_GUINT64_FORMAT " rss_kib=%ld server_cpu_us=%.0f "
            "client_cpu_us=%.0f",
            n / elapsed, p50, p99, errors, rss_kib (pid), n && server_cpu >= 0 ? (double) server_cpu / n : -1.0,
            n ? (double) own_cpu / n : -1.0);
    if (db_cpu >= 0 && n > 0)
      printf (" db_cpu_us=%.0f", (double) db_cpu / n);
    printf ("\n");
  }
  return 0;
}
