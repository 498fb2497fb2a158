/* sdc-allocator.c: which malloc esa-sdc runs on. esa-sdc is linked with jemalloc when
 * configure finds it (docs/performance.md, "The allocator"): libsoup, GLib and GnuTLS
 * allocate and free a few hundred blocks per request, many freed by another thread
 * than the one that made them: glibc's malloc was about 8 % of esa-sdc's CPU samples
 * under load, and jemalloc gives about 8 % more reports a second. Only esa-sdc: esad
 * and esa-proxy keep the C library's malloc. */
#include "config.h"

#include "sdc-allocator.h"

#ifdef HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

char *
sdc_allocator_describe (void)
{
#ifdef HAVE_JEMALLOC
  const char *version = NULL;
  uint64_t before = 0, after = 0;
  size_t len = sizeof (version);
  size_t n = sizeof (before);
  void *probe;
  if (mallctl ("version", &version, &len, NULL, 0) != 0 || mallctl ("thread.allocated", &before, &n, NULL, 0) != 0)
    return g_strdup ("jemalloc (linked, not answering)");
  /* linked is not enough: malloc itself must be jemalloc's (an LD_PRELOAD or a
   * sanitizer could still take it), which its count of this thread's bytes shows */
  probe = g_malloc (4096); /* not malloc: the compiler may drop an unused malloc and free */
  n = sizeof (after);
  if (mallctl ("thread.allocated", &after, &n, NULL, 0) != 0)
    after = before;
  g_free (probe);
  if (after < before + 4096)
    return g_strdup_printf ("jemalloc %s linked, but malloc is another", version);
  return g_strdup_printf ("jemalloc %s", version);
#else
  return g_strdup ("the C library's malloc");
#endif
}
