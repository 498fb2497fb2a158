/* prtconf.c: the machine summary prtconf prints ("Key: value" lines and
 * indented blocks before INSTALLED RESOURCE LIST). */
#include "config.h"

#include "esa/esa-aix.h"
#include "esa/esa-aix-records.h"
#include "esa/esa-error.h"

#include <string.h>

void
esa_aix_prtconf_free (EsaAixPrtconf *self)
{
  if (self == NULL)
    return;
  g_free (self->system_model);
  g_free (self->serial);
  g_free (self->processor_type);
  g_free (self->processor_mode);
  g_free (self->clock_speed);
  g_free (self->cpu_type);
  g_free (self->kernel_type);
  g_free (self->lpar_name);
  g_free (self->memory_size);
  g_free (self->platform_firmware);
  g_free (self->firmware_version);
  g_free (self->host_name);
  g_free (self->ip_address);
  if (self->fields != NULL)
    g_hash_table_unref (self->fields);
  g_free (self);
}

/* Keys differ in case between levels ("Platform Firmware level"). */
static char *
esa_prtconf_take (GHashTable *fields, const char *key)
{
  GHashTableIter iter;
  gpointer k, v;
  g_hash_table_iter_init (&iter, fields);
  while (g_hash_table_iter_next (&iter, &k, &v))
    if (g_ascii_strcasecmp (k, key) == 0)
      return g_strdup (v);
  return NULL;
}

/* Keys every prtconf prints: output with none of them is not prtconf output
 * ("prtconf: 0706-001 …" looks like "Key: value" too). */
static gboolean
esa_prtconf_is_known (const char *key)
{
  static const char *const known[] = { "System Model",
                                       "Machine Serial Number",
                                       "Processor Type",
                                       "Number Of Processors",
                                       "Processor Clock Speed",
                                       "CPU Type",
                                       "Kernel Type",
                                       "LPAR Info",
                                       "Memory Size",
                                       "Good Memory Size",
                                       "Platform Firmware level",
                                       "Firmware Version",
                                       "Console Login" };
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_ascii_strcasecmp (key, known[i]) == 0)
      return TRUE;
  return FALSE;
}

EsaAixPrtconf *
esa_aix_parse_prtconf (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("prtconf", text, warnings);
  g_autoptr (EsaAixPrtconf) self = g_new0 (EsaAixPrtconf, 1);
  g_autofree char *section = NULL;
  g_autofree char *lpar = NULL;
  g_autofree char *nproc = NULL;
  guint n_top = 0;
  gboolean known = FALSE;

  self->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->lpar_id = -1;
  self->n_processors = -1;
  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;
      const char *line = in.lines[i];
      gboolean indented = line[0] == ' ' || line[0] == '\t';

      if (esa_aix_blank (line) || line[0] == '=')
        continue;
      if (g_str_has_prefix (line, "INSTALLED RESOURCE LIST"))
        break;
      if (!esa_aix_split_key_value (line, &key, &value))
        {
          if (!indented && section == NULL && n_top == 0 && in.first_bad < 0)
            in.first_bad = (int)i;
          /* an unindented line without "Key:" opens a block (Network Information …) */
          if (!indented && n_top > 0)
            {
              g_free (section);
              section = g_strstrip (g_strdup (line));
            }
          continue;
        }
      if (section == NULL && !indented)
        {
          n_top++;
          known = known || esa_prtconf_is_known (key);
          if (g_strcmp0 (value, "Not Available") == 0)
            {
              esa_aix_warn (warnings, "prtconf: %s: Not Available", key);
              continue;
            }
          g_hash_table_replace (self->fields, g_steal_pointer (&key), g_steal_pointer (&value));
        }
      else if (section != NULL && indented && g_strcmp0 (value, "Not Available") != 0)
        g_hash_table_replace (self->fields, g_strdup_printf ("%s/%s", section, key),
                              g_steal_pointer (&value));
    }
  if (n_top > 0 && !known)
    {
      in.first_bad = 0;
      while (esa_aix_blank (in.lines[in.first_bad]))
        in.first_bad++;
      n_top = 0;
    }
  if (!esa_aix_reader_check (&in, n_top > 0, "expected \"Key: value\"", error))
    return NULL;

  self->system_model = esa_prtconf_take (self->fields, "System Model");
  self->serial = esa_prtconf_take (self->fields, "Machine Serial Number");
  self->processor_type = esa_prtconf_take (self->fields, "Processor Type");
  self->processor_mode = esa_prtconf_take (self->fields, "Processor Implementation Mode");
  self->clock_speed = esa_prtconf_take (self->fields, "Processor Clock Speed");
  self->cpu_type = esa_prtconf_take (self->fields, "CPU Type");
  self->kernel_type = esa_prtconf_take (self->fields, "Kernel Type");
  self->memory_size = esa_prtconf_take (self->fields, "Memory Size");
  self->platform_firmware = esa_prtconf_take (self->fields, "Platform Firmware level");
  self->firmware_version = esa_prtconf_take (self->fields, "Firmware Version");
  self->host_name = esa_prtconf_take (self->fields, "Network Information/Host Name");
  self->ip_address = esa_prtconf_take (self->fields, "Network Information/IP Address");
  nproc = esa_prtconf_take (self->fields, "Number Of Processors");
  if (nproc != NULL)
    {
      gint64 n;
      if (esa_aix_parse_int64 (nproc, &n) && n >= 0 && n <= G_MAXINT)
        self->n_processors = (int)n;
      else
        esa_aix_warn (warnings, "prtconf: Number Of Processors: \"%s\" is not a number", nproc);
    }
  lpar = esa_prtconf_take (self->fields, "LPAR Info");
  if (lpar != NULL)
    {
      g_autoptr (GError) error_local = NULL;
      if (esa_aix_parse_lpar_info ("prtconf LPAR Info", lpar, &self->lpar_id, &self->lpar_name, &error_local))
        self->is_lpar = self->lpar_id >= 0;
      else
        esa_aix_warn (warnings, "%s", error_local->message);
    }
  if (self->system_model == NULL && !g_hash_table_contains (self->fields, "System Model"))
    esa_aix_warn (warnings, "prtconf: no System Model");
  return g_steal_pointer (&self);
}
