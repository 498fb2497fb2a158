/* esa-contact.c: the contact of this system, kept in the state dir.
 *
 * The contact given at activation or with `esactl contact set` is the admin's latest
 * word; esa.conf's [activation] contact-* is only the starting point, so every report
 * built from then on (the weekly inventory too) carries the state dir's. */
#include "config.h"

#include "esa-contact.h"
#include "esa-fileutil.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <errno.h>
#include <string.h>

/* far above any real contact; a bigger file is not ours */
#define ESA_CONTACT_MAX_BYTES (64 * 1024)

char *
esa_contact_path (const char *state_dir)
{
  return g_build_filename (state_dir, "contact", NULL);
}

void
esa_contact_free (EsaContact *contact)
{
  if (contact == NULL)
    return;
  g_free (contact->name);
  g_free (contact->email);
  g_free (contact->phone);
  g_free (contact);
}

static gboolean
read_field (JsonObject *o, const char *path, const char *name, char **out, GError **error)
{
  g_autoptr (GError) local = NULL;
  const char *v = esa_json_get_string (o, NULL, name, ESA_JSON_OPTIONAL, &local);
  if (local != NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: %s", path, local->message);
      return FALSE;
    }
  *out = g_strdup (v);
  return TRUE;
}

EsaContact *
esa_contact_load (EsaConfig *config, GError **error)
{
  g_autofree char *path = esa_contact_path (esa_config_get_state_dir (config));
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (EsaContact) contact = g_new0 (EsaContact, 1);
  gsize len = 0;
  JsonObject *o;

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s", local->message);
          return NULL;
        }
      contact->name = g_strdup (esa_config_get_contact_name (config));
      contact->email = g_strdup (esa_config_get_contact_email (config));
      contact->phone = g_strdup (esa_config_get_contact_phone (config));
      return g_steal_pointer (&contact);
    }
  root = esa_json_parse (text, (gssize) len, ESA_CONTACT_MAX_BYTES, 4, &local);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: %s", path,
                   local != NULL ? local->message : "expected a JSON object");
      return NULL;
    }
  o = json_node_get_object (root);
  if (!read_field (o, path, "name", &contact->name, error) || !read_field (o, path, "email", &contact->email, error) ||
      !read_field (o, path, "phone", &contact->phone, error))
    return NULL;
  contact->from_state = TRUE;
  return g_steal_pointer (&contact);
}

JsonObject *
esa_contact_to_json (const EsaContact *contact)
{
  JsonObject *o = json_object_new ();
  if (contact->name != NULL)
    json_object_set_string_member (o, "name", contact->name);
  if (contact->email != NULL)
    json_object_set_string_member (o, "email", contact->email);
  if (contact->phone != NULL)
    json_object_set_string_member (o, "phone", contact->phone);
  return o;
}

gboolean
esa_contact_save (const char *state_dir, const EsaContact *contact, GError **error)
{
  g_autofree char *path = esa_contact_path (state_dir);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  json_node_take_object (node, esa_contact_to_json (contact));
  text = esa_json_to_string (node, TRUE);
  if (!esa_mkdir_p (state_dir, 0700, error))
    return FALSE;
  return esa_file_write_atomic (path, NULL, text, strlen (text), 0600, error);
}
