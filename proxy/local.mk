# esa-proxy: the Service and Support Proxy (docs/proxy.md).
# The logic is a convenience library so the tests can link the parsers directly.
noinst_LTLIBRARIES += proxy/libesa-proxy.la
proxy_libesa_proxy_la_SOURCES = \
	proxy/esa-proxy-allow.c proxy/esa-proxy-allow.h \
	proxy/esa-proxy-auth.c proxy/esa-proxy-auth.h \
	proxy/esa-proxy-cidr.c proxy/esa-proxy-cidr.h \
	proxy/esa-proxy-config.c proxy/esa-proxy-config.h \
	proxy/esa-proxy-dial.c proxy/esa-proxy-dial.h \
	proxy/esa-proxy-log.c proxy/esa-proxy-log.h \
	proxy/esa-proxy-request.c proxy/esa-proxy-request.h \
	proxy/esa-proxy-server.c proxy/esa-proxy-server.h \
	proxy/esa-proxy-tunnel.c proxy/esa-proxy-tunnel.h
proxy_libesa_proxy_la_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) -DG_LOG_DOMAIN=\"esa-proxy\"
proxy_libesa_proxy_la_LIBADD = protocol/libesa-protocol.la $(GLIB_LIBS) $(GNUTLS_LIBS)

sbin_PROGRAMS += proxy/esa-proxy
proxy_esa_proxy_SOURCES = proxy/esa-proxy-main.c
proxy_esa_proxy_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-proxy\"
proxy_esa_proxy_LDADD = proxy/libesa-proxy.la $(GLIB_LIBS) $(GNUTLS_LIBS)

# Example configuration, installed next to esa.conf.
proxyconfdir = $(sysconfdir)/esa
dist_proxyconf_DATA = data/esa-proxy.conf

# Tests: unit tests of the parsers, and an integration test on loopback sockets.
ESA_PROXY_TEST_LIBS = proxy/libesa-proxy.la $(ESA_TEST_LIBS) $(GNUTLS_LIBS)

check_PROGRAMS += tests/test-proxy-request tests/test-proxy-config tests/test-proxy
TESTS += tests/test-proxy-request tests/test-proxy-config tests/test-proxy
tests_test_proxy_request_SOURCES = tests/test-proxy-request.c
tests_test_proxy_request_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/proxy
tests_test_proxy_request_LDADD = $(ESA_PROXY_TEST_LIBS)
tests_test_proxy_config_SOURCES = tests/test-proxy-config.c
tests_test_proxy_config_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/proxy
tests_test_proxy_config_LDADD = $(ESA_PROXY_TEST_LIBS)
tests_test_proxy_SOURCES = tests/test-proxy.c
tests_test_proxy_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/proxy
tests_test_proxy_LDADD = $(ESA_PROXY_TEST_LIBS)


# The agent delivering through esa-proxy (needs esad, esactl, esa-sdc built).
check_PROGRAMS += tests/test-proxy-agent
TESTS += tests/test-proxy-agent
tests_test_proxy_agent_SOURCES = tests/test-proxy-agent.c
tests_test_proxy_agent_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
tests_test_proxy_agent_LDADD = $(ESA_TEST_LIBS)
