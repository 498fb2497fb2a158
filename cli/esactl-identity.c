/* esactl-identity.c: `esactl contact show|set`, and the status lines about who this
 * system is to the SDC (its partition, credentials the SDC refuses). */
#include "config.h"

#include "esactl-private.h"
#include "esa/esa-json.h"

void
esactl_print_partition (JsonObject *platform)
{
  JsonNode *id = json_object_get_member (platform, "lpar_id");
  JsonNode *os_uuid = json_object_get_member (platform, "os_uuid");
  if (id != NULL && JSON_NODE_HOLDS_VALUE (id) && json_node_get_int (id) >= 0)
    g_print ("partition:  LPAR %" G_GINT64_FORMAT " %s, os_uuid %s\n", json_node_get_int (id),
             esactl_str (platform, "lpar_name"), esactl_str (platform, "os_uuid"));
  else if (os_uuid != NULL && JSON_NODE_HOLDS_VALUE (os_uuid))
    g_print ("os_uuid:    %s\n", esactl_str (platform, "os_uuid"));
}

void
esactl_print_credentials_refused (JsonObject *status)
{
  JsonNode *n = json_object_get_member (status, "credentials_refused");
  JsonObject *r;
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return;
  r = json_node_get_object (n);
  g_print ("            credentials refused by the SDC since %s; run esactl activate "
           "(reports stay queued)\n            last answer: %s\n",
           esactl_str (r, "since"), esactl_str (r, "message"));
}

void
esactl_print_registration_pending (JsonObject *r, const char *indent)
{
  g_autofree char *since = NULL, *last = NULL;
  if (r == NULL)
    return;
  since = esactl_time (esactl_str (r, "since"));
  last = esactl_time (esactl_str (r, "last_attempt"));
  if (esa_json_peek_string (r, "stopped") != NULL)
    g_print ("%sregistration %s pending approval since %s, no longer asked: %s\n", indent, esactl_str (r, "registration"),
             since, esactl_str (r, "stopped"));
  else
    g_print ("%sregistration pending approval since %s (%s; the SDC's admin runs esa-sdc systems approve %s); "
             "esad asks again by itself, last at %s, and delivers the queue once approved\n",
             indent, since, esactl_str (r, "registration"), esactl_str (r, "registration"), last);
}

static void
print_contact (JsonObject *o)
{
  JsonObject *c = json_object_get_object_member (o, "contact");
  g_print ("name:   %s\nemail:  %s\nphone:  %s\n(from %s)\n", esactl_str (c, "name"), esactl_str (c, "email"),
           esactl_str (c, "phone"),
           g_strcmp0 (esactl_str (o, "source"), "state") == 0 ? "the state dir: esactl activate / contact set"
                                                               : "esa.conf [activation]");
}

static int
cmd_contact_show (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (JsonNode) reply = NULL;
  int rc;
  if (argc != 0)
    {
      g_printerr ("esactl contact show: unexpected \"%s\"\n", argv[0]);
      return ESACTL_EXIT_USAGE;
    }
  rc = esactl_call (opts, "GET", "/v1/contact", NULL, &reply);
  if (rc != 0)
    return rc;
  if (opts->json)
    esactl_print_json (reply);
  else
    print_contact (json_node_get_object (reply));
  return 0;
}

static int
cmd_contact_set (EsactlOptions *opts, int argc, char **argv)
{
  g_autofree char *name = NULL, *email = NULL, *phone = NULL;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Contact person (\"\" clears it)", "NAME" },
    { "email", 0, 0, G_OPTION_ARG_STRING, &email, "Contact e-mail", "EMAIL" },
    { "phone", 0, 0, G_OPTION_ARG_STRING, &phone, "Contact phone", "PHONE" },
    { NULL },
  };
  g_autoptr (GOptionContext) octx = g_option_context_new ("contact set");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  g_auto (GStrv) av = g_new0 (char *, argc + 2);
  JsonObject *r;
  int rc;

  av[0] = g_strdup ("contact set");
  for (int i = 0; i < argc; i++)
    av[i + 1] = g_strdup (argv[i]);
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse_strv (octx, &av, &error))
    {
      g_printerr ("esactl contact set: %s\n", error->message);
      return ESACTL_EXIT_USAGE;
    }
  if (g_strv_length (av) > 1 || (name == NULL && email == NULL && phone == NULL))
    {
      g_printerr ("esactl contact set: expected --name, --email and/or --phone\n");
      return ESACTL_EXIT_USAGE;
    }
  if (name) json_object_set_string_member (o, "name", name);
  if (email) json_object_set_string_member (o, "email", email);
  if (phone) json_object_set_string_member (o, "phone", phone);
  json_node_set_object (body, o);
  rc = esactl_call (opts, "POST", "/v1/contact", body, &reply);
  if (rc != 0)
    return rc;
  r = json_node_get_object (reply);
  if (opts->json)
    esactl_print_json (reply);
  else
    {
      print_contact (r);
      if (json_object_get_boolean_member_with_default (r, "sent", FALSE))
        g_print ("sent to the SDC\n");
      else
        g_printerr ("saved here; not sent to the SDC: %s\n", esactl_str (r, "sdc"));
    }
  /* kept locally either way, but the admin asked for the SDC to know */
  return json_object_get_boolean_member_with_default (r, "sent", FALSE) ||
                 g_str_has_prefix (esactl_str (r, "sdc"), "not activated")
             ? 0
             : ESACTL_EXIT_CONNECTIVITY;
}

const EsactlCommand esactl_identity_commands[] = {
  { "contact", "show", "", "show the contact sent with reports", cmd_contact_show },
  { "contact", "set", "[--name N] [--email E] [--phone P]", "change the contact, here and at the SDC",
    cmd_contact_set },
  { NULL, NULL, NULL, NULL, NULL },
};
