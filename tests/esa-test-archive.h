/* esa-test-archive.h: reading an archive the snap plugin wrote, in the tests. */
#pragma once

#include <glib.h>

/* Every member of the archive at @path (any format libarchive reads):
 * name -> NUL-terminated contents. Fails the test on a read error. */
GHashTable *esa_test_read_archive (const char *path);
