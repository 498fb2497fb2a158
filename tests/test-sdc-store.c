/* test-sdc-store.c: the SDC's SQLite store (schema migrations, reopening, registration)
 * and its request parsers, linked directly from sdc/libesa-sdc.la. */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "esa-test-util.h"
#include "sdc-auth.h"
#include "sdc-error.h"
#include "sdc-json.h"
#include "sdc-store.h"
#include "sdc-uak.h"

static void
exec_sql (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static gboolean
index_exists (const char *path, const char *name)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gboolean found;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return found;
}

static char *
register_one (SdcStore *store, const char *serial, const char *password, gboolean *created)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SdcPasswordHash) pw = sdc_auth_hash_password (password, &error);
  SdcSystemInfo info = { .vendor = "IBM", .machine_type = "9009", .serial = serial, .hostname = "h" };
  char *id;
  g_assert_no_error (error);
  id = sdc_store_register_system (store, &info, pw, "2026-11-25T09:00:00Z", created, &error);
  g_assert_no_error (error);
  return id;
}

static void
test_store_migrations (void)
{
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-store");
  g_autofree char *path = g_build_filename (tmp, "sdc.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *salt = NULL;
  g_autofree char *hash = NULL;
  guint iterations = 0;
  gboolean created = FALSE;

  /* from nothing to the current schema */
  {
    g_autoptr (SdcStore) store = sdc_store_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (sdc_store_schema_version (store), ==, SDC_STORE_SCHEMA_VERSION);
    id = register_one (store, "SER1", "secret-one", &created);
    g_assert_true (created);
  }
  g_assert_true (index_exists (path, "reports_by_system"));
  /* reopening keeps the data and applies nothing twice */
  {
    g_autoptr (SdcStore) store = sdc_store_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (sdc_store_schema_version (store), ==, SDC_STORE_SCHEMA_VERSION);
    g_assert_true (sdc_store_get_credentials (store, id, &salt, &hash, &iterations, &error));
    g_assert_true (sdc_auth_verify ("secret-one", salt, hash, iterations));
    g_assert_false (sdc_auth_verify ("secret-two", salt, hash, iterations));
  }
  /* a version-1 database (as an older esa-sdc left it) is upgraded in place */
  exec_sql (path, "DROP INDEX reports_by_system; PRAGMA user_version = 1;");
  {
    g_autoptr (SdcStore) store = sdc_store_open (path, &error);
    g_autofree char *again = NULL;
    g_assert_no_error (error);
    g_assert_cmpint (sdc_store_schema_version (store), ==, SDC_STORE_SCHEMA_VERSION);
    /* same machine: same id, not a new row */
    again = register_one (store, "SER1", "secret-two", &created);
    g_assert_false (created);
    g_assert_cmpstr (again, ==, id);
  }
  g_assert_true (index_exists (path, "reports_by_system"));
  /* a newer schema than this program knows is refused, not clobbered */
  exec_sql (path, "PRAGMA user_version = 99;");
  {
    g_autoptr (SdcStore) store = sdc_store_open (path, &error);
    g_assert_null (store);
    g_assert_error (error, SDC_ERROR, SDC_ERROR_INTERNAL);
    g_assert_nonnull (strstr (error->message, "99"));
  }
  esa_test_rmtree (tmp);
}

static void
test_store_reports (void)
{
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-store");
  g_autofree char *path = g_build_filename (tmp, "sdc.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SdcStore) store = sdc_store_open (path, &error);
  g_autofree char *id = NULL;
  g_autofree char *sr = NULL;
  g_autofree char *sys = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *answer = NULL;
  g_autoptr (JsonArray) list = NULL;
  guint status = 0;
  gboolean created;
  SdcReportRow row = { .uuid = "0b7e8c1e-5f4a-4c1e-9a4e-1d2c3b4a5f60", .kind = "problem",
                       .created = "2026-11-25T09:00:00Z", .received = "2026-11-25T09:00:01Z",
                       .body_json = "{\"srn\":\"1\"}" };

  g_assert_no_error (error);
  id = register_one (store, "SER2", "pw", &created);
  row.system_id = id;
  g_assert_true (sdc_store_lookup_report (store, row.uuid, &sys, &kind, &status, &answer, &error));
  g_assert_null (answer);
  /* the SR row is written before its report: the foreign key is checked at COMMIT */
  g_assert_true (sdc_store_begin (store, &error));
  sr = sdc_store_new_service_request (store, row.uuid, id, row.received, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (sr, "SR"));
  g_assert_true (sdc_store_insert_report (store, &row, NULL, 200, "{\"status\":\"stored\"}", &error));
  g_assert_true (sdc_store_commit (store, &error));
  g_assert_true (sdc_store_lookup_report (store, row.uuid, &sys, &kind, &status, &answer, &error));
  g_assert_cmpstr (answer, ==, "{\"status\":\"stored\"}");
  g_assert_cmpstr (sys, ==, id);
  g_assert_cmpuint (status, ==, 200);
  /* a second insert of the same uuid fails and is rolled back whole */
  g_assert_true (sdc_store_begin (store, &error));
  g_assert_false (sdc_store_insert_report (store, &row, NULL, 200, "{}", &error));
  g_clear_error (&error);
  sdc_store_rollback (store);
  list = sdc_store_list_reports (store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list, 0), "service_request"), ==, sr);
  esa_test_rmtree (tmp);
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
  g_test_add_func ("/sdc-store/migrations", test_store_migrations);
  g_test_add_func ("/sdc-store/reports", test_store_reports);
  g_test_add_func ("/sdc-store/auth-basic", test_auth_basic);
  g_test_add_func ("/sdc-store/json-parse", test_json_parse);
  g_test_add_func ("/sdc-store/json-checks", test_json_checks);
  return g_test_run ();
}
