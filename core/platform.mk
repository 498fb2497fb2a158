# platform.mk: platform detection, the subprocess helper and the AIX output
# parsers (core/aix/, one file a command family, tests/aix/ mirrors them).
core_libesa_la_SOURCES += \
	core/esa-subprocess.c \
	core/esa-platform.c \
	core/esa-platform-aix.c \
	core/esa-platform-linux.c \
	core/esa-platform-private.h \
	core/aix/esa-aix-records.c \
	core/aix/uname.c \
	core/aix/lsattr.c \
	core/aix/prtconf.c \
	core/aix/lsmcode.c \
	core/aix/lslpp.c

check_PROGRAMS += tests/test-subprocess tests/test-platform
TESTS += tests/test-subprocess tests/test-platform

# Runs in every build, with or without --enable-test-hooks (see the test).
check_PROGRAMS += tests/test-hooks
TESTS += tests/test-hooks
tests_test_hooks_SOURCES = tests/test-hooks.c
tests_test_hooks_LDADD = $(ESA_TEST_LIBS)
EXTRA_tests_test_hooks_DEPENDENCIES = sdc/esa-sdc

tests_test_subprocess_SOURCES = tests/test-subprocess.c
tests_test_subprocess_LDADD = $(ESA_TEST_LIBS)
tests_test_platform_SOURCES = tests/test-platform.c
tests_test_platform_LDADD = $(ESA_TEST_LIBS)

# The AIX parsers, fed by the fake commands of tests/fixtures/aix-bin/.
# tests/aix/aix-test-util runs them; the plugins' parsers are tested in
# plugins/diag/local.mk and plugins/uak/local.mk.
check_LTLIBRARIES += tests/aix/libesa-aix-test.la
tests_aix_libesa_aix_test_la_SOURCES = tests/aix/aix-test-util.c tests/aix/aix-test-util.h
tests_aix_libesa_aix_test_la_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
ESA_AIX_TEST_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/tests/aix
ESA_AIX_TEST_LIBS = tests/aix/libesa-aix-test.la $(ESA_TEST_LIBS)

ESA_AIX_CORE_TESTS = tests/aix/test-uname tests/aix/test-lsattr tests/aix/test-prtconf \
	tests/aix/test-lsmcode tests/aix/test-lslpp
check_PROGRAMS += $(ESA_AIX_CORE_TESTS)
TESTS += $(ESA_AIX_CORE_TESTS)
tests_aix_test_uname_SOURCES = tests/aix/test-uname.c
tests_aix_test_uname_CFLAGS = $(ESA_AIX_TEST_CFLAGS)
tests_aix_test_uname_LDADD = $(ESA_AIX_TEST_LIBS)
tests_aix_test_lsattr_SOURCES = tests/aix/test-lsattr.c
tests_aix_test_lsattr_CFLAGS = $(ESA_AIX_TEST_CFLAGS)
tests_aix_test_lsattr_LDADD = $(ESA_AIX_TEST_LIBS)
tests_aix_test_prtconf_SOURCES = tests/aix/test-prtconf.c
tests_aix_test_prtconf_CFLAGS = $(ESA_AIX_TEST_CFLAGS)
tests_aix_test_prtconf_LDADD = $(ESA_AIX_TEST_LIBS)
tests_aix_test_lsmcode_SOURCES = tests/aix/test-lsmcode.c
tests_aix_test_lsmcode_CFLAGS = $(ESA_AIX_TEST_CFLAGS)
tests_aix_test_lsmcode_LDADD = $(ESA_AIX_TEST_LIBS)
tests_aix_test_lslpp_SOURCES = tests/aix/test-lslpp.c
tests_aix_test_lslpp_CFLAGS = $(ESA_AIX_TEST_CFLAGS)
tests_aix_test_lslpp_LDADD = $(ESA_AIX_TEST_LIBS)
