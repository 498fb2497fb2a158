/* sdc-api-system.c: what an activated agent changes about its own system — the
 * contact (POST /esa/v1/contact) and deactivation (POST /esa/v1/deactivate), both
 * authenticated, both without re-registering (docs/protocol.md). */
#include "config.h"

#include "sdc-server-private.h"
#include "sdc-error.h"
#include "sdc-json.h"
#include "esa/esa-json.h"

static gboolean
answer_stored (SdcRequest *req, const char *status_word, guint *status, char **answer)
{
  g_autoptr (JsonObject) out = json_object_new ();
  json_object_set_string_member (out, "status", status_word);
  json_object_set_string_member (out, "system_id", req->system_id);
  *answer = sdc_json_object_to_string (out);
  *status = 200;
  return TRUE;
}

static gboolean
system_contact (SdcStore *store, SdcRequest *req, JsonObject *obj, guint *status, char **answer,
                GError **error)
{
  g_autofree char *contact_json = NULL;
  if (!sdc_api_contact_json (obj, &contact_json, error))
    return FALSE;
  if (contact_json == NULL)
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD, "contact: required object is missing");
      return FALSE;
    }
  if (!sdc_store_set_contact (store, req->system_id, contact_json, error))
    return FALSE;
  return answer_stored (req, "stored", status, answer);
}

static gboolean
system_deactivate (SdcStore *store, SdcRequest *req, guint *status, char **answer, GError **error)
{
  g_autoptr (GDateTime) dt = g_date_time_new_now_utc ();
  g_autofree char *now = sdc_json_now (dt);
  if (!sdc_store_deactivate_system (store, req->system_id, now, error))
    return FALSE;
  return answer_stored (req, "deactivated", status, answer);
}

gboolean
sdc_api_system (SdcStore *store, SdcRequest *req, JsonObject *obj, guint *status, char **answer,
                GError **error)
{
  if (g_str_equal (req->route->report_kind, "contact"))
    return system_contact (store, req, obj, status, answer, error);
  return system_deactivate (store, req, status, answer, error);
}
