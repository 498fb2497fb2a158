/* uak-lparstat.c: Update Access Key dates as AIX prints them: lparstat -u
 * and the YYYYMMDD answer of uak_expiry. */
#include "config.h"

#include "uak-lparstat.h"
#include "esa/esa-aix-records.h"

#include <esa/esa-aix.h>
#include <esa/esa-error.h>

#include <stdio.h>
#include <string.h>

gboolean
esa_aix_parse_yyyymmdd (const char *command, const char *text, char **date, GError **error)
{
  g_autofree char *line = esa_aix_parse_single_line (command, text, error);
  int y, m, d;

  if (line == NULL)
    return FALSE;
  if (g_strcmp0 (line, "-") == 0 || g_strcmp0 (line, "0") == 0 || g_strcmp0 (line, "00000000") == 0)
    {
      *date = NULL;
      return TRUE;
    }
  if (strlen (line) != 8 || !esa_aix_all (line, esa_aix_is_digit)
      || sscanf (line, "%4d%2d%2d", &y, &m, &d) != 3
      || !g_date_valid_dmy ((GDateDay)d, (GDateMonth)m, (GDateYear)y))
    {
      esa_aix_set_invalid (error, command, 1, line, "expected a date as YYYYMMDD");
      return FALSE;
    }
  *date = g_steal_pointer (&line);
  return TRUE;
}

void
esa_aix_uak_free (EsaAixUak *self)
{
  if (self == NULL)
    return;
  g_free (self->fw_expiry);
  g_free (self->aix_expiry);
  g_free (self->image_date);
  g_free (self);
}

EsaAixUak *
esa_aix_parse_lparstat_u (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("lparstat -u", text, warnings);
  g_autoptr (EsaAixUak) self = g_new0 (EsaAixUak, 1);
  gboolean any = FALSE;

  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      const char *colon = strrchr (in.lines[i], ':');
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;
      g_autofree char *date = NULL;
      g_autoptr (GError) error_local = NULL;
      char **dest = NULL;

      if (esa_aix_blank (in.lines[i]))
        continue;
      if (colon != NULL)
        {
          key = g_strstrip (g_strndup (in.lines[i], (gsize)(colon - in.lines[i])));
          if (g_str_has_prefix (key, "FW Update Access Key"))
            dest = &self->fw_expiry;
          else if (g_str_has_prefix (key, "AIX Update Access Key"))
            dest = &self->aix_expiry;
          else if (g_str_has_prefix (key, "AIX Image Date"))
            dest = &self->image_date;
        }
      if (dest == NULL)
        {
          esa_aix_reader_skip (&in, i, "not understood");
          continue;
        }
      any = TRUE;
      value = g_strstrip (g_strdup (colon + 1));
      if (!esa_aix_parse_yyyymmdd ("lparstat -u", value, &date, &error_local))
        {
          esa_aix_warn (warnings, "lparstat -u: %s: \"%s\" is not a YYYYMMDD date", key, value);
          continue;
        }
      g_free (*dest);
      *dest = g_steal_pointer (&date);
    }
  if (!esa_aix_reader_check (&in, any, "expected \"FW Update Access Key Expiration (YYYYMMDD): …\"", error))
    return NULL;
  return g_steal_pointer (&self);
}
