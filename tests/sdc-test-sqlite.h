/* sdc-test-sqlite.h: reading an esa-sdc SQLite file (or a backup of one) from a test. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The reports in the SQLite database at PATH, after asserting that it passes
 * `PRAGMA integrity_check`. */
guint sdc_test_sqlite_count_reports (const char *path);

G_END_DECLS
