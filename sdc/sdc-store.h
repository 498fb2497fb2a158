/* sdc-store.h: the SDC's storage interface (systems, reports, attachments, service
 * requests, shared settings) and the engines that implement it.
 *
 * GIO style: SdcStore is a GInterface; each engine is a named implementation
 * (sdc-store-sqlite.c: "sqlite", the embedded default; sdc-store-pg.c: "postgresql").
 * sdc_store_open() picks the engine from the location it is given. One store object is
 * one database connection: use it from one thread at a time. */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "sdc-auth.h"

G_BEGIN_DECLS

/* Schema version after all migrations (every engine keeps its own list of steps). */
#define SDC_STORE_SCHEMA_VERSION 6

typedef struct {
  const char *vendor;
  const char *platform_id; /* the agent's own id, e.g. "IBM,0278ABCDE" */
  const char *machine_type;
  const char *model;
  const char *serial;
  const char *hostname;
  const char *os;
  const char *os_version;
  gboolean is_lpar;
  const char *contact_json;
  gint64 lpar_id;          /* -1: not a partition, or its number is unknown */
  const char *lpar_name;
  const char *os_uuid;     /* the OS instance (AIX os_uuid, Linux machine-id) */
  const char *partition;   /* the partition part of the identity: sdc_store_partition_key() */
} SdcSystemInfo;

typedef struct {
  const char *uuid;
  const char *system_id;
  const char *kind;
  const char *plugin;
  const char *created;
  const char *received;
  const char *parent;
  const char *body_json;
  gboolean touch;          /* inserting it also sets the system's last_seen to @received */
} SdcReportRow;

typedef struct {
  char *name;
  gint64 size;
  char *sha256;
  char *content_type;
} SdcAttachmentDecl;

/* One report of a group stored by sdc_store_insert_reports(). */
typedef struct {
  const SdcReportRow *row;
  GPtrArray *attachments;  /* of SdcAttachmentDecl, or NULL */
  const char *answer_json; /* NULL: an empty answer, set in the same transaction */
  gboolean new_service_request; /* allocate one if inserted (a problem report) */
  gboolean inserted;       /* out: FALSE for a duplicate (nothing written) */
  char *service_request;   /* out, if inserted and asked for: "SR…" (the caller frees it) */
} SdcReportInsert;

typedef struct {
  char *report_uuid;
  char *system_id; /* of the report that lists it */
  char *name;
  gint64 size;     /* as declared in the report */
  char *sha256;    /* as declared in the report (may be NULL) */
  char *path;      /* NULL until uploaded */
  char *received_sha256;
} SdcAttachmentRow;

void      sdc_attachment_decl_free (SdcAttachmentDecl *a);
void      sdc_attachment_row_free  (SdcAttachmentRow *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcAttachmentDecl, sdc_attachment_decl_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcAttachmentRow, sdc_attachment_row_free)

#define SDC_TYPE_STORE (sdc_store_get_type ())
G_DECLARE_INTERFACE (SdcStore, sdc_store, SDC, STORE, GObject)

struct _SdcStoreInterface {
  GTypeInterface parent_iface;

  const char *(*engine_name)      (SdcStore *store);
  int         (*schema_version)   (SdcStore *store);
  gboolean    (*exec)             (SdcStore *store, const char *sql, GError **error);
  gboolean    (*begin)            (SdcStore *store, GError **error);
  char       *(*register_system)  (SdcStore *store, const SdcSystemInfo *info,
                                   const SdcPasswordHash *pw, const char *now,
                                   const char *system_id, GError **error);
  gboolean    (*get_credentials)  (SdcStore *store, const char *system_id, char **salt_hex,
                                   char **hash_hex, guint *iterations, GError **error);
  gboolean    (*get_machine)      (SdcStore *store, const char *system_id, char **machine_type,
                                   char **serial, GError **error);
  gboolean    (*touch_system)     (SdcStore *store, const char *system_id, const char *now,
                                   GError **error);
  gboolean    (*lookup_report)    (SdcStore *store, const char *uuid, char **system_id,
                                   char **kind, guint *status, char **answer_json, GError **error);
  gboolean    (*insert_report)    (SdcStore *store, const SdcReportRow *row, GPtrArray *attachments,
                                   guint status, const char *answer_json, gboolean *inserted,
                                   GError **error);
  gboolean    (*set_report_answer) (SdcStore *store, const char *uuid, guint status,
                                    const char *answer_json, GError **error);
  /* optional: NULL stores them one by one (insert_report, new_service_request) */
  gboolean    (*insert_reports)   (SdcStore *store, SdcReportInsert *reports, guint n, guint status,
                                   GError **error);
  char       *(*new_service_request) (SdcStore *store, const char *report_uuid,
                                      const char *system_id, const char *now, GError **error);
  SdcAttachmentRow *(*get_attachment) (SdcStore *store, const char *report_uuid, const char *name,
                                       GError **error);
  gboolean    (*set_attachment_received) (SdcStore *store, const char *report_uuid,
                                          const char *name, gint64 size, const char *sha256,
                                          const char *path, const char *now, GError **error);
  char       *(*get_setting)      (SdcStore *store, const char *name, const char *value_if_absent,
                                   GError **error);
  JsonArray  *(*list_systems)     (SdcStore *store, GError **error);
  JsonArray  *(*list_reports)     (SdcStore *store, const char *system_id, GError **error);
  /* identity per partition, re-registration, deactivation (docs/protocol.md) */
  gboolean    (*find_system)      (SdcStore *store, const char *machine_type, const char *serial,
                                   const char *partition, char **system_id, gboolean *deactivated,
                                   GError **error);
  gboolean    (*deactivate_system) (SdcStore *store, const char *system_id, const char *now,
                                    GError **error);
  gboolean    (*set_contact)      (SdcStore *store, const char *system_id, const char *contact_json,
                                   GError **error);
  gboolean    (*get_registration) (SdcStore *store, const char *uuid, char **registration,
                                   char **system_id, char **state, GError **error);
  gboolean    (*add_registration) (SdcStore *store, const char *registration, const char *uuid,
                                   const char *system_id, const char *hostname, const char *now,
                                   GError **error);
  gboolean    (*set_registration_state) (SdcStore *store, const char *registration,
                                         const char *from_state, const char *to_state,
                                         const char *now, GError **error);
  JsonArray  *(*list_registrations) (SdcStore *store, GError **error);
  JsonArray  *(*ui_systems)       (SdcStore *store, const char *system_id, guint offset,
                                   guint limit, guint *total, GError **error);
  JsonArray  *(*ui_reports)       (SdcStore *store, const char *system_id, const char *kind,
                                   guint offset, guint limit, guint *total, GError **error);
};

/* @location: "postgresql://…" or "postgres://…" (libpq connection URI) for PostgreSQL,
 * anything else is the path of an SQLite file. Opens (creating if needed) and migrates
 * to SDC_STORE_SCHEMA_VERSION; a newer schema than this program knows is refused. */
SdcStore   *sdc_store_open           (const char *location, GError **error);
gboolean    sdc_store_location_is_pg (const char *location);
SdcStore   *sdc_store_sqlite_open    (const char *path, GError **error);
/* A consistent copy of the SQLite database PATH, taken while it is written, in DEST (never
 * overwritten; written as DEST.part, then linked); REPORTS: how many it holds. */
gboolean    sdc_store_sqlite_backup  (const char *path, const char *dest, guint *reports, GError **error);
SdcStore   *sdc_store_pg_open        (const char *conninfo, GError **error);
/* Whether every host a PostgreSQL @conninfo names is this machine (a Unix socket
 * directory, none at all, localhost or a loopback address): then the database shares
 * esa-sdc's cores. FALSE for what libpq cannot parse, or without libpq. */
gboolean    sdc_store_pg_is_local    (const char *conninfo);
/* For the engines: their register statement changed no row. Sets @error to why
 * (@system_id gone, or a new system registered meanwhile by another request). */
void        sdc_store_register_missed (const char *system_id, GError **error);

const char *sdc_store_engine_name    (SdcStore *store);
int         sdc_store_schema_version (SdcStore *store);

/* Transactions; savepoints let one failing report of a group commit roll back alone. */
gboolean    sdc_store_begin          (SdcStore *store, GError **error);
gboolean    sdc_store_commit         (SdcStore *store, GError **error);
void        sdc_store_rollback       (SdcStore *store);
gboolean    sdc_store_savepoint      (SdcStore *store, GError **error);
gboolean    sdc_store_release        (SdcStore *store, GError **error);
void        sdc_store_rollback_to    (SdcStore *store);

/* A system is one machine (machine_type + serial) and one partition of it: "lpar:N" for a
 * partition with a number, "os:<os_uuid>" for a virtual machine known only by its OS
 * instance, "" for a whole machine. Newly allocated. */
char       *sdc_store_partition_key   (gboolean is_lpar, gint64 lpar_id, const char *os_uuid);

/* The system registered for that machine and partition: *system_id NULL when none;
 * *deactivated TRUE when its agent deactivated it. */
gboolean    sdc_store_find_system     (SdcStore *store, const char *machine_type, const char *serial,
                                       const char *partition, char **system_id,
                                       gboolean *deactivated, GError **error);
/* @system_id NULL: a new system (SDC_ERROR_DUPLICATE when the machine and partition were
 * registered meanwhile, by another connection). Else that system gets the new password
 * and description and is active again. Returns the system id. */
char       *sdc_store_register_system (SdcStore *store, const SdcSystemInfo *info,
                                       const SdcPasswordHash *pw, const char *now,
                                       const char *system_id, GError **error);
/* From now on the system's credentials are refused (get_credentials: NOT_FOUND). */
gboolean    sdc_store_deactivate_system (SdcStore *store, const char *system_id, const char *now,
                                         GError **error);
gboolean    sdc_store_set_contact     (SdcStore *store, const char *system_id,
                                       const char *contact_json, GError **error);

/* Registrations waiting for the admin (a re-registration without the current
 * credentials): keyed by the request's uuid, named by @registration ("REG-…"); states
 * "pending" -> "approved" (esa-sdc systems approve) -> "done" (credentials issued). */
gboolean    sdc_store_get_registration (SdcStore *store, const char *uuid, char **registration,
                                        char **system_id, char **state, GError **error);
gboolean    sdc_store_add_registration (SdcStore *store, const char *registration,
                                        const char *uuid, const char *system_id,
                                        const char *hostname, const char *now, GError **error);
/* SDC_ERROR_NOT_FOUND unless @registration exists in @from_state. */
gboolean    sdc_store_set_registration_state (SdcStore *store, const char *registration,
                                              const char *from_state, const char *to_state,
                                              const char *now, GError **error);
JsonArray  *sdc_store_list_registrations (SdcStore *store, GError **error);

/* SDC_ERROR_NOT_FOUND for an unknown (or deactivated) system id. */
gboolean    sdc_store_get_credentials (SdcStore *store, const char *system_id,
                                       char **salt_hex, char **hash_hex, guint *iterations,
                                       GError **error);
/* The machine a system id was issued for. */
gboolean    sdc_store_get_machine     (SdcStore *store, const char *system_id,
                                       char **machine_type, char **serial, GError **error);
gboolean    sdc_store_touch_system    (SdcStore *store, const char *system_id, const char *now,
                                       GError **error);

/* TRUE and *answer_json NULL if the uuid is new. */
gboolean    sdc_store_lookup_report   (SdcStore *store, const char *uuid, char **system_id,
                                       char **kind, guint *status, char **answer_json,
                                       GError **error);
/* Exactly-once: *inserted is FALSE (and nothing is written) when the uuid is already
 * stored, also when another connection stored it concurrently. @answer_json NULL stores
 * an empty answer to be set with sdc_store_set_report_answer() in the same transaction. */
gboolean    sdc_store_insert_report   (SdcStore *store, const SdcReportRow *row,
                                       GPtrArray *attachments, guint status,
                                       const char *answer_json, gboolean *inserted,
                                       GError **error);
gboolean    sdc_store_set_report_answer (SdcStore *store, const char *uuid, guint status,
                                         const char *answer_json, GError **error);
/* sdc_store_insert_report() for a group, in the order given (the writer's, sorted by
 * system id then uuid), and sdc_store_new_service_request() for each inserted one that
 * asks for it: the result is the one of storing them one after the other (a uuid twice
 * in @reports is stored once, the first; a system's last_seen, for rows with touch, is
 * the received of its last report inserted). On PostgreSQL one statement for all of
 * them. FALSE (the transaction to be rolled back) if any report fails, e.g. names a
 * system that does not exist. */
gboolean    sdc_store_insert_reports  (SdcStore *store, SdcReportInsert *reports, guint n,
                                       guint status, GError **error);
/* The same, one report at a time (insert_report, then new_service_request): what
 * sdc_store_insert_reports() does for an engine without a group statement, and what
 * one with it falls back to for rows it does not cover. */
gboolean    sdc_store_insert_reports_each (SdcStore *store, SdcReportInsert *reports, guint n,
                                           guint status, GError **error);
/* Allocates the next "SR%08u" for a stored problem report. */
char       *sdc_store_new_service_request (SdcStore *store, const char *report_uuid,
                                           const char *system_id, const char *now,
                                           GError **error);

/* SDC_ERROR_NOT_FOUND if the report does not exist or does not list @name. */
SdcAttachmentRow *sdc_store_get_attachment (SdcStore *store, const char *report_uuid,
                                            const char *name, GError **error);
gboolean    sdc_store_set_attachment_received (SdcStore *store, const char *report_uuid,
                                               const char *name, gint64 size,
                                               const char *sha256, const char *path,
                                               const char *now, GError **error);

/* A value every instance sharing the database agrees on (the UAK signing key): the
 * stored one, or @value_if_absent stored now (the first writer wins). */
char       *sdc_store_get_setting     (SdcStore *store, const char *name,
                                       const char *value_if_absent, GError **error);

/* Arrays of objects, for `esa-sdc systems/reports` (both --json and tables). */
JsonArray  *sdc_store_list_systems    (SdcStore *store, GError **error);
JsonArray  *sdc_store_list_reports    (SdcStore *store, const char *system_id, GError **error);

/* The web view (read only, one page at a time). Systems, the most recently seen first,
 * each with last_heartbeat, uak_answer (the newest UAK issued, as JSON) and the counts
 * problems/inventories/heartbeats; @system_id non-NULL: that one only. *total: how many
 * systems there are (matching @system_id). */
JsonArray  *sdc_store_ui_systems      (SdcStore *store, const char *system_id, guint offset,
                                       guint limit, guint *total, GError **error);
/* A system's reports of @kind, newest first, each with service_request, body (JSON) and
 * attachments (name, size, sha256, received_sha256, received). *total: all of them. */
JsonArray  *sdc_store_ui_reports      (SdcStore *store, const char *system_id, const char *kind,
                                       guint offset, guint limit, guint *total, GError **error);

G_END_DECLS
