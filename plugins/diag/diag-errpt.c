/* diag-errpt.c: the AIX error log as errpt prints it: the summary (one
 * line an entry) and errpt -a (records between lines of dashes). */
#include "config.h"

#include "diag-errpt.h"
#include "esa/esa-aix-records.h"

#include <esa/esa-error.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const esa_months[]
  = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* "Tue Aug 26 10:15:22 CDT 2025" (the zone may be missing) → ISO 8601 without
 * zone: zone abbreviations are ambiguous, so the time stays local. */
static char *
esa_parse_ctime (const char *text)
{
  g_auto (GStrv) tok = esa_aix_tokens (text);
  guint n = g_strv_length (tok);
  int month = -1, day, year, hh, mm, ss;
  if (n != 5 && n != 6)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (esa_months); i++)
    if (g_ascii_strcasecmp (tok[1], esa_months[i]) == 0)
      month = (int)i + 1;
  if (month < 0 || sscanf (tok[3], "%2d:%2d:%2d", &hh, &mm, &ss) != 3)
    return NULL;
  if (!esa_aix_all (tok[2], esa_aix_is_digit) || !esa_aix_all (tok[n - 1], esa_aix_is_digit))
    return NULL;
  day = atoi (tok[2]);
  year = atoi (tok[n - 1]);
  if (!g_date_valid_dmy ((GDateDay)day, (GDateMonth)month, (GDateYear)year) || hh > 23 || mm > 59 || ss > 60)
    return NULL;
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hh, mm, ss);
}

static void
esa_aix_errpt_entry_free (gpointer data)
{
  EsaAixErrptEntry *e = data;
  g_free (e->identifier);
  g_free (e->timestamp);
  g_free (e->date);
  g_free (e->type);
  g_free (e->klass);
  g_free (e->resource);
  g_free (e->description);
  g_free (e);
}

/* MMDDhhmmYY → "20YY-MM-DDThh:mm:00" */
static char *
esa_errpt_timestamp (const char *ts)
{
  int mo, d, h, mi, y;
  if (strlen (ts) != 10 || !esa_aix_all (ts, esa_aix_is_digit)
      || sscanf (ts, "%2d%2d%2d%2d%2d", &mo, &d, &h, &mi, &y) != 5)
    return NULL;
  if (!g_date_valid_dmy ((GDateDay)d, (GDateMonth)mo, (GDateYear)(2000 + y)) || h > 23 || mi > 59)
    return NULL;
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:00", 2000 + y, mo, d, h, mi);
}

GPtrArray *
esa_aix_parse_errpt_summary (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("errpt", text, warnings);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_errpt_entry_free);

  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      g_auto (GStrv) tok = esa_aix_tokens (in.lines[i]);
      EsaAixErrptEntry *e;

      if (tok[0] == NULL || g_strcmp0 (tok[0], "IDENTIFIER") == 0)
        continue;
      if (g_strv_length (tok) < 5 || strlen (tok[0]) != 8 || !esa_aix_all (tok[0], esa_aix_is_xdigit)
          || strlen (tok[2]) != 1 || strlen (tok[3]) != 1)
        {
          esa_aix_reader_skip (&in, i, "not an error log entry");
          continue;
        }
      e = g_new0 (EsaAixErrptEntry, 1);
      e->identifier = g_strdup (tok[0]);
      e->timestamp = g_strdup (tok[1]);
      e->date = esa_errpt_timestamp (tok[1]);
      if (e->date == NULL)
        esa_aix_warn (warnings, "errpt: %s: timestamp \"%s\" is not MMDDhhmmYY", tok[0], tok[1]);
      e->type = g_strdup (tok[2]);
      e->klass = g_strdup (tok[3]);
      e->resource = g_strdup (tok[4]);
      e->description = esa_aix_field (esa_aix_after_words (in.lines[i], 5));
      g_ptr_array_add (list, e);
    }
  /* an empty error log prints nothing at all: that is not an error */
  if (!esa_aix_reader_check (&in, list->len > 0 || in.first_bad < 0,
                             "expected \"IDENTIFIER TIMESTAMP T C RESOURCE_NAME DESCRIPTION\"", error))
    return NULL;
  return g_steal_pointer (&list);
}

static void
esa_aix_errpt_section_free (gpointer data)
{
  EsaAixErrptSection *s = data;
  g_free (s->heading);
  g_free (s->text);
  g_free (s);
}

static void
esa_aix_errpt_record_free (gpointer data)
{
  EsaAixErrptRecord *r = data;
  g_free (r->label);
  g_free (r->identifier);
  g_free (r->date_raw);
  g_free (r->date);
  g_free (r->machine_id);
  g_free (r->node_id);
  g_free (r->klass);
  g_free (r->type);
  g_free (r->wpar);
  g_free (r->resource_name);
  g_free (r->resource_class);
  g_free (r->resource_type);
  g_free (r->location);
  g_free (r->vpd);
  g_free (r->description);
  if (r->sections != NULL)
    g_ptr_array_unref (r->sections);
  g_free (r);
}

static gboolean
esa_errpt_is_heading (const char *stripped)
{
  static const char *const headings[]
    = { "Description",    "Probable Causes",     "User Causes", "Install Causes",
        "Failure Causes", "Recommended Actions", "Detail Data", "Symptom Data" };
  for (guint i = 0; i < G_N_ELEMENTS (headings); i++)
    if (g_strcmp0 (stripped, headings[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
esa_errpt_close_section (EsaAixErrptRecord *r, GString *buf)
{
  EsaAixErrptSection *s;
  if (r->sections->len == 0)
    return;
  s = g_ptr_array_index (r->sections, r->sections->len - 1);
  g_free (s->text);
  s->text = g_strstrip (g_strdup (buf->str));
  g_string_truncate (buf, 0);
  if (r->description == NULL && g_strcmp0 (s->heading, "Description") == 0)
    r->description = g_strdup (s->text);
}

/* Sets the header field `key` of r; FALSE when key is not one. */
static gboolean
esa_errpt_header (EsaAixErrptRecord *r, const char *key, const char *value, GPtrArray *warnings)
{
  struct
  {
    const char *key;
    char **dest;
  } map[] = {
    { "LABEL", &r->label },
    { "IDENTIFIER", &r->identifier },
    { "Date/Time", &r->date_raw },
    { "Machine Id", &r->machine_id },
    { "Node Id", &r->node_id },
    { "Class", &r->klass },
    { "Type", &r->type },
    { "WPAR", &r->wpar },
    { "Resource Name", &r->resource_name },
    { "Resource Class", &r->resource_class },
    { "Resource Type", &r->resource_type },
    { "Location", &r->location },
  };
  if (g_strcmp0 (key, "Sequence Number") == 0)
    {
      if (!esa_aix_parse_int64 (value, &r->sequence))
        esa_aix_warn (warnings, "errpt -a: Sequence Number \"%s\" is not a number", value);
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_ascii_strcasecmp (key, map[i].key) == 0)
      {
        g_free (*map[i].dest);
        *map[i].dest = esa_aix_field (value);
        return TRUE;
      }
  return FALSE;
}

static gboolean
esa_is_rule (const char *line)
{
  g_autofree char *s = g_strstrip (g_strdup (line));
  return strlen (s) >= 10 && strspn (s, "-") == strlen (s);
}

static EsaAixErrptRecord *
esa_errpt_record (char **lines, guint from, guint to, GPtrArray *warnings)
{
  EsaAixErrptRecord *r = g_new0 (EsaAixErrptRecord, 1);
  g_autoptr (GString) buf = g_string_new (NULL);
  g_autoptr (GString) vpd = g_string_new (NULL);
  gboolean in_vpd = FALSE;

  r->sequence = -1;
  r->sections = g_ptr_array_new_with_free_func (esa_aix_errpt_section_free);
  for (guint i = from; i < to; i++)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (lines[i]));
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;

      if (esa_errpt_is_heading (stripped))
        {
          EsaAixErrptSection *s = g_new0 (EsaAixErrptSection, 1);
          esa_errpt_close_section (r, buf);
          s->heading = g_steal_pointer (&stripped);
          g_ptr_array_add (r->sections, s);
          in_vpd = FALSE;
          continue;
        }
      if (r->sections->len > 0)
        {
          g_string_append_printf (buf, "%s\n", stripped);
          continue;
        }
      if (in_vpd && stripped[0] != '\0' && g_ascii_isspace (lines[i][0]))
        {
          g_string_append_printf (vpd, "%s%s", vpd->len > 0 ? "\n" : "", stripped);
          continue;
        }
      in_vpd = FALSE;
      if (stripped[0] == '\0' || !esa_aix_split_key_value (lines[i], &key, &value))
        continue;
      if (g_ascii_strcasecmp (key, "VPD") == 0)
        in_vpd = TRUE;
      else
        esa_errpt_header (r, key, value, warnings);
    }
  esa_errpt_close_section (r, buf);
  if (vpd->len > 0)
    r->vpd = g_strdup (vpd->str);
  return r;
}

GPtrArray *
esa_aix_parse_errpt_a (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("errpt -a", text, warnings);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_errpt_record_free);
  guint n = g_strv_length (in.lines);
  guint start = 0;

  for (guint i = 0; i < n; i++)
    if (strstr (in.lines[i], "0251-138") != NULL)
      {
        g_autofree char *shown = esa_aix_shown (g_strstrip (in.lines[i]));
        g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "errpt: %s", shown);
        return NULL;
      }
  /* records are separated by a line of dashes; in.lines[start, i) is one */
  for (guint i = 0; i <= n; i++)
    {
      EsaAixErrptRecord *r;
      const char *name;
      gboolean blank = TRUE;

      if (i < n && !esa_is_rule (in.lines[i]))
        continue;
      for (guint j = start; j < i && blank; j++)
        blank = esa_aix_blank (in.lines[j]);
      if (blank)
        {
          start = i + 1;
          continue;
        }
      r = esa_errpt_record (in.lines, start, i, warnings);
      if (r->label == NULL && r->identifier == NULL)
        {
          for (guint j = start; j < i && in.first_bad < 0; j++)
            if (!esa_aix_blank (in.lines[j]))
              in.first_bad = (int)j;
          esa_aix_warn (warnings, "errpt -a: lines %u-%u: no LABEL or IDENTIFIER, ignored", start + 1, i);
          esa_aix_errpt_record_free (r);
          start = i + 1;
          continue;
        }
      name = r->label != NULL ? r->label : r->identifier;
      if (r->date_raw != NULL)
        r->date = esa_parse_ctime (r->date_raw);
      if (r->date_raw == NULL)
        esa_aix_warn (warnings, "errpt -a: %s: no Date/Time", name);
      else if (r->date == NULL)
        esa_aix_warn (warnings, "errpt -a: %s: unreadable Date/Time \"%s\"", name, r->date_raw);
      if (r->sequence < 0)
        esa_aix_warn (warnings, "errpt -a: %s: no Sequence Number", name);
      g_ptr_array_add (list, r);
      start = i + 1;
    }
  if (!esa_aix_reader_check (&in, list->len > 0 || in.first_bad < 0,
                             "expected error log records (LABEL:, IDENTIFIER:, …)", error))
    return NULL;
  return g_steal_pointer (&list);
}

JsonObject *
esa_aix_errpt_record_to_json (const EsaAixErrptRecord *self)
{
  JsonObject *obj = json_object_new ();
  JsonArray *sections = json_array_new ();
  esa_aix_json_set_string (obj, "label", self->label);
  esa_aix_json_set_string (obj, "identifier", self->identifier);
  esa_aix_json_set_string (obj, "date", self->date);
  esa_aix_json_set_string (obj, "date_raw", self->date_raw);
  json_object_set_int_member (obj, "sequence", self->sequence);
  esa_aix_json_set_string (obj, "machine_id", self->machine_id);
  esa_aix_json_set_string (obj, "node_id", self->node_id);
  esa_aix_json_set_string (obj, "class", self->klass);
  esa_aix_json_set_string (obj, "type", self->type);
  esa_aix_json_set_string (obj, "wpar", self->wpar);
  esa_aix_json_set_string (obj, "resource_name", self->resource_name);
  esa_aix_json_set_string (obj, "resource_class", self->resource_class);
  esa_aix_json_set_string (obj, "resource_type", self->resource_type);
  esa_aix_json_set_string (obj, "location", self->location);
  esa_aix_json_set_string (obj, "vpd", self->vpd);
  esa_aix_json_set_string (obj, "description", self->description);
  for (guint i = 0; i < self->sections->len; i++)
    {
      EsaAixErrptSection *s = g_ptr_array_index (self->sections, i);
      JsonObject *o = json_object_new ();
      esa_aix_json_set_string (o, "heading", s->heading);
      esa_aix_json_set_string (o, "text", s->text);
      json_array_add_object_element (sections, o);
    }
  json_object_set_array_member (obj, "sections", sections);
  return obj;
}
