/* test-identity-e2e.c: who a system is to the SDC, end to end with esad, esactl and
 * esa-sdc on loopback (AIX fakes): two LPARs of one frame are two systems and both
 * deliver; a stranger's re-registration waits for the admin while the real agent works;
 * a refused credential shows in `esactl status` and keeps the reports queued until a
 * new (approved) activation; the contact; deactivation. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "esa-test-util.h"
#include "test-transport-util.h"

/* An esad of its own (@lpar "N NAME" of the p10-lpar frame) that reaches @sdc's SDC. */
/* @extra_env: one more NAME=VALUE for esad, or NULL */
static EtWorld *
agent_of_env (EtWorld *sdc, const char *lpar, const char *extra_env)
{
  EtWorld *w = et_world_new (NULL);
  g_autofree char *lpar_env = g_strdup_printf ("ESA_FAKE_AIX_LPAR=%s", lpar);
  const char *env[] = { "ESA_FAKE_AIX_MACHINE=p10-lpar", lpar_env, extra_env, NULL };
  g_autofree char *text = g_strdup_printf ("[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\ntimeout=20s\n",
                                           sdc->port, sdc->sdc_dir);
  et_write_conf (w, text);
  et_esad_start (w, env);
  return w;
}

static EtWorld *
agent_of (EtWorld *sdc, const char *lpar)
{
  return agent_of_env (sdc, lpar, NULL);
}

static int
activate (EtWorld *w, EtWorld *sdc, char **out, char **err)
{
  g_autofree char *server = g_strdup_printf ("https://localhost:%u/", sdc->port);
  int rc = et_esactl (w, out, err, "activate", "--server", server, NULL);
  g_test_message ("activate: %d %s%s", rc, *out, *err);
  return rc;
}

static char *
activated_id (EtWorld *w, EtWorld *sdc)
{
  g_autofree char *out = NULL, *err = NULL;
  const char *p;
  g_assert_cmpint (activate (w, sdc, &out, &err), ==, 0);
  p = strstr (out, "ESA-");
  g_assert_nonnull (p);
  return g_strndup (p, 20);
}

static int
heartbeat (EtWorld *w)
{
  g_autofree char *out = NULL, *err = NULL;
  int rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_test_message ("heartbeat: %d %s%s", rc, out, err);
  return rc;
}

static JsonNode *
sdc_json (EtWorld *sdc, const char *what, const char *more)
{
  g_autofree char *bin = et_bin ("sdc/esa-sdc");
  const char *argv[] = { bin, "systems", more ? more : "--json", "--dir", sdc->sdc_dir, more ? "--json" : NULL, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_cmpstr (what, ==, "systems");
  g_assert_cmpint (esa_test_run (argv, &out, &err), ==, 0);
  g_assert_true (json_parser_load_from_data (p, out, -1, NULL));
  return json_node_copy (json_parser_get_root (p));
}

static JsonObject *
sdc_system (EtWorld *sdc, const char *id)
{
  g_autoptr (JsonNode) n = sdc_json (sdc, "systems", NULL);
  JsonArray *a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member (o, "system_id"), id) == 0)
        return json_object_ref (o);
    }
  g_error ("%s is not at the SDC", id);
}

static void
test_two_lpars (void)
{
  g_autoptr (EtWorld) sdc = et_world_new (NULL);
  g_autoptr (EtWorld) lpar5 = NULL;
  g_autoptr (EtWorld) lpar6 = NULL;
  g_autoptr (EtWorld) stranger = NULL;
  g_autofree char *id5 = NULL;
  g_autofree char *id6 = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonObject) s5 = NULL;
  g_autoptr (JsonObject) s6 = NULL;

  et_sdc_start (sdc, NULL);
  lpar5 = agent_of (sdc, "5 lpar05");
  lpar6 = agent_of (sdc, "6 lpar06");
  id5 = activated_id (lpar5, sdc);
  id6 = activated_id (lpar6, sdc);
  g_assert_cmpstr (id5, !=, id6);
  /* the first LPAR's credentials still work after the second activated */
  g_assert_cmpint (heartbeat (lpar5), ==, 0);
  g_assert_cmpint (heartbeat (lpar6), ==, 0);
  s5 = sdc_system (sdc, id5);
  s6 = sdc_system (sdc, id6);
  /* one frame, two partitions */
  g_assert_cmpstr (json_object_get_string_member (s5, "serial"), ==, json_object_get_string_member (s6, "serial"));
  g_assert_cmpstr (json_object_get_string_member (s5, "machine_type"), ==, "9105");
  g_assert_cmpint (json_object_get_int_member (s5, "lpar_id"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (s6, "lpar_id"), ==, 6);
  g_assert_cmpstr (json_object_get_string_member (s6, "lpar_name"), ==, "lpar06");
  g_assert_nonnull (json_object_get_string_member (s6, "last_seen"));
  g_assert_nonnull (json_object_get_string_member (s5, "last_seen"));
  /* `esactl status` shows the partition */
  g_assert_cmpint (et_esactl (lpar6, &out, &err, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "partition:  LPAR 6 lpar06"));

  /* a stranger claiming LPAR 5 (same type, serial, partition; no credentials) is
   * held for the admin, and the real LPAR 5 keeps working */
  stranger = agent_of (sdc, "5 lpar05");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (activate (stranger, sdc, &out, &err), ==, 5);
  g_assert_nonnull (strstr (err, "activation pending"));
  g_assert_nonnull (strstr (err, "esa-sdc systems approve REG-"));
  g_assert_cmpint (heartbeat (lpar5), ==, 0);
  g_assert_cmpint (heartbeat (stranger), !=, 0);
}

/* A 401 shows in status and keeps the report queued; activating again without valid
 * credentials waits for the admin's approval, then the queue goes out. */
static void
test_refused_credentials (void)
{
  g_autoptr (EtWorld) sdc = et_world_new (NULL);
  g_autoptr (EtWorld) w = NULL;
  g_autofree char *id = NULL;
  g_autofree char *creds_path = NULL;
  g_autofree char *creds = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *reg = NULL;
  g_autofree char *bin = et_bin ("sdc/esa-sdc");
  g_autoptr (JsonNode) queue = NULL;
  g_autoptr (GRegex) re = g_regex_new ("\"password\" : \"[^\"]*\"", 0, 0, NULL);
  const char *p;

  et_sdc_start (sdc, NULL);
  w = agent_of (sdc, "7 lpar07");
  id = activated_id (w, sdc);
  /* the SDC no longer takes our password (as after a takeover or a reset there) */
  creds_path = g_build_filename (w->state_dir, "credentials", NULL);
  g_assert_true (g_file_get_contents (creds_path, &creds, NULL, NULL));
  {
    g_autofree char *bad = g_regex_replace_literal (re, creds, -1, 0, "\"password\" : \"wrong\"", 0, NULL);
    g_assert_cmpstr (bad, !=, creds);
    esa_test_write_file (creds_path, bad, 0600);
  }
  g_assert_cmpint (heartbeat (w), !=, 0);
  g_assert_cmpint (et_esactl (w, &out, &err, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "credentials refused by the SDC since "));
  g_assert_nonnull (strstr (out, "run esactl activate"));
  queue = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (queue), "queued")), ==, 1);

  /* activate again: the refused credentials prove nothing, so the admin decides */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (activate (w, sdc, &out, &err), ==, 5);
  p = strstr (err, "approve REG-");
  g_assert_nonnull (p);
  reg = g_strndup (p + strlen ("approve "), 20);
  {
    const char *argv[] = { bin, "systems", "approve", reg, "--dir", sdc->sdc_dir, NULL };
    g_assert_cmpint (esa_test_run (argv, NULL, NULL), ==, 0);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (activate (w, sdc, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, id)); /* the same system */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (et_esactl (w, &out, NULL, "status", NULL), ==, 0);
  g_assert_null (strstr (out, "credentials refused"));
  g_assert_cmpint (heartbeat (w), ==, 0);
  g_clear_pointer (&queue, json_node_unref);
  queue = et_queue_list (w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (queue), "queued")), ==, 0);
}

/* A registration the SDC holds for its admin is asked again by esad itself
 * (backoff; ESA_FAKE_REGISTRATION_POLL_MS makes the first wait 200 ms):
 * status and info say "registration pending approval since …" meanwhile;
 * once `esa-sdc systems approve` ran, esad is activated (the same system) and
 * delivers the queued report — nobody runs esactl activate again. */
static void
test_pending_polled (void)
{
  g_autoptr (EtWorld) sdc = et_world_new (NULL);
  g_autoptr (EtWorld) w = NULL;
  g_autofree char *id = NULL, *creds_path = NULL, *creds = NULL, *reg = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *bin = et_bin ("sdc/esa-sdc");
  g_autoptr (GRegex) re = g_regex_new ("\"password\" : \"[^\"]*\"", 0, 0, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *pending;
  gint64 deadline;
  guint asked;
  const char *p;

  et_sdc_start (sdc, NULL);
  w = agent_of_env (sdc, "8 lpar08", "ESA_FAKE_REGISTRATION_POLL_MS=200");
  id = activated_id (w, sdc);
  creds_path = g_build_filename (w->state_dir, "credentials", NULL);
  g_assert_true (g_file_get_contents (creds_path, &creds, NULL, NULL));
  {
    g_autofree char *bad = g_regex_replace_literal (re, creds, -1, 0, "\"password\" : \"wrong\"", 0, NULL);
    esa_test_write_file (creds_path, bad, 0600);
  }
  g_assert_cmpint (heartbeat (w), !=, 0); /* refused: stays queued */
  g_assert_cmpint (activate (w, sdc, &out, &err), ==, 5);
  g_assert_nonnull (strstr (err, "esad asks again by itself"));
  p = strstr (err, "approve REG-");
  g_assert_nonnull (p);
  reg = g_strndup (p + strlen ("approve "), 20);

  /* meanwhile: status and info say so, and esad asks again by itself */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "status", NULL), ==, 0);
  g_test_message ("status: %s", out);
  g_assert_nonnull (strstr (out, "registration pending approval since "));
  g_assert_nonnull (strstr (out, reg));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "info", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "registration pending approval since "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "--json", "status", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  pending = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "registration_pending");
  g_assert_cmpstr (json_object_get_string_member (pending, "registration"), ==, reg);
  g_assert_nonnull (json_object_get_string_member (pending, "since"));
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while ((asked = et_sdc_log_count (sdc, "path=/esa/v1/register", NULL)) < 4 && g_get_monotonic_time () < deadline)
    g_usleep (100 * 1000);
  g_test_message ("registrations asked: %u", asked);
  g_assert_cmpuint (asked, >=, 4); /* the first, the one with the wrong password, then esad's */
  g_assert_cmpuint (et_sdc_count_all (sdc), ==, 0);

  {
    const char *argv[] = { bin, "systems", "approve", reg, "--dir", sdc->sdc_dir, NULL };
    g_assert_cmpint (esa_test_run (argv, NULL, NULL), ==, 0);
  }
  /* approved: esad takes the credentials and the queue goes out */
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (et_sdc_count_all (sdc) < 1 && g_get_monotonic_time () < deadline)
    g_usleep (100 * 1000);
  if (et_sdc_count_all (sdc) != 1)
    {
      g_autofree char *log = NULL;
      g_file_get_contents (w->esad_log, &log, NULL, NULL);
      g_test_message ("esad log:\n%s", log);
    }
  g_assert_cmpuint (et_sdc_count_all (sdc), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "status", NULL), ==, 0);
  g_test_message ("status: %s", out);
  g_assert_null (strstr (out, "registration pending"));
  g_assert_null (strstr (out, "credentials refused"));
  g_assert_nonnull (strstr (out, id)); /* the same system */
  g_assert_nonnull (strstr (out, "queue:      0 waiting"));
}

/* The contact given at activation is kept; `contact set` reaches the SDC at once. */
static void
test_contact (void)
{
  g_autoptr (EtWorld) sdc = et_world_new (NULL);
  g_autoptr (EtWorld) w = NULL;
  g_autoptr (JsonObject) sys = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *server = NULL;
  g_autofree char *contact_path = NULL;
  g_autofree char *text = NULL;
  JsonObject *c;
  const char *id;
  GStatBuf st;

  et_sdc_start (sdc, NULL);
  w = agent_of (sdc, "8 lpar08");
  /* not activated: kept here, said so, not an error */
  g_assert_cmpint (et_esactl (w, &out, &err, "contact", "set", "--phone", "+1 555 0100", NULL), ==, 0);
  g_assert_nonnull (strstr (err, "not activated"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  server = g_strdup_printf ("https://localhost:%u/", sdc->port);
  g_assert_cmpint (et_esactl (w, &out, &err, "activate", "--server", server, "--contact-name", "Bob Builder",
                              "--contact-email", "bob@example.com", NULL), ==, 0);
  id = strstr (out, "ESA-");
  g_assert_nonnull (id);
  sys = sdc_system (sdc, (text = g_strndup (id, 20)));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (et_esactl (w, &out, NULL, "contact", "show", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Bob Builder"));
  g_assert_nonnull (strstr (out, "the state dir"));
  contact_path = g_build_filename (w->state_dir, "contact", NULL);
  g_assert_cmpint (g_stat (contact_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "contact", "set", "--email", "grace@example.com", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "sent to the SDC"));
  g_clear_pointer (&sys, json_object_unref);
  sys = sdc_system (sdc, text);
  c = json_object_get_object_member (sys, "contact");
  g_assert_cmpstr (json_object_get_string_member (c, "name"), ==, "Bob Builder");
  g_assert_cmpstr (json_object_get_string_member (c, "email"), ==, "grace@example.com");

  /* a damaged contact file is an error naming it, not esa.conf's contact */
  esa_test_write_file (contact_path, "{\"name\": 5}", 0600);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "contact", "show", NULL), !=, 0);
  g_assert_nonnull (strstr (err, contact_path));
  g_assert_nonnull (strstr (err, "name: expected string"));
}

/* deactivate tells the SDC (which then refuses the credentials); unreachable, it
 * keeps them unless --local. */
static void
test_deactivate (void)
{
  g_autoptr (EtWorld) sdc = et_world_new (NULL);
  g_autoptr (EtWorld) w = NULL;
  g_autofree char *id = NULL;
  g_autofree char *again = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonObject) sys = NULL;

  et_sdc_start (sdc, NULL);
  w = agent_of (sdc, "9 lpar09");
  id = activated_id (w, sdc);
  g_assert_cmpint (et_esactl (w, &out, &err, "deactivate", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "SDC: deactivated"));
  sys = sdc_system (sdc, id);
  g_assert_nonnull (json_object_get_string_member (sys, "deactivated"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (et_esactl (w, &out, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "activated:  no"));
  /* a deactivated system comes back without the admin: nobody else was using it */
  again = activated_id (w, sdc);
  g_assert_cmpstr (again, ==, id);
  g_assert_cmpint (heartbeat (w), ==, 0);

  et_sdc_stop (sdc);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "deactivate", NULL), ==, 6);
  g_assert_nonnull (strstr (err, "cannot tell the SDC"));
  g_assert_nonnull (strstr (err, "--local"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (et_esactl (w, &out, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, id)); /* still activated */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (w, &out, &err, "deactivate", "--local", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "not told (--local)"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (et_esactl (w, &out, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "activated:  no"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/identity-e2e/two-lpars", test_two_lpars);
  g_test_add_func ("/identity-e2e/refused-credentials", test_refused_credentials);
  g_test_add_func ("/identity-e2e/pending-polled", test_pending_polled);
  g_test_add_func ("/identity-e2e/contact", test_contact);
  g_test_add_func ("/identity-e2e/deactivate", test_deactivate);
  return g_test_run ();
}
