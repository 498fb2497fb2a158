/* diag-srn.c: what the diag command prints without a menu (diag -c -e):
 * "No Trouble Found", or SRNs with their FRUs. */
#include "config.h"

#include "diag-srn.h"
#include "esa/esa-aix-records.h"

#include <esa/esa-error.h>

#include <string.h>

static void
esa_aix_fru_free (gpointer data)
{
  EsaAixFru *f = data;
  g_free (f->part_number);
  g_free (f->location);
  g_free (f->device);
  g_free (f->description);
  g_free (f);
}

static void
esa_aix_diag_problem_free (gpointer data)
{
  EsaAixDiagProblem *p = data;
  g_free (p->srn);
  g_free (p->description);
  g_free (p->src);
  g_free (p->error_label);
  g_ptr_array_unref (p->frus);
  g_free (p);
}

void
esa_aix_diag_free (EsaAixDiag *self)
{
  if (self == NULL)
    return;
  g_free (self->date_raw);
  g_free (self->menu);
  g_ptr_array_unref (self->problems);
  g_free (self);
}

/* U9009.42A.78ABCDE-P3-D4 (physical) or 00-08-00-5,0 (old AIX form) */
static gboolean
esa_is_location (const char *s)
{
  static GRegex *re = NULL;
  if (g_once_init_enter (&re))
    g_once_init_leave (&re, g_regex_new ("^(U[0-9A-Z]+\\.[0-9A-Z]+\\.[0-9A-Z]+(-[0-9A-Za-z,.]+)*"
                                         "|[0-9A-Z]{2}(-[0-9A-Z,]{1,4}){1,3})$",
                                         G_REGEX_OPTIMIZE, 0, NULL));
  return g_regex_match (re, s, 0, NULL);
}

/* "2502-107: text", "SRN: 2502-107" or a bare SRN; returns the SRN. */
static char *
esa_diag_srn (const char *stripped, char **rest)
{
  static GRegex *re = NULL;
  g_autoptr (GMatchInfo) match = NULL;
  if (g_once_init_enter (&re))
    g_once_init_leave (&re, g_regex_new ("^(?:SRN:\\s*)?([0-9A-F]{3,4}-[0-9A-F]{3,4})(?::\\s*(.*)|\\s*)$",
                                         G_REGEX_OPTIMIZE, 0, NULL));
  if (!g_regex_match (re, stripped, 0, &match))
    return NULL;
  *rest = g_match_info_fetch (match, 2);
  return g_match_info_fetch (match, 1);
}

static EsaAixDiagProblem *
esa_diag_problem_new (char *srn)
{
  EsaAixDiagProblem *p = g_new0 (EsaAixDiagProblem, 1);
  p->srn = srn;
  p->error_sequence = -1;
  p->frus = g_ptr_array_new_with_free_func (esa_aix_fru_free);
  return p;
}

/* The words of a "FRU:" line: part number first, then in any order a
 * percentage, a location code and a device name. */
static EsaAixFru *
esa_diag_fru (const char *rest, GPtrArray *warnings)
{
  g_auto (GStrv) tok = esa_aix_tokens (rest);
  EsaAixFru *fru = g_new0 (EsaAixFru, 1);
  fru->probability = -1;
  for (guint i = 0; tok[i] != NULL; i++)
    {
      gsize len = strlen (tok[i]);
      if (i == 0)
        {
          if (g_ascii_strcasecmp (tok[i], "n/a") != 0)
            {
              fru->part_number = g_strdup (tok[i]);
              if (len != 7 || !esa_aix_all (tok[i], esa_aix_is_alnum))
                esa_aix_warn (warnings, "diag: FRU part number \"%s\" is not 7 characters", tok[i]);
            }
        }
      else if (len >= 2 && tok[i][len - 1] == '%')
        {
          g_autofree char *num = g_strndup (tok[i], len - 1);
          gint64 v;
          if (esa_aix_parse_int64 (num, &v) && v >= 0 && v <= 100)
            fru->probability = (int)v;
          else
            esa_aix_warn (warnings, "diag: FRU probability \"%s\" ignored", tok[i]);
        }
      else if (fru->location == NULL && esa_is_location (tok[i]))
        fru->location = g_strdup (tok[i]);
      else if (fru->device == NULL)
        fru->device = g_strdup (tok[i]);
    }
  return fru;
}

EsaAixDiag *
esa_aix_parse_diag (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("diag", text, warnings);
  g_autoptr (EsaAixDiag) self = g_new0 (EsaAixDiag, 1);
  EsaAixDiagProblem *cur = NULL;
  EsaAixFru *fru = NULL;
  gboolean in_srn_text = FALSE, recognized = FALSE, ntf = FALSE;

  self->problems = g_ptr_array_new_with_free_func (esa_aix_diag_problem_free);
  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      g_autofree char *s = g_strstrip (g_strdup (in.lines[i]));
      g_autofree char *srn = NULL;
      g_autofree char *rest = NULL;
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;
      g_auto (GStrv) tok = NULL;

      if (s[0] == '\0')
        {
          in_srn_text = FALSE;
          fru = NULL;
          continue;
        }
      tok = esa_aix_tokens (s);
      if (g_str_has_prefix (s, "DIAGNOSTIC ANALYSIS"))
        {
          guint n = g_strv_length (tok);
          if (n > 2 && strlen (tok[n - 1]) == 6 && esa_aix_all (tok[n - 1], esa_aix_is_digit))
            {
              g_free (self->menu);
              self->menu = g_strdup (tok[n - 1]);
            }
          recognized = TRUE;
        }
      else if (g_ascii_strcasecmp (s, "No Trouble Found") == 0)
        recognized = ntf = TRUE;
      else if (g_str_has_prefix (s, "A PROBLEM WAS DETECTED ON"))
        {
          g_autofree char *date = g_strstrip (g_strdup (s + strlen ("A PROBLEM WAS DETECTED ON")));
          char *last = strrchr (date, ' ');
          if (last != NULL && strlen (last + 1) == 6 && esa_aix_all (last + 1, esa_aix_is_digit))
            {
              g_free (self->menu);
              self->menu = g_strdup (last + 1);
              *last = '\0';
              g_strchomp (date);
            }
          g_free (self->date_raw);
          self->date_raw = g_steal_pointer (&date);
          self->problem_found = recognized = TRUE;
        }
      else if ((srn = esa_diag_srn (s, &rest)) != NULL)
        {
          cur = esa_diag_problem_new (g_steal_pointer (&srn));
          cur->description = esa_aix_field (rest);
          g_ptr_array_add (self->problems, cur);
          fru = NULL;
          in_srn_text = TRUE;
          self->problem_found = recognized = TRUE;
        }
      else if (g_str_has_prefix (s, "FRU:"))
        {
          if (cur == NULL)
            {
              esa_aix_warn (warnings, "diag: line %u: FRU before any SRN", i + 1);
              cur = esa_diag_problem_new (NULL);
              g_ptr_array_add (self->problems, cur);
            }
          fru = esa_diag_fru (s + 4, warnings);
          g_ptr_array_add (cur->frus, fru);
          in_srn_text = FALSE;
          recognized = TRUE;
        }
      else if (fru != NULL)
        {
          /* in.lines under a FRU: its location code, then its description */
          if (fru->location == NULL && tok[1] == NULL && esa_is_location (s))
            fru->location = g_steal_pointer (&s);
          else
            esa_aix_append_text (&fru->description, s);
        }
      else if (cur != NULL && esa_aix_split_key_value (s, &key, &value))
        {
          in_srn_text = FALSE;
          if (g_ascii_strcasecmp (key, "SRC") == 0)
            {
              g_free (cur->src);
              cur->src = g_steal_pointer (&value);
              if (strlen (cur->src) != 8 || !esa_aix_all (cur->src, esa_aix_is_xdigit))
                esa_aix_warn (warnings, "diag: SRC \"%s\" is not 8 hex digits", cur->src);
            }
          else if (g_ascii_strcasecmp (key, "Description") == 0)
            esa_aix_append_text (&cur->description, value);
          else if (g_ascii_strcasecmp (key, "Label") == 0)
            {
              g_free (cur->error_label);
              cur->error_label = g_steal_pointer (&value);
            }
          else if (g_ascii_strcasecmp (key, "Date") == 0)
            {
              const char *seq = strstr (value, "Sequence number:");
              if (seq != NULL
                  && !esa_aix_parse_int64 (seq + strlen ("Sequence number:"), &cur->error_sequence))
                esa_aix_warn (warnings, "diag: unreadable error log sequence number in \"%s\"", value);
            }
        }
      else if (cur != NULL && in_srn_text)
        esa_aix_append_text (&cur->description, s);
      else if (g_str_has_suffix (s, "ENTRIES ANALYZED.") || g_str_has_prefix (s, "The Service Request")
               || g_str_has_prefix (s, "(causes are listed") || g_str_has_prefix (s, "Error log information")
               || g_str_has_prefix (s, "Probable FRUs"))
        continue;
      else if (in.first_bad < 0)
        in.first_bad = (int)i;
    }
  if (!esa_aix_reader_check (&in, recognized, "expected diagnostic analysis output", error))
    return NULL;
  if (ntf && self->problems->len > 0)
    esa_aix_warn (warnings, "diag: both \"No Trouble Found\" and problems");
  if (self->problem_found && self->problems->len == 0)
    esa_aix_warn (warnings, "diag: a problem was detected but no SRN was printed");
  for (guint i = 0; i < self->problems->len; i++)
    {
      EsaAixDiagProblem *p = g_ptr_array_index (self->problems, i);
      if (p->frus->len == 0)
        esa_aix_warn (warnings, "diag: SRN %s has no FRU", p->srn != NULL ? p->srn : "(none)");
    }
  return g_steal_pointer (&self);
}

JsonObject *
esa_aix_diag_to_json (const EsaAixDiag *self)
{
  JsonObject *obj = json_object_new ();
  JsonArray *problems = json_array_new ();
  json_object_set_boolean_member (obj, "problem_found", self->problem_found);
  esa_aix_json_set_string (obj, "date_raw", self->date_raw);
  esa_aix_json_set_string (obj, "menu", self->menu);
  for (guint i = 0; i < self->problems->len; i++)
    {
      EsaAixDiagProblem *p = g_ptr_array_index (self->problems, i);
      JsonObject *po = json_object_new ();
      JsonArray *frus = json_array_new ();
      esa_aix_json_set_string (po, "srn", p->srn);
      esa_aix_json_set_string (po, "description", p->description);
      esa_aix_json_set_string (po, "src", p->src);
      json_object_set_int_member (po, "error_sequence", p->error_sequence);
      esa_aix_json_set_string (po, "error_label", p->error_label);
      for (guint j = 0; j < p->frus->len; j++)
        {
          EsaAixFru *f = g_ptr_array_index (p->frus, j);
          JsonObject *fo = json_object_new ();
          esa_aix_json_set_string (fo, "part_number", f->part_number);
          json_object_set_int_member (fo, "probability", f->probability);
          esa_aix_json_set_string (fo, "location", f->location);
          esa_aix_json_set_string (fo, "device", f->device);
          esa_aix_json_set_string (fo, "description", f->description);
          json_array_add_object_element (frus, fo);
        }
      json_object_set_array_member (po, "frus", frus);
      json_array_add_object_element (problems, po);
    }
  json_object_set_array_member (obj, "problems", problems);
  return obj;
}
