# plugins/snap/local.mk: rules added by the snap plugin.
# Only this plugin uses libarchive (ARCHIVE_CFLAGS/LIBS from configure.ac),
# and where configure found its soname it opens it only while building an
# archive (snap-archive-lib.h) instead of linking it.
if SNAP_LAZY_ARCHIVE
SNAP_ARCHIVE_LINK =
else
SNAP_ARCHIVE_LINK = $(ARCHIVE_LIBS)
endif
noinst_LTLIBRARIES += plugins/snap/libesa-snap.la
plugins_snap_libesa_snap_la_SOURCES = \
	plugins/snap/snap-archive-lib.c plugins/snap/snap-archive-lib.h \
	plugins/snap/snap-collect.c plugins/snap/snap-collect.h \
	plugins/snap/snap-job.c plugins/snap/snap-job.h \
	plugins/snap/snap-redact.c plugins/snap/snap-redact.h \
	plugins/snap/snap-repack.c plugins/snap/snap-repack.h \
	plugins/snap/snap-tokens.c plugins/snap/snap-tokens.h
plugins_snap_libesa_snap_la_CFLAGS = $(AM_CFLAGS) $(ARCHIVE_CFLAGS) -DG_LOG_DOMAIN=\"esa-snap\"
plugins_snap_libesa_snap_la_LIBADD = $(SNAP_ARCHIVE_LINK)

plugin_LTLIBRARIES += plugins/snap/snap.la
plugins_snap_snap_la_SOURCES = plugins/snap/snap.c
plugins_snap_snap_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-snap\"
plugins_snap_snap_la_LIBADD = plugins/snap/libesa-snap.la core/libesa.la $(GLIB_LIBS) $(JSON_LIBS) $(SNAP_ARCHIVE_LINK)
plugins_snap_snap_la_LDFLAGS = $(ESA_PLUGIN_LINK_FLAGS)

EXTRA_DIST += plugins/snap/README.md

# Tests: the helpers (unit) and extended data end to end with diag.
check_PROGRAMS += tests/test-snap tests/test-snap-e2e
TESTS += tests/test-snap tests/test-snap-e2e
tests_test_snap_SOURCES = tests/test-snap.c tests/esa-test-archive.c tests/esa-test-archive.h
tests_test_snap_CFLAGS = $(AM_CFLAGS) $(ARCHIVE_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/plugins/snap
tests_test_snap_LDADD = plugins/snap/libesa-snap.la $(ESA_TEST_LIBS) $(ARCHIVE_LIBS)

tests_test_snap_e2e_SOURCES = tests/test-snap-e2e.c tests/esa-test-archive.c tests/esa-test-archive.h
tests_test_snap_e2e_CFLAGS = $(AM_CFLAGS) $(ARCHIVE_CFLAGS) -I$(top_srcdir)/tests
tests_test_snap_e2e_LDADD = $(ESA_TEST_LIBS) $(ARCHIVE_LIBS)
EXTRA_tests_test_snap_e2e_DEPENDENCIES = daemon/esad cli/esactl sdc/esa-sdc plugins/heartbeat/heartbeat.la \
	plugins/diag/diag.la plugins/snap/snap.la

# The plugin opens libarchive only while it builds an archive.
TESTS += tests/test-snap-lazy.sh
EXTRA_DIST += tests/test-snap-lazy.sh
