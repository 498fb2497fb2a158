# tests/valgrind.mk: make check-valgrind — memcheck over the unit tests (issue 10, "Leaks
# and fds"). Not part of make check or ./scripts/check: it takes minutes. The tests are
# the ones that do not start daemons; children (esactl, fake AIX commands, queue-writer)
# run without valgrind (--trace-children=no). Any memcheck error or definite leak fails
# the test (tests/run-valgrind); tests/valgrind.supp silences what GLib keeps for the
# life of the process.
VALGRIND_TESTS = \
	tests/test-json \
	tests/test-config \
	tests/test-report \
	tests/test-queue \
	tests/test-schedule \
	tests/test-subprocess \
	tests/test-platform \
	tests/test-plugin-loader \
	tests/test-dispatcher \
	tests/test-proxy-config \
	tests/test-proxy-request \
	tests/test-diag \
	$(ESA_AIX_CORE_TESTS) \
	tests/aix/test-errpt \
	tests/aix/test-diag-srn \
	tests/aix/test-lparstat \
	tests/aix/test-lscfg \
	tests/fuzz/replay-proxy-request \
	tests/fuzz/replay-proxy-config \
	tests/fuzz/replay-config \
	tests/fuzz/replay-aix \
	tests/fuzz/replay-sdc-request \
	tests/fuzz/replay-spool \
	tests/fuzz/replay-control \
	tests/fuzz/replay-json

EXTRA_DIST += tests/run-valgrind tests/valgrind.supp

# The logs go to the usual tests/*.log (test-suite-valgrind.log sums them up).
check-valgrind:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(VALGRIND_TESTS)' \
	  LOG_COMPILER='$(abs_top_srcdir)/tests/run-valgrind' TEST_SUITE_LOG=test-suite-valgrind.log

.PHONY: check-valgrind
