/* esactl-history.c: `esactl history` and `esactl history show UUID` — what
 * left the machine, read straight from the delivery history in the state dir
 * (core/esa-history.h), so it works while esad is stopped too. */
#include "config.h"

#include "esactl-private.h"
#include "esa-config.h"
#include "esa-history.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

static int
load_history (EsactlOptions *opts, JsonArray **records)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaConfig) config = esa_config_load (opts->config_path, &error);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  if (config == NULL && g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_FOUND))
    config = esa_config_new_default ();
  else if (config == NULL)
    return esactl_fail (opts, ESACTL_EXIT_CONFIG, "invalid_config", "%s", error->message);
  *records = esa_history_read (esa_config_get_state_dir (config), warnings, NULL);
  for (guint i = 0; i < warnings->len && !opts->json && !opts->quiet; i++)
    g_printerr ("warning: %s\n", (const char *) g_ptr_array_index (warnings, i));
  return 0;
}

/* "2026-11-26" (midnight UTC) or a full ISO 8601 time. */
static GDateTime *
parse_since (const char *text)
{
  GDateTime *dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    {
      g_autofree char *midnight = g_strdup_printf ("%sT00:00:00Z", text);
      dt = g_date_time_new_from_iso8601 (midnight, NULL);
    }
  return dt;
}

static void
print_json_records (const char *uuid, JsonArray *records)
{
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) n = json_node_new (JSON_NODE_OBJECT);
  if (uuid != NULL)
    json_object_set_string_member (o, "uuid", uuid);
  json_object_set_array_member (o, "records", json_array_ref (records));
  json_node_set_object (n, o);
  esactl_print_json (n);
}

static int
cmd_history (EsactlOptions *opts, int argc, char **argv)
{
  g_autofree char *since = NULL, *kind = NULL;
  GOptionEntry entries[] = {
    { "since", 's', 0, G_OPTION_ARG_STRING, &since, "Only transmissions at or after DATE (2026-11-26 or ISO 8601)", "DATE" },
    { "kind", 'k', 0, G_OPTION_ARG_STRING, &kind, "Only reports of this kind (heartbeat, inventory, problem …)", "KIND" },
    { NULL },
  };
  g_autoptr (JsonArray) all = NULL;
  g_autoptr (JsonArray) shown = json_array_new ();
  g_autoptr (GDateTime) from = NULL;
  g_autoptr (EsactlTable) t = NULL;
  int rc;
  if (!esactl_parse_options (opts, "history", &argc, &argv, entries, &rc))
    return rc;
  if (argc > 0)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "history: unexpected \"%s\" (see esactl history --help)", argv[0]);
  if (since != NULL && (from = parse_since (since)) == NULL)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage",
                        "history --since \"%s\": expected a date (2026-11-26) or an ISO 8601 time", since);
  if ((rc = load_history (opts, &all)) != 0)
    return rc;
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonObject *r = json_array_get_object_element (all, i);
      g_autoptr (GDateTime) when = g_date_time_new_from_iso8601 (esa_json_peek_string (r, "time") ?: "", NULL);
      if (kind != NULL && g_strcmp0 (esa_json_peek_string (r, "kind"), kind) != 0)
        continue;
      if (from != NULL && (when == NULL || g_date_time_compare (when, from) < 0))
        continue;
      json_array_add_object_element (shown, json_object_ref (r));
    }
  if (opts->json)
    {
      print_json_records (NULL, shown);
      return 0;
    }
  if (json_array_get_length (shown) == 0)
    {
      if (!opts->quiet)
        g_print ("no transmissions%s\n", since != NULL || kind != NULL ? " match" : " yet");
      return 0;
    }
  t = esactl_table_new ("TIME", "KIND", "UUID", "RESULT", "SIZE", "SERVER", "REFERENCE", NULL);
  for (guint i = 0; i < json_array_get_length (shown); i++)
    {
      JsonObject *r = json_array_get_object_element (shown, i);
      g_autofree char *size = json_object_has_member (r, "bytes")
          ? esactl_size ((guint64) esa_json_peek_int (r, "bytes", 0)) : g_strdup ("-");
      esactl_table_add (t, esactl_str (r, "time"), esactl_str (r, "kind"), esactl_str (r, "uuid"),
                        esactl_str (r, "result"), size, esactl_str (r, "server"), esactl_str (r, "reference"), NULL);
    }
  esactl_table_print (t);
  return 0;
}

/* The manifest: what exactly left the machine for one report. */
static int
cmd_history_show (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (JsonArray) all = NULL;
  g_autoptr (JsonArray) mine = json_array_new ();
  int rc;
  if (argc != 1)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "history show: expected the UUID of a report");
  if ((rc = load_history (opts, &all)) != 0)
    return rc;
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonObject *r = json_array_get_object_element (all, i);
      if (g_strcmp0 (esa_json_peek_string (r, "uuid"), argv[0]) == 0)
        json_array_add_object_element (mine, json_object_ref (r));
    }
  if (json_array_get_length (mine) == 0)
    return esactl_fail (opts, ESACTL_EXIT_FAILED, "not_found", "history show %s: no transmission of that report", argv[0]);
  if (opts->json)
    {
      print_json_records (argv[0], mine);
      return 0;
    }
  for (guint i = 0; i < json_array_get_length (mine); i++)
    {
      JsonObject *r = json_array_get_object_element (mine, i);
      JsonArray *atts = json_object_has_member (r, "attachments") ? json_object_get_array_member (r, "attachments") : NULL;
      g_autofree char *body = esactl_size ((guint64) esa_json_peek_int (r, "body_bytes", 0));
      g_autofree char *total = esactl_size ((guint64) esa_json_peek_int (r, "bytes", 0));
      g_print ("%s%s %s %s: %s\n", i > 0 ? "\n" : "", esactl_str (r, "time"), esactl_str (r, "kind"),
               esactl_str (r, "uuid"), esactl_str (r, "result"));
      g_print ("  server:     %s\n  route:      %s\n  transport:  %s\n", esactl_str (r, "server"),
               esactl_str (r, "route"), esactl_str (r, "transport"));
      if (esa_json_peek_string (r, "reference") != NULL)
        g_print ("  reference:  %s\n", esactl_str (r, "reference"));
      if (esa_json_peek_string (r, "body_sha256") == NULL)
        continue;
      g_print ("  total:      %s\n  body:       %s (%" G_GINT64_FORMAT " bytes)  sha256 %s\n", total, body,
               esa_json_peek_int (r, "body_bytes", 0), esactl_str (r, "body_sha256"));
      for (guint j = 0; atts != NULL && j < json_array_get_length (atts); j++)
        {
          JsonObject *a = json_array_get_object_element (atts, j);
          g_autofree char *size = esactl_size ((guint64) esa_json_peek_int (a, "size", 0));
          g_print ("  attachment: %s, %s (%" G_GINT64_FORMAT " bytes)  sha256 %s\n", esactl_str (a, "name"), size,
                   esa_json_peek_int (a, "size", 0), esactl_str (a, "sha256"));
        }
    }
  return 0;
}

const EsactlCommand esactl_history_commands[] = {
  /* "history show" first: "history" alone would take its words otherwise. */
  { "history", "show", "UUID", "print the manifest of a report: what exactly left the machine", cmd_history_show },
  { NULL, "history", "[--since DATE] [--kind KIND]", "list every transmission: time, report, result, bytes, server", cmd_history },
  { NULL, NULL, NULL, NULL, NULL },
};
