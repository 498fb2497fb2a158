/* sdc-fsync.c: see sdc-fsync.h. */
#include "config.h"

#include "sdc-fsync.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

void
sdc_fsync_parent_dir (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd = g_open (dir, O_RDONLY | O_CLOEXEC, 0);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}
