/* sdc-list.c: `esa-sdc systems` and `esa-sdc reports`.
 *
 * Both read the same arrays the store builds, so the table and --json never disagree. */
#include "config.h"

#include "sdc-list.h"
#include "esa/esa-json.h"
#include "sdc-error.h"
#include "sdc-store.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

static SdcStore *
open_store (const char *dir, const char *location, GError **error)
{
  g_autofree char *db = NULL;
  if (location != NULL)
    return sdc_store_open (location, error);
  db = g_build_filename (dir, "sdc.db", NULL);
  if (!g_file_test (db, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "%s: no database (has `esa-sdc serve --dir %s` run yet?)", db, dir);
      return NULL;
    }
  return sdc_store_open (db, error);
}

static void
print_json (JsonArray *arr)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);
  g_autofree char *text = NULL;
  json_node_set_array (node, arr);
  text = esa_json_to_string (node, TRUE);
  printf ("%s\n", text);
}

static const char *
str_or_dash (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return "-";
  return json_node_get_string (n);
}

/* Prints rows of cells in columns as wide as their widest cell. */
static void
print_table (GPtrArray *rows)
{
  guint ncol = rows->len > 0 ? g_strv_length (g_ptr_array_index (rows, 0)) : 0;
  g_autofree gsize *width = g_new0 (gsize, ncol + 1);
  for (guint r = 0; r < rows->len; r++)
    {
      char **cells = g_ptr_array_index (rows, r);
      for (guint c = 0; c < ncol; c++)
        width[c] = MAX (width[c], (gsize) g_utf8_strlen (cells[c], -1));
    }
  for (guint r = 0; r < rows->len; r++)
    {
      char **cells = g_ptr_array_index (rows, r);
      for (guint c = 0; c < ncol; c++)
        {
          if (c + 1 == ncol)
            printf ("%s\n", cells[c]);
          else
            printf ("%-*s  ", (int) width[c], cells[c]);
        }
    }
}

static char *
human_size (gint64 size)
{
  return g_format_size_full ((guint64) size, G_FORMAT_SIZE_IEC_UNITS);
}

gboolean
sdc_list_systems (const char *dir, const char *db, gboolean json, GError **error)
{
  g_autoptr (SdcStore) store = open_store (dir, db, error);
  g_autoptr (JsonArray) arr = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  if (store == NULL)
    return FALSE;
  arr = sdc_store_list_systems (store, error);
  if (arr == NULL)
    return FALSE;
  if (json)
    {
      print_json (arr);
      return TRUE;
    }
  g_ptr_array_add (rows, g_strsplit ("SYSTEM ID|MACHINE|SERIAL|HOSTNAME|OS|LPAR|REGISTERED|LAST SEEN|REPORTS", "|", -1));
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      const char *model = str_or_dash (o, "model");
      char **cells = g_new0 (char *, 10);
      cells[0] = g_strdup (str_or_dash (o, "system_id"));
      cells[1] = g_strcmp0 (model, "-") == 0 ? g_strdup (str_or_dash (o, "machine_type"))
                                             : g_strdup_printf ("%s-%s", str_or_dash (o, "machine_type"), model);
      cells[2] = g_strdup (str_or_dash (o, "serial"));
      cells[3] = g_strdup (str_or_dash (o, "hostname"));
      cells[4] = g_strdup_printf ("%s %s", str_or_dash (o, "os"), str_or_dash (o, "os_version"));
      /* every LPAR of a frame is its own system: the frame is MACHINE + SERIAL */
      if (json_object_get_member (o, "lpar_id") != NULL && !json_object_get_null_member (o, "lpar_id"))
        cells[5] = g_strdup_printf ("%" G_GINT64_FORMAT " %s", json_object_get_int_member (o, "lpar_id"),
                                    str_or_dash (o, "lpar_name"));
      else
        cells[5] = g_strdup (json_object_get_boolean_member (o, "is_lpar") ? "yes" : "no");
      cells[6] = g_strdup (str_or_dash (o, "registered"));
      cells[7] = json_object_get_member (o, "deactivated") != NULL && !json_object_get_null_member (o, "deactivated")
                     ? g_strdup_printf ("deactivated %s", str_or_dash (o, "deactivated"))
                     : g_strdup (str_or_dash (o, "last_seen"));
      cells[8] = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (o, "reports"));
      g_ptr_array_add (rows, cells);
    }
  print_table (rows);
  return TRUE;
}

/* "SR00000001", "snap.tar.gz 1.2 MiB", "expires 20271201"... whatever tells one report
 * from the next at a glance. */
static char *
report_summary (JsonObject *o)
{
  g_autoptr (GString) s = g_string_new (NULL);
  JsonArray *atts = json_object_get_array_member (o, "attachments");
  JsonNode *answer = json_object_get_member (o, "answer");
  if (g_strcmp0 (str_or_dash (o, "service_request"), "-") != 0)
    g_string_append (s, str_or_dash (o, "service_request"));
  if (answer != NULL && JSON_NODE_HOLDS_OBJECT (answer))
    {
      const char *key = str_or_dash (json_node_get_object (answer), "key_data");
      const char *exp = strstr (key, "expires=");
      if (exp != NULL)
        g_string_append_printf (s, "expires %.8s", exp + 8);
    }
  for (guint i = 0; atts != NULL && i < json_array_get_length (atts); i++)
    {
      JsonObject *a = json_array_get_object_element (atts, i);
      g_autofree char *size = human_size (json_object_get_int_member (a, "size"));
      gboolean received = g_strcmp0 (str_or_dash (a, "path"), "-") != 0;
      g_string_append_printf (s, "%s%s %s%s", s->len > 0 ? ", " : "", str_or_dash (a, "name"), size,
                              received ? "" : " (not uploaded)");
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gboolean
sdc_list_reports (const char *dir, const char *db, const char *system_id, gboolean json,
                  GError **error)
{
  g_autoptr (SdcStore) store = open_store (dir, db, error);
  g_autoptr (JsonArray) arr = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  if (store == NULL)
    return FALSE;
  arr = sdc_store_list_reports (store, system_id, error);
  if (arr == NULL)
    return FALSE;
  if (json)
    {
      print_json (arr);
      return TRUE;
    }
  g_ptr_array_add (rows, g_strsplit ("UUID|KIND|SYSTEM|RECEIVED|SUMMARY", "|", -1));
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      char **cells = g_new0 (char *, 6);
      cells[0] = g_strdup (str_or_dash (o, "uuid"));
      cells[1] = g_strdup (str_or_dash (o, "kind"));
      cells[2] = g_strdup (str_or_dash (o, "system_id"));
      cells[3] = g_strdup (str_or_dash (o, "received"));
      cells[4] = report_summary (o);
      g_ptr_array_add (rows, cells);
    }
  print_table (rows);
  return TRUE;
}
