/* sdc-store-sqlite.c: the "sqlite" engine of SdcStore, the embedded default.
 *
 * One file, DIR/sdc.db, in WAL mode so `esa-sdc reports` can read while `serve` writes.
 * Every statement is compiled once per connection and kept (a report's INSERT compiled
 * anew each time cost more CPU than running it). The schema version lives in PRAGMA user_version and every start applies the missing
 * migrations in order, each in its own transaction, so an old database is upgraded in
 * place and a half-applied step never sticks. */
#include "config.h"

#include "sdc-store.h"
#include "sdc-error.h"
#include "sdc-fsync.h"
#include "sdc-sqlite-checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* How long a connection waits for another's lock before giving up. */
#define SDC_SQLITE_BUSY_MS 10000

#define SDC_TYPE_STORE_SQLITE (sdc_store_sqlite_get_type ())
G_DECLARE_FINAL_TYPE (SdcStoreSqlite, sdc_store_sqlite, SDC, STORE_SQLITE, GObject)

struct _SdcStoreSqlite {
  GObject parent;
  sqlite3 *db;
  char *path;
  GHashTable *stmts; /* SQL text -> its compiled statement, kept for the connection */
  /* copies the WAL into the file once it holds SDC_SQLITE_CHECKPOINT_PAGES, on its own
   * thread (sdc-sqlite-checkpoint.c) */
  SdcSqliteCheckpointer *checkpointer;
};

static void sdc_store_sqlite_iface_init (SdcStoreInterface *iface);
G_DEFINE_TYPE_WITH_CODE (SdcStoreSqlite, sdc_store_sqlite, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (SDC_TYPE_STORE, sdc_store_sqlite_iface_init))

/* the functions below were written against the old struct name */
typedef SdcStoreSqlite Sqlite;

/* A statement from db_prepare(): it belongs to the connection's cache, so leaving the
 * scope resets it (and drops its bindings) for the next use instead of freeing it. */
typedef sqlite3_stmt *SdcStmt;
static void
stmt_release (sqlite3_stmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (SdcStmt, stmt_release, NULL)

static void
stmt_finalize (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

/* Index i holds the step from version i to i + 1. */
static const char *const migrations[] = {
  /* 0 -> 1: the base schema */
  "CREATE TABLE systems ("
  "  system_id TEXT PRIMARY KEY,"
  "  pw_hash TEXT NOT NULL, pw_salt TEXT NOT NULL, pw_iterations INTEGER NOT NULL,"
  "  platform_id TEXT, vendor TEXT NOT NULL, machine_type TEXT NOT NULL, model TEXT, serial TEXT NOT NULL,"
  "  hostname TEXT NOT NULL, os TEXT, os_version TEXT, is_lpar INTEGER NOT NULL DEFAULT 0,"
  "  contact TEXT, registered TEXT NOT NULL, last_seen TEXT,"
  "  UNIQUE (machine_type, serial));"
  "CREATE TABLE reports ("
  "  uuid TEXT PRIMARY KEY, system_id TEXT NOT NULL REFERENCES systems(system_id),"
  "  kind TEXT NOT NULL, plugin TEXT, created TEXT, received TEXT NOT NULL, parent TEXT,"
  "  body TEXT NOT NULL, answer TEXT NOT NULL, answer_status INTEGER NOT NULL DEFAULT 200);"
  "CREATE TABLE attachments ("
  "  report_uuid TEXT NOT NULL REFERENCES reports(uuid), name TEXT NOT NULL,"
  "  size INTEGER NOT NULL, sha256 TEXT, content_type TEXT,"
  "  path TEXT, received_sha256 TEXT, received TEXT,"
  "  PRIMARY KEY (report_uuid, name));"
  "CREATE TABLE service_requests ("
  "  number INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  report_uuid TEXT NOT NULL UNIQUE REFERENCES reports(uuid) DEFERRABLE INITIALLY DEFERRED,"
  "  system_id TEXT NOT NULL, created TEXT NOT NULL);",
  /* 1 -> 2: listing a system's reports by time is the common query */
  "CREATE INDEX reports_by_system ON reports (system_id, received);",
  /* 2 -> 3: values every instance shares (the UAK signing key) */
  "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
  /* 3 -> 4: a system is a machine *and a partition* of it (every LPAR of a frame is
   * its own system); deactivation; registrations waiting for the admin. SQLite cannot
   * drop a UNIQUE constraint: the table is rebuilt (foreign keys are off while
   * migrating, see sdc_store_sqlite_open) and every row keeps its system id. */
  "CREATE TABLE systems_v4 ("
  "  system_id TEXT PRIMARY KEY,"
  "  pw_hash TEXT NOT NULL, pw_salt TEXT NOT NULL, pw_iterations INTEGER NOT NULL,"
  "  platform_id TEXT, vendor TEXT NOT NULL, machine_type TEXT NOT NULL, model TEXT, serial TEXT NOT NULL,"
  "  hostname TEXT NOT NULL, os TEXT, os_version TEXT, is_lpar INTEGER NOT NULL DEFAULT 0,"
  "  contact TEXT, registered TEXT NOT NULL, last_seen TEXT,"
  "  lpar_id INTEGER, lpar_name TEXT, os_uuid TEXT, partition TEXT NOT NULL DEFAULT '',"
  "  deactivated TEXT,"
  "  UNIQUE (machine_type, serial, partition));"
  "INSERT INTO systems_v4 (system_id, pw_hash, pw_salt, pw_iterations, platform_id, vendor,"
  "  machine_type, model, serial, hostname, os, os_version, is_lpar, contact, registered, last_seen)"
  "  SELECT system_id, pw_hash, pw_salt, pw_iterations, platform_id, vendor, machine_type, model,"
  "  serial, hostname, os, os_version, is_lpar, contact, registered, last_seen FROM systems;"
  "DROP TABLE systems;"
  "ALTER TABLE systems_v4 RENAME TO systems;"
  "CREATE TABLE registrations ("
  "  registration TEXT PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
  "  system_id TEXT NOT NULL REFERENCES systems(system_id), hostname TEXT,"
  "  requested TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', decided TEXT);",
  /* 4 -> 5: nothing here (PostgreSQL's step checks reports.system_id in its insert
   * statements instead of a foreign key; SQLite's check is one index lookup in the
   * same step, cheap enough to keep). The versions stay the same on both engines. */
  "",
  /* 5 -> 6: a system's reports by kind, then time: the web view's systems page counts
   * each listed system's reports per kind and takes its last heartbeat from this index
   * alone (a covering index: no table row read; 2.8x faster on a page of busy systems,
   * docs/performance.md), and a system's reports of one kind, newest first, are one
   * range of it. It replaces (system_id, received): still one index per report. */
  "CREATE INDEX reports_by_system_kind ON reports (system_id, kind, received);"
  "DROP INDEX reports_by_system;",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == SDC_STORE_SCHEMA_VERSION);

static gboolean
db_error (Sqlite *store, const char *what, GError **error)
{
  g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: %s: %s", store->path, what,
               sqlite3_errmsg (store->db));
  return FALSE;
}

static gboolean
db_exec (Sqlite *store, const char *sql, GError **error)
{
  char *msg = NULL;
  if (sqlite3_exec (store->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: %s", store->path,
                   msg ? msg : sqlite3_errmsg (store->db));
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

/* db_exec for a statement that may meet SQLITE_BUSY without SQLite's busy handler
 * being asked: switching a new file to WAL needs it alone, and two connections doing so
 * at once (two `serve` started together, or the CLI beside a starting server) would
 * wait for each other, so SQLite fails one at once. Tried again for up to the busy
 * timeout. */
static gboolean
db_exec_retry_busy (Sqlite *store, const char *sql, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + SDC_SQLITE_BUSY_MS * G_TIME_SPAN_MILLISECOND;
  int rc;
  while ((rc = sqlite3_exec (store->db, sql, NULL, NULL, NULL)) == SQLITE_BUSY &&
         g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  if (rc != SQLITE_OK)
    return db_error (store, sql, error);
  return TRUE;
}

/* The connection's compiled statement for @sql (hold it in a g_auto (SdcStmt)); SQLite
 * compiles it again by itself should the schema change. */
static sqlite3_stmt *
db_prepare (Sqlite *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (store->stmts, sql);
  if (stmt != NULL)
    {
      /* a caller still stepping it would have its rows pulled from under it */
      if (sqlite3_stmt_busy (stmt))
        {
          g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: statement already in use: %s", store->path, sql);
          return NULL;
        }
      return stmt;
    }
  if (sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      db_error (store, "prepare", error);
      return NULL;
    }
  g_hash_table_insert (store->stmts, g_strdup (sql), stmt);
  return stmt;
}

static void
bind_text (sqlite3_stmt *stmt, int idx, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, idx);
  else
    sqlite3_bind_text (stmt, idx, text, -1, SQLITE_TRANSIENT);
}

/* For the hot insert only: SQLite uses @text in place rather than copying it, so it
 * must outlive the statement's step (the caller's row does). */
static void
bind_text_static (sqlite3_stmt *stmt, int idx, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, idx);
  else
    sqlite3_bind_text (stmt, idx, text, -1, SQLITE_STATIC);
}

static char *
col_text (sqlite3_stmt *stmt, int idx)
{
  const unsigned char *t = sqlite3_column_text (stmt, idx);
  return t ? g_strdup ((const char *) t) : NULL;
}

static gboolean
db_step_done (Sqlite *store, sqlite3_stmt *stmt, GError **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (store, "step", error);
  return TRUE;
}

/* Binds one text argument from @ap (NULL allowed) per "?" of @stmt: exactly one per "?",
 * since values may be NULL there is no terminator. */
static void
bind_texts (sqlite3_stmt *stmt, va_list ap)
{
  for (int i = 1; i <= sqlite3_bind_parameter_count (stmt); i++)
    bind_text (stmt, i, va_arg (ap, const char *));
}

/* Looks up one row by key: runs @sql with one text argument (NULL allowed) per "?" and
 * leaves *row on the first row it returns, for the caller to copy its columns and reset
 * (g_auto (SdcStmt)); *row NULL when there is none. FALSE with an error naming @what. */
static gboolean
select_row (Sqlite *store, const char *sql, const char *what, sqlite3_stmt **row, GError **error, ...)
{
  g_auto (SdcStmt) stmt = db_prepare (store, sql, error);
  va_list ap;
  int rc;
  *row = NULL;
  if (stmt == NULL)
    return FALSE;
  va_start (ap, error);
  bind_texts (stmt, ap);
  va_end (ap);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return db_error (store, what, error);
  *row = g_steal_pointer (&stmt);
  return TRUE;
}

static int
user_version (Sqlite *store)
{
  g_auto (SdcStmt) stmt = db_prepare (store, "PRAGMA user_version", NULL);
  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    return -1;
  return sqlite3_column_int (stmt, 0);
}

static gboolean
migrate (Sqlite *store, GError **error)
{
  int version = user_version (store);
  if (version < 0)
    return db_error (store, "reading user_version", error);
  if (version > SDC_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL,
                   "%s: schema version %d is newer than this esa-sdc understands (%d)",
                   store->path, version, SDC_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  for (int v = version; v < SDC_STORE_SCHEMA_VERSION; v++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d;", v + 1);
      g_autoptr (GError) local = NULL;
      int now;
      if (!db_exec (store, "BEGIN IMMEDIATE;", error))
        return FALSE;
      /* another connection (a second serve starting at the same moment, or the CLI) may
       * have taken this step while this one waited for the write lock: the version is
       * read again under it, and the steps already taken are not run twice */
      now = user_version (store);
      if (now != v)
        {
          db_exec (store, "ROLLBACK;", NULL);
          if (now < v || now > SDC_STORE_SCHEMA_VERSION)
            {
              g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL,
                           "%s: schema version changed to %d while migrating from %d (this esa-sdc knows %d)",
                           store->path, now, v, SDC_STORE_SCHEMA_VERSION);
              return FALSE;
            }
          v = now - 1;
          continue;
        }
      if (!db_exec (store, migrations[v], &local) || !db_exec (store, bump, &local) ||
          !db_exec (store, "COMMIT;", &local))
        {
          db_exec (store, "ROLLBACK;", NULL);
          g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                      "migrating schema %d -> %d: ", v, v + 1);
          return FALSE;
        }
    }
  return TRUE;
}

static int
sqlite_schema_version (SdcStore *self)
{
  return user_version (SDC_STORE_SQLITE (self));
}

static const char *
sqlite_engine_name (SdcStore *self)
{
  return "sqlite";
}

/* One statement (the transaction and savepoint commands of sdc-store.c), compiled once. */
static gboolean
sqlite_exec (SdcStore *self, const char *sql, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = NULL;
  /* ROLLBACK outside a transaction is not an error worth reporting */
  if (g_str_equal (sql, "ROLLBACK") && sqlite3_get_autocommit (store->db))
    return TRUE;
  stmt = db_prepare (store, sql, error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (store, sql, error);
  return TRUE;
}

static gboolean
sqlite_begin (SdcStore *self, GError **error)
{
  /* IMMEDIATE: take the write lock now, not at the first write, so two writers wait
   * for each other (busy timeout) instead of one failing with SQLITE_BUSY mid-way */
  return sqlite_exec (self, "BEGIN IMMEDIATE", error);
}

SdcStore *
sdc_store_sqlite_open (const char *path, GError **error)
{
  g_autoptr (SdcStoreSqlite) store = g_object_new (SDC_TYPE_STORE_SQLITE, NULL);
  store->path = g_strdup (path);
  store->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, stmt_finalize);
  if (sqlite3_open_v2 (path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK)
    {
      db_error (store, "open", error);
      return NULL;
    }
  /* the server's connections and the CLI may touch the file at the same time */
  sqlite3_busy_timeout (store->db, SDC_SQLITE_BUSY_MS);
  /* migrations first, with foreign keys still off: a step that rebuilds a table
   * (SQLite's documented way to change a constraint) drops the referenced original */
  if (!db_exec_retry_busy (store, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", error) ||
      !migrate (store, error) || !db_exec (store, "PRAGMA foreign_keys = ON;", error))
    return NULL;
  store->checkpointer = sdc_sqlite_checkpointer_attach (store->db, path);
  return SDC_STORE (g_steal_pointer (&store));
}

/* A consistent copy of the database at PATH in DEST, taken while `serve` writes: one read
 * transaction (a snapshot, WAL included) copied with SQLite's backup API into DEST.part
 * (SQLite opens it with O_NOFOLLOW), synced, then linked as DEST, so a DEST that exists
 * is whole; DEST is never overwritten, not even one made while the copy ran. */
/* both refusals of an existing DEST: before the copy, and at its link */
#define BACKUP_EXISTS "already exists (a backup never overwrites a file)"

gboolean
sdc_store_sqlite_backup (const char *path, const char *dest, guint *reports, GError **error)
{
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  sqlite3 *src = NULL, *out = NULL;
  sqlite3_backup *b;
  sqlite3_stmt *count = NULL;
  gint64 deadline = g_get_monotonic_time () + SDC_SQLITE_BUSY_MS * G_TIME_SPAN_MILLISECOND;
  gboolean ok = FALSE;
  int rc;

  if (g_file_test (dest, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST, "%s: " BACKUP_EXISTS, dest);
      return FALSE;
    }
  if (sqlite3_open_v2 (path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: %s", path, sqlite3_errmsg (src));
      goto out;
    }
  sqlite3_busy_timeout (src, SDC_SQLITE_BUSY_MS);
  /* 0600 and ours alone: the copy holds every system's password hash (sdc.db itself is
   * guarded by DIR's 0700, a backup folder may be wider); an empty file is an empty
   * database to SQLite */
  g_unlink (part);
  {
    int fd = g_open (part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
      {
        int e = errno;
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: %s", part, g_strerror (e));
        goto out;
      }
    close (fd);
  }
  if (sqlite3_open_v2 (part, &out, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: %s", part, sqlite3_errmsg (out));
      goto out;
    }
  b = sqlite3_backup_init (out, "main", src, "main");
  if (b == NULL)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: %s", part, sqlite3_errmsg (out));
      goto out;
    }
  /* all pages in one step: one read transaction, so commits during it do not restart it */
  while ((rc = sqlite3_backup_step (b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
    {
      if (g_get_monotonic_time () > deadline)
        break;
      g_usleep (10 * 1000);
    }
  sqlite3_backup_finish (b);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: backup of %s: %s", part, path, sqlite3_errstr (rc));
      goto out;
    }
  if (sqlite3_prepare_v2 (out, "SELECT count(*) FROM reports", -1, &count, NULL) != SQLITE_OK ||
      sqlite3_step (count) != SQLITE_ROW)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: %s", part, sqlite3_errmsg (out));
      goto out;
    }
  *reports = (guint) sqlite3_column_int64 (count, 0);
  ok = TRUE;
out:
  sqlite3_finalize (count);
  /* the copy was committed with synchronous = FULL: on disk once closed */
  if (sqlite3_close (out) != SQLITE_OK && ok)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: close failed", part);
      ok = FALSE;
    }
  sqlite3_close (src);
  /* link, not rename: it fails rather than replace a DEST made meanwhile */
  if (ok && link (part, dest) != 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: %s", dest,
                   e == EEXIST ? BACKUP_EXISTS : g_strerror (e));
      ok = FALSE;
    }
  g_unlink (part);
  if (ok)
    sdc_fsync_parent_dir (dest);
  return ok;
}

void
sdc_store_sqlite_checkpoint_stats (SdcStore *self, SdcSqliteCheckpointStats *stats)
{
  sdc_sqlite_checkpointer_get_stats (SDC_STORE_SQLITE (self)->checkpointer, stats);
}

void
sdc_store_sqlite_checkpoint_wait (SdcStore *self, gboolean until_idle)
{
  SdcStoreSqlite *store = SDC_STORE_SQLITE (self);
  if (store->checkpointer != NULL)
    sdc_sqlite_checkpointer_wait (store->checkpointer, until_idle);
}

static void
sdc_store_sqlite_finalize (GObject *object)
{
  SdcStoreSqlite *store = SDC_STORE_SQLITE (object);
  /* the statements first: a connection with statements left does not close */
  g_clear_pointer (&store->stmts, g_hash_table_unref);
  if (store->checkpointer != NULL)
    sdc_sqlite_checkpointer_release (store->checkpointer, store->db);
  sqlite3_close (store->db);
  g_free (store->path);
  G_OBJECT_CLASS (sdc_store_sqlite_parent_class)->finalize (object);
}

static void
sdc_store_sqlite_class_init (SdcStoreSqliteClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sdc_store_sqlite_finalize;
}

static void
sdc_store_sqlite_init (SdcStoreSqlite *store)
{
}

static char *
sqlite_register_system (SdcStore *self, const SdcSystemInfo *info, const SdcPasswordHash *pw,
                        const char *now, const char *system_id, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = NULL;
  g_autofree char *id = g_strdup (system_id);

  if (id != NULL)
    stmt = db_prepare (store,
                       "UPDATE systems SET pw_hash = ?, pw_salt = ?, pw_iterations = ?, vendor = ?,"
                       " model = ?, hostname = ?, os = ?, os_version = ?, is_lpar = ?, contact = ?,"
                       " platform_id = ?, lpar_id = ?, lpar_name = ?, os_uuid = ?, deactivated = NULL"
                       " WHERE system_id = ?",
                       error);
  else
    {
      id = sdc_auth_new_system_id ();
      if (id == NULL)
        {
          g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INTERNAL, "random number generator failed");
          return NULL;
        }
      stmt = db_prepare (store,
                         "INSERT INTO systems (pw_hash, pw_salt, pw_iterations, vendor, model, hostname,"
                         " os, os_version, is_lpar, contact, platform_id, lpar_id, lpar_name, os_uuid,"
                         " system_id, machine_type, serial, partition, registered)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                         " ON CONFLICT (machine_type, serial, partition) DO NOTHING",
                         error);
      if (stmt != NULL)
        {
          bind_text (stmt, 16, info->machine_type);
          bind_text (stmt, 17, info->serial);
          bind_text (stmt, 18, info->partition != NULL ? info->partition : "");
          bind_text (stmt, 19, now);
        }
    }
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, pw->hash_hex);
  bind_text (stmt, 2, pw->salt_hex);
  sqlite3_bind_int (stmt, 3, (int) pw->iterations);
  bind_text (stmt, 4, info->vendor);
  bind_text (stmt, 5, info->model);
  bind_text (stmt, 6, info->hostname);
  bind_text (stmt, 7, info->os);
  bind_text (stmt, 8, info->os_version);
  sqlite3_bind_int (stmt, 9, info->is_lpar ? 1 : 0);
  bind_text (stmt, 10, info->contact_json);
  bind_text (stmt, 11, info->platform_id);
  if (info->lpar_id >= 0)
    sqlite3_bind_int64 (stmt, 12, info->lpar_id);
  else
    sqlite3_bind_null (stmt, 12);
  bind_text (stmt, 13, info->lpar_name);
  bind_text (stmt, 14, info->os_uuid);
  bind_text (stmt, 15, id);
  if (!db_step_done (store, stmt, error))
    return NULL;
  if (sqlite3_changes (store->db) == 0)
    {
      sdc_store_register_missed (system_id, error);
      return NULL;
    }
  return g_steal_pointer (&id);
}

static gboolean
sqlite_find_system (SdcStore *self, const char *machine_type, const char *serial, const char *partition,
                    char **system_id, gboolean *deactivated, GError **error)
{
  g_auto (SdcStmt) stmt = NULL;
  *system_id = NULL;
  *deactivated = FALSE;
  if (!select_row (SDC_STORE_SQLITE (self),
                   "SELECT system_id, deactivated IS NOT NULL FROM systems"
                   " WHERE machine_type = ? AND serial = ? AND partition = ?",
                   "looking up machine", &stmt, error, machine_type, serial, partition != NULL ? partition : ""))
    return FALSE;
  if (stmt == NULL)
    return TRUE;
  *system_id = col_text (stmt, 0);
  *deactivated = sqlite3_column_int (stmt, 1) != 0;
  return TRUE;
}

/* Runs @sql with one text argument per "?"; NOT_FOUND with @not_found when
 * it changed no row. */
static gboolean
sqlite_update (Sqlite *store, const char *sql, const char *not_found, GError **error, ...)
{
  g_auto (SdcStmt) stmt = db_prepare (store, sql, error);
  va_list ap;
  if (stmt == NULL)
    return FALSE;
  va_start (ap, error);
  bind_texts (stmt, ap);
  va_end (ap);
  if (!db_step_done (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_NOT_FOUND, not_found);
      return FALSE;
    }
  return TRUE;
}

static gboolean
sqlite_deactivate_system (SdcStore *self, const char *system_id, const char *now, GError **error)
{
  return sqlite_update (SDC_STORE_SQLITE (self),
                        "UPDATE systems SET deactivated = ? WHERE system_id = ? AND deactivated IS NULL",
                        "unknown or deactivated system id", error, now, system_id);
}

static gboolean
sqlite_set_contact (SdcStore *self, const char *system_id, const char *contact_json, GError **error)
{
  return sqlite_update (SDC_STORE_SQLITE (self), "UPDATE systems SET contact = ? WHERE system_id = ?",
                        "unknown system id", error, contact_json, system_id);
}

static gboolean
sqlite_get_registration (SdcStore *self, const char *uuid, char **registration, char **system_id,
                         char **state, GError **error)
{
  g_auto (SdcStmt) stmt = NULL;
  *registration = NULL;
  if (!select_row (SDC_STORE_SQLITE (self), "SELECT registration, system_id, state FROM registrations WHERE uuid = ?",
                   "looking up registration", &stmt, error, uuid))
    return FALSE;
  if (stmt == NULL)
    return TRUE;
  *registration = col_text (stmt, 0);
  *system_id = col_text (stmt, 1);
  *state = col_text (stmt, 2);
  return TRUE;
}

static gboolean
sqlite_add_registration (SdcStore *self, const char *registration, const char *uuid,
                         const char *system_id, const char *hostname, const char *now, GError **error)
{
  return sqlite_update (SDC_STORE_SQLITE (self),
                        "INSERT INTO registrations (registration, uuid, system_id, hostname, requested)"
                        " VALUES (?, ?, ?, ?, ?)",
                        "registration not stored", error, registration, uuid, system_id, hostname, now);
}

static gboolean
sqlite_set_registration_state (SdcStore *self, const char *registration, const char *from_state,
                               const char *to_state, const char *now, GError **error)
{
  g_autofree char *msg = g_strdup_printf ("no %s registration %s", from_state, registration);
  return sqlite_update (SDC_STORE_SQLITE (self),
                        "UPDATE registrations SET state = ?, decided = ? WHERE registration = ? AND state = ?",
                        msg, error, to_state, now, registration, from_state);
}

/* Runs @sql (one "?" for the system id) and leaves the statement on the
 * system's row; NULL with NOT_FOUND for an unknown id. */
static sqlite3_stmt *
select_system_row (Sqlite *store, const char *sql, const char *system_id, const char *what,
                   GError **error)
{
  sqlite3_stmt *stmt = NULL;
  if (!select_row (store, sql, what, &stmt, error, system_id))
    return NULL;
  if (stmt == NULL)
    g_set_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND, "unknown system id");
  return stmt;
}

static gboolean
sqlite_get_credentials (SdcStore *self, const char *system_id, char **salt_hex, char **hash_hex,
                           guint *iterations, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = select_system_row (
      store, "SELECT pw_salt, pw_hash, pw_iterations FROM systems WHERE system_id = ? AND deactivated IS NULL", system_id,
      "reading credentials", error);
  if (stmt == NULL)
    return FALSE;
  *salt_hex = col_text (stmt, 0);
  *hash_hex = col_text (stmt, 1);
  *iterations = (guint) sqlite3_column_int (stmt, 2);
  return TRUE;
}

static gboolean
sqlite_get_machine (SdcStore *self, const char *system_id, char **machine_type, char **serial,
                       GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = select_system_row (
      store, "SELECT machine_type, serial FROM systems WHERE system_id = ?", system_id,
      "reading system", error);
  if (stmt == NULL)
    return FALSE;
  *machine_type = col_text (stmt, 0);
  *serial = col_text (stmt, 1);
  return TRUE;
}

static gboolean
sqlite_touch_system (SdcStore *self, const char *system_id, const char *now, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  /* unchanged (the same second): the page of systems stays out of the commit's WAL */
  g_auto (SdcStmt) stmt =
      db_prepare (store, "UPDATE systems SET last_seen = ?1 WHERE system_id = ?2 AND last_seen IS NOT ?1", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, now);
  bind_text (stmt, 2, system_id);
  return db_step_done (store, stmt, error);
}

static gboolean
sqlite_lookup_report (SdcStore *self, const char *uuid, char **system_id, char **kind,
                         guint *status, char **answer_json, GError **error)
{
  g_auto (SdcStmt) stmt = NULL;
  *answer_json = NULL;
  if (!select_row (SDC_STORE_SQLITE (self), "SELECT system_id, kind, answer_status, answer FROM reports WHERE uuid = ?",
                   "looking up report", &stmt, error, uuid))
    return FALSE;
  if (stmt == NULL)
    return TRUE;
  *system_id = col_text (stmt, 0);
  *kind = col_text (stmt, 1);
  *status = (guint) sqlite3_column_int (stmt, 2);
  *answer_json = col_text (stmt, 3);
  return TRUE;
}

static gboolean
sqlite_insert_report (SdcStore *self, const SdcReportRow *row, GPtrArray *attachments,
                      guint status, const char *answer_json, gboolean *inserted, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = NULL;
  *inserted = FALSE;
  stmt = db_prepare (store,
                     "INSERT INTO reports (uuid, system_id, kind, plugin, created, received, parent,"
                     " body, answer, answer_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                     " ON CONFLICT (uuid) DO NOTHING",
                     error);
  if (stmt == NULL)
    return FALSE;
  bind_text_static (stmt, 1, row->uuid);
  bind_text_static (stmt, 2, row->system_id);
  bind_text_static (stmt, 3, row->kind);
  bind_text_static (stmt, 4, row->plugin);
  bind_text_static (stmt, 5, row->created);
  bind_text_static (stmt, 6, row->received);
  bind_text_static (stmt, 7, row->parent);
  bind_text_static (stmt, 8, row->body_json);
  bind_text_static (stmt, 9, answer_json != NULL ? answer_json : "");
  sqlite3_bind_int (stmt, 10, (int) status);
  if (!db_step_done (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    return TRUE;
  *inserted = TRUE;
  if (row->touch && !sqlite_touch_system (self, row->system_id, row->received, error))
    return FALSE;

  for (guint i = 0; attachments != NULL && i < attachments->len; i++)
    {
      SdcAttachmentDecl *a = g_ptr_array_index (attachments, i);
      g_auto (SdcStmt) ins = db_prepare (store,
                                              "INSERT INTO attachments (report_uuid, name, size, sha256,"
                                              " content_type) VALUES (?, ?, ?, ?, ?)",
                                              error);
      if (ins == NULL)
        return FALSE;
      bind_text (ins, 1, row->uuid);
      bind_text (ins, 2, a->name);
      sqlite3_bind_int64 (ins, 3, a->size);
      bind_text (ins, 4, a->sha256);
      bind_text (ins, 5, a->content_type);
      if (!db_step_done (store, ins, error))
        return FALSE;
    }
  return TRUE;
}

static char *
sqlite_new_service_request (SdcStore *self, const char *report_uuid, const char *system_id,
                               const char *now, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt =
      db_prepare (store, "INSERT INTO service_requests (report_uuid, system_id, created) VALUES (?, ?, ?)", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, report_uuid);
  bind_text (stmt, 2, system_id);
  bind_text (stmt, 3, now);
  if (!db_step_done (store, stmt, error))
    return NULL;
  return g_strdup_printf ("SR%08" G_GINT64_FORMAT, (gint64) sqlite3_last_insert_rowid (store->db) % 100000000);
}

static SdcAttachmentRow *
sqlite_get_attachment (SdcStore *self, const char *report_uuid, const char *name, GError **error)
{
  g_auto (SdcStmt) stmt = NULL;
  SdcAttachmentRow *a;
  if (!select_row (SDC_STORE_SQLITE (self),
                   "SELECT r.system_id, a.size, a.sha256, a.path, a.received_sha256"
                   " FROM attachments a JOIN reports r ON r.uuid = a.report_uuid"
                   " WHERE a.report_uuid = ? AND a.name = ?",
                   "looking up attachment", &stmt, error, report_uuid, name))
    return NULL;
  if (stmt == NULL)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND,
                   "report %s does not exist or does not list an attachment \"%s\"", report_uuid, name);
      return NULL;
    }
  a = g_new0 (SdcAttachmentRow, 1);
  a->report_uuid = g_strdup (report_uuid);
  a->name = g_strdup (name);
  a->system_id = col_text (stmt, 0);
  a->size = sqlite3_column_int64 (stmt, 1);
  a->sha256 = col_text (stmt, 2);
  a->path = col_text (stmt, 3);
  a->received_sha256 = col_text (stmt, 4);
  return a;
}

static gboolean
sqlite_set_attachment_received (SdcStore *self, const char *report_uuid, const char *name,
                                   gint64 size, const char *sha256, const char *path, const char *now,
                                   GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = db_prepare (store,
                                           "UPDATE attachments SET size = ?, received_sha256 = ?, path = ?,"
                                           " received = ? WHERE report_uuid = ? AND name = ?",
                                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, size);
  bind_text (stmt, 2, sha256);
  bind_text (stmt, 3, path);
  bind_text (stmt, 4, now);
  bind_text (stmt, 5, report_uuid);
  bind_text (stmt, 6, name);
  return db_step_done (store, stmt, error);
}

/* Turns every row of @stmt into an object keyed by column name; a column whose name
 * ends in "_json" is parsed and stored under the name without the suffix. */
static JsonArray *
rows_to_array (Sqlite *store, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (JsonArray) arr = json_array_new ();
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      JsonObject *obj = json_object_new ();
      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        {
          const char *name = sqlite3_column_name (stmt, i);
          int type = sqlite3_column_type (stmt, i);
          if (g_str_has_suffix (name, "_json"))
            {
              g_autofree char *key = g_strndup (name, strlen (name) - 5);
              g_autoptr (JsonParser) parser = json_parser_new ();
              const char *text = (const char *) sqlite3_column_text (stmt, i);
              if (text != NULL && json_parser_load_from_data (parser, text, -1, NULL))
                json_object_set_member (obj, key, json_node_copy (json_parser_get_root (parser)));
              else
                json_object_set_null_member (obj, key);
            }
          else if (type == SQLITE_INTEGER)
            json_object_set_int_member (obj, name, sqlite3_column_int64 (stmt, i));
          else if (type == SQLITE_NULL)
            json_object_set_null_member (obj, name);
          else
            json_object_set_string_member (obj, name, (const char *) sqlite3_column_text (stmt, i));
        }
      json_array_add_object_element (arr, obj);
    }
  if (rc != SQLITE_DONE)
    {
      db_error (store, "listing", error);
      return NULL;
    }
  return g_steal_pointer (&arr);
}

/* Each report object of @arr gets its "attachments" (an array, maybe empty). */
static gboolean
add_attachments (Sqlite *store, JsonArray *arr, GError **error)
{
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      g_auto (SdcStmt) att = db_prepare (store,
                                         "SELECT name, size, sha256, content_type, path,"
                                         " received_sha256, received FROM attachments"
                                         " WHERE report_uuid = ? ORDER BY name",
                                         error);
      JsonArray *list;
      if (att == NULL)
        return FALSE;
      bind_text (att, 1, json_object_get_string_member (o, "uuid"));
      list = rows_to_array (store, att, error);
      if (list == NULL)
        return FALSE;
      json_object_set_array_member (o, "attachments", list);
    }
  return TRUE;
}

static JsonArray *
sqlite_list_systems (SdcStore *self, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = NULL;
  g_autoptr (JsonArray) arr = NULL;
  stmt = db_prepare (store,
                     "SELECT system_id, platform_id, vendor, machine_type, model, serial, partition, lpar_id,"
                     " lpar_name, os_uuid, hostname, os, os_version,"
                     " is_lpar, contact AS contact_json, registered, last_seen, deactivated,"
                     " (SELECT COUNT(*) FROM reports r WHERE r.system_id = s.system_id) AS reports"
                     " FROM systems s ORDER BY registered, system_id",
                     error);
  if (stmt == NULL)
    return NULL;
  arr = rows_to_array (store, stmt, error);
  if (arr == NULL)
    return NULL;
  /* is_lpar is a boolean in the protocol; keep it one in the listing */
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      json_object_set_boolean_member (o, "is_lpar", json_object_get_int_member (o, "is_lpar") != 0);
    }
  return g_steal_pointer (&arr);
}

static JsonArray *
sqlite_list_reports (SdcStore *self, const char *system_id, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = NULL;
  g_autoptr (JsonArray) arr = NULL;
  stmt = db_prepare (store,
                     "SELECT r.uuid, r.kind, r.plugin, r.system_id, r.created, r.received, r.parent,"
                     " (SELECT 'SR' || printf('%08d', number) FROM service_requests sr"
                     "   WHERE sr.report_uuid = r.uuid) AS service_request,"
                     " r.body AS body_json, r.answer AS answer_json"
                     " FROM reports r WHERE (?1 IS NULL OR r.system_id = ?1)"
                     " ORDER BY r.received, r.rowid",
                     error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, system_id);
  arr = rows_to_array (store, stmt, error);
  if (arr == NULL || !add_attachments (store, arr, error))
    return NULL;
  return g_steal_pointer (&arr);
}

static JsonArray *
sqlite_list_registrations (SdcStore *self, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = db_prepare (store,
                                      "SELECT registration, system_id, hostname, requested, state, decided"
                                      " FROM registrations ORDER BY requested, registration",
                                      error);
  if (stmt == NULL)
    return NULL;
  return rows_to_array (store, stmt, error);
}

static gboolean
sqlite_set_report_answer (SdcStore *self, const char *uuid, guint status, const char *answer_json,
                          GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt =
      db_prepare (store, "UPDATE reports SET answer = ?, answer_status = ? WHERE uuid = ?", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, answer_json);
  sqlite3_bind_int (stmt, 2, (int) status);
  bind_text (stmt, 3, uuid);
  return db_step_done (store, stmt, error);
}

static char *
sqlite_get_setting (SdcStore *self, const char *name, const char *value_if_absent, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) ins = NULL;
  g_auto (SdcStmt) sel = NULL;
  if (value_if_absent != NULL)
    {
      ins = db_prepare (store, "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                        error);
      if (ins == NULL)
        return NULL;
      bind_text (ins, 1, name);
      bind_text (ins, 2, value_if_absent);
      if (!db_step_done (store, ins, error))
        return NULL;
    }
  if (!select_row (store, "SELECT value FROM settings WHERE name = ?", "reading setting", &sel, error, name))
    return NULL;
  if (sel == NULL)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND, "%s: no setting \"%s\"", store->path, name);
      return NULL;
    }
  return col_text (sel, 0);
}

/* The web view's systems page (sdc-ui.c; the same SQL as PostgreSQL's): the page is
 * picked from systems alone, then its reports are read once, grouped, for the counts
 * and the last heartbeat; the newest UAK per system is one index lookup. */
#define SDC_UI_SYSTEMS_SQL                                                                              \
  "SELECT s.system_id, s.machine_type, s.model, s.serial, s.hostname, s.is_lpar, s.lpar_id,"           \
  " s.lpar_name, s.os, s.os_version, s.registered, s.last_seen,"                                      \
  " MAX(CASE WHEN r.kind = 'heartbeat' THEN r.received END) AS last_heartbeat,"                       \
  " (SELECT u.answer FROM reports u WHERE u.system_id = s.system_id AND u.kind = 'uak'"               \
  "   ORDER BY u.received DESC LIMIT 1) AS uak_answer_json,"                                           \
  " COALESCE(SUM(CASE WHEN r.kind = 'problem' THEN 1 ELSE 0 END), 0) AS problems,"                     \
  " COALESCE(SUM(CASE WHEN r.kind = 'inventory' THEN 1 ELSE 0 END), 0) AS inventories,"                \
  " COALESCE(SUM(CASE WHEN r.kind = 'heartbeat' THEN 1 ELSE 0 END), 0) AS heartbeats"                  \
  " FROM (SELECT * FROM systems WHERE (?1 IS NULL OR system_id = ?1)"                                  \
  "   ORDER BY last_seen IS NULL, last_seen DESC, system_id LIMIT ?2 OFFSET ?3) s"                     \
  " LEFT JOIN reports r ON r.system_id = s.system_id"                                                  \
  " GROUP BY s.system_id, s.machine_type, s.model, s.serial, s.hostname, s.is_lpar, s.os, s.os_version," \
  " s.registered, s.last_seen"                                                                         \
  " ORDER BY s.last_seen IS NULL, s.last_seen DESC, s.system_id"

static gboolean
sqlite_count (Sqlite *store, const char *sql, const char *a, const char *b, guint *total, GError **error)
{
  g_auto (SdcStmt) stmt = db_prepare (store, sql, error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, a);
  bind_text (stmt, 2, b);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return db_error (store, "counting", error);
  *total = (guint) sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static JsonArray *
sqlite_ui_systems (SdcStore *self, const char *system_id, guint offset, guint limit, guint *total,
                   GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = NULL;
  if (!sqlite_count (store, "SELECT COUNT(*) FROM systems WHERE (?1 IS NULL OR system_id = ?1)", system_id, NULL,
                     total, error))
    return NULL;
  stmt = db_prepare (store, SDC_UI_SYSTEMS_SQL, error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, system_id);
  sqlite3_bind_int64 (stmt, 2, limit);
  sqlite3_bind_int64 (stmt, 3, offset);
  return rows_to_array (store, stmt, error);
}

static JsonArray *
sqlite_ui_reports (SdcStore *self, const char *system_id, const char *kind, guint offset, guint limit,
                   guint *total, GError **error)
{
  Sqlite *store = SDC_STORE_SQLITE (self);
  g_auto (SdcStmt) stmt = NULL;
  g_autoptr (JsonArray) arr = NULL;
  if (!sqlite_count (store, "SELECT COUNT(*) FROM reports WHERE system_id = ?1 AND kind = ?2", system_id, kind,
                     total, error))
    return NULL;
  stmt = db_prepare (store,
                     "SELECT r.uuid, r.kind, r.plugin, r.created, r.received, r.parent,"
                     " (SELECT 'SR' || printf('%08d', number) FROM service_requests sr"
                     "   WHERE sr.report_uuid = r.uuid) AS service_request,"
                     " r.body AS body_json"
                     " FROM reports r WHERE r.system_id = ?1 AND r.kind = ?2"
                     " ORDER BY r.received DESC, r.rowid DESC LIMIT ?3 OFFSET ?4",
                     error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, system_id);
  bind_text (stmt, 2, kind);
  sqlite3_bind_int64 (stmt, 3, limit);
  sqlite3_bind_int64 (stmt, 4, offset);
  arr = rows_to_array (store, stmt, error);
  if (arr == NULL || !add_attachments (store, arr, error))
    return NULL;
  return g_steal_pointer (&arr);
}

static void
sdc_store_sqlite_iface_init (SdcStoreInterface *iface)
{
  iface->engine_name = sqlite_engine_name;
  iface->schema_version = sqlite_schema_version;
  iface->exec = sqlite_exec;
  iface->begin = sqlite_begin;
  iface->register_system = sqlite_register_system;
  iface->get_credentials = sqlite_get_credentials;
  iface->get_machine = sqlite_get_machine;
  iface->touch_system = sqlite_touch_system;
  iface->lookup_report = sqlite_lookup_report;
  iface->insert_report = sqlite_insert_report;
  iface->set_report_answer = sqlite_set_report_answer;
  iface->new_service_request = sqlite_new_service_request;
  iface->get_attachment = sqlite_get_attachment;
  iface->set_attachment_received = sqlite_set_attachment_received;
  iface->get_setting = sqlite_get_setting;
  iface->list_systems = sqlite_list_systems;
  iface->list_reports = sqlite_list_reports;
  iface->find_system = sqlite_find_system;
  iface->deactivate_system = sqlite_deactivate_system;
  iface->set_contact = sqlite_set_contact;
  iface->get_registration = sqlite_get_registration;
  iface->add_registration = sqlite_add_registration;
  iface->set_registration_state = sqlite_set_registration_state;
  iface->list_registrations = sqlite_list_registrations;
  iface->ui_systems = sqlite_ui_systems;
  iface->ui_reports = sqlite_ui_reports;
}
