# Transport tests (issue 3): real esa-sdc, esad, esactl and tinyproxy on
# loopback. tests/test-transport-util.c (in libesa-test) is the shared world.
ESA_TRANSPORT_TEST_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
ESA_TRANSPORT_TEST_DEPS = daemon/esad cli/esactl sdc/esa-sdc plugins/heartbeat/heartbeat.la

check_PROGRAMS += \
	tests/test-transport-tls \
	tests/test-transport-proxy \
	tests/test-transport-queue \
	tests/test-transport-backoff \
	tests/test-transport-answers \
	tests/test-transport-parallel \
	tests/test-transport-batch
TESTS += \
	tests/test-transport-tls \
	tests/test-transport-proxy \
	tests/test-transport-queue \
	tests/test-transport-backoff \
	tests/test-transport-answers \
	tests/test-transport-parallel \
	tests/test-transport-batch

tests_test_transport_tls_SOURCES = tests/test-transport-tls.c
tests_test_transport_tls_CFLAGS = $(ESA_TRANSPORT_TEST_CFLAGS)
tests_test_transport_tls_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_transport_tls_DEPENDENCIES = $(ESA_TRANSPORT_TEST_DEPS) tests/tls-test-server

tests_test_transport_proxy_SOURCES = tests/test-transport-proxy.c
tests_test_transport_proxy_CFLAGS = $(ESA_TRANSPORT_TEST_CFLAGS)
tests_test_transport_proxy_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_transport_proxy_DEPENDENCIES = $(ESA_TRANSPORT_TEST_DEPS)

tests_test_transport_queue_SOURCES = tests/test-transport-queue.c
tests_test_transport_queue_CFLAGS = $(ESA_TRANSPORT_TEST_CFLAGS)
tests_test_transport_queue_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_transport_queue_DEPENDENCIES = $(ESA_TRANSPORT_TEST_DEPS)

tests_test_transport_answers_SOURCES = tests/test-transport-answers.c
tests_test_transport_answers_CFLAGS = $(ESA_TRANSPORT_TEST_CFLAGS)
tests_test_transport_answers_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_transport_answers_DEPENDENCIES = $(ESA_TRANSPORT_TEST_DEPS)

tests_test_transport_parallel_SOURCES = tests/test-transport-parallel.c
tests_test_transport_parallel_CFLAGS = $(ESA_TRANSPORT_TEST_CFLAGS)
tests_test_transport_parallel_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_transport_parallel_DEPENDENCIES = $(ESA_TRANSPORT_TEST_DEPS) tests/queue-writer

tests_test_transport_batch_SOURCES = tests/test-transport-batch.c
tests_test_transport_batch_CFLAGS = $(ESA_TRANSPORT_TEST_CFLAGS)
tests_test_transport_batch_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_transport_batch_DEPENDENCIES = $(ESA_TRANSPORT_TEST_DEPS)

# Unit test of the sender's backoff: links the transport library itself.
tests_test_transport_backoff_SOURCES = tests/test-transport-backoff.c
tests_test_transport_backoff_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) $(GNUTLS_CFLAGS) \
	-I$(top_srcdir)/tests -I$(top_srcdir)/transports -I$(top_srcdir)/transports/https \
	-I$(top_srcdir)/transports/file
tests_test_transport_backoff_LDADD = transports/libesa-transport.la $(ESA_TEST_LIBS) \
	$(SOUP_LIBS) $(GNUTLS_LIBS) -lm

# What the deliverer decides about a report before the network (links the library).
check_PROGRAMS += tests/test-transport-deliver
TESTS += tests/test-transport-deliver
tests_test_transport_deliver_SOURCES = tests/test-transport-deliver.c
tests_test_transport_deliver_CFLAGS = $(tests_test_transport_backoff_CFLAGS)
tests_test_transport_deliver_LDADD = $(tests_test_transport_backoff_LDADD)

# Identity per partition, re-registration, contact, deactivation (issue 12), end to end.
check_PROGRAMS += tests/test-identity-e2e
TESTS += tests/test-identity-e2e
tests_test_identity_e2e_SOURCES = tests/test-identity-e2e.c
tests_test_identity_e2e_CFLAGS = $(ESA_TRANSPORT_TEST_CFLAGS)
tests_test_identity_e2e_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_identity_e2e_DEPENDENCIES = $(ESA_TRANSPORT_TEST_DEPS)
