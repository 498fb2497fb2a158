/* diag-commands.c: the problem log and the test call for people, through
 * esactl (each command runs in a worker thread of esad). */
#include "config.h"

#include "diag-commands.h"
#include "esa/esa-json.h"

#include <string.h>

static const char *
get_str (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* One time format for people and scripts: ISO 8601 UTC (docs/json.md). */
static char *
local_time (JsonObject *e)
{
  g_autoptr (GDateTime) dt = NULL;
  if (get_str (e, "time") != NULL)
    return esa_json_time_iso (get_str (e, "time"));
  dt = g_date_time_new_from_unix_utc (json_object_get_int_member_with_default (e, "time_unix", 0));
  return dt != NULL ? esa_json_time (dt) : g_strdup ("-");
}

/* What scripts see of a log entry: its members (the log's copy is shared,
 * so a new object), with the status in words and the time in the one format
 * ("time"), without the log's epoch copy. */
static JsonObject *
public_entry (JsonObject *e)
{
  JsonObject *o = json_object_new ();
  g_autofree char *st = diag_problem_status_text (e);
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;
  json_object_iter_init (&iter, e);
  while (json_object_iter_next (&iter, &name, &value))
    if (!g_str_equal (name, "time_unix"))
      json_object_set_member (o, name, json_node_copy (value));
  json_object_set_string_member (o, "status_text", st);
  return o;
}

static char *
code_of (JsonObject *e)
{
  const char *srn = get_str (e, "srn"), *src = get_str (e, "src");
  if (srn != NULL && src != NULL)
    return g_strdup_printf ("%s/%s", srn, src);
  if (srn != NULL || src != NULL)
    return g_strdup (srn != NULL ? srn : src);
  if (get_str (e, "code") != NULL)
    return g_strdup (get_str (e, "code"));
  return g_strdup (get_str (e, "label") != NULL ? get_str (e, "label") : "-");
}

char *
diag_commands_format_list (JsonArray *entries)
{
  const char *head[] = { "ID", "TIME", "RESOURCE", "SRN/SRC", "STATUS" };
  guint n = json_array_get_length (entries);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  gsize width[5];
  GString *out = g_string_new (NULL);
  if (n == 0)
    {
      g_string_append (out, "no problems recorded\n");
      return g_string_free (out, FALSE);
    }
  for (guint c = 0; c < 5; c++)
    width[c] = strlen (head[c]);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *e = json_array_get_object_element (entries, i);
      char *row[5];
      row[0] = g_strdup_printf ("%" G_GINT64_FORMAT "%s", json_object_get_int_member_with_default (e, "id", 0),
                                json_object_get_boolean_member_with_default (e, "test", FALSE) ? " (test)" : "");
      row[1] = local_time (e);
      row[2] = g_strdup (get_str (e, "resource") != NULL ? get_str (e, "resource") : "-");
      row[3] = code_of (e);
      row[4] = diag_problem_status_text (e);
      for (guint c = 0; c < 5; c++)
        {
          width[c] = MAX (width[c], (gsize) g_utf8_strlen (row[c], -1));
          g_ptr_array_add (cells, row[c]);
        }
    }
  for (guint i = 0; i <= n; i++)
    {
      for (guint c = 0; c < 4; c++)
        g_string_append_printf (out, "%-*s  ", (int) width[c],
                                i == 0 ? head[c] : (const char *) g_ptr_array_index (cells, (i - 1) * 5 + c));
      g_string_append_printf (out, "%s\n", i == 0 ? head[4] : (const char *) g_ptr_array_index (cells, (i - 1) * 5 + 4));
    }
  return g_string_free (out, FALSE);
}

static JsonObject *
answer (char *text, JsonNode *data, int exit_code)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "text", text);
  g_free (text);
  if (data != NULL)
    json_object_set_member (o, "data", data);
  if (exit_code != 0)
    json_object_set_int_member (o, "exit", exit_code);
  return o;
}

static JsonObject *
cmd_list (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  DiagPlugin *plugin = user_data;
  g_autoptr (JsonArray) entries = diag_problem_log_list (plugin->log);
  JsonNode *data = json_node_new (JSON_NODE_ARRAY);
  (void) ctx;
  if (args != NULL && args[0] != NULL)
    {
      json_node_unref (data);
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "problem list: unexpected argument \"%s\"", args[0]);
      return NULL;
    }
  /* the status text too, so scripts need not rebuild it */
  {
    JsonArray *shown = json_array_new ();
    for (guint i = 0; i < json_array_get_length (entries); i++)
      json_array_add_object_element (shown, public_entry (json_array_get_object_element (entries, i)));
    json_node_take_array (data, shown);
  }
  return answer (diag_commands_format_list (entries), data, 0);
}

static JsonObject *
cmd_show (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  DiagPlugin *plugin = user_data;
  guint64 id = 0;
  g_autoptr (JsonObject) e = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *status = NULL, *when = NULL, *code = NULL;
  JsonNode *data;
  JsonArray *frus;
  (void) ctx;
  if (args == NULL || args[0] == NULL || args[1] != NULL ||
      !g_ascii_string_to_unsigned (args[0], 10, 1, G_MAXUINT, &id, NULL))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "problem show: expected one problem ID (a number from `esactl problem list`)");
      return NULL;
    }
  e = diag_problem_log_get (plugin->log, (guint) id);
  if (e == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "problem %" G_GUINT64_FORMAT ": no such problem", id);
      return NULL;
    }
  status = diag_problem_status_text (e);
  when = local_time (e);
  code = code_of (e);
  g_string_append_printf (text, "problem %" G_GUINT64_FORMAT "%s\n", id,
                          json_object_get_boolean_member_with_default (e, "test", FALSE) ? " (test)" : "");
  g_string_append_printf (text, "  time:        %s\n", when);
  g_string_append_printf (text, "  resource:    %s\n", get_str (e, "resource") ? get_str (e, "resource") : "-");
  g_string_append_printf (text, "  SRN/SRC:     %s\n", code);
  if (get_str (e, "description") != NULL)
    g_string_append_printf (text, "  description: %s\n", get_str (e, "description"));
  if (get_str (e, "label") != NULL)
    g_string_append_printf (text, "  label:       %s\n", get_str (e, "label"));
  if (json_object_has_member (e, "errlog_sequence"))
    g_string_append_printf (text, "  error log:   %" G_GINT64_FORMAT "\n",
                            json_object_get_int_member_with_default (e, "errlog_sequence", -1));
  if (get_str (e, "source") != NULL)
    g_string_append_printf (text, "  source:      %s\n", get_str (e, "source"));
  g_string_append_printf (text, "  status:      %s\n", status);
  if (get_str (e, "uuid") != NULL)
    g_string_append_printf (text, "  report:      %s\n", get_str (e, "uuid"));
  frus = json_object_has_member (e, "frus") && JSON_NODE_HOLDS_ARRAY (json_object_get_member (e, "frus"))
           ? json_object_get_array_member (e, "frus") : NULL;
  for (guint i = 0; frus != NULL && i < json_array_get_length (frus); i++)
    {
      JsonObject *f = json_array_get_object_element (frus, i);
      gint64 prob;
      g_autofree char *p = NULL;
      if (f == NULL)
        continue;
      prob = json_object_get_int_member_with_default (f, "probability", -1);
      p = prob >= 0 ? g_strdup_printf ("%3" G_GINT64_FORMAT "%%", prob) : g_strdup ("   -");
      g_string_append_printf (text, "  FRU %u:       %s %-8s %s%s%s\n", i + 1, p,
                              get_str (f, "part_number") ? get_str (f, "part_number") : "n/a",
                              get_str (f, "location") ? get_str (f, "location") : "-",
                              get_str (f, "description") ? "  " : "",
                              get_str (f, "description") ? get_str (f, "description") : "");
    }
  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, public_entry (e));
  return answer (g_string_free (g_steal_pointer (&text), FALSE), data, 0);
}

static JsonObject *
cmd_test (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  DiagPlugin *plugin = user_data;
  g_autoptr (DiagOutcome) out = NULL;
  g_autoptr (JsonObject) entry = NULL;
  JsonNode *data;
  char *text;
  (void) ctx;
  if (args != NULL && args[0] != NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "problem test: unexpected argument \"%s\"", args[0]);
      return NULL;
    }
  out = diag_report_test (plugin, NULL);
  entry = out->id != 0 ? diag_problem_log_get (plugin->log, out->id) : json_object_new ();
  json_object_set_string_member (entry, "status_text", out->status_text);
  data = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (data, entry);
  if (out->delivered)
    text = g_strdup_printf ("test problem %u %s (report %s)\nextended data follows as report of kind extended-data\n",
                            out->id, out->status_text, out->uuid);
  else
    text = g_strdup_printf ("test problem %u not delivered: %s\n", out->id, out->status_text);
  /* 6: the exit code esactl uses when no route to the SDC worked */
  return answer (text, data, out->delivered ? 0 : 6);
}

static JsonObject *
cmd_scan (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  DiagPlugin *plugin = user_data;
  g_autofree char *summary = NULL;
  (void) ctx;
  (void) args;
  summary = diag_edac_scan (plugin, NULL, error);
  if (summary == NULL)
    return NULL;
  return answer (g_strconcat (summary, "\n", NULL), NULL, 0);
}

gboolean
diag_commands_register (DiagPlugin *plugin, GError **error)
{
  EsaContext *ctx = plugin->ctx;
  return esa_context_add_command (ctx, "problem list", "", "list hardware problems and what became of them",
                                  cmd_list, plugin, error) &&
         esa_context_add_command (ctx, "problem show", "ID", "show one problem with its FRUs", cmd_show,
                                  plugin, error) &&
         esa_context_add_command (ctx, "problem test", "",
                                  "send a test problem end to end and print its service request number",
                                  cmd_test, plugin, error) &&
         esa_context_add_command (ctx, "problem scan", "",
                                  "look at the Linux hardware counters (EDAC) now", cmd_scan, plugin, error);
}
