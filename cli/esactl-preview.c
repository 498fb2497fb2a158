/* esactl-preview.c: `esactl preview heartbeat|inventory|problem-test|uak-status
 * [--output DIR]` —
 * exactly what would be sent (the JSON body as it goes on the wire and the
 * manifest of attachments with sizes and SHA-256), sending nothing (like
 * insights-client --no-upload). esad runs the job as a preview: its report
 * goes to a scratch queue, never to the SDC. */
#include "config.h"

#include "esactl-private.h"
#include "esa/esa-json.h"

/* What can be previewed, and how esad builds it: a job run as a preview, or
 * a plugin's command run as one. Either way the plugin sees that it builds a
 * preview (esa_context_is_preview) and acts on nothing: the problem test
 * writes no problem log and waits for no SDC, the UAK check reads the key
 * but asks for no renewal and writes no key. */
static const struct {
  const char *what;
  const char *job;
  const char *command;
} previews[] = {
  { "heartbeat", "heartbeat", NULL },
  { "inventory", "inventory", NULL },
  { "problem-test", NULL, "problem test" },
  { "uak-status", "uak", NULL },
};

static int
cmd_preview (EsactlOptions *opts, int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Also write the body (UUID.json, byte for byte), the manifest and the attachments to DIR", "DIR" },
    { NULL },
  };
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  const char *job = NULL;
  JsonArray *reports;
  int rc;
  if (!esactl_parse_options (opts, "preview", &argc, &argv, entries, &rc))
    return rc;
  if (argc != 1)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage",
                        "preview: expected what to preview: heartbeat, inventory, problem-test or uak-status (see esactl preview --help)");
  for (guint i = 0; i < G_N_ELEMENTS (previews); i++)
    if (g_str_equal (argv[0], previews[i].what))
      {
        if (previews[i].job != NULL)
          json_object_set_string_member (o, "job", previews[i].job);
        else
          json_object_set_string_member (o, "command", previews[i].command);
        job = previews[i].job != NULL ? previews[i].job : previews[i].command;
      }
  if (job == NULL)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage",
                        "preview \"%s\": expected heartbeat, inventory, problem-test or uak-status", argv[0]);
  if (output != NULL)
    {
      g_autofree char *abs = g_canonicalize_filename (output, NULL);
      json_object_set_string_member (o, "output", abs);
    }
  json_node_set_object (body, o);
  if ((rc = esactl_call (opts, "POST", "/v1/preview", body, &reply)) != 0)
    return rc;
  if (opts->json)
    {
      esactl_print_json (reply);
      return 0;
    }
  reports = json_object_get_array_member (json_node_get_object (reply), "reports");
  if (json_array_get_length (reports) == 0)
    g_print ("%s would send nothing now%s%s\n", argv[0],
             esa_json_peek_string (json_node_get_object (reply), "summary") ? ": " : "",
             esa_json_peek_string (json_node_get_object (reply), "summary") ? esa_json_peek_string (json_node_get_object (reply), "summary") : "");
  for (guint i = 0; i < json_array_get_length (reports); i++)
    {
      JsonObject *r = json_array_get_object_element (reports, i);
      JsonArray *atts = json_object_get_array_member (r, "attachments");
      g_autofree char *total = esactl_size ((guint64) esa_json_peek_int (r, "bytes", 0));
      g_autofree char *size = esactl_size ((guint64) esa_json_peek_int (r, "body_bytes", 0));
      g_print ("%s report %s: %s in all, nothing sent\n", esactl_str (r, "kind"), esactl_str (r, "uuid"), total);
      g_print ("  body:       %s (%" G_GINT64_FORMAT " bytes)  sha256 %s\n", size, esa_json_peek_int (r, "body_bytes", 0),
               esactl_str (r, "body_sha256"));
      for (guint j = 0; j < json_array_get_length (atts); j++)
        {
          JsonObject *a = json_array_get_object_element (atts, j);
          g_autofree char *asize = esactl_size ((guint64) esa_json_peek_int (a, "size", 0));
          g_print ("  attachment: %s, %s (%" G_GINT64_FORMAT " bytes)  sha256 %s\n", esactl_str (a, "name"), asize,
                   esa_json_peek_int (a, "size", 0), esactl_str (a, "sha256"));
        }
      if (!opts->quiet)
        {
          /* the body itself: what the SDC would read */
          g_autoptr (JsonNode) b = json_node_copy (json_object_get_member (r, "body"));
          g_autofree char *text = esa_json_to_string (b, TRUE);
          g_print ("%s\n", text);
        }
    }
  if (esa_json_peek_string (json_node_get_object (reply), "output") != NULL)
    g_print ("written to %s\n", esactl_str (json_node_get_object (reply), "output"));
  return 0;
}

const EsactlCommand esactl_preview_commands[] = {
  { NULL, "preview", "WHAT [--output DIR]", "build what would be sent for WHAT (heartbeat, inventory, problem-test, uak-status): body, attachments with size and SHA-256; sends, queues, renews nothing", cmd_preview },
  { NULL, NULL, NULL, NULL, NULL },
};
