/* test-report.c: EsaReport — building one, the JSON round trip the spool and
 * the transports rely on, and malformed JSON rejected with a clear error. */
#include "config.h"

#include <string.h>

#include "esa-test-util.h"
#include "esa/esa-error.h"
#include "esa/esa-report.h"

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
test_report_new (void)
{
  g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_PROBLEM, "diag");
  g_autoptr (EsaReport) core = esa_report_new (ESA_REPORT_KIND_HEARTBEAT, NULL);
  g_autoptr (EsaReport) other = esa_report_new (ESA_REPORT_KIND_PROBLEM, "diag");
  g_assert_true (g_uuid_string_is_valid (esa_report_get_uuid (report)));
  g_assert_cmpstr (esa_report_get_uuid (report), !=, esa_report_get_uuid (other));
  g_assert_cmpstr (esa_report_get_kind (report), ==, "problem");
  g_assert_cmpstr (esa_report_get_plugin (report), ==, "diag");
  g_assert_cmpstr (esa_report_get_plugin (core), ==, "core");
  g_assert_nonnull (esa_report_get_created (report));
  g_assert_nonnull (esa_report_get_body (report));
  g_assert_cmpuint (json_object_get_size (esa_report_get_body (report)), ==, 0);
  g_assert_null (esa_report_get_parent (report));
  g_assert_cmpuint (esa_report_get_attachments (report)->len, ==, 0);
}

static void
test_report_attachment_names (void)
{
  g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_EXTENDED_DATA, "snap");
  g_autoptr (GError) error = NULL;
  const char *bad[] = { "/tmp/.hidden", "/tmp/a b.txt", "/", "/tmp/caf\xc3\xa9.gz", NULL };

  g_assert_true (esa_report_add_attachment (report, "/var/tmp/snap.pax.gz", "application/gzip", &error));
  g_assert_no_error (error);
  g_assert_true (esa_report_add_attachment (report, "/var/tmp/errpt.txt", NULL, &error));
  g_assert_no_error (error);
  /* Same file name twice inside one report is refused. */
  g_assert_false (esa_report_add_attachment (report, "/elsewhere/snap.pax.gz", NULL, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "snap.pax.gz"));
  g_clear_error (&error);
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_assert_false (esa_report_add_attachment (report, bad[i], NULL, &error));
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
    }
  g_assert_cmpuint (esa_report_get_attachments (report)->len, ==, 2);
  {
    EsaAttachment *att = g_ptr_array_index (esa_report_get_attachments (report), 1);
    g_assert_cmpstr (att->name, ==, "errpt.txt");
    g_assert_cmpstr (att->path, ==, "/var/tmp/errpt.txt");
    g_assert_cmpstr (att->content_type, ==, "application/octet-stream");
  }
}

static void
test_report_roundtrip (void)
{
  g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_PROBLEM, "diag");
  g_autoptr (EsaReport) back = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) node2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *body = esa_report_get_body (report);
  JsonArray *frus = json_array_new ();
  GPtrArray *atts;

  json_object_set_string_member (body, "srn", "A00-FF0");
  json_object_set_int_member (body, "count", 3);
  json_object_set_boolean_member (body, "lpar", FALSE);
  json_array_add_string_element (frus, "U78AB.001.WZSGBX1-P1-C1");
  json_object_set_array_member (body, "frus", frus);
  json_object_set_string_member (body, "text", "caf\xc3\xa9 \"quoted\" \n newline");
  esa_report_set_parent (report, "6f2c1a7e-52d9-4f0b-9a3e-1f2b3c4d5e6f");
  g_assert_true (esa_report_add_attachment (report, "/tmp/diag.log", "text/plain", &error));

  node = esa_report_to_json (report);
  /* Through text, as the spool stores it. */
  text = json_to_string (node, FALSE);
  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  back = esa_report_new_from_json (json_parser_get_root (parser), &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);

  g_assert_cmpstr (esa_report_get_uuid (back), ==, esa_report_get_uuid (report));
  g_assert_cmpstr (esa_report_get_kind (back), ==, "problem");
  g_assert_cmpstr (esa_report_get_plugin (back), ==, "diag");
  g_assert_cmpstr (esa_report_get_parent (back), ==, "6f2c1a7e-52d9-4f0b-9a3e-1f2b3c4d5e6f");
  /* ISO 8601 keeps microseconds: the very same instant comes back. */
  g_assert_true (g_date_time_equal (esa_report_get_created (back), esa_report_get_created (report)));
  body = esa_report_get_body (back);
  g_assert_cmpstr (json_object_get_string_member (body, "srn"), ==, "A00-FF0");
  g_assert_cmpint (json_object_get_int_member (body, "count"), ==, 3);
  g_assert_false (json_object_get_boolean_member (body, "lpar"));
  g_assert_cmpstr (json_object_get_string_member (body, "text"), ==, "caf\xc3\xa9 \"quoted\" \n newline");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (body, "frus")), ==, 1);
  atts = esa_report_get_attachments (back);
  g_assert_cmpuint (atts->len, ==, 1);
  g_assert_cmpstr (((EsaAttachment *) g_ptr_array_index (atts, 0))->name, ==, "diag.log");
  g_assert_cmpstr (((EsaAttachment *) g_ptr_array_index (atts, 0))->path, ==, "/tmp/diag.log");
  g_assert_cmpstr (((EsaAttachment *) g_ptr_array_index (atts, 0))->content_type, ==, "text/plain");

  /* And once more: the second serialisation is identical to the first. */
  node2 = esa_report_to_json (back);
  text2 = json_to_string (node2, FALSE);
  g_assert_cmpstr (text, ==, text2);
}

static void
test_report_minimal_json (void)
{
  g_autoptr (JsonNode) node = parse ("{\"uuid\": \"6f2c1a7e-52d9-4f0b-9a3e-1f2b3c4d5e6f\","
                                     " \"kind\": \"heartbeat\", \"plugin\": \"heartbeat\","
                                     " \"created\": \"2024-03-01T10:00:00Z\"}");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaReport) report = esa_report_new_from_json (node, &error);
  g_assert_no_error (error);
  g_assert_null (esa_report_get_parent (report));
  g_assert_cmpuint (json_object_get_size (esa_report_get_body (report)), ==, 0);
  g_assert_cmpuint (esa_report_get_attachments (report)->len, ==, 0);
}

typedef struct {
  const char *name;
  const char *json;
  const char *expected; /* a piece of the error message */
} BadJson;

#define UUID "\"uuid\": \"6f2c1a7e-52d9-4f0b-9a3e-1f2b3c4d5e6f\""
#define REST "\"kind\": \"problem\", \"plugin\": \"diag\", \"created\": \"2024-03-01T10:00:00Z\""

static const BadJson bad_json[] = {
  { "not-object", "[1, 2, 3]", "expected a JSON object" },
  { "string", "\"report\"", "expected a JSON object" },
  { "missing-uuid", "{" REST "}", "uuid: required string is missing" },
  { "null-uuid", "{\"uuid\": null, " REST "}", "uuid: required string is missing" },
  { "uuid-number", "{\"uuid\": 42, " REST "}", "uuid: expected string" },
  { "uuid-object", "{\"uuid\": {}, " REST "}", "uuid: expected string" },
  { "bad-uuid", "{\"uuid\": \"not-a-uuid\", " REST "}", "uuid \"not-a-uuid\" is not a UUID" },
  { "uuid-path", "{\"uuid\": \"../../etc/passwd\", " REST "}", "is not a UUID" },
  { "missing-kind", "{" UUID ", \"plugin\": \"diag\", \"created\": \"2024-03-01T10:00:00Z\"}",
    "kind: required string is missing" },
  { "kind-array", "{" UUID ", \"kind\": [], \"plugin\": \"diag\", \"created\": \"2024-03-01T10:00:00Z\"}",
    "kind: expected string" },
  { "missing-plugin", "{" UUID ", \"kind\": \"problem\", \"created\": \"2024-03-01T10:00:00Z\"}",
    "plugin: required string is missing" },
  { "missing-created", "{" UUID ", \"kind\": \"problem\", \"plugin\": \"diag\"}",
    "created: required string is missing" },
  { "bad-created", "{" UUID ", \"kind\": \"problem\", \"plugin\": \"diag\", \"created\": \"yesterday\"}",
    "created \"yesterday\" is not an ISO 8601 time" },
  { "parent-number", "{" UUID ", " REST ", \"parent\": 7}", "parent: expected string" },
  { "body-array", "{" UUID ", " REST ", \"body\": [1]}", "body is not a JSON object" },
  { "body-string", "{" UUID ", " REST ", \"body\": \"x\"}", "body is not a JSON object" },
  { "attachments-object", "{" UUID ", " REST ", \"attachments\": {}}", "attachments is not a JSON array" },
  { "attachment-string", "{" UUID ", " REST ", \"attachments\": [\"x\"]}", "attachments[0] is not an object" },
  { "attachment-no-name", "{" UUID ", " REST ", \"attachments\": [{\"path\": \"/tmp/x\"}]}",
    "attachments[0]: name: required string is missing" },
  { "attachment-no-path", "{" UUID ", " REST ", \"attachments\": [{\"name\": \"x\"}]}",
    "attachments[0]: path: required string is missing" },
  { "attachment-dotdot", "{" UUID ", " REST ", \"attachments\": [{\"name\": \"../x\", \"path\": \"/tmp/x\"}]}",
    "attachments[0]: name is not a plain file name" },
  { "attachment-slash", "{" UUID ", " REST ", \"attachments\": [{\"name\": \"a/b\", \"path\": \"/tmp/x\"}]}",
    "attachments[0]: name is not a plain file name" },
  { "attachment-abs", "{" UUID ", " REST ", \"attachments\": [{\"name\": \"/etc/passwd\", \"path\": \"/tmp/x\"}]}",
    "attachments[0]: name is not a plain file name" },
  { "attachment-dot", "{" UUID ", " REST ", \"attachments\": [{\"name\": \".\", \"path\": \"/tmp/x\"}]}",
    "attachments[0]: name is not a plain file name" },
  { "attachment-empty", "{" UUID ", " REST ", \"attachments\": [{\"name\": \"\", \"path\": \"/tmp/x\"}]}",
    "attachments[0]: name is not a plain file name" },
  { "attachment-second", "{" UUID ", " REST ", \"attachments\": [{\"name\": \"ok.txt\", \"path\": \"/tmp/x\"},"
    " {\"name\": \"..\", \"path\": \"/tmp/y\"}]}", "attachments[1]: name is not a plain file name" },
  { "attachment-ctype", "{" UUID ", " REST ", \"attachments\": [{\"name\": \"a\", \"path\": \"/tmp/x\", \"content_type\": 1}]}",
    "content_type: expected string" },
};

static void
test_report_bad_json (gconstpointer user_data)
{
  const BadJson *bj = user_data;
  g_autoptr (JsonNode) node = parse (bj->json);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaReport) report = esa_report_new_from_json (node, &error);
  g_assert_null (report);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, bj->expected));
}

static void
test_report_null_node (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaReport) report = esa_report_new_from_json (NULL, &error);
  g_assert_null (report);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/report/new", test_report_new);
  g_test_add_func ("/report/attachment-names", test_report_attachment_names);
  g_test_add_func ("/report/roundtrip", test_report_roundtrip);
  g_test_add_func ("/report/minimal-json", test_report_minimal_json);
  g_test_add_func ("/report/null-node", test_report_null_node);
  for (guint i = 0; i < G_N_ELEMENTS (bad_json); i++)
    {
      g_autofree char *name = g_strdup_printf ("/report/bad-json/%s", bad_json[i].name);
      g_test_add_data_func (name, &bad_json[i], test_report_bad_json);
    }
  return g_test_run ();
}
