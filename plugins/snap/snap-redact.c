/* snap-redact.c: line-by-line secret redaction (see snap-redact.h). Works on
 * bytes: a config file need not be UTF-8, and nothing but the value changes. */
#include "config.h"

#include "snap-redact.h"

#include <string.h>

static const char *const snap_secret_words[] = { "password", "passwd", "secret", "key", "token", NULL };

static gboolean
name_is_secret (const char *name, gsize len)
{
  g_autofree char *lower = g_ascii_strdown (name, (gssize) len);
  for (guint i = 0; snap_secret_words[i] != NULL; i++)
    if (strstr (lower, snap_secret_words[i]) != NULL)
      return TRUE;
  return FALSE;
}

/* JSON on the line: every "name": "value" pair whose name is secret gets
 * "***" as its value, the rest of the line unchanged. FALSE (and nothing
 * appended) when no pair was redacted. */
static gboolean
redact_json_pairs (GString *out, const char *line, gsize len)
{
  g_autoptr (GString) tmp = g_string_sized_new (len);
  gboolean changed = FALSE;
  gsize i = 0;
  while (i < len)
    {
      gsize name_start, name_end, j, value_end;
      if (line[i] != '"')
        {
          g_string_append_c (tmp, line[i++]);
          continue;
        }
      name_start = i + 1;
      name_end = name_start;
      while (name_end < len && line[name_end] != '"')
        name_end += line[name_end] == '\\' ? 2 : 1;
      if (name_end >= len)
        break;
      j = name_end + 1;
      while (j < len && (line[j] == ' ' || line[j] == '\t'))
        j++;
      if (j < len && line[j] == ':')
        {
          j++;
          while (j < len && (line[j] == ' ' || line[j] == '\t'))
            j++;
        }
      else
        j = len;
      if (j < len && line[j] == '"' && name_is_secret (line + name_start, name_end - name_start))
        {
          value_end = j + 1;
          while (value_end < len && line[value_end] != '"')
            value_end += line[value_end] == '\\' ? 2 : 1;
          if (value_end < len)
            {
              g_string_append_len (tmp, line + i, (gssize) (j + 1 - i));
              g_string_append (tmp, "***\"");
              i = value_end + 1;
              changed = TRUE;
              continue;
            }
        }
      g_string_append_len (tmp, line + i, (gssize) (name_end + 1 - i));
      i = name_end + 1;
    }
  if (!changed)
    return FALSE;
  g_string_append_len (tmp, line + i, (gssize) (len - MIN (i, len)));
  g_string_append_len (out, tmp->str, (gssize) tmp->len);
  return TRUE;
}

/* "name value" (sshd_config, .netrc, slapd): the first word names the setting. */
static gsize
word_separated_value (const char *line, gsize len, gsize *name_start, gsize *name_len)
{
  gsize i = 0, end, value;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  end = i;
  while (end < len && line[end] != ' ' && line[end] != '\t')
    end++;
  value = end;
  while (value < len && (line[value] == ' ' || line[value] == '\t'))
    value++;
  *name_start = i;
  *name_len = end - i;
  return value;
}

/* Appends one line (without its end) to out, redacted if needed. */
static gboolean
redact_line (GString *out, const char *line, gsize len)
{
  gsize sep = 0, value;
  if (memchr (line, '"', len) != NULL && redact_json_pairs (out, line, len))
    return TRUE;
  while (sep < len && line[sep] != '=' && line[sep] != ':')
    sep++;
  if (sep == len)
    {
      gsize name_start, name_len;
      value = word_separated_value (line, len, &name_start, &name_len);
      if (name_len == 0 || value == name_start + name_len || !name_is_secret (line + name_start, name_len))
        {
          g_string_append_len (out, line, (gssize) len);
          return FALSE;
        }
      sep = value - 1; /* the value starts after the blanks: same path as below */
    }
  else if (sep == 0 || !name_is_secret (line, sep))
    {
      g_string_append_len (out, line, (gssize) len);
      return FALSE;
    }
  value = sep + 1;
  while (value < len && (line[value] == ' ' || line[value] == '\t'))
    value++;
  /* nothing to hide: keep "password=" as it is */
  if (value == len || (len - value == 1 && line[value] == '\r'))
    {
      g_string_append_len (out, line, (gssize) len);
      return FALSE;
    }
  g_string_append_len (out, line, (gssize) value);
  g_string_append (out, "***");
  if (line[len - 1] == '\r')
    g_string_append_c (out, '\r');
  return TRUE;
}

char *
snap_redact (const char *text, gsize len, guint *n_redacted)
{
  GString *out = g_string_sized_new (len + 16);
  gsize start = 0;
  guint n = 0;
  while (start < len)
    {
      const char *nl = memchr (text + start, '\n', len - start);
      gsize end = nl != NULL ? (gsize) (nl - text) : len;
      if (redact_line (out, text + start, end - start))
        n++;
      if (nl != NULL)
        g_string_append_c (out, '\n');
      start = end + 1;
    }
  if (n_redacted != NULL)
    *n_redacted = n;
  return g_string_free (out, FALSE);
}
