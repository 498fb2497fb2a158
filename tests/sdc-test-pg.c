/* sdc-test-pg.c: a throw-away PostgreSQL cluster, one per test process.
 *
 * PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to
 * "nobody" and initdb/pg_ctl run through setpriv. It listens on no TCP port at all,
 * only on a Unix socket inside its temporary folder, with trust authentication (the
 * folder is the access control). fsync stays on: the tests exercise the same commit
 * path production uses. The postmaster is our child, in our process group (not
 * daemonised by pg_ctl), so tests/run-test ends it even when a test aborts. */
#include "config.h"

#include "sdc-test-pg.h"
#include "esa-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static char *pg_root;   /* temporary folder: data/, sock/, log */
static GSubprocess *pg_server;
static char *pg_bindir;
static char *pg_skip_reason;
static guint pg_databases;

static char *
find_bindir (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/usr/lib/postgresql", 0, NULL);
  const char *name;
  char *best = NULL;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *initdb = g_build_filename ("/usr/lib/postgresql", name, "bin", "initdb", NULL);
      if (g_file_test (initdb, G_FILE_TEST_IS_EXECUTABLE) &&
          (best == NULL || atoi (name) > atoi (strrchr (best, '/') ? best : "0")))
        {
          g_free (best);
          best = g_build_filename ("/usr/lib/postgresql", name, "bin", NULL);
        }
    }
  return best;
}

/* argv as the cluster's owner: ourselves, or nobody when we are root */
static GPtrArray *
owner_argv (const char *const *argv)
{
  GPtrArray *full = g_ptr_array_new ();
  if (geteuid () == 0)
    {
      g_ptr_array_add (full, (char *) "setpriv");
      g_ptr_array_add (full, (char *) "--reuid=nobody");
      g_ptr_array_add (full, (char *) "--regid=nogroup");
      g_ptr_array_add (full, (char *) "--clear-groups");
      g_ptr_array_add (full, (char *) "--");
    }
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (full, (char *) argv[i]);
  g_ptr_array_add (full, NULL);
  return full;
}

static gboolean
run_as_owner (const char *const *argv, char **err)
{
  g_autoptr (GPtrArray) full = owner_argv (argv);
  return esa_test_run ((const char *const *) full->pdata, NULL, err) == 0;
}

static gboolean
server_ready (const char *sock)
{
  g_autofree char *uri = g_strdup_printf ("postgresql:///postgres?host=%s&user=postgres", sock);
  return PQping (uri) == PQPING_OK;
}

static void
stop_at_exit (void)
{
  esa_test_pg_stop ();
}

static gboolean
start_cluster (void)
{
  g_autofree char *initdb = NULL;
  g_autofree char *postgres = NULL;
  g_autofree char *data = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *log = NULL;
  g_autofree char *err = NULL;

  if (pg_root != NULL)
    return TRUE;
  if (pg_skip_reason != NULL)
    return FALSE;
  pg_bindir = find_bindir ();
  if (pg_bindir == NULL)
    {
      pg_skip_reason = g_strdup ("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb; "
                                 "Debian package postgresql, see scripts/deps)");
      return FALSE;
    }
  pg_root = esa_test_mkdtemp ("sdc-pg");
  data = g_build_filename (pg_root, "data", NULL);
  sock = g_build_filename (pg_root, "sock", NULL);
  log = g_build_filename (pg_root, "log", NULL);
  g_assert_cmpint (g_mkdir (sock, 0700), ==, 0);
  if (geteuid () == 0)
    {
      struct passwd *pw = getpwnam ("nobody");
      g_assert_nonnull (pw);
      g_assert_cmpint (chown (pg_root, pw->pw_uid, pw->pw_gid), ==, 0);
      g_assert_cmpint (chown (sock, pw->pw_uid, pw->pw_gid), ==, 0);
      /* root's client connects through the socket in here */
      g_assert_cmpint (g_chmod (pg_root, 0711), ==, 0);
      g_assert_cmpint (g_chmod (sock, 0711), ==, 0);
    }
  initdb = g_build_filename (pg_bindir, "initdb", NULL);
  postgres = g_build_filename (pg_bindir, "postgres", NULL);
  {
    const char *argv[] = { initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                           "--no-sync", "--no-instructions", NULL };
    if (!run_as_owner (argv, &err))
      g_error ("initdb failed: %s", err);
  }
  {
    const char *argv[] = { postgres, "-D", data, "-c", "listen_addresses=", "-c", "max_connections=200",
                           "-c", "shared_buffers=32MB", "-k", sock, NULL };
    g_autoptr (GPtrArray) full = owner_argv (argv);
    g_autoptr (GError) error = NULL;
    gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
    pg_server = esa_test_spawn (log, (const char *const *) full->pdata);
    while (!server_ready (sock))
      {
        if (g_get_monotonic_time () > deadline || g_subprocess_get_identifier (pg_server) == NULL)
          {
            g_autofree char *text = NULL;
            g_file_get_contents (log, &text, NULL, NULL);
            g_error ("postgres did not start: %s", text ? text : "");
          }
        g_usleep (50000);
      }
  }
  atexit (stop_at_exit);
  return TRUE;
}

static char *
uri_for (const char *dbname)
{
  g_autofree char *sock = g_build_filename (pg_root, "sock", NULL);
  return g_strdup_printf ("postgresql:///%s?host=%s&user=postgres", dbname, sock);
}

void
esa_test_pg_exec (const char *location, const char *sql)
{
  PGconn *conn = PQconnectdb (location);
  PGresult *res;
  if (PQstatus (conn) != CONNECTION_OK)
    g_error ("%s: %s", location, PQerrorMessage (conn));
  res = PQexec (conn, sql);
  if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
    g_error ("%s: %s", sql, PQresultErrorMessage (res));
  PQclear (res);
  PQfinish (conn);
}

char *
esa_test_pg_new_database (char **why)
{
  g_autofree char *admin = NULL;
  g_autofree char *name = NULL;
  g_autofree char *sql = NULL;
  if (!start_cluster ())
    {
      if (why != NULL)
        *why = g_strdup (pg_skip_reason);
      return NULL;
    }
  admin = uri_for ("postgres");
  name = g_strdup_printf ("sdc_test_%u", ++pg_databases);
  sql = g_strdup_printf ("CREATE DATABASE %s", name);
  esa_test_pg_exec (admin, sql);
  return uri_for (name);
}

void
esa_test_pg_stop (void)
{
  if (pg_root == NULL)
    return;
  if (pg_server != NULL)
    {
      /* SIGQUIT: immediate shutdown, nothing of this cluster is worth a checkpoint */
      g_subprocess_send_signal (pg_server, SIGQUIT);
      g_subprocess_wait (pg_server, NULL, NULL);
      g_clear_object (&pg_server);
    }
  esa_test_rmtree (pg_root);
  g_clear_pointer (&pg_root, g_free);
}
