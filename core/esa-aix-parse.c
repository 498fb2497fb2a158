/* esa-aix-parse.c: pure parsers for the output of AIX commands.
 *
 * No I/O here: text in, structs out, so every odd shape real machines print
 * can be tested on Linux. The rule everywhere: keep what is usable, say what
 * was odd in `warnings`, fail only when nothing usable is left (naming the
 * command and the line). The shapes are described in AIX-FORMATS.md and in
 * the fake commands under tests/fixtures/aix-bin/. */
#include "config.h"

#include "esa/esa-aix.h"
#include "esa/esa-error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

static void esa_warn (GPtrArray *warnings, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
esa_warn (GPtrArray *warnings, const char *fmt, ...)
{
  va_list ap;
  if (warnings == NULL)
    return;
  va_start (ap, fmt);
  g_ptr_array_add (warnings, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

/* A line as it may appear in a message: valid UTF-8, control characters
 * and quotes escaped, cut when long. */
static char *
esa_shown (const char *line)
{
  g_autofree char *valid = g_utf8_make_valid (line, -1);
  g_autoptr (GString) out = g_string_new (NULL);
  glong n = 0;
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p), n++)
    {
      if (n == 72)
        {
          g_string_append (out, "…");
          break;
        }
      if ((guchar) *p < 0x20 || *p == 0x7f)
        g_string_append_printf (out, "\\x%02x", (guchar) *p);
      else if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
esa_set_invalid (GError **error, const char *command, guint lineno, const char *line, const char *why)
{
  g_autofree char *shown = esa_shown (line);
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: line %u: \"%s\": %s", command, lineno,
               shown, why);
}

static void
esa_set_empty (GError **error, const char *command)
{
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: empty output", command);
}

/* Nothing usable came out: name the first line that did not parse, or say
 * the output was empty. */
static void
esa_set_unusable (GError **error, const char *command, GStrv lines, int first_bad, const char *why)
{
  if (first_bad < 0)
    esa_set_empty (error, command);
  else
    esa_set_invalid (error, command, (guint) first_bad + 1, lines[first_bad], why);
}

/* Lines without their "\r\n" / "\n". */
static GStrv
esa_lines (const char *text)
{
  GStrv lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize len = strlen (lines[i]);
      if (len > 0 && lines[i][len - 1] == '\r')
        lines[i][len - 1] = '\0';
    }
  return lines;
}

static gboolean
esa_blank (const char *line)
{
  for (; *line != '\0'; line++)
    if (!g_ascii_isspace (*line))
      return FALSE;
  return TRUE;
}

static guint
esa_indent (const char *line)
{
  guint n = 0;
  for (; *line == ' ' || *line == '\t'; line++)
    n += *line == '\t' ? 8 : 1;
  return n;
}

/* What follows the first `k` blank-separated words of line. */
static const char *
esa_after_words (const char *line, guint k)
{
  const char *p = line;
  for (guint i = 0; i < k; i++)
    {
      while (*p == ' ' || *p == '\t')
        p++;
      while (*p != '\0' && *p != ' ' && *p != '\t')
        p++;
    }
  return p;
}

static void
esa_replace (char **dest, char *value)
{
  g_free (*dest);
  *dest = value;
}

/* Continuation lines: joined with one blank. */
static void
esa_append_text (char **dest, const char *more)
{
  char *joined = *dest != NULL ? g_strdup_printf ("%s %s", *dest, more) : g_strdup (more);
  g_free (*dest);
  *dest = joined;
}

static GStrv
esa_tokens (const char *line)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) parts = g_strsplit_set (line, " \t", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_strv_builder_add (b, parts[i]);
  return g_strv_builder_end (b);
}

/* NULL for "", " " and the like: how the colon forms say "no value". */
static char *
esa_field (const char *value)
{
  g_autofree char *copy = g_strstrip (g_strdup (value != NULL ? value : ""));
  return copy[0] != '\0' ? g_steal_pointer (&copy) : NULL;
}

static gboolean
esa_parse_int64 (const char *text, gint64 *out)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  char *end = NULL;
  gint64 v;
  if (copy[0] == '\0')
    return FALSE;
  v = g_ascii_strtoll (copy, &end, 10);
  if (end == NULL || *end != '\0')
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
esa_all (const char *s, gboolean (*pred) (gchar))
{
  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!pred (*s))
      return FALSE;
  return TRUE;
}

static gboolean
esa_is_digit (gchar c)
{
  return g_ascii_isdigit (c);
}

static gboolean
esa_is_xdigit (gchar c)
{
  return g_ascii_isxdigit (c);
}

static gboolean
esa_is_alnum (gchar c)
{
  return g_ascii_isalnum (c);
}

static gboolean
esa_is_name (gchar c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-' || c == '.';
}

static void
esa_json_set_string (JsonObject *obj, const char *key, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (obj, key, value);
  else
    json_object_set_null_member (obj, key);
}

static const char *const esa_months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* "Tue Aug 26 10:15:22 CDT 2025" (the zone may be missing) → ISO 8601 without
 * zone: zone abbreviations are ambiguous, so the time stays local. */
static char *
esa_parse_ctime (const char *text)
{
  g_auto (GStrv) tok = esa_tokens (text);
  guint n = g_strv_length (tok);
  int month = -1, day, year, hh, mm, ss;
  if (n != 5 && n != 6)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (esa_months); i++)
    if (g_ascii_strcasecmp (tok[1], esa_months[i]) == 0)
      month = (int) i + 1;
  if (month < 0 || sscanf (tok[3], "%2d:%2d:%2d", &hh, &mm, &ss) != 3)
    return NULL;
  if (!esa_all (tok[2], esa_is_digit) || !esa_all (tok[n - 1], esa_is_digit))
    return NULL;
  day = atoi (tok[2]);
  year = atoi (tok[n - 1]);
  if (!g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year) || hh > 23 || mm > 59
      || ss > 60)
    return NULL;
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hh, mm, ss);
}

/* ---- shared ----------------------------------------------------------------- */

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
    *vendor = g_strstrip (g_strndup (value, (gsize) (comma - value)));
  if (rest != NULL)
    *rest = g_strstrip (g_strdup (comma + 1));
}

gboolean
esa_aix_split_type_model (const char *mtm, char **type, char **model)
{
  const char *dash = mtm != NULL ? strchr (mtm, '-') : NULL;
  if (dash == NULL || dash == mtm || dash[1] == '\0')
    return FALSE;
  *type = g_strndup (mtm, (gsize) (dash - mtm));
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
  tok = esa_tokens (line);
  if (tok[0] == NULL || !esa_parse_int64 (tok[0], &id) || id < -1 || id > G_MAXINT
      || g_strv_length (tok) > 2)
    {
      esa_set_invalid (error, command, 1, line, "expected \"<partition number> <name>\"");
      return FALSE;
    }
  *lpar_id = (int) id;
  *lpar_name = tok[1] != NULL && g_strcmp0 (tok[1], "NULL") != 0 ? g_strdup (tok[1]) : NULL;
  return TRUE;
}

char *
esa_aix_parse_single_line (const char *command, const char *text, GError **error)
{
  g_auto (GStrv) lines = esa_lines (text);
  for (guint i = 0; lines[i] != NULL; i++)
    if (!esa_blank (lines[i]))
      return g_strstrip (g_strdup (lines[i]));
  esa_set_empty (error, command);
  return NULL;
}

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
  if (strlen (line) != 8 || !esa_all (line, esa_is_digit) || sscanf (line, "%4d%2d%2d", &y, &m, &d) != 3
      || !g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    {
      esa_set_invalid (error, command, 1, line, "expected a date as YYYYMMDD");
      return FALSE;
    }
  *date = g_steal_pointer (&line);
  return TRUE;
}

/* ---- uname -a --------------------------------------------------------------- */

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
  tok = esa_tokens (line);
  n = g_strv_length (tok);
  if (n < 4 || !esa_all (tok[2], esa_is_digit) || !esa_all (tok[3], esa_is_digit))
    {
      esa_set_invalid (error, "uname -a", 1, line,
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
    esa_warn (warnings, "uname -a: no machine id in \"%s\"", line);
  else if (n > 5)
    esa_warn (warnings, "uname -a: %u extra words ignored", n - 5);
  if (g_strcmp0 (self->sysname, "AIX") != 0)
    esa_warn (warnings, "uname -a: system name is \"%s\", not AIX", self->sysname);
  return g_steal_pointer (&self);
}

char *
esa_aix_uname_os_version (const EsaAixUname *self)
{
  return g_strdup_printf ("%s.%s", self->version, self->release);
}

/* ---- lsattr ------------------------------------------------------------------ */

static void
esa_aix_attr_free (gpointer data)
{
  EsaAixAttr *attr = data;
  g_free (attr->attribute);
  g_free (attr->value);
  g_free (attr->description);
  g_free (attr);
}

typedef struct {
  guint start;
  char *text;
} EsaColumn;

static void
esa_column_free (gpointer data)
{
  EsaColumn *col = data;
  g_free (col->text);
  g_free (col);
}

/* Fields separated by two or more blanks (or a tab), with their offsets. */
static GPtrArray *
esa_columns (const char *line)
{
  GPtrArray *cols = g_ptr_array_new_with_free_func (esa_column_free);
  guint i = 0, len = (guint) strlen (line);
  while (i < len)
    {
      guint start, end;
      while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
      if (i >= len)
        break;
      start = i;
      while (i < len && line[i] != '\t' && !(line[i] == ' ' && (i + 1 >= len || line[i + 1] == ' ' || line[i + 1] == '\t')))
        i++;
      end = i;
      {
        EsaColumn *col = g_new0 (EsaColumn, 1);
        col->start = start;
        col->text = g_strndup (line + start, end - start);
        g_ptr_array_add (cols, col);
      }
    }
  return cols;
}

static void
esa_columns_free (gpointer data)
{
  if (data != NULL)
    g_ptr_array_unref (data);
}

/* The most common start offset of column `idx` over lines with >= min columns. */
static int
esa_common_start (GPtrArray *rows, guint idx, guint min)
{
  g_autoptr (GHashTable) counts = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint best = 0;
  int best_start = -1;
  for (guint r = 0; r < rows->len; r++)
    {
      GPtrArray *cols = g_ptr_array_index (rows, r);
      EsaColumn *col;
      guint c;
      if (cols == NULL || cols->len < min)
        continue;
      col = g_ptr_array_index (cols, idx);
      c = GPOINTER_TO_UINT (g_hash_table_lookup (counts, GUINT_TO_POINTER (col->start + 1))) + 1;
      g_hash_table_insert (counts, GUINT_TO_POINTER (col->start + 1), GUINT_TO_POINTER (c));
      if (c > best)
        {
          best = c;
          best_start = (int) col->start;
        }
    }
  return best_start;
}

/* Splits "attribute value…" when the attribute filled its column and only one
 * blank separates it from the value. */
static void
esa_split_first_column (GPtrArray *cols)
{
  EsaColumn *first = g_ptr_array_index (cols, 0);
  char *space = strchr (first->text, ' ');
  EsaColumn *rest;
  if (space == NULL)
    return;
  rest = g_new0 (EsaColumn, 1);
  rest->start = first->start + (guint) (space - first->text) + 1;
  rest->text = g_strdup (space + 1);
  *space = '\0';
  g_ptr_array_insert (cols, 1, rest);
}

GPtrArray *
esa_aix_parse_lsattr (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (GPtrArray) attrs = g_ptr_array_new_with_free_func (esa_aix_attr_free);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (esa_columns_free);
  g_autoptr (GArray) settable = g_array_new (FALSE, FALSE, sizeof (gboolean));
  int first_bad = -1;
  int value_col, desc_col;

  /* pass 1: columns of every line that ends in True/False */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strchomp (g_strdup (lines[i]));
      char *last = strrchr (line, ' ');
      char *tab = strrchr (line, '\t');
      gboolean user_settable = FALSE;
      GPtrArray *cols;

      g_ptr_array_add (rows, NULL);
      g_array_append_val (settable, user_settable);
      if (esa_blank (line))
        continue;
      if (tab != NULL && (last == NULL || tab > last))
        last = tab;
      if (g_str_has_prefix (line, "attribute") && g_str_has_suffix (line, "user_settable"))
        continue;
      if (last == NULL || (g_strcmp0 (last + 1, "True") != 0 && g_strcmp0 (last + 1, "False") != 0))
        {
          if (first_bad < 0)
            first_bad = (int) i;
          esa_warn (warnings, "lsattr: line %u: no True/False column, ignored", i + 1);
          continue;
        }
      user_settable = g_strcmp0 (last + 1, "True") == 0;
      *last = '\0';
      cols = esa_columns (line);
      if (cols->len == 0 || !esa_all (((EsaColumn *) g_ptr_array_index (cols, 0))->text, esa_is_name))
        {
          /* the attribute may be glued to the value by a single blank */
          if (cols->len > 0)
            esa_split_first_column (cols);
          if (cols->len == 0 || !esa_all (((EsaColumn *) g_ptr_array_index (cols, 0))->text, esa_is_name))
            {
              if (first_bad < 0)
                first_bad = (int) i;
              esa_warn (warnings, "lsattr: line %u: not an attribute line, ignored", i + 1);
              g_ptr_array_unref (cols);
              continue;
            }
        }
      g_ptr_array_index (rows, i) = cols;
      g_array_index (settable, gboolean, i) = user_settable;
    }

  /* pass 2: with only two columns, the offset tells an empty value from an
   * empty description */
  value_col = esa_common_start (rows, 1, 3);
  desc_col = esa_common_start (rows, 2, 3);
  for (guint i = 0; i < rows->len; i++)
    {
      GPtrArray *cols = g_ptr_array_index (rows, i);
      EsaAixAttr *attr;
      if (cols == NULL)
        continue;
      attr = g_new0 (EsaAixAttr, 1);
      attr->attribute = g_strdup (((EsaColumn *) g_ptr_array_index (cols, 0))->text);
      attr->user_settable = g_array_index (settable, gboolean, i);
      if (cols->len >= 3)
        {
          g_autoptr (GStrvBuilder) desc = g_strv_builder_new ();
          g_auto (GStrv) parts = NULL;
          attr->value = g_strdup (((EsaColumn *) g_ptr_array_index (cols, 1))->text);
          for (guint c = 2; c < cols->len; c++)
            g_strv_builder_add (desc, ((EsaColumn *) g_ptr_array_index (cols, c))->text);
          parts = g_strv_builder_end (desc);
          attr->description = g_strjoinv (" ", parts);
        }
      else if (cols->len == 2)
        {
          EsaColumn *col = g_ptr_array_index (cols, 1);
          gboolean is_value = value_col >= 0 && desc_col >= 0
                              && ABS ((int) col->start - value_col) < ABS ((int) col->start - desc_col);
          attr->value = g_strdup (is_value ? col->text : "");
          attr->description = is_value ? NULL : g_strdup (col->text);
        }
      else
        {
          attr->value = g_strdup ("");
          esa_warn (warnings, "lsattr: %s: no value and no description", attr->attribute);
        }
      g_ptr_array_add (attrs, attr);
    }

  if (attrs->len == 0)
    {
      esa_set_unusable (error, "lsattr", lines, first_bad,
                        "expected \"attribute value description user_settable\"");
      return NULL;
    }
  return g_steal_pointer (&attrs);
}

GPtrArray *
esa_aix_parse_lsattr_colon (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (GPtrArray) attrs = g_ptr_array_new_with_free_func (esa_aix_attr_free);
  int first_bad = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      const char *sep = strchr (line, ':');
      g_autofree char *name = NULL;
      EsaAixAttr *attr;

      if (esa_blank (line))
        continue;
      if (sep == NULL)
        sep = strpbrk (line, " \t");
      name = sep != NULL ? g_strstrip (g_strndup (line, (gsize) (sep - line))) : NULL;
      if (name == NULL || !esa_all (name, esa_is_name))
        {
          if (first_bad < 0)
            first_bad = (int) i;
          esa_warn (warnings, "lsattr: line %u: not \"attribute:value\", ignored", i + 1);
          continue;
        }
      attr = g_new0 (EsaAixAttr, 1);
      attr->attribute = g_steal_pointer (&name);
      attr->value = g_strstrip (g_strdup (sep + 1));
      g_ptr_array_add (attrs, attr);
    }
  if (attrs->len == 0)
    {
      esa_set_unusable (error, "lsattr", lines, first_bad,
                        "expected \"attribute:value\"");
      return NULL;
    }
  return g_steal_pointer (&attrs);
}

const char *
esa_aix_attrs_lookup (GPtrArray *attrs, const char *attribute)
{
  for (guint i = 0; attrs != NULL && i < attrs->len; i++)
    {
      EsaAixAttr *attr = g_ptr_array_index (attrs, i);
      if (g_strcmp0 (attr->attribute, attribute) == 0)
        return attr->value;
    }
  return NULL;
}

/* ---- prtconf ------------------------------------------------------------------ */

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
  static const char *const known[] = { "System Model", "Machine Serial Number", "Processor Type",
                                       "Number Of Processors", "Processor Clock Speed", "CPU Type",
                                       "Kernel Type", "LPAR Info", "Memory Size", "Good Memory Size",
                                       "Platform Firmware level", "Firmware Version", "Console Login" };
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_ascii_strcasecmp (key, known[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
esa_is_key (const char *key)
{
  if (key[0] == '\0' || !g_ascii_isalpha (key[0]))
    return FALSE;
  for (const char *p = key; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr (" -_/().,", *p) == NULL)
      return FALSE;
  return TRUE;
}

/* "Key: value" or "Key:" → key and value (stripped); FALSE otherwise. */
static gboolean
esa_split_key_value (const char *line, char **key, char **value)
{
  const char *colon = strchr (line, ':');
  g_autofree char *k = NULL;
  if (colon == NULL || (colon[1] != '\0' && colon[1] != ' ' && colon[1] != '\t'))
    return FALSE;
  k = g_strstrip (g_strndup (line, (gsize) (colon - line)));
  if (!esa_is_key (k))
    return FALSE;
  *key = g_steal_pointer (&k);
  *value = g_strstrip (g_strdup (colon + 1));
  return TRUE;
}

EsaAixPrtconf *
esa_aix_parse_prtconf (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (EsaAixPrtconf) self = g_new0 (EsaAixPrtconf, 1);
  g_autofree char *section = NULL;
  g_autofree char *lpar = NULL;
  g_autofree char *nproc = NULL;
  guint n_top = 0;
  gboolean known = FALSE;
  int first_bad = -1;

  self->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->lpar_id = -1;
  self->n_processors = -1;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;
      const char *line = lines[i];
      gboolean indented = line[0] == ' ' || line[0] == '\t';

      if (esa_blank (line) || line[0] == '=')
        continue;
      if (g_str_has_prefix (line, "INSTALLED RESOURCE LIST"))
        break;
      if (!esa_split_key_value (line, &key, &value))
        {
          if (!indented && section == NULL && n_top == 0 && first_bad < 0)
            first_bad = (int) i;
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
              esa_warn (warnings, "prtconf: %s: Not Available", key);
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
      first_bad = 0;
      while (esa_blank (lines[first_bad]))
        first_bad++;
      n_top = 0;
    }
  if (n_top == 0)
    {
      esa_set_unusable (error, "prtconf", lines, first_bad,
                        "expected \"Key: value\"");
      return NULL;
    }

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
      if (esa_parse_int64 (nproc, &n) && n >= 0 && n <= G_MAXINT)
        self->n_processors = (int) n;
      else
        esa_warn (warnings, "prtconf: Number Of Processors: \"%s\" is not a number", nproc);
    }
  lpar = esa_prtconf_take (self->fields, "LPAR Info");
  if (lpar != NULL)
    {
      g_autoptr (GError) error_local = NULL;
      if (esa_aix_parse_lpar_info ("prtconf LPAR Info", lpar, &self->lpar_id, &self->lpar_name,
                                   &error_local))
        self->is_lpar = self->lpar_id >= 0;
      else
        esa_warn (warnings, "%s", error_local->message);
    }
  if (self->system_model == NULL && !g_hash_table_contains (self->fields, "System Model"))
    esa_warn (warnings, "prtconf: no System Model");
  return g_steal_pointer (&self);
}

/* ---- lsmcode -------------------------------------------------------------------- */

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
  tok = esa_tokens (line + (hit - lower) + strlen (mark));
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
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (EsaAixMcode) self = g_new0 (EsaAixMcode, 1);
  int first_bad = -1;
  gboolean any = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      g_autofree char *lower = g_ascii_strdown (line, -1);
      char *v;
      if (esa_blank (line))
        continue;
      if ((v = esa_after (line, "permanent system firmware image is")) != NULL)
        esa_replace (&self->permanent, v);
      else if ((v = esa_after (line, "temporary system firmware image is")) != NULL)
        esa_replace (&self->temporary, v);
      else if ((v = esa_after (line, "platform firmware level is")) != NULL)
        esa_replace (&self->platform, v);
      else if ((v = esa_after (line, "system firmware level is")) != NULL)
        esa_replace (&self->system, v);
      else if (strstr (lower, "booted from the temporary") != NULL)
        esa_replace (&self->booted, g_strdup ("temporary"));
      else if (strstr (lower, "booted from the permanent") != NULL)
        esa_replace (&self->booted, g_strdup ("permanent"));
      else
        {
          if (first_bad < 0)
            first_bad = (int) i;
          esa_warn (warnings, "lsmcode: line %u: not understood, ignored", i + 1);
          continue;
        }
      any = TRUE;
    }
  if (!any || esa_aix_mcode_current (self) == NULL)
    {
      esa_set_unusable (error, "lsmcode", lines, first_bad,
                        "expected \"The current permanent system firmware image is …\"");
      return NULL;
    }
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
  g_auto (GStrv) tok = esa_tokens (e->levels);
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
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (esa_aix_mcode_entry_free);
  int first_bad = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));
      char *bang = strchr (line, '!');
      char *colon;
      EsaAixMcodeEntry *e;

      if (line[0] == '\0')
        continue;
      if (bang == NULL || bang == line)
        {
          if (first_bad < 0)
            first_bad = (int) i;
          esa_warn (warnings, "lsmcode -A: line %u: no \"device!\", ignored", i + 1);
          continue;
        }
      *bang = '\0';
      e = g_new0 (EsaAixMcodeEntry, 1);
      e->device = g_strdup (line);
      colon = strchr (bang + 1, ':');
      if (colon != NULL && strpbrk (bang + 1, " \t") > colon)
        {
          e->component = g_strndup (bang + 1, (gsize) (colon - bang - 1));
          e->levels = g_strstrip (g_strdup (colon + 1));
          esa_mcode_levels (e);
        }
      else
        e->levels = g_strdup (bang + 1);
      g_ptr_array_add (entries, e);
    }
  if (entries->len == 0)
    {
      esa_set_unusable (error, "lsmcode -A", lines, first_bad,
                        "expected \"device!component:levels\"");
      return NULL;
    }
  return g_steal_pointer (&entries);
}

/* ---- lslpp ------------------------------------------------------------------------ */

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
  static const char *const states[] = { "APPLIED", "COMMITTED", "BROKEN", "EFIXLOCKED", "OBSOLETE",
                                        "APPLYING", "COMMITTING", "REJECTING", "DEINSTALLING",
                                        "AVAILABLE" };
  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    if (g_strcmp0 (s, states[i]) == 0)
      return TRUE;
  return FALSE;
}

/* A header alone is an empty list; nothing at all, or only garbage, is an error. */
static gboolean
esa_lslpp_fail (GPtrArray *list, const char *command, char **lines, int first_bad, gboolean header,
                GError **error)
{
  if (list->len > 0 || (header && first_bad < 0))
    return TRUE;
  if (first_bad < 0)
    esa_set_empty (error, command);
  else
    esa_set_invalid (error, command, (guint) first_bad + 1, lines[first_bad],
                     "not a fileset line");
  return FALSE;
}

GPtrArray *
esa_aix_parse_lslpp_l (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_fileset_free);
  g_autofree char *path = NULL;
  g_autofree char *pending = NULL; /* a fileset name too long for its column */
  EsaAixFileset *cur = NULL;
  gboolean header = FALSE;
  int first_bad = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      g_auto (GStrv) tok = esa_tokens (line);
      guint n = g_strv_length (tok);
      guint ind = esa_indent (line);
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
          esa_warn (warnings, "%s", g_strstrip (lines[i]));
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
            esa_append_text (&cur->description, more);
          continue;
        }
      else if (n == 1 && ind < 8 && esa_all (tok[0], esa_is_name))
        {
          g_free (pending);
          pending = g_strdup (tok[0]);
          cur = NULL;
          continue;
        }
      else
        {
          if (first_bad < 0)
            first_bad = (int) i;
          esa_warn (warnings, "lslpp -l: line %u: not understood, ignored", i + 1);
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
      cur->description = esa_field (esa_after_words (line, first + 2));
      g_ptr_array_add (list, cur);
    }
  if (pending != NULL)
    esa_warn (warnings, "lslpp -l: fileset %s without a level", pending);
  if (!esa_lslpp_fail (list, "lslpp -l", lines, first_bad, header, error))
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
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_fileset_free);
  gboolean header = FALSE;
  int first_bad = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = NULL;
      EsaAixFileset *fs;
      guint got;

      header = header || lines[i][0] == '#';
      if (esa_blank (lines[i]) || lines[i][0] == '#')
        continue;
      f = esa_colon_fields (lines[i], 8, 6, 7, &got);
      if (f == NULL || esa_blank (f[1]) || !esa_is_level (g_strstrip (f[2])))
        {
          if (first_bad < 0)
            first_bad = (int) i;
          esa_warn (warnings, "lslpp -lc: line %u: not a fileset line, ignored", i + 1);
          continue;
        }
      if (got < 8)
        esa_warn (warnings, "lslpp -lc: line %u: %u fields, expected 8", i + 1, got);
      fs = g_new0 (EsaAixFileset, 1);
      fs->path = esa_field (f[0]);
      fs->fileset = esa_field (f[1]);
      fs->level = esa_field (f[2]);
      fs->ptf = esa_field (f[3]);
      fs->state = esa_field (f[4]);
      fs->type = esa_field (f[5]);
      fs->description = esa_field (f[6]);
      fs->efix_locked = f[7] != NULL && g_strcmp0 (g_strstrip (f[7]), "1") == 0;
      g_ptr_array_add (list, fs);
    }
  if (!esa_lslpp_fail (list, "lslpp -lc", lines, first_bad, header, error))
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
    g_once_init_leave (&re, g_regex_new (":([A-Z][a-z]{2} [A-Z][a-z]{2} +[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
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
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_fileset_free);
  gboolean header = FALSE;
  int first_bad = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strdup (lines[i]);
      g_autofree char *date = NULL;
      g_auto (GStrv) f = NULL;
      EsaAixFileset *fs;
      guint got;

      header = header || line[0] == '#';
      if (esa_blank (line) || line[0] == '#')
        continue;
      date = esa_cut_build_date (line);
      f = esa_colon_fields (line, 18, 7, 8, &got);
      if (f == NULL || esa_blank (f[1]) || esa_blank (f[2])
          || !g_ascii_isdigit (g_strstrip (f[2])[0]))
        {
          if (first_bad < 0)
            first_bad = (int) i;
          esa_warn (warnings, "lslpp -Lc: line %u: not a fileset line, ignored", i + 1);
          continue;
        }
      if (got < 18)
        esa_warn (warnings, "lslpp -Lc: line %u: %u fields, expected 18", i + 1, got);
      fs = g_new0 (EsaAixFileset, 1);
      fs->package = esa_field (f[0]);
      fs->fileset = esa_field (f[1]);
      fs->level = esa_field (f[2]);
      /* the code is in "State" on some levels, "Fix State" on others */
      fs->state = esa_field (f[3]);
      if (fs->state == NULL)
        fs->state = esa_field (f[5]);
      fs->ptf = esa_field (f[4]);
      fs->type = esa_field (f[6]);
      fs->description = esa_field (f[7]);
      fs->efix_locked = got > 15 && g_strcmp0 (g_strstrip (f[15]), "1") == 0;
      fs->build_date = date != NULL ? g_steal_pointer (&date) : (got > 17 ? esa_field (f[17]) : NULL);
      if (fs->state == NULL)
        esa_warn (warnings, "lslpp -Lc: %s: no state", fs->fileset);
      g_ptr_array_add (list, fs);
    }
  if (!esa_lslpp_fail (list, "lslpp -Lc", lines, first_bad, header, error))
    return NULL;
  return g_steal_pointer (&list);
}

JsonObject *
esa_aix_fileset_to_json (const EsaAixFileset *self)
{
  JsonObject *obj = json_object_new ();
  esa_json_set_string (obj, "fileset", self->fileset);
  esa_json_set_string (obj, "level", self->level);
  esa_json_set_string (obj, "state", self->state);
  esa_json_set_string (obj, "description", self->description);
  esa_json_set_string (obj, "path", self->path);
  esa_json_set_string (obj, "package", self->package);
  esa_json_set_string (obj, "ptf", self->ptf);
  esa_json_set_string (obj, "type", self->type);
  json_object_set_boolean_member (obj, "efix_locked", self->efix_locked);
  esa_json_set_string (obj, "build_date", self->build_date);
  return obj;
}

/* ---- errpt ---------------------------------------------------------------------------- */

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
  if (strlen (ts) != 10 || !esa_all (ts, esa_is_digit)
      || sscanf (ts, "%2d%2d%2d%2d%2d", &mo, &d, &h, &mi, &y) != 5)
    return NULL;
  if (!g_date_valid_dmy ((GDateDay) d, (GDateMonth) mo, (GDateYear) (2000 + y)) || h > 23 || mi > 59)
    return NULL;
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:00", 2000 + y, mo, d, h, mi);
}

GPtrArray *
esa_aix_parse_errpt_summary (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_errpt_entry_free);
  int first_bad = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) tok = esa_tokens (lines[i]);
      EsaAixErrptEntry *e;

      if (tok[0] == NULL || g_strcmp0 (tok[0], "IDENTIFIER") == 0)
        continue;
      if (g_strv_length (tok) < 5 || strlen (tok[0]) != 8 || !esa_all (tok[0], esa_is_xdigit)
          || strlen (tok[2]) != 1 || strlen (tok[3]) != 1)
        {
          if (first_bad < 0)
            first_bad = (int) i;
          esa_warn (warnings, "errpt: line %u: not an error log entry, ignored", i + 1);
          continue;
        }
      e = g_new0 (EsaAixErrptEntry, 1);
      e->identifier = g_strdup (tok[0]);
      e->timestamp = g_strdup (tok[1]);
      e->date = esa_errpt_timestamp (tok[1]);
      if (e->date == NULL)
        esa_warn (warnings, "errpt: %s: timestamp \"%s\" is not MMDDhhmmYY", tok[0], tok[1]);
      e->type = g_strdup (tok[2]);
      e->klass = g_strdup (tok[3]);
      e->resource = g_strdup (tok[4]);
      e->description = esa_field (esa_after_words (lines[i], 5));
      g_ptr_array_add (list, e);
    }
  /* an empty error log prints nothing at all: that is not an error */
  if (list->len == 0 && first_bad >= 0)
    {
      esa_set_invalid (error, "errpt", (guint) first_bad + 1, lines[first_bad],
                       "expected \"IDENTIFIER TIMESTAMP T C RESOURCE_NAME DESCRIPTION\"");
      return NULL;
    }
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
  static const char *const headings[] = { "Description", "Probable Causes", "User Causes",
                                          "Install Causes", "Failure Causes", "Recommended Actions",
                                          "Detail Data", "Symptom Data" };
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
  struct {
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
      if (!esa_parse_int64 (value, &r->sequence))
        esa_warn (warnings, "errpt -a: Sequence Number \"%s\" is not a number", value);
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_ascii_strcasecmp (key, map[i].key) == 0)
      {
        g_free (*map[i].dest);
        *map[i].dest = esa_field (value);
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
      if (stripped[0] == '\0' || !esa_split_key_value (lines[i], &key, &value))
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
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_errpt_record_free);
  guint n = g_strv_length (lines);
  guint start = 0;
  int first_bad = -1;

  for (guint i = 0; i < n; i++)
    if (strstr (lines[i], "0251-138") != NULL)
      {
        g_autofree char *shown = esa_shown (g_strstrip (lines[i]));
        g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "errpt: %s", shown);
        return NULL;
      }
  /* records are separated by a line of dashes; lines[start, i) is one */
  for (guint i = 0; i <= n; i++)
    {
      EsaAixErrptRecord *r;
      const char *name;
      gboolean blank = TRUE;

      if (i < n && !esa_is_rule (lines[i]))
        continue;
      for (guint j = start; j < i && blank; j++)
        blank = esa_blank (lines[j]);
      if (blank)
        {
          start = i + 1;
          continue;
        }
      r = esa_errpt_record (lines, start, i, warnings);
      if (r->label == NULL && r->identifier == NULL)
        {
          for (guint j = start; j < i && first_bad < 0; j++)
            if (!esa_blank (lines[j]))
              first_bad = (int) j;
          esa_warn (warnings, "errpt -a: lines %u-%u: no LABEL or IDENTIFIER, ignored", start + 1, i);
          esa_aix_errpt_record_free (r);
          start = i + 1;
          continue;
        }
      name = r->label != NULL ? r->label : r->identifier;
      if (r->date_raw != NULL)
        r->date = esa_parse_ctime (r->date_raw);
      if (r->date_raw == NULL)
        esa_warn (warnings, "errpt -a: %s: no Date/Time", name);
      else if (r->date == NULL)
        esa_warn (warnings, "errpt -a: %s: unreadable Date/Time \"%s\"", name, r->date_raw);
      if (r->sequence < 0)
        esa_warn (warnings, "errpt -a: %s: no Sequence Number", name);
      g_ptr_array_add (list, r);
      start = i + 1;
    }
  if (list->len == 0 && first_bad >= 0)
    {
      esa_set_invalid (error, "errpt -a", (guint) first_bad + 1, lines[first_bad],
                       "expected error log records (LABEL:, IDENTIFIER:, …)");
      return NULL;
    }
  return g_steal_pointer (&list);
}

JsonObject *
esa_aix_errpt_record_to_json (const EsaAixErrptRecord *self)
{
  JsonObject *obj = json_object_new ();
  JsonArray *sections = json_array_new ();
  esa_json_set_string (obj, "label", self->label);
  esa_json_set_string (obj, "identifier", self->identifier);
  esa_json_set_string (obj, "date", self->date);
  esa_json_set_string (obj, "date_raw", self->date_raw);
  json_object_set_int_member (obj, "sequence", self->sequence);
  esa_json_set_string (obj, "machine_id", self->machine_id);
  esa_json_set_string (obj, "node_id", self->node_id);
  esa_json_set_string (obj, "class", self->klass);
  esa_json_set_string (obj, "type", self->type);
  esa_json_set_string (obj, "wpar", self->wpar);
  esa_json_set_string (obj, "resource_name", self->resource_name);
  esa_json_set_string (obj, "resource_class", self->resource_class);
  esa_json_set_string (obj, "resource_type", self->resource_type);
  esa_json_set_string (obj, "location", self->location);
  esa_json_set_string (obj, "vpd", self->vpd);
  esa_json_set_string (obj, "description", self->description);
  for (guint i = 0; i < self->sections->len; i++)
    {
      EsaAixErrptSection *s = g_ptr_array_index (self->sections, i);
      JsonObject *o = json_object_new ();
      esa_json_set_string (o, "heading", s->heading);
      esa_json_set_string (o, "text", s->text);
      json_array_add_object_element (sections, o);
    }
  json_object_set_array_member (obj, "sections", sections);
  return obj;
}

/* ---- diag ------------------------------------------------------------------------------ */

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
  g_auto (GStrv) tok = esa_tokens (rest);
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
              if (len != 7 || !esa_all (tok[i], esa_is_alnum))
                esa_warn (warnings, "diag: FRU part number \"%s\" is not 7 characters", tok[i]);
            }
        }
      else if (len >= 2 && tok[i][len - 1] == '%')
        {
          g_autofree char *num = g_strndup (tok[i], len - 1);
          gint64 v;
          if (esa_parse_int64 (num, &v) && v >= 0 && v <= 100)
            fru->probability = (int) v;
          else
            esa_warn (warnings, "diag: FRU probability \"%s\" ignored", tok[i]);
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
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (EsaAixDiag) self = g_new0 (EsaAixDiag, 1);
  EsaAixDiagProblem *cur = NULL;
  EsaAixFru *fru = NULL;
  gboolean in_srn_text = FALSE, recognized = FALSE, ntf = FALSE;
  int first_bad = -1;

  self->problems = g_ptr_array_new_with_free_func (esa_aix_diag_problem_free);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *s = g_strstrip (g_strdup (lines[i]));
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
      tok = esa_tokens (s);
      if (g_str_has_prefix (s, "DIAGNOSTIC ANALYSIS"))
        {
          guint n = g_strv_length (tok);
          if (n > 2 && strlen (tok[n - 1]) == 6 && esa_all (tok[n - 1], esa_is_digit))
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
          if (last != NULL && strlen (last + 1) == 6 && esa_all (last + 1, esa_is_digit))
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
          cur->description = esa_field (rest);
          g_ptr_array_add (self->problems, cur);
          fru = NULL;
          in_srn_text = TRUE;
          self->problem_found = recognized = TRUE;
        }
      else if (g_str_has_prefix (s, "FRU:"))
        {
          if (cur == NULL)
            {
              esa_warn (warnings, "diag: line %u: FRU before any SRN", i + 1);
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
          /* lines under a FRU: its location code, then its description */
          if (fru->location == NULL && tok[1] == NULL && esa_is_location (s))
            fru->location = g_steal_pointer (&s);
          else
            esa_append_text (&fru->description, s);
        }
      else if (cur != NULL && esa_split_key_value (s, &key, &value))
        {
          in_srn_text = FALSE;
          if (g_ascii_strcasecmp (key, "SRC") == 0)
            {
              g_free (cur->src);
              cur->src = g_steal_pointer (&value);
              if (strlen (cur->src) != 8 || !esa_all (cur->src, esa_is_xdigit))
                esa_warn (warnings, "diag: SRC \"%s\" is not 8 hex digits", cur->src);
            }
          else if (g_ascii_strcasecmp (key, "Description") == 0)
            esa_append_text (&cur->description, value);
          else if (g_ascii_strcasecmp (key, "Label") == 0)
            {
              g_free (cur->error_label);
              cur->error_label = g_steal_pointer (&value);
            }
          else if (g_ascii_strcasecmp (key, "Date") == 0)
            {
              const char *seq = strstr (value, "Sequence number:");
              if (seq != NULL && !esa_parse_int64 (seq + strlen ("Sequence number:"), &cur->error_sequence))
                esa_warn (warnings, "diag: unreadable error log sequence number in \"%s\"", value);
            }
        }
      else if (cur != NULL && in_srn_text)
        esa_append_text (&cur->description, s);
      else if (g_str_has_suffix (s, "ENTRIES ANALYZED.") || g_str_has_prefix (s, "The Service Request")
               || g_str_has_prefix (s, "(causes are listed") || g_str_has_prefix (s, "Error log information")
               || g_str_has_prefix (s, "Probable FRUs"))
        continue;
      else if (first_bad < 0)
        first_bad = (int) i;
    }
  if (!recognized)
    {
      esa_set_unusable (error, "diag", lines, first_bad,
                        "expected diagnostic analysis output");
      return NULL;
    }
  if (ntf && self->problems->len > 0)
    esa_warn (warnings, "diag: both \"No Trouble Found\" and problems");
  if (self->problem_found && self->problems->len == 0)
    esa_warn (warnings, "diag: a problem was detected but no SRN was printed");
  for (guint i = 0; i < self->problems->len; i++)
    {
      EsaAixDiagProblem *p = g_ptr_array_index (self->problems, i);
      if (p->frus->len == 0)
        esa_warn (warnings, "diag: SRN %s has no FRU", p->srn != NULL ? p->srn : "(none)");
    }
  return g_steal_pointer (&self);
}

JsonObject *
esa_aix_diag_to_json (const EsaAixDiag *self)
{
  JsonObject *obj = json_object_new ();
  JsonArray *problems = json_array_new ();
  json_object_set_boolean_member (obj, "problem_found", self->problem_found);
  esa_json_set_string (obj, "date_raw", self->date_raw);
  esa_json_set_string (obj, "menu", self->menu);
  for (guint i = 0; i < self->problems->len; i++)
    {
      EsaAixDiagProblem *p = g_ptr_array_index (self->problems, i);
      JsonObject *po = json_object_new ();
      JsonArray *frus = json_array_new ();
      esa_json_set_string (po, "srn", p->srn);
      esa_json_set_string (po, "description", p->description);
      esa_json_set_string (po, "src", p->src);
      json_object_set_int_member (po, "error_sequence", p->error_sequence);
      esa_json_set_string (po, "error_label", p->error_label);
      for (guint j = 0; j < p->frus->len; j++)
        {
          EsaAixFru *f = g_ptr_array_index (p->frus, j);
          JsonObject *fo = json_object_new ();
          esa_json_set_string (fo, "part_number", f->part_number);
          json_object_set_int_member (fo, "probability", f->probability);
          esa_json_set_string (fo, "location", f->location);
          esa_json_set_string (fo, "device", f->device);
          esa_json_set_string (fo, "description", f->description);
          json_array_add_object_element (frus, fo);
        }
      json_object_set_array_member (po, "frus", frus);
      json_array_add_object_element (problems, po);
    }
  json_object_set_array_member (obj, "problems", problems);
  return obj;
}

/* ---- lscfg VPD ------------------------------------------------------------------------ */

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
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (esa_aix_vpd_free);
  int first_bad = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *s = g_strstrip (g_strdup (lines[i]));
      const char *dots = strstr (s, "..");
      EsaAixVpd *v;
      if (s[0] == '\0')
        continue;
      if (dots == NULL || dots == s || !g_ascii_isspace (lines[i][0]))
        {
          /* device lines, "Physical Location:", "PLATFORM SPECIFIC", "Name:" … */
          if (first_bad < 0 && !g_ascii_isspace (lines[i][0]))
            first_bad = (int) i;
          continue;
        }
      v = g_new0 (EsaAixVpd, 1);
      v->key = g_strndup (s, (gsize) (dots - s));
      while (*dots == '.')
        dots++;
      v->value = g_strstrip (g_strdup (dots));
      g_ptr_array_add (list, v);
    }
  if (list->len == 0)
    {
      esa_set_unusable (error, "lscfg", lines, first_bad,
                        "no VPD (\"Key.....value\") lines");
      return NULL;
    }
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

/* ---- lparstat -u --------------------------------------------------------------------------- */

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
  g_auto (GStrv) lines = esa_lines (text);
  g_autoptr (EsaAixUak) self = g_new0 (EsaAixUak, 1);
  gboolean any = FALSE;
  int first_bad = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *colon = strrchr (lines[i], ':');
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;
      g_autofree char *date = NULL;
      g_autoptr (GError) error_local = NULL;
      char **dest = NULL;

      if (esa_blank (lines[i]))
        continue;
      if (colon != NULL)
        {
          key = g_strstrip (g_strndup (lines[i], (gsize) (colon - lines[i])));
          if (g_str_has_prefix (key, "FW Update Access Key"))
            dest = &self->fw_expiry;
          else if (g_str_has_prefix (key, "AIX Update Access Key"))
            dest = &self->aix_expiry;
          else if (g_str_has_prefix (key, "AIX Image Date"))
            dest = &self->image_date;
        }
      if (dest == NULL)
        {
          if (first_bad < 0)
            first_bad = (int) i;
          esa_warn (warnings, "lparstat -u: line %u: not understood, ignored", i + 1);
          continue;
        }
      any = TRUE;
      value = g_strstrip (g_strdup (colon + 1));
      if (!esa_aix_parse_yyyymmdd ("lparstat -u", value, &date, &error_local))
        {
          esa_warn (warnings, "lparstat -u: %s: \"%s\" is not a YYYYMMDD date", key, value);
          continue;
        }
      g_free (*dest);
      *dest = g_steal_pointer (&date);
    }
  if (!any)
    {
      esa_set_unusable (error, "lparstat -u", lines, first_bad,
                        "expected \"FW Update Access Key Expiration (YYYYMMDD): …\"");
      return NULL;
    }
  return g_steal_pointer (&self);
}
