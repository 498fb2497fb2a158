/* esactl-table.c: plain text tables for people (--json is for scripts). */
#include "config.h"

#include "esactl-private.h"

#include <stdarg.h>

struct _EsactlTable {
  GPtrArray *rows; /* GStrv */
  guint columns;
};

static GStrv
collect (const char *first, va_list args)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  for (const char *s = first; s != NULL; s = va_arg (args, const char *))
    g_strv_builder_add (b, s);
  return g_strv_builder_end (b);
}

EsactlTable *
esactl_table_new (const char *first_header, ...)
{
  EsactlTable *t = g_new0 (EsactlTable, 1);
  va_list args;
  GStrv header;
  t->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  va_start (args, first_header);
  header = collect (first_header, args);
  va_end (args);
  t->columns = g_strv_length (header);
  g_ptr_array_add (t->rows, header);
  return t;
}

void
esactl_table_add (EsactlTable *t, const char *first_cell, ...)
{
  va_list args;
  va_start (args, first_cell);
  g_ptr_array_add (t->rows, collect (first_cell, args));
  va_end (args);
}

void
esactl_table_print (EsactlTable *t)
{
  g_autofree glong *width = g_new0 (glong, t->columns);
  for (guint r = 0; r < t->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (t->rows, r);
      for (guint c = 0; c < t->columns && row[c] != NULL; c++)
        width[c] = MAX (width[c], g_utf8_strlen (row[c], -1));
    }
  for (guint r = 0; r < t->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (t->rows, r);
      g_autoptr (GString) line = g_string_new (NULL);
      for (guint c = 0; c < t->columns && row[c] != NULL; c++)
        {
          g_string_append (line, row[c]);
          if (c + 1 < t->columns)
            for (glong pad = g_utf8_strlen (row[c], -1); pad < width[c] + 2; pad++)
              g_string_append_c (line, ' ');
        }
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      g_print ("%s\n", line->str);
      if (r == 0)
        {
          g_autoptr (GString) rule = g_string_new (NULL);
          for (guint c = 0; c < t->columns; c++)
            {
              for (glong i = 0; i < width[c]; i++)
                g_string_append_c (rule, '-');
              if (c + 1 < t->columns)
                g_string_append (rule, "  ");
            }
          g_print ("%s\n", rule->str);
        }
    }
}

void
esactl_table_free (EsactlTable *t)
{
  g_ptr_array_unref (t->rows);
  g_free (t);
}
