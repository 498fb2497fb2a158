# libesa-protocol: what the agent, esa-proxy and esa-sdc share — the protocol's names
# (esa/esa-protocol.h), the ESA_ERROR domain (its header stays among the plugin headers, core/esa/) and the typed JSON reader. A convenience
# library: libesa takes it in (and exports it), esa-sdc and esa-proxy link it directly.
noinst_LTLIBRARIES += protocol/libesa-protocol.la
protocol_libesa_protocol_la_SOURCES = \
	protocol/esa-error.c \
	protocol/esa-json.c \
	protocol/esa-json-parse.c \
	protocol/esa-json-write.c
protocol_libesa_protocol_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa\"
protocol_libesa_protocol_la_LIBADD = $(JSON_LIBS) $(GLIB_LIBS) -lm

esainclude_HEADERS += \
	protocol/esa/esa-json.h \
	protocol/esa/esa-protocol.h

# Tests: the JSON reader and the bounded parser, linked without libesa.
check_PROGRAMS += tests/test-json
TESTS += tests/test-json
tests_test_json_SOURCES = tests/test-json.c
tests_test_json_LDADD = protocol/libesa-protocol.la $(JSON_LIBS) $(GLIB_LIBS)

# The strict reader against json-glib's JsonParser (tests/json-reference.c, the
# JsonParser-based parse of before) on every fuzz corpus.
check_PROGRAMS += tests/test-json-parse
TESTS += tests/test-json-parse
tests_test_json_parse_SOURCES = tests/test-json-parse.c tests/json-reference.c tests/json-reference.h
tests_test_json_parse_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
tests_test_json_parse_LDADD = protocol/libesa-protocol.la $(JSON_LIBS) $(GLIB_LIBS) -lm

# The writer against json-glib's generator on every fuzz corpus.
check_PROGRAMS += tests/test-json-write
TESTS += tests/test-json-write
tests_test_json_write_SOURCES = tests/test-json-write.c tests/json-reference.c tests/json-reference.h
tests_test_json_write_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
tests_test_json_write_LDADD = protocol/libesa-protocol.la $(JSON_LIBS) $(GLIB_LIBS) -lm
