/* bench/fleet/fleet.c: load generator for esa-sdc: N simulated systems (registered first,
 * with libsoup, untimed), C concurrent TLS keep-alive connections (one session each, like
 * C agents) sending heartbeats (and every tenth a small problem report) for S seconds,
 * measured once every connection is up; the timed part is client.c (raw HTTP/1.1 over
 * GnuTLS on FLEET_THREADS epoll threads, default 2). Prints one line:
 *   reports/s=… p50_ms=… p99_ms=… errors=… rss_kib=… server_cpu_us=… client_cpu_us=…
 * (the CPU time, user + system, the server and this client spent per report while
 * measuring: on a shared machine the steady figure, and what bounds the rate).
 * FLEET_DB_PID=PID (the postmaster) adds db_cpu_us=…: the CPU the database server and
 * its backends spent per report, which shares the same cores.
 * Built by bench/sdc.sh: cc -O2 -pthread fleet.c client.c http.c
 *   $(pkg-config --cflags --libs libsoup-3.0 json-glib-1.0 gnutls).
 *
 *   fleet URL CA-FILE SYSTEMS CONNECTIONS SECONDS [SERVER-PID[,PID...]] [--static]
 * --static: only GET URL (no registration), for the nginx ceiling. */
#include "fleet.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static SoupSession *session; /* registration */
static char *base;
static GPtrArray *auth; /* "Basic …" per system */
static const char *server_pid;
static gint64 server_cpu0;
static gint64 own_cpu0;
static gint64 db_cpu0 = -1;

static gint64 cpu_us (const char *pid);
static gint64 db_cpu_us (void);

static char *
uuid_new (void)
{
  return g_uuid_string_random ();
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
        g_ptr_array_add (auth, g_strdup_printf ("Basic %s", b64));
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

/* when measuring starts (from a client thread): the CPU counters' starting points */
static void
on_warm (void)
{
  server_cpu0 = server_pid != NULL ? cpu_us (server_pid) : -1;
  own_cpu0 = cpu_us (NULL);
  db_cpu0 = db_cpu_us ();
  /* for a profiler started only for the measured part (FLEET_WARM_FILE=path) */
  if (g_getenv ("FLEET_WARM_FILE") != NULL)
    g_file_set_contents (g_getenv ("FLEET_WARM_FILE"), "warm\n", -1, NULL);
}

/* https://HOST[:PORT]/PATH (HOST a name, an IPv4 address or [IPv6]) into @cfg */
static gboolean
target_parse (const char *url, FleetConfig *cfg)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
  g_autofree char *port = NULL;
  const char *host;
  int p;
  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 || g_uri_get_host (uri) == NULL)
    return FALSE;
  host = g_uri_get_host (uri);
  p = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 443;
  port = g_strdup_printf ("%d", p);
  if (getaddrinfo (host, port, &hints, &ai) != 0)
    return FALSE;
  memcpy (&cfg->addr, ai->ai_addr, ai->ai_addrlen);
  cfg->addr_len = ai->ai_addrlen;
  freeaddrinfo (ai);
  cfg->verify_host = g_strdup (host);
  cfg->host_header = strchr (host, ':') != NULL ? g_strdup_printf ("[%s]:%d", host, p) : g_strdup_printf ("%s:%d", host, p);
  cfg->path = g_str_has_suffix (g_uri_get_path (uri), "/") ? g_strdup (g_uri_get_path (uri))
                                                          : g_strconcat (g_uri_get_path (uri), "/", NULL);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GTlsDatabase) db = NULL;
  g_autoptr (GError) error = NULL;
  FleetConfig cfg = { .on_warm = on_warm, .threads = 2 };
  FleetResult res;
  guint n_systems;
  double elapsed;
  const char *pid = NULL;
  int r;

  if (argc < 6)
    {
      fprintf (stderr, "usage: fleet URL CA-FILE SYSTEMS CONNECTIONS SECONDS [SERVER-PID[,PID...]] [--static]\n");
      return 2;
    }
  n_systems = (guint) atoi (argv[3]);
  cfg.conns = (guint) atoi (argv[4]);
  cfg.seconds = (guint) atoi (argv[5]);
  if (g_getenv ("FLEET_THREADS") != NULL)
    cfg.threads = (guint) atoi (g_getenv ("FLEET_THREADS"));
  for (int i = 6; i < argc; i++)
    if (g_str_equal (argv[i], "--static"))
      cfg.static_mode = TRUE;
    else
      pid = server_pid = argv[i];
  if (cfg.conns == 0 || (!cfg.static_mode && n_systems == 0) || !target_parse (argv[1], &cfg))
    {
      fprintf (stderr, "fleet: %s: not an https URL to a host found, or no connections or systems\n", argv[1]);
      return 2;
    }
  base = g_str_has_suffix (argv[1], "/") ? g_strdup (argv[1]) : g_strconcat (argv[1], "/", NULL);
  gnutls_certificate_allocate_credentials (&cfg.cred);
  if ((r = gnutls_certificate_set_x509_trust_file (cfg.cred, argv[2], GNUTLS_X509_FMT_PEM)) <= 0)
    {
      fprintf (stderr, "fleet: %s: no CA certificate read (%s)\n", argv[2], r < 0 ? gnutls_strerror (r) : "empty");
      return 1;
    }
  auth = g_ptr_array_new ();
  if (!cfg.static_mode)
    {
      db = g_tls_file_database_new (argv[2], &error);
      if (db == NULL)
        {
          fprintf (stderr, "fleet: %s\n", error->message);
          return 1;
        }
      session = soup_session_new_with_options ("tls-database", db, "timeout", 30, NULL);
      if (!register_all (n_systems))
        return 1;
      cfg.auth = (char **) auth->pdata;
      cfg.n_systems = auth->len;
      g_clear_object (&session);
    }
  fleet_client_run (&cfg, &res);
  elapsed = (g_get_monotonic_time () - res.t0) / 1e6;
  g_array_sort (res.latencies, cmp_i64);
  {
    guint n = res.latencies->len;
    double p50 = n ? g_array_index (res.latencies, gint64, n / 2) / 1000.0 : 0;
    double p99 = n ? g_array_index (res.latencies, gint64, MIN (n - 1, n * 99 / 100)) / 1000.0 : 0;
    gint64 server_cpu = server_cpu0 >= 0 ? cpu_us (server_pid) - server_cpu0 : -1;
    gint64 own_cpu = cpu_us (NULL) - own_cpu0;
    gint64 db_cpu = db_cpu0 >= 0 ? db_cpu_us () - db_cpu0 : -1;
    printf ("reports/s=%.0f p50_ms=%.1f p99_ms=%.1f errors=%" G_GUINT64_FORMAT " rss_kib=%ld server_cpu_us=%.0f "
            "client_cpu_us=%.0f",
            n / elapsed, p50, p99, res.errors, rss_kib (pid), n && server_cpu >= 0 ? (double) server_cpu / n : -1.0,
            n ? (double) own_cpu / n : -1.0);
    if (db_cpu >= 0 && n > 0)
      printf (" db_cpu_us=%.0f", (double) db_cpu / n);
    printf ("\n");
  }
  return 0;
}
