# esa-sdc: the reference Service Delivery Center (docs/protocol.md).
# The code lives in a convenience library so unit tests can link the store and crypto
# directly; esa-sdc does not use libesa.
noinst_LTLIBRARIES += sdc/libesa-sdc.la
sdc_libesa_sdc_la_SOURCES = \
	sdc/sdc-api.c \
	sdc/sdc-api-system.c \
	sdc/sdc-auth.c sdc/sdc-auth.h \
	sdc/sdc-auth-cache.c sdc/sdc-auth-cache.h \
	sdc/sdc-batch.c sdc/sdc-batch.h \
	sdc/sdc-ca.c sdc/sdc-ca.h \
	sdc/sdc-error.c sdc/sdc-error.h \
	sdc/sdc-fsync.c sdc/sdc-fsync.h \
	sdc/sdc-json.c sdc/sdc-json.h \
	sdc/sdc-list.c sdc/sdc-list.h \
	sdc/sdc-approve.c sdc/sdc-approve.h \
	sdc/sdc-server.c sdc/sdc-server.h sdc/sdc-server-private.h \
	sdc/sdc-store.c sdc/sdc-store.h \
	sdc/sdc-store-sqlite.c \
	sdc/sdc-sqlite-checkpoint.c sdc/sdc-sqlite-checkpoint.h \
	sdc/sdc-throttle.c sdc/sdc-throttle.h \
	sdc/sdc-guard.c sdc/sdc-guard.h \
	sdc/sdc-idle.c sdc/sdc-idle.h \
	sdc/sdc-log.c sdc/sdc-log.h \
	sdc/sdc-loops.c sdc/sdc-loops.h \
	sdc/sdc-tls-legacy.c sdc/sdc-tls-legacy.h \
	sdc/sdc-uak.c sdc/sdc-uak.h \
	sdc/sdc-ui.c sdc/sdc-ui.h \
	sdc/sdc-ui-pages.c sdc/sdc-ui-pages.h \
	sdc/sdc-upload.c sdc/sdc-upload.h \
	sdc/sdc-writer.c sdc/sdc-writer.h
if HAVE_LIBPQ
sdc_libesa_sdc_la_SOURCES += sdc/sdc-store-pg.c
endif
SDC_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) $(GNUTLS_CFLAGS) $(SQLITE_CFLAGS) $(LIBPQ_CFLAGS) -DG_LOG_DOMAIN=\"esa-sdc\"
SDC_LIBS = $(SOUP_LIBS) $(GNUTLS_LIBS) $(SQLITE_LIBS) $(LIBPQ_LIBS) $(JSON_LIBS) $(GLIB_LIBS)
sdc_libesa_sdc_la_CFLAGS = $(SDC_CFLAGS)
sdc_libesa_sdc_la_LIBADD = protocol/libesa-protocol.la $(SDC_LIBS)

bin_PROGRAMS += sdc/esa-sdc
sdc_esa_sdc_SOURCES = sdc/esa-sdc-main.c sdc/sdc-allocator.c sdc/sdc-allocator.h
sdc_esa_sdc_CFLAGS = $(SDC_CFLAGS) $(JEMALLOC_CFLAGS)
# jemalloc (when configure found it) first, so that its malloc is the one every library
# calls; the program only: the unit tests keep the C library's
sdc_esa_sdc_LDADD = $(JEMALLOC_LIBS) sdc/libesa-sdc.la $(SDC_LIBS)

# Tests: a real esa-sdc on 127.0.0.1 and [::1], a libsoup client trusting its ca.pem.
SDC_TEST_CFLAGS = $(SDC_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/sdc
# Not $(ESA_TEST_LIBS): esa-sdc and its tests do not use libesa.
SDC_TEST_LIBS = sdc/libesa-sdc.la tests/libesa-test.la $(SDC_LIBS)

check_PROGRAMS += tests/test-sdc tests/test-sdc-init tests/test-sdc-store
TESTS += tests/test-sdc tests/test-sdc-init tests/test-sdc-store
tests_test_sdc_SOURCES = tests/test-sdc.c tests/sdc-test-sqlite.c tests/sdc-test-sqlite.h
if HAVE_LIBPQ
# the batch tests run on PostgreSQL too
tests_test_sdc_SOURCES += tests/sdc-test-pg.c tests/sdc-test-pg.h
endif
tests_test_sdc_CFLAGS = $(SDC_TEST_CFLAGS)
tests_test_sdc_LDADD = $(SDC_TEST_LIBS)
EXTRA_tests_test_sdc_DEPENDENCIES = sdc/esa-sdc
tests_test_sdc_init_SOURCES = tests/test-sdc-init.c
tests_test_sdc_init_CFLAGS = $(SDC_TEST_CFLAGS)
tests_test_sdc_init_LDADD = $(SDC_TEST_LIBS)
EXTRA_tests_test_sdc_init_DEPENDENCIES = sdc/esa-sdc
tests_test_sdc_store_SOURCES = tests/test-sdc-store.c tests/sdc-test-sqlite.c tests/sdc-test-sqlite.h
if HAVE_LIBPQ
# the same store suite on PostgreSQL, in a throw-away cluster
tests_test_sdc_store_SOURCES += tests/sdc-test-pg.c tests/sdc-test-pg.h
endif
tests_test_sdc_store_CFLAGS = $(SDC_TEST_CFLAGS)
tests_test_sdc_store_LDADD = $(SDC_TEST_LIBS)

if HAVE_LIBPQ
# Two instances on one PostgreSQL database, an agent failing over between them.
check_PROGRAMS += tests/test-sdc-fleet
TESTS += tests/test-sdc-fleet
tests_test_sdc_fleet_SOURCES = tests/test-sdc-fleet.c tests/sdc-test-pg.c tests/sdc-test-pg.h
tests_test_sdc_fleet_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests $(LIBPQ_CFLAGS)
tests_test_sdc_fleet_LDADD = $(ESA_TEST_LIBS) $(LIBPQ_LIBS)
EXTRA_tests_test_sdc_fleet_DEPENDENCIES = daemon/esad cli/esactl sdc/esa-sdc plugins/heartbeat/heartbeat.la tests/queue-writer
endif

# The web view in headless chromium over the DevTools protocol (skipped without it).
TESTS += tests/test-sdc-ui.py
EXTRA_DIST += tests/test-sdc-ui.py
