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

/* Appends one line (without its end) to out, redacted if needed. */
static gboolean
redact_line (GString *out, const char *line, gsize len)
{
  gsize sep = 0, value;
  while (sep < len && line[sep] != '=' && line[sep] != ':')
    sep++;
  if (sep == len || sep == 0 || !name_is_secret (line, sep))
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
