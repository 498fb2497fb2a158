/* test-sdc-store.c: the SDC's store suite, run once per engine (SQLite, PostgreSQL),
 * and the request parsers, linked directly from sdc/libesa-sdc.la. */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "esa-test-util.h"
#include "sdc-test-sqlite.h"
#ifdef HAVE_LIBPQ
#include "sdc-test-pg.h"
#endif
#include "sdc-auth.h"
#include "sdc-auth-cache.h"
#include "sdc-throttle.h"
#include "sdc-error.h"
#include "sdc-json.h"
#include "sdc-server-private.h"
#include "sdc-sqlite-checkpoint.h"
#include "sdc-store.h"
#include "sdc-ui-pages.h"
#include "sdc-uak.h"
#include "sdc-writer.h"

/* One store suite, run once per engine: each engine gives a fresh, empty location and a
 * way to run raw SQL there (to fake an older or newer schema). */
typedef struct {
  const char *name;
  /* NULL (with a skip message in *why) when the engine cannot run here */
  char *(*new_location) (char **why);
  void (*exec_raw) (const char *location, const char *sql);
  void (*set_version) (const char *location, int version);
  /* SQL that takes a current database back to schema 4 (but its version), and SQL that
   * fails unless the database has the changes of schema 5 and later */
  const char *back_to_v4;
  const char *check_migrated;
} Engine;

typedef struct {
  const Engine *engine;
  char *location;
  char *tmp;
} Fixture;

static char *sqlite_tmp_root;

static char *
sqlite_new_location (char **why)
{
  static guint n;
  return g_strdup_printf ("%s/sdc-%u.db", sqlite_tmp_root, ++n);
}

static void
sqlite_exec_raw (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static void
sqlite_set_version (const char *path, int version)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA user_version = %d;", version);
  sqlite_exec_raw (path, sql);
}

#ifdef HAVE_LIBPQ
static void
pg_set_version (const char *location, int version)
{
  g_autofree char *sql = g_strdup_printf ("UPDATE sdc_schema SET version = %d;", version);
  esa_test_pg_exec (location, sql);
}
#endif

static const Engine engines[] = {
  /* SQLite's step 5 is empty; step 6 swaps an index */
  { "sqlite", sqlite_new_location, sqlite_exec_raw, sqlite_set_version,
    "DROP INDEX reports_by_system_kind; CREATE INDEX reports_by_system ON reports (system_id, received);",
    /* fails while reports_by_system_kind is missing or reports_by_system is there */
    "SELECT count(*) FROM reports INDEXED BY reports_by_system_kind WHERE system_id = 'x' AND kind = 'y';"
    "CREATE INDEX reports_by_system ON reports (system_id); DROP INDEX reports_by_system;" },
#ifdef HAVE_LIBPQ
  { "postgresql", esa_test_pg_new_database, esa_test_pg_exec, pg_set_version,
    "ALTER TABLE reports ADD CONSTRAINT reports_system_id_fkey FOREIGN KEY (system_id) REFERENCES systems (system_id);"
    "DROP FUNCTION sdc_unknown_system (text);"
    "ALTER TABLE reports ALTER COLUMN uuid TYPE TEXT COLLATE \"default\";"
    "DROP INDEX reports_by_system_kind; CREATE INDEX reports_by_system ON reports (system_id, received);",
    "DO $$ BEGIN"
    " IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'reports_system_id_fkey')"
    " THEN RAISE EXCEPTION 'reports_system_id_fkey still there'; END IF;"
    " IF (SELECT collation_name FROM information_schema.columns"
    "     WHERE table_name = 'reports' AND column_name = 'uuid') IS DISTINCT FROM 'C'"
    " THEN RAISE EXCEPTION 'reports.uuid not in COLLATE \"C\"'; END IF;"
    " IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'reports_by_system_kind')"
    " THEN RAISE EXCEPTION 'reports_by_system_kind missing'; END IF;"
    " IF EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'reports_by_system')"
    " THEN RAISE EXCEPTION 'reports_by_system still there'; END IF; END $$;" },
#endif
};

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *why = NULL;
  f->engine = data;
  f->location = f->engine->new_location (&why);
  if (f->location == NULL)
    g_test_skip (why);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_free (f->location);
}

static SdcStore *
open_store (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  SdcStore *store = sdc_store_open (f->location, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sdc_store_engine_name (store), ==, f->engine->name);
  return store;
}

static char *
register_one (SdcStore *store, const char *serial, const char *password, gboolean *created)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SdcPasswordHash) pw = sdc_auth_hash_password (password, &error);
  SdcSystemInfo info = { .vendor = "IBM", .machine_type = "9009", .serial = serial, .hostname = "h",
                         .lpar_id = -1, .partition = "" };
  g_autofree char *existing = NULL;
  gboolean deactivated = FALSE;
  char *id;
  g_assert_no_error (error);
  g_assert_true (sdc_store_find_system (store, "9009", serial, "", &existing, &deactivated, &error));
  id = sdc_store_register_system (store, &info, pw, "2026-11-25T09:00:00Z", existing, &error);
  g_assert_no_error (error);
  *created = existing == NULL;
  return id;
}

static void
test_store_schema (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *salt = NULL;
  g_autofree char *hash = NULL;
  guint iterations = 0;
  gboolean created = FALSE;

  if (f->location == NULL)
    return;
  /* from nothing to the current schema */
  {
    g_autoptr (SdcStore) store = open_store (f);
    g_assert_cmpint (sdc_store_schema_version (store), ==, SDC_STORE_SCHEMA_VERSION);
    id = register_one (store, "SER1", "secret-one", &created);
    g_assert_true (created);
  }
  /* reopening keeps the data and applies nothing twice */
  {
    g_autoptr (SdcStore) store = open_store (f);
    g_autofree char *again = NULL;
    g_assert_cmpint (sdc_store_schema_version (store), ==, SDC_STORE_SCHEMA_VERSION);
    g_assert_true (sdc_store_get_credentials (store, id, &salt, &hash, &iterations, &error));
    g_assert_true (sdc_auth_verify ("secret-one", salt, hash, iterations));
    g_assert_false (sdc_auth_verify ("secret-two", salt, hash, iterations));
    /* same machine: same id, not a new row, and the new password replaces the old */
    again = register_one (store, "SER1", "secret-two", &created);
    g_assert_false (created);
    g_assert_cmpstr (again, ==, id);
    g_clear_pointer (&salt, g_free);
    g_clear_pointer (&hash, g_free);
    g_assert_true (sdc_store_get_credentials (store, id, &salt, &hash, &iterations, &error));
    g_assert_true (sdc_auth_verify ("secret-two", salt, hash, iterations));
    g_assert_false (sdc_store_get_credentials (store, "ESA-0000000000000000", &salt, &hash, &iterations, &error));
    g_assert_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND);
  }
  /* a newer schema than this program knows is refused, not clobbered */
  f->engine->set_version (f->location, 99);
  {
    g_autoptr (GError) local = NULL;
    g_autoptr (SdcStore) store = sdc_store_open (f->location, &local);
    g_assert_null (store);
    g_assert_error (local, SDC_ERROR, SDC_ERROR_INTERNAL);
    g_assert_nonnull (strstr (local->message, "99"));
  }
}

static void
test_store_reports (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SdcStore) store = NULL;
  g_autofree char *id = NULL;
  g_autofree char *sr = NULL;
  g_autofree char *sys = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *answer = NULL;
  g_autoptr (JsonArray) list = NULL;
  g_autoptr (GPtrArray) atts = g_ptr_array_new_with_free_func ((GDestroyNotify) sdc_attachment_decl_free);
  g_autoptr (SdcAttachmentRow) att = NULL;
  SdcAttachmentDecl *decl = g_new0 (SdcAttachmentDecl, 1);
  guint status = 0;
  gboolean created;
  gboolean inserted = FALSE;
  SdcReportRow row = { .uuid = "0b7e8c1e-5f4a-4c1e-9a4e-1d2c3b4a5f60", .kind = "problem",
                       .created = "2026-11-25T09:00:00Z", .received = "2026-11-25T09:00:01Z",
                       .body_json = "{\"srn\":\"1\"}" };

  if (f->location == NULL)
    return;
  store = open_store (f);
  id = register_one (store, "SER2", "pw", &created);
  row.system_id = id;
  decl->name = g_strdup ("snap.tar.gz");
  decl->size = 10;
  decl->sha256 = g_strnfill (64, 'a');
  g_ptr_array_add (atts, decl);

  g_assert_true (sdc_store_lookup_report (store, row.uuid, &sys, &kind, &status, &answer, &error));
  g_assert_null (answer);
  /* report, then its service request, then the answer naming it: one transaction */
  g_assert_true (sdc_store_begin (store, &error));
  g_assert_true (sdc_store_insert_report (store, &row, atts, 200, NULL, &inserted, &error));
  g_assert_true (inserted);
  sr = sdc_store_new_service_request (store, row.uuid, id, row.received, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (sr, "SR"));
  g_assert_true (sdc_store_set_report_answer (store, row.uuid, 200, "{\"status\":\"stored\"}", &error));
  g_assert_true (sdc_store_touch_system (store, id, row.received, &error));
  g_assert_true (sdc_store_commit (store, &error));
  g_assert_true (sdc_store_lookup_report (store, row.uuid, &sys, &kind, &status, &answer, &error));
  g_assert_cmpstr (answer, ==, "{\"status\":\"stored\"}");
  g_assert_cmpstr (sys, ==, id);
  g_assert_cmpstr (kind, ==, "problem");
  g_assert_cmpuint (status, ==, 200);

  /* the same uuid again inserts nothing (exactly once) and is no error */
  g_assert_true (sdc_store_begin (store, &error));
  g_assert_true (sdc_store_insert_report (store, &row, atts, 200, "{}", &inserted, &error));
  g_assert_false (inserted);
  g_assert_true (sdc_store_commit (store, &error));

  /* a failing statement inside a savepoint rolls back that step alone */
  {
    SdcReportRow bad = row;
    SdcReportRow good = row;
    bad.uuid = "11111111-1111-4111-8111-111111111111";
    bad.system_id = "ESA-ffffffffffffffff"; /* no such system: foreign key */
    good.uuid = "22222222-2222-4222-8222-222222222222";
    good.kind = "heartbeat";
    g_assert_true (sdc_store_begin (store, &error));
    g_assert_true (sdc_store_savepoint (store, &error));
    if (sdc_store_insert_report (store, &bad, NULL, 200, "{}", &inserted, &error))
      {
        /* SQLite checks deferred keys only at COMMIT: force it by touching SR too */
        g_assert_true (sdc_store_release (store, &error));
      }
    else
      {
        g_clear_error (&error);
        sdc_store_rollback_to (store);
      }
    g_assert_true (sdc_store_savepoint (store, &error));
    g_assert_true (sdc_store_insert_report (store, &good, NULL, 200, "{}", &inserted, &error));
    g_assert_true (inserted);
    g_assert_true (sdc_store_release (store, &error));
    g_assert_true (sdc_store_commit (store, &error));
    g_clear_pointer (&answer, g_free);
    g_assert_true (sdc_store_lookup_report (store, good.uuid, &sys, &kind, &status, &answer, &error));
    g_assert_cmpstr (answer, ==, "{}");
  }

  att = sdc_store_get_attachment (store, row.uuid, "snap.tar.gz", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (att->system_id, ==, id);
  g_assert_cmpint (att->size, ==, 10);
  g_assert_null (att->path);
  g_assert_true (sdc_store_set_attachment_received (store, row.uuid, "snap.tar.gz", 10, att->sha256,
                                                    "attachments/x/snap.tar.gz", row.received, &error));
  g_clear_pointer (&att, sdc_attachment_row_free);
  att = sdc_store_get_attachment (store, row.uuid, "snap.tar.gz", &error);
  g_assert_cmpstr (att->path, ==, "attachments/x/snap.tar.gz");
  g_assert_null (sdc_store_get_attachment (store, row.uuid, "other", &error));
  g_assert_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND);
  g_clear_error (&error);

  list = sdc_store_list_reports (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list, 0), "service_request"), ==, sr);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                        json_array_get_object_element (list, 0), "attachments")), ==, 1);
  g_clear_pointer (&list, json_array_unref);
  list = sdc_store_list_systems (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (list, 0), "reports"), ==, 2);
  g_assert_false (json_object_get_boolean_member (json_array_get_object_element (list, 0), "is_lpar"));
}

static void
test_store_settings (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SdcStore) a = NULL;
  g_autoptr (SdcStore) b = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  if (f->location == NULL)
    return;
  a = open_store (f);
  b = open_store (f);
  g_assert_null (sdc_store_get_setting (a, "uak-key", NULL, &error));
  g_assert_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* the first writer wins; the second instance gets the first one's value */
  first = sdc_store_get_setting (a, "uak-key", "KEY-A", &error);
  g_assert_no_error (error);
  second = sdc_store_get_setting (b, "uak-key", "KEY-B", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, "KEY-A");
  g_assert_cmpstr (second, ==, "KEY-A");
}

/* Two connections race to store the same uuids: each is stored once, and each racer
 * learns whether it was first. */
typedef struct {
  const char *location;
  const char *system_id;
  guint inserted;
  GError *error;
} Racer;

#define RACE_REPORTS 40

static gpointer
race_thread (gpointer data)
{
  Racer *r = data;
  g_autoptr (SdcStore) store = sdc_store_open (r->location, &r->error);
  for (guint i = 0; store != NULL && i < RACE_REPORTS && r->error == NULL; i++)
    {
      g_autofree char *uuid = g_strdup_printf ("00000000-0000-4000-8000-%012u", i);
      SdcReportRow row = { .uuid = uuid, .system_id = r->system_id, .kind = "heartbeat",
                           .created = "2026-11-25T09:00:00Z", .received = "2026-11-25T09:00:01Z",
                           .body_json = "{}" };
      gboolean inserted = FALSE;
      if (!sdc_store_begin (store, &r->error))
        break;
      if (!sdc_store_insert_report (store, &row, NULL, 200, "{}", &inserted, &r->error) ||
          !sdc_store_commit (store, &r->error))
        {
          sdc_store_rollback (store);
          break;
        }
      r->inserted += inserted ? 1 : 0;
    }
  return NULL;
}

static void
test_store_concurrent_duplicates (Fixture *f, gconstpointer data)
{
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (JsonArray) list = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  Racer racers[3] = { { 0 } };
  GThread *threads[G_N_ELEMENTS (racers)];
  guint total = 0;
  gboolean created;

  if (f->location == NULL)
    return;
  store = open_store (f);
  id = register_one (store, "SER3", "pw", &created);
  for (guint i = 0; i < G_N_ELEMENTS (racers); i++)
    {
      racers[i].location = f->location;
      racers[i].system_id = id;
      threads[i] = g_thread_new ("racer", race_thread, &racers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (racers); i++)
    {
      g_thread_join (threads[i]);
      g_assert_no_error (racers[i].error);
      total += racers[i].inserted;
    }
  g_assert_cmpuint (total, ==, RACE_REPORTS);
  list = sdc_store_list_reports (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (list), ==, RACE_REPORTS);
}


/* The writer's group commit: jobs queued while a COMMIT is on disk share the next one;
 * duplicates inside a group are still stored once; a failing job rolls back alone. */
typedef struct {
  char *uuid;
  const char *system_id;
  gboolean touch;   /* last_seen too, as a report through the server does */
  gboolean inserted;
  char *answer;     /* the stored answer (a duplicate reads the first one's) */
  struct _Gate *gate; /* a job that holds its writer (run_opposite_groups) */
  gint *started;    /* set when the job runs */
} GroupJob;

typedef struct {
  GMainLoop *loop;
  guint pending;
  guint ok;
  guint failed;
  guint inserted;
  guint answers_wrong;
} GroupState;

static void group_job_free (GroupJob *job);
static void group_done_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static gboolean
group_job_func (SdcStore *store, gpointer data, GError **error)
{
  GroupJob *job = data;
  SdcReportRow row = { .uuid = job->uuid, .system_id = job->system_id, .kind = "heartbeat",
                       .created = "2026-11-25T09:00:00Z", .received = "2026-11-25T09:00:01Z",
                       .body_json = "{}", .touch = job->touch };
  g_autofree char *answer = g_strdup_printf ("{\"uuid\":\"%s\"}", job->uuid);
  g_autofree char *sys = NULL;
  g_autofree char *kind = NULL;
  guint status = 0;
  /* the writer may run a job again after rolling its group back */
  g_clear_pointer (&job->answer, g_free);
  if (job->started != NULL)
    g_atomic_int_set (job->started, 1);
  if (!sdc_store_insert_report (store, &row, NULL, 200, answer, &job->inserted, error))
    return FALSE;
  if (job->inserted)
    {
      job->answer = g_steal_pointer (&answer);
      return TRUE;
    }
  /* what the API does for a duplicate: the answer the first one stored */
  return sdc_store_lookup_report (store, job->uuid, &sys, &kind, &status, &job->answer, error);
}

/* The "-grouped" variants write the same jobs with a group function as well (as the
 * server writes reports): a writer's group then goes in as one sdc_store_insert_reports(),
 * one statement on PostgreSQL, and falls back to group_job_func per job. */
static gboolean grouped;

static gboolean
group_jobs_func (SdcStore *store, gpointer *data, guint n, GError **error)
{
  g_autofree SdcReportRow *rows = g_new0 (SdcReportRow, n);
  g_autofree SdcReportInsert *ins = g_new0 (SdcReportInsert, n);
  g_autoptr (GPtrArray) answers = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      GroupJob *job = data[i];
      g_clear_pointer (&job->answer, g_free);
      job->inserted = FALSE;
      if (job->started != NULL)
        g_atomic_int_set (job->started, 1);
      rows[i] = (SdcReportRow) { .uuid = job->uuid, .system_id = job->system_id, .kind = "heartbeat",
                                 .created = "2026-11-25T09:00:00Z", .received = "2026-11-25T09:00:01Z",
                                 .body_json = "{}", .touch = job->touch };
      g_ptr_array_add (answers, g_strdup_printf ("{\"uuid\":\"%s\"}", job->uuid));
      ins[i].row = &rows[i];
      ins[i].answer_json = g_ptr_array_index (answers, i);
    }
  if (!sdc_store_insert_reports (store, ins, n, 200, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      GroupJob *job = data[i];
      g_autofree char *sys = NULL;
      g_autofree char *kind = NULL;
      guint status = 0;
      g_assert_null (ins[i].service_request);
      job->inserted = ins[i].inserted;
      if (job->inserted)
        job->answer = g_strdup (g_ptr_array_index (answers, i));
      else if (!sdc_store_lookup_report (store, job->uuid, &sys, &kind, &status, &job->answer, error))
        return FALSE;
    }
  return TRUE;
}

static void
write_job (SdcWriter *writer, const char *key, SdcStoreFunc func, GroupJob *job, GroupState *st)
{
  if (grouped)
    sdc_writer_write_group (writer, key, func, func == group_job_func ? group_jobs_func : NULL, job,
                            (GDestroyNotify) group_job_free, group_done_cb, st);
  else
    sdc_writer_write (writer, key, func, job, (GDestroyNotify) group_job_free, group_done_cb, st);
}

static void
group_job_free (GroupJob *job)
{
  g_free (job->answer);
  g_free (job->uuid);
  g_free (job);
}

static void
group_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GroupState *st = user_data;
  GroupJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  if (sdc_writer_finish (result, &error))
    {
      g_autofree char *want = g_strdup_printf ("{\"uuid\":\"%s\"}", job->uuid);
      st->ok++;
      if (job->gate != NULL)
        g_free (job->answer), job->answer = g_strdup (want);
      st->inserted += job->inserted ? 1 : 0;
      st->answers_wrong += g_strcmp0 (job->answer, want) == 0 ? 0 : 1;
    }
  else
    st->failed++;
  if (--st->pending == 0)
    g_main_loop_quit (st->loop);
}

static void
test_store_group_commit (Fixture *f, gconstpointer data)
{
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (SdcWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) list = NULL;
  g_autofree char *id = NULL;
  GroupState st = { 0 };
  guint64 commits = 0;
  guint64 jobs = 0;
  gboolean created;
  const guint n_uuids = 40;
  const guint copies = 5;

  if (f->location == NULL)
    return;
  store = open_store (f);
  id = register_one (store, "SER4", "pw", &created);
  writer = sdc_writer_new (f->location, 1, 2, &error);
  g_assert_no_error (error);
  st.loop = g_main_loop_new (NULL, FALSE);
  for (guint k = 0; k < copies; k++)
    for (guint i = 0; i <= n_uuids; i++)
      {
        GroupJob *job = g_new0 (GroupJob, 1);
        job->uuid = g_strdup_printf ("00000000-0000-4000-8000-%012u", i);
        /* one job per round names a system that does not exist */
        job->system_id = i == n_uuids ? "ESA-ffffffffffffffff" : id;
        /* as the server's reports (the group statement is for those) */
        job->touch = grouped;
        st.pending++;
        write_job (writer, job->uuid, group_job_func, job, &st);
      }
  g_main_loop_run (st.loop);
  g_assert_cmpuint (st.failed, ==, copies);
  g_assert_cmpuint (st.ok, ==, n_uuids * copies);
  g_assert_cmpuint (st.inserted, ==, n_uuids);
  sdc_writer_get_stats (writer, &commits, &jobs);
  g_assert_cmpuint (jobs, ==, n_uuids * copies);
  /* grouped: far fewer transactions than jobs */
  g_assert_cmpuint (commits, <, jobs / 2);
  list = sdc_store_list_reports (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (list), ==, n_uuids);
  g_main_loop_unref (st.loop);
}

/* Several writers (PostgreSQL), made to run two groups at once: both writers are held
 * in a gate job; one is let go to take batch A as its group, and once A's first job runs,
 * the other takes batch B, which names the same systems in the opposite order. */
typedef struct _Gate {
  GMutex lock;
  GCond cond;
  guint entered;   /* gate jobs waiting */
  guint opened;    /* gate jobs allowed to finish */
} Gate;

static gboolean
gate_func (SdcStore *store, gpointer data, GError **error)
{
  Gate *gate = ((GroupJob *) data)->gate;
  g_mutex_lock (&gate->lock);
  gate->entered++;
  g_cond_broadcast (&gate->cond);
  while (gate->opened == 0)
    g_cond_wait (&gate->cond, &gate->lock);
  gate->opened--;
  g_mutex_unlock (&gate->lock);
  return TRUE;
}

static void
gate_wait_entered (Gate *gate, guint n)
{
  g_mutex_lock (&gate->lock);
  while (gate->entered < n)
    g_cond_wait (&gate->cond, &gate->lock);
  g_mutex_unlock (&gate->lock);
}

static void
gate_open_one (Gate *gate)
{
  g_mutex_lock (&gate->lock);
  gate->opened++;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->lock);
}

static void
push_job (SdcWriter *writer, GroupState *st, GroupJob *job, SdcStoreFunc func)
{
  g_autofree char *key = job->gate != NULL ? g_strdup ("") : g_strconcat (job->system_id, "\t", job->uuid, NULL);
  st->pending++;
  write_job (writer, key, func, job, st);
}

static void
push_batch (SdcWriter *writer, GroupState *st, GPtrArray *systems, guint round, guint batch,
            gboolean reverse, gboolean same_uuids, gint *started)
{
  guint n = systems->len;
  for (guint k = 0; k < n; k++)
    {
      guint i = reverse ? n - 1 - k : k;
      GroupJob *job = g_new0 (GroupJob, 1);
      job->system_id = g_ptr_array_index (systems, i);
      job->touch = TRUE;
      job->started = started;
      job->uuid = g_strdup_printf ("00000000-0000-4000-%04x-%012x", same_uuids ? 0 : batch, round * n + i);
      push_job (writer, st, job, group_job_func);
    }
}

/* @rounds times: batch A forwards and batch B backwards, as two concurrent groups.
 * Returns the gate jobs' count, which group_done_cb counted as ok too. */
static guint
run_opposite_groups (SdcWriter *writer, GroupState *st, GPtrArray *systems, guint rounds,
                     gboolean same_uuids)
{
  Gate gate = { 0 };
  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  st->loop = g_main_loop_new (NULL, FALSE);
  for (guint r = 0; r < rounds; r++)
    {
      gint started = 0;
      /* both writers held, each alone in its group */
      for (guint g = 0; g < 2; g++)
        {
          GroupJob *job = g_new0 (GroupJob, 1);
          job->gate = &gate;
          job->uuid = g_strdup ("gate");
          push_job (writer, st, job, gate_func);
          gate_wait_entered (&gate, 2 * r + g + 1);
        }
      push_batch (writer, st, systems, r, 0, FALSE, same_uuids, &started);
      gate_open_one (&gate);
      /* A is a group on one connection now, and running */
      while (!g_atomic_int_get (&started))
        g_usleep (50);
      push_batch (writer, st, systems, r, 1, TRUE, same_uuids, NULL);
      gate_open_one (&gate);
      /* every answer in before the next round: a gate never joins a group of reports */
      g_main_loop_run (st->loop);
    }
  g_main_loop_unref (st->loop);
  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
  return 2 * rounds;
}

static GPtrArray *
register_many (SdcStore *store, guint n)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *serial = g_strdup_printf ("W%05u", i);
      gboolean created;
      g_ptr_array_add (ids, register_one (store, serial, "pw", &created));
    }
  return ids;
}

static guint
count_reports (SdcStore *store, GPtrArray *systems)
{
  guint total = 0;
  for (guint i = 0; i < systems->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonArray) list = sdc_store_list_reports (store, g_ptr_array_index (systems, i), &error);
      g_assert_no_error (error);
      total += json_array_get_length (list);
    }
  return total;
}

/* The same uuids through two writers at once (batch B's wait for A's transaction): each
 * stored once, every copy answered with the first one's answer, as a duplicate is today,
 * and no group aborted. */
static void
test_store_writers_duplicates (Fixture *f, gconstpointer data)
{
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (SdcWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) systems = NULL;
  GroupState st = { 0 };
  const guint rounds = 5;
  guint gates;

  if (f->location == NULL)
    return;
  if (!sdc_store_location_is_pg (f->location))
    {
      /* SQLite: one writer only, said in one line */
      g_assert_null (sdc_writer_new (f->location, 2, 1, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "SQLite"));
      g_assert_null (strchr (error->message, '\n'));
      g_assert_cmpuint (sdc_writer_default_writers (f->location), ==, 1);
      return;
    }
  /* the tests' cluster is on this host (a Unix socket): one writer by default */
  g_assert_cmpuint (sdc_writer_default_writers (f->location), ==, 1);
  store = open_store (f);
  systems = register_many (store, 20);
  writer = sdc_writer_new (f->location, 2, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sdc_writer_get_writers (writer), ==, 2);
  gates = run_opposite_groups (writer, &st, systems, rounds, TRUE);
  g_assert_cmpuint (st.failed, ==, 0);
  g_assert_cmpuint (st.ok, ==, gates + 2 * rounds * systems->len);
  g_assert_cmpuint (st.inserted, ==, rounds * systems->len);
  g_assert_cmpuint (st.answers_wrong, ==, 0);
  g_assert_cmpuint (count_reports (store, systems), ==, rounds * systems->len);
  g_assert_cmpuint (sdc_writer_get_retries (writer), ==, 0);
}

/* Two writers, groups touching the same systems' last_seen in opposite orders: sorted
 * by the key, every group locks the rows in one order, so none is aborted as a deadlock
 * (no group rolled back and run again) and every report is stored. */
static void
test_store_writers_order (Fixture *f, gconstpointer data)
{
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (SdcWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) systems = NULL;
  GroupState st = { 0 };
  const guint rounds = 5;
  guint gates;

  if (f->location == NULL || !sdc_store_location_is_pg (f->location))
    return;
  store = open_store (f);
  systems = register_many (store, 40);
  writer = sdc_writer_new (f->location, 2, 1, &error);
  g_assert_no_error (error);
  gates = run_opposite_groups (writer, &st, systems, rounds, FALSE);
  g_assert_cmpuint (st.failed, ==, 0);
  g_assert_cmpuint (st.ok, ==, gates + 2 * rounds * systems->len);
  g_assert_cmpuint (st.inserted, ==, 2 * rounds * systems->len);
  g_assert_cmpuint (st.answers_wrong, ==, 0);
  g_assert_cmpuint (sdc_writer_get_retries (writer), ==, 0);
  g_assert_cmpuint (count_reports (store, systems), ==, 2 * rounds * systems->len);
}

static void
test_store_group_commit_grouped (Fixture *f, gconstpointer data)
{
  grouped = TRUE;
  test_store_group_commit (f, data);
  grouped = FALSE;
}

static void
test_store_writers_duplicates_grouped (Fixture *f, gconstpointer data)
{
  grouped = TRUE;
  test_store_writers_duplicates (f, data);
  grouped = FALSE;
}

static void
test_store_writers_order_grouped (Fixture *f, gconstpointer data)
{
  grouped = TRUE;
  test_store_writers_order (f, data);
  grouped = FALSE;
}

/* Jobs that read their input in the writer thread (sdc_writer_write_prepared, as the
 * server's reports): one whose prepare fails is answered with its error and stores
 * nothing, the others of its group commit; keys come from prepare; what the callback
 * does not need is released in the writer thread, never on the caller's loop. */
static GThread *prepare_caller;
static gint prepare_released_off_loop;

static gboolean
prepare_job_func (gpointer data, char **key, GError **error)
{
  GroupJob *job = data;
  g_assert_true (g_thread_self () != prepare_caller);
  if (g_str_has_suffix (job->uuid, "3"))
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_JSON, "body: unreadable (%s)", job->uuid);
      return FALSE;
    }
  *key = g_strdup (job->uuid);
  return TRUE;
}

static void
prepare_job_release (gpointer data)
{
  (void) data;
  if (g_thread_self () != prepare_caller)
    g_atomic_int_inc (&prepare_released_off_loop);
}

static void
prepare_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GroupState *st = user_data;
  GroupJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  (void) source;
  if (sdc_writer_finish (result, &error))
    {
      g_assert_false (g_str_has_suffix (job->uuid, "3"));
      st->ok++;
      st->inserted += job->inserted ? 1 : 0;
    }
  else
    {
      g_assert_error (error, SDC_ERROR, SDC_ERROR_INVALID_JSON);
      g_assert_true (g_str_has_suffix (job->uuid, "3"));
      g_assert_nonnull (strstr (error->message, job->uuid));
      st->failed++;
    }
  if (--st->pending == 0)
    g_main_loop_quit (st->loop);
}

static void
test_store_writer_prepare (Fixture *f, gconstpointer data)
{
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (SdcWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) systems = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *id = NULL;
  GroupState st = { 0 };
  gboolean created;
  const guint n = 60;
  (void) data;

  if (f->location == NULL)
    return;
  store = open_store (f);
  id = register_one (store, "SER-PREP", "pw", &created);
  g_ptr_array_add (systems, g_strdup (id));
  writer = sdc_writer_new (f->location, 1, 1, &error);
  g_assert_no_error (error);
  prepare_caller = g_thread_self ();
  g_atomic_int_set (&prepare_released_off_loop, 0);
  st.loop = g_main_loop_new (NULL, FALSE);
  for (guint i = 0; i < n; i++)
    {
      GroupJob *job = g_new0 (GroupJob, 1);
      job->uuid = g_strdup_printf ("00000000-0000-4000-8000-%012u", i);
      job->system_id = id;
      st.pending++;
      sdc_writer_write_prepared (writer, prepare_job_func, group_job_func, group_jobs_func, prepare_job_release, job,
                                 (GDestroyNotify) group_job_free, prepare_done_cb, &st);
    }
  g_main_loop_run (st.loop);
  g_main_loop_unref (st.loop);
  /* uuids ending in 3: 0..59 has 6 of them */
  g_assert_cmpuint (st.failed, ==, 6);
  g_assert_cmpuint (st.ok, ==, n - 6);
  g_assert_cmpuint (st.inserted, ==, n - 6);
  g_assert_cmpint (g_atomic_int_get (&prepare_released_off_loop), ==, (gint) n);
  g_assert_cmpuint (count_reports (store, systems), ==, n - 6);
}

static char *
system_last_seen (SdcStore *store, const char *system_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) list = sdc_store_list_systems (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *o = json_array_get_object_element (list, i);
      if (g_strcmp0 (json_object_get_string_member (o, "system_id"), system_id) == 0)
        return g_strdup (json_object_get_string_member_with_default (o, "last_seen", NULL));
    }
  g_assert_not_reached ();
}

/* One report in its own transaction, as the server's writer stores a group of one. */
static gboolean
insert_row (SdcStore *store, const SdcReportRow *row, gboolean *inserted, GError **error)
{
  SdcReportInsert ins = { .row = row, .answer_json = "{}" };
  gboolean ok = sdc_store_begin (store, error) && sdc_store_insert_reports (store, &ins, 1, 200, error) &&
                sdc_store_commit (store, error);
  if (!ok)
    sdc_store_rollback (store);
  if (inserted != NULL)
    *inserted = ins.inserted;
  return ok;
}

/* A heartbeat received at RECEIVED, which moves its system's last_seen. */
static gboolean
insert_group_of_one (SdcStore *store, const char *uuid, const char *system_id, const char *received,
                     gboolean *inserted, GError **error)
{
  SdcReportRow row = { .uuid = uuid, .system_id = system_id, .kind = "heartbeat", .created = received,
                       .received = received, .body_json = "{}", .touch = TRUE };
  return insert_row (store, &row, inserted, error);
}

/* A schema-4 database (what the previous esa-sdc left) migrates to the current schema and
 * keeps its systems, reports and service requests; after it a report naming an unknown
 * system is still refused (on PostgreSQL by the insert statements, no longer by a
 * foreign key), one after a known system's is stored, and a duplicate stays one. */
static void
test_store_migrate_v4 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *sr = NULL;
  gboolean created = FALSE;
  gboolean inserted = FALSE;
  const char *u1 = "00000000-0000-4000-8000-0000000004a1";
  const char *u2 = "00000000-0000-4000-8000-0000000004a2";
  const char *u3 = "00000000-0000-4000-8000-0000000004a3";

  if (f->location == NULL)
    return;
  {
    g_autoptr (SdcStore) store = open_store (f);
    SdcReportRow row = { .uuid = u1, .kind = "problem", .created = "2026-11-25T09:00:00Z",
                         .received = "2026-11-25T09:00:01Z", .body_json = "{\"srn\":\"1\"}", .touch = TRUE };
    id = register_one (store, "SERV4", "pw", &created);
    row.system_id = id;
    g_assert_true (sdc_store_begin (store, &error));
    g_assert_true (sdc_store_insert_report (store, &row, NULL, 200, "{\"v\":4}", &inserted, &error));
    g_assert_true (inserted);
    sr = sdc_store_new_service_request (store, u1, id, row.received, &error);
    g_assert_no_error (error);
    g_assert_true (sdc_store_commit (store, &error));
  }
  if (f->engine->back_to_v4 != NULL)
    f->engine->exec_raw (f->location, f->engine->back_to_v4);
  f->engine->set_version (f->location, 4);
  {
    g_autoptr (SdcStore) store = open_store (f);
    g_autoptr (JsonArray) list = NULL;
    g_autofree char *sys = NULL;
    g_autofree char *kind = NULL;
    g_autofree char *answer = NULL;
    g_autofree char *seen = NULL;
    guint status = 0;
    SdcReportRow lone = { .uuid = u3, .system_id = "ESA-ffffffffffffffff", .kind = "heartbeat",
                          .created = "2026-11-25T09:00:03Z", .received = "2026-11-25T09:00:03Z",
                          .body_json = "{}" };

    g_assert_cmpint (sdc_store_schema_version (store), ==, SDC_STORE_SCHEMA_VERSION);
    if (f->engine->check_migrated != NULL)
      f->engine->exec_raw (f->location, f->engine->check_migrated);
    g_assert_true (sdc_store_lookup_report (store, u1, &sys, &kind, &status, &answer, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (sys, ==, id);
    g_assert_cmpstr (answer, ==, "{\"v\":4}");
    seen = system_last_seen (store, id);
    g_assert_cmpstr (seen, ==, "2026-11-25T09:00:01Z");
    list = sdc_store_list_reports (store, id, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (list), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list, 0), "service_request"),
                     ==, sr);

    /* unknown systems: refused by the group statement and by the one for one report,
     * with and without last_seen, and nothing of them stays */
    g_assert_false (insert_group_of_one (store, u3, "ESA-ffffffffffffffff", "2026-11-25T09:00:03Z", &inserted,
                                         &error));
    g_assert_error (error, SDC_ERROR, SDC_ERROR_INTERNAL);
    g_clear_error (&error);
    for (guint touch = 0; touch < 2; touch++)
      {
        lone.touch = touch;
        g_assert_true (sdc_store_begin (store, &error));
        g_assert_false (sdc_store_insert_report (store, &lone, NULL, 200, "{}", &inserted, &error));
        g_assert_error (error, SDC_ERROR, SDC_ERROR_INTERNAL);
        g_clear_error (&error);
        sdc_store_rollback (store);
      }
    g_clear_pointer (&answer, g_free);
    g_assert_true (sdc_store_lookup_report (store, u3, &sys, &kind, &status, &answer, &error));
    g_assert_null (answer);

    /* a known system's report goes in, once */
    g_assert_true (insert_group_of_one (store, u2, id, "2026-11-25T09:00:02Z", &inserted, &error));
    g_assert_no_error (error);
    g_assert_true (inserted);
    g_assert_true (insert_group_of_one (store, u2, id, "2026-11-25T09:00:05Z", &inserted, &error));
    g_assert_false (inserted);
    g_clear_pointer (&seen, g_free);
    seen = system_last_seen (store, id);
    g_assert_cmpstr (seen, ==, "2026-11-25T09:00:02Z");
  }
}

/* last_seen is written only when it changes (the statements skip the row, and its lock,
 * when it already holds the report's time); what it ends as is still the received of
 * the system's last report inserted, in the group's order, also an earlier time. */
static void
test_store_last_seen (Fixture *f, gconstpointer data)
{
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  gboolean created;
  SdcReportRow rows[4];
  SdcReportInsert ins[4] = { { 0 } };
  const struct {
    const char *a1, *a2, *b1; /* received of a's two reports and b's one */
    const char *want_a, *want_b;
  } steps[] = {
    { "2026-11-25T09:00:01Z", "2026-11-25T09:00:01Z", "2026-11-25T09:00:01Z", "2026-11-25T09:00:01Z",
      "2026-11-25T09:00:01Z" },
    /* a: the same time first (no change), then an earlier one (the last inserted wins) */
    { "2026-11-25T09:00:01Z", "2026-11-25T09:00:00Z", "2026-11-25T09:00:01Z", "2026-11-25T09:00:00Z",
      "2026-11-25T09:00:01Z" },
    /* a: a later time, then the one it holds */
    { "2026-11-25T09:00:07Z", "2026-11-25T09:00:00Z", "2026-11-25T09:00:02Z", "2026-11-25T09:00:00Z",
      "2026-11-25T09:00:02Z" },
  };

  if (f->location == NULL)
    return;
  store = open_store (f);
  a = register_one (store, "LSA", "pw", &created);
  b = register_one (store, "LSB", "pw", &created);
  for (guint s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      g_autofree char *u0 = g_strdup_printf ("00000000-0000-4000-8000-0000000005%u0", s);
      g_autofree char *u1 = g_strdup_printf ("00000000-0000-4000-8000-0000000005%u1", s);
      g_autofree char *u2 = g_strdup_printf ("00000000-0000-4000-8000-0000000005%u2", s);
      g_autofree char *seen_a = NULL;
      g_autofree char *seen_b = NULL;
      rows[0] = (SdcReportRow) { .uuid = u0, .system_id = a, .kind = "heartbeat", .received = steps[s].a1,
                                 .body_json = "{}", .touch = TRUE };
      rows[1] = (SdcReportRow) { .uuid = u1, .system_id = a, .kind = "heartbeat", .received = steps[s].a2,
                                 .body_json = "{}", .touch = TRUE };
      rows[2] = (SdcReportRow) { .uuid = u2, .system_id = b, .kind = "heartbeat", .received = steps[s].b1,
                                 .body_json = "{}", .touch = TRUE };
      for (guint i = 0; i < 3; i++)
        {
          ins[i] = (SdcReportInsert) { .row = &rows[i], .answer_json = "{}" };
          rows[i].created = rows[i].received;
        }
      g_assert_true (sdc_store_begin (store, &error));
      g_assert_true (sdc_store_insert_reports (store, ins, 3, 200, &error));
      g_assert_no_error (error);
      g_assert_true (sdc_store_commit (store, &error));
      seen_a = system_last_seen (store, a);
      seen_b = system_last_seen (store, b);
      g_assert_cmpstr (seen_a, ==, steps[s].want_a);
      g_assert_cmpstr (seen_b, ==, steps[s].want_b);
    }
  /* one report at a time (the savepoint run's statement) */
  {
    SdcReportRow row = { .uuid = "00000000-0000-4000-8000-000000000590", .system_id = a, .kind = "heartbeat",
                         .created = "2026-11-25T08:00:00Z", .received = "2026-11-25T08:00:00Z", .body_json = "{}",
                         .touch = TRUE };
    gboolean inserted = FALSE;
    g_autofree char *seen = NULL;
    g_assert_true (sdc_store_begin (store, &error));
    g_assert_true (sdc_store_insert_report (store, &row, NULL, 200, "{}", &inserted, &error));
    g_assert_true (sdc_store_commit (store, &error));
    g_assert_true (inserted);
    seen = system_last_seen (store, a);
    g_assert_cmpstr (seen, ==, "2026-11-25T08:00:00Z");
  }
}

/* A group through sdc_store_insert_reports (one statement on PostgreSQL) ends as storing
 * its reports one after the other would: a uuid twice in the group and one stored before
 * go in once; service requests only for inserted reports that ask, in the group's order;
 * last_seen the received of a system's last report inserted, untouched by duplicates. */
static void
test_store_group_insert (Fixture *f, gconstpointer data)
{
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *sys = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *answer = NULL;
  g_autoptr (JsonArray) list = NULL;
  guint status = 0;
  gboolean created;
  gboolean inserted = FALSE;
  const char *u0 = "00000000-0000-4000-8000-0000000000a0";
  const char *u1 = "00000000-0000-4000-8000-0000000000a1";
  const char *u2 = "00000000-0000-4000-8000-0000000000a2";
  const char *u3 = "00000000-0000-4000-8000-0000000000a3";
  const char *u4 = "00000000-0000-4000-8000-0000000000a4";
  SdcReportRow rows[6];
  SdcReportInsert ins[6] = { { 0 } };
  const gboolean want_inserted[] = { TRUE, FALSE, TRUE, FALSE, TRUE, TRUE };

  if (f->location == NULL)
    return;
  store = open_store (f);
  a = register_one (store, "GRA", "pw", &created);
  b = register_one (store, "GRB", "pw", &created);
  c = register_one (store, "GRC", "pw", &created);
  {
    SdcReportRow row0 = { .uuid = u0, .system_id = c, .kind = "heartbeat", .created = "2026-11-25T09:00:00Z",
                          .received = "2026-11-25T09:00:00Z", .body_json = "{}", .touch = TRUE };
    g_assert_true (sdc_store_insert_report (store, &row0, NULL, 200, "{\"first\":0}", &inserted, &error));
    g_assert_no_error (error);
    g_assert_true (inserted);
  }
#define GROUP_ROW(i, u, s, k, t)                                                                                \
  rows[i] = (SdcReportRow) { .uuid = u, .system_id = s, .kind = k, .created = "2026-11-25T09:00:00Z",          \
                             .received = "2026-11-25T09:00:0" t "Z", .body_json = "{\"i\":" #i "}", .touch = TRUE }; \
  ins[i].row = &rows[i];
  GROUP_ROW (0, u1, a, "heartbeat", "1");
  GROUP_ROW (1, u1, a, "heartbeat", "9"); /* the same uuid again in the group */
  GROUP_ROW (2, u2, a, "problem", "2");
  GROUP_ROW (3, u0, c, "heartbeat", "8"); /* stored before the group */
  GROUP_ROW (4, u3, b, "problem", "3");
  GROUP_ROW (5, u4, b, "heartbeat", "4");
#undef GROUP_ROW
  ins[0].answer_json = "{\"first\":1}";
  ins[1].answer_json = "{\"second\":1}";
  ins[3].answer_json = "{\"second\":0}";
  ins[5].answer_json = "{\"first\":4}";
  ins[2].new_service_request = ins[4].new_service_request = TRUE;
  ins[3].new_service_request = TRUE; /* a duplicate gets none */
  g_assert_true (sdc_store_begin (store, &error));
  g_assert_true (sdc_store_insert_reports (store, ins, G_N_ELEMENTS (ins), 200, &error));
  g_assert_no_error (error);
  /* as the server does: the answers that name the service requests */
  g_assert_true (sdc_store_set_report_answer (store, u2, 200, "{\"sr\":2}", &error));
  g_assert_true (sdc_store_set_report_answer (store, u3, 200, "{\"sr\":3}", &error));
  g_assert_true (sdc_store_commit (store, &error));
  for (guint i = 0; i < G_N_ELEMENTS (ins); i++)
    g_assert_cmpint (ins[i].inserted, ==, want_inserted[i]);
  g_assert_null (ins[0].service_request);
  g_assert_null (ins[1].service_request);
  g_assert_null (ins[3].service_request);
  g_assert_null (ins[5].service_request);
  g_assert_cmpstr (ins[2].service_request, ==, "SR00000001");
  g_assert_cmpstr (ins[4].service_request, ==, "SR00000002");
  g_free (ins[2].service_request);
  g_free (ins[4].service_request);
  g_assert_true (sdc_store_lookup_report (store, u1, &sys, &kind, &status, &answer, &error));
  g_assert_cmpstr (answer, ==, "{\"first\":1}");
  g_assert_cmpstr (sys, ==, a);
  g_clear_pointer (&answer, g_free);
  g_clear_pointer (&sys, g_free);
  g_clear_pointer (&kind, g_free);
  g_assert_true (sdc_store_lookup_report (store, u0, &sys, &kind, &status, &answer, &error));
  g_assert_cmpstr (answer, ==, "{\"first\":0}");
  seen = system_last_seen (store, a);
  g_assert_cmpstr (seen, ==, "2026-11-25T09:00:02Z");
  g_free (seen);
  seen = system_last_seen (store, b);
  g_assert_cmpstr (seen, ==, "2026-11-25T09:00:04Z");
  g_free (seen);
  seen = system_last_seen (store, c);
  g_assert_cmpstr (seen, ==, "2026-11-25T09:00:00Z");
  list = sdc_store_list_reports (store, a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  /* the first copy's body, not the second's */
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (
                       json_array_get_object_element (list, 0), "body"), "i"), ==, 0);
}

static SdcReportJob *
report_job (const char *uuid, const char *system_id, const char *kind, const char *received)
{
  SdcReportJob *job = g_new0 (SdcReportJob, 1);
  job->uuid = g_strdup (uuid);
  job->now = g_strdup (received);
  job->body_json = g_strdup ("{\"srn\":\"A1\"}");
  job->row = (SdcReportRow) { .uuid = job->uuid, .system_id = system_id, .kind = kind, .plugin = "test",
                              .created = job->now, .received = job->now, .body_json = job->body_json,
                              .touch = TRUE };
  return job;
}

/* The server's reports through sdc_api_store_reports (a writer's group) get the answers
 * sdc_api_store_report gives, byte for byte: a problem names its service request, a
 * copy of it later in the group gets that answer as a duplicate, and sending the group
 * again one report at a time replays every answer unchanged. */
static void
test_store_group_answers (Fixture *f, gconstpointer data)
{
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) sdc_report_job_free);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  gboolean created;
  const char *want[] = {
    "{\"status\":\"stored\",\"uuid\":\"00000000-0000-4000-8000-0000000000b1\",\"last_seen\":\"2026-11-25T10:00:01Z\"}",
    "{\"status\":\"stored\",\"uuid\":\"00000000-0000-4000-8000-0000000000b2\",\"service_request\":\"SR00000001\"}",
    "{\"status\":\"stored\",\"uuid\":\"00000000-0000-4000-8000-0000000000b2\",\"service_request\":\"SR00000001\"}",
    "{\"status\":\"stored\",\"uuid\":\"00000000-0000-4000-8000-0000000000b3\",\"service_request\":\"SR00000002\"}",
    "{\"status\":\"stored\",\"uuid\":\"00000000-0000-4000-8000-0000000000b4\"}",
  };
  const gboolean want_duplicate[] = { FALSE, FALSE, TRUE, FALSE, FALSE };

  if (f->location == NULL)
    return;
  store = open_store (f);
  a = register_one (store, "GAA", "pw", &created);
  b = register_one (store, "GAB", "pw", &created);
  g_ptr_array_add (jobs, report_job ("00000000-0000-4000-8000-0000000000b1", a, "heartbeat", "2026-11-25T10:00:01Z"));
  g_ptr_array_add (jobs, report_job ("00000000-0000-4000-8000-0000000000b2", a, "problem", "2026-11-25T10:00:02Z"));
  g_ptr_array_add (jobs, report_job ("00000000-0000-4000-8000-0000000000b2", a, "problem", "2026-11-25T10:00:03Z"));
  g_ptr_array_add (jobs, report_job ("00000000-0000-4000-8000-0000000000b3", b, "problem", "2026-11-25T10:00:04Z"));
  g_ptr_array_add (jobs, report_job ("00000000-0000-4000-8000-0000000000b4", b, "inventory", "2026-11-25T10:00:05Z"));
  g_assert_true (sdc_store_begin (store, &error));
  g_assert_true (sdc_api_store_reports (store, (SdcReportJob *const *) jobs->pdata, jobs->len, &error));
  g_assert_no_error (error);
  g_assert_true (sdc_store_commit (store, &error));
  for (guint i = 0; i < jobs->len; i++)
    {
      SdcReportJob *job = g_ptr_array_index (jobs, i);
      g_autofree char *answer = NULL;
      gboolean duplicate = FALSE;
      guint status = 0;
      g_assert_cmpuint (job->status, ==, 200);
      g_assert_cmpstr (job->answer, ==, want[i]);
      g_assert_cmpint (job->duplicate, ==, want_duplicate[i]);
      /* again, alone: a duplicate with the same bytes */
      g_assert_true (sdc_api_store_report (store, &job->row, NULL, &status, &answer, &duplicate, &error));
      g_assert_no_error (error);
      g_assert_true (duplicate);
      g_assert_cmpuint (status, ==, 200);
      g_assert_cmpstr (answer, ==, want[i]);
    }
}

/* A system per machine *and partition* (schema 4): two LPARs of one frame are two
 * systems; deactivation refuses the credentials; pending registrations. */
static void
test_store_partitions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SdcStore) store = NULL;
  g_autoptr (SdcPasswordHash) pw = sdc_auth_hash_password ("pw", NULL);
  g_autofree char *lpar5 = NULL;
  g_autofree char *lpar6 = NULL;
  g_autofree char *found = NULL;
  g_autofree char *salt = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *reg = NULL;
  g_autofree char *reg_sys = NULL;
  g_autofree char *state = NULL;
  g_autoptr (JsonArray) list = NULL;
  g_autofree char *k5 = sdc_store_partition_key (TRUE, 5, "uuid-5");
  g_autofree char *k6 = sdc_store_partition_key (TRUE, 6, "uuid-6");
  g_autofree char *kvm = sdc_store_partition_key (TRUE, -1, "machine-id");
  g_autofree char *kwhole = sdc_store_partition_key (FALSE, -1, "machine-id");
  SdcSystemInfo info = { .vendor = "IBM", .machine_type = "9105", .serial = "78A1B2C", .hostname = "lpar05",
                         .is_lpar = TRUE, .lpar_id = 5, .lpar_name = "lpar05", .os_uuid = "uuid-5" };
  gboolean deactivated = TRUE;
  guint iterations;

  if (f->location == NULL)
    return;
  g_assert_cmpstr (k5, ==, "lpar:5");
  g_assert_cmpstr (kvm, ==, "os:machine-id");
  g_assert_cmpstr (kwhole, ==, "");
  store = open_store (f);
  info.partition = k5;
  lpar5 = sdc_store_register_system (store, &info, pw, "2026-11-25T09:00:00Z", NULL, &error);
  g_assert_no_error (error);
  /* the same partition again as a new system: refused, the first keeps its row */
  g_assert_null (sdc_store_register_system (store, &info, pw, "2026-11-25T09:00:00Z", NULL, &error));
  g_assert_error (error, SDC_ERROR, SDC_ERROR_DUPLICATE);
  g_clear_error (&error);
  info.partition = k6;
  info.lpar_id = 6;
  info.lpar_name = "lpar06";
  info.hostname = "lpar06";
  lpar6 = sdc_store_register_system (store, &info, pw, "2026-11-25T09:00:00Z", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lpar5, !=, lpar6);
  g_assert_true (sdc_store_find_system (store, "9105", "78A1B2C", "lpar:5", &found, &deactivated, &error));
  g_assert_cmpstr (found, ==, lpar5);
  g_assert_false (deactivated);
  g_clear_pointer (&found, g_free);
  g_assert_true (sdc_store_find_system (store, "9105", "78A1B2C", "", &found, &deactivated, &error));
  g_assert_null (found);
  /* the listing still shows the frame, and which partition */
  list = sdc_store_list_systems (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *o = json_array_get_object_element (list, i);
      gboolean first = g_str_equal (json_object_get_string_member (o, "system_id"), lpar5);
      g_assert_cmpstr (json_object_get_string_member (o, "serial"), ==, "78A1B2C");
      g_assert_cmpint (json_object_get_int_member (o, "lpar_id"), ==, first ? 5 : 6);
      g_assert_cmpstr (json_object_get_string_member (o, "lpar_name"), ==, first ? "lpar05" : "lpar06");
      g_assert_cmpstr (json_object_get_string_member (o, "partition"), ==, first ? "lpar:5" : "lpar:6");
    }
  g_clear_pointer (&list, json_array_unref);

  /* contact */
  g_assert_true (sdc_store_set_contact (store, lpar5, "{\"name\":\"Grace\"}", &error));
  g_assert_false (sdc_store_set_contact (store, "ESA-0000000000000000", "{}", &error));
  g_assert_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* pending registration: pending -> approved -> done, each once */
  g_assert_true (sdc_store_get_registration (store, "u-1", &reg, &reg_sys, &state, &error));
  g_assert_null (reg);
  g_assert_true (sdc_store_add_registration (store, "REG-1", "u-1", lpar5, "stranger", "2026-11-25T09:00:00Z", &error));
  g_assert_true (sdc_store_get_registration (store, "u-1", &reg, &reg_sys, &state, &error));
  g_assert_cmpstr (reg, ==, "REG-1");
  g_assert_cmpstr (reg_sys, ==, lpar5);
  g_assert_cmpstr (state, ==, "pending");
  g_assert_true (sdc_store_set_registration_state (store, "REG-1", "pending", "approved", "2026-11-25T09:01:00Z", &error));
  g_assert_false (sdc_store_set_registration_state (store, "REG-1", "pending", "approved", "2026-11-25T09:01:00Z", &error));
  g_assert_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND);
  g_clear_error (&error);
  list = sdc_store_list_registrations (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list, 0), "state"), ==, "approved");

  /* deactivated: its credentials are refused; registering again reactivates it */
  g_assert_true (sdc_store_deactivate_system (store, lpar6, "2026-11-25T10:00:00Z", &error));
  g_assert_false (sdc_store_get_credentials (store, lpar6, &salt, &hash, &iterations, &error));
  g_assert_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_pointer (&found, g_free);
  g_assert_true (sdc_store_find_system (store, "9105", "78A1B2C", "lpar:6", &found, &deactivated, &error));
  g_assert_cmpstr (found, ==, lpar6);
  g_assert_true (deactivated);
  g_free (sdc_store_register_system (store, &info, pw, "2026-11-25T11:00:00Z", lpar6, &error));
  g_assert_no_error (error);
  g_assert_true (sdc_store_get_credentials (store, lpar6, &salt, &hash, &iterations, &error));
}

/* The web view's read-only queries: paging, newest first, counts, the newest UAK. */
static void
insert_at (SdcStore *store, const char *id, const char *uuid, const char *kind, const char *received,
           GPtrArray *atts, const char *answer)
{
  g_autoptr (GError) error = NULL;
  gboolean inserted = FALSE;
  SdcReportRow row = { .uuid = uuid, .system_id = id, .kind = kind, .created = received, .received = received,
                       .body_json = "{\"srn\":\"651-204\",\"frus\":[]}" };
  g_assert_true (sdc_store_begin (store, &error));
  g_assert_true (sdc_store_insert_report (store, &row, atts, 200, answer != NULL ? answer : "{}", &inserted, &error));
  g_assert_true (inserted);
  if (g_str_equal (kind, "problem"))
    g_free (sdc_store_new_service_request (store, uuid, id, received, &error));
  g_assert_no_error (error);
  g_assert_true (sdc_store_touch_system (store, id, received, &error));
  g_assert_true (sdc_store_commit (store, &error));
}

static void
test_store_web_view (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SdcStore) store = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;
  g_autoptr (JsonArray) page = NULL;
  g_autoptr (JsonArray) rest = NULL;
  g_autoptr (JsonArray) one = NULL;
  g_autoptr (JsonArray) hb = NULL;
  g_autoptr (JsonArray) problems = NULL;
  g_autoptr (GPtrArray) atts = g_ptr_array_new_with_free_func ((GDestroyNotify) sdc_attachment_decl_free);
  SdcAttachmentDecl *decl = g_new0 (SdcAttachmentDecl, 1);
  JsonObject *o;
  JsonArray *list;
  guint total = 0;
  gboolean created;

  if (f->location == NULL)
    return;
  store = open_store (f);
  a = register_one (store, "WEB1", "pw", &created);
  b = register_one (store, "WEB2", "pw", &created);
  c = register_one (store, "WEB3", "pw", &created); /* never seen */
  decl->name = g_strdup ("snap.tar.gz");
  decl->size = 1234;
  decl->sha256 = g_strnfill (64, 'b');
  g_ptr_array_add (atts, decl);
  insert_at (store, a, "a0000000-0000-4000-8000-000000000001", "heartbeat", "2026-11-25T10:00:00Z", NULL, NULL);
  insert_at (store, a, "a0000000-0000-4000-8000-000000000002", "heartbeat", "2026-11-25T11:00:00Z", NULL, NULL);
  insert_at (store, a, "a0000000-0000-4000-8000-000000000003", "heartbeat", "2026-11-25T12:00:00Z", NULL, NULL);
  insert_at (store, a, "a0000000-0000-4000-8000-000000000004", "problem", "2026-11-25T12:30:00Z", atts, NULL);
  insert_at (store, a, "a0000000-0000-4000-8000-000000000005", "uak", "2026-11-25T08:00:00Z", NULL,
             "{\"key_data\":\"UAK1;expires=20271201\"}");
  insert_at (store, b, "b0000000-0000-4000-8000-000000000001", "inventory", "2026-11-25T13:00:00Z", NULL, NULL);

  /* b was seen last, then a; c never: it comes last */
  page = sdc_store_ui_systems (store, NULL, 0, 2, &total, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (total, ==, 3);
  g_assert_cmpuint (json_array_get_length (page), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (page, 0), "system_id"), ==, b);
  o = json_array_get_object_element (page, 1);
  g_assert_cmpstr (json_object_get_string_member (o, "system_id"), ==, a);
  g_assert_cmpstr (json_object_get_string_member (o, "last_heartbeat"), ==, "2026-11-25T12:00:00Z");
  g_assert_cmpint (json_object_get_int_member (o, "heartbeats"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "problems"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (o, "inventories"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "uak_answer"), "key_data"), ==,
                   "UAK1;expires=20271201");
  rest = sdc_store_ui_systems (store, NULL, 2, 2, &total, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (rest), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rest, 0), "system_id"), ==, c);
  one = sdc_store_ui_systems (store, b, 0, 1, &total, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (total, ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (one, 0), "inventories"), ==, 1);

  /* a's heartbeats, newest first, two to a page */
  hb = sdc_store_ui_reports (store, a, "heartbeat", 1, 2, &total, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (total, ==, 3);
  g_assert_cmpuint (json_array_get_length (hb), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (hb, 0), "received"), ==,
                   "2026-11-25T11:00:00Z");
  problems = sdc_store_ui_reports (store, a, "problem", 0, 20, &total, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (total, ==, 1);
  o = json_array_get_object_element (problems, 0);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "service_request"), "SR"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "body"), "srn"), ==, "651-204");
  list = json_object_get_array_member (o, "attachments");
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (list, 0), "size"), ==, 1234);
}

/* Every value an agent chose is escaped in the pages (the browser test checks the same
 * in chromium; this one runs without it). */
static void
test_ui_escape (void)
{
  g_autoptr (JsonArray) systems = json_array_new ();
  g_autoptr (JsonArray) empty = json_array_new ();
  JsonObject *s = json_object_new ();
  g_autofree char *list = NULL;
  g_autofree char *page = NULL;
  json_object_set_string_member (s, "system_id", "ESA-<i>\"x");
  json_object_set_string_member (s, "hostname", "<script>alert(1)</script>");
  json_object_set_string_member (s, "serial", "S&N'");
  json_array_add_object_element (systems, s);
  list = sdc_ui_page_systems (systems, 1, 1);
  g_assert_null (strstr (list, "<script>"));
  g_assert_nonnull (strstr (list, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  g_assert_nonnull (strstr (list, "S&amp;N"));
  g_assert_null (strstr (list, "S&amp;N'"));
  g_assert_nonnull (strstr (list, "/ui/system?id=ESA-%3Ci%3E%22x"));
  g_assert_null (strstr (list, "<i>"));
  page = sdc_ui_page_system (s, empty, 1, 0, empty, 1, 0, empty, 1, 0);
  g_assert_null (strstr (page, "<script>"));
  g_assert_null (strstr (page, "<i>"));
}

/* Every LPAR of a frame is its own system: the pages say which partition. */
static void
test_ui_partition (void)
{
  g_autoptr (JsonArray) systems = json_array_new ();
  g_autoptr (JsonArray) empty = json_array_new ();
  JsonObject *s = json_object_new ();
  g_autofree char *list = NULL;
  g_autofree char *page = NULL;
  json_object_set_string_member (s, "system_id", "ESA-1");
  json_object_set_string_member (s, "serial", "78A1B2C");
  json_object_set_boolean_member (s, "is_lpar", TRUE);
  json_object_set_int_member (s, "lpar_id", 5);
  json_object_set_string_member (s, "lpar_name", "lpar<05>");
  json_array_add_object_element (systems, s);
  list = sdc_ui_page_systems (systems, 1, 1);
  g_assert_nonnull (strstr (list, "5 (lpar&lt;05&gt;)"));
  page = sdc_ui_page_system (s, empty, 1, 0, empty, 1, 0, empty, 1, 0);
  g_assert_nonnull (strstr (page, "<dt>LPAR</dt><dd>5 (lpar&lt;05&gt;)</dd>"));
}

/* SQLite only: a version-1 database (as an older esa-sdc left it, one system per
 * machine) is upgraded in place; its systems and reports stay. */
/* Two connections opening one new SQLite file at the same moment (two `serve` started
 * together, or the CLI beside a starting server) both migrate it: each step runs once,
 * under the write lock, and neither fails with "table ... already exists". */
typedef struct {
  const char *path;
  GMutex *lock;
  GCond *cond;
  guint *ready;
  GError *error;
} OpenRace;

static gpointer
open_race_thread (gpointer data)
{
  OpenRace *r = data;
  SdcStore *store;
  g_mutex_lock (r->lock);
  (*r->ready)++;
  g_cond_broadcast (r->cond);
  while (*r->ready < 2)
    g_cond_wait (r->cond, r->lock);
  g_mutex_unlock (r->lock);
  store = sdc_store_open (r->path, &r->error);
  g_clear_object (&store);
  return NULL;
}

static void
test_sqlite_concurrent_migrate (void)
{
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-race");
  for (guint round = 0; round < 20; round++)
    {
      g_autofree char *path = g_strdup_printf ("%s/sdc-%u.db", tmp, round);
      GMutex lock;
      GCond cond;
      guint ready = 0;
      OpenRace a = { path, &lock, &cond, &ready, NULL };
      OpenRace b = { path, &lock, &cond, &ready, NULL };
      GThread *ta, *tb;
      g_mutex_init (&lock);
      g_cond_init (&cond);
      ta = g_thread_new ("open-a", open_race_thread, &a);
      tb = g_thread_new ("open-b", open_race_thread, &b);
      g_thread_join (ta);
      g_thread_join (tb);
      g_assert_no_error (a.error);
      g_assert_no_error (b.error);
      g_mutex_clear (&lock);
      g_cond_clear (&cond);
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (SdcStore) store = sdc_store_open (path, &error);
        g_assert_no_error (error);
        g_assert_cmpint (sdc_store_schema_version (store), ==, SDC_STORE_SCHEMA_VERSION);
      }
    }
  esa_test_rmtree (tmp);
}

/* Which PostgreSQL locations share esa-sdc's host (one writer by default) and which do
 * not (two): libpq's own parse of the URI, every host named, malformed ones not local. */
static void
test_pg_is_local (void)
{
#ifdef HAVE_LIBPQ
  const char *local[] = { "postgresql:///sdc", "postgresql:///sdc?host=/run/postgresql",
                          "postgresql://%2Frun%2Fpostgresql/sdc", "postgresql://localhost/sdc",
                          "postgresql://LOCALHOST:5433/sdc", "postgresql://127.0.0.1/sdc",
                          "postgresql://[::1]:5432/sdc", "postgresql://localhost,127.0.0.2/sdc",
                          "postgres://u:p@localhost/sdc?hostaddr=127.0.0.1", NULL };
  const char *remote[] = { "postgresql://db.example.com/sdc", "postgresql://10.0.0.5/sdc",
                           "postgresql://localhost,db2/sdc", "postgresql://localhost/sdc?hostaddr=10.1.1.1",
                           "postgresql:///sdc?host=db.example.com", "postgresql://[fe80::1]/sdc",
                           "postgresql://[::1/sdc", "postgresql://h/sdc?nosuchkey=1", NULL };
  for (guint i = 0; local[i] != NULL; i++)
    {
      g_test_message ("local: %s", local[i]);
      g_assert_true (sdc_store_pg_is_local (local[i]));
      g_assert_cmpuint (sdc_writer_default_writers (local[i]), ==, 1);
    }
  for (guint i = 0; remote[i] != NULL; i++)
    {
      g_test_message ("not local: %s", remote[i]);
      g_assert_false (sdc_store_pg_is_local (remote[i]));
      g_assert_cmpuint (sdc_writer_default_writers (remote[i]), ==, 2);
    }
#else
  g_test_skip ("built without libpq");
#endif
}

/* The WAL's checkpoint sequence number (its header's bytes 12-15, big-endian): SQLite
 * adds one each time a checkpoint lets the WAL start again from its beginning. */
static guint32
wal_checkpoint_seq (const char *wal, goffset *size)
{
  guchar head[32];
  GStatBuf st;
  FILE *f = fopen (wal, "rb");
  g_assert_nonnull (f);
  g_assert_cmpuint (fread (head, 1, sizeof head, f), ==, sizeof head);
  fclose (f);
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  *size = st.st_size;
  return ((guint32) head[12] << 24) | ((guint32) head[13] << 16) | ((guint32) head[14] << 8) | head[15];
}

/* One report with BODY, in its own transaction. */
static gboolean
insert_report_body (SdcStore *store, const char *system_id, const char *uuid, const char *body, GError **error)
{
  SdcReportRow row = { .uuid = uuid, .system_id = system_id, .kind = "heartbeat", .created = "2026-11-25T09:00:00Z",
                       .received = "2026-11-25T09:00:00Z", .body_json = body };
  return insert_row (store, &row, NULL, error);
}

/* A report body of about 60 KB: some 17 WAL pages a report, so a few hundred reports
 * take the WAL past the checkpoint mark. */
static char *
big_report_body (void)
{
  g_autofree char *filler = g_strnfill (60000, 'x');
  return g_strdup_printf ("{\"data\":\"%s\"}", filler);
}

/* The WAL's bound in write_until_restarts: never past the mark at which a commit
 * checkpoints itself, plus one report. */
#define WAL_BOUND_FORCED (4 * 10000 + 100)
/* No bound: after a reader or a full disk the thread may be busy copying a large
 * backlog when the WAL reaches the forced mark, and a commit then leaves the WAL to it
 * (the mark is passed by what is committed meanwhile: how much depends on the machine's
 * load); only the restart is asked for. */
#define WAL_BOUND_NONE 0

/* Reports of about 17 WAL pages each (a 60 KB body) into STORE, until the WAL has
 * started again RESTARTS times or MAX reports are in, the WAL never past BOUND pages
 * (WAL_BOUND_NONE: any size); returns how many went in and leaves in LARGEST the WAL's
 * largest size, in pages, before its first restart. MID_PASS: each report waits until
 * the checkpoint thread has taken what the one before asked for, so that one commits
 * during its first pass. */
static guint
write_until_restarts (SdcStore *store, const char *system_id, const char *wal, guint restarts, guint max,
                      goffset bound, gboolean mid_pass, goffset *largest)
{
  static guint serial;
  g_autofree char *body = big_report_body ();
  const goffset frame = 4096 + 24;
  goffset size = 0;
  guint32 seq0 = wal_checkpoint_seq (wal, &size);
  guint n, seen = 0;

  *largest = 0;
  for (n = 0; n < max && seen < restarts; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *uuid = g_strdup_printf ("00000000-0000-4000-8000-%012u", serial++);
      gboolean ok = insert_report_body (store, system_id, uuid, body, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      if (mid_pass)
        sdc_store_sqlite_checkpoint_wait (store, FALSE);
      seen = wal_checkpoint_seq (wal, &size) - seq0;
      if (seen == 0)
        *largest = MAX (*largest, size / frame);
      if (bound != WAL_BOUND_NONE)
        g_assert_cmpint (size / frame, <, bound);
    }
  g_test_message ("%u reports; the WAL reached %" G_GOFFSET_FORMAT " pages before it started again; %u restarts",
                  n, *largest, seen);
  return seen;
}

static void
message_checkpoint_stats (const char *when, const SdcSqliteCheckpointStats *st)
{
  g_test_message ("%s: checkpoint thread series %" G_GUINT64_FORMAT ", passes %" G_GUINT64_FORMAT
                  ", syncs %" G_GUINT64_FORMAT "; closing copies %" G_GUINT64_FORMAT ", forced %" G_GUINT64_FORMAT,
                  when, st->series, st->passes, st->syncs, st->closing, st->forced);
}

/* Steady writes (MID_PASS: paced as write_until_restarts says) until the WAL has
 * started again three times: it grew past 5,000 pages first, never past the forced mark;
 * the thread ran its passes and wrote what they copied to the disk (at most one sync a
 * series), so that the closing copy's sync (in a commit) writes only its own pages; no
 * commit forced a checkpoint. */
static void
check_three_restarts (const char *serial, gboolean mid_pass)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sqlite_new_location (NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autoptr (SdcStore) store = sdc_store_open (path, &error);
  SdcSqliteCheckpointStats st;
  gboolean created = FALSE;
  g_autofree char *id = NULL;
  goffset largest = 0;

  g_assert_no_error (error);
  id = register_one (store, serial, "pw", &created);
  g_assert_cmpuint (write_until_restarts (store, id, wal, 3, 4000, WAL_BOUND_FORCED, mid_pass, &largest), ==, 3);
  g_assert_cmpint (largest, >, 5000);
  sdc_store_sqlite_checkpoint_wait (store, TRUE);
  sdc_store_sqlite_checkpoint_stats (store, &st);
  message_checkpoint_stats ("after 3 restarts", &st);
  g_assert_cmpuint (st.series, >=, 3);
  g_assert_cmpuint (st.passes, >=, st.series);
  /* one sync a series that copied: all of them, but for a series asked by a commit whose
   * pages the last pass of the series before had already copied (it then finds nothing) */
  g_assert_cmpuint (st.syncs, >=, 3);
  g_assert_cmpuint (st.syncs, <=, st.series);
  g_assert_cmpuint (st.forced, ==, 0);
}

/* The WAL is checkpointed late (past SQLite's default of 1,000 pages, for throughput:
 * docs/performance.md "WAL checkpoints") and by the checkpoint thread, not inside the
 * commits; a commit copies only what the thread left when it caught up, and under steady
 * writes the WAL starts again from its beginning. */
static void
test_sqlite_wal_checkpoint (void)
{
  check_three_restarts ("WALCK01", FALSE);
}

/* A writer slow enough for the thread to copy the whole WAL in one pass, each commit
 * the same size (one 60 KB value rewritten in place: the same pages every time), so the
 * WAL starts again at the next write and reaches the mark at the very same frame each
 * time. Every pass copied those 10,000 pages, and each is followed by a sync of the
 * database: a pass that ended where the last one had was once taken for one that copied
 * nothing (CI's ASan build met it). A commit never copies the 10,000 pages itself: the
 * count the thread had caught up to, kept past the restart, once had the commit that
 * reached it again do just that. */
static void
test_sqlite_wal_checkpoint_whole (void)
{
  g_autofree char *path = sqlite_new_location (NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  SdcSqliteCheckpointer *ck;
  SdcSqliteCheckpointStats st;
  sqlite3 *db = NULL;
  sqlite3_stmt *update = NULL;
  goffset size = 0;
  guint32 seq0;
  guint n, restarts = 0;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
                                 "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                                 "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB);"
                                 "INSERT INTO t VALUES (1, zeroblob (60000));",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
  ck = sdc_sqlite_checkpointer_attach (db, path);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "UPDATE t SET b = randomblob (60000) WHERE id = 1", -1, &update, NULL),
                   ==, SQLITE_OK);
  seq0 = wal_checkpoint_seq (wal, &size);
  for (n = 0; n < 4000 && restarts < 3; n++)
    {
      g_assert_cmpint (sqlite3_step (update), ==, SQLITE_DONE);
      g_assert_cmpint (sqlite3_reset (update), ==, SQLITE_OK);
      sdc_sqlite_checkpointer_wait (ck, TRUE);
      restarts = wal_checkpoint_seq (wal, &size) - seq0;
    }
  sdc_sqlite_checkpointer_get_stats (ck, &st);
  g_test_message ("%u commits, %u restarts", n, restarts);
  message_checkpoint_stats ("then", &st);
  g_assert_cmpuint (restarts, ==, 3);
  g_assert_cmpuint (st.series, ==, 3);
  g_assert_cmpuint (st.passes, ==, 3);
  g_assert_cmpuint (st.syncs, ==, 3);
  g_assert_cmpuint (st.closing, ==, 0);
  g_assert_cmpuint (st.forced, ==, 0);
  sqlite3_finalize (update);
  sdc_sqlite_checkpointer_release (ck, db);
  sqlite3_close (db);
}

/* Reports of about 17 WAL pages, each after the thread has begun the passes the one
 * before asked for, so that one commits during its first pass: a second pass copies
 * that, the thread has caught up, and the next commit closes the WAL (or the thread
 * copied all of it), which then starts again, three times here, without a commit ever
 * copying the whole WAL itself; the series that copied are followed by a sync of the
 * database. */
static void
test_sqlite_wal_checkpoint_mid_pass (void)
{
  check_three_restarts ("WALCK07", TRUE);
}

/* A reader that keeps an old snapshot open (the web view, `esa-sdc reports`) holds the
 * WAL: no checkpoint may copy past it, so the WAL grows, commits go on, and once the
 * reader ends the WAL starts again. */
static void
test_sqlite_wal_checkpoint_reader (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sqlite_new_location (NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autoptr (SdcStore) store = sdc_store_open (path, &error);
  SdcSqliteCheckpointStats st;
  gboolean created = FALSE;
  g_autofree char *id = NULL;
  goffset largest = 0;
  sqlite3 *reader = NULL;

  g_assert_no_error (error);
  id = register_one (store, "WALCK02", "pw", &created);
  g_assert_cmpint (sqlite3_open (path, &reader), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (reader, "BEGIN; SELECT count(*) FROM reports;", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpuint (write_until_restarts (store, id, wal, 1, 1000, WAL_BOUND_FORCED, FALSE, &largest), ==, 0);
  g_assert_cmpint (largest, >, 15000);
  /* the thread was asked again and again and found nothing to copy (the reader's
   * snapshot predates every report): it synced the database once at most */
  sdc_store_sqlite_checkpoint_stats (store, &st);
  message_checkpoint_stats ("while the reader held the WAL", &st);
  g_assert_cmpuint (st.passes, >=, 10);
  g_assert_cmpuint (st.syncs, <=, 1);
  g_assert_cmpint (sqlite3_exec (reader, "COMMIT;", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (reader);
  /* the thread copies the backlog, or (when it cannot keep up with these writes on a
   * loaded machine: 1,000 reports took the WAL from 19,454 to 39,013 pages once) a
   * commit does at the forced mark */
  g_assert_cmpuint (write_until_restarts (store, id, wal, 1, 4000, WAL_BOUND_NONE, FALSE, &largest), ==, 1);
}

/* Without the checkpoint thread (it could not be started, or it fails) the commits
 * checkpoint the WAL themselves once it holds four times the mark, so it still starts
 * again and stays bounded. */
static void
test_sqlite_wal_checkpoint_no_thread (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sqlite_new_location (NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  SdcSqliteCheckpointStats st;
  SdcStore *store;
  gboolean created = FALSE;
  g_autofree char *id = NULL;
  goffset largest = 0;

  sdc_sqlite_checkpointer_set_threads_enabled (FALSE);
  store = sdc_store_open (path, &error);
  g_assert_no_error (error);
  id = register_one (store, "WALCK05", "pw", &created);
  g_assert_cmpuint (write_until_restarts (store, id, wal, 1, 4000, WAL_BOUND_FORCED, FALSE, &largest), ==, 1);
  sdc_store_sqlite_checkpoint_stats (store, &st);
  message_checkpoint_stats ("without a thread", &st);
  g_assert_cmpint (largest, >=, 4 * 10000);
  g_assert_cmpuint (st.passes, ==, 0);
  g_assert_cmpuint (st.forced, >=, 1);
  g_object_unref (store);
  sdc_sqlite_checkpointer_set_threads_enabled (TRUE);
  /* some hundred MB */
  g_assert_cmpint (g_unlink (path), ==, 0);
}

/* Killed at any moment, a checkpoint likely under way (its writer crosses the mark about
 * every 0.3 s and a pass takes tens of ms): a subprocess stores big reports and after
 * each commit writes how many it has committed; GTest's timeout kills it (SIGALRM, no
 * handler: no cleanup runs). After each of three deaths the file passes SQLite's
 * integrity check and holds every committed report, each once. */
static void
test_sqlite_wal_checkpoint_killed (void)
{
  g_autofree char *dir = g_build_filename (sqlite_tmp_root, "killed", NULL);
  g_autofree char *path = g_build_filename (dir, "sdc.db", NULL);
  g_autofree char *acked_file = g_build_filename (dir, "acked", NULL);
  guint total = 0;

  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      const char *child_dir = g_getenv ("ESA_TEST_WAL_KILLED_DIR");
      g_autofree char *child_path = g_build_filename (child_dir, "sdc.db", NULL);
      g_autofree char *child_acked = g_build_filename (child_dir, "acked", NULL);
      g_autoptr (SdcStore) store = sdc_store_open (child_path, &error);
      g_autofree char *body = big_report_body ();
      gboolean created = FALSE;
      g_autofree char *id = NULL;
      int fd = g_open (child_acked, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      g_assert_no_error (error);
      g_assert_cmpint (fd, >=, 0);
      id = register_one (store, "WALCK04", "pw", &created);
      for (guint n = 1;; n++)
        {
          g_autofree char *uuid = g_strdup_printf ("00000000-0000-4000-a000-%04x%08x", (guint) getpid () & 0xffff, n);
          char count[16];
          g_assert_true (insert_report_body (store, id, uuid, body, &error));
          g_snprintf (count, sizeof count, "%10u\n", n);
          g_assert_cmpint (pwrite (fd, count, 11, 0), ==, 11);
        }
    }

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_setenv ("ESA_TEST_WAL_KILLED_DIR", dir, TRUE);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *acked_text = NULL;
      guint acked, count;

      g_test_trap_subprocess (NULL, (1500 + 500 * i) * G_TIME_SPAN_MILLISECOND, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_failed ();
      g_assert_true (g_file_get_contents (acked_file, &acked_text, NULL, NULL));
      acked = (guint) g_ascii_strtoull (acked_text, NULL, 10);
      g_assert_cmpuint (acked, >, 0);
      count = sdc_test_sqlite_count_reports (path);
      g_test_message ("killed after %u ms: %u reports committed, %u in the file", 1500 + 500 * i, acked, count - total);
      /* every committed one; one more if it died between its commit and the count */
      g_assert_cmpuint (count - total, >=, acked);
      g_assert_cmpuint (count - total, <=, acked + 1);
      total = count;
    }
  g_unsetenv ("ESA_TEST_WAL_KILLED_DIR");
  /* some hundred MB of reports */
  esa_test_rmtree (dir);
}

static GMutex printerr_lock;
static GString *printerr_text;

static void
printerr_capture (const char *text)
{
  g_mutex_lock (&printerr_lock);
  g_string_append (printerr_text, text);
  g_mutex_unlock (&printerr_lock);
}

static gboolean
printerr_has (const char *needle)
{
  g_mutex_lock (&printerr_lock);
  gboolean has = strstr (printerr_text->str, needle) != NULL;
  g_mutex_unlock (&printerr_lock);
  return has;
}

/* A full disk under a checkpoint: the file system (a 450 MB tmpfs, 400 MB of it taken)
 * fills while the WAL is copied into sdc.db. The copy fails and says so on one line,
 * commits fail once the WAL cannot grow, and every report committed before is there;
 * with room again the checkpoint thread copies the WAL and it starts again. Root only
 * (mount); CI runs as root. */
static void
test_sqlite_wal_checkpoint_full_disk (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (sqlite_tmp_root, "full-disk", NULL);
  g_autofree char *path = g_build_filename (dir, "sdc.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *filler = g_build_filename (dir, "filler", NULL);
  g_autofree char *body = big_report_body ();
  g_autofree char *why = NULL;
  SdcStore *store;
  GPrintFunc old_handler;
  gboolean created = FALSE;
  g_autofree char *id = NULL;
  goffset largest = 0;
  guint acked = 0;
  gint64 deadline;
  int fd;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  if (!esa_test_mount_tmpfs (dir, "450m", &why))
    {
      g_test_skip (why);
      return;
    }
  /* room for about 50 MB: the WAL reaches the mark (40 MB), the copy into sdc.db fails;
   * once the filler goes, room for the data to come and a WAL of four times the mark */
  fd = g_open (filler, O_WRONLY | O_CREAT, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (posix_fallocate (fd, 0, (off_t) 400 * 1024 * 1024), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);
  printerr_text = g_string_new (NULL);
  old_handler = g_set_printerr_handler (printerr_capture);

  store = sdc_store_open (path, &error);
  g_assert_no_error (error);
  id = register_one (store, "WALCK03", "pw", &created);
  for (guint n = 0; n < 3000; n++)
    {
      g_autofree char *uuid = g_strdup_printf ("00000000-0000-4000-9000-%012u", n);
      if (!insert_report_body (store, id, uuid, body, &error))
        break;
      acked++;
    }
  g_assert_nonnull (error);
  g_test_message ("%u reports committed; then: %s", acked, error->message);
  g_assert_nonnull (strstr (error->message, "full"));
  g_clear_error (&error);
  g_assert_cmpuint (acked, >, 500);
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (!printerr_has ("checkpoint of ") && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  g_test_message ("logged: %s", printerr_text->str);
  g_assert_true (printerr_has ("database or disk is full (the reports stay in the WAL; tried again after the next commit)"));
  g_assert_cmpuint (sdc_test_sqlite_count_reports (path), ==, acked);

  /* room again: writes go on and the WAL is copied and starts again */
  g_assert_cmpint (g_unlink (filler), ==, 0);
  g_assert_cmpuint (write_until_restarts (store, id, wal, 1, 4000, WAL_BOUND_NONE, FALSE, &largest), ==, 1);
  g_object_unref (store);
  g_assert_cmpuint (sdc_test_sqlite_count_reports (path), >, acked);

  g_set_printerr_handler (old_handler);
  g_string_free (g_steal_pointer (&printerr_text), TRUE);
  esa_test_umount (dir);
}

static void
test_sqlite_upgrade (void)
{
  g_autofree char *path = sqlite_new_location (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  gboolean created;
  {
    g_autoptr (SdcStore) store = sdc_store_open (path, &error);
    g_assert_no_error (error);
    id = register_one (store, "SER1", "pw", &created);
  }
  /* back to the schema of version 1 */
  sqlite_exec_raw (path,
                   "DROP TABLE registrations;"
                   "CREATE TABLE s1 (system_id TEXT PRIMARY KEY,"
                   "  pw_hash TEXT NOT NULL, pw_salt TEXT NOT NULL, pw_iterations INTEGER NOT NULL,"
                   "  platform_id TEXT, vendor TEXT NOT NULL, machine_type TEXT NOT NULL, model TEXT,"
                   "  serial TEXT NOT NULL, hostname TEXT NOT NULL, os TEXT, os_version TEXT,"
                   "  is_lpar INTEGER NOT NULL DEFAULT 0, contact TEXT, registered TEXT NOT NULL, last_seen TEXT,"
                   "  UNIQUE (machine_type, serial));"
                   "INSERT INTO s1 SELECT system_id, pw_hash, pw_salt, pw_iterations, platform_id, vendor,"
                   "  machine_type, model, serial, hostname, os, os_version, is_lpar, contact, registered,"
                   "  last_seen FROM systems;"
                   "DROP TABLE systems; ALTER TABLE s1 RENAME TO systems;"
                   "INSERT INTO reports (uuid, system_id, kind, received, body, answer)"
                   "  SELECT '0b7e8c1e-5f4a-4c1e-9a4e-1d2c3b4a5f61', system_id, 'heartbeat', 'now', '{}', '{}'"
                   "  FROM systems;"
                   "DROP TABLE settings; DROP INDEX reports_by_system_kind; PRAGMA user_version = 1;");
  {
    g_autoptr (SdcStore) store = sdc_store_open (path, &error);
    g_autoptr (SdcPasswordHash) pw = sdc_auth_hash_password ("pw", NULL);
    g_autoptr (JsonArray) reports = NULL;
    g_autofree char *v = NULL;
    g_autofree char *salt = NULL;
    g_autofree char *hash = NULL;
    g_autofree char *lpar = NULL;
    guint iterations;
    SdcSystemInfo info = { .vendor = "IBM", .machine_type = "9009", .serial = "SER1", .hostname = "h2",
                           .is_lpar = TRUE, .lpar_id = 2, .partition = "lpar:2" };
    g_assert_no_error (error);
    g_assert_cmpint (sdc_store_schema_version (store), ==, SDC_STORE_SCHEMA_VERSION);
    v = sdc_store_get_setting (store, "x", "y", &error);
    g_assert_cmpstr (v, ==, "y");
    g_assert_true (sdc_store_get_credentials (store, id, &salt, &hash, &iterations, &error));
    reports = sdc_store_list_reports (store, id, &error);
    g_assert_cmpuint (json_array_get_length (reports), ==, 1);
    /* another partition of the same machine is a system of its own now */
    lpar = sdc_store_register_system (store, &info, pw, "2026-11-25T09:00:00Z", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (lpar, !=, id);
  }
}

static void
test_auth_cache (void)
{
  g_autoptr (SdcAuthCache) cache = sdc_auth_cache_new (2, 3600);
  g_assert_false (sdc_auth_cache_check (cache, "ESA-1", "pw1"));
  sdc_auth_cache_remember (cache, "ESA-1", "pw1");
  g_assert_true (sdc_auth_cache_check (cache, "ESA-1", "pw1"));
  g_assert_false (sdc_auth_cache_check (cache, "ESA-1", "pw2"));
  g_assert_false (sdc_auth_cache_check (cache, "ESA-2", "pw1"));
  /* the id and password are not confusable across the separator */
  sdc_auth_cache_remember (cache, "ESA-1", "");
  g_assert_false (sdc_auth_cache_check (cache, "ESA-1", "pw1"));
  /* a changed password: the old one is refused once forgotten */
  sdc_auth_cache_remember (cache, "ESA-1", "pw1");
  sdc_auth_cache_forget (cache, "ESA-1");
  g_assert_false (sdc_auth_cache_check (cache, "ESA-1", "pw1"));
  /* bounded */
  sdc_auth_cache_remember (cache, "ESA-1", "a");
  sdc_auth_cache_remember (cache, "ESA-2", "b");
  sdc_auth_cache_remember (cache, "ESA-3", "c");
  g_assert_cmpuint (sdc_auth_cache_size (cache), <=, 2);
  g_assert_true (sdc_auth_cache_check (cache, "ESA-3", "c"));
  /* expired entries do not count */
  {
    g_autoptr (SdcAuthCache) quick = sdc_auth_cache_new (10, 0);
    sdc_auth_cache_remember (quick, "ESA-1", "pw1");
    g_assert_false (sdc_auth_cache_check (quick, "ESA-1", "pw1"));
  }
}

static void
test_throttle (void)
{
  g_autoptr (SdcThrottle) t = sdc_throttle_new (3, 60, 4);
  guint wait = 0;
  for (guint i = 0; i < 3; i++)
    {
      g_assert_false (sdc_throttle_blocked (t, "addr:1", &wait));
      sdc_throttle_fail (t, "addr:1");
    }
  g_assert_true (sdc_throttle_blocked (t, "addr:1", &wait));
  g_assert_cmpuint (wait, >=, 1);
  g_assert_cmpuint (wait, <=, 60);
  g_assert_false (sdc_throttle_blocked (t, "addr:2", &wait));
  sdc_throttle_reset (t, "addr:1");
  g_assert_false (sdc_throttle_blocked (t, "addr:1", &wait));
  /* bounded: many keys never grow the table past its limit */
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *k = g_strdup_printf ("addr:%u", i);
      sdc_throttle_fail (t, k);
    }
}

static void
test_auth_basic (void)
{
  struct {
    const char *header;
    const char *user; /* NULL: must be refused */
    const char *password;
  } cases[] = {
    { "Basic dXNlcjpwYXNz", "user", "pass" },
    { "basic dXNlcjpwYXNz", "user", "pass" },
    { "Basic dXNlcjpwYTpzcw==", "user", "pa:ss" },
    { "Basic dXNlcjo=", "user", "" },
    { "Bearer dXNlcjpwYXNz", NULL, NULL },
    { "Basic", NULL, NULL },
    { "Basic ", NULL, NULL },
    { "Basic !!!!", NULL, NULL },
    { "Basic dXNlcnBhc3M=", NULL, NULL }, /* no colon */
    { "Basic OnBhc3M=", NULL, NULL },     /* empty user */
    { "Basic dXNlcgA6cGFzcw==", NULL, NULL }, /* NUL inside */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *user = NULL;
      g_autofree char *password = NULL;
      gboolean ok = sdc_auth_parse_basic (cases[i].header, &user, &password);
      g_assert_cmpint (ok, ==, cases[i].user != NULL);
      g_assert_cmpstr (user, ==, cases[i].user);
      g_assert_cmpstr (password, ==, cases[i].password);
    }
  g_assert_false (sdc_auth_verify ("x", "nothex", "nothex", 1000));
  g_assert_false (sdc_auth_verify ("x", "00", "00", 1000));
}

static void
test_json_parse (void)
{
  struct {
    const char *body;
    int code; /* -1: accepted */
  } cases[] = {
    { "{\"version\":1}", -1 },
    { "", SDC_ERROR_INVALID_JSON },
    { "nul", SDC_ERROR_INVALID_JSON },
    { "{\"version\":1", SDC_ERROR_INVALID_JSON },
    { "[]", SDC_ERROR_INVALID_JSON },
    { "42", SDC_ERROR_INVALID_JSON },
    { "{\"version\":1}\xff", SDC_ERROR_INVALID_JSON },
    { "{}", SDC_ERROR_INVALID_FIELD },
    { "{\"version\":null}", SDC_ERROR_INVALID_FIELD },
    { "{\"version\":1.0}", SDC_ERROR_INVALID_FIELD },
    { "{\"version\":true}", SDC_ERROR_INVALID_FIELD },
    { "{\"version\":2}", SDC_ERROR_UNSUPPORTED_VERSION },
    { "{\"version\":-1}", SDC_ERROR_UNSUPPORTED_VERSION },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) obj = sdc_json_parse_request (cases[i].body, strlen (cases[i].body), G_MAXSIZE, &error);
      if (cases[i].code < 0)
        {
          g_assert_no_error (error);
          g_assert_nonnull (obj);
        }
      else
        {
          g_assert_null (obj);
          g_assert_error (error, SDC_ERROR, cases[i].code);
        }
    }
  /* a NUL inside the body */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonObject) obj = sdc_json_parse_request ("{\"version\":1}\0x", 15, G_MAXSIZE, &error);
    g_assert_null (obj);
    g_assert_error (error, SDC_ERROR, SDC_ERROR_INVALID_JSON);
  }
}

static void
test_json_checks (void)
{
  const char *good_names[] = { "snap.tar.gz", "a", "x..y", "errpt-2026.txt", "ünï" };
  const char *bad_names[] = { "", ".", "..", ".hidden", "a/b", "../x", "a\\b", "a\nb", "a\x7f" };
  g_autofree char *long_name = g_strnfill (201, 'a');
  g_autoptr (GDateTime) d = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (good_names); i++)
    g_assert_true (sdc_json_is_plain_name (good_names[i]));
  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    g_assert_false (sdc_json_is_plain_name (bad_names[i]));
  g_assert_false (sdc_json_is_plain_name (long_name));

  g_assert_true (sdc_json_is_timestamp ("2026-11-25T09:00:00Z"));
  g_assert_true (sdc_json_is_timestamp ("2026-11-25T09:00:00.123+01:00"));
  g_assert_false (sdc_json_is_timestamp ("2026-11-25T09:00:00"));
  g_assert_false (sdc_json_is_timestamp ("2026-11-25"));
  g_assert_false (sdc_json_is_timestamp ("yesterday at noon, UTC"));

  g_assert_true (sdc_json_is_token ("9009"));
  g_assert_false (sdc_json_is_token ("a;b"));
  g_assert_false (sdc_json_is_token ("a=b"));
  g_assert_false (sdc_json_is_token (""));

  g_assert_true (sdc_uak_parse_date ("20261201", &d));
  g_assert_cmpint (g_date_time_get_day_of_month (d), ==, 1);
  g_assert_false (sdc_uak_parse_date ("20260230", NULL));
  g_assert_false (sdc_uak_parse_date ("2026120", NULL));
  g_assert_false (sdc_uak_parse_date ("2026-12-01", NULL));
  g_assert_false (sdc_uak_parse_date ("19691231", NULL));

  {
    g_autofree char *u = sdc_json_canonical_uuid ("0B7E8C1E-5F4A-4C1E-9A4E-1D2C3B4A5F60");
    g_assert_cmpstr (u, ==, "0b7e8c1e-5f4a-4c1e-9a4e-1d2c3b4a5f60");
    g_assert_null (sdc_json_canonical_uuid ("0b7e8c1e5f4a4c1e9a4e1d2c3b4a5f60"));
  }
  {
    g_autoptr (GError) error = g_error_new (SDC_ERROR, SDC_ERROR_INVALID_FIELD, "two\nlines");
    g_autofree char *body = sdc_json_error_body (error);
    g_assert_cmpstr (body, ==, "{\"error\":{\"code\":\"invalid_field\",\"message\":\"two lines\"}}");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  int rc;
  sqlite_tmp_root = esa_test_mkdtemp ("test-sdc-store");
  for (guint i = 0; i < G_N_ELEMENTS (engines); i++)
    {
      const struct {
        const char *name;
        void (*func) (Fixture *, gconstpointer);
      } suite[] = {
        { "schema", test_store_schema },
        { "reports", test_store_reports },
        { "settings", test_store_settings },
        { "concurrent-duplicates", test_store_concurrent_duplicates },
        { "group-commit", test_store_group_commit },
        { "writers-duplicates", test_store_writers_duplicates },
        { "writers-order", test_store_writers_order },
        { "group-commit-grouped", test_store_group_commit_grouped },
        { "writers-duplicates-grouped", test_store_writers_duplicates_grouped },
        { "writers-order-grouped", test_store_writers_order_grouped },
        { "writer-prepare", test_store_writer_prepare },
        { "group-insert", test_store_group_insert },
        { "group-answers", test_store_group_answers },
        { "partitions", test_store_partitions },
        { "web-view", test_store_web_view },
        { "migrate-v4", test_store_migrate_v4 },
        { "last-seen", test_store_last_seen },
      };
      for (guint j = 0; j < G_N_ELEMENTS (suite); j++)
        {
          g_autofree char *path = g_strdup_printf ("/sdc-store/%s/%s", engines[i].name, suite[j].name);
          g_test_add (path, Fixture, &engines[i], fixture_setup, suite[j].func, fixture_teardown);
        }
    }
  g_test_add_func ("/sdc-store/sqlite/upgrade", test_sqlite_upgrade);
  g_test_add_func ("/sdc-store/sqlite/wal-checkpoint", test_sqlite_wal_checkpoint);
  g_test_add_func ("/sdc-store/sqlite/wal-checkpoint-whole", test_sqlite_wal_checkpoint_whole);
  g_test_add_func ("/sdc-store/sqlite/wal-checkpoint-mid-pass", test_sqlite_wal_checkpoint_mid_pass);
  g_test_add_func ("/sdc-store/sqlite/wal-checkpoint-reader", test_sqlite_wal_checkpoint_reader);
  g_test_add_func ("/sdc-store/sqlite/wal-checkpoint-full-disk", test_sqlite_wal_checkpoint_full_disk);
  g_test_add_func ("/sdc-store/sqlite/wal-checkpoint-killed", test_sqlite_wal_checkpoint_killed);
  g_test_add_func ("/sdc-store/sqlite/wal-checkpoint-no-thread", test_sqlite_wal_checkpoint_no_thread);
  g_test_add_func ("/sdc-store/pg-is-local", test_pg_is_local);
  g_test_add_func ("/sdc-store/sqlite/concurrent-migrate", test_sqlite_concurrent_migrate);
  g_test_add_func ("/sdc-ui/escape", test_ui_escape);
  g_test_add_func ("/sdc-ui/partition", test_ui_partition);
  g_test_add_func ("/sdc-auth/cache", test_auth_cache);
  g_test_add_func ("/sdc-auth/throttle", test_throttle);
  g_test_add_func ("/sdc-store/auth-basic", test_auth_basic);
  g_test_add_func ("/sdc-store/json-parse", test_json_parse);
  g_test_add_func ("/sdc-store/json-checks", test_json_checks);
  rc = g_test_run ();
#ifdef HAVE_LIBPQ
  esa_test_pg_stop ();
#endif
  esa_test_rmtree (sqlite_tmp_root);
  g_free (sqlite_tmp_root);
  return rc;
}
