/* sysinfo-packages.c: parsers for the Linux package lists (dpkg-query, rpm).
 * Tolerant like the AIX parsers: an odd line is a warning, only output with
 * no package in it at all is an error. */
#include "config.h"

#include "sysinfo-private.h"

#include <string.h>

#define SYSINFO_MAX_WARNINGS 20

static void
sysinfo_warn (GPtrArray *warnings, guint *count, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
sysinfo_warn (GPtrArray *warnings, guint *count, const char *fmt, ...)
{
  va_list ap;
  /* a broken package database could give thousands: keep the first few */
  if (warnings == NULL || ++(*count) > SYSINFO_MAX_WARNINGS)
    return;
  va_start (ap, fmt);
  g_ptr_array_add (warnings, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

static void
sysinfo_set_clean (JsonObject *o, const char *member, const char *raw)
{
  g_autofree char *s = g_strstrip (g_utf8_make_valid (raw, -1));
  json_object_set_string_member (o, member, s);
}

static gboolean
sysinfo_blank (const char *s)
{
  for (; *s != '\0'; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

static gboolean
sysinfo_has_space (const char *s)
{
  g_autofree char *copy = g_strstrip (g_strdup (s));
  return copy[0] == '\0' || strpbrk (copy, " \t") != NULL;
}

/* NAME TAB VERSION TAB THIRD: the dpkg status or the rpm arch */
static GPtrArray *
sysinfo_parse_tabbed (const char *command, const char *third, const char *text,
                      GPtrArray *warnings, GError **error)
{
  /* the error below quotes a line: it must be valid UTF-8 */
  g_autofree char *valid = esa_text_make_valid (text != NULL ? text : "", -1);
  g_auto (GStrv) lines = g_strsplit (valid, "\n", -1);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  guint n_warn = 0;
  int first_bad = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = NULL;
      JsonObject *o;
      char *line = lines[i];
      gsize n = strlen (line);
      if (n > 0 && line[n - 1] == '\r')
        line[n - 1] = '\0';
      if (sysinfo_blank (line))
        continue;
      f = g_strsplit (line, "\t", 4);
      if (g_strv_length (f) != 3 || sysinfo_has_space (f[0]) || sysinfo_has_space (f[1]))
        {
          if (first_bad < 0)
            first_bad = (int) i;
          sysinfo_warn (warnings, &n_warn, "%s: line %u: expected NAME<tab>VERSION<tab>%s, ignored",
                        command, i + 1, third);
          continue;
        }
      o = json_object_new ();
      sysinfo_set_clean (o, "name", f[0]);
      sysinfo_set_clean (o, "version", f[1]);
      sysinfo_set_clean (o, g_str_equal (third, "STATUS") ? "state" : "arch", f[2]);
      g_ptr_array_add (list, o);
    }
  if (n_warn > SYSINFO_MAX_WARNINGS && warnings != NULL)
    g_ptr_array_add (warnings, g_strdup_printf ("%s: %u more odd lines", command, n_warn - SYSINFO_MAX_WARNINGS));
  if (list->len == 0 && first_bad >= 0)
    {
      g_autofree char *shown = g_utf8_substring (lines[first_bad], 0, MIN (60, g_utf8_strlen (lines[first_bad], -1)));
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: line %d: \"%s\": no package found",
                   command, first_bad + 1, shown);
      return NULL;
    }
  return g_steal_pointer (&list);
}

GPtrArray *
esa_sysinfo_parse_dpkg (const char *text, GPtrArray *warnings, GError **error)
{
  GPtrArray *list = sysinfo_parse_tabbed ("dpkg-query", "STATUS", text, warnings, error);
  if (list == NULL)
    return NULL;
  /* dpkg keeps removed-but-not-purged packages ("deinstall ok config-files"):
   * they are not installed, leave them out */
  for (guint i = list->len; i > 0; i--)
    {
      JsonObject *o = g_ptr_array_index (list, i - 1);
      const char *state = json_object_get_string_member (o, "state");
      if (!g_str_has_suffix (state, " installed"))
        g_ptr_array_remove_index (list, i - 1);
    }
  return list;
}

GPtrArray *
esa_sysinfo_parse_rpm (const char *text, GPtrArray *warnings, GError **error)
{
  return sysinfo_parse_tabbed ("rpm -qa", "ARCH", text, warnings, error);
}
