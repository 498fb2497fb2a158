/* lsmcode.c: system firmware levels from lsmcode -c (prose lines) and
 * lsmcode -A (device!component:levels). */
#include "config.h"

#include "esa/esa-aix.h"
#include "esa/esa-aix-records.h"
#include "esa/esa-error.h"

#include <string.h>

void
esa_aix_mcode_free (EsaAixMcode *self)
{
  if (self == NULL)
    return;
  g_free (self->permanent);
  g_free (self->temporary);
  g_free (self->booted);
  g_free (self->platform);
  g_free (self->system);
  g_free (self);
}

/* The word after `marker` in line (case-insensitive), trailing '.' dropped. */
static char *
esa_after (const char *line, const char *marker)
{
  g_autofree char *lower = g_ascii_strdown (line, -1);
  g_autofree char *mark = g_ascii_strdown (marker, -1);
  const char *hit = strstr (lower, mark);
  g_auto (GStrv) tok = NULL;
  gsize len;
  if (hit == NULL)
    return NULL;
  tok = esa_aix_tokens (line + (hit - lower) + strlen (mark));
  if (tok[0] == NULL)
    return NULL;
  len = strlen (tok[0]);
  if (len > 1 && tok[0][len - 1] == '.')
    tok[0][len - 1] = '\0';
  return g_strdup (tok[0]);
}

EsaAixMcode *
esa_aix_parse_lsmcode_c (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("lsmcode", text, warnings);
  g_autoptr (EsaAixMcode) self = g_new0 (EsaAixMcode, 1);
  gboolean any = FALSE;

  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      const char *line = in.lines[i];
      g_autofree char *lower = g_ascii_strdown (line, -1);
      char *v;
      if (esa_aix_blank (line))
        continue;
      if ((v = esa_after (line, "permanent system firmware image is")) != NULL)
        esa_aix_replace (&self->permanent, v);
      else if ((v = esa_after (line, "temporary system firmware image is")) != NULL)
        esa_aix_replace (&self->temporary, v);
      else if ((v = esa_after (line, "platform firmware level is")) != NULL)
        esa_aix_replace (&self->platform, v);
      else if ((v = esa_after (line, "system firmware level is")) != NULL)
        esa_aix_replace (&self->system, v);
      else if (strstr (lower, "booted from the temporary") != NULL)
        esa_aix_replace (&self->booted, g_strdup ("temporary"));
      else if (strstr (lower, "booted from the permanent") != NULL)
        esa_aix_replace (&self->booted, g_strdup ("permanent"));
      else
        {
          esa_aix_reader_skip (&in, i, "not understood");
          continue;
        }
      any = TRUE;
    }
  if (!esa_aix_reader_check (&in, any && esa_aix_mcode_current (self) != NULL,
                             "expected \"The current permanent system firmware image is …\"", error))
    return NULL;
  return g_steal_pointer (&self);
}

const char *
esa_aix_mcode_current (const EsaAixMcode *self)
{
  if (g_strcmp0 (self->booted, "permanent") == 0 && self->permanent != NULL)
    return self->permanent;
  if (self->temporary != NULL)
    return self->temporary;
  if (self->permanent != NULL)
    return self->permanent;
  if (self->system != NULL)
    return self->system;
  return self->platform;
}

static void
esa_aix_mcode_entry_free (gpointer data)
{
  EsaAixMcodeEntry *e = data;
  g_free (e->device);
  g_free (e->component);
  g_free (e->levels);
  g_free (e->temporary);
  g_free (e->permanent);
  g_free (e->booted);
  g_free (e);
}

/* "A (t) B (p) C (t)" (old: third is the booted image) or
 * "ML_t (MI_t) (t) ML_p (MI_p) (p) ML_b (MI_b) (b)". */
static void
esa_mcode_levels (EsaAixMcodeEntry *e)
{
  g_auto (GStrv) tok = esa_aix_tokens (e->levels);
  const char *level = NULL;
  guint slot = 0;
  for (guint i = 0; tok[i] != NULL; i++)
    {
      char **dest = NULL;
      if (level == NULL && tok[i][0] != '(')
        {
          level = tok[i];
          continue;
        }
      if (g_strcmp0 (tok[i], "(t)") == 0)
        dest = slot == 2 ? &e->booted : &e->temporary;
      else if (g_strcmp0 (tok[i], "(p)") == 0)
        dest = slot == 2 ? &e->booted : &e->permanent;
      else if (g_strcmp0 (tok[i], "(b)") == 0)
        dest = &e->booted;
      if (dest == NULL)
        continue;
      if (level != NULL && *dest == NULL)
        *dest = g_strdup (level);
      level = NULL;
      slot++;
    }
}

GPtrArray *
esa_aix_parse_lsmcode_A (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("lsmcode -A", text, warnings);
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (esa_aix_mcode_entry_free);

  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (in.lines[i]));
      char *bang = strchr (line, '!');
      char *colon;
      EsaAixMcodeEntry *e;

      if (line[0] == '\0')
        continue;
      if (bang == NULL || bang == line)
        {
          esa_aix_reader_skip (&in, i, "no \"device!\"");
          continue;
        }
      *bang = '\0';
      e = g_new0 (EsaAixMcodeEntry, 1);
      e->device = g_strdup (line);
      colon = strchr (bang + 1, ':');
      if (colon != NULL && strpbrk (bang + 1, " \t") > colon)
        {
          e->component = g_strndup (bang + 1, (gsize)(colon - bang - 1));
          e->levels = g_strstrip (g_strdup (colon + 1));
          esa_mcode_levels (e);
        }
      else
        e->levels = g_strdup (bang + 1);
      g_ptr_array_add (entries, e);
    }
  if (!esa_aix_reader_check (&in, entries->len > 0, "expected \"device!component:levels\"", error))
    return NULL;
  return g_steal_pointer (&entries);
}
