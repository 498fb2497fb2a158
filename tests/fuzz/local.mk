# tests/fuzz: libFuzzer harnesses (bench/fuzz.sh runs them; configure --enable-fuzzing,
# CC=clang) and, in every build, a replay of each harness's corpus under make check.
# A harness is fuzz-NAME.c with LLVMFuzzerTestOneInput and a corpus in corpus/NAME/.
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/fuzz.h

# The corpora once more with leak checking: ASan's in a sanitizer build, else valgrind.
TESTS += tests/fuzz/test-replay-leaks.sh
EXTRA_DIST += tests/fuzz/test-replay-leaks.sh
if SANITIZERS
ESA_LEAK_CHECK = asan
else
ESA_LEAK_CHECK = valgrind
endif

FUZZ_PROXY_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/proxy -I$(top_srcdir)/tests/fuzz

check_PROGRAMS += tests/fuzz/replay-proxy-request tests/fuzz/replay-proxy-config
TESTS += tests/fuzz/replay-proxy-request tests/fuzz/replay-proxy-config
tests_fuzz_replay_proxy_request_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-proxy-request.c
tests_fuzz_replay_proxy_request_CFLAGS = $(FUZZ_PROXY_CFLAGS) -DFUZZ_NAME=\"proxy-request\"
tests_fuzz_replay_proxy_request_LDADD = $(ESA_PROXY_TEST_LIBS)
tests_fuzz_replay_proxy_config_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-proxy-config.c
tests_fuzz_replay_proxy_config_CFLAGS = $(FUZZ_PROXY_CFLAGS) -DFUZZ_NAME=\"proxy-config\"
tests_fuzz_replay_proxy_config_LDADD = $(ESA_PROXY_TEST_LIBS)

# The agent's parsers (issue 10): esa.conf, AIX command output, the SDC's request bodies,
# the spool's records, the control API's request bodies.
FUZZ_CORE_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests/fuzz
FUZZ_AIX_CFLAGS = $(FUZZ_CORE_CFLAGS) -I$(top_srcdir)/plugins/diag -I$(top_srcdir)/plugins/uak
FUZZ_SDC_CFLAGS = $(SDC_CFLAGS) -I$(top_srcdir)/sdc -I$(top_srcdir)/tests/fuzz

# esa_json_parse against json-glib (tests/json-reference.c)
FUZZ_JSON_CFLAGS = $(FUZZ_CORE_CFLAGS) -I$(top_srcdir)/tests
check_PROGRAMS += tests/fuzz/replay-json
TESTS += tests/fuzz/replay-json
tests_fuzz_replay_json_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-json.c tests/json-reference.c
tests_fuzz_replay_json_CFLAGS = $(FUZZ_JSON_CFLAGS) -DFUZZ_NAME=\"json\"
tests_fuzz_replay_json_LDADD = protocol/libesa-protocol.la $(JSON_LIBS) $(GLIB_LIBS) -lm

check_PROGRAMS += tests/fuzz/replay-config tests/fuzz/replay-aix tests/fuzz/replay-sdc-request tests/fuzz/replay-spool tests/fuzz/replay-control
TESTS += tests/fuzz/replay-config tests/fuzz/replay-aix tests/fuzz/replay-sdc-request tests/fuzz/replay-spool tests/fuzz/replay-control
tests_fuzz_replay_config_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-config.c
tests_fuzz_replay_config_CFLAGS = $(FUZZ_CORE_CFLAGS) -DFUZZ_NAME=\"config\"
tests_fuzz_replay_config_LDADD = $(ESA_TEST_LIBS)
tests_fuzz_replay_aix_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-aix.c
tests_fuzz_replay_aix_CFLAGS = $(FUZZ_AIX_CFLAGS) -DFUZZ_NAME=\"aix\"
tests_fuzz_replay_aix_LDADD = plugins/diag/libesa-diag.la plugins/uak/libesa-uak.la $(ESA_TEST_LIBS) $(GNUTLS_LIBS)
tests_fuzz_replay_sdc_request_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-sdc-request.c
tests_fuzz_replay_sdc_request_CFLAGS = $(FUZZ_SDC_CFLAGS) -DFUZZ_NAME=\"sdc-request\"
tests_fuzz_replay_sdc_request_LDADD = $(SDC_TEST_LIBS)
tests_fuzz_replay_spool_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-spool.c
tests_fuzz_replay_spool_CFLAGS = $(FUZZ_CORE_CFLAGS) -DFUZZ_NAME=\"spool\"
tests_fuzz_replay_spool_LDADD = $(ESA_TEST_LIBS)
tests_fuzz_replay_control_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-control.c
tests_fuzz_replay_control_CFLAGS = $(FUZZ_CORE_CFLAGS) -DFUZZ_NAME=\"control\"
tests_fuzz_replay_control_LDADD = $(ESA_TEST_LIBS)

if FUZZING
# Built by make (not installed, not run by make check: bench/fuzz.sh runs them).
noinst_PROGRAMS += tests/fuzz/fuzz-proxy-request tests/fuzz/fuzz-proxy-config
tests_fuzz_fuzz_proxy_request_SOURCES = tests/fuzz/fuzz-proxy-request.c
tests_fuzz_fuzz_proxy_request_CFLAGS = $(FUZZ_PROXY_CFLAGS)
tests_fuzz_fuzz_proxy_request_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_proxy_request_LDADD = $(ESA_PROXY_TEST_LIBS)
tests_fuzz_fuzz_proxy_config_SOURCES = tests/fuzz/fuzz-proxy-config.c
tests_fuzz_fuzz_proxy_config_CFLAGS = $(FUZZ_PROXY_CFLAGS)
tests_fuzz_fuzz_proxy_config_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_proxy_config_LDADD = $(ESA_PROXY_TEST_LIBS)
noinst_PROGRAMS += tests/fuzz/fuzz-json
tests_fuzz_fuzz_json_SOURCES = tests/fuzz/fuzz-json.c tests/json-reference.c
tests_fuzz_fuzz_json_CFLAGS = $(FUZZ_JSON_CFLAGS)
tests_fuzz_fuzz_json_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_json_LDADD = protocol/libesa-protocol.la $(JSON_LIBS) $(GLIB_LIBS) -lm
noinst_PROGRAMS += tests/fuzz/fuzz-config tests/fuzz/fuzz-aix tests/fuzz/fuzz-sdc-request tests/fuzz/fuzz-spool tests/fuzz/fuzz-control
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz-config.c
tests_fuzz_fuzz_config_CFLAGS = $(FUZZ_CORE_CFLAGS)
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_config_LDADD = $(ESA_TEST_LIBS)
tests_fuzz_fuzz_aix_SOURCES = tests/fuzz/fuzz-aix.c
tests_fuzz_fuzz_aix_CFLAGS = $(FUZZ_AIX_CFLAGS)
tests_fuzz_fuzz_aix_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_aix_LDADD = plugins/diag/libesa-diag.la plugins/uak/libesa-uak.la $(ESA_TEST_LIBS) $(GNUTLS_LIBS)
tests_fuzz_fuzz_sdc_request_SOURCES = tests/fuzz/fuzz-sdc-request.c
tests_fuzz_fuzz_sdc_request_CFLAGS = $(FUZZ_SDC_CFLAGS)
tests_fuzz_fuzz_sdc_request_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sdc_request_LDADD = $(SDC_TEST_LIBS)
tests_fuzz_fuzz_spool_SOURCES = tests/fuzz/fuzz-spool.c
tests_fuzz_fuzz_spool_CFLAGS = $(FUZZ_CORE_CFLAGS)
tests_fuzz_fuzz_spool_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_spool_LDADD = $(ESA_TEST_LIBS)
tests_fuzz_fuzz_control_SOURCES = tests/fuzz/fuzz-control.c
tests_fuzz_fuzz_control_CFLAGS = $(FUZZ_CORE_CFLAGS)
tests_fuzz_fuzz_control_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_control_LDADD = $(ESA_TEST_LIBS)
endif
