/* sdc-api.c: the SDC API v1 endpoints (docs/protocol.md is the contract).
 *
 * Reports are stored exactly once: the report UUID is the primary key, and a request
 * carrying a UUID already stored gets the answer stored with it, byte for byte, so an
 * agent that retries after a lost answer sees the same service request number. Each
 * request is validated completely before anything is written, and every write of one
 * request happens in one transaction: an error stores nothing. */
#include "config.h"

#include "sdc-server-private.h"
#include "sdc-auth.h"
#include "sdc-error.h"
#include "sdc-json.h"
#include "esa/esa-json.h"
#include "esa/esa-protocol.h"

#include <string.h>

static char *
now_string (void)
{
  return g_strdup (sdc_json_now_text ());
}

/* A field that must be a token (it ends up inside UAK key data and file names). */
static const char *
get_token (JsonObject *obj, const char *name, gboolean required, GError **error)
{
  g_autoptr (GError) local = NULL;
  const char *s = esa_json_get_string (obj, NULL, name, required ? ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY : ESA_JSON_OPTIONAL,
                                       &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (s != NULL && !sdc_json_is_token (s))
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   "%s: expected 1-64 characters from A-Z a-z 0-9 . _ -", name);
      return NULL;
    }
  return s;
}

static char *
get_uuid (JsonObject *obj, const char *name, gboolean required, GError **error)
{
  g_autoptr (GError) local = NULL;
  const char *s = esa_json_get_string (obj, NULL, name, required ? ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY : ESA_JSON_OPTIONAL,
                                       &local);
  char *uuid;
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (s == NULL)
    return NULL;
  uuid = sdc_json_canonical_uuid (s);
  if (uuid == NULL)
    g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                 "%s: expected a UUID like 123e4567-e89b-12d3-a456-426614174000", name);
  return uuid;
}

/* The contact object of a request: optional string name, email, phone; its JSON text. */
gboolean
sdc_api_contact_json (JsonObject *obj, char **contact_json, GError **error)
{
  g_autoptr (GError) local = NULL;
  JsonObject *contact = esa_json_get_object (obj, NULL, "contact", ESA_JSON_OPTIONAL, &local);
  const char *const keys[] = { "name", "email", "phone" };
  *contact_json = NULL;
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (contact == NULL)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (esa_json_get_string (contact, "contact.", keys[i], ESA_JSON_OPTIONAL, &local) == NULL && local != NULL)
      {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
      }
  *contact_json = sdc_json_object_to_string (contact);
  return TRUE;
}

/* The partition fields of a registration (docs/protocol.md, "Identity"). */
static gboolean
parse_partition (JsonObject *obj, SdcSystemInfo *info, GError **error)
{
  g_autoptr (GError) local = NULL;
  info->lpar_id = -1;
  if (!esa_json_get_int (obj, NULL, "lpar_id", ESA_JSON_OPTIONAL, &info->lpar_id, error))
    return FALSE;
  if (info->lpar_id < -1 || info->lpar_id > G_MAXINT32)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   "lpar_id: %" G_GINT64_FORMAT ": expected the partition number (0 or more) or -1",
                   info->lpar_id);
      return FALSE;
    }
  info->lpar_name = esa_json_get_string (obj, NULL, "lpar_name", ESA_JSON_OPTIONAL, &local);
  if (local == NULL)
    info->os_uuid = get_token (obj, "os_uuid", FALSE, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

/* A system that already exists is re-registered only by its own agent (HTTP Basic
 * with the current credentials) or after the admin approved this request
 * (esa-sdc systems approve REG-…); anyone else gets a pending registration (202) and
 * the working agent keeps its password. */
static gboolean
register_existing (SdcStore *store, SdcRequest *req, const char *uuid, const char *existing,
                   gboolean *proven, char **registration, GError **error)
{
  g_autofree char *reg = NULL;
  g_autofree char *reg_system = NULL;
  g_autofree char *state = NULL;
  g_autofree char *now = now_string ();

  *proven = FALSE;
  if (req->system_id != NULL && g_str_equal (req->system_id, existing))
    {
      *proven = TRUE;
      return TRUE;
    }
  if (!sdc_store_get_registration (store, uuid, &reg, &reg_system, &state, error))
    return FALSE;
  if (reg != NULL && !g_str_equal (reg_system, existing))
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_DUPLICATE, "uuid: already used by registration %s of another system", reg);
      return FALSE;
    }
  if (reg != NULL && g_str_equal (state, "approved"))
    {
      if (!sdc_store_set_registration_state (store, reg, "approved", "done", now, error))
        return FALSE;
      *proven = TRUE;
      return TRUE;
    }
  if (reg != NULL && g_str_equal (state, "done"))
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_DUPLICATE,
                   "registration %s was approved and its credentials issued already; register again with a new uuid", reg);
      return FALSE;
    }
  if (reg == NULL)
    {
      g_autofree char *id = sdc_auth_new_system_id (); /* "ESA-" + 16 random hex digits */
      if (id == NULL)
        {
          g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INTERNAL, "random number generator failed");
          return FALSE;
        }
      reg = g_strconcat ("REG-", id + 4, NULL);
      if (!sdc_store_add_registration (store, reg, uuid, existing,
                                       esa_json_peek_string (req->obj, "hostname"), now, error))
        return FALSE;
    }
  *registration = g_steal_pointer (&reg);
  return TRUE;
}

gboolean
sdc_api_register (SdcStore *store, SdcRequest *req, JsonObject *obj, guint *status, char **answer,
                  GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *uuid = NULL;
  g_autofree char *password = NULL;
  g_autofree char *system_id = NULL;
  g_autofree char *existing = NULL;
  g_autofree char *registration = NULL;
  g_autofree char *contact_json = NULL;
  g_autofree char *partition = NULL;
  g_autofree char *now = now_string ();
  g_autoptr (SdcPasswordHash) pw = NULL;
  g_autoptr (JsonObject) out = NULL;
  SdcSystemInfo info = { 0 };
  gboolean deactivated = FALSE;
  gboolean proven = TRUE;

  uuid = get_uuid (obj, "uuid", TRUE, error);
  if (uuid == NULL)
    return FALSE;
  req->uuid = g_strdup (uuid);
  if ((info.vendor = esa_json_get_string (obj, NULL, "vendor", ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, error)) == NULL ||
      (info.machine_type = get_token (obj, "machine_type", TRUE, error)) == NULL ||
      (info.serial = get_token (obj, "serial", TRUE, error)) == NULL ||
      (info.hostname = esa_json_get_string (obj, NULL, "hostname", ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, error)) == NULL)
    return FALSE;
  info.model = esa_json_get_string (obj, NULL, "model", ESA_JSON_OPTIONAL, &local);
  if (local == NULL)
    info.platform_id = esa_json_get_string (obj, NULL, "system_id", ESA_JSON_OPTIONAL, &local);
  if (local == NULL)
    info.os = esa_json_get_string (obj, NULL, "os", ESA_JSON_OPTIONAL, &local);
  if (local == NULL)
    info.os_version = esa_json_get_string (obj, NULL, "os_version", ESA_JSON_OPTIONAL, &local);
  if (local == NULL)
    esa_json_get_boolean (obj, NULL, "is_lpar", ESA_JSON_OPTIONAL, &info.is_lpar, &local);
  if (local == NULL)
    parse_partition (obj, &info, &local);
  if (local == NULL)
    sdc_api_contact_json (obj, &contact_json, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  info.contact_json = contact_json;
  partition = sdc_store_partition_key (info.is_lpar, info.lpar_id, info.os_uuid);
  info.partition = partition;

  password = sdc_auth_new_password ();
  if (password == NULL)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INTERNAL, "random number generator failed");
      return FALSE;
    }
  pw = sdc_auth_hash_password (password, error);
  if (pw == NULL)
    return FALSE;
  /* its own transaction: a concurrent registration of the same partition (another
   * thread or instance) waits, or loses the insert and is told so */
  if (!sdc_store_begin (store, error))
    return FALSE;
  if (!sdc_store_find_system (store, info.machine_type, info.serial, partition, &existing, &deactivated, error) ||
      (existing != NULL && !deactivated &&
       !register_existing (store, req, uuid, existing, &proven, &registration, error)) ||
      (proven && (system_id = sdc_store_register_system (store, &info, pw, now, existing, error)) == NULL) ||
      !sdc_store_commit (store, error))
    {
      sdc_store_rollback (store);
      return FALSE;
    }

  out = json_object_new ();
  if (!proven)
    {
      g_autofree char *msg = g_strdup_printf ("this machine and partition are registered already; "
                                              "waiting for the SDC's admin to approve %s "
                                              "(esa-sdc systems approve %s), or register with the "
                                              "current credentials", registration, registration);
      json_object_set_string_member (out, "status", "pending");
      json_object_set_string_member (out, "registration", registration);
      json_object_set_string_member (out, "message", msg);
      *answer = sdc_json_object_to_string (out);
      *status = 202;
      return TRUE;
    }
  g_free (req->system_id);
  req->system_id = g_strdup (system_id);
  json_object_set_string_member (out, "system_id", system_id);
  json_object_set_string_member (out, "password", password);
  *answer = sdc_json_object_to_string (out);
  *status = 201;
  return TRUE;
}

/* The envelope's "attachments": [{name, size, sha256, content_type}]. */
static GPtrArray *
parse_attachments (JsonObject *obj, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) sdc_attachment_decl_free);
  g_autoptr (GError) local = NULL;
  JsonArray *arr = esa_json_get_array (obj, NULL, "attachments", ESA_JSON_OPTIONAL, &local);

  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    {
      JsonNode *node = json_array_get_element (arr, i);
      g_autofree char *prefix = g_strdup_printf ("attachments[%u].", i);
      g_autoptr (SdcAttachmentDecl) a = g_new0 (SdcAttachmentDecl, 1);
      JsonObject *o;
      const char *name;
      const char *sha;
      const char *ct;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "attachments[%u]: expected object", i);
          return NULL;
        }
      o = json_node_get_object (node);
      if ((name = esa_json_get_string (o, prefix, "name", ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, error)) == NULL)
        return NULL;
      if (!sdc_json_is_plain_name (name))
        {
          g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                       "%sname: expected a plain file name (no '/', no leading '.')", prefix);
          return NULL;
        }
      if (!esa_json_get_int (o, prefix, "size", ESA_JSON_REQUIRED, &a->size, error))
        return NULL;
      if (a->size < 0)
        {
          g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "%ssize: expected an integer >= 0", prefix);
          return NULL;
        }
      if ((sha = esa_json_get_string (o, prefix, "sha256", ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, error)) == NULL)
        return NULL;
      if (!sdc_json_is_sha256 (sha))
        {
          g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "%ssha256: expected 64 hex digits", prefix);
          return NULL;
        }
      ct = esa_json_get_string (o, prefix, "content_type", ESA_JSON_OPTIONAL, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      for (guint j = 0; j < list->len; j++)
        if (g_strcmp0 (((SdcAttachmentDecl *) g_ptr_array_index (list, j))->name, name) == 0)
          {
            g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "%sname: \"%s\" is listed twice",
                         prefix, name);
            return NULL;
          }
      a->name = g_strdup (name);
      a->sha256 = g_ascii_strdown (sha, -1);
      a->content_type = g_strdup (ct);
      g_ptr_array_add (list, g_steal_pointer (&a));
    }
  return g_steal_pointer (&list);
}

/* Exactly-once: the stored answer for a known UUID, or a 409 when the UUID belongs to
 * a different system or kind (never leak another system's answer). */
static gboolean
replay_answer (SdcStore *store, SdcRequest *req, const char *uuid, const char *kind,
               gboolean *replayed, guint *status, char **answer, GError **error)
{
  g_autofree char *sys = NULL;
  g_autofree char *stored_kind = NULL;
  g_autofree char *stored = NULL;
  guint stored_status = 0;

  *replayed = FALSE;
  if (!sdc_store_lookup_report (store, uuid, &sys, &stored_kind, &stored_status, &stored, error))
    return FALSE;
  if (stored == NULL)
    return TRUE;
  if (g_strcmp0 (sys, req->system_id) != 0 || g_strcmp0 (stored_kind, kind) != 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_DUPLICATE,
                   "uuid %s was already used for a different report", uuid);
      return FALSE;
    }
  req->duplicate = TRUE;
  *replayed = TRUE;
  *status = stored_status;
  *answer = g_steal_pointer (&stored);
  return TRUE;
}

/* @key: the request's Idempotency-Key header, NULL when it has none (a batch's
 * reports, or tests/fuzz/fuzz-sdc-request.c checking a body alone). */
static gboolean
check_idempotency_key (const char *key, const char *uuid, GError **error)
{
  g_autofree char *canon = NULL;
  if (key == NULL)
    return TRUE;
  canon = sdc_json_canonical_uuid (key);
  if (canon == NULL || g_strcmp0 (canon, uuid) != 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   ESA_PROTOCOL_HEADER_IDEMPOTENCY_KEY ": must equal the body's uuid (%s)", uuid);
      return FALSE;
    }
  return TRUE;
}

void
sdc_report_job_release (SdcReportJob *job)
{
  g_clear_pointer (&job->raw, g_byte_array_unref);
  g_clear_pointer (&job->idempotency_key, g_free);
  g_clear_pointer (&job->parent, g_free);
  g_clear_pointer (&job->body_json, g_free);
  g_clear_pointer (&job->now, g_free);
  g_clear_pointer (&job->attachments, g_ptr_array_unref);
  g_clear_pointer (&job->obj, json_object_unref);
  /* what pointed into them */
  job->row.kind = job->row.plugin = job->row.created = job->row.received = NULL;
  job->row.parent = job->row.body_json = NULL;
}

void
sdc_report_job_free (SdcReportJob *job)
{
  if (job == NULL)
    return;
  /* all but the answer, then the answer */
  sdc_report_job_release (job);
  g_free (job->uuid);
  g_free (job->answer);
  g_free (job->log_uuid);
  g_free (job);
}

/* What a report must carry, checked, into @job (which then points into @obj). */
static gboolean
report_fill (SdcReportJob *job, const char *system_id, const char *kind_path, const char *idempotency_key,
             JsonObject *obj, char **log_uuid, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *uuid = NULL;
  g_autofree char *parent = NULL;
  g_autoptr (GPtrArray) attachments = NULL;
  const char *kind;
  const char *plugin;
  const char *created;
  JsonObject *body;

  uuid = get_uuid (obj, "uuid", TRUE, error);
  if (uuid == NULL)
    return FALSE;
  g_free (*log_uuid);
  *log_uuid = g_strdup (uuid);
  if (!check_idempotency_key (idempotency_key, uuid, error))
    return FALSE;
  if ((kind = esa_json_get_string (obj, NULL, "kind", ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, error)) == NULL)
    return FALSE;
  if (kind_path == NULL && !sdc_route_is_report_kind (kind))
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   "kind: \"%s\" is not a report kind (expected " ESA_REPORT_KIND_HEARTBEAT ", "
                   ESA_REPORT_KIND_PROBLEM ", " ESA_REPORT_KIND_INVENTORY ", " ESA_REPORT_KIND_UAK_STATUS
                   " or " ESA_REPORT_KIND_EXTENDED_DATA ")", kind);
      return FALSE;
    }
  if (kind_path != NULL && g_strcmp0 (kind, kind_path) != 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   "kind: \"%s\" does not match the endpoint (expected \"%s\")", kind, kind_path);
      return FALSE;
    }
  plugin = esa_json_get_string (obj, NULL, "plugin", ESA_JSON_OPTIONAL, &local);
  if (local == NULL)
    created = esa_json_get_string (obj, NULL, "created", ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!sdc_json_is_timestamp (created))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                           "created: expected an RFC 3339 time with zone, e.g. 2026-11-25T09:00:00Z");
      return FALSE;
    }
  parent = get_uuid (obj, "parent", FALSE, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  body = esa_json_get_object (obj, NULL, "body", ESA_JSON_REQUIRED, error);
  if (body == NULL)
    return FALSE;
  attachments = parse_attachments (obj, error);
  if (attachments == NULL)
    return FALSE;

  job->obj = json_object_ref (obj);
  job->uuid = g_steal_pointer (&uuid);
  job->parent = g_steal_pointer (&parent);
  job->body_json = sdc_json_object_to_string (body);
  job->now = now_string ();
  job->attachments = g_steal_pointer (&attachments);
  job->row.uuid = job->uuid;
  job->row.system_id = system_id;
  job->row.kind = kind;
  job->row.plugin = plugin;
  job->row.created = created;
  job->row.received = job->now;
  job->row.parent = job->parent;
  job->row.body_json = job->body_json;
  /* a stored report is a sign of life: last_seen goes with the insert (one statement
   * less per report; a duplicate touches nothing) */
  job->row.touch = TRUE;
  return TRUE;
}

SdcReportJob *
sdc_api_report_check (const char *system_id, const char *kind_path, const char *idempotency_key,
                      JsonObject *obj, char **log_uuid, GError **error)
{
  g_autoptr (SdcReportJob) job = g_new0 (SdcReportJob, 1);
  if (!report_fill (job, system_id, kind_path, idempotency_key, obj, log_uuid, error))
    return NULL;
  return g_steal_pointer (&job);
}

SdcReportJob *
sdc_api_report_new_unread (const char *system_id, const char *kind_path, GByteArray *body, gsize max_body,
                           const char *idempotency_key)
{
  SdcReportJob *job = g_new0 (SdcReportJob, 1);
  job->raw = body;
  job->max_body = max_body;
  job->row.system_id = system_id;
  job->kind_path = kind_path;
  job->idempotency_key = g_strdup (idempotency_key);
  return job;
}

gboolean
sdc_api_report_read (SdcReportJob *job, GError **error)
{
  g_autoptr (JsonObject) obj = NULL;
  g_autoptr (GByteArray) raw = g_steal_pointer (&job->raw);
  g_return_val_if_fail (raw != NULL, FALSE);
  obj = sdc_json_parse_request ((const char *) raw->data, raw->len, job->max_body, error);
  return obj != NULL && report_fill (job, job->row.system_id, job->kind_path, job->idempotency_key, obj,
                                     &job->log_uuid, error);
}

/* The stored answer of a report already stored, or a 409 when its uuid belongs to a
 * different system or kind (never leak another system's answer). */
static gboolean
stored_answer (SdcStore *store, const char *uuid, const char *system_id, const char *kind,
               guint *status, char **answer, GError **error)
{
  g_autofree char *sys = NULL;
  g_autofree char *stored_kind = NULL;
  g_autofree char *stored = NULL;
  guint stored_status = 0;

  if (!sdc_store_lookup_report (store, uuid, &sys, &stored_kind, &stored_status, &stored, error))
    return FALSE;
  if (stored == NULL || g_strcmp0 (sys, system_id) != 0 || g_strcmp0 (stored_kind, kind) != 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_DUPLICATE,
                   "uuid %s was already used for a different report", uuid);
      return FALSE;
    }
  *status = stored_status;
  *answer = g_steal_pointer (&stored);
  return TRUE;
}

/* A stored report's answer. Every value in it is one esa-sdc made or checked (the
 * canonical uuid, its own timestamp, "SR" and digits): nothing to escape, so it is
 * written directly, the bytes json-glib wrote before (a JsonObject and a generator per
 * report were a sixth of the writer thread's time; docs/performance.md). */
static char *
report_answer (const SdcReportRow *row, const char *sr)
{
  if (sr != NULL)
    return g_strdup_printf ("{\"status\":\"stored\",\"uuid\":\"%s\",\"service_request\":\"%s\"}", row->uuid, sr);
  if (g_strcmp0 (row->kind, "heartbeat") == 0)
    return g_strdup_printf ("{\"status\":\"stored\",\"uuid\":\"%s\",\"last_seen\":\"%s\"}", row->uuid,
                            row->received);
  return g_strdup_printf ("{\"status\":\"stored\",\"uuid\":\"%s\"}", row->uuid);
}

gboolean
sdc_api_store_report (SdcStore *store, const SdcReportRow *row, GPtrArray *attachments,
                      guint *status, char **answer, gboolean *duplicate, GError **error)
{
  g_autofree char *sr = NULL;
  g_autofree char *text = NULL;
  gboolean problem = g_strcmp0 (row->kind, "problem") == 0;
  gboolean inserted = FALSE;

  if (!problem)
    text = report_answer (row, NULL);
  /* the uuid's row decides: a duplicate (even one stored concurrently by another
   * connection or instance) inserts nothing and gets the first answer */
  if (!sdc_store_insert_report (store, row, attachments, 200, text, &inserted, error))
    return FALSE;
  if (!inserted)
    {
      *duplicate = TRUE;
      return stored_answer (store, row->uuid, row->system_id, row->kind, status, answer, error);
    }
  if (problem)
    {
      /* the answer names the service request, allocated once the report row exists */
      sr = sdc_store_new_service_request (store, row->uuid, row->system_id, row->received, error);
      if (sr == NULL)
        return FALSE;
      text = report_answer (row, sr);
      if (!sdc_store_set_report_answer (store, row->uuid, 200, text, error))
        return FALSE;
    }
  *status = 200;
  *answer = g_steal_pointer (&text);
  return TRUE;
}

/* sdc_api_store_report() for a writer's group of reports, the same answers byte for
 * byte: on PostgreSQL one statement stores them all with the problems' service requests
 * (sdc_store_insert_reports); then each problem's answer, which names its service
 * request, is set (one UPDATE by primary key each: an UPDATE joined to an array of
 * uuids may be planned as a scan of the whole table). A duplicate, also of a report
 * earlier in this group, then reads the stored answer. */
gboolean
sdc_api_store_reports (SdcStore *store, SdcReportJob *const *jobs, guint n, GError **error)
{
  g_autofree SdcReportInsert *ins = g_new0 (SdcReportInsert, n);
  gboolean ok;

  for (guint i = 0; i < n; i++)
    {
      SdcReportJob *job = jobs[i];
      /* the writer may run a group again after rolling it back */
      g_clear_pointer (&job->answer, g_free);
      job->duplicate = FALSE;
      ins[i].new_service_request = g_strcmp0 (job->row.kind, "problem") == 0;
      if (!ins[i].new_service_request)
        job->answer = report_answer (&job->row, NULL);
      ins[i].row = &job->row;
      ins[i].attachments = job->attachments;
      ins[i].answer_json = job->answer;
    }
  ok = sdc_store_insert_reports (store, ins, n, 200, error);
  for (guint i = 0; i < n; i++)
    {
      SdcReportJob *job = jobs[i];
      job->status = 200;
      if (ok && ins[i].inserted && ins[i].service_request != NULL)
        {
          job->answer = report_answer (&job->row, ins[i].service_request);
          ok = sdc_store_set_report_answer (store, job->row.uuid, 200, job->answer, error);
        }
      g_free (ins[i].service_request);
    }
  for (guint i = 0; ok && i < n; i++)
    {
      SdcReportJob *job = jobs[i];
      if (ins[i].inserted)
        continue;
      g_clear_pointer (&job->answer, g_free);
      job->duplicate = TRUE;
      ok = stored_answer (store, job->row.uuid, job->row.system_id, job->row.kind, &job->status, &job->answer,
                          error);
    }
  return ok;
}

gboolean
sdc_api_uak (SdcServer *self, SdcStore *store, SdcRequest *req, JsonObject *obj, guint *status,
             char **answer, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *uuid = NULL;
  g_autofree char *reg_type = NULL;
  g_autofree char *reg_serial = NULL;
  g_autofree char *key_data = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *body_json = NULL;
  g_autofree char *now = NULL;
  g_autoptr (GDateTime) now_dt = g_date_time_new_now_utc ();
  g_autoptr (JsonObject) out = NULL;
  const char *machine_type;
  const char *serial;
  const char *current;
  const char *kind;
  gboolean replayed = FALSE;
  gboolean inserted = FALSE;
  gboolean ok;
  SdcReportRow row = { 0 };

  uuid = get_uuid (obj, "uuid", TRUE, error);
  if (uuid == NULL)
    return FALSE;
  req->uuid = g_strdup (uuid);
  if ((machine_type = get_token (obj, "machine_type", TRUE, error)) == NULL ||
      (serial = get_token (obj, "serial", TRUE, error)) == NULL)
    return FALSE;
  current = esa_json_get_string (obj, NULL, "current_expiry", ESA_JSON_OPTIONAL, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (current != NULL && !sdc_uak_parse_date (current, NULL))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                           "current_expiry: expected a date YYYYMMDD");
      return FALSE;
    }
  /* which key: the firmware's (default) or, on POWER10, the AIX (OS) key */
  kind = esa_json_get_string (obj, NULL, "key", ESA_JSON_OPTIONAL, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (kind != NULL && !g_str_equal (kind, "firmware") && !g_str_equal (kind, "aix"))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "key: expected \"firmware\" or \"aix\"");
      return FALSE;
    }
  /* a system gets keys for its own machine only */
  if (!sdc_store_get_machine (store, req->system_id, &reg_type, &reg_serial, error))
    return FALSE;
  if (g_strcmp0 (reg_type, machine_type) != 0 || g_strcmp0 (reg_serial, serial) != 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   "machine_type/serial: %s/%s is not the machine registered as %s", machine_type,
                   serial, req->system_id);
      return FALSE;
    }
  if (!replay_answer (store, req, uuid, "uak", &replayed, status, answer, error))
    return FALSE;
  if (replayed)
    return TRUE;

  g_mutex_lock (&self->uak_lock);
  ok = sdc_uak_issue (self->uak, kind, machine_type, serial, current, now_dt, &key_data, &signature, error);
  g_mutex_unlock (&self->uak_lock);
  if (!ok)
    return FALSE;
  out = json_object_new ();
  json_object_set_string_member (out, "key_data", key_data);
  json_object_set_string_member (out, "signature", signature);
  json_object_set_string_member (out, "algorithm", SDC_UAK_ALGORITHM);
  *answer = sdc_json_object_to_string (out);
  *status = 200;

  /* stored like a report (kind "uak") so a retried request gets the same key back */
  now = sdc_json_now (now_dt);
  body_json = sdc_json_object_to_string (obj);
  row.uuid = uuid;
  row.system_id = req->system_id;
  row.kind = "uak";
  row.plugin = "uak";
  row.created = now;
  row.received = now;
  row.body_json = body_json;
  if (!sdc_store_insert_report (store, &row, NULL, *status, *answer, &inserted, error))
    {
      g_clear_pointer (answer, g_free);
      return FALSE;
    }
  if (!inserted)
    {
      /* the same request was answered concurrently: its key is the one that counts */
      g_clear_pointer (answer, g_free);
      req->duplicate = TRUE;
      return stored_answer (store, uuid, req->system_id, "uak", status, answer, error);
    }
  return TRUE;
}

char *
sdc_api_config (SdcServer *self)
{
  g_autoptr (JsonObject) out = json_object_new ();
  JsonArray *servers = json_array_new ();
  GPtrArray *urls = self->opts.public_urls != NULL && self->opts.public_urls->len > 0
                        ? self->opts.public_urls
                        : self->https_urls;
  for (guint i = 0; i < urls->len; i++)
    json_array_add_string_element (servers, g_ptr_array_index (urls, i));
  json_object_set_int_member (out, "version", ESA_PROTOCOL_VERSION);
  json_object_set_array_member (out, "servers", servers);
  json_object_set_string_member (out, "heartbeat", self->opts.heartbeat);
  return sdc_json_object_to_string (out);
}

static char *
attachment_answer (const char *uuid, const char *name, gint64 size, const char *sha)
{
  g_autoptr (JsonObject) out = json_object_new ();
  json_object_set_string_member (out, "status", "stored");
  json_object_set_string_member (out, "uuid", uuid);
  json_object_set_string_member (out, "name", name);
  json_object_set_int_member (out, "size", size);
  json_object_set_string_member (out, "sha256", sha);
  return sdc_json_object_to_string (out);
}

/* The HTTPS loops share one store connection for attachments (sdc-loops.c). */
static SdcAttachmentRow *
get_attachment (SdcServer *self, const char *report_uuid, const char *name, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->store_lock);
  return sdc_store_get_attachment (self->store, report_uuid, name, error);
}

gboolean
sdc_api_attachment_begin (SdcServer *self, SdcRequest *req, SoupServerMessage *msg, const char *tail,
                          GError **error)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  const char *slash = tail != NULL ? strchr (tail, '/') : NULL;
  const char *sha = soup_message_headers_get_one (hdrs, ESA_PROTOCOL_HEADER_SHA256);
  g_autofree char *raw_uuid = NULL;
  g_autofree char *name = NULL;
  g_autofree char *sha_lc = NULL;
  g_autofree char *final_path = NULL;
  g_autoptr (SdcAttachmentRow) row = NULL;
  goffset length;

  if (slash == NULL || slash == tail || slash[1] == '\0')
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_NOT_FOUND,
                           "expected " ESA_PROTOCOL_PATH_ATTACHMENT "<report-uuid>/<name>");
      return FALSE;
    }
  raw_uuid = g_strndup (tail, slash - tail);
  req->report_uuid = sdc_json_canonical_uuid (raw_uuid);
  if (req->report_uuid == NULL)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND, "\"%s\" is not a report uuid", raw_uuid);
      return FALSE;
    }
  req->uuid = g_strdup (req->report_uuid);
  /* the path is raw (percent-encoded): decode the name once, refusing an encoded '/' */
  name = g_uri_unescape_string (slash + 1, "/");
  if (name == NULL || !sdc_json_is_plain_name (name))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                           "name: expected a plain file name (no '/', no '..', no leading '.')");
      return FALSE;
    }
  req->att_name = g_strdup (name);
  if (soup_message_headers_get_encoding (hdrs) != SOUP_ENCODING_CONTENT_LENGTH)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_LENGTH_REQUIRED,
                           "Content-Length is required for an attachment");
      return FALSE;
    }
  length = soup_message_headers_get_content_length (hdrs);
  if (!sdc_json_is_sha256 (sha))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                           ESA_PROTOCOL_HEADER_SHA256 ": expected the SHA-256 of the body as 64 hex digits");
      return FALSE;
    }
  sha_lc = g_ascii_strdown (sha, -1);

  row = get_attachment (self, req->report_uuid, name, error);
  if (row == NULL)
    return FALSE;
  /* another system's report is as good as absent */
  if (g_strcmp0 (row->system_id, req->system_id) != 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_NOT_FOUND,
                   "report %s does not exist or does not list an attachment \"%s\"",
                   req->report_uuid, name);
      return FALSE;
    }
  if (row->path != NULL)
    {
      /* already stored: the same bytes again are answered like the first time */
      if (g_strcmp0 (row->received_sha256, sha_lc) != 0)
        {
          g_set_error (error, SDC_ERROR, SDC_ERROR_DUPLICATE,
                       "attachment \"%s\" of report %s was already stored with sha256 %s", name,
                       req->report_uuid, row->received_sha256);
          return FALSE;
        }
      req->discard = TRUE;
      req->duplicate = TRUE;
      req->att_size = row->size;
      return TRUE;
    }
  if ((guint64) length > self->opts.max_attachment)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_TOO_LARGE,
                   "attachment of %" G_GINT64_FORMAT " bytes exceeds the limit of %" G_GUINT64_FORMAT
                   " bytes", (gint64) length, self->opts.max_attachment);
      return FALSE;
    }
  if (row->sha256 != NULL && g_strcmp0 (row->sha256, sha_lc) != 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_CHECKSUM_MISMATCH,
                   ESA_PROTOCOL_HEADER_SHA256 " %s differs from the sha256 %s the report declared", sha_lc, row->sha256);
      return FALSE;
    }
  final_path = g_build_filename (self->opts.dir, "attachments", req->report_uuid, name, NULL);
  req->upload = sdc_upload_new (final_path, sha_lc, (gint64) length, error);
  return req->upload != NULL;
}

gboolean
sdc_api_attachment_finish (SdcServer *self, SdcRequest *req, guint *status, char **answer,
                           GError **error)
{
  g_autofree char *now = now_string ();
  g_autofree char *rel = NULL;
  g_autoptr (SdcAttachmentRow) row = NULL;
  gboolean ok;

  if (req->discard)
    {
      row = get_attachment (self, req->report_uuid, req->att_name, error);
      if (row == NULL)
        return FALSE;
      *answer = attachment_answer (req->report_uuid, req->att_name, row->size, row->received_sha256);
      *status = 200;
      return TRUE;
    }
  if (req->deferred != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&req->deferred));
      return FALSE;
    }
  if (req->upload == NULL || !sdc_upload_finish (req->upload, error))
    return FALSE;
  rel = g_build_filename ("attachments", req->report_uuid, req->att_name, NULL);
  g_mutex_lock (&self->store_lock);
  ok = sdc_store_set_attachment_received (self->store, req->report_uuid, req->att_name,
                                          sdc_upload_get_received (req->upload),
                                          sdc_upload_get_sha256 (req->upload), rel, now, error);
  g_mutex_unlock (&self->store_lock);
  if (!ok)
    return FALSE;
  *answer = attachment_answer (req->report_uuid, req->att_name, sdc_upload_get_received (req->upload),
                               sdc_upload_get_sha256 (req->upload));
  *status = 200;
  return TRUE;
}
