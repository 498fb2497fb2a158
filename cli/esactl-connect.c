/* esactl-connect.c: activate, deactivate, test, heartbeat, send, queue export/retry. */
#include "config.h"

#include "esactl-private.h"
#include "esa/esa-json.h"

#include <glib/gi18n.h>
#include <string.h>

static int
cmd_activate (EsactlOptions *opts, int argc, char **argv)
{
  g_autofree char *server = NULL, *name = NULL, *email = NULL, *phone = NULL;
  GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &server, "SDC to register with", "URL" },
    { "contact-name", 0, 0, G_OPTION_ARG_STRING, &name, "Contact person", "NAME" },
    { "contact-email", 0, 0, G_OPTION_ARG_STRING, &email, "Contact e-mail", "EMAIL" },
    { "contact-phone", 0, 0, G_OPTION_ARG_STRING, &phone, "Contact phone", "PHONE" },
    { NULL },
  };
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  int rc;
  if (!esactl_parse_options (opts, "activate", &argc, &argv, entries, &rc))
    return rc;
  if (argc > 0)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "activate: unexpected \"%s\" (see esactl activate --help)", argv[0]);
  if (server) json_object_set_string_member (o, "server", server);
  if (name) json_object_set_string_member (o, "contact_name", name);
  if (email) json_object_set_string_member (o, "contact_email", email);
  if (phone) json_object_set_string_member (o, "contact_phone", phone);
  json_node_set_object (body, o);
  rc = esactl_call (opts, "POST", "/v1/activate", body, &reply);
  if (rc != 0)
    return rc;
  if (opts->json)
    esactl_print_json (reply);
  else if (!opts->quiet)
    /* "server" is the one that answered, not the first one configured. */
    g_print ("activated: system id %s at %s\n", esactl_str (json_node_get_object (reply), "system_id"),
             esactl_str (json_node_get_object (reply), "server"));
  return 0;
}

static int
cmd_deactivate (EsactlOptions *opts, int argc, char **argv)
{
  gboolean local = FALSE;
  GOptionEntry entries[] = {
    { "local", 0, 0, G_OPTION_ARG_NONE, &local, "Forget the credentials without telling the SDC", NULL },
    { NULL },
  };
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  int rc;
  if (!esactl_parse_options (opts, "deactivate", &argc, &argv, entries, &rc))
    return rc;
  if (argc > 0)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "deactivate: unexpected \"%s\" (see esactl deactivate --help)", argv[0]);
  json_object_set_boolean_member (o, "local", local);
  json_node_set_object (body, o);
  rc = esactl_call (opts, "POST", "/v1/deactivate", body, &reply);
  if (rc != 0)
    return rc;
  if (opts->json)
    esactl_print_json (reply);
  else if (!opts->quiet)
    g_print ("deactivated: credentials removed; SDC: %s\n", esactl_str (json_node_get_object (reply), "sdc"));
  return 0;
}

static int
cmd_test (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (JsonNode) reply = NULL;
  g_autoptr (EsactlTable) t = NULL;
  JsonArray *routes;
  int rc = esactl_call (opts, "POST", "/v1/test", NULL, &reply);
  gboolean ok;
  if (rc != 0)
    return rc;
  ok = json_object_get_boolean_member (json_node_get_object (reply), "ok");
  if (opts->json)
    {
      esactl_print_json (reply);
      return ok ? 0 : ESACTL_EXIT_CONNECTIVITY;
    }
  routes = json_object_get_array_member (json_node_get_object (reply), "routes");
  t = esactl_table_new ("ROUTE", "DNS", "TCP", "PROXY", "TLS", "PEER", "HTTP", "MS", "RESULT", NULL);
  for (guint i = 0; i < json_array_get_length (routes); i++)
    {
      JsonObject *r = json_array_get_object_element (routes, i);
      g_autofree char *dns = g_strdup_printf ("%" G_GINT64_FORMAT "ms", json_object_get_int_member (r, "dns_ms"));
      g_autofree char *tcp = g_strdup_printf ("%" G_GINT64_FORMAT "ms", json_object_get_int_member (r, "tcp_ms"));
      g_autofree char *proxy = json_object_has_member (r, "proxy_status")
          ? g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (r, "proxy_status")) : g_strdup ("-");
      g_autofree char *tls = json_object_has_member (r, "tls_version")
          ? g_strdup_printf ("%s %s", esactl_str (r, "tls_version"), esactl_str (r, "tls_cipher")) : g_strdup ("-");
      g_autofree char *http = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (r, "http_status"));
      g_autofree char *ms = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (r, "elapsed_ms"));
      g_autofree char *route = g_strdup_printf ("%s%s", g_str_equal (esactl_str (r, "kind"), "https") ? "" : "[http config] ",
                                                esactl_str (r, "route"));
      /* the result line starts with the route, which the first column shows */
      const char *result = esactl_str (r, "result");
      g_autofree char *prefix = g_strdup_printf ("%s: ", esactl_str (r, "route"));
      if (g_str_has_prefix (result, prefix))
        result += strlen (prefix);
      esactl_table_add (t, route, dns, tcp, proxy, tls, esactl_str (r, "tls_peer"), http, ms,
                        json_object_get_boolean_member (r, "ok") ? "OK" : result, NULL);
    }
  if (!opts->quiet)
    {
      esactl_table_print (t);
      g_print ("\n");
    }
  g_print ("%s\n", ok ? "connectivity OK: at least one route works" : "connectivity FAILED: no route works");
  return ok ? 0 : ESACTL_EXIT_CONNECTIVITY;
}

/* What the SDC said about a delivered report, in words (its JSON is for --json). */
static char *
answer_words (JsonNode *answer)
{
  JsonObject *a = answer != NULL && JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  const char *status = a ? esa_json_peek_string (a, "status") : NULL;
  const char *sr = a ? esa_json_peek_string (a, "service_request") : NULL;
  if (sr != NULL)
    return g_strdup_printf ("%s, service request %s", status ? status : "accepted", sr);
  return g_strdup (status ? status : "accepted");
}

/* Prints what a send pass did; exit 0 only when nothing failed. A report
 * appears once: the sender lists each UUID once in delivered[] and failed[]. */
static int
print_pass (EsactlOptions *opts, JsonNode *reply, const char *want_kind)
{
  JsonObject *o = json_node_get_object (reply);
  JsonArray *delivered = json_object_get_array_member (o, "delivered");
  JsonArray *failed = json_object_get_array_member (o, "failed");
  gboolean found = want_kind == NULL;
  if (opts->json)
    esactl_print_json (reply);
  for (guint i = 0; i < json_array_get_length (delivered); i++)
    {
      JsonObject *d = json_array_get_object_element (delivered, i);
      g_autofree char *text = answer_words (json_object_get_member (d, "answer"));
      found |= g_strcmp0 (want_kind, esactl_str (d, "kind")) == 0;
      if (!opts->json && !opts->quiet)
        g_print ("sent %s %s: %s\n  via %s\n", esactl_str (d, "kind"), esactl_str (d, "uuid"), text,
                 esactl_str (d, "route"));
    }
  for (guint i = 0; i < json_array_get_length (failed); i++)
    {
      JsonObject *f = json_array_get_object_element (failed, i);
      if (!opts->json)
        g_printerr ("not sent %s %s (%s): %s\n", esactl_str (f, "kind"), esactl_str (f, "uuid"),
                    json_object_get_boolean_member (f, "final") ? "rejected, in failed/" : "kept in queue, will retry",
                    esactl_str (f, "reason"));
    }
  /* The pass's message says why nothing went; the failure lines said it already. */
  if (!opts->json && json_object_has_member (o, "message") && json_array_get_length (delivered) == 0 &&
      json_array_get_length (failed) == 0)
    g_printerr ("%s\n", esactl_str (o, "message"));
  if (!opts->json && !opts->quiet)
    g_print ("%" G_GINT64_FORMAT " report(s) still queued\n", json_object_get_int_member (o, "pending"));
  if (json_array_get_length (failed) > 0 || !found)
    return ESACTL_EXIT_CONNECTIVITY;
  return 0;
}

static int
send_job (EsactlOptions *opts, const char *job, const char *kind)
{
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  int rc;
  if (job != NULL)
    json_object_set_string_member (o, "job", job);
  json_node_set_object (body, o);
  rc = esactl_call (opts, "POST", "/v1/send", body, &reply);
  if (rc != 0)
    return rc;
  return print_pass (opts, reply, kind);
}

static int
cmd_heartbeat (EsactlOptions *opts, int argc, char **argv)
{
  return send_job (opts, "heartbeat", "heartbeat");
}

static int
cmd_queue_send (EsactlOptions *opts, int argc, char **argv)
{
  return send_job (opts, NULL, NULL);
}

static int
cmd_queue_export (EsactlOptions *opts, int argc, char **argv)
{
  gboolean keep = FALSE;
  GOptionEntry entries[] = {
    { "keep", 'k', 0, G_OPTION_ARG_NONE, &keep, "Leave the reports in the queue too", NULL },
    { NULL },
  };
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *dir = NULL;
  int rc;
  if (!esactl_parse_options (opts, "queue export", &argc, &argv, entries, &rc))
    return rc;
  if (argc != 1)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "queue export: expected one folder (esactl queue export DIR)");
  dir = g_canonicalize_filename (argv[0], NULL);
  json_object_set_string_member (o, "dir", dir);
  json_object_set_boolean_member (o, "keep", keep);
  json_node_set_object (body, o);
  rc = esactl_call (opts, "POST", "/v1/queue/export", body, &reply);
  if (rc != 0)
    return rc;
  if (opts->json)
    esactl_print_json (reply);
  else if (!opts->quiet)
    g_print ("exported %u report(s) to %s%s\n",
             json_array_get_length (json_object_get_array_member (json_node_get_object (reply), "exported")), dir,
             keep ? " (kept in the queue)" : "");
  return 0;
}

static int
cmd_queue_retry (EsactlOptions *opts, int argc, char **argv)
{
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) reply = NULL;
  int rc;
  if (argc != 1)
    return esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "queue retry: expected the UUID of a failed report");
  json_object_set_string_member (o, "uuid", argv[0]);
  json_node_set_object (body, o);
  rc = esactl_call (opts, "POST", "/v1/queue/retry", body, &reply);
  if (rc == 0 && opts->json)
    esactl_print_json (reply);
  else if (rc == 0 && !opts->quiet)
    g_print ("requeued %s\n", argv[0]);
  return rc;
}

const EsactlCommand esactl_connect_commands[] = {
  { NULL, "activate", "--server URL [--contact-name N --contact-email E --contact-phone P]",
    "register this system with the SDC", cmd_activate },
  { NULL, "deactivate", "[--local]", "tell the SDC, then forget the activation credentials", cmd_deactivate },
  { NULL, "test", "", "try every route to the SDC and show what worked", cmd_test },
  { NULL, "heartbeat", "", "send a heartbeat now and print the SDC's answer", cmd_heartbeat },
  { "queue", "send", "", "try to send everything queued now", cmd_queue_send },
  { "queue", "export", "DIR [--keep]", "write queued reports to DIR (file transport)", cmd_queue_export },
  { "queue", "retry", "UUID", "put a rejected report back in the queue", cmd_queue_retry },
  { NULL, NULL, NULL, NULL, NULL },
};
