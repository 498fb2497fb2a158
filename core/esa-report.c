/* esa-report.c: EsaReport, the unit the queue stores and the transports send. */
#include "config.h"

#include "esa/esa-error.h"
#include "esa/esa-json.h"
#include "esa/esa-report.h"
#include "esa-report-private.h"

#include <string.h>

struct _EsaReport {
  gatomicrefcount ref;
  char *uuid;
  char *kind;
  char *plugin;
  char *parent;
  GDateTime *created;
  JsonObject *body;
  GPtrArray *attachments; /* EsaAttachment* */
};

static void
attachment_free (EsaAttachment *att)
{
  g_free (att->name);
  g_free (att->path);
  g_free (att->content_type);
  g_free (att->sha256);
  g_free (att);
}

static EsaReport *
report_alloc (void)
{
  EsaReport *self = g_new0 (EsaReport, 1);
  g_atomic_ref_count_init (&self->ref);
  self->body = json_object_new ();
  self->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) attachment_free);
  return self;
}

EsaReport *
esa_report_new (const char *kind, const char *plugin)
{
  EsaReport *self = report_alloc ();
  g_return_val_if_fail (kind != NULL, NULL);
  self->uuid = g_uuid_string_random ();
  self->kind = g_strdup (kind);
  self->plugin = g_strdup (plugin != NULL ? plugin : "core");
  self->created = g_date_time_new_now_utc ();
  return self;
}

EsaReport *
esa_report_ref (EsaReport *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
esa_report_unref (EsaReport *self)
{
  if (!g_atomic_ref_count_dec (&self->ref))
    return;
  g_free (self->uuid);
  g_free (self->kind);
  g_free (self->plugin);
  g_free (self->parent);
  g_clear_pointer (&self->created, g_date_time_unref);
  json_object_unref (self->body);
  g_ptr_array_unref (self->attachments);
  g_free (self);
}

const char *esa_report_get_uuid (EsaReport *self) { return self->uuid; }
const char *esa_report_get_kind (EsaReport *self) { return self->kind; }
const char *esa_report_get_plugin (EsaReport *self) { return self->plugin; }
GDateTime *esa_report_get_created (EsaReport *self) { return self->created; }
JsonObject *esa_report_get_body (EsaReport *self) { return self->body; }
const char *esa_report_get_parent (EsaReport *self) { return self->parent; }
GPtrArray *esa_report_get_attachments (EsaReport *self) { return self->attachments; }

void
esa_report_set_body (EsaReport *self, JsonObject *body)
{
  g_return_if_fail (body != NULL);
  json_object_ref (body);
  json_object_unref (self->body);
  self->body = body;
}

void
esa_report_set_uuid (EsaReport *self, const char *uuid)
{
  g_return_if_fail (uuid != NULL && g_uuid_string_is_valid (uuid));
  g_free (self->uuid);
  self->uuid = g_strdup (uuid);
}

void
esa_report_set_parent (EsaReport *self, const char *parent_uuid)
{
  g_free (self->parent);
  self->parent = g_strdup (parent_uuid);
}

/* 64 lower-case hex digits. */
static gboolean
sha256_valid (const char *hex)
{
  if (hex == NULL || strlen (hex) != 64)
    return FALSE;
  for (const char *p = hex; *p; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

/* A name the SDC and the spool can both use as a plain file name. */
static gboolean
attachment_name_valid (const char *name)
{
  if (name == NULL || *name == '\0' || *name == '.' || strlen (name) > 200)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '.' || *p == '-' || *p == '_'))
      return FALSE;
  return TRUE;
}

gboolean
esa_report_add_attachment (EsaReport *self, const char *path, const char *content_type,
                           GError **error)
{
  g_autofree char *name = g_path_get_basename (path);
  EsaAttachment *att;
  if (!attachment_name_valid (name))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "attachment \"%s\": file name must be letters, digits, '.', '-', '_'", path);
      return FALSE;
    }
  for (guint i = 0; i < self->attachments->len; i++)
    {
      EsaAttachment *other = g_ptr_array_index (self->attachments, i);
      if (g_strcmp0 (other->name, name) == 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "attachment \"%s\": report already has a file named %s", path, name);
          return FALSE;
        }
    }
  att = g_new0 (EsaAttachment, 1);
  att->name = g_steal_pointer (&name);
  att->path = g_strdup (path);
  att->content_type = g_strdup (content_type != NULL ? content_type : "application/octet-stream");
  g_ptr_array_add (self->attachments, att);
  return TRUE;
}

JsonNode *
esa_report_to_json (EsaReport *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *created = g_date_time_format_iso8601 (self->created);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, ESA_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "uuid");
  json_builder_add_string_value (b, self->uuid);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, self->kind);
  json_builder_set_member_name (b, "plugin");
  json_builder_add_string_value (b, self->plugin);
  json_builder_set_member_name (b, "created");
  json_builder_add_string_value (b, created);
  json_builder_set_member_name (b, "parent");
  if (self->parent != NULL)
    json_builder_add_string_value (b, self->parent);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "body");
  {
    JsonNode *body = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (body, self->body);
    json_builder_add_value (b, body);
  }
  json_builder_set_member_name (b, "attachments");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->attachments->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (self->attachments, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, att->name);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, att->path);
      json_builder_set_member_name (b, "content_type");
      json_builder_add_string_value (b, att->content_type);
      if (att->sha256 != NULL)
        {
          json_builder_set_member_name (b, "size");
          json_builder_add_int_value (b, (gint64) att->size);
          json_builder_set_member_name (b, "sha256");
          json_builder_add_string_value (b, att->sha256);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

EsaReport *
esa_report_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr (EsaReport) self = NULL;
  JsonObject *obj;
  JsonNode *body, *atts;
  const char *uuid, *kind, *plugin, *created, *parent;
  GError *local = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                           "report: expected a JSON object");
      return NULL;
    }
  obj = json_node_get_object (node);
  uuid = esa_json_get_string (obj, "report: ", "uuid", ESA_JSON_REQUIRED, &local);
  kind = local ? NULL : esa_json_get_string (obj, "report: ", "kind", ESA_JSON_REQUIRED, &local);
  plugin = local ? NULL : esa_json_get_string (obj, "report: ", "plugin", ESA_JSON_REQUIRED, &local);
  created = local ? NULL : esa_json_get_string (obj, "report: ", "created", ESA_JSON_REQUIRED, &local);
  parent = local ? NULL : esa_json_get_string (obj, "report: ", "parent", ESA_JSON_OPTIONAL, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  if (!g_uuid_string_is_valid (uuid))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "report: uuid \"%s\" is not a UUID", uuid);
      return NULL;
    }
  self = report_alloc ();
  self->uuid = g_strdup (uuid);
  self->kind = g_strdup (kind);
  self->plugin = g_strdup (plugin);
  self->parent = g_strdup (parent);
  self->created = g_date_time_new_from_iso8601 (created, NULL);
  if (self->created == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "report %s: created \"%s\" is not an ISO 8601 time", uuid, created);
      return NULL;
    }
  body = json_object_get_member (obj, "body");
  if (body != NULL && !JSON_NODE_HOLDS_OBJECT (body))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "report %s: body is not a JSON object", uuid);
      return NULL;
    }
  if (body != NULL)
    esa_report_set_body (self, json_node_get_object (body));
  atts = json_object_get_member (obj, "attachments");
  if (atts != NULL && !JSON_NODE_HOLDS_ARRAY (atts))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "report %s: attachments is not a JSON array", uuid);
      return NULL;
    }
  for (guint i = 0; atts != NULL && i < json_array_get_length (json_node_get_array (atts)); i++)
    {
      JsonNode *an = json_array_get_element (json_node_get_array (atts), i);
      JsonObject *ao;
      const char *name, *path, *ctype, *sha256 = NULL;
      gint64 size = 0;
      EsaAttachment *att;
      if (!JSON_NODE_HOLDS_OBJECT (an))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "report %s: attachments[%u] is not an object", uuid, i);
          return NULL;
        }
      ao = json_node_get_object (an);
      name = esa_json_get_string (ao, NULL, "name", ESA_JSON_REQUIRED, &local);
      path = local ? NULL : esa_json_get_string (ao, NULL, "path", ESA_JSON_REQUIRED, &local);
      ctype = local ? NULL : esa_json_get_string (ao, NULL, "content_type", ESA_JSON_OPTIONAL, &local);
      sha256 = local ? NULL : esa_json_get_string (ao, NULL, "sha256", ESA_JSON_OPTIONAL, &local);
      if (local == NULL && sha256 != NULL)
        {
          esa_json_get_int (ao, NULL, "size", ESA_JSON_REQUIRED, &size, &local);
          if (local == NULL && (!sha256_valid (sha256) || size < 0))
            g_set_error (&local, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                         "sha256 \"%s\" / size %" G_GINT64_FORMAT
                         ": expected 64 lower-case hex digits and a size >= 0", sha256, size);
        }
      if (local != NULL || !attachment_name_valid (name))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "report %s: attachments[%u]: %s", uuid, i,
                       local ? local->message : "name is not a plain file name");
          g_clear_error (&local);
          return NULL;
        }
      att = g_new0 (EsaAttachment, 1);
      att->name = g_strdup (name);
      att->path = g_strdup (path);
      att->content_type = g_strdup (ctype != NULL ? ctype : "application/octet-stream");
      att->sha256 = g_strdup (sha256);
      att->size = (guint64) size;
      g_ptr_array_add (self->attachments, att);
    }
  return g_steal_pointer (&self);
}
