/* aix-test-util.h: helpers of the AIX parser tests (tests/aix/). */
#pragma once

#include "esa-test-util.h"
#include "esa/esa-subprocess.h"

#include <glib.h>

/* g_test_init, and the fake AIX commands on the command path (machine
 * p9-standalone, no UAK state file). */
void aix_test_init (int *argc, char ***argv);

/* stdout of a fake AIX command on the given machine variant */
char *fake (const char *machine, const char *arg0, ...) G_GNUC_NULL_TERMINATED;
GPtrArray *warnings_new (void);
/* TRUE when a warning contains needle */
gboolean warned (GPtrArray *warnings, const char *needle);
/* error is ESA_ERROR_INVALID_DATA and its message starts with prefix */
void assert_invalid (GError *error, const char *prefix);
