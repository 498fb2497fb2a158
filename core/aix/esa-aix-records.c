/* esa-aix-records.c: the tolerant line reader shared by the AIX output
 * parsers: lines, words, "Key: value" splitting, and the one way they all
 * report an odd line (a warning) or unusable output (an error naming the
 * command and the line). */
#include "config.h"

#include "esa/esa-aix-records.h"
#include "esa/esa-error.h"
#include "esa/esa-subprocess.h"

#include <stdarg.h>
#include <string.h>

EsaAixReader
esa_aix_reader_start (const char *command, const char *text, GPtrArray *warnings)
{
  EsaAixReader self
    = { .command = command, .lines = esa_aix_lines (text), .warnings = warnings, .first_bad = -1 };
  return self;
}

void
esa_aix_reader_clear (EsaAixReader *self)
{
  g_clear_pointer (&self->lines, g_strfreev);
}

void
esa_aix_reader_skip (EsaAixReader *self, guint i, const char *what)
{
  if (self->first_bad < 0)
    self->first_bad = (int)i;
  esa_aix_warn (self->warnings, "%s: line %u: %s, ignored", self->command, i + 1, what);
}
void
esa_aix_warn (GPtrArray *warnings, const char *fmt, ...)
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
char *
esa_aix_shown (const char *line)
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
      if ((guchar)*p < 0x20 || *p == 0x7f)
        g_string_append_printf (out, "\\x%02x", (guchar)*p);
      else if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

void
esa_aix_set_invalid (GError **error, const char *command, guint lineno, const char *line, const char *why)
{
  g_autofree char *shown = esa_aix_shown (line);
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: line %u: \"%s\": %s", command, lineno, shown,
               why);
}

void
esa_aix_set_empty (GError **error, const char *command)
{
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: empty output", command);
}

/* Nothing usable came out: name the first line that did not parse, or say
 * the output was empty. */
static void
esa_aix_set_unusable (GError **error, const char *command, GStrv lines, int first_bad, const char *why)
{
  if (first_bad < 0)
    esa_aix_set_empty (error, command);
  else
    esa_aix_set_invalid (error, command, (guint)first_bad + 1, lines[first_bad], why);
}

/* Lines without their "\r\n" / "\n". */
GStrv
esa_aix_lines (const char *text)
{
  /* parsers run GRegex on these lines: never hand them invalid UTF-8 */
  g_autofree char *valid = esa_text_make_valid (text != NULL ? text : "", -1);
  GStrv lines = g_strsplit (valid, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize len = strlen (lines[i]);
      if (len > 0 && lines[i][len - 1] == '\r')
        lines[i][len - 1] = '\0';
    }
  return lines;
}

gboolean
esa_aix_blank (const char *line)
{
  for (; *line != '\0'; line++)
    if (!g_ascii_isspace (*line))
      return FALSE;
  return TRUE;
}

guint
esa_aix_indent (const char *line)
{
  guint n = 0;
  for (; *line == ' ' || *line == '\t'; line++)
    n += *line == '\t' ? 8 : 1;
  return n;
}

/* What follows the first `k` blank-separated words of line. */
const char *
esa_aix_after_words (const char *line, guint k)
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

void
esa_aix_replace (char **dest, char *value)
{
  g_free (*dest);
  *dest = value;
}

/* Continuation lines: joined with one blank. */
void
esa_aix_append_text (char **dest, const char *more)
{
  char *joined = *dest != NULL ? g_strdup_printf ("%s %s", *dest, more) : g_strdup (more);
  g_free (*dest);
  *dest = joined;
}

GStrv
esa_aix_tokens (const char *line)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) parts = g_strsplit_set (line, " \t", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_strv_builder_add (b, parts[i]);
  return g_strv_builder_end (b);
}

/* NULL for "", " " and the like: how the colon forms say "no value". */
char *
esa_aix_field (const char *value)
{
  g_autofree char *copy = g_strstrip (g_strdup (value != NULL ? value : ""));
  return copy[0] != '\0' ? g_steal_pointer (&copy) : NULL;
}

gboolean
esa_aix_parse_int64 (const char *text, gint64 *out)
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

gboolean
esa_aix_all (const char *s, gboolean (*pred) (gchar))
{
  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!pred (*s))
      return FALSE;
  return TRUE;
}

gboolean
esa_aix_is_digit (gchar c)
{
  return g_ascii_isdigit (c);
}

gboolean
esa_aix_is_xdigit (gchar c)
{
  return g_ascii_isxdigit (c);
}

gboolean
esa_aix_is_alnum (gchar c)
{
  return g_ascii_isalnum (c);
}

gboolean
esa_aix_is_name (gchar c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-' || c == '.';
}

void
esa_aix_json_set_string (JsonObject *obj, const char *key, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (obj, key, value);
  else
    json_object_set_null_member (obj, key);
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
gboolean
esa_aix_split_key_value (const char *line, char **key, char **value)
{
  const char *colon = strchr (line, ':');
  g_autofree char *k = NULL;
  if (colon == NULL || (colon[1] != '\0' && colon[1] != ' ' && colon[1] != '\t'))
    return FALSE;
  k = g_strstrip (g_strndup (line, (gsize)(colon - line)));
  if (!esa_is_key (k))
    return FALSE;
  *key = g_steal_pointer (&k);
  *value = g_strstrip (g_strdup (colon + 1));
  return TRUE;
}

gboolean
esa_aix_reader_check (EsaAixReader *self, gboolean usable, const char *expected, GError **error)
{
  if (!usable)
    esa_aix_set_unusable (error, self->command, self->lines, self->first_bad, expected);
  return usable;
}
