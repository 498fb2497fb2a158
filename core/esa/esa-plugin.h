/* esa-plugin.h: the one header a plugin includes. A plugin is a GModule that
 * defines its descriptor with ESA_PLUGIN_DEFINE(); the loader checks the ABI
 * (esa_plugin_abi, plain data) before it runs any code of the module. */
#pragma once

#include <gio/gio.h>
#include <gmodule.h>
#include <json-glib/json-glib.h>

#include "esa-error.h"
#include "esa-report.h"
#include "esa-platform.h"
#include "esa-subprocess.h"
#include "esa-context.h"

G_BEGIN_DECLS

/* Bump when EsaPluginInfo, a public struct or any function a plugin may call
 * changes incompatibly (docs/plugin-sdk.md lists the history).
 * 2: EsaPlatform.os_uuid, EsaAttachment.size/sha256, and padding at the
 *    end of every public struct (EsaSubprocessOptions, EsaPlatform,
 *    EsaAttachment, the AIX parse results and EsaAixReader). */
#define ESA_PLUGIN_ABI_VERSION 2

typedef struct {
  guint32     abi_version;   /* ESA_PLUGIN_ABI_VERSION */
  guint32     struct_size;   /* sizeof (EsaPluginInfo) */
  const char *name;          /* [a-z0-9_-]+, unique, also the [plugin.NAME] group */
  const char *version;
  const char *summary;       /* one line */
  /* Registers jobs and reads config; no work yet. FALSE + error refuses the plugin. */
  gboolean  (*init)     (EsaContext *ctx, GError **error);
  void      (*shutdown) (EsaContext *ctx);
  gpointer    padding[8];
} EsaPluginInfo;

typedef const EsaPluginInfo *(*EsaPluginQueryFunc) (void);

#define ESA_PLUGIN_DEFINE(info_var)                                          \
  G_MODULE_EXPORT const guint32 esa_plugin_abi = ESA_PLUGIN_ABI_VERSION;    \
  G_MODULE_EXPORT const EsaPluginInfo *esa_plugin_query (void);             \
  G_MODULE_EXPORT const EsaPluginInfo *esa_plugin_query (void) { return &(info_var); }

/* The descriptor and its export in one statement, for plugins that need no
 * other field: ESA_PLUGIN_DESCRIBE ("diag", "1.0", "one line", diag_init, NULL). */
#define ESA_PLUGIN_DESCRIBE(name_, version_, summary_, init_, shutdown_)     \
  static const EsaPluginInfo esa_plugin_info_ = {                           \
    .abi_version = ESA_PLUGIN_ABI_VERSION,                                  \
    .struct_size = sizeof (EsaPluginInfo),                                  \
    .name = (name_),                                                        \
    .version = (version_),                                                  \
    .summary = (summary_),                                                  \
    .init = (init_),                                                        \
    .shutdown = (shutdown_),                                                \
  };                                                                        \
  ESA_PLUGIN_DEFINE (esa_plugin_info_)

G_END_DECLS
