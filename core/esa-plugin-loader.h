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
  ESA_PLUGIN_STATE_CHECKED,  /* enabled, passed the file checks; not loaded (esactl) */
} EsaPluginState;

typedef enum {
  ESA_PLUGIN_SCAN_LOAD,       /* esad: load the enabled modules that pass */
  ESA_PLUGIN_SCAN_CHECK_ONLY, /* esactl: never run plugin code as the caller */
} EsaPluginScanMode;

typedef struct {
  char *path;
  char *file_name;
  char *name;      /* the file name without .so (the descriptor must agree) */
  char *version;
  char *summary;
  gboolean enabled;
  EsaPluginState state;
  char *reason;    /* one line: why refused / failed / disabled */
  GModule *module; /* NULL unless opened */
  const EsaPluginInfo *info;
} EsaPluginRecord;

const char *esa_plugin_state_to_string (EsaPluginState state);

/* Scans @dir for *.so modules (sorted by name). The folder and every folder
 * above it must be owned by root (or the running user) and not writable by
 * group or others; each module file is opened with O_NOFOLLOW and checked on
 * that fd (regular file, same owners, not group/other writable, not setuid),
 * then its ABI number is read from the file. Modules not in @enabled are
 * recorded DISABLED and never loaded (loading runs ELF constructors). With
 * ESA_PLUGIN_SCAN_LOAD the enabled ones that pass are loaded from the checked
 * inode and their descriptors checked (name = file name); with
 * ESA_PLUGIN_SCAN_CHECK_ONLY they are recorded CHECKED. A name in @enabled
 * with no module is recorded REFUSED "not found". Never fails: every problem
 * is a record with a reason. */
GPtrArray  *esa_plugin_scan (const char *dir, const char *const *enabled, EsaPluginScanMode mode);
void        esa_plugin_record_free (EsaPluginRecord *rec);
JsonNode   *esa_plugin_records_to_json (GPtrArray *records);

G_END_DECLS
