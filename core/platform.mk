# platform.mk: platform detection, the subprocess helper and the AIX output parsers.
core_libesa_la_SOURCES += \
	core/esa-subprocess.c \
	core/esa-platform.c \
	core/esa-platform-aix.c \
	core/esa-platform-linux.c \
	core/esa-platform-private.h \
	core/esa-aix-parse.c

check_PROGRAMS += tests/test-subprocess tests/test-platform tests/test-aix-parse
TESTS += tests/test-subprocess tests/test-platform tests/test-aix-parse

tests_test_subprocess_SOURCES = tests/test-subprocess.c
tests_test_subprocess_LDADD = $(ESA_TEST_LIBS)
tests_test_platform_SOURCES = tests/test-platform.c
tests_test_platform_LDADD = $(ESA_TEST_LIBS)
tests_test_aix_parse_SOURCES = tests/test-aix-parse.c
tests_test_aix_parse_LDADD = $(ESA_TEST_LIBS)
