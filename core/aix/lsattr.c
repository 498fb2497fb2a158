/* lsattr.c: device attributes from lsattr -El / -EH (columns that may
 * touch) and from lsattr -F attribute:value. */
#include "config.h"

#include "esa/esa-aix.h"
#include "esa/esa-aix-records.h"
#include "esa/esa-error.h"

#include <string.h>

static void
esa_aix_attr_free (gpointer data)
{
  EsaAixAttr *attr = data;
  g_free (attr->attribute);
  g_free (attr->value);
  g_free (attr->description);
  g_free (attr);
}

typedef struct
{
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
  guint i = 0, len = (guint)strlen (line);
  while (i < len)
    {
      guint start, end;
      while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
      if (i >= len)
        break;
      start = i;
      while (i < len && line[i] != '\t'
             && !(line[i] == ' ' && (i + 1 >= len || line[i + 1] == ' ' || line[i + 1] == '\t')))
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
          best_start = (int)col->start;
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
  rest->start = first->start + (guint)(space - first->text) + 1;
  rest->text = g_strdup (space + 1);
  *space = '\0';
  g_ptr_array_insert (cols, 1, rest);
}

GPtrArray *
esa_aix_parse_lsattr (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("lsattr", text, warnings);
  g_autoptr (GPtrArray) attrs = g_ptr_array_new_with_free_func (esa_aix_attr_free);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (esa_columns_free);
  g_autoptr (GArray) settable = g_array_new (FALSE, FALSE, sizeof (gboolean));
  int value_col, desc_col;

  /* pass 1: columns of every line that ends in True/False */
  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strchomp (g_strdup (in.lines[i]));
      char *last = strrchr (line, ' ');
      char *tab = strrchr (line, '\t');
      gboolean user_settable = FALSE;
      GPtrArray *cols;

      g_ptr_array_add (rows, NULL);
      g_array_append_val (settable, user_settable);
      if (esa_aix_blank (line))
        continue;
      if (tab != NULL && (last == NULL || tab > last))
        last = tab;
      if (g_str_has_prefix (line, "attribute") && g_str_has_suffix (line, "user_settable"))
        continue;
      if (last == NULL || (g_strcmp0 (last + 1, "True") != 0 && g_strcmp0 (last + 1, "False") != 0))
        {
          esa_aix_reader_skip (&in, i, "no True/False column");
          continue;
        }
      user_settable = g_strcmp0 (last + 1, "True") == 0;
      *last = '\0';
      cols = esa_columns (line);
      if (cols->len == 0 || !esa_aix_all (((EsaColumn *)g_ptr_array_index (cols, 0))->text, esa_aix_is_name))
        {
          /* the attribute may be glued to the value by a single blank */
          if (cols->len > 0)
            esa_split_first_column (cols);
          if (cols->len == 0
              || !esa_aix_all (((EsaColumn *)g_ptr_array_index (cols, 0))->text, esa_aix_is_name))
            {
              esa_aix_reader_skip (&in, i, "not an attribute line");
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
      attr->attribute = g_strdup (((EsaColumn *)g_ptr_array_index (cols, 0))->text);
      attr->user_settable = g_array_index (settable, gboolean, i);
      if (cols->len >= 3)
        {
          g_autoptr (GStrvBuilder) desc = g_strv_builder_new ();
          g_auto (GStrv) parts = NULL;
          attr->value = g_strdup (((EsaColumn *)g_ptr_array_index (cols, 1))->text);
          for (guint c = 2; c < cols->len; c++)
            g_strv_builder_add (desc, ((EsaColumn *)g_ptr_array_index (cols, c))->text);
          parts = g_strv_builder_end (desc);
          attr->description = g_strjoinv (" ", parts);
        }
      else if (cols->len == 2)
        {
          EsaColumn *col = g_ptr_array_index (cols, 1);
          gboolean is_value = value_col >= 0 && desc_col >= 0
                              && ABS ((int)col->start - value_col) < ABS ((int)col->start - desc_col);
          attr->value = g_strdup (is_value ? col->text : "");
          attr->description = is_value ? NULL : g_strdup (col->text);
        }
      else
        {
          attr->value = g_strdup ("");
          esa_aix_warn (warnings, "lsattr: %s: no value and no description", attr->attribute);
        }
      g_ptr_array_add (attrs, attr);
    }

  if (!esa_aix_reader_check (&in, attrs->len > 0, "expected \"attribute value description user_settable\"",
                             error))
    return NULL;
  return g_steal_pointer (&attrs);
}

GPtrArray *
esa_aix_parse_lsattr_colon (const char *text, GPtrArray *warnings, GError **error)
{
  g_auto (EsaAixReader) in = esa_aix_reader_start ("lsattr", text, warnings);
  g_autoptr (GPtrArray) attrs = g_ptr_array_new_with_free_func (esa_aix_attr_free);

  for (guint i = 0; in.lines[i] != NULL; i++)
    {
      const char *line = in.lines[i];
      const char *sep = strchr (line, ':');
      g_autofree char *name = NULL;
      EsaAixAttr *attr;

      if (esa_aix_blank (line))
        continue;
      if (sep == NULL)
        sep = strpbrk (line, " \t");
      name = sep != NULL ? g_strstrip (g_strndup (line, (gsize)(sep - line))) : NULL;
      if (name == NULL || !esa_aix_all (name, esa_aix_is_name))
        {
          esa_aix_reader_skip (&in, i, "not \"attribute:value\"");
          continue;
        }
      attr = g_new0 (EsaAixAttr, 1);
      attr->attribute = g_steal_pointer (&name);
      attr->value = g_strstrip (g_strdup (sep + 1));
      g_ptr_array_add (attrs, attr);
    }
  if (!esa_aix_reader_check (&in, attrs->len > 0, "expected \"attribute:value\"", error))
    return NULL;
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
