/* diag-errpt.h: errpt output (summary and -a) as structs and JSON.
 * Tolerant like the parsers of <esa/esa-aix.h>: odd lines become
 * `warnings`, only output with nothing usable fails (ESA_ERROR_INVALID_DATA
 * naming the command and the line). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- errpt --------------------------------------------------------------- */

typedef struct
{
  char *identifier; /* "D22852C1" */
  char *timestamp;  /* "0826101525" (MMDDhhmmYY) as printed */
  char *date;       /* "2025-08-26T10:15:00" (local time, no zone), NULL if odd */
  char *type;       /* P T I U */
  char *klass;      /* H S O U */
  char *resource;
  char *description;
} EsaAixErrptEntry;

/* errpt (summary): returns EsaAixErrptEntry* (free func set) */
GPtrArray *esa_aix_parse_errpt_summary (const char *text, GPtrArray *warnings, GError **error);

typedef struct
{
  char *heading; /* "Description", "Probable Causes", "Detail Data", … */
  char *text;    /* its lines, joined with '\n', stripped */
} EsaAixErrptSection;

typedef struct
{
  char *label;      /* "SC_DISK_ERR2" */
  char *identifier; /* "B6267342" */
  char *date_raw;   /* "Tue Aug 26 10:15:22 CEST 2025" */
  char *date;       /* "2025-08-26T10:15:22" when readable (zone dropped), else NULL */
  gint64 sequence;  /* -1 when missing */
  char *machine_id;
  char *node_id;
  char *klass; /* "H" */
  char *type;  /* "PERM", "TEMP", "INFO", "PEND", "UNKN" */
  char *wpar;
  char *resource_name;
  char *resource_class;
  char *resource_type;
  char *location;
  char *vpd;           /* the VPD: block, lines joined */
  char *description;   /* text of the first "Description" section */
  GPtrArray *sections; /* EsaAixErrptSection*, in order (headings may repeat) */
} EsaAixErrptRecord;

/* errpt -a (any number of records). "errpt: 0251-138 Cannot find error
 * record" anywhere in text → ESA_ERROR_NOT_FOUND. Returns
 * EsaAixErrptRecord* (free func set). */
GPtrArray *esa_aix_parse_errpt_a (const char *text, GPtrArray *warnings, GError **error);
JsonObject *esa_aix_errpt_record_to_json (const EsaAixErrptRecord *self);

G_END_DECLS
