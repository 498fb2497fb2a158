# plugins/sysinfo/local.mk: rules added by the sysinfo plugin
# The collecting is a helper library the tests link directly; sysinfo.la is
# the thin module around it.
noinst_LTLIBRARIES += plugins/sysinfo/libesa-sysinfo.la
plugins_sysinfo_libesa_sysinfo_la_SOURCES = \
	plugins/sysinfo/sysinfo-private.h \
	plugins/sysinfo/sysinfo-collect.c \
	plugins/sysinfo/sysinfo-packages.c
plugins_sysinfo_libesa_sysinfo_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-sysinfo\"

plugin_LTLIBRARIES += plugins/sysinfo/sysinfo.la
plugins_sysinfo_sysinfo_la_SOURCES = plugins/sysinfo/sysinfo.c
plugins_sysinfo_sysinfo_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-sysinfo\"
plugins_sysinfo_sysinfo_la_LIBADD = plugins/sysinfo/libesa-sysinfo.la core/libesa.la $(GLIB_LIBS) $(JSON_LIBS)
plugins_sysinfo_sysinfo_la_LDFLAGS = $(ESA_PLUGIN_LINK_FLAGS)
EXTRA_DIST += plugins/sysinfo/README.md

check_PROGRAMS += tests/test-sysinfo tests/test-sysinfo-e2e
TESTS += tests/test-sysinfo tests/test-sysinfo-e2e
tests_test_sysinfo_SOURCES = tests/test-sysinfo.c
tests_test_sysinfo_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/plugins/sysinfo
tests_test_sysinfo_LDADD = plugins/sysinfo/libesa-sysinfo.la $(ESA_TEST_LIBS)

tests_test_sysinfo_e2e_SOURCES = tests/test-sysinfo-e2e.c
tests_test_sysinfo_e2e_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/plugins/sysinfo
tests_test_sysinfo_e2e_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_sysinfo_e2e_DEPENDENCIES = daemon/esad cli/esactl sdc/esa-sdc plugins/heartbeat/heartbeat.la plugins/sysinfo/sysinfo.la
