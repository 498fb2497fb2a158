# schedule.mk: job schedules and durations (parsing, next run, is a run due).
core_libesa_internal_la_SOURCES += \
	core/esa-schedule.c \
	core/esa-schedule-private.h

check_PROGRAMS += tests/test-schedule
TESTS += tests/test-schedule
tests_test_schedule_SOURCES = tests/test-schedule.c
tests_test_schedule_LDADD = $(ESA_TEST_LIBS)
