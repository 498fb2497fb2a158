/* test-transport-deliver.c: what esa_deliverer_send decides before any
 * network: an attachment that is gone is final, one that cannot be read
 * right now is retried; malformed credentials files are one clear error
 * (never a json-glib critical); a misroute is a local config problem. */
#include "config.h"

#include "esa-deliver.h"
#include "esa-test-util.h"
#include "esa/esa-error.h"

#include <glib/gstdio.h>
#include <string.h>

static EsaOutcome
send_with_attachment (const char *path)
{
  g_autoptr (EsaConfig) config = esa_config_new_default ();
  EsaCredentials creds = { .system_id = (char *) "ESA-0000", .password = (char *) "pw",
                           .server = (char *) "https://localhost:1/" };
  g_autoptr (EsaDeliverer) deliverer = esa_deliverer_new (config, &creds, NULL);
  g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_PROBLEM, "test");
  g_autoptr (GError) error = NULL;
  EsaDelivery d = { 0 };
  EsaOutcome outcome;
  g_assert_true (esa_report_add_attachment (report, path, NULL, &error));
  esa_deliverer_send (deliverer, report, NULL, &d);
  g_assert_nonnull (d.message);
  g_assert_nonnull (strstr (d.message, esa_report_get_uuid (report)));
  g_assert_cmpuint (d.attempts->len, ==, 0); /* nothing went on the wire */
  outcome = d.outcome;
  esa_delivery_clear (&d);
  return outcome;
}

static void
test_attachment_gone_is_final (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-deliver");
  g_autofree char *path = g_build_filename (dir, "snap.tar.gz", NULL);
  g_assert_cmpint (send_with_attachment (path), ==, ESA_OUTCOME_REJECTED);
  esa_test_rmtree (dir);
}

static void
test_attachment_unreadable_is_retried (void)
{
  /* A folder where the file should be: reading fails, but not with "not
   * found" — the kind of trouble (I/O, descriptors) that may pass. */
  g_autofree char *dir = esa_test_mkdtemp ("esa-deliver");
  g_autofree char *path = g_build_filename (dir, "snap.tar.gz", NULL);
  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  g_assert_cmpint (send_with_attachment (path), ==, ESA_OUTCOME_NEXT_SERVER);
  esa_test_rmtree (dir);
}

/* Each malformed credentials file is refused with the file and the member
 * named; G_DEBUG=fatal-criticals (the suite's) turns any critical into a crash. */
static void
test_credentials_malformed (void)
{
  const struct { const char *text; const char *want; } cases[] = {
    { "{\"system_id\": {}, \"password\": \"pw\"}", "system_id: expected string, got object" },
    { "{\"system_id\": \"ESA-1\", \"password\": [1]}", "password: expected string, got array" },
    { "{\"system_id\": \"ESA-1\", \"password\": \"pw\", \"server\": {\"a\": 1}}", "server: expected string, got object" },
    { "{\"system_id\": \"ESA-1\", \"password\": \"pw\", \"activated\": 17}", "activated: expected string, got number" },
    { "{\"system_id\": \"ESA-1\"}", "password: required string is missing" },
    { "{\"system_id\": \"\", \"password\": \"pw\"}", "system_id" },
    { "[\"ESA-1\", \"pw\"]", "expected a JSON object, got array" },
    { "{\"system_id\": ", "not valid JSON" },
    { "", "" },
    { "\xff\xfe{}", "not UTF-8" },
  };
  g_autofree char *dir = esa_test_mkdtemp ("esa-creds");
  g_autofree char *path = g_build_filename (dir, "credentials", NULL);
  g_autofree char *deep = g_strnfill (60000, '['); /* under the size cap, over the depth cap */
  for (guint i = 0; i <= G_N_ELEMENTS (cases); i++)
    {
      const char *text = i < G_N_ELEMENTS (cases) ? cases[i].text : deep;
      const char *want = i < G_N_ELEMENTS (cases) ? cases[i].want : "nested deeper";
      g_autoptr (GError) error = NULL;
      g_autoptr (EsaCredentials) creds = NULL;
      esa_test_write_file (path, text, 0600);
      creds = esa_credentials_load (dir, &error);
      g_assert_null (creds);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, want));
    }
  /* And the good one still loads. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (EsaCredentials) creds = NULL;
    esa_test_write_file (path, "{\"system_id\": \"ESA-1\", \"password\": \"pw\", \"server\": null}", 0600);
    creds = esa_credentials_load (dir, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (creds->system_id, ==, "ESA-1");
    g_assert_null (creds->server);
  }
}

/* An attachment as the queue leaves it: size and SHA-256 recorded. */
static EsaReport *
report_spooled (const char *path, guint64 size, const char *sha256)
{
  EsaReport *report = esa_report_new (ESA_REPORT_KIND_PROBLEM, "test");
  EsaAttachment *att;
  g_assert_true (esa_report_add_attachment (report, path, NULL, NULL));
  att = g_ptr_array_index (esa_report_get_attachments (report), 0);
  att->size = size;
  att->sha256 = g_strdup (sha256);
  return report;
}

#define FAKE_SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The stored checksum is what is sent: the file is not hashed again (the
 * fake value would not survive a re-hash). */
static void
test_stored_hash_used (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-deliver");
  g_autofree char *path = g_build_filename (dir, "snap.tar.gz", NULL);
  g_autoptr (EsaReport) report = NULL;
  g_autoptr (JsonNode) env = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *a;
  esa_test_write_file (path, "12345", 0600);
  report = report_spooled (path, 5, FAKE_SHA);
  env = esa_report_envelope (report, &error);
  g_assert_no_error (error);
  a = json_array_get_object_element (json_object_get_array_member (json_node_get_object (env), "attachments"), 0);
  g_assert_cmpstr (json_object_get_string_member (a, "sha256"), ==, FAKE_SHA);
  g_assert_cmpint (json_object_get_int_member (a, "size"), ==, 5);
  esa_test_rmtree (dir);
}

/* A spool copy whose size is not the recorded one is final, before any network. */
static void
test_truncated_is_final (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-deliver");
  g_autofree char *path = g_build_filename (dir, "snap.tar.gz", NULL);
  g_autoptr (EsaConfig) config = esa_config_new_default ();
  EsaCredentials creds = { .system_id = (char *) "ESA-0000", .password = (char *) "pw",
                           .server = (char *) "https://localhost:1/" };
  g_autoptr (EsaDeliverer) deliverer = esa_deliverer_new (config, &creds, NULL);
  g_autoptr (EsaReport) report = NULL;
  EsaDelivery d = { 0 };
  esa_test_write_file (path, "123", 0600);
  report = report_spooled (path, 5, FAKE_SHA);
  esa_deliverer_send (deliverer, report, NULL, &d);
  g_assert_cmpint (d.outcome, ==, ESA_OUTCOME_REJECTED);
  g_assert_cmpuint (d.attempts->len, ==, 0);
  g_test_message ("%s", d.message);
  g_assert_nonnull (strstr (d.message, "3 bytes in the spool, 5 when it was queued"));
  esa_delivery_clear (&d);
  esa_test_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/transport/deliver/attachment-gone-is-final", test_attachment_gone_is_final);
  g_test_add_func ("/transport/deliver/attachment-unreadable-is-retried", test_attachment_unreadable_is_retried);
  g_test_add_func ("/transport/credentials/malformed", test_credentials_malformed);
  g_test_add_func ("/transport/deliver/stored-hash-used", test_stored_hash_used);
  g_test_add_func ("/transport/deliver/truncated-is-final", test_truncated_is_final);
  return g_test_run ();
}
