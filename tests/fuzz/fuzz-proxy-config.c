/* fuzz-proxy-config.c: esa-proxy.conf parsing (proxy/esa-proxy-config.c): the input is
 * written to a file and loaded; a loaded configuration must be complete, a refused one
 * must say why. */
#include "config.h"

#include "fuzz.h"

#include "esa-proxy-config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *path;

static void
remove_input (void)
{
  g_unlink (path);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaProxyConfig) config = NULL;
  int fd;

  if (path == NULL)
    {
      fd = g_file_open_tmp ("fuzz-proxy-config-XXXXXX", &path, NULL);
      g_assert_cmpint (fd, >=, 0);
      close (fd);
      atexit (remove_input);
    }
  /* Plain write: g_file_set_contents () renames and syncs, a hundred times slower. */
  fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, data, size), ==, (gssize) size);
  close (fd);
  config = esa_proxy_config_load (path, &error);
  if (config == NULL)
    {
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
      /* one line */
      g_assert_null (strchr (error->message, '\n'));
      return 0;
    }
  g_assert_no_error (error);
  g_assert_nonnull (config->allow);
  g_assert_true (config->listen != NULL && config->listen->len > 0);
  g_assert_cmpuint (config->max_tunnels, >, 0);
  return 0;
}
