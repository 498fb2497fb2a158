/* esa-aix.h: pure parsers for AIX command output (part of the plugin API).
 *
 * One family per command; each takes the command's stdout (as
 * esa_subprocess_run returns it) and gives structs. They are tolerant: an
 * odd line or a missing field adds a message to `warnings` (a GPtrArray of
 * char*, g_free'd, may be NULL) and parsing goes on. Only output with nothing
 * usable in it fails, with ESA_ERROR_INVALID_DATA naming the command and the
 * offending line. CRLF line ends are accepted everywhere.
 *
 * Exported from libesa for collectors (sysinfo, third parties):
 * #include <esa/esa-aix.h>. What only one plugin reads lives with it:
 * errpt and diag in plugins/diag/, lparstat -u and lscfg VPD in plugins/uak/.
 * One file per command family under core/aix/. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- system identity (core/aix/uname.c) ---------------------------------------------------- */

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

/* ---- uname -a ---------------------------------------------------------- */

typedef struct {
  char *sysname;    /* "AIX" */
  char *nodename;   /* "aixhost" */
  char *release;    /* "3" */
  char *version;    /* "7" */
  char *machine_id; /* "00F812344C00" */
  gpointer padding[4]; /* reserved (ABI 2): later fields take its place, zero meaning
                        * "as before"; keep it zero (designated initializers do) */
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
  gpointer padding[4]; /* reserved (ABI 2): later fields take its place, zero meaning
                        * "as before"; keep it zero (designated initializers do) */
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
  gpointer padding[4]; /* reserved (ABI 2): later fields take its place, zero meaning
                        * "as before"; keep it zero (designated initializers do) */
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
  gpointer padding[4]; /* reserved (ABI 2): later fields take its place, zero meaning
                        * "as before"; keep it zero (designated initializers do) */
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
  gpointer padding[4]; /* reserved (ABI 2): later fields take its place, zero meaning
                        * "as before"; keep it zero (designated initializers do) */
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
  gpointer padding[4]; /* reserved (ABI 2): later fields take its place, zero meaning
                        * "as before"; keep it zero (designated initializers do) */
} EsaAixFileset;

/* Each returns EsaAixFileset* (free func set), in output order. */
GPtrArray *esa_aix_parse_lslpp_l (const char *text, GPtrArray *warnings, GError **error);
GPtrArray *esa_aix_parse_lslpp_lc (const char *text, GPtrArray *warnings, GError **error);
GPtrArray *esa_aix_parse_lslpp_Lc (const char *text, GPtrArray *warnings, GError **error);
JsonObject *esa_aix_fileset_to_json (const EsaAixFileset *self);

G_END_DECLS
