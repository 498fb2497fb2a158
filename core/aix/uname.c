/* uname.c: the system's identity as AIX prints it: uname -a, the single
 * line answers (uname -M/-u/-m, hostname), uname -L's LPAR number and name,
 * and the "IBM,9009-42A" values they carry. */
#include "config.h"

#include "esa/esa-aix.h"
#include "esa/esa-aix-records.h"
#include "esa/esa-error.h"

#include <string.h>

void
esa_aix_split_vendor (const char *value, char **vendor, char **rest)
{
  const char *comma = value != NULL ? strchr (value, ',') : NULL;
  if (comma == NULL)
    {
      if (vendor != NULL)
        *vendor = NULL;
      if (rest != NULL)
        *rest = g_strdup (value);
      return;
    }
  if (vendor != NULL)
    *vendor = g_strstrip (g_strndup (value, (gsize)(comma - value)));
  if (rest != NULL)
    *rest = g_strstrip (g_strdup (comma + 1));
}

gboolean
esa_aix_split_type_model (const char *mtm, char **type, char **model)
{
  const char *dash = mtm != NULL ? strchr (mtm, '-') : NULL;
  if (dash == NULL || dash == mtm || dash[1] == '\0')
    return FALSE;
  *type = g_strndup (mtm, (gsize)(dash - mtm));
  *model = g_strdup (dash + 1);
  return TRUE;
}

gboolean
esa_aix_parse_lpar_info (const char *command, const char *text, int *lpar_id, char **lpar_name,
                         GError **error)
{
  g_autofree char *line = esa_aix_parse_single_line (command, text, error);
  g_auto (GStrv) tok = NULL;
  gint64 id;

  if (line == NULL)
    return FALSE;
  tok = esa_aix_tokens (line);
  if (tok[0] == NULL || !esa_aix_parse_int64 (tok[0], &id) || id < -1 || id > G_MAXINT
      || g_strv_length (tok) > 2)
    {
      esa_aix_set_invalid (error, command, 1, line, "expected \"<partition number> <name>\"");
      return FALSE;
    }
  *lpar_id = (int)id;
  *lpar_name = tok[1] != NULL && g_strcmp0 (tok[1], "NULL") != 0 ? g_strdup (tok[1]) : NULL;
  return TRUE;
}

char *
esa_aix_parse_single_line (const char *command, const char *text, GError **error)
{
  g_auto (GStrv) lines = esa_aix_lines (text);
  for (guint i = 0; lines[i] != NULL; i++)
    if (!esa_aix_blank (lines[i]))
      return g_strstrip (g_strdup (lines[i]));
  esa_aix_set_empty (error, command);
  return NULL;
}

void
esa_aix_uname_free (EsaAixUname *self)
{
  if (self == NULL)
    return;
  g_free (self->sysname);
  g_free (self->nodename);
  g_free (self->release);
  g_free (self->version);
  g_free (self->machine_id);
  g_free (self);
}

EsaAixUname *
esa_aix_parse_uname_a (const char *text, GPtrArray *warnings, GError **error)
{
  g_autofree char *line = esa_aix_parse_single_line ("uname -a", text, error);
  g_auto (GStrv) tok = NULL;
  g_autoptr (EsaAixUname) self = NULL;
  guint n;

  if (line == NULL)
    return NULL;
  tok = esa_aix_tokens (line);
  n = g_strv_length (tok);
  if (n < 4 || !esa_aix_all (tok[2], esa_aix_is_digit) || !esa_aix_all (tok[3], esa_aix_is_digit))
    {
      esa_aix_set_invalid (error, "uname -a", 1, line,
                           "expected \"<sysname> <node> <release> <version> <machine id>\"");
      return NULL;
    }
  self = g_new0 (EsaAixUname, 1);
  self->sysname = g_strdup (tok[0]);
  self->nodename = g_strdup (tok[1]);
  self->release = g_strdup (tok[2]);
  self->version = g_strdup (tok[3]);
  self->machine_id = g_strdup (tok[4]);
  if (n < 5)
    esa_aix_warn (warnings, "uname -a: no machine id in \"%s\"", line);
  else if (n > 5)
    esa_aix_warn (warnings, "uname -a: %u extra words ignored", n - 5);
  if (g_strcmp0 (self->sysname, "AIX") != 0)
    esa_aix_warn (warnings, "uname -a: system name is \"%s\", not AIX", self->sysname);
  return g_steal_pointer (&self);
}

char *
esa_aix_uname_os_version (const EsaAixUname *self)
{
  return g_strdup_printf ("%s.%s", self->version, self->release);
}
