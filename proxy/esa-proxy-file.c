/* esa-proxy-file.c: bounded reading of configuration files. g_file_get_contents () reads
 * /dev/zero until memory runs out and waits forever on a FIFO; a configuration path is
 * whatever an administrator (or a typo) put there, so it is checked first. */
#include "config.h"

#include "esa-proxy-file.h"

#include <esa/esa-error.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

char *
esa_proxy_file_read (const char *path, gsize max_size, GError **error)
{
  struct stat st;
  g_autofree char *text = NULL;
  gsize len = 0;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway. */
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

  if (fd < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "cannot open: %s", g_strerror (errno));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "not a regular file");
      close (fd);
      return NULL;
    }
  text = g_malloc (max_size + 1);
  /* Read to the end rather than trusting st_size: the file may be growing. */
  while (len <= max_size)
    {
      gssize n = read (fd, text + len, max_size + 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "cannot read: %s", g_strerror (errno));
          close (fd);
          return NULL;
        }
      if (n == 0)
        break;
      len += (gsize) n;
    }
  close (fd);
  if (len > max_size)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "larger than %" G_GSIZE_FORMAT " bytes", max_size);
      return NULL;
    }
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "contains a NUL byte (not a text file)");
      return NULL;
    }
  text[len] = '\0';
  return g_steal_pointer (&text);
}
