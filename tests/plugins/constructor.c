/* constructor.c: a shared object whose ELF constructor writes a marker file
 * (named by ESA_TEST_CONSTRUCTOR_MARKER). Built twice: constructor.so has no
 * esa_plugin_abi; ctor-abi.so (ESA_TEST_CTOR_ABI) has the right ABI number,
 * so it passes every check made without loading it.
 * dlopen runs the constructor before any symbol can be read, so the marker
 * proves that a disabled or refused module was loaded — which must never
 * happen, in esad or in esactl. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <esa/esa-plugin.h>

#ifdef ESA_TEST_CTOR_ABI
G_MODULE_EXPORT const guint32 esa_plugin_abi = ESA_PLUGIN_ABI_VERSION;
#endif

__attribute__ ((constructor)) static void
constructor_mark (void)
{
  const char *marker = getenv ("ESA_TEST_CONSTRUCTOR_MARKER");
  int fd;
  if (marker == NULL)
    return;
  fd = open (marker, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0)
    {
      if (write (fd, "constructor ran\n", strlen ("constructor ran\n")) < 0)
        _exit (99);
      close (fd);
    }
}
