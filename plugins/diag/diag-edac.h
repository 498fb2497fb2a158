/* diag-edac.h: the Linux source of hardware problems — the kernel's EDAC
 * memory-controller counters under /sys/devices/system/edac/mc/mcN/. A rise
 * of an uncorrectable-error count (ue_count) between two looks is a problem. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  char *name;     /* "dimm0" / "rank0" / "csrow0" */
  char *label;    /* dimm_label: "CPU_SrcID#0_Ha#0_Chan#0_DIMM#0"; NULL if none */
  char *location; /* dimm_location: "channel 0 slot 0"; NULL if none */
  gint64 ce;      /* -1 when not readable */
  gint64 ue;
} DiagEdacDimm;

typedef struct {
  char *name;       /* "mc0" */
  char *mc_name;    /* driver/controller: "Skylake Socket#0 IMC#0"; NULL if none */
  gint64 ce;
  gint64 ue;
  GPtrArray *dimms; /* DiagEdacDimm* */
} DiagEdacMc;

/* A counter file's text: a decimal integer >= 0 and a newline. Anything
 * else is ESA_ERROR_INVALID_DATA naming @path. */
gboolean    diag_edac_parse_count (const char *path, const char *text, gint64 *out, GError **error);

/* Reads every mc* under SYSROOT/sys/devices/system/edac/mc. A controller
 * whose ue_count or ce_count is missing or malformed is skipped with a
 * warning; ESA_ERROR_NOT_FOUND when there is no EDAC at all. Returns
 * DiagEdacMc* sorted by name (may be empty). */
GPtrArray  *diag_edac_read        (const char *sysroot, GPtrArray *warnings, GError **error);

/* The counters to keep for next time: {"mc0": {"ce": 0, "ue": 1, "dimms": {"dimm0": {...}}}}. */
JsonObject *diag_edac_state       (GPtrArray *mcs);

/* Findings (JsonObject*: code "EDAC-UE", resource "mc0", description, frus,
 * edac counters) for each controller whose ue_count rose since @previous.
 * A controller not in @previous is a baseline (no finding); a count that went
 * down (counters reset at boot) is a new baseline too. */
GPtrArray  *diag_edac_compare     (JsonObject *previous, GPtrArray *mcs);

void        diag_edac_mc_free     (DiagEdacMc *mc);

G_END_DECLS
