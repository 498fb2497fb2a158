/* sdc-tls-legacy.c: FOR TESTS ONLY: make `serve` speak an old TLS version.
 *
 * The agent must refuse a server that only offers TLS 1.0/1.1. glib-networking 2.74
 * gives no API to choose protocol versions and no longer reads a priority string from
 * the environment; it uses GnuTLS's system priority. GnuTLS 3.7 reads
 * GNUTLS_SYSTEM_PRIORITY_FILE (with an [overrides] section that can disable versions)
 * when the library initialises, which is a constructor that runs before main(). So the
 * override file is written and the program re-executes itself with the variable set. */
#include "config.h"

#include "sdc-tls-legacy.h"
#include "sdc-error.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <unistd.h>

#define SDC_TLS_MARKER "ESA_SDC_TLS_OVERRIDE"

gboolean
sdc_tls_legacy_apply (const char *dir, const char *max_version, char **argv, GError **error)
{
  static const char *const versions[] = { "1.0", "1.1", "1.2", "1.3" };
  static const char *const names[] = { "tls1.0", "tls1.1", "tls1.2", "tls1.3" };
  g_autofree char *path = NULL;
  g_autofree char *exe = NULL;
  g_autoptr (GString) conf = NULL;
  int idx = -1;

  if (max_version == NULL)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (versions); i++)
    if (g_strcmp0 (max_version, versions[i]) == 0)
      idx = (int) i;
  if (idx < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--tls-max-version \"%s\": expected 1.0, 1.1, 1.2 or 1.3", max_version);
      return FALSE;
    }
  path = g_build_filename (dir, "tls-priority.conf", NULL);
  /* already re-executed with the override in force */
  if (g_strcmp0 (g_getenv (SDC_TLS_MARKER), path) == 0 &&
      g_strcmp0 (g_getenv ("GNUTLS_SYSTEM_PRIORITY_FILE"), path) == 0)
    return TRUE;

  conf = g_string_new ("# written by esa-sdc serve --tls-max-version (FOR TESTS ONLY)\n[overrides]\n");
  for (guint i = (guint) idx + 1; i < G_N_ELEMENTS (names); i++)
    g_string_append_printf (conf, "disabled-version = %s\n", names[i]);
  if (!g_file_set_contents (path, conf->str, (gssize) conf->len, error))
    return FALSE;
  g_setenv ("GNUTLS_SYSTEM_PRIORITY_FILE", path, TRUE);
  g_setenv (SDC_TLS_MARKER, path, TRUE);

  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe == NULL)
    exe = g_find_program_in_path (argv[0]);
  if (exe == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot find my own executable (%s)", argv[0]);
      return FALSE;
    }
  fflush (stdout);
  fflush (stderr);
  execv (exe, argv);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "re-executing %s: %s", exe,
               g_strerror (errno));
  return FALSE;
}
