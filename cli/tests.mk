# esactl's own tests (issue 12): help, exit codes, --json shapes, info,
# history, preview — real esa-sdc, esad and esactl on loopback.
check_PROGRAMS += tests/test-esactl-cli
TESTS += tests/test-esactl-cli
tests_test_esactl_cli_SOURCES = tests/test-esactl-cli.c
tests_test_esactl_cli_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
tests_test_esactl_cli_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_esactl_cli_DEPENDENCIES = daemon/esad cli/esactl sdc/esa-sdc plugins/heartbeat/heartbeat.la plugins/sysinfo/sysinfo.la

# Every --json shape against its schema in docs/schemas/ (python3 checker).
check_PROGRAMS += tests/test-esactl-json
TESTS += tests/test-esactl-json
tests_test_esactl_json_SOURCES = tests/test-esactl-json.c
tests_test_esactl_json_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
tests_test_esactl_json_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_esactl_json_DEPENDENCIES = daemon/esad cli/esactl sdc/esa-sdc plugins/heartbeat/heartbeat.la plugins/sysinfo/sysinfo.la
EXTRA_DIST += tests/json-schema-check.py
