/* esa-aix.h: pure parsers for AIX command output (part of the plugin API).
 *
 * One family per command; each takes the command's stdout (as
 * esa_subprocess_run returns it) and gives structs. They are tolerant: an
 * odd line or a missing field adds a message to `warnings` (a GPtrArray of
 * char*, g_free'd, may be NULL) and parsing goes on. Only output with nothing
 * usable in it fails, with ESA_ERROR_INVALID_DATA naming the command and the
 * offending line. CRLF line ends are accepted everywhere.
 *
 * Exported from libesa for collectors (diag, sysinfo, uak, third parties):
 * #include <esa/esa-aix.h>. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- shared helpers ---------------------------------------------------- */

/* "IBM,9009-42A" → vendor "IBM", rest "9009-42A"; no comma → vendor NULL,
 * rest = the whole value. Either out pointer may be NULL. */
void esa_aix_split_vendor (const char *value, char **vendor, char **rest);

/* "9009-42A" → type "9009", model "42A"; FALSE when there is no dash. */
gboolean esa_aix_split_type_model (const char *mtm, char **type, char **model);

/* "5 lpar05" → id 5, name "lpar05"; "-1 NULL" → id -1, name NULL (not an LPAR). */
gboolean esa_aix_parse_lpar_info (const char *command, const char *text, int *lpar_id,
                                  char **lpar_name, GError **error);

/* The first non-blank line, stripped (uname -M, -u, -m, -s, -n, hostname,
 * lsattr -F value …). Empty output is an error naming the command. */
char *esa_aix_parse_single_line (const char *command, const char *text, GError **error);

/* A YYYYMMDD date on its own (uak_expiry, uak_aix_expiry); "-" or "0" → NULL
 * without error (no key). Returns TRUE and sets *date (may be NULL). */
gboolean esa_aix_parse_yyyymmdd (const char *command, const char *text, char **date, GError **error);

/* ---- uname -a ---------------------------------------------------------- */

typedef struct {
  char *sysname;    /* "AIX" */
  char *nodename;   /* "aixhost" */
  char *release;    /* "3" */
  char *version;    /* "7" */
  char *machine_id; /* "00F812344C00" */
} EsaAixUname;

EsaAixUname *esa_aix_parse_uname_a (const char *text, GPtrArray *warnings, GError **error);
/* "7.3" from version and release */
char *esa_aix_uname_os_version (const EsaAixUname *self);
void esa_aix_uname_free (EsaAixUname *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaAixUname, esa_aix_uname_free)

/* ---- lsattr -El / -EH / -F attribute:value ------------------------------ */

typedef struct {
  char *attribute;
  char *value;       /* "" when empty, never NULL */
  char *description; /* NULL with -F attribute:value */
  gboolean user_settable;
} EsaAixAttr;

/* -El / -EH output; returns EsaAixAttr* (free func set) in output order. */
GPtrArray *esa_aix_parse_lsattr (const char *text, GPtrArray *warnings, GError **error);
/* -F attribute:value output (also "attribute value" -F 'attribute value'). */
GPtrArray *esa_aix_parse_lsattr_colon (const char *text, GPtrArray *warnings, GError **error);
/* value of `attribute`, or NULL */
const char *esa_aix_attrs_lookup (GPtrArray *attrs, const char *attribute);

/* ---- prtconf ------------------------------------------------------------ */

typedef struct {
  char *system_model;      /* "IBM,9009-42A" */
  char *serial;            /* "Machine Serial Number" */
  char *processor_type;    /* "PowerPC_POWER9" */
  char *processor_mode;    /* "Processor Implementation Mode" */
  int n_processors;        /* -1 when absent */
  char *clock_speed;       /* "3800 MHz" */
  char *cpu_type;          /* "64-bit" */
  char *kernel_type;
  gboolean is_lpar;
  int lpar_id;             /* -1 when not partitioned or unknown */
  char *lpar_name;
  char *memory_size;       /* "65536 MB" */
  char *platform_firmware; /* "Platform Firmware level" */
  char *firmware_version;  /* "Firmware Version": "IBM,FW940.00 (27)" */
  char *host_name;         /* Network Information */
  char *ip_address;
  /* every "Key: value" before INSTALLED RESOURCE LIST, keys of indented
   * blocks as "Section/Key" ("Network Information/Domain Name"); "Not
   * Available" values are absent */
  GHashTable *fields;
} EsaAixPrtconf;

EsaAixPrtconf *esa_aix_parse_prtconf (const char *text, GPtrArray *warnings, GError **error);
void esa_aix_prtconf_free (EsaAixPrtconf *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaAixPrtconf, esa_aix_prtconf_free)

/* ---- lsmcode -c / -A ----------------------------------------------------- */

typedef struct {
  char *permanent; /* "The current permanent system firmware image is VL940_027" */
  char *temporary;
  char *booted;    /* "temporary" / "permanent" when stated */
  char *platform;  /* old systems: "Platform Firmware level is 3F080425" */
  char *system;    /* old systems: "System Firmware level is RG080425_…" */
} EsaAixMcode;

EsaAixMcode *esa_aix_parse_lsmcode_c (const char *text, GPtrArray *warnings, GError **error);
/* the level running now: booted side, else temporary, permanent, system, platform */
const char *esa_aix_mcode_current (const EsaAixMcode *self);
void esa_aix_mcode_free (EsaAixMcode *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaAixMcode, esa_aix_mcode_free)

typedef struct {
  char *device;    /* "sys0", "ent0" */
  char *component; /* "system", "service"; NULL for adapters ("ent0!14108902.410b10") */
  char *levels;    /* everything after the component, as printed */
  char *temporary; /* the (t), (p), (b) levels when marked; NULL otherwise */
  char *permanent;
  char *booted;
} EsaAixMcodeEntry;

/* lsmcode -A: returns EsaAixMcodeEntry* (free func set) */
GPtrArray *esa_aix_parse_lsmcode_A (const char *text, GPtrArray *warnings, GError **error);

/* ---- lslpp -l, -lc, -Lc --------------------------------------------------- */

typedef struct {
  char *fileset;     /* "bos.rte" (RPMs: "bash-5.1.4-2") */
  char *level;       /* "7.3.1.0" */
  char *state;       /* -l: "COMMITTED"; -lc: as printed; -Lc: the code "C", "A", … */
  char *description;
  char *path;        /* -l/-lc: "/usr/lib/objrepos" or "/etc/objrepos"; NULL for -Lc */
  char *package;     /* -Lc: "bos" */
  char *ptf;         /* NULL when empty */
  char *type;        /* -Lc: "F" installp, "R" RPM, "E" interim fix …; NULL when empty */
  gboolean efix_locked;
  char *build_date;  /* -Lc, NULL when empty */
} EsaAixFileset;

/* Each returns EsaAixFileset* (free func set), in output order. */
GPtrArray *esa_aix_parse_lslpp_l (const char *text, GPtrArray *warnings, GError **error);
GPtrArray *esa_aix_parse_lslpp_lc (const char *text, GPtrArray *warnings, GError **error);
GPtrArray *esa_aix_parse_lslpp_Lc (const char *text, GPtrArray *warnings, GError **error);
JsonObject *esa_aix_fileset_to_json (const EsaAixFileset *self);

/* ---- errpt --------------------------------------------------------------- */

typedef struct {
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

typedef struct {
  char *heading; /* "Description", "Probable Causes", "Detail Data", … */
  char *text;    /* its lines, joined with '\n', stripped */
} EsaAixErrptSection;

typedef struct {
  char *label;          /* "SC_DISK_ERR2" */
  char *identifier;     /* "B6267342" */
  char *date_raw;       /* "Tue Aug 26 10:15:22 CEST 2025" */
  char *date;           /* "2025-08-26T10:15:22" when readable (zone dropped), else NULL */
  gint64 sequence;      /* -1 when missing */
  char *machine_id;
  char *node_id;
  char *klass;          /* "H" */
  char *type;           /* "PERM", "TEMP", "INFO", "PEND", "UNKN" */
  char *wpar;
  char *resource_name;
  char *resource_class;
  char *resource_type;
  char *location;
  char *vpd;            /* the VPD: block, lines joined */
  char *description;    /* text of the first "Description" section */
  GPtrArray *sections;  /* EsaAixErrptSection*, in order (headings may repeat) */
} EsaAixErrptRecord;

/* errpt -a (any number of records). "errpt: 0251-138 Cannot find error
 * record" anywhere in text → ESA_ERROR_NOT_FOUND. Returns
 * EsaAixErrptRecord* (free func set). */
GPtrArray *esa_aix_parse_errpt_a (const char *text, GPtrArray *warnings, GError **error);
JsonObject *esa_aix_errpt_record_to_json (const EsaAixErrptRecord *self);

/* ---- diag (non-interactive, -c -e) ------------------------------------------ */

typedef struct {
  char *part_number; /* "00E1234", NULL when "n/a" */
  int probability;   /* percent, -1 when not given */
  char *location;    /* "U78D2.001.WZS01HK-P3-D4" or "00-08-00-5,0" */
  char *device;      /* "hdisk1", may be NULL */
  char *description; /* "Disk drive", may be NULL */
} EsaAixFru;

typedef struct {
  char *srn;          /* "2502-107" */
  char *description;
  char *src;          /* "B7006970", may be NULL */
  gint64 error_sequence; /* error log entry the SRN came from, -1 if none */
  char *error_label;
  GPtrArray *frus;    /* EsaAixFru*, in descending probability as printed */
} EsaAixDiagProblem;

typedef struct {
  gboolean problem_found; /* FALSE: "No Trouble Found" */
  char *date_raw;         /* from "A PROBLEM WAS DETECTED ON …" */
  char *menu;             /* menu number, "801014" / "802002", NULL if absent */
  GPtrArray *problems;    /* EsaAixDiagProblem* */
} EsaAixDiag;

EsaAixDiag *esa_aix_parse_diag (const char *text, GPtrArray *warnings, GError **error);
JsonObject *esa_aix_diag_to_json (const EsaAixDiag *self);
void esa_aix_diag_free (EsaAixDiag *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaAixDiag, esa_aix_diag_free)

/* ---- lscfg -vp VPD ----------------------------------------------------------- */

typedef struct {
  char *key;   /* "Update Access Key Exp Date", "ROM Level.(alterable)" */
  char *value; /* "20270825"; "" when empty */
} EsaAixVpd;

/* every dotted "Key.....value" line, in order (keys repeat across devices):
 * returns EsaAixVpd* (free func set) */
GPtrArray *esa_aix_parse_lscfg_vpd (const char *text, GPtrArray *warnings, GError **error);
/* first value of key, or NULL */
const char *esa_aix_vpd_lookup (GPtrArray *vpd, const char *key);

/* ---- lparstat -u (UAK) --------------------------------------------------------- */

typedef struct {
  char *fw_expiry;  /* "20270825", NULL when "-" (no key) or absent */
  char *aix_expiry;
  char *image_date; /* "AIX Image Date" */
} EsaAixUak;

EsaAixUak *esa_aix_parse_lparstat_u (const char *text, GPtrArray *warnings, GError **error);
void esa_aix_uak_free (EsaAixUak *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaAixUak, esa_aix_uak_free)

G_END_DECLS
