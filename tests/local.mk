# Shared test helpers; each component's local.mk adds its own tests.
check_LTLIBRARIES += tests/libesa-test.la
tests_libesa_test_la_SOURCES = tests/esa-test-util.c tests/esa-test-util.h
tests_libesa_test_la_LIBADD = $(GLIB_LIBS)
ESA_TEST_LIBS = tests/libesa-test.la core/libesa.la $(GLIB_LIBS) $(JSON_LIBS)
EXTRA_DIST += tests/fixtures
