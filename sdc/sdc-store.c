/* sdc-store.c: the SdcStore interface: dispatch to the engine, and choosing the engine
 * from the location given on the command line. */
#include "config.h"

#include "sdc-store.h"
#include "sdc-error.h"

G_DEFINE_INTERFACE (SdcStore, sdc_store, G_TYPE_OBJECT)

static void
sdc_store_default_init (SdcStoreInterface *iface)
{
}

#define IFACE(s) SDC_STORE_GET_IFACE (s)

gboolean
sdc_store_location_is_pg (const char *location)
{
  return location != NULL &&
         (g_str_has_prefix (location, "postgresql://") || g_str_has_prefix (location, "postgres://"));
}

#ifndef HAVE_LIBPQ
SdcStore *
sdc_store_pg_open (const char *conninfo, GError **error)
{
  g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INTERNAL,
                       "this esa-sdc was built without PostgreSQL support (libpq)");
  return NULL;
}

gboolean
sdc_store_pg_is_local (const char *conninfo)
{
  (void) conninfo;
  return FALSE;
}
#endif

SdcStore *
sdc_store_open (const char *location, GError **error)
{
  if (sdc_store_location_is_pg (location))
    return sdc_store_pg_open (location, error);
  return sdc_store_sqlite_open (location, error);
}

void
sdc_store_register_missed (const char *system_id, GError **error)
{
  if (system_id != NULL)
    g_set_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND, "unknown system id %s", system_id);
  else
    g_set_error_literal (error, SDC_ERROR, SDC_ERROR_DUPLICATE,
                         "this machine and partition were registered by another request meanwhile");
}

const char *
sdc_store_engine_name (SdcStore *store)
{
  return IFACE (store)->engine_name (store);
}

int
sdc_store_schema_version (SdcStore *store)
{
  return IFACE (store)->schema_version (store);
}

gboolean
sdc_store_begin (SdcStore *store, GError **error)
{
  return IFACE (store)->begin (store, error);
}

gboolean
sdc_store_commit (SdcStore *store, GError **error)
{
  return IFACE (store)->exec (store, "COMMIT", error);
}

void
sdc_store_rollback (SdcStore *store)
{
  IFACE (store)->exec (store, "ROLLBACK", NULL);
}

/* The same SQL in both engines; one savepoint at a time is all the group commit needs. */
gboolean
sdc_store_savepoint (SdcStore *store, GError **error)
{
  return IFACE (store)->exec (store, "SAVEPOINT sdc_one", error);
}

gboolean
sdc_store_release (SdcStore *store, GError **error)
{
  return IFACE (store)->exec (store, "RELEASE SAVEPOINT sdc_one", error);
}

void
sdc_store_rollback_to (SdcStore *store)
{
  IFACE (store)->exec (store, "ROLLBACK TO SAVEPOINT sdc_one", NULL);
  IFACE (store)->exec (store, "RELEASE SAVEPOINT sdc_one", NULL);
}

char *
sdc_store_register_system (SdcStore *store, const SdcSystemInfo *info, const SdcPasswordHash *pw,
                           const char *now, const char *system_id, GError **error)
{
  return IFACE (store)->register_system (store, info, pw, now, system_id, error);
}

char *
sdc_store_partition_key (gboolean is_lpar, gint64 lpar_id, const char *os_uuid)
{
  /* The LPAR number is what the HMC knows a partition by and survives a reinstall;
   * a virtual machine without one is told apart by its OS instance. */
  if (lpar_id >= 0)
    return g_strdup_printf ("lpar:%" G_GINT64_FORMAT, lpar_id);
  if (is_lpar && os_uuid != NULL && os_uuid[0] != '\0')
    return g_strdup_printf ("os:%s", os_uuid);
  return g_strdup ("");
}

gboolean
sdc_store_find_system (SdcStore *store, const char *machine_type, const char *serial,
                       const char *partition, char **system_id, gboolean *deactivated, GError **error)
{
  return IFACE (store)->find_system (store, machine_type, serial, partition, system_id, deactivated, error);
}

gboolean
sdc_store_deactivate_system (SdcStore *store, const char *system_id, const char *now, GError **error)
{
  return IFACE (store)->deactivate_system (store, system_id, now, error);
}

gboolean
sdc_store_set_contact (SdcStore *store, const char *system_id, const char *contact_json, GError **error)
{
  return IFACE (store)->set_contact (store, system_id, contact_json, error);
}

gboolean
sdc_store_get_registration (SdcStore *store, const char *uuid, char **registration, char **system_id,
                            char **state, GError **error)
{
  return IFACE (store)->get_registration (store, uuid, registration, system_id, state, error);
}

gboolean
sdc_store_add_registration (SdcStore *store, const char *registration, const char *uuid,
                            const char *system_id, const char *hostname, const char *now, GError **error)
{
  return IFACE (store)->add_registration (store, registration, uuid, system_id, hostname, now, error);
}

gboolean
sdc_store_set_registration_state (SdcStore *store, const char *registration, const char *from_state,
                                  const char *to_state, const char *now, GError **error)
{
  return IFACE (store)->set_registration_state (store, registration, from_state, to_state, now, error);
}

JsonArray *
sdc_store_list_registrations (SdcStore *store, GError **error)
{
  return IFACE (store)->list_registrations (store, error);
}

gboolean
sdc_store_get_credentials (SdcStore *store, const char *system_id, char **salt_hex, char **hash_hex,
                           guint *iterations, GError **error)
{
  return IFACE (store)->get_credentials (store, system_id, salt_hex, hash_hex, iterations, error);
}

gboolean
sdc_store_get_machine (SdcStore *store, const char *system_id, char **machine_type, char **serial,
                       GError **error)
{
  return IFACE (store)->get_machine (store, system_id, machine_type, serial, error);
}

gboolean
sdc_store_touch_system (SdcStore *store, const char *system_id, const char *now, GError **error)
{
  return IFACE (store)->touch_system (store, system_id, now, error);
}

gboolean
sdc_store_lookup_report (SdcStore *store, const char *uuid, char **system_id, char **kind,
                         guint *status, char **answer_json, GError **error)
{
  return IFACE (store)->lookup_report (store, uuid, system_id, kind, status, answer_json, error);
}

gboolean
sdc_store_insert_report (SdcStore *store, const SdcReportRow *row, GPtrArray *attachments,
                         guint status, const char *answer_json, gboolean *inserted, GError **error)
{
  return IFACE (store)->insert_report (store, row, attachments, status, answer_json, inserted, error);
}

gboolean
sdc_store_insert_reports (SdcStore *store, SdcReportInsert *reports, guint n, guint status, GError **error)
{
  if (IFACE (store)->insert_reports != NULL)
    return IFACE (store)->insert_reports (store, reports, n, status, error);
  return sdc_store_insert_reports_each (store, reports, n, status, error);
}

gboolean
sdc_store_insert_reports_each (SdcStore *store, SdcReportInsert *reports, guint n, guint status, GError **error)
{
  for (guint i = 0; i < n; i++)
    {
      SdcReportInsert *r = &reports[i];
      if (!IFACE (store)->insert_report (store, r->row, r->attachments, status, r->answer_json, &r->inserted,
                                         error))
        return FALSE;
      if (r->inserted && r->new_service_request &&
          (r->service_request = IFACE (store)->new_service_request (store, r->row->uuid, r->row->system_id,
                                                                    r->row->received, error)) == NULL)
        return FALSE;
    }
  return TRUE;
}

gboolean
sdc_store_set_report_answer (SdcStore *store, const char *uuid, guint status, const char *answer_json,
                             GError **error)
{
  return IFACE (store)->set_report_answer (store, uuid, status, answer_json, error);
}

char *
sdc_store_new_service_request (SdcStore *store, const char *report_uuid, const char *system_id,
                               const char *now, GError **error)
{
  return IFACE (store)->new_service_request (store, report_uuid, system_id, now, error);
}

SdcAttachmentRow *
sdc_store_get_attachment (SdcStore *store, const char *report_uuid, const char *name, GError **error)
{
  return IFACE (store)->get_attachment (store, report_uuid, name, error);
}

gboolean
sdc_store_set_attachment_received (SdcStore *store, const char *report_uuid, const char *name,
                                   gint64 size, const char *sha256, const char *path, const char *now,
                                   GError **error)
{
  return IFACE (store)->set_attachment_received (store, report_uuid, name, size, sha256, path, now, error);
}

char *
sdc_store_get_setting (SdcStore *store, const char *name, const char *value_if_absent, GError **error)
{
  return IFACE (store)->get_setting (store, name, value_if_absent, error);
}

JsonArray *
sdc_store_list_systems (SdcStore *store, GError **error)
{
  return IFACE (store)->list_systems (store, error);
}

JsonArray *
sdc_store_list_reports (SdcStore *store, const char *system_id, GError **error)
{
  return IFACE (store)->list_reports (store, system_id, error);
}

JsonArray *
sdc_store_ui_systems (SdcStore *store, const char *system_id, guint offset, guint limit, guint *total,
                      GError **error)
{
  return IFACE (store)->ui_systems (store, system_id, offset, limit, total, error);
}

JsonArray *
sdc_store_ui_reports (SdcStore *store, const char *system_id, const char *kind, guint offset, guint limit,
                      guint *total, GError **error)
{
  return IFACE (store)->ui_reports (store, system_id, kind, offset, limit, total, error);
}

void
sdc_attachment_decl_free (SdcAttachmentDecl *a)
{
  if (a == NULL)
    return;
  g_free (a->name);
  g_free (a->sha256);
  g_free (a->content_type);
  g_free (a);
}

void
sdc_attachment_row_free (SdcAttachmentRow *a)
{
  if (a == NULL)
    return;
  g_free (a->report_uuid);
  g_free (a->system_id);
  g_free (a->name);
  g_free (a->sha256);
  g_free (a->path);
  g_free (a->received_sha256);
  g_free (a);
}
