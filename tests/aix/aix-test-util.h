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

/* A parser of the "(text, warnings, error)" shape. */
typedef gpointer (*AixParseFunc) (const char *text, GPtrArray *warnings, GError **error);

/* Invalid UTF-8, the diag crash of issue 10 item 10 ("651-204" then
 * \xff\x16\xff) first, NULL-terminated. */
extern const char *const aix_invalid_utf8[];

/* Feeds parse every aix_invalid_utf8 input, alone and spliced into @sample
 * (good output of the command, may be NULL): it must not crash (run the
 * suite under ASan too), and every warning and error message must be valid
 * UTF-8. Results are freed with free_func. */
void check_invalid_utf8 (AixParseFunc parse, GDestroyNotify free_func, const char *sample);
