# Shared test helpers; each component's local.mk adds its own tests.
check_LTLIBRARIES += tests/libesa-test.la
# esa-test-util: temp dirs, ports, processes. test-transport-util: a whole
# world (esa-sdc, esad, esactl, tinyproxy) for the end-to-end tests.
tests_libesa_test_la_SOURCES = tests/esa-test-util.c tests/esa-test-util.h \
	tests/test-transport-util.c tests/test-transport-util.h
tests_libesa_test_la_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
tests_libesa_test_la_LIBADD = $(GLIB_LIBS) $(JSON_LIBS)
ESA_TEST_LIBS = tests/libesa-test.la core/libesa-internal.la $(GLIB_LIBS) $(JSON_LIBS)
EXTRA_DIST += tests/fixtures

# ---- Core tests (issue 2): config, report, queue, plugin loader, dispatcher,
# control socket, and esad end to end. They run the built esad/esactl.
ESA_CORE_TEST_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) -I$(top_srcdir)/tests
ESA_CORE_TEST_LIBS = $(ESA_TEST_LIBS) $(SOUP_LIBS)
ESA_CORE_TEST_DEPS = daemon/esad cli/esactl plugins/heartbeat/heartbeat.la

check_PROGRAMS += \
	tests/test-config \
	tests/test-report \
	tests/test-fileutil \
	tests/test-queue \
	tests/queue-writer \
	tests/test-plugin-loader \
	tests/test-dispatcher \
	tests/test-control \
	tests/test-esad
TESTS += \
	tests/test-config \
	tests/test-report \
	tests/test-fileutil \
	tests/test-queue \
	tests/test-plugin-loader \
	tests/test-dispatcher \
	tests/test-control \
	tests/test-esad

tests_test_config_SOURCES = tests/test-config.c
tests_test_config_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_config_LDADD = $(ESA_CORE_TEST_LIBS)
EXTRA_tests_test_config_DEPENDENCIES = cli/esactl

tests_test_report_SOURCES = tests/test-report.c
tests_test_report_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_report_LDADD = $(ESA_CORE_TEST_LIBS)

tests_test_fileutil_SOURCES = tests/test-fileutil.c
tests_test_fileutil_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_fileutil_LDADD = $(ESA_CORE_TEST_LIBS)

tests_test_queue_SOURCES = tests/test-queue.c
tests_test_queue_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_queue_LDADD = $(ESA_CORE_TEST_LIBS)
EXTRA_tests_test_queue_DEPENDENCIES = tests/queue-writer

# Enqueues reports in a loop for the kill -9 test of test-queue.
tests_queue_writer_SOURCES = tests/queue-writer.c
tests_queue_writer_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_queue_writer_LDADD = $(ESA_CORE_TEST_LIBS)

tests_test_plugin_loader_SOURCES = tests/test-plugin-loader.c
tests_test_plugin_loader_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_plugin_loader_LDADD = $(ESA_CORE_TEST_LIBS)
# These load plugins: they export the public API as esad does.
tests_test_plugin_loader_LDFLAGS = $(ESA_HOST_LINK_FLAGS)
EXTRA_tests_test_plugin_loader_DEPENDENCIES = $(ESA_CORE_TEST_DEPS) $(ESA_TEST_PLUGINS)

tests_test_dispatcher_SOURCES = tests/test-dispatcher.c
tests_test_dispatcher_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_dispatcher_LDADD = $(ESA_CORE_TEST_LIBS)
tests_test_dispatcher_LDFLAGS = $(ESA_HOST_LINK_FLAGS)

tests_test_control_SOURCES = tests/test-control.c
# The control server is esad's (daemon/): the test links its helper library.
tests_test_control_CFLAGS = $(ESA_CORE_TEST_CFLAGS) -I$(top_srcdir)/daemon
tests_test_control_LDADD = daemon/libesad.la $(ESA_CORE_TEST_LIBS)
tests_test_control_LDFLAGS = $(ESA_HOST_LINK_FLAGS)

tests_test_esad_SOURCES = tests/test-esad.c
tests_test_esad_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_esad_LDADD = $(ESA_CORE_TEST_LIBS)
EXTRA_tests_test_esad_DEPENDENCIES = $(ESA_CORE_TEST_DEPS) $(ESA_TEST_PLUGINS)

# The plugin SDK (issue 14): esactl plugin info/enable/disable, the exported
# ABI, and the example collector built out of the tree from an installed SDK.
check_PROGRAMS += tests/test-plugin-admin tests/test-sdk
TESTS += tests/test-plugin-admin tests/test-sdk tests/test-abi.sh
tests_test_plugin_admin_SOURCES = tests/test-plugin-admin.c
tests_test_plugin_admin_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_plugin_admin_LDADD = $(ESA_CORE_TEST_LIBS)
EXTRA_tests_test_plugin_admin_DEPENDENCIES = $(ESA_CORE_TEST_DEPS) $(ESA_TEST_PLUGINS) sdc/esa-sdc
tests_test_sdk_SOURCES = tests/test-sdk.c
tests_test_sdk_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_sdk_LDADD = $(ESA_CORE_TEST_LIBS)
EXTRA_tests_test_sdk_DEPENDENCIES = $(ESA_CORE_TEST_DEPS) sdc/esa-sdc core/libesa.la
EXTRA_DIST += tests/sdk-build.sh tests/test-abi.sh

# Test plugins: real modules (hence -rpath), never installed. libtool puts
# the .so files in tests/plugins/.libs/.
ESA_TEST_PLUGINS = \
	tests/plugins/good.la \
	tests/plugins/wrong-abi.la \
	tests/plugins/no-symbol.la \
	tests/plugins/needs-internal.la \
	tests/plugins/no-query.la \
	tests/plugins/init-fails.la \
	tests/plugins/constructor.la \
	tests/plugins/ctor-abi.la
check_LTLIBRARIES += $(ESA_TEST_PLUGINS)
ESA_TEST_PLUGIN_LDFLAGS = $(ESA_PLUGIN_LINK_FLAGS) -rpath /nowhere
ESA_TEST_PLUGIN_LIBADD = core/libesa.la $(GLIB_LIBS) $(JSON_LIBS)

tests_plugins_good_la_SOURCES = tests/plugins/good.c
tests_plugins_good_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-good\"
tests_plugins_good_la_LIBADD = $(ESA_TEST_PLUGIN_LIBADD)
tests_plugins_good_la_LDFLAGS = $(ESA_TEST_PLUGIN_LDFLAGS)

tests_plugins_wrong_abi_la_SOURCES = tests/plugins/wrong-abi.c
tests_plugins_wrong_abi_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-wrong-abi\"
tests_plugins_wrong_abi_la_LIBADD = $(ESA_TEST_PLUGIN_LIBADD)
tests_plugins_wrong_abi_la_LDFLAGS = $(ESA_TEST_PLUGIN_LDFLAGS)

tests_plugins_no_symbol_la_SOURCES = tests/plugins/no-symbol.c
tests_plugins_no_symbol_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-no-symbol\"
tests_plugins_no_symbol_la_LIBADD = $(ESA_TEST_PLUGIN_LIBADD)
# Exports neither symbol, so no -export-symbols-regex (an empty export list
# is a linker error).
tests_plugins_no_symbol_la_LDFLAGS = -module -avoid-version -shared -no-undefined -rpath /nowhere

tests_plugins_needs_internal_la_SOURCES = tests/plugins/needs-internal.c
tests_plugins_needs_internal_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-needs-internal\"
# Not linked with libesa and undefined symbols allowed (no -no-undefined): the
# linker would refuse esa_queue_remove, the test wants the loader to.
tests_plugins_needs_internal_la_LIBADD = $(GLIB_LIBS) $(JSON_LIBS)
tests_plugins_needs_internal_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere \
	-export-symbols-regex '^esa_plugin_(abi|query)$$'

tests_plugins_no_query_la_SOURCES = tests/plugins/no-query.c
tests_plugins_no_query_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-no-query\"
tests_plugins_no_query_la_LIBADD = $(ESA_TEST_PLUGIN_LIBADD)
tests_plugins_no_query_la_LDFLAGS = $(ESA_TEST_PLUGIN_LDFLAGS)

tests_plugins_init_fails_la_SOURCES = tests/plugins/init-fails.c
tests_plugins_init_fails_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-init-fails\"
tests_plugins_init_fails_la_LIBADD = $(ESA_TEST_PLUGIN_LIBADD)
tests_plugins_init_fails_la_LDFLAGS = $(ESA_TEST_PLUGIN_LDFLAGS)

tests_plugins_constructor_la_SOURCES = tests/plugins/constructor.c
tests_plugins_constructor_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-constructor\"
# Exports nothing (its code is its ELF constructor), like no-symbol.
tests_plugins_constructor_la_LDFLAGS = -module -avoid-version -shared -no-undefined -rpath /nowhere

tests_plugins_ctor_abi_la_SOURCES = tests/plugins/constructor.c
tests_plugins_ctor_abi_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-ctor-abi\" -DESA_TEST_CTOR_ABI
tests_plugins_ctor_abi_la_LIBADD = $(ESA_TEST_PLUGIN_LIBADD)
tests_plugins_ctor_abi_la_LDFLAGS = $(ESA_TEST_PLUGIN_LDFLAGS)

# Packaging: the installp image read back by an independent reader, and the
# AIX configuration scripts against fake AIX administration commands.
TESTS += tests/test-installp.py tests/test-aix-config.sh
EXTRA_DIST += tests/test-installp.py tests/test-aix-config.sh
# Manual pages and bash completion.
TESTS += tests/test-man.sh tests/test-completion.sh
EXTRA_DIST += tests/test-man.sh tests/test-completion.sh
# Translations: esactl with LANGUAGE=de / ja.
TESTS += tests/test-i18n.sh
EXTRA_DIST += tests/test-i18n.sh

# A wall clock set ahead and back (issue 10 item 6): esad under libfaketime.
check_PROGRAMS += tests/test-clock
TESTS += tests/test-clock
tests_test_clock_SOURCES = tests/test-clock.c
tests_test_clock_CFLAGS = $(ESA_CORE_TEST_CFLAGS)
tests_test_clock_LDADD = $(ESA_CORE_TEST_LIBS)
EXTRA_tests_test_clock_DEPENDENCIES = daemon/esad cli/esactl sdc/esa-sdc plugins/heartbeat/heartbeat.la

# Issue 10's proofs: the crash soak (fast variant; bench/soak.sh is the long
# one), the fault matrix, and esad's/esa-sdc's fds after 1,000 requests.
# Python drivers around the real programs (tests/soak/soak.py has the world).
TESTS += tests/soak/test-soak-fast.sh tests/soak/test-faults.py tests/soak/test-fds.py
EXTRA_DIST += tests/soak/soak.py tests/soak/test-soak-fast.sh tests/soak/test-faults.py tests/soak/test-fds.py

# A loopback-only TLS server for tests/test-transport-tls (in place of
# gnutls-serv, which listens on every address): logs each handshake's suite
# and every application-data record.
check_PROGRAMS += tests/tls-test-server
tests_tls_test_server_SOURCES = tests/tls-test-server.c
tests_tls_test_server_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
tests_tls_test_server_LDADD = $(GLIB_LIBS) $(GNUTLS_LIBS)
