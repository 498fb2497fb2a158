/* esa-sdc-main.c: the esa-sdc command line: init, serve, systems, reports, migrate,
 * backup, admin-password. */
#include "config.h"

#include <glib-unix.h>
#include <glib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sdc-allocator.h"
#include "sdc-ca.h"
#include "sdc-list.h"
#include "sdc-server.h"
#include "sdc-store.h"
#include "sdc-tls-legacy.h"
#include "sdc-approve.h"
#include "sdc-ui.h"

#define USAGE \
  "Usage:\n" \
  "  esa-sdc init DIR [--hostname NAME]... [--days N] [--db postgresql://...]\n" \
  "  esa-sdc serve --dir DIR [--db postgresql://...] --listen ADDR:PORT...\n" \
  "                [--http-listen ADDR:PORT]...\n" \
  "                [--max-body BYTES] [--max-attachment BYTES] [--uak-days N]\n" \
  "                [--login-failures N] [--login-window SECONDS]\n" \
  "                [--max-pending-per-client N] [--header-timeout SECONDS]\n" \
  "                [--db-writers N]  (PostgreSQL: 1 on this host, 2 on another; SQLite: 1 only)\n" \
  "                [--http-threads N]  (HTTPS loops: one per two cores, 1-4, on Linux)\n" \
  "  esa-sdc systems (--dir DIR | --db postgresql://...) [--json]\n" \
  "  esa-sdc systems pending (--dir DIR | --db postgresql://...) [--json]\n" \
  "  esa-sdc systems approve REG-ID (--dir DIR | --db postgresql://...)\n" \
  "  esa-sdc reports (--dir DIR | --db postgresql://...) [--system ID] [--json]\n" \
  "  esa-sdc migrate (--dir DIR | --db postgresql://...)\n" \
  "  esa-sdc backup --dir DIR FILE    (SQLite, while serve runs; PostgreSQL: pg_dump)\n" \
  "  esa-sdc admin-password --dir DIR    (reads the password from standard input)\n" \
  "  esa-sdc --version    (and the malloc it runs on)\n" \
  "Run `esa-sdc COMMAND --help` for every option.\n"

/* the whole command line, for --tls-max-version's re-exec */
static char **sdc_argv;

static int
fail (const GError *error)
{
  g_printerr ("esa-sdc: %s\n", error->message);
  return 1;
}

/* "1048576", "512K", "1M", "2G" (binary multiples). */
static gboolean
parse_size (const char *s, guint64 *out, GError **error)
{
  g_autofree char *num = g_strdup (s);
  gsize len = strlen (num);
  guint64 mult = 1;
  guint64 v = 0;
  if (len > 0 && strchr ("kKmMgG", num[len - 1]) != NULL)
    {
      char c = g_ascii_tolower (num[len - 1]);
      mult = c == 'k' ? 1024 : c == 'm' ? 1024 * 1024 : 1024 * 1024 * 1024;
      num[len - 1] = '\0';
    }
  if (!g_ascii_string_to_unsigned (num, 10, 1, G_MAXUINT64 / mult, &v, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "\"%s\": expected a size in bytes (optionally with K, M or G)", s);
      return FALSE;
    }
  *out = v * mult;
  return TRUE;
}

static int
cmd_init (int argc, char **argv)
{
  g_auto (GStrv) hostnames = NULL;
  g_autofree char *db = NULL;
  gboolean weak_sha1 = FALSE;
  gboolean self_signed = FALSE;
  int days = 365;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DIR - create a CA, server certificate and UAK key");
  const GOptionEntry entries[] = {
    { "hostname", 0, 0, G_OPTION_ARG_STRING_ARRAY, &hostnames, "Extra subjectAltName (DNS name or IP)", "NAME" },
    { "days", 0, 0, G_OPTION_ARG_INT, &days, "Server certificate validity (default 365)", "N" },
    { "db", 0, 0, G_OPTION_ARG_STRING, &db, "Also create the schema in this database (postgresql://...)", "URL" },
#ifdef ESA_ENABLE_TEST_HOOKS
    /* A server that hands out SHA-1 certificates has no place in an
     * installed build: compiled in only with configure --enable-test-hooks. */
    { "weak-sha1", 0, 0, G_OPTION_ARG_NONE, &weak_sha1, "FOR TESTS ONLY: sign the server certificate with SHA-1", NULL },
    { "self-signed", 0, 0, G_OPTION_ARG_NONE, &self_signed, "FOR TESTS ONLY: self-signed server certificate", NULL },
#endif
    { NULL },
  };
  SdcCaOptions opts = { 0 };

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error);
  if (argc != 2)
    {
      g_printerr ("esa-sdc init: expected exactly one DIR\n");
      return 2;
    }
  if (days < 1 || days > 3650)
    {
      g_printerr ("esa-sdc init: --days %d: expected 1-3650\n", days);
      return 2;
    }
  opts.hostnames = (const char *const *) hostnames;
  opts.weak_sha1 = weak_sha1;
  opts.self_signed = self_signed;
  opts.days = (guint) days;
  if (!sdc_ca_init_dir (argv[1], &opts, &error))
    return fail (error);
  if (db != NULL)
    {
      g_autoptr (SdcStore) store = sdc_store_open (db, &error);
      g_autoptr (SdcUak) uak = NULL;
      if (store == NULL)
        return fail (error);
      /* the first init stores its UAK key for every instance that follows */
      uak = sdc_server_load_uak (store, argv[1], 365, SDC_UAK_FLAG_NONE, &error);
      if (uak == NULL)
        return fail (error);
      printf ("database ready (%s, schema version %d)\n", sdc_store_engine_name (store),
              sdc_store_schema_version (store));
    }
  if (weak_sha1 || self_signed)
    g_printerr ("esa-sdc: WARNING: %s holds a deliberately weak server certificate (tests only)\n", argv[1]);
  printf ("initialised %s: point the agent's ca-file= at %s/ca.pem\n", argv[1], argv[1]);
  return 0;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static GPtrArray *
strv_to_array (char **strv)
{
  GPtrArray *arr = g_ptr_array_new ();
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    g_ptr_array_add (arr, strv[i]);
  return arr;
}

static int
cmd_serve (int argc, char **argv)
{
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  g_auto (GStrv) listen = NULL;
  g_auto (GStrv) http_listen = NULL;
  g_auto (GStrv) public_urls = NULL;
  g_autofree char *max_body = NULL;
  g_autofree char *max_attachment = NULL;
  g_autofree char *heartbeat = NULL;
  g_autofree char *tls_max = NULL;
  int uak_days = 365;
  int login_failures = 10;
  int login_window = 60;
  int max_pending = 8;
  int header_timeout = 10;
  int db_writers = 0;
  int http_threads = -1;
  gboolean uak_bad_sig = FALSE;
  gboolean uak_older = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- serve the SDC API over HTTPS");
  const GOptionEntry entries[] = {
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Directory made by `esa-sdc init`", "DIR" },
    { "db", 0, 0, G_OPTION_ARG_STRING, &db, "Database (default DIR/sdc.db; or postgresql://...)", "URL" },
    { "listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &listen, "HTTPS listener (repeatable)", "ADDR:PORT" },
    { "http-listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &http_listen, "Plain HTTP listener for GET /esa/v1/config only", "ADDR:PORT" },
    { "public-url", 0, 0, G_OPTION_ARG_STRING_ARRAY, &public_urls, "URL advertised in /config (default: the listeners)", "URL" },
    { "max-body", 0, 0, G_OPTION_ARG_STRING, &max_body, "Largest JSON body (default 1M)", "BYTES" },
    { "max-attachment", 0, 0, G_OPTION_ARG_STRING, &max_attachment, "Largest attachment (default 256M)", "BYTES" },
    { "uak-days", 0, 0, G_OPTION_ARG_INT, &uak_days, "UAK renewal length (default 365)", "N" },
    { "heartbeat", 0, 0, G_OPTION_ARG_STRING, &heartbeat, "Heartbeat schedule advertised in /config", "SCHEDULE" },
    { "login-failures", 0, 0, G_OPTION_ARG_INT, &login_failures, "Failed logins per address or system id before 429 (default 10)", "N" },
    { "login-window", 0, 0, G_OPTION_ARG_INT, &login_window, "Seconds failed logins are counted over (default 60)", "S" },
    { "max-pending-per-client", 0, 0, G_OPTION_ARG_INT, &max_pending, "Connections per client address still in TLS handshake or first request head (default 8)", "N" },
    { "header-timeout", 0, 0, G_OPTION_ARG_INT, &header_timeout, "Seconds a new connection has for its TLS handshake and first request head (default 10)", "S" },
    { "db-writers", 0, 0, G_OPTION_ARG_INT, &db_writers, "Writer threads, each with its own database connection (default on PostgreSQL: 1 on this host, 2 on another; SQLite: 1 only, it has one write lock)", "N" },
    { "http-threads", 0, 0, G_OPTION_ARG_INT, &http_threads, "HTTPS loops, each a thread with its own share of the connections (default: one per two cores, 1-4, on Linux; 1 elsewhere)", "N" },
#ifdef ESA_ENABLE_TEST_HOOKS
    /* servers that misbehave on purpose, for the agent's tests: not in an
     * installed build (configure --enable-test-hooks) */
    { "tls-max-version", 0, 0, G_OPTION_ARG_STRING, &tls_max, "FOR TESTS ONLY: highest TLS version offered (1.0-1.3)", "V" },
    { "uak-bad-signature", 0, 0, G_OPTION_ARG_NONE, &uak_bad_sig, "FOR TESTS ONLY: issue UAKs whose signature does not verify", NULL },
    { "uak-older", 0, 0, G_OPTION_ARG_NONE, &uak_older, "FOR TESTS ONLY: issue UAKs expiring before the current one", NULL },
#endif
    { NULL },
  };
  g_autoptr (GPtrArray) listen_arr = NULL;
  g_autoptr (GPtrArray) http_arr = NULL;
  g_autoptr (GPtrArray) public_arr = NULL;
  g_autoptr (SdcServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  SdcServerOptions opts = { 0 };
  guint sig_term, sig_int;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error);
  if (dir == NULL || argc != 1)
    {
      g_printerr ("esa-sdc serve: --dir DIR is required (and takes no other arguments)\n");
      return 2;
    }
  if (uak_days < 1 || uak_days > 3650)
    {
      g_printerr ("esa-sdc serve: --uak-days %d: expected 1-3650\n", uak_days);
      return 2;
    }
  if (login_failures < 1 || login_failures > 1000000 || login_window < 1 || login_window > 86400)
    {
      g_printerr ("esa-sdc serve: --login-failures expects 1-1000000, --login-window 1-86400\n");
      return 2;
    }
  if (max_pending < 1 || max_pending > 100000 || header_timeout < 1 || header_timeout > 3600)
    {
      g_printerr ("esa-sdc serve: --max-pending-per-client expects 1-100000, --header-timeout 1-3600\n");
      return 2;
    }
  if (db_writers < 0 || db_writers > 64)
    {
      g_printerr ("esa-sdc serve: --db-writers %d: expected 1-64\n", db_writers);
      return 2;
    }
  if (http_threads != -1 && (http_threads < 1 || http_threads > (int) sdc_server_max_http_threads ()))
    {
      g_printerr ("esa-sdc serve: --http-threads %d: expected 1-%u%s\n", http_threads, sdc_server_max_http_threads (),
                  sdc_server_max_http_threads () == 1 ? " (more needs Linux's SO_REUSEPORT)" : "");
      return 2;
    }
  opts.http_threads = http_threads > 0 ? (guint) http_threads : 0;
  opts.db_writers = (guint) db_writers;
  opts.max_pending_per_client = (guint) max_pending;
  opts.header_timeout = (guint) header_timeout;
  opts.login_failures = (guint) login_failures;
  opts.login_window = (guint) login_window;
  opts.dir = dir;
  opts.db = db;
  opts.max_body = 1024 * 1024;
  opts.max_attachment = 256 * 1024 * 1024;
  if ((max_body != NULL && !parse_size (max_body, &opts.max_body, &error)) ||
      (max_attachment != NULL && !parse_size (max_attachment, &opts.max_attachment, &error)))
    return fail (error);
  /* FOR TESTS ONLY; may re-execute this program with a GnuTLS override */
  if (!sdc_tls_legacy_apply (dir, tls_max, sdc_argv, &error))
    return fail (error);
  if (tls_max != NULL)
    g_printerr ("esa-sdc: WARNING: offering TLS up to %s only (tests only)\n", tls_max);

  listen_arr = strv_to_array (listen);
  http_arr = strv_to_array (http_listen);
  public_arr = strv_to_array (public_urls);
  opts.listen = listen_arr;
  opts.http_listen = http_arr;
  opts.public_urls = public_arr;
  opts.uak_days = (guint) uak_days;
  opts.uak_flags = (uak_bad_sig ? SDC_UAK_FLAG_BAD_SIGNATURE : 0) | (uak_older ? SDC_UAK_FLAG_OLDER : 0);
  opts.heartbeat = heartbeat != NULL ? heartbeat : (char *) "daily 02:15";

  server = sdc_server_new (&opts, &error);
  if (server == NULL)
    return fail (error);
  loop = g_main_loop_new (NULL, FALSE);
  sig_term = g_unix_signal_add (SIGTERM, quit_cb, loop);
  sig_int = g_unix_signal_add (SIGINT, quit_cb, loop);
  if (!sdc_server_start (server, &error))
    return fail (error);
  g_main_loop_run (loop);
  g_source_remove (sig_term);
  g_source_remove (sig_int);
  g_printerr ("esa-sdc: stopping\n");
  return 0;
}

/* esa-sdc systems pending | approve REG-ID */
static int
cmd_registrations (const char *dir, const char *db, gboolean json, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  gboolean ok;
  if (g_str_equal (argv[0], "pending") && argc == 1)
    ok = sdc_registrations_list (dir, db, json, &error);
  else if (g_str_equal (argv[0], "approve") && argc == 2)
    ok = sdc_registrations_approve (dir, db, argv[1], &error);
  else
    {
      g_printerr ("esa-sdc systems: expected \"pending\" or \"approve REG-ID\", got \"%s\"\n", argv[0]);
      return 2;
    }
  return ok ? 0 : fail (error);
}

static int
cmd_list (int argc, char **argv, gboolean reports)
{
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  g_autofree char *system = NULL;
  gboolean json = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx =
      g_option_context_new (reports ? "- list received reports" : "- list registered systems");
  const GOptionEntry entries[] = {
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "SDC directory", "DIR" },
    { "db", 0, 0, G_OPTION_ARG_STRING, &db, "Database (postgresql://...) instead of DIR/sdc.db", "URL" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output for scripts", NULL },
    { "system", 0, reports ? 0 : G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &system, "Only this system's reports", "ID" },
    { NULL },
  };
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error);
  if (dir == NULL && db == NULL)
    {
      g_printerr ("esa-sdc %s: --dir DIR or --db URL is required\n", reports ? "reports" : "systems");
      return 2;
    }
  if (!reports && argc > 1)
    return cmd_registrations (dir, db, json, argc - 1, argv + 1);
  if (argc != 1)
    {
      g_printerr ("esa-sdc %s: unexpected \"%s\"\n", reports ? "reports" : "systems", argv[1]);
      return 2;
    }
  if (!(reports ? sdc_list_reports (dir, db, system, json, &error) : sdc_list_systems (dir, db, json, &error)))
    return fail (error);
  return 0;
}

/* Opening a store applies its missing migrations; this command does only that, so an
 * operator can upgrade the schema before starting new instances. */
static int
cmd_migrate (int argc, char **argv)
{
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  g_autofree char *location = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- bring the database schema up to date");
  const GOptionEntry entries[] = {
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "SDC directory (DIR/sdc.db)", "DIR" },
    { "db", 0, 0, G_OPTION_ARG_STRING, &db, "Database (postgresql://...)", "URL" },
    { NULL },
  };
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error);
  if ((dir == NULL && db == NULL) || argc != 1)
    {
      g_printerr ("esa-sdc migrate: --dir DIR or --db URL is required\n");
      return 2;
    }
  location = sdc_server_db_location (dir, db);
  store = sdc_store_open (location, &error);
  if (store == NULL)
    return fail (error);
  printf ("schema version %d (%s)\n", sdc_store_schema_version (store), sdc_store_engine_name (store));
  return 0;
}

/* A consistent copy of DIR/sdc.db, taken while `serve` writes (copying the file alone
 * would miss what is still in its WAL, up to about 40 MB of recent reports). */
static int
cmd_backup (int argc, char **argv)
{
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE - copy DIR/sdc.db to FILE while it is in use");
  const GOptionEntry entries[] = {
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "SDC directory (DIR/sdc.db)", "DIR" },
    { "db", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &db, "Refused: PostgreSQL has pg_dump", "URL" },
    { NULL },
  };
  guint reports = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error);
  if (db != NULL)
    {
      g_printerr ("esa-sdc backup: --db: back up a PostgreSQL database with pg_dump (docs/sdc.md)\n");
      return 2;
    }
  if (dir == NULL || argc != 2)
    {
      g_printerr ("esa-sdc backup: expected --dir DIR FILE\n");
      return 2;
    }
  path = g_build_filename (dir, "sdc.db", NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("esa-sdc backup: %s: no such database\n", path);
      return 1;
    }
  if (!sdc_store_sqlite_backup (path, argv[1], &reports, &error))
    return fail (error);
  printf ("%s: copy of %s, %u reports\n", argv[1], path, reports);
  return 0;
}

/* The web view's administrator password, read from the first line of stdin (so it never
 * shows in `ps`), hashed into DIR/admin-password. */
static int
cmd_admin_password (int argc, char **argv)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- set the web view's administrator password (from stdin)");
  const GOptionEntry entries[] = {
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "SDC directory", "DIR" },
    { NULL },
  };
  char line[1024];
  gsize len;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error);
  if (dir == NULL || argc != 1)
    {
      g_printerr ("esa-sdc admin-password: --dir DIR is required (the password comes from stdin)\n");
      return 2;
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_printerr ("esa-sdc admin-password: %s: no such directory (run `esa-sdc init` first)\n", dir);
      return 1;
    }
  if (isatty (STDIN_FILENO))
    fputs ("New administrator password (echoed): ", stderr);
  if (fgets (line, sizeof line, stdin) == NULL)
    {
      g_printerr ("esa-sdc admin-password: no password on standard input\n");
      return 1;
    }
  len = strlen (line);
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';
  if (!g_utf8_validate (line, -1, NULL))
    {
      g_printerr ("esa-sdc admin-password: the password is not UTF-8\n");
      return 1;
    }
  if (!sdc_ui_set_admin_password (dir, line, &error))
    {
      memset (line, 0, sizeof line);
      return fail (error);
    }
  memset (line, 0, sizeof line);
  printf ("administrator password set (%s/admin-password)\n", dir);
  return 0;
}

int
main (int argc, char **argv)
{
  g_auto (GStrv) argv_copy = g_strdupv (argv);
  const char *cmd;

  setlocale (LC_ALL, "");
  sdc_argv = argv_copy;
  if (argc < 2 || g_strcmp0 (argv[1], "--help") == 0 || g_strcmp0 (argv[1], "-h") == 0)
    {
      fputs (USAGE, argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (g_strcmp0 (argv[1], "--version") == 0)
    {
      g_autofree char *allocator = sdc_allocator_describe ();
      printf ("esa-sdc %s\nallocator: %s\n", ESA_VERSION, allocator);
      return 0;
    }
  cmd = argv[1];
  /* each command parses its own options: argv[1] becomes its argv[0] */
  if (g_strcmp0 (cmd, "init") == 0)
    return cmd_init (argc - 1, argv + 1);
  if (g_strcmp0 (cmd, "serve") == 0)
    return cmd_serve (argc - 1, argv + 1);
  if (g_strcmp0 (cmd, "systems") == 0)
    return cmd_list (argc - 1, argv + 1, FALSE);
  if (g_strcmp0 (cmd, "reports") == 0)
    return cmd_list (argc - 1, argv + 1, TRUE);
  if (g_strcmp0 (cmd, "migrate") == 0)
    return cmd_migrate (argc - 1, argv + 1);
  if (g_strcmp0 (cmd, "backup") == 0)
    return cmd_backup (argc - 1, argv + 1);
  if (g_strcmp0 (cmd, "admin-password") == 0)
    return cmd_admin_password (argc - 1, argv + 1);
  g_printerr ("esa-sdc: unknown command \"%s\"\n%s", cmd, USAGE);
  return 2;
}
