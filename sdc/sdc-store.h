/* sdc-store.h: the SDC's SQLite database (systems, reports, attachments, service requests). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sdc-auth.h"

G_BEGIN_DECLS

/* PRAGMA user_version after all migrations. */
#define SDC_STORE_SCHEMA_VERSION 2

typedef struct _SdcStore SdcStore;

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
} SdcReportRow;

typedef struct {
  char *name;
  gint64 size;
  char *sha256;
  char *content_type;
} SdcAttachmentDecl;

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

/* Opens (creating if needed) and migrates to SDC_STORE_SCHEMA_VERSION. */
SdcStore *sdc_store_open           (const char *path, GError **error);
void      sdc_store_free           (SdcStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcStore, sdc_store_free)
int       sdc_store_schema_version (SdcStore *store);

gboolean  sdc_store_begin          (SdcStore *store, GError **error);
gboolean  sdc_store_commit         (SdcStore *store, GError **error);
void      sdc_store_rollback       (SdcStore *store);

/* Same machine (machine_type + serial) keeps its system id; the password is replaced. */
char     *sdc_store_register_system (SdcStore *store, const SdcSystemInfo *info,
                                     const SdcPasswordHash *pw, const char *now,
                                     gboolean *created, GError **error);
/* SDC_ERROR_NOT_FOUND for an unknown system id. */
gboolean  sdc_store_get_credentials (SdcStore *store, const char *system_id,
                                     char **salt_hex, char **hash_hex, guint *iterations,
                                     GError **error);
/* The machine a system id was issued for. */
gboolean  sdc_store_get_machine     (SdcStore *store, const char *system_id,
                                     char **machine_type, char **serial, GError **error);
gboolean  sdc_store_touch_system    (SdcStore *store, const char *system_id, const char *now,
                                     GError **error);

/* TRUE and *answer_json NULL if the uuid is new. */
gboolean  sdc_store_lookup_report   (SdcStore *store, const char *uuid, char **system_id,
                                     char **kind, guint *status, char **answer_json,
                                     GError **error);
gboolean  sdc_store_insert_report   (SdcStore *store, const SdcReportRow *row,
                                     GPtrArray *attachments, guint status,
                                     const char *answer_json, GError **error);
/* Allocates the next "SR%08u" for a problem report. */
char     *sdc_store_new_service_request (SdcStore *store, const char *report_uuid,
                                         const char *system_id, const char *now,
                                         GError **error);

/* SDC_ERROR_NOT_FOUND if the report does not exist or does not list @name. */
SdcAttachmentRow *sdc_store_get_attachment (SdcStore *store, const char *report_uuid,
                                            const char *name, GError **error);
gboolean  sdc_store_set_attachment_received (SdcStore *store, const char *report_uuid,
                                             const char *name, gint64 size, const char *sha256,
                                             const char *path, const char *now, GError **error);

/* Arrays of objects, for `esa-sdc systems/reports` (both --json and tables). */
JsonArray *sdc_store_list_systems  (SdcStore *store, GError **error);
JsonArray *sdc_store_list_reports  (SdcStore *store, const char *system_id, GError **error);

G_END_DECLS
