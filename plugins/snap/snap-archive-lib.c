/* snap-archive-lib.c: opens libarchive for the time a snap archive is built
 * and closes it after (see snap-archive-lib.h for why). */
#include "config.h"

#define SNAP_ARCHIVE_LIB_IMPL
#include "snap-archive-lib.h"

#include <esa/esa-plugin.h>

#ifdef SNAP_ARCHIVE_SONAME
#include <gmodule.h>
#include <string.h>

SnapArchiveLib snap_archive_lib;
static GMutex lock;
static GModule *module;
static guint refs;

gboolean
snap_archive_lib_open (GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&lock);
  SnapArchiveLib lib = { 0 };
  GModule *m;
  if (refs > 0)
    {
      refs++;
      return TRUE;
    }
  m = g_module_open (SNAP_ARCHIVE_SONAME, G_MODULE_BIND_LOCAL);
  if (m == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot open %s: %s", SNAP_ARCHIVE_SONAME, g_module_error ());
      return FALSE;
    }
#define SNAP_ARCHIVE_RESOLVE(f) \
  if (!g_module_symbol (m, #f, (gpointer *) &lib.f)) \
    { \
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: no %s: %s", SNAP_ARCHIVE_SONAME, #f, g_module_error ()); \
      g_module_close (m); \
      return FALSE; \
    }
  SNAP_ARCHIVE_FUNCS (SNAP_ARCHIVE_RESOLVE)
#undef SNAP_ARCHIVE_RESOLVE
  snap_archive_lib = lib;
  module = m;
  refs = 1;
  return TRUE;
}

void
snap_archive_lib_close (void)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&lock);
  g_return_if_fail (refs > 0);
  if (--refs > 0)
    return;
  memset (&snap_archive_lib, 0, sizeof snap_archive_lib);
  g_clear_pointer (&module, g_module_close);
}

#else

gboolean
snap_archive_lib_open (GError **error)
{
  return TRUE;
}

void
snap_archive_lib_close (void)
{
}

#endif
