/* diag-edac.c: reads the EDAC counters from sysfs (under ESA_SYSROOT in
 * tests) and compares them with what the last look saw. Files are read with
 * a size cap: sysfs attributes are tiny, anything big is not one. */
#include "config.h"

#include "diag-edac.h"

#include <esa/esa-error.h>
#include <string.h>

#define EDAC_MAX_FILE 4096

static void
dimm_free (DiagEdacDimm *d)
{
  g_free (d->name);
  g_free (d->label);
  g_free (d->location);
  g_free (d);
}

void
diag_edac_mc_free (DiagEdacMc *mc)
{
  if (mc == NULL)
    return;
  g_free (mc->name);
  g_free (mc->mc_name);
  g_ptr_array_unref (mc->dimms);
  g_free (mc);
}

gboolean
diag_edac_parse_count (const char *path, const char *text, gint64 *out, GError **error)
{
  g_autofree char *copy = g_strdup (text != NULL ? text : "");
  g_autoptr (GError) local = NULL;
  guint64 v;
  g_strstrip (copy);
  if (*copy == '\0')
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: empty (expected a count)", path);
      return FALSE;
    }
  if (!g_ascii_string_to_unsigned (copy, 10, 0, G_MAXINT64, &v, &local))
    {
      g_autofree char *shown = g_utf8_make_valid (copy, MIN (strlen (copy), 40));
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: \"%s\": not a count (%s)", path, shown,
                   local->message);
      return FALSE;
    }
  *out = (gint64) v;
  return TRUE;
}

/* NULL when missing; ESA_ERROR_INVALID_DATA when not a small text file. */
static char *
read_attr (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s", local->message);
      return NULL;
    }
  if (len > EDAC_MAX_FILE || memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: not a sysfs attribute (%" G_GSIZE_FORMAT " bytes)",
                   path, len);
      return NULL;
    }
  return g_strstrip (g_steal_pointer (&text));
}

static char *
read_label (const char *dir, const char *name, GPtrArray *warnings)
{
  g_autoptr (GError) error = NULL;
  char *v = read_attr (dir, name, &error);
  if (error != NULL)
    g_ptr_array_add (warnings, g_strdup (error->message));
  if (v != NULL && (*v == '\0' || !g_utf8_validate (v, -1, NULL)))
    g_clear_pointer (&v, g_free);
  return v;
}

/* -1 with a warning when missing or malformed. */
static gint64
read_count (const char *dir, const char *name, gboolean required, GPtrArray *warnings)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *v = read_attr (dir, name, &error);
  gint64 n = -1;
  if (error != NULL)
    g_ptr_array_add (warnings, g_strdup (error->message));
  else if (v == NULL)
    {
      if (required)
        g_ptr_array_add (warnings, g_strdup_printf ("%s: missing", path));
    }
  else if (!diag_edac_parse_count (path, v, &n, &error))
    {
      g_ptr_array_add (warnings, g_strdup (error->message));
      n = -1;
    }
  return n;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  /* mc2 before mc10 */
  if (strlen (x) != strlen (y))
    return strlen (x) < strlen (y) ? -1 : 1;
  return strcmp (x, y);
}

static GPtrArray *
list_dir (const char *path, const char *prefix)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *n;
  while (dir != NULL && (n = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *full = g_build_filename (path, n, NULL);
      if (g_str_has_prefix (n, prefix) && g_file_test (full, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (names, g_strdup (n));
    }
  g_ptr_array_sort (names, compare_names);
  return names;
}

GPtrArray *
diag_edac_read (const char *sysroot, GPtrArray *warnings, GError **error)
{
  g_autofree char *base = g_build_filename (sysroot, "sys/devices/system/edac/mc", NULL);
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) diag_edac_mc_free);
  g_autoptr (GPtrArray) local_warnings = g_ptr_array_new_with_free_func (g_free);
  if (warnings == NULL)
    warnings = local_warnings;
  if (!g_file_test (base, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "%s: no EDAC memory controllers (is an EDAC driver loaded?)",
                   base);
      return NULL;
    }
  names = list_dir (base, "mc");
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *dir = g_build_filename (base, name, NULL);
      DiagEdacMc *mc;
      gint64 ce = read_count (dir, "ce_count", TRUE, warnings);
      gint64 ue = read_count (dir, "ue_count", TRUE, warnings);
      if (ce < 0 || ue < 0)
        {
          g_ptr_array_add (warnings, g_strdup_printf ("%s: skipped (counters not readable)", dir));
          continue;
        }
      mc = g_new0 (DiagEdacMc, 1);
      mc->name = g_strdup (name);
      mc->mc_name = read_label (dir, "mc_name", warnings);
      mc->ce = ce;
      mc->ue = ue;
      mc->dimms = g_ptr_array_new_with_free_func ((GDestroyNotify) dimm_free);
      /* newer kernels: dimm*, rank*; both carry dimm_* attributes */
      for (guint k = 0; k < 2; k++)
        {
          g_autoptr (GPtrArray) sub = list_dir (dir, k == 0 ? "dimm" : "rank");
          for (guint j = 0; j < sub->len; j++)
            {
              g_autofree char *ddir = g_build_filename (dir, g_ptr_array_index (sub, j), NULL);
              DiagEdacDimm *d = g_new0 (DiagEdacDimm, 1);
              d->name = g_strdup (g_ptr_array_index (sub, j));
              d->label = read_label (ddir, "dimm_label", warnings);
              d->location = read_label (ddir, "dimm_location", warnings);
              d->ce = read_count (ddir, "dimm_ce_count", FALSE, warnings);
              d->ue = read_count (ddir, "dimm_ue_count", FALSE, warnings);
              g_ptr_array_add (mc->dimms, d);
            }
        }
      g_ptr_array_add (list, mc);
    }
  return g_steal_pointer (&list);
}

JsonObject *
diag_edac_state (GPtrArray *mcs)
{
  JsonObject *state = json_object_new ();
  for (guint i = 0; i < mcs->len; i++)
    {
      DiagEdacMc *mc = g_ptr_array_index (mcs, i);
      JsonObject *o = json_object_new ();
      JsonObject *dimms = json_object_new ();
      json_object_set_int_member (o, "ce", mc->ce);
      json_object_set_int_member (o, "ue", mc->ue);
      for (guint j = 0; j < mc->dimms->len; j++)
        {
          DiagEdacDimm *d = g_ptr_array_index (mc->dimms, j);
          JsonObject *dobj = json_object_new ();
          json_object_set_int_member (dobj, "ce", d->ce);
          json_object_set_int_member (dobj, "ue", d->ue);
          json_object_set_object_member (dimms, d->name, dobj);
        }
      json_object_set_object_member (o, "dimms", dimms);
      json_object_set_object_member (state, mc->name, o);
    }
  return state;
}

static gint64
prev_count (JsonObject *o, const char *member)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, member) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return -1;
  return json_node_get_int (n);
}

static JsonObject *
member_object (JsonObject *o, const char *member)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, member) : NULL;
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

GPtrArray *
diag_edac_compare (JsonObject *previous, GPtrArray *mcs)
{
  GPtrArray *findings = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  for (guint i = 0; i < mcs->len; i++)
    {
      DiagEdacMc *mc = g_ptr_array_index (mcs, i);
      JsonObject *prev = member_object (previous, mc->name);
      JsonObject *prev_dimms = member_object (prev, "dimms");
      gint64 prev_ue = prev_count (prev, "ue");
      JsonObject *f;
      JsonObject *edac;
      JsonArray *frus;
      g_autofree char *what = NULL;
      if (prev_ue < 0 || mc->ue <= prev_ue)
        continue;
      f = json_object_new ();
      frus = json_array_new ();
      what = mc->mc_name != NULL ? g_strdup_printf ("%s (%s)", mc->name, mc->mc_name) : g_strdup (mc->name);
      json_object_set_string_member (f, "code", "EDAC-UE");
      json_object_set_string_member (f, "resource", mc->name);
      json_object_set_string_member (f, "source", "edac");
      {
        g_autofree char *desc = g_strdup_printf ("memory controller %s: uncorrectable memory errors rose from %"
                                                 G_GINT64_FORMAT " to %" G_GINT64_FORMAT, what, prev_ue, mc->ue);
        json_object_set_string_member (f, "description", desc);
      }
      for (guint j = 0; j < mc->dimms->len; j++)
        {
          DiagEdacDimm *d = g_ptr_array_index (mc->dimms, j);
          gint64 before = prev_count (member_object (prev_dimms, d->name), "ue");
          JsonObject *fru;
          if (d->ue < 0 || d->ue <= MAX (before, 0))
            continue;
          fru = json_object_new ();
          json_object_set_null_member (fru, "part_number");
          json_object_set_int_member (fru, "probability", -1);
          json_object_set_string_member (fru, "location", d->label != NULL ? d->label : d->name);
          json_object_set_string_member (fru, "device", d->name);
          if (d->location != NULL)
            json_object_set_string_member (fru, "description", d->location);
          else
            json_object_set_string_member (fru, "description", "memory module");
          json_array_add_object_element (frus, fru);
        }
      json_object_set_array_member (f, "frus", frus);
      edac = json_object_new ();
      json_object_set_int_member (edac, "ce_count", mc->ce);
      json_object_set_int_member (edac, "ue_count", mc->ue);
      json_object_set_int_member (edac, "previous_ue_count", prev_ue);
      if (mc->mc_name != NULL)
        json_object_set_string_member (edac, "mc_name", mc->mc_name);
      json_object_set_object_member (f, "edac", edac);
      g_ptr_array_add (findings, f);
    }
  return findings;
}
