# tests/fuzz: libFuzzer harnesses (bench/fuzz.sh runs them; configure --enable-fuzzing,
# CC=clang) and, in every build, a replay of each harness's corpus under make check.
# A harness is fuzz-NAME.c with LLVMFuzzerTestOneInput and a corpus in corpus/NAME/.
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/fuzz.h

FUZZ_PROXY_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/proxy -I$(top_srcdir)/tests/fuzz

check_PROGRAMS += tests/fuzz/replay-proxy-request tests/fuzz/replay-proxy-config
TESTS += tests/fuzz/replay-proxy-request tests/fuzz/replay-proxy-config
tests_fuzz_replay_proxy_request_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-proxy-request.c
tests_fuzz_replay_proxy_request_CFLAGS = $(FUZZ_PROXY_CFLAGS) -DFUZZ_NAME=\"proxy-request\"
tests_fuzz_replay_proxy_request_LDADD = $(ESA_PROXY_TEST_LIBS)
tests_fuzz_replay_proxy_config_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-proxy-config.c
tests_fuzz_replay_proxy_config_CFLAGS = $(FUZZ_PROXY_CFLAGS) -DFUZZ_NAME=\"proxy-config\"
tests_fuzz_replay_proxy_config_LDADD = $(ESA_PROXY_TEST_LIBS)

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
endif
