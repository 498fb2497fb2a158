/* uak-lscfg.c: the dotted "Key.....value" VPD lines of lscfg -vp, where
 * the firmware keeps its Update Access Key date. */
#include "config.h"

#include "uak-lscfg.h"
#include "esa/esa-aix-records.h"

#include <esa/esa-error.h>

#include <string.h>

static void
esa_aix_vpd_free (gpointer data)
{
  EsaAixVpd *v = data;
  g_free (v->key);
  g_free (v->value);
  g_free (v);
}

GPtrArray *
esa_aix_parse_lscfg_vpd (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("lscfg", text, warnings);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_vpd_free);

  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      g_autofree char *s = g_strstrip (g_strdup (in.lines[i]));
      const char *dots = strstr (s, "..");
      EsaAixVpd *v;
      if (s[0] == '\0')
        continue;
      if (dots == NULL || dots == s || !g_ascii_isspace (in.lines[i][0]))
        {
          /* device in.lines, "Physical Location:", "PLATFORM SPECIFIC", "Name:" … */
          if (in.first_bad < 0 && !g_ascii_isspace (in.lines[i][0]))
            in.first_bad = (int)i;
          continue;
        }
      v = g_new0 (EsaAixVpd, 1);
      v->key = g_strndup (s, (gsize)(dots - s));
      while (*dots == '.')
        dots++;
      v->value = g_strstrip (g_strdup (dots));
      g_ptr_array_add (list, v);
    }
  if (!esa_aix_reader_check (&in, list->len > 0, "no VPD (\"Key.....value\") lines", error))
    return NULL;
  return g_steal_pointer (&list);
}

const char *
esa_aix_vpd_lookup (GPtrArray *vpd, const char *key)
{
  for (guint i = 0; vpd != NULL && i < vpd->len; i++)
    {
      EsaAixVpd *v = g_ptr_array_index (vpd, i);
      if (g_ascii_strcasecmp (v->key, key) == 0)
        return v->value;
    }
  return NULL;
}
