/* sdc-store-pg.c: the "postgresql" engine of SdcStore, through libpq.
 *
 * For a fleet: several esa-sdc instances share one database and behave as one SDC.
 * What makes that hold is in the SQL, not in any one process: a report's uuid is its
 * primary key and is written with INSERT … ON CONFLICT DO NOTHING (a concurrent duplicate
 * from another instance waits for the first transaction, then inserts nothing and reads
 * the first answer); a new system is one INSERT … ON CONFLICT DO NOTHING on UNIQUE
 * (machine_type, serial, partition), so two instances registering the same partition at
 * once end with one row and the second learns it lost; service request numbers come from an identity column. The schema version
 * lives in table sdc_schema; migrations run under an advisory lock so two instances
 * starting together apply each step once. */
#include "config.h"

#include "sdc-store.h"
#include "sdc-error.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#define SDC_TYPE_STORE_PG (sdc_store_pg_get_type ())
G_DECLARE_FINAL_TYPE (SdcStorePg, sdc_store_pg, SDC, STORE_PG, GObject)

struct _SdcStorePg {
  GObject parent;
  PGconn *conn;
  GHashTable *prepared; /* SQL text -> name of its prepared statement on this connection */
};

static void sdc_store_pg_iface_init (SdcStoreInterface *iface);
G_DEFINE_TYPE_WITH_CODE (SdcStorePg, sdc_store_pg, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (SDC_TYPE_STORE, sdc_store_pg_iface_init))

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)

/* any number; the same in every instance */
#define SDC_PG_MIGRATION_LOCK 0x45534153

/* Index i holds the step from version i to i + 1 (the same versions as SQLite's). */
static const char *const migrations[] = {
  "CREATE TABLE systems ("
  "  system_id TEXT PRIMARY KEY,"
  "  pw_hash TEXT NOT NULL, pw_salt TEXT NOT NULL, pw_iterations INTEGER NOT NULL,"
  "  platform_id TEXT, vendor TEXT NOT NULL, machine_type TEXT NOT NULL, model TEXT, serial TEXT NOT NULL,"
  "  hostname TEXT NOT NULL, os TEXT, os_version TEXT, is_lpar BOOLEAN NOT NULL DEFAULT FALSE,"
  "  contact TEXT, registered TEXT NOT NULL, last_seen TEXT,"
  "  UNIQUE (machine_type, serial));"
  "CREATE TABLE reports ("
  "  seq BIGINT GENERATED ALWAYS AS IDENTITY,"
  "  uuid TEXT PRIMARY KEY, system_id TEXT NOT NULL REFERENCES systems(system_id),"
  "  kind TEXT NOT NULL, plugin TEXT, created TEXT, received TEXT NOT NULL, parent TEXT,"
  "  body TEXT NOT NULL, answer TEXT NOT NULL, answer_status INTEGER NOT NULL DEFAULT 200);"
  "CREATE TABLE attachments ("
  "  report_uuid TEXT NOT NULL REFERENCES reports(uuid), name TEXT NOT NULL,"
  "  size BIGINT NOT NULL, sha256 TEXT, content_type TEXT,"
  "  path TEXT, received_sha256 TEXT, received TEXT,"
  "  PRIMARY KEY (report_uuid, name));"
  "CREATE TABLE service_requests ("
  "  number BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  report_uuid TEXT NOT NULL UNIQUE REFERENCES reports(uuid),"
  "  system_id TEXT NOT NULL, created TEXT NOT NULL);",
  "CREATE INDEX reports_by_system ON reports (system_id, received);",
  "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
  /* 3 -> 4: a system is a machine and a partition of it; deactivation; registrations
   * waiting for the admin (the same step as SQLite's, without its table rebuild) */
  "ALTER TABLE systems ADD COLUMN lpar_id BIGINT, ADD COLUMN lpar_name TEXT, ADD COLUMN os_uuid TEXT,"
  "  ADD COLUMN partition TEXT NOT NULL DEFAULT '', ADD COLUMN deactivated TEXT;"
  "ALTER TABLE systems DROP CONSTRAINT systems_machine_type_serial_key;"
  "ALTER TABLE systems ADD CONSTRAINT systems_machine_partition_key UNIQUE (machine_type, serial, partition);"
  "CREATE TABLE registrations ("
  "  registration TEXT PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
  "  system_id TEXT NOT NULL REFERENCES systems(system_id), hostname TEXT,"
  "  requested TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', decided TEXT);",
  /* 4 -> 5: reports.system_id is checked by the statements that insert reports (each
   * looks the system up anyway: COALESCE with sdc_unknown_system, which raises), no
   * longer by a foreign key, whose trigger ran one SPI query per inserted row (executor
   * start and end, a row lock on the system and its WAL record): 15 % of the backend's
   * CPU per report (docs/performance.md). Systems are never deleted. And the report uuid,
   * the primary key every report's insert searches, in COLLATE "C": bytewise compares
   * instead of strcoll in the cluster's locale (the same equality; rebuilds reports_pkey) */
  "ALTER TABLE reports DROP CONSTRAINT IF EXISTS reports_system_id_fkey;"
  "ALTER TABLE reports ALTER COLUMN uuid TYPE TEXT COLLATE \"C\";"
  "CREATE OR REPLACE FUNCTION sdc_unknown_system (id TEXT) RETURNS TEXT LANGUAGE plpgsql AS"
  "  'BEGIN RAISE EXCEPTION ''unknown system id %'', id USING ERRCODE = ''foreign_key_violation''; END';",
  /* 5 -> 6: a system's reports by kind, then time (SQLite's step 6 says why) */
  "CREATE INDEX reports_by_system_kind ON reports (system_id, kind, received);"
  "DROP INDEX reports_by_system;",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == SDC_STORE_SCHEMA_VERSION);

static gboolean
pg_fail (SdcStorePg *store, const char *what, PGresult *res, GError **error)
{
  const char *msg = res != NULL ? PQresultErrorMessage (res) : PQerrorMessage (store->conn);
  const char *state = res != NULL ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  g_autofree char *one_line = g_strstrip (g_strdelimit (g_strdup (msg), "\n", ' '));
  /* deadlock_detected, serialization_failure: nothing wrong with the work, the writer
   * may run it again (sdc-writer.c); still an internal error to an agent */
  if (g_strcmp0 (state, "40P01") == 0 || g_strcmp0 (state, "40001") == 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, "PostgreSQL: %s: %s", what, one_line);
  else
    g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "PostgreSQL: %s: %s", what, one_line);
  return FALSE;
}

/* Runs @sql with text parameters; NULL (error set) unless the status is as expected. */
static PGresult *
pg_query (SdcStorePg *store, const char *what, const char *sql, int n, const char *const *params,
          GError **error)
{
  PGresult *res = PQexecParams (store->conn, sql, n, NULL, params, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus (res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    {
      pg_fail (store, what, res, error);
      PQclear (res);
      return NULL;
    }
  return res;
}

/* pg_query() for the statements every report runs: parsed and planned once per
 * connection (a prepared statement outlives the transactions it was used in), which
 * spares the server most of the CPU each of them cost. Only statements with explicit
 * column lists, so a later schema step cannot change what a prepared one returns.
 * @lengths and @formats as PQexecPrepared's (NULL: every parameter text). */
static PGresult *
pg_query_prepared_full (SdcStorePg *store, const char *what, const char *sql, int n, const char *const *params,
                        const int *lengths, const int *formats, GError **error)
{
  const char *name = g_hash_table_lookup (store->prepared, sql);
  PGresult *res;
  ExecStatusType st;
  if (name == NULL)
    {
      g_autofree char *new_name = g_strdup_printf ("sdc_%u", g_hash_table_size (store->prepared));
      g_autoptr (PGresult) prep = PQprepare (store->conn, new_name, sql, n, NULL);
      if (PQresultStatus (prep) != PGRES_COMMAND_OK)
        {
          pg_fail (store, what, prep, error);
          return NULL;
        }
      name = new_name;
      g_hash_table_insert (store->prepared, g_strdup (sql), g_steal_pointer (&new_name));
    }
  res = PQexecPrepared (store->conn, name, n, params, lengths, formats, 0);
  st = PQresultStatus (res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    {
      pg_fail (store, what, res, error);
      PQclear (res);
      return NULL;
    }
  return res;
}

static PGresult *
pg_query_prepared (SdcStorePg *store, const char *what, const char *sql, int n, const char *const *params,
                   GError **error)
{
  return pg_query_prepared_full (store, what, sql, n, params, NULL, NULL, error);
}

/* OID of type text (pg_type.h) */
#define PG_TEXTOID 25

static void
append_be32 (GByteArray *out, guint32 v)
{
  guint32 be = GUINT32_TO_BE (v);
  g_byte_array_append (out, (const guint8 *) &be, 4);
}

/* A one-dimensional text[] in PostgreSQL's binary array format (what array_recv
 * reads): no quoting or escaping on either side, whatever the report's JSON holds.
 * @values[i * stride] for i < @n, NULL elements allowed. */
static GByteArray *
pg_text_array (const char *const *values, guint n, guint stride)
{
  GByteArray *out = g_byte_array_sized_new (20 + 64 * n);
  gboolean has_null = FALSE;
  for (guint i = 0; i < n; i++)
    has_null = has_null || values[i * stride] == NULL;
  append_be32 (out, 1);          /* dimensions */
  append_be32 (out, has_null);   /* has NULLs */
  append_be32 (out, PG_TEXTOID); /* element type */
  append_be32 (out, n);          /* length */
  append_be32 (out, 1);          /* lower bound */
  for (guint i = 0; i < n; i++)
    {
      const char *v = values[i * stride];
      gsize len = v != NULL ? strlen (v) : 0;
      append_be32 (out, v != NULL ? (guint32) len : G_MAXUINT32); /* -1: NULL */
      if (v != NULL)
        g_byte_array_append (out, (const guint8 *) v, len);
    }
  return out;
}

/* Looks up one row by key: *row holds the result when @sql returned a row, NULL when it
 * returned none; FALSE with @error when it failed. */
static gboolean
pg_select_row (SdcStorePg *store, const char *what, const char *sql, int n, const char *const *params,
               PGresult **row, GError **error)
{
  g_autoptr (PGresult) res = pg_query (store, what, sql, n, params, error);
  *row = NULL;
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) > 0)
    *row = g_steal_pointer (&res);
  return TRUE;
}

static gboolean
pg_command (SdcStorePg *store, const char *what, const char *sql, int n, const char *const *params,
            GError **error)
{
  g_autoptr (PGresult) res = pg_query (store, what, sql, n, params, error);
  return res != NULL;
}

static char *
col_text (PGresult *res, int row, int col)
{
  return PQgetisnull (res, row, col) ? NULL : g_strdup (PQgetvalue (res, row, col));
}

static int
read_version (SdcStorePg *store, GError **error)
{
  g_autoptr (PGresult) res = pg_query (store, "reading schema version", "SELECT version FROM sdc_schema",
                                       0, NULL, error);
  if (res == NULL)
    return -1;
  return PQntuples (res) > 0 ? atoi (PQgetvalue (res, 0, 0)) : 0;
}

static gboolean
migrate (SdcStorePg *store, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *lock = g_strdup_printf ("SELECT pg_advisory_xact_lock(%d)", SDC_PG_MIGRATION_LOCK);
  int version;

  if (!pg_command (store, "BEGIN", "BEGIN", 0, NULL, error))
    return FALSE;
  if (!pg_command (store, "locking for migration", lock, 0, NULL, &local) ||
      !pg_command (store, "creating sdc_schema",
                   "CREATE TABLE IF NOT EXISTS sdc_schema (version INTEGER NOT NULL)", 0, NULL, &local) ||
      (version = read_version (store, &local)) < 0)
    {
      pg_command (store, "ROLLBACK", "ROLLBACK", 0, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (version > SDC_STORE_SCHEMA_VERSION)
    {
      pg_command (store, "ROLLBACK", "ROLLBACK", 0, NULL, NULL);
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL,
                   "PostgreSQL: schema version %d is newer than this esa-sdc understands (%d)",
                   version, SDC_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  for (int v = version; v < SDC_STORE_SCHEMA_VERSION && local == NULL; v++)
    {
      g_autofree char *bump = g_strdup_printf ("DELETE FROM sdc_schema; INSERT INTO sdc_schema VALUES (%d)", v + 1);
      /* PQexec: a step may hold several statements */
      g_autoptr (PGresult) res = PQexec (store->conn, migrations[v]);
      if (PQresultStatus (res) != PGRES_COMMAND_OK)
        {
          g_autofree char *what = g_strdup_printf ("migrating schema %d -> %d", v, v + 1);
          pg_fail (store, what, res, &local);
        }
      else
        {
          g_autoptr (PGresult) res2 = PQexec (store->conn, bump);
          if (PQresultStatus (res2) != PGRES_COMMAND_OK)
            pg_fail (store, "recording schema version", res2, &local);
        }
    }
  if (local != NULL || !pg_command (store, "COMMIT", "COMMIT", 0, NULL, &local))
    {
      pg_command (store, "ROLLBACK", "ROLLBACK", 0, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

static gboolean
host_is_local (const char *host)
{
  g_autoptr (GInetAddress) addr = NULL;
  if (host == NULL || host[0] == '\0' || host[0] == '/' || host[0] == '@' ||
      g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

gboolean
sdc_store_pg_is_local (const char *conninfo)
{
  PQconninfoOption *opts = PQconninfoParse (conninfo, NULL);
  const char *host = NULL;
  const char *hostaddr = NULL;
  gboolean local = TRUE;
  if (opts == NULL)
    return FALSE;
  for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
    if (g_str_equal (o->keyword, "host"))
      host = o->val;
    else if (g_str_equal (o->keyword, "hostaddr"))
      hostaddr = o->val;
  /* host and hostaddr may each list several, comma-separated: all must be here */
  for (guint k = 0; k < 2; k++)
    {
      const char *list = k == 0 ? host : hostaddr;
      g_auto (GStrv) parts = list != NULL ? g_strsplit (list, ",", -1) : NULL;
      for (guint i = 0; parts != NULL && parts[i] != NULL; i++)
        local = local && host_is_local (g_strstrip (parts[i]));
    }
  PQconninfoFree (opts);
  return local;
}

SdcStore *
sdc_store_pg_open (const char *conninfo, GError **error)
{
  g_autoptr (SdcStorePg) store = g_object_new (SDC_TYPE_STORE_PG, NULL);
  store->prepared = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  store->conn = PQconnectdb (conninfo);
  if (PQstatus (store->conn) != CONNECTION_OK)
    {
      pg_fail (store, "connecting", NULL, error);
      return NULL;
    }
  /* quiet NOTICEs (CREATE TABLE IF NOT EXISTS) and a fixed, unambiguous text format */
  if (!pg_command (store, "setting up the session", "SET client_min_messages = warning", 0, NULL, error) ||
      !migrate (store, error))
    return NULL;
  return SDC_STORE (g_steal_pointer (&store));
}

static void
sdc_store_pg_finalize (GObject *object)
{
  SdcStorePg *store = SDC_STORE_PG (object);
  if (store->conn != NULL)
    PQfinish (store->conn);
  g_clear_pointer (&store->prepared, g_hash_table_unref);
  G_OBJECT_CLASS (sdc_store_pg_parent_class)->finalize (object);
}

static void
sdc_store_pg_class_init (SdcStorePgClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sdc_store_pg_finalize;
}

static void
sdc_store_pg_init (SdcStorePg *store)
{
}

static const char *
pg_engine_name (SdcStore *self)
{
  return "postgresql";
}

static int
pg_schema_version (SdcStore *self)
{
  return read_version (SDC_STORE_PG (self), NULL);
}

static gboolean
pg_exec (SdcStore *self, const char *sql, GError **error)
{
  SdcStorePg *store = SDC_STORE_PG (self);
  g_autoptr (PGresult) res = PQexec (store->conn, sql);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    return pg_fail (store, sql, res, error);
  return TRUE;
}

static gboolean
pg_begin (SdcStore *self, GError **error)
{
  return pg_exec (self, "BEGIN", error);
}

static char *
pg_register_system (SdcStore *self, const SdcSystemInfo *info, const SdcPasswordHash *pw,
                    const char *now, const char *system_id, GError **error)
{
  SdcStorePg *store = SDC_STORE_PG (self);
  g_autofree char *new_id = system_id == NULL ? sdc_auth_new_system_id () : g_strdup (system_id);
  g_autofree char *iterations = g_strdup_printf ("%u", pw->iterations);
  g_autofree char *lpar_id = info->lpar_id >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, info->lpar_id) : NULL;
  g_autoptr (PGresult) res = NULL;
  const char *params[] = { new_id, pw->hash_hex, pw->salt_hex, iterations, info->platform_id,
                           info->vendor, info->machine_type, info->model, info->serial,
                           info->hostname, info->os, info->os_version, info->is_lpar ? "true" : "false",
                           info->contact_json, now, lpar_id, info->lpar_name, info->os_uuid,
                           info->partition != NULL ? info->partition : "" };
  if (new_id == NULL)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INTERNAL, "random number generator failed");
      return NULL;
    }
  if (system_id != NULL)
    {
      const char *up[] = { system_id, pw->hash_hex, pw->salt_hex, iterations, info->platform_id,
                           info->vendor, info->model, info->hostname, info->os, info->os_version,
                           info->is_lpar ? "true" : "false", info->contact_json, lpar_id,
                           info->lpar_name, info->os_uuid };
      res = pg_query (store, "re-registering system",
                      "UPDATE systems SET pw_hash = $2, pw_salt = $3, pw_iterations = $4, platform_id = $5,"
                      " vendor = $6, model = $7, hostname = $8, os = $9, os_version = $10, is_lpar = $11,"
                      " contact = $12, lpar_id = $13, lpar_name = $14, os_uuid = $15, deactivated = NULL"
                      " WHERE system_id = $1 RETURNING system_id",
                      G_N_ELEMENTS (up), up, error);
    }
  else
    res = pg_query (store, "registering system",
                    "INSERT INTO systems (system_id, pw_hash, pw_salt, pw_iterations, platform_id, vendor,"
                    " machine_type, model, serial, hostname, os, os_version, is_lpar, contact, registered,"
                    " lpar_id, lpar_name, os_uuid, partition)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
                    " ON CONFLICT (machine_type, serial, partition) DO NOTHING RETURNING system_id",
                    G_N_ELEMENTS (params), params, error);
  if (res == NULL)
    return NULL;
  if (PQntuples (res) == 0)
    {
      sdc_store_register_missed (system_id, error);
      return NULL;
    }
  return g_steal_pointer (&new_id);
}

static gboolean
pg_find_system (SdcStore *self, const char *machine_type, const char *serial, const char *partition,
                char **system_id, gboolean *deactivated, GError **error)
{
  const char *params[] = { machine_type, serial, partition != NULL ? partition : "" };
  g_autoptr (PGresult) res = NULL;
  *system_id = NULL;
  *deactivated = FALSE;
  if (!pg_select_row (SDC_STORE_PG (self), "looking up machine",
                      "SELECT system_id, deactivated IS NOT NULL FROM systems"
                      " WHERE machine_type = $1 AND serial = $2 AND partition = $3",
                      3, params, &res, error))
    return FALSE;
  if (res != NULL)
    {
      *system_id = col_text (res, 0, 0);
      *deactivated = g_str_equal (PQgetvalue (res, 0, 1), "t");
    }
  return TRUE;
}

/* An UPDATE/INSERT … RETURNING 1; NOT_FOUND with @not_found when it touched no row. */
static gboolean
pg_update (SdcStorePg *store, const char *sql, int n, const char *const *params, const char *not_found,
           GError **error)
{
  g_autoptr (PGresult) res = pg_query (store, not_found, sql, n, params, error);
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) == 0)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_NOT_FOUND, not_found);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pg_deactivate_system (SdcStore *self, const char *system_id, const char *now, GError **error)
{
  const char *params[] = { now, system_id };
  return pg_update (SDC_STORE_PG (self),
                    "UPDATE systems SET deactivated = $1 WHERE system_id = $2 AND deactivated IS NULL RETURNING 1",
                    2, params, "unknown or deactivated system id", error);
}

static gboolean
pg_set_contact (SdcStore *self, const char *system_id, const char *contact_json, GError **error)
{
  const char *params[] = { contact_json, system_id };
  return pg_update (SDC_STORE_PG (self), "UPDATE systems SET contact = $1 WHERE system_id = $2 RETURNING 1",
                    2, params, "unknown system id", error);
}

static gboolean
pg_get_registration (SdcStore *self, const char *uuid, char **registration, char **system_id,
                     char **state, GError **error)
{
  const char *params[] = { uuid };
  g_autoptr (PGresult) res = NULL;
  *registration = NULL;
  if (!pg_select_row (SDC_STORE_PG (self), "looking up registration",
                      "SELECT registration, system_id, state FROM registrations WHERE uuid = $1", 1, params, &res,
                      error))
    return FALSE;
  if (res != NULL)
    {
      *registration = col_text (res, 0, 0);
      *system_id = col_text (res, 0, 1);
      *state = col_text (res, 0, 2);
    }
  return TRUE;
}

static gboolean
pg_add_registration (SdcStore *self, const char *registration, const char *uuid, const char *system_id,
                     const char *hostname, const char *now, GError **error)
{
  const char *params[] = { registration, uuid, system_id, hostname, now };
  return pg_update (SDC_STORE_PG (self),
                    "INSERT INTO registrations (registration, uuid, system_id, hostname, requested)"
                    " VALUES ($1, $2, $3, $4, $5) RETURNING 1",
                    5, params, "registration not stored", error);
}

static gboolean
pg_set_registration_state (SdcStore *self, const char *registration, const char *from_state,
                           const char *to_state, const char *now, GError **error)
{
  const char *params[] = { to_state, now, registration, from_state };
  g_autofree char *msg = g_strdup_printf ("no %s registration %s", from_state, registration);
  return pg_update (SDC_STORE_PG (self),
                    "UPDATE registrations SET state = $1, decided = $2 WHERE registration = $3 AND state = $4"
                    " RETURNING 1",
                    4, params, msg, error);
}

static PGresult *
system_row (SdcStorePg *store, const char *sql, const char *system_id, const char *what, GError **error)
{
  const char *params[] = { system_id };
  PGresult *res = NULL;
  if (pg_select_row (store, what, sql, 1, params, &res, error) && res == NULL)
    g_set_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND, "unknown system id");
  return res;
}

static gboolean
pg_get_credentials (SdcStore *self, const char *system_id, char **salt_hex, char **hash_hex,
                    guint *iterations, GError **error)
{
  g_autoptr (PGresult) res = system_row (SDC_STORE_PG (self),
                                         "SELECT pw_salt, pw_hash, pw_iterations FROM systems"
                                         " WHERE system_id = $1 AND deactivated IS NULL",
                                         system_id, "reading credentials", error);
  if (res == NULL)
    return FALSE;
  *salt_hex = col_text (res, 0, 0);
  *hash_hex = col_text (res, 0, 1);
  *iterations = (guint) atoi (PQgetvalue (res, 0, 2));
  return TRUE;
}

static gboolean
pg_get_machine (SdcStore *self, const char *system_id, char **machine_type, char **serial, GError **error)
{
  g_autoptr (PGresult) res = system_row (SDC_STORE_PG (self),
                                         "SELECT machine_type, serial FROM systems WHERE system_id = $1",
                                         system_id, "reading system", error);
  if (res == NULL)
    return FALSE;
  *machine_type = col_text (res, 0, 0);
  *serial = col_text (res, 0, 1);
  return TRUE;
}

static gboolean
pg_touch_system (SdcStore *self, const char *system_id, const char *now, GError **error)
{
  const char *params[] = { now, system_id };
  /* unchanged (the same second): no new row version */
  return pg_command (SDC_STORE_PG (self), "updating last_seen",
                     "UPDATE systems SET last_seen = $1 WHERE system_id = $2 AND last_seen IS DISTINCT FROM $1",
                     2, params, error);
}

static gboolean
pg_lookup_report (SdcStore *self, const char *uuid, char **system_id, char **kind, guint *status,
                  char **answer_json, GError **error)
{
  const char *params[] = { uuid };
  g_autoptr (PGresult) res = pg_query_prepared (SDC_STORE_PG (self), "looking up report",
                                       "SELECT system_id, kind, answer_status, answer FROM reports WHERE uuid = $1",
                                       1, params, error);
  *answer_json = NULL;
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) == 0)
    return TRUE;
  *system_id = col_text (res, 0, 0);
  *kind = col_text (res, 0, 1);
  *status = (guint) atoi (PQgetvalue (res, 0, 2));
  *answer_json = col_text (res, 0, 3);
  return TRUE;
}

static gboolean
insert_attachments (SdcStorePg *store, const char *uuid, GPtrArray *attachments, GError **error)
{
  for (guint i = 0; attachments != NULL && i < attachments->len; i++)
    {
      SdcAttachmentDecl *a = g_ptr_array_index (attachments, i);
      g_autofree char *size = g_strdup_printf ("%" G_GINT64_FORMAT, a->size);
      const char *ap[] = { uuid, a->name, size, a->sha256, a->content_type };
      if (!pg_command (store, "storing attachment",
                       "INSERT INTO attachments (report_uuid, name, size, sha256, content_type)"
                       " VALUES ($1, $2, $3, $4, $5)",
                       G_N_ELEMENTS (ap), ap, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
pg_insert_report (SdcStore *self, const SdcReportRow *row, GPtrArray *attachments, guint status,
                  const char *answer_json, gboolean *inserted, GError **error)
{
  SdcStorePg *store = SDC_STORE_PG (self);
  g_autofree char *status_s = g_strdup_printf ("%u", status);
  const char *params[] = { row->uuid, row->system_id, row->kind, row->plugin, row->created,
                           row->received, row->parent, row->body_json,
                           answer_json != NULL ? answer_json : "", status_s };
  g_autoptr (PGresult) res = NULL;

  *inserted = FALSE;
  /* with row->touch, last_seen in the same statement: one round trip per report. The
   * systems row is locked first when last_seen changes (sys, joined before the row is
   * inserted): with several writers every transaction then takes a system's row before
   * its reports' uuids, the order the writer sorts a group in, so a duplicate uuid
   * waiting for another writer's transaction never closes a cycle through the systems
   * row. When last_seen already holds this time (times are whole seconds) the row is
   * neither locked nor written. known: the system must exist (schema 5: no foreign key) */
  res = pg_query_prepared (store, "storing report",
                           row->touch
                               ? "WITH sys AS (SELECT system_id FROM systems WHERE system_id = $2"
                                 " AND last_seen IS DISTINCT FROM $6 FOR NO KEY UPDATE),"
                                 " ins AS (INSERT INTO reports (uuid, system_id, kind, plugin, created, received,"
                                 " parent, body, answer, answer_status)"
                                 " SELECT $1, COALESCE (known.system_id, sdc_unknown_system ($2)), $3, $4, $5, $6,"
                                 " $7, $8, $9, $10::integer FROM (SELECT 1) one"
                                 " LEFT JOIN sys ON TRUE LEFT JOIN systems known ON known.system_id = $2"
                                 " ON CONFLICT (uuid) DO NOTHING RETURNING system_id, received),"
                                 " touched AS (UPDATE systems s SET last_seen = ins.received FROM ins"
                                 " WHERE s.system_id = ins.system_id AND s.last_seen IS DISTINCT FROM ins.received)"
                                 " SELECT count(*) FROM ins"
                               : "INSERT INTO reports (uuid, system_id, kind, plugin, created, received, parent, body,"
                                 " answer, answer_status)"
                                 " SELECT $1, COALESCE (known.system_id, sdc_unknown_system ($2)), $3, $4, $5, $6,"
                                 " $7, $8, $9, $10::integer FROM (SELECT 1) one"
                                 " LEFT JOIN systems known ON known.system_id = $2"
                                 " ON CONFLICT (uuid) DO NOTHING",
                           G_N_ELEMENTS (params), params, error);
  if (res == NULL)
    return FALSE;
  if (row->touch ? g_strcmp0 (PQgetvalue (res, 0, 0), "0") == 0 : g_strcmp0 (PQcmdTuples (res), "0") == 0)
    return TRUE;
  *inserted = TRUE;
  return insert_attachments (store, row->uuid, attachments, error);
}

/* The columns of a report row for the group statement, one array each (in this order;
 * COL_SR: non-NULL when the report asks for a service request). */
enum { COL_UUID, COL_SYSTEM, COL_KIND, COL_PLUGIN, COL_CREATED, COL_RECEIVED, COL_PARENT, COL_BODY, COL_ANSWER,
       COL_SR, N_COLS };

/* "SR" and eight digits, from the identity column's number */
static char *
service_request_name (const char *number)
{
  return g_strdup_printf ("SR%08" G_GINT64_FORMAT, (gint64) g_ascii_strtoll (number, NULL, 10) % 100000000);
}

/* Runs a prepared statement whose first @n_arrays parameters are columns of @cells
 * (@n_rows rows of @stride cells) as binary text[], and @text the text parameters after
 * them. */
static PGresult *
pg_query_arrays (SdcStorePg *store, const char *what, const char *sql, const char *const *cells, guint n_rows,
                 guint stride, guint n_arrays, const char *const *text, guint n_text, GError **error)
{
  g_autoptr (GPtrArray) arrays = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);
  g_autofree const char **params = g_new0 (const char *, n_arrays + n_text);
  g_autofree int *lengths = g_new0 (int, n_arrays + n_text);
  g_autofree int *formats = g_new0 (int, n_arrays + n_text);
  for (guint k = 0; k < n_arrays; k++)
    {
      GByteArray *a = pg_text_array (cells + k, n_rows, stride);
      g_ptr_array_add (arrays, a);
      params[k] = (const char *) a->data;
      lengths[k] = (int) a->len;
      formats[k] = 1;
    }
  for (guint k = 0; k < n_text; k++)
    params[n_arrays + k] = text[k];
  return pg_query_prepared_full (store, what, sql, (int) (n_arrays + n_text), params, lengths, formats, error);
}

/* The whole group in one statement (docs/performance.md "SDC"): PostgreSQL's CPU per
 * report was mostly the work around each statement (bind, executor start and end, a
 * round trip), not the row itself. The rows go in as binary text[] arrays (unnest, in
 * the group's order, numbered by WITH ORDINALITY). The rows of the systems whose
 * last_seen may change (one of the group's times differs from the stored one; times are
 * whole seconds, so most groups change few) are locked first, in the group's order (sys:
 * one index lookup per row, in a LATERAL subquery the planner cannot turn into a scan of
 * the whole table; forced before any insert by the one-time filter), so a group takes
 * those rows before its uuids, and two writers' groups, both sorted by system id then
 * uuid, do not deadlock. known: each row's system, looked up the same way (OFFSET 0
 * keeps the subquery from being flattened), must exist (schema 5: no foreign key; a
 * missing one raises). first: for each row inserted, the first input row
 * that is it (a uuid twice in a group went in once, as the first); from it the service
 * requests (in the group's order) and each system's last_seen, set once, to the
 * received of its last report inserted, as storing them one after the other leaves it.
 * The RETURNING rows say which input rows went in and with which service request. */
static gboolean
pg_insert_reports (SdcStore *self, SdcReportInsert *reports, guint n, guint status, GError **error)
{
  SdcStorePg *store = SDC_STORE_PG (self);
  g_autofree const char **cells = g_new0 (const char *, (gsize) n * N_COLS);
  g_autofree char *status_s = g_strdup_printf ("%u", status);
  const char *text[] = { status_s };
  g_autoptr (PGresult) res = NULL;
  gboolean touch_all = TRUE;

  for (guint i = 0; i < n; i++)
    touch_all = touch_all && reports[i].row->touch;
  /* not reports through the server (those all set last_seen): one at a time */
  if (!touch_all)
    return sdc_store_insert_reports_each (self, reports, n, status, error);
  for (guint i = 0; i < n; i++)
    {
      const SdcReportRow *row = reports[i].row;
      const char **c = cells + (gsize) i * N_COLS;
      c[COL_UUID] = row->uuid;
      c[COL_SYSTEM] = row->system_id;
      c[COL_KIND] = row->kind;
      c[COL_PLUGIN] = row->plugin;
      c[COL_CREATED] = row->created;
      c[COL_RECEIVED] = row->received;
      c[COL_PARENT] = row->parent;
      c[COL_BODY] = row->body_json;
      c[COL_ANSWER] = reports[i].answer_json != NULL ? reports[i].answer_json : "";
      c[COL_SR] = reports[i].new_service_request ? "t" : NULL;
      reports[i].inserted = FALSE;
      g_clear_pointer (&reports[i].service_request, g_free);
    }
  res = pg_query_arrays (store, "storing reports",
                         "WITH sys AS (SELECT s.system_id FROM unnest ($2::text[], $6::text[]) AS u (id, received),"
                         " LATERAL (SELECT system_id FROM systems WHERE system_id = u.id"
                         " AND last_seen IS DISTINCT FROM u.received FOR NO KEY UPDATE) s),"
                         " ins AS (INSERT INTO reports (uuid, system_id, kind, plugin, created, received,"
                         " parent, body, answer, answer_status)"
                         " SELECT u.uuid, COALESCE (known.system_id, sdc_unknown_system (u.system_id)), u.kind,"
                         " u.plugin, u.created, u.received, u.parent, u.body, u.answer, $11::integer"
                         " FROM unnest ($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
                         " $7::text[], $8::text[], $9::text[])"
                         " AS u (uuid, system_id, kind, plugin, created, received, parent, body, answer)"
                         " LEFT JOIN LATERAL (SELECT system_id FROM systems WHERE system_id = u.system_id"
                         " OFFSET 0) known ON TRUE"
                         " WHERE (SELECT count(*) FROM sys) >= 0"
                         " ON CONFLICT (uuid) DO NOTHING RETURNING uuid, system_id, kind, received),"
                         " first AS (SELECT DISTINCT ON (ins.uuid) ins.uuid, ins.system_id, ins.received, u.sr, u.n"
                         " FROM ins JOIN unnest ($1::text[], $2::text[], $3::text[], $6::text[], $10::text[])"
                         " WITH ORDINALITY AS u (uuid, system_id, kind, received, sr, n)"
                         " ON u.uuid = ins.uuid AND u.system_id = ins.system_id AND u.kind = ins.kind"
                         " AND u.received = ins.received ORDER BY ins.uuid, u.n),"
                         " sr AS (INSERT INTO service_requests (report_uuid, system_id, created)"
                         " SELECT uuid, system_id, received FROM first WHERE sr IS NOT NULL ORDER BY n"
                         " RETURNING report_uuid, number),"
                         " last AS (SELECT DISTINCT ON (system_id) system_id, received FROM first"
                         " ORDER BY system_id, n DESC),"
                         " touched AS (UPDATE systems s SET last_seen = last.received FROM last"
                         " WHERE s.system_id = last.system_id AND s.last_seen IS DISTINCT FROM last.received)"
                         " SELECT first.n, sr.number FROM first LEFT JOIN sr ON sr.report_uuid = first.uuid",
                         cells, n, N_COLS, N_COLS, text, G_N_ELEMENTS (text), error);
  if (res == NULL)
    return FALSE;
  for (int r = 0; r < PQntuples (res); r++)
    {
      guint64 i = g_ascii_strtoull (PQgetvalue (res, r, 0), NULL, 10) - 1;
      g_return_val_if_fail (i < n, FALSE);
      reports[i].inserted = TRUE;
      if (!PQgetisnull (res, r, 1))
        reports[i].service_request = service_request_name (PQgetvalue (res, r, 1));
    }
  for (guint i = 0; i < n; i++)
    if (reports[i].inserted &&
        !insert_attachments (store, reports[i].row->uuid, reports[i].attachments, error))
      return FALSE;
  return TRUE;
}

static gboolean
pg_set_report_answer (SdcStore *self, const char *uuid, guint status, const char *answer_json,
                      GError **error)
{
  g_autofree char *status_s = g_strdup_printf ("%u", status);
  const char *params[] = { answer_json, status_s, uuid };
  g_autoptr (PGresult) res = pg_query_prepared (SDC_STORE_PG (self), "storing answer",
                                                "UPDATE reports SET answer = $1, answer_status = $2 WHERE uuid = $3",
                                                3, params, error);
  return res != NULL;
}

static char *
pg_new_service_request (SdcStore *self, const char *report_uuid, const char *system_id,
                        const char *now, GError **error)
{
  const char *params[] = { report_uuid, system_id, now };
  g_autoptr (PGresult) res = pg_query_prepared (SDC_STORE_PG (self), "allocating service request",
                                       "INSERT INTO service_requests (report_uuid, system_id, created)"
                                       " VALUES ($1, $2, $3) RETURNING number",
                                       3, params, error);
  if (res == NULL)
    return NULL;
  return service_request_name (PQgetvalue (res, 0, 0));
}

static SdcAttachmentRow *
pg_get_attachment (SdcStore *self, const char *report_uuid, const char *name, GError **error)
{
  const char *params[] = { report_uuid, name };
  g_autoptr (PGresult) res = NULL;
  SdcAttachmentRow *a;
  if (!pg_select_row (SDC_STORE_PG (self), "looking up attachment",
                      "SELECT r.system_id, a.size, a.sha256, a.path, a.received_sha256"
                      " FROM attachments a JOIN reports r ON r.uuid = a.report_uuid"
                      " WHERE a.report_uuid = $1 AND a.name = $2",
                      2, params, &res, error))
    return NULL;
  if (res == NULL)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND,
                   "report %s does not exist or does not list an attachment \"%s\"", report_uuid, name);
      return NULL;
    }
  a = g_new0 (SdcAttachmentRow, 1);
  a->report_uuid = g_strdup (report_uuid);
  a->name = g_strdup (name);
  a->system_id = col_text (res, 0, 0);
  a->size = g_ascii_strtoll (PQgetvalue (res, 0, 1), NULL, 10);
  a->sha256 = col_text (res, 0, 2);
  a->path = col_text (res, 0, 3);
  a->received_sha256 = col_text (res, 0, 4);
  return a;
}

static gboolean
pg_set_attachment_received (SdcStore *self, const char *report_uuid, const char *name, gint64 size,
                            const char *sha256, const char *path, const char *now, GError **error)
{
  g_autofree char *size_s = g_strdup_printf ("%" G_GINT64_FORMAT, size);
  const char *params[] = { size_s, sha256, path, now, report_uuid, name };
  return pg_command (SDC_STORE_PG (self), "recording attachment",
                     "UPDATE attachments SET size = $1, received_sha256 = $2, path = $3, received = $4"
                     " WHERE report_uuid = $5 AND name = $6",
                     6, params, error);
}

static char *
pg_get_setting (SdcStore *self, const char *name, const char *value_if_absent, GError **error)
{
  SdcStorePg *store = SDC_STORE_PG (self);
  const char *params[] = { name, value_if_absent };
  g_autoptr (PGresult) res = NULL;
  if (value_if_absent != NULL &&
      !pg_command (store, "storing setting",
                   "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                   2, params, error))
    return NULL;
  if (!pg_select_row (store, "reading setting", "SELECT value FROM settings WHERE name = $1", 1, params, &res, error))
    return NULL;
  if (res == NULL)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND, "PostgreSQL: no setting \"%s\"", name);
      return NULL;
    }
  return col_text (res, 0, 0);
}

/* OIDs of the built-in types the listings return (pg_type.h) */
#define PG_BOOLOID 16
#define PG_INT8OID 20
#define PG_INT4OID 23

/* Every row an object keyed by column name, as the SQLite engine builds them. */
static JsonArray *
rows_to_array (PGresult *res)
{
  JsonArray *arr = json_array_new ();
  for (int r = 0; r < PQntuples (res); r++)
    {
      JsonObject *obj = json_object_new ();
      for (int c = 0; c < PQnfields (res); c++)
        {
          const char *name = PQfname (res, c);
          const char *v = PQgetvalue (res, r, c);
          Oid type = PQftype (res, c);
          if (g_str_has_suffix (name, "_json"))
            {
              g_autofree char *key = g_strndup (name, strlen (name) - 5);
              g_autoptr (JsonParser) parser = json_parser_new ();
              if (!PQgetisnull (res, r, c) && json_parser_load_from_data (parser, v, -1, NULL))
                json_object_set_member (obj, key, json_node_copy (json_parser_get_root (parser)));
              else
                json_object_set_null_member (obj, key);
            }
          else if (PQgetisnull (res, r, c))
            json_object_set_null_member (obj, name);
          else if (type == PG_INT8OID || type == PG_INT4OID)
            json_object_set_int_member (obj, name, g_ascii_strtoll (v, NULL, 10));
          else if (type == PG_BOOLOID)
            json_object_set_boolean_member (obj, name, g_str_equal (v, "t"));
          else
            json_object_set_string_member (obj, name, v);
        }
      json_array_add_object_element (arr, obj);
    }
  return arr;
}

/* Each report object of @arr gets its "attachments" (an array, maybe empty). */
static gboolean
add_attachments (SdcStorePg *store, JsonArray *arr, GError **error)
{
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      const char *ap[] = { json_object_get_string_member (o, "uuid") };
      g_autoptr (PGresult) att = pg_query (store, "listing attachments",
                                           "SELECT name, size, sha256, content_type, path, received_sha256,"
                                           " received FROM attachments WHERE report_uuid = $1 ORDER BY name",
                                           1, ap, error);
      if (att == NULL)
        return FALSE;
      json_object_set_array_member (o, "attachments", rows_to_array (att));
    }
  return TRUE;
}

static JsonArray *
pg_list_systems (SdcStore *self, GError **error)
{
  g_autoptr (PGresult) res = pg_query (SDC_STORE_PG (self), "listing systems",
                                       "SELECT system_id, platform_id, vendor, machine_type, model, serial,"
                                       " partition, lpar_id, lpar_name, os_uuid,"
                                       " hostname, os, os_version, is_lpar, contact AS contact_json,"
                                       " registered, last_seen, deactivated,"
                                       " (SELECT COUNT(*) FROM reports r WHERE r.system_id = s.system_id) AS reports"
                                       " FROM systems s ORDER BY registered, system_id",
                                       0, NULL, error);
  return res != NULL ? rows_to_array (res) : NULL;
}

static JsonArray *
pg_list_registrations (SdcStore *self, GError **error)
{
  g_autoptr (PGresult) res = pg_query (SDC_STORE_PG (self), "listing registrations",
                                       "SELECT registration, system_id, hostname, requested, state, decided"
                                       " FROM registrations ORDER BY requested, registration",
                                       0, NULL, error);
  return res != NULL ? rows_to_array (res) : NULL;
}

static JsonArray *
pg_list_reports (SdcStore *self, const char *system_id, GError **error)
{
  SdcStorePg *store = SDC_STORE_PG (self);
  const char *params[] = { system_id };
  g_autoptr (PGresult) res = pg_query (store, "listing reports",
                                       "SELECT r.uuid, r.kind, r.plugin, r.system_id, r.created, r.received,"
                                       " r.parent, (SELECT 'SR' || lpad(number::text, 8, '0')"
                                       "   FROM service_requests sr WHERE sr.report_uuid = r.uuid) AS service_request,"
                                       " r.body AS body_json, r.answer AS answer_json"
                                       " FROM reports r WHERE ($1::text IS NULL OR r.system_id = $1)"
                                       " ORDER BY r.received, r.seq",
                                       1, params, error);
  g_autoptr (JsonArray) arr = NULL;
  if (res == NULL)
    return NULL;
  arr = rows_to_array (res);
  if (!add_attachments (store, arr, error))
    return NULL;
  return g_steal_pointer (&arr);
}

/* The web view's queries (sdc-ui.c): the same SQL as SQLite's but for lpad. */
static gboolean
pg_count (SdcStorePg *store, const char *sql, int n, const char *const *params, guint *total, GError **error)
{
  g_autoptr (PGresult) res = pg_query (store, "counting", sql, n, params, error);
  if (res == NULL)
    return FALSE;
  *total = (guint) g_ascii_strtoull (PQgetvalue (res, 0, 0), NULL, 10);
  return TRUE;
}

static JsonArray *
pg_ui_systems (SdcStore *self, const char *system_id, guint offset, guint limit, guint *total, GError **error)
{
  SdcStorePg *store = SDC_STORE_PG (self);
  g_autofree char *lim = g_strdup_printf ("%u", limit);
  g_autofree char *off = g_strdup_printf ("%u", offset);
  const char *params[] = { system_id, lim, off };
  g_autoptr (PGresult) res = NULL;
  if (!pg_count (store, "SELECT COUNT(*) FROM systems WHERE ($1::text IS NULL OR system_id = $1)", 1, params,
                 total, error))
    return NULL;
  /* the same SQL as SQLite's (sdc-store-sqlite.c says why it is shaped so) */
  res = pg_query (store, "listing systems for the web view",
                  "SELECT s.system_id, s.machine_type, s.model, s.serial, s.hostname, s.is_lpar, s.lpar_id,"
                  " s.lpar_name, s.os, s.os_version, s.registered, s.last_seen,"
                  " MAX(CASE WHEN r.kind = 'heartbeat' THEN r.received END) AS last_heartbeat,"
                  " (SELECT u.answer FROM reports u WHERE u.system_id = s.system_id AND u.kind = 'uak'"
                  "   ORDER BY u.received DESC LIMIT 1) AS uak_answer_json,"
                  " COALESCE(SUM(CASE WHEN r.kind = 'problem' THEN 1 ELSE 0 END), 0) AS problems,"
                  " COALESCE(SUM(CASE WHEN r.kind = 'inventory' THEN 1 ELSE 0 END), 0) AS inventories,"
                  " COALESCE(SUM(CASE WHEN r.kind = 'heartbeat' THEN 1 ELSE 0 END), 0) AS heartbeats"
                  " FROM (SELECT * FROM systems WHERE ($1::text IS NULL OR system_id = $1)"
                  "   ORDER BY last_seen IS NULL, last_seen DESC, system_id LIMIT $2::bigint OFFSET $3::bigint) s"
                  " LEFT JOIN reports r ON r.system_id = s.system_id"
                  " GROUP BY s.system_id, s.machine_type, s.model, s.serial, s.hostname, s.is_lpar, s.lpar_id,"
                  " s.lpar_name, s.os,"
                  " s.os_version, s.registered, s.last_seen"
                  " ORDER BY s.last_seen IS NULL, s.last_seen DESC, s.system_id",
                  3, params, error);
  return res != NULL ? rows_to_array (res) : NULL;
}

static JsonArray *
pg_ui_reports (SdcStore *self, const char *system_id, const char *kind, guint offset, guint limit, guint *total,
               GError **error)
{
  SdcStorePg *store = SDC_STORE_PG (self);
  g_autofree char *lim = g_strdup_printf ("%u", limit);
  g_autofree char *off = g_strdup_printf ("%u", offset);
  const char *params[] = { system_id, kind, lim, off };
  g_autoptr (PGresult) res = NULL;
  g_autoptr (JsonArray) arr = NULL;
  if (!pg_count (store, "SELECT COUNT(*) FROM reports WHERE system_id = $1 AND kind = $2", 2, params, total, error))
    return NULL;
  res = pg_query (store, "listing reports for the web view",
                  "SELECT r.uuid, r.kind, r.plugin, r.created, r.received, r.parent,"
                  " (SELECT 'SR' || lpad(number::text, 8, '0') FROM service_requests sr"
                  "   WHERE sr.report_uuid = r.uuid) AS service_request,"
                  " r.body AS body_json"
                  " FROM reports r WHERE r.system_id = $1 AND r.kind = $2"
                  " ORDER BY r.received DESC, r.seq DESC LIMIT $3::bigint OFFSET $4::bigint",
                  4, params, error);
  if (res == NULL)
    return NULL;
  arr = rows_to_array (res);
  if (!add_attachments (store, arr, error))
    return NULL;
  return g_steal_pointer (&arr);
}

static void
sdc_store_pg_iface_init (SdcStoreInterface *iface)
{
  iface->engine_name = pg_engine_name;
  iface->schema_version = pg_schema_version;
  iface->exec = pg_exec;
  iface->begin = pg_begin;
  iface->register_system = pg_register_system;
  iface->get_credentials = pg_get_credentials;
  iface->get_machine = pg_get_machine;
  iface->touch_system = pg_touch_system;
  iface->lookup_report = pg_lookup_report;
  iface->insert_report = pg_insert_report;
  iface->insert_reports = pg_insert_reports;
  iface->set_report_answer = pg_set_report_answer;
  iface->new_service_request = pg_new_service_request;
  iface->get_attachment = pg_get_attachment;
  iface->set_attachment_received = pg_set_attachment_received;
  iface->get_setting = pg_get_setting;
  iface->list_systems = pg_list_systems;
  iface->list_reports = pg_list_reports;
  iface->find_system = pg_find_system;
  iface->deactivate_system = pg_deactivate_system;
  iface->set_contact = pg_set_contact;
  iface->get_registration = pg_get_registration;
  iface->add_registration = pg_add_registration;
  iface->set_registration_state = pg_set_registration_state;
  iface->list_registrations = pg_list_registrations;
  iface->ui_systems = pg_ui_systems;
  iface->ui_reports = pg_ui_reports;
}
