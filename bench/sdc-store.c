/* bench/sdc-store.c: the CPU one stored report costs PostgreSQL (its backend) and the
 * writer (this process), storing the same kind of groups the server's writer stores, two
 * ways in turn on one connection: one statement per report (sdc_api_store_report, what
 * a group's savepoint run does) and one per group (sdc_api_store_reports, the first run
 * of every group). No HTTP, no TLS: the database side alone, steadier than bench/sdc.sh
 * on a shared machine. Built and run by bench/sdc-store.sh.
 *
 *   sdc-store URL POSTMASTER-PID ROUNDS GROUPS GROUP-SIZE
 *   sdc-store PATH 0 ROUNDS GROUPS GROUP-SIZE      (SQLite: the writer's CPU alone)
 * 200 systems; every tenth report a problem (a service request; SDC_BENCH_PROBLEMS=N: every
 * Nth, 0: none), the rest heartbeats; random uuids and the current second as received,
 * as the server stores them. Also prints the WAL written per report (PostgreSQL, from a
 * second connection). SDC_BENCH_GROUP_ONLY=1: only the statement per group;
 * SDC_BENCH_WAIT=N: print the backend's pid and wait N seconds (to attach perf). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "sdc-auth.h"
#include "sdc-json.h"
#include "sdc-server-private.h"
#include "sdc-store.h"

/* utime + stime (µs) of this program's backend: the postmaster's child serving "sdc" */
static double
backend_us (int postmaster)
{
  if (postmaster <= 0) /* SQLite: no server */
    return 0;
  g_autofree char *cmd = g_strdup_printf ("pgrep -o -P %d -f \"sdc \\\\[local\\\\]\"", postmaster);
  g_autofree char *out = NULL;
  g_autofree char *path = NULL;
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;
  if (!g_spawn_command_line_sync (cmd, &out, NULL, NULL, NULL) || atoi (out) <= 0)
    g_error ("no backend of postmaster %d found", postmaster);
  path = g_strdup_printf ("/proc/%d/stat", atoi (out));
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    g_error ("%s: unreadable", path);
  /* after "(comm) ": state is field 3, utime 14, stime 15 */
  fields = g_strsplit (strrchr (stat, ')') + 2, " ", 0);
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) * 1e6 / sysconf (_SC_CLK_TCK);
}

/* bytes of WAL written so far (a second connection of its own) */
static double
wal_bytes (PGconn *conn)
{
  PGresult *res;
  double v;
  if (conn == NULL)
    return 0;
  res = PQexec (conn, "SELECT pg_current_wal_lsn () - '0/0'");
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    g_error ("reading the WAL position: %s", PQerrorMessage (conn));
  v = g_ascii_strtod (PQgetvalue (res, 0, 0), NULL);
  PQclear (res);
  return v;
}

static double
self_us (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (GArray *v)
{
  g_array_sort (v, compare_doubles);
  return v->len == 0 ? 0 : g_array_index (v, double, v->len / 2);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (SdcPasswordHash) pw = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  GArray *be[2], *cl[2], *wal[2];
  PGconn *admin;
  const char *name[2] = { "statement per report", "statement per group" };
  guint64 seq = 0;
  int postmaster, rounds, groups, group_size;
  int problems = g_getenv ("SDC_BENCH_PROBLEMS") != NULL ? atoi (g_getenv ("SDC_BENCH_PROBLEMS")) : 10;

  if (argc != 6)
    {
      fprintf (stderr, "usage: sdc-store URL POSTMASTER-PID ROUNDS GROUPS GROUP-SIZE\n");
      return 2;
    }
  postmaster = atoi (argv[2]);
  rounds = atoi (argv[3]);
  groups = atoi (argv[4]);
  group_size = atoi (argv[5]);
  store = sdc_store_open (argv[1], &error);
  admin = sdc_store_location_is_pg (argv[1]) ? PQconnectdb (argv[1]) : NULL;
  if (admin != NULL && PQstatus (admin) != CONNECTION_OK)
    g_error ("%s", PQerrorMessage (admin));
  if (store == NULL)
    g_error ("%s", error->message);
  pw = sdc_auth_hash_password ("bench", &error);
  for (int i = 0; i < 200; i++)
    {
      g_autofree char *serial = g_strdup_printf ("S%05d", i);
      SdcSystemInfo info = { .vendor = "IBM", .machine_type = "9009", .serial = serial, .hostname = "h",
                             .lpar_id = -1, .partition = "" };
      char *id = sdc_store_register_system (store, &info, pw, "2026-11-26T00:00:00Z", NULL, &error);
      if (id == NULL)
        g_error ("%s", error->message);
      g_ptr_array_add (ids, id);
    }
  for (int m = 0; m < 2; m++)
    {
      be[m] = g_array_new (FALSE, FALSE, sizeof (double));
      cl[m] = g_array_new (FALSE, FALSE, sizeof (double));
      wal[m] = g_array_new (FALSE, FALSE, sizeof (double));
    }
  /* SDC_BENCH_WAIT=N: N seconds to attach perf to the backend (its pid printed) */
  if (g_getenv ("SDC_BENCH_WAIT") != NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("pgrep -o -P %d -f \"sdc \\\\[local\\\\]\"", postmaster);
      g_autofree char *out = NULL;
      g_spawn_command_line_sync (cmd, &out, NULL, NULL, NULL);
      printf ("backends: %s", out != NULL ? out : "?\n");
      fflush (stdout);
      g_usleep (atoi (g_getenv ("SDC_BENCH_WAIT")) * G_USEC_PER_SEC);
    }
  for (int r = 0; r < rounds; r++)
    for (int m = 0; m < 2; m++)
      {
        /* SDC_BENCH_GROUP_ONLY=1: the group statement alone (for perf) */
        if (m == 0 && g_getenv ("SDC_BENCH_GROUP_ONLY") != NULL)
          continue;
        double b0 = backend_us (postmaster), c0 = self_us (), w0 = wal_bytes (admin), b, c, wb;
        for (int g = 0; g < groups; g++)
          {
            g_autoptr (GPtrArray) jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) sdc_report_job_free);
            for (int k = 0; k < group_size; k++)
              {
                SdcReportJob *job = g_new0 (SdcReportJob, 1);
                seq++;
                /* random, as agents make them: each lands on its own leaf of reports_pkey */
                job->uuid = g_uuid_string_random ();
                /* the time as the server sets it (one-second steps, as last_seen) */
                job->now = g_strdup (sdc_json_now_text ());
                job->body_json = g_strdup ("{\"uptime\":12345,\"queue\":0}");
                job->row = (SdcReportRow) { .uuid = job->uuid, .kind = problems > 0 && seq % problems == 0 ? "problem" : "heartbeat",
                                            .system_id = g_ptr_array_index (ids, g_random_int_range (0, 200)),
                                            .plugin = "bench", .created = job->now, .received = job->now,
                                            .body_json = job->body_json, .touch = TRUE };
                g_ptr_array_add (jobs, job);
              }
            if (!sdc_store_begin (store, &error))
              g_error ("%s", error->message);
            if (m == 0)
              for (guint k = 0; k < jobs->len; k++)
                {
                  SdcReportJob *job = g_ptr_array_index (jobs, k);
                  if (!sdc_api_store_report (store, &job->row, NULL, &job->status, &job->answer, &job->duplicate,
                                             &error))
                    g_error ("%s", error->message);
                }
            else if (!sdc_api_store_reports (store, (SdcReportJob *const *) jobs->pdata, jobs->len, &error))
              g_error ("%s", error->message);
            if (!sdc_store_commit (store, &error))
              g_error ("%s", error->message);
          }
        b = (backend_us (postmaster) - b0) / (groups * group_size);
        c = (self_us () - c0) / (groups * group_size);
        wb = (wal_bytes (admin) - w0) / (groups * group_size);
        g_array_append_val (be[m], b);
        g_array_append_val (cl[m], c);
        g_array_append_val (wal[m], wb);
        printf ("round %d, %-21s backend %5.1f us/report, writer %5.1f us/report, WAL %5.0f bytes/report\n",
                r + 1, name[m], b, c, wb);
        fflush (stdout);
      }
  for (int m = 0; m < 2; m++)
    printf ("median, %-20s backend %5.1f us/report, writer %5.1f us/report, WAL %5.0f bytes/report\n",
            name[m], median (be[m]), median (cl[m]), median (wal[m]));
  if (admin != NULL)
    PQfinish (admin);
  return 0;
}
