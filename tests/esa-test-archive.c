/* esa-test-archive.c: reading an archive the snap plugin wrote, in the tests. */
#include "config.h"

#include "esa-test-archive.h"

#include <archive.h>
#include <archive_entry.h>

GHashTable *
esa_test_read_archive (const char *path)
{
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  archive_read_support_filter_all (a);
  archive_read_support_format_all (a);
  g_assert_cmpint (archive_read_open_filename (a, path, 16384), ==, ARCHIVE_OK);
  while (archive_read_next_header (a, &entry) == ARCHIVE_OK)
    {
      gsize size = (gsize) archive_entry_size (entry);
      char *buf = g_malloc0 (size + 1);
      g_assert_cmpint (archive_read_data (a, buf, size), ==, (la_ssize_t) size);
      g_hash_table_insert (files, g_strdup (archive_entry_pathname (entry)), buf);
    }
  archive_read_free (a);
  return files;
}
