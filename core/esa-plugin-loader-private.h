/* esa-plugin-loader-private.h: the loader's parts that tests drive directly:
 * the ABI number read from a module file, and the moment between the file
 * checks and the load (where a rename race would strike). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads esa_plugin_abi from the ELF module open on @fd without loading it.
 * ESA_ERROR_NOT_FOUND: no such symbol; ESA_ERROR_INVALID_DATA: not an ELF
 * shared object for this system; ESA_ERROR_NOT_SUPPORTED: not an ELF system
 * (AIX), the number is then read after loading. */
gboolean esa_plugin_elf_read_abi (int fd, guint32 *abi, GError **error);

/* Called (when set) after a module's file checks passed and before it is
 * loaded, with the module's path: lets a test swap the file in that window. */
typedef void (*EsaPluginCheckedHook) (const char *path, gpointer user_data);
void esa_plugin_loader_set_checked_hook (EsaPluginCheckedHook hook, gpointer user_data);

G_END_DECLS
