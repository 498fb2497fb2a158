/* sdc-approve.c: pending registrations, listed and approved by the SDC's admin.
 *
 * A registration for a machine and partition that is registered already, without that
 * system's current credentials, waits here (docs/protocol.md, "Re-registration"): the
 * admin compares the REG- id the agent printed with this list and approves it; the
 * agent's next try with the same request uuid then gets the credentials. */
#include "config.h"

#include "sdc-approve.h"
#include "esa/esa-json.h"
#include "sdc-json.h"
#include "sdc-server.h"
#include "sdc-store.h"

#include <stdio.h>

static SdcStore *
open_existing (const char *dir, const char *db, GError **error)
{
  g_autofree char *location = sdc_server_db_location (dir, db);
  if (db == NULL && !g_file_test (location, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "%s: no database (has `esa-sdc serve --dir %s` run yet?)", location, dir);
      return NULL;
    }
  return sdc_store_open (location, error);
}

static const char *
cell (JsonObject *o, const char *name)
{
  const char *v = json_object_get_string_member_with_default (o, name, NULL);
  return v != NULL ? v : "-";
}

gboolean
sdc_registrations_list (const char *dir, const char *db, gboolean json, GError **error)
{
  g_autoptr (SdcStore) store = open_existing (dir, db, error);
  g_autoptr (JsonArray) arr = NULL;
  if (store == NULL || (arr = sdc_store_list_registrations (store, error)) == NULL)
    return FALSE;
  if (json)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);
      g_autofree char *text = NULL;
      json_node_set_array (node, arr);
      text = esa_json_to_string (node, TRUE);
      printf ("%s\n", text);
      return TRUE;
    }
  printf ("%-20s  %-20s  %-16s  %-20s  %s\n", "REGISTRATION", "SYSTEM ID", "HOSTNAME", "REQUESTED", "STATE");
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      printf ("%-20s  %-20s  %-16s  %-20s  %s\n", cell (o, "registration"), cell (o, "system_id"),
              cell (o, "hostname"), cell (o, "requested"), cell (o, "state"));
    }
  return TRUE;
}

gboolean
sdc_registrations_approve (const char *dir, const char *db, const char *registration, GError **error)
{
  g_autoptr (SdcStore) store = open_existing (dir, db, error);
  g_autoptr (GDateTime) dt = g_date_time_new_now_utc ();
  g_autofree char *now = sdc_json_now (dt);
  if (store == NULL)
    return FALSE;
  if (!sdc_store_set_registration_state (store, registration, "pending", "approved", now, error))
    {
      g_prefix_error (error, "esa-sdc systems pending lists what can be approved: ");
      return FALSE;
    }
  printf ("approved %s: the agent gets new credentials at its next `esactl activate`\n", registration);
  return TRUE;
}
