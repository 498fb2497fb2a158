# plugins/diag/local.mk: rules added by the diag plugin.
# The logic lives in a helper library the tests link directly; the module is thin.
noinst_LTLIBRARIES += plugins/diag/libesa-diag.la
plugins_diag_libesa_diag_la_SOURCES = \
	plugins/diag/diag-aix.c plugins/diag/diag-aix.h \
	plugins/diag/diag-commands.c plugins/diag/diag-commands.h \
	plugins/diag/diag-edac.c plugins/diag/diag-edac.h \
	plugins/diag/diag-errpt.c plugins/diag/diag-errpt.h \
	plugins/diag/diag-srn.c plugins/diag/diag-srn.h \
	plugins/diag/diag-problem-log.c plugins/diag/diag-problem-log.h \
	plugins/diag/diag-reporter.c plugins/diag/diag-reporter.h
plugins_diag_libesa_diag_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-diag\"

plugin_LTLIBRARIES += plugins/diag/diag.la
plugins_diag_diag_la_SOURCES = plugins/diag/diag.c
plugins_diag_diag_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-diag\"
plugins_diag_diag_la_LIBADD = plugins/diag/libesa-diag.la core/libesa.la $(GLIB_LIBS) $(JSON_LIBS)
plugins_diag_diag_la_LDFLAGS = $(ESA_PLUGIN_LINK_FLAGS)

EXTRA_DIST += plugins/diag/README.md

# AIX errnotify: the ODM stanza and the scripts that add/remove it.
errnotifydir = $(pkgdatadir)/errnotify
dist_errnotify_DATA = data/errnotify/openesa.add
dist_errnotify_SCRIPTS = data/errnotify/openesa-errnotify-install data/errnotify/openesa-errnotify-uninstall

# Tests: the helpers (unit) and the plugin end to end (esa-sdc + esad + esactl).
check_PROGRAMS += tests/test-diag tests/test-diag-e2e
TESTS += tests/test-diag tests/test-diag-e2e
tests_test_diag_SOURCES = tests/test-diag.c
tests_test_diag_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/plugins/diag -DG_LOG_DOMAIN=\"esa-diag\"
tests_test_diag_LDADD = plugins/diag/libesa-diag.la $(ESA_TEST_LIBS)

tests_test_diag_e2e_SOURCES = tests/test-diag-e2e.c
tests_test_diag_e2e_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
tests_test_diag_e2e_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_diag_e2e_DEPENDENCIES = daemon/esad cli/esactl sdc/esa-sdc plugins/heartbeat/heartbeat.la \
	plugins/diag/diag.la plugins/snap/snap.la

# The parsers of errpt and diag output (tests/aix/ mirrors the files).
check_PROGRAMS += tests/aix/test-errpt tests/aix/test-diag-srn
TESTS += tests/aix/test-errpt tests/aix/test-diag-srn
tests_aix_test_errpt_SOURCES = tests/aix/test-errpt.c
tests_aix_test_errpt_CFLAGS = $(ESA_AIX_TEST_CFLAGS) -I$(top_srcdir)/plugins/diag
tests_aix_test_errpt_LDADD = plugins/diag/libesa-diag.la $(ESA_AIX_TEST_LIBS)
tests_aix_test_diag_srn_SOURCES = tests/aix/test-diag-srn.c
tests_aix_test_diag_srn_CFLAGS = $(ESA_AIX_TEST_CFLAGS) -I$(top_srcdir)/plugins/diag
tests_aix_test_diag_srn_LDADD = plugins/diag/libesa-diag.la $(ESA_AIX_TEST_LIBS)
