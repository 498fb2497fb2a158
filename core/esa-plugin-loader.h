/* esa-plugin-loader.h: finds plugin modules, checks them, opens them. */
#pragma once

#include <gmodule.h>
#include "esa/esa-plugin.h"

G_BEGIN_DECLS

typedef enum {
  ESA_PLUGIN_STATE_DISABLED, /* found and sane, not in [plugins] enabled= */
  ESA_PLUGIN_STATE_LOADED,   /* opened (and, in esad, initialised) */
  ESA_PLUGIN_STATE_REFUSED,  /* failed a check; never initialised */
  ESA_PLUGIN_STATE_FAILED,   /* init returned an error */
} EsaPluginState;

typedef struct {
  char *path;
  char *file_name;
  char *name;      /* from the descriptor, or the file name when refused early */
  char *version;
  char *summary;
  gboolean enabled;
  EsaPluginState state;
  char *reason;    /* one line: why refused / failed / disabled */
  GModule *module; /* NULL unless opened */
  const EsaPluginInfo *info;
} EsaPluginRecord;

const char *esa_plugin_state_to_string (EsaPluginState state);

/* Scans @dir for *.so modules (sorted by name), checks each (regular file,
 * owner root or the running user, not group/other writable, not setuid, the
 * ABI number, the descriptor) and opens the sane ones, to read their
 * descriptors. Modules whose name is not in @enabled are recorded DISABLED and
 * never initialised (they stay mapped: modules are never unloaded). A name in @enabled
 * with no module is recorded REFUSED "not found". Never fails: every problem
 * is a record with a reason. */
GPtrArray  *esa_plugin_scan (const char *dir, const char *const *enabled);
void        esa_plugin_record_free (EsaPluginRecord *rec);
JsonNode   *esa_plugin_records_to_json (GPtrArray *records);

G_END_DECLS
