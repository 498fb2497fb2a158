/* diag-srn.h: diag -c -e output (SRNs, FRUs) as structs and JSON.
 * Tolerant like the parsers of <esa/esa-aix.h>: odd lines become
 * `warnings`, only output with nothing usable fails (ESA_ERROR_INVALID_DATA
 * naming the command and the line). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- diag (non-interactive, -c -e) ------------------------------------------ */

typedef struct
{
  char *part_number; /* "00E1234", NULL when "n/a" */
  int probability;   /* percent, -1 when not given */
  char *location;    /* "U78D2.001.WZS01HK-P3-D4" or "00-08-00-5,0" */
  char *device;      /* "hdisk1", may be NULL */
  char *description; /* "Disk drive", may be NULL */
} EsaAixFru;

typedef struct
{
  char *srn; /* "2502-107" */
  char *description;
  char *src;             /* "B7006970", may be NULL */
  gint64 error_sequence; /* error log entry the SRN came from, -1 if none */
  char *error_label;
  GPtrArray *frus; /* EsaAixFru*, in descending probability as printed */
} EsaAixDiagProblem;

typedef struct
{
  gboolean problem_found; /* FALSE: "No Trouble Found" */
  char *date_raw;         /* from "A PROBLEM WAS DETECTED ON …" */
  char *menu;             /* menu number, "801014" / "802002", NULL if absent */
  GPtrArray *problems;    /* EsaAixDiagProblem* */
} EsaAixDiag;

EsaAixDiag *esa_aix_parse_diag (const char *text, GPtrArray *warnings, GError **error);
JsonObject *esa_aix_diag_to_json (const EsaAixDiag *self);
void esa_aix_diag_free (EsaAixDiag *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaAixDiag, esa_aix_diag_free)

G_END_DECLS
