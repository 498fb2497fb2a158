/* lslpp.c: installed filesets from lslpp -l (columns), lslpp -lc and
 * lslpp -Lc (colon records), and their JSON form. */
#include "config.h"

#include "esa/esa-aix.h"
#include "esa/esa-aix-records.h"
#include "esa/esa-error.h"

#include <string.h>

static void
esa_aix_fileset_free (gpointer data)
{
  EsaAixFileset *f = data;
  g_free (f->fileset);
  g_free (f->level);
  g_free (f->state);
  g_free (f->description);
  g_free (f->path);
  g_free (f->package);
  g_free (f->ptf);
  g_free (f->type);
  g_free (f->build_date);
  g_free (f);
}

static gboolean
esa_is_level (const char *s)
{
  return s != NULL && g_ascii_isdigit (s[0]) && strchr (s, '.') != NULL;
}

static gboolean
esa_is_state (const char *s)
{
  static const char *const states[] = { "APPLIED",  "COMMITTED",  "BROKEN",    "EFIXLOCKED",   "OBSOLETE",
                                        "APPLYING", "COMMITTING", "REJECTING", "DEINSTALLING", "AVAILABLE" };
  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    if (g_strcmp0 (s, states[i]) == 0)
      return TRUE;
  return FALSE;
}

/* A header alone is an empty list; nothing at all, or only garbage, is an error. */
static gboolean
esa_lslpp_check (GPtrArray *list, EsaAixReader *r, gboolean header, GError **error)
{
  return esa_aix_reader_check (r, list->len > 0 || (header && r->first_bad < 0), "not a fileset line", error);
}

GPtrArray *
esa_aix_parse_lslpp_l (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("lslpp -l", text, warnings);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_fileset_free);
  g_autofree char *path = NULL;
  g_autofree char *pending = NULL; /* a fileset name too long for its column */
  EsaAixFileset *cur = NULL;
  gboolean header = FALSE;

  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      const char *line = in.lines[i];
      g_auto (GStrv) tok = esa_aix_tokens (line);
      guint n = g_strv_length (tok);
      guint ind = esa_aix_indent (line);
      guint first = 0;

      if (n == 0)
        {
          cur = NULL;
          continue;
        }
      if (g_strcmp0 (tok[0], "Fileset") == 0 || g_str_has_prefix (tok[0], "----"))
        {
          header = TRUE;
          continue;
        }
      if (g_strcmp0 (tok[0], "Path:") == 0 && n == 2)
        {
          header = TRUE;
          g_free (path);
          path = g_strdup (tok[1]);
          cur = NULL;
          continue;
        }
      if (g_str_has_prefix (tok[0], "lslpp:"))
        {
          esa_aix_warn (warnings, "%s", g_strstrip (in.lines[i]));
          continue;
        }
      if (pending != NULL && n >= 2 && esa_is_level (tok[0]) && esa_is_state (tok[1]))
        first = 0;
      else if (n >= 3 && ind < 8 && esa_is_level (tok[1]) && esa_is_state (tok[2]))
        {
          g_clear_pointer (&pending, g_free);
          pending = g_strdup (tok[0]);
          first = 1;
        }
      else if (cur != NULL && ind >= 8)
        {
          g_autofree char *more = g_strstrip (g_strdup (line));
          if (g_strcmp0 (more, "EFIXLOCKED") == 0)
            cur->efix_locked = TRUE;
          else
            esa_aix_append_text (&cur->description, more);
          continue;
        }
      else if (n == 1 && ind < 8 && esa_aix_all (tok[0], esa_aix_is_name))
        {
          g_free (pending);
          pending = g_strdup (tok[0]);
          cur = NULL;
          continue;
        }
      else
        {
          esa_aix_reader_skip (&in, i, "not understood");
          cur = NULL;
          continue;
        }

      cur = g_new0 (EsaAixFileset, 1);
      cur->fileset = g_steal_pointer (&pending);
      cur->level = g_strdup (tok[first]);
      cur->state = g_strdup (tok[first + 1]);
      cur->efix_locked = g_strcmp0 (cur->state, "EFIXLOCKED") == 0;
      cur->path = g_strdup (path);
      /* the description keeps its own spacing: the rest of the line */
      cur->description = esa_aix_field (esa_aix_after_words (line, first + 2));
      g_ptr_array_add (list, cur);
    }
  if (pending != NULL)
    esa_aix_warn (warnings, "lslpp -l: fileset %s without a level", pending);
  if (!esa_lslpp_check (list, &in, header, error))
    return NULL;
  return g_steal_pointer (&list);
}

/* Splits a colon line; fields beyond `n` belong to the description at `desc`
 * (descriptions may contain colons). NULL when fewer than `min` fields. */
static GStrv
esa_colon_fields (const char *line, guint n, guint desc, guint min, guint *got)
{
  g_auto (GStrv) raw = g_strsplit (line, ":", -1);
  guint len = g_strv_length (raw);
  g_autoptr (GStrvBuilder) b = NULL;
  guint extra;

  *got = len;
  if (len < min)
    return NULL;
  if (len <= n)
    return g_steal_pointer (&raw);
  extra = len - n;
  b = g_strv_builder_new ();
  for (guint i = 0; i < desc; i++)
    g_strv_builder_add (b, raw[i]);
  {
    g_autofree char *joined = NULL;
    char *saved = raw[desc + extra + 1];
    raw[desc + extra + 1] = NULL;
    joined = g_strjoinv (":", raw + desc);
    raw[desc + extra + 1] = saved;
    g_strv_builder_add (b, joined);
  }
  for (guint i = desc + extra + 1; i < len; i++)
    g_strv_builder_add (b, raw[i]);
  return g_strv_builder_end (b);
}

GPtrArray *
esa_aix_parse_lslpp_lc (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("lslpp -lc", text, warnings);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_fileset_free);
  gboolean header = FALSE;

  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = NULL;
      EsaAixFileset *fs;
      guint got;

      header = header || in.lines[i][0] == '#';
      if (esa_aix_blank (in.lines[i]) || in.lines[i][0] == '#')
        continue;
      f = esa_colon_fields (in.lines[i], 8, 6, 7, &got);
      if (f == NULL || esa_aix_blank (f[1]) || !esa_is_level (g_strstrip (f[2])))
        {
          esa_aix_reader_skip (&in, i, "not a fileset line");
          continue;
        }
      if (got < 8)
        esa_aix_warn (warnings, "lslpp -lc: line %u: %u fields, expected 8", i + 1, got);
      fs = g_new0 (EsaAixFileset, 1);
      fs->path = esa_aix_field (f[0]);
      fs->fileset = esa_aix_field (f[1]);
      fs->level = esa_aix_field (f[2]);
      fs->ptf = esa_aix_field (f[3]);
      fs->state = esa_aix_field (f[4]);
      fs->type = esa_aix_field (f[5]);
      fs->description = esa_aix_field (f[6]);
      fs->efix_locked = f[7] != NULL && g_strcmp0 (g_strstrip (f[7]), "1") == 0;
      g_ptr_array_add (list, fs);
    }
  if (!esa_lslpp_check (list, &in, header, error))
    return NULL;
  return g_steal_pointer (&list);
}

/* RPM build dates carry colons: "Mon Jun 12 09:14:02 CDT 2023" at the end. */
static char *
esa_cut_build_date (char *line)
{
  static GRegex *re = NULL;
  g_autoptr (GMatchInfo) match = NULL;
  if (g_once_init_enter (&re))
    g_once_init_leave (&re,
                       g_regex_new (":([A-Z][a-z]{2} [A-Z][a-z]{2} +[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
                                    "( [A-Za-z]{1,6})? [0-9]{4}) *$",
                                    G_REGEX_OPTIMIZE, 0, NULL));
  if (!g_regex_match (re, line, 0, &match))
    return NULL;
  {
    int start;
    char *date = g_match_info_fetch (match, 1);
    g_match_info_fetch_pos (match, 0, &start, NULL);
    line[start + 1] = '\0'; /* keep the colon: the field is now empty */
    return date;
  }
}

GPtrArray *
esa_aix_parse_lslpp_Lc (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("lslpp -Lc", text, warnings);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_fileset_free);
  gboolean header = FALSE;

  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strdup (in.lines[i]);
      g_autofree char *date = NULL;
      g_auto (GStrv) f = NULL;
      EsaAixFileset *fs;
      guint got;

      header = header || line[0] == '#';
      if (esa_aix_blank (line) || line[0] == '#')
        continue;
      date = esa_cut_build_date (line);
      f = esa_colon_fields (line, 18, 7, 8, &got);
      if (f == NULL || esa_aix_blank (f[1]) || esa_aix_blank (f[2])
          || !g_ascii_isdigit (g_strstrip (f[2])[0]))
        {
          esa_aix_reader_skip (&in, i, "not a fileset line");
          continue;
        }
      if (got < 18)
        esa_aix_warn (warnings, "lslpp -Lc: line %u: %u fields, expected 18", i + 1, got);
      fs = g_new0 (EsaAixFileset, 1);
      fs->package = esa_aix_field (f[0]);
      fs->fileset = esa_aix_field (f[1]);
      fs->level = esa_aix_field (f[2]);
      /* the code is in "State" on some levels, "Fix State" on others */
      fs->state = esa_aix_field (f[3]);
      if (fs->state == NULL)
        fs->state = esa_aix_field (f[5]);
      fs->ptf = esa_aix_field (f[4]);
      fs->type = esa_aix_field (f[6]);
      fs->description = esa_aix_field (f[7]);
      fs->efix_locked = got > 15 && g_strcmp0 (g_strstrip (f[15]), "1") == 0;
      fs->build_date = date != NULL ? g_steal_pointer (&date) : (got > 17 ? esa_aix_field (f[17]) : NULL);
      if (fs->state == NULL)
        esa_aix_warn (warnings, "lslpp -Lc: %s: no state", fs->fileset);
      g_ptr_array_add (list, fs);
    }
  if (!esa_lslpp_check (list, &in, header, error))
    return NULL;
  return g_steal_pointer (&list);
}

JsonObject *
esa_aix_fileset_to_json (const EsaAixFileset *self)
{
  JsonObject *obj = json_object_new ();
  esa_aix_json_set_string (obj, "fileset", self->fileset);
  esa_aix_json_set_string (obj, "level", self->level);
  esa_aix_json_set_string (obj, "state", self->state);
  esa_aix_json_set_string (obj, "description", self->description);
  esa_aix_json_set_string (obj, "path", self->path);
  esa_aix_json_set_string (obj, "package", self->package);
  esa_aix_json_set_string (obj, "ptf", self->ptf);
  esa_aix_json_set_string (obj, "type", self->type);
  json_object_set_boolean_member (obj, "efix_locked", self->efix_locked);
  esa_aix_json_set_string (obj, "build_date", self->build_date);
  return obj;
}
