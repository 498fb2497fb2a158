# plugins/uak/local.mk: rules added by the uak plugin
# The logic (key data, SDC answers, signature check, backends) is a helper
# library the tests link directly; uak.la is the thin module around it.
noinst_LTLIBRARIES += plugins/uak/libesa-uak.la
plugins_uak_libesa_uak_la_SOURCES = \
	plugins/uak/uak-private.h \
	plugins/uak/uak-key.c \
	plugins/uak/uak-verify.c \
	plugins/uak/uak-backend.c \
	plugins/uak/uak-lparstat.c plugins/uak/uak-lparstat.h \
	plugins/uak/uak-lscfg.c plugins/uak/uak-lscfg.h
plugins_uak_libesa_uak_la_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) -DG_LOG_DOMAIN=\"esa-uak\"
plugins_uak_libesa_uak_la_LIBADD = $(GNUTLS_LIBS)

plugin_LTLIBRARIES += plugins/uak/uak.la
plugins_uak_uak_la_SOURCES = plugins/uak/uak.c
plugins_uak_uak_la_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) -DG_LOG_DOMAIN=\"esa-uak\"
plugins_uak_uak_la_LIBADD = plugins/uak/libesa-uak.la core/libesa.la $(GNUTLS_LIBS) $(GLIB_LIBS) $(JSON_LIBS)
plugins_uak_uak_la_LDFLAGS = $(ESA_PLUGIN_LINK_FLAGS)
EXTRA_DIST += plugins/uak/README.md

# Unit tests of the parsers and the signature check, and end-to-end tests
# against a real esa-sdc (tests/test-uak-e2e.c).
check_PROGRAMS += tests/test-uak tests/test-uak-e2e
TESTS += tests/test-uak tests/test-uak-e2e
tests_test_uak_SOURCES = tests/test-uak.c
tests_test_uak_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/plugins/uak
tests_test_uak_LDADD = plugins/uak/libesa-uak.la $(ESA_TEST_LIBS) $(GNUTLS_LIBS)
EXTRA_tests_test_uak_DEPENDENCIES = sdc/esa-sdc

tests_test_uak_e2e_SOURCES = tests/test-uak-e2e.c
tests_test_uak_e2e_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/plugins/uak
tests_test_uak_e2e_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_uak_e2e_DEPENDENCIES = daemon/esad cli/esactl sdc/esa-sdc plugins/heartbeat/heartbeat.la plugins/uak/uak.la

# The parsers of lparstat -u and lscfg VPD, and the fake AIX commands the
# uak and snap tests rely on (tests/aix/ mirrors the files).
check_PROGRAMS += tests/aix/test-lparstat tests/aix/test-lscfg tests/aix/test-fakes
TESTS += tests/aix/test-lparstat tests/aix/test-lscfg tests/aix/test-fakes
tests_aix_test_lparstat_SOURCES = tests/aix/test-lparstat.c
tests_aix_test_lparstat_CFLAGS = $(ESA_AIX_TEST_CFLAGS) -I$(top_srcdir)/plugins/uak
tests_aix_test_lparstat_LDADD = plugins/uak/libesa-uak.la $(ESA_AIX_TEST_LIBS) $(GNUTLS_LIBS)
tests_aix_test_lscfg_SOURCES = tests/aix/test-lscfg.c
tests_aix_test_lscfg_CFLAGS = $(ESA_AIX_TEST_CFLAGS) -I$(top_srcdir)/plugins/uak
tests_aix_test_lscfg_LDADD = plugins/uak/libesa-uak.la $(ESA_AIX_TEST_LIBS) $(GNUTLS_LIBS)
tests_aix_test_fakes_SOURCES = tests/aix/test-fakes.c
tests_aix_test_fakes_CFLAGS = $(ESA_AIX_TEST_CFLAGS) -I$(top_srcdir)/plugins/uak
tests_aix_test_fakes_LDADD = plugins/uak/libesa-uak.la $(ESA_AIX_TEST_LIBS) $(GNUTLS_LIBS)
