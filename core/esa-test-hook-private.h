/* esa-test-hook-private.h: the test suite's environment hooks (ESA_COMMAND_PATH,
 * ESA_PLATFORM, ESA_SYSROOT) read in one place. Only a build configured with
 * --enable-test-hooks sees them; an installed esad (root) gets NULL whatever
 * its environment says. */
#pragma once

#include <glib.h>

static inline const char *
esa_test_hook_getenv (const char *name)
{
#ifdef ESA_ENABLE_TEST_HOOKS
  return g_getenv (name);
#else
  (void) name;
  return NULL;
#endif
}
