/* test-uak-e2e.c: the uak plugin in a real esad against a real esa-sdc over
 * TLS on loopback — a good key applied, a bad signature, an older key, an
 * expired AIX key renewed through the fake uak_update, and no request at all
 * when the key is not yet due. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "esa-test-util.h"
#include "test-transport-util.h"

typedef struct {
  EtWorld *w;
  char *key_file;
  char *fake_uak;
} Fixture;

static char *
days_from_today (int days)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) then = g_date_time_add_days (now, days);
  return g_date_time_format (then, "%Y%m%d");
}

/* esa.conf with heartbeat + uak and [plugin.uak] @uak_keys */
static void
write_conf (Fixture *f, const char *uak_keys)
{
  g_autofree char *text = g_strdup_printf ("[agent]\nstate-dir=%s\nplugin-dir=%s/plugins\n"
                                           "[plugins]\nenabled=heartbeat;uak\n"
                                           "[activation]\nvendors=*\n"
                                           "[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\n"
                                           "[plugin.uak]\npublic-key=%s/uak-pub.pem\n%s",
                                           f->w->state_dir, f->w->dir, f->w->port, f->w->sdc_dir,
                                           f->w->sdc_dir, uak_keys);
  esa_test_write_file (f->w->conf, text, 0644);
}

static void
setup (Fixture *f, const char *const *sdc_args, const char *uak_keys, const char *const *env)
{
  f->w = et_world_new (NULL);
  f->key_file = g_build_filename (f->w->dir, "uak", "current.key", NULL);
  f->fake_uak = g_build_filename (f->w->dir, "fake-uak", NULL);
  et_install_plugin (f->w, "uak");
  et_sdc_start (f->w, sdc_args);
  write_conf (f, uak_keys);
  et_esad_start (f->w, env);
  et_activate (f->w);
}

static void
teardown (Fixture *f)
{
  g_clear_pointer (&f->w, et_world_free);
  g_free (f->key_file);
  g_free (f->fake_uak);
}

/* The uak-status reports the SDC stored (waits up to 20 s for @n). */
static JsonArray *
wait_uak_status (Fixture *f, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (JsonNode) all = et_sdc_reports (f->w);
      JsonArray *a = json_node_get_array (all);
      JsonArray *found = json_array_new ();
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonObject *r = json_array_get_object_element (a, i);
          if (g_strcmp0 (json_object_get_string_member (r, "kind"), "uak-status") == 0)
            json_array_add_object_element (found, json_object_ref (r));
        }
      if (json_array_get_length (found) >= n || g_get_monotonic_time () > deadline)
        return found;
      json_array_unref (found);
      g_usleep (100 * 1000);
    }
}

/* `esactl uak WHAT` must succeed; its output. */
static char *
uak_ok (Fixture *f, const char *what)
{
  g_autofree char *err = NULL;
  char *out = NULL;
  int rc = et_esactl (f->w, &out, &err, "uak", what, NULL);
  g_test_message ("uak %s: %s%s", what, out, err);
  g_assert_cmpint (rc, ==, 0);
  return out;
}

static char *
read_file (const char *path)
{
  char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

static void
write_key_file (Fixture *f, const char *text)
{
  esa_test_write_file (f->key_file, text, 0600);
}

static char *
file_keys (Fixture *f)
{
  return g_strdup_printf ("backend=file\nkey-file=%s\n", f->key_file);
}

static void
test_good_key (void)
{
  Fixture f = { 0 };
  g_autofree char *soon = days_from_today (10);
  g_autofree char *keys = NULL;
  g_autofree char *out = NULL, *err = NULL, *text = NULL;
  g_autofree char *expect = NULL;
  g_autoptr (JsonArray) reports = NULL;
  JsonObject *body;
  int rc;

  setup (&f, NULL, "", NULL);
  keys = file_keys (&f);
  /* esad read the config at start; restart with the key file in place */
  et_esad_stop (f.w);
  write_conf (&f, keys);
  write_key_file (&f, soon);
  et_esad_start (f.w, NULL);

  rc = et_esactl (f.w, &out, &err, "uak", "update", NULL);
  g_test_message ("uak update: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (g_str_has_prefix (out, "applied: new key applied"));
  text = read_file (f.key_file);
  g_assert_true (g_str_has_prefix (text, "UAK1;machine_type=9009;serial=78ABCDE;expires="));
  reports = wait_uak_status (&f, 1);
  g_assert_cmpuint (json_array_get_length (reports), ==, 1);
  body = json_object_get_object_member (json_array_get_object_element (reports, 0), "body");
  g_assert_cmpstr (json_object_get_string_member (body, "status"), ==, "applied");
  g_assert_cmpstr (json_object_get_string_member (body, "previous_expiry"), ==, soon);
  g_assert_cmpstr (json_object_get_string_member (body, "serial"), ==, "78ABCDE");
  expect = g_strdup_printf ("expires=%s", json_object_get_string_member (body, "expires"));
  g_assert_nonnull (strstr (text, expect));
  g_assert_cmpint (json_object_get_int_member (body, "days_left"), >, 300);

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (f.w, &out, &err, "uak", "status", NULL);
  g_test_message ("uak status: %s", out);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "current key:  UAK1;machine_type=9009"));
  g_assert_nonnull (strstr (out, "last result:  applied"));
  g_assert_nonnull (strstr (out, "last error:   none"));
  teardown (&f);
}

static void
refused (const char *sdc_flag, int current_days, const char *reason)
{
  Fixture f = { 0 };
  const char *sdc_args[] = { sdc_flag, NULL };
  g_autofree char *current = days_from_today (current_days);
  g_autofree char *keys = NULL;
  g_autofree char *out = NULL, *err = NULL, *before = NULL, *after = NULL, *log = NULL;
  g_autoptr (JsonArray) reports = NULL;
  JsonObject *body;
  int rc;

  f.w = et_world_new (NULL);
  f.key_file = g_build_filename (f.w->dir, "uak", "current.key", NULL);
  et_install_plugin (f.w, "uak");
  et_sdc_start (f.w, sdc_args);
  keys = file_keys (&f);
  write_conf (&f, keys);
  before = g_strdup_printf ("%s\n", current);
  write_key_file (&f, before);
  et_esad_start (f.w, NULL);
  et_activate (f.w);

  rc = et_esactl (f.w, &out, &err, "uak", "update", NULL);
  g_test_message ("uak update: %s%s", out, err);
  g_assert_cmpint (rc, ==, 5);
  g_assert_true (g_str_has_prefix (out, "refused: key refused"));
  /* nothing applied */
  after = read_file (f.key_file);
  g_assert_cmpstr (after, ==, before);
  reports = wait_uak_status (&f, 1);
  g_assert_cmpuint (json_array_get_length (reports), ==, 1);
  body = json_object_get_object_member (json_array_get_object_element (reports, 0), "body");
  g_assert_cmpstr (json_object_get_string_member (body, "status"), ==, "refused");
  g_assert_cmpstr (json_object_get_string_member (body, "reason"), ==, reason);
  g_assert_cmpstr (json_object_get_string_member (body, "expires"), ==, current);
  /* the admin sees it: esad's log and esactl uak status */
  log = read_file (f.w->esad_log);
  g_assert_nonnull (strstr (log, "renewal failed: key refused"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (f.w, &out, &err, "uak", "status", NULL), ==, 0);
  g_test_message ("uak status: %s", out);
  g_assert_nonnull (strstr (out, "last result:  refused"));
  g_assert_nonnull (strstr (out, "last error:   key refused"));
  teardown (&f);
}

static void
test_bad_signature (void)
{
  refused ("--uak-bad-signature", 10, "bad-signature");
}

static void
test_older (void)
{
  refused ("--uak-older", 10, "not-newer");
}

/* AIX, POWER8 with a key that expired in 2019: the daily check renews it
 * through uak_update (fake) and lscfg then shows the new date. */
static void
test_aix_expired (void)
{
  Fixture f = { 0 };
  g_autofree char *env_machine = g_strdup ("ESA_FAKE_AIX_MACHINE=p8-old");
  g_autofree char *env_uak = NULL;
  g_autofree char *out = NULL, *err = NULL, *state = NULL;
  g_autofree char *expect = days_from_today (365);
  g_autoptr (JsonArray) reports = NULL;
  const char *env[3] = { NULL };
  JsonObject *body;

  f.w = et_world_new (NULL);
  f.fake_uak = g_build_filename (f.w->dir, "fake-uak", NULL);
  env_uak = g_strdup_printf ("ESA_FAKE_UAK_FILE=%s", f.fake_uak);
  env[0] = env_machine;
  env[1] = env_uak;
  esa_test_write_file (f.fake_uak, "", 0600); /* empty: the variant's 20190301 */
  et_install_plugin (f.w, "uak");
  et_sdc_start (f.w, NULL);
  write_conf (&f, "backend=aix\n");
  et_esad_start (f.w, env);
  et_activate (f.w);

  /* issue 12: a key that expired long ago says so, not "-2827 days left" */
  out = uak_ok (&f, "status");
  g_assert_nonnull (strstr (out, "expiry:       20190301 (expired on 2019-03-01)"));
  g_assert_null (strstr (out, "days left"));
  /* POWER8: no AIX key to keep */
  g_assert_null (strstr (out, "AIX key"));
  g_clear_pointer (&out, g_free);

  out = uak_ok (&f, "check");
  g_assert_true (g_str_has_prefix (out, "applied:"));
  g_assert_null (strstr (out, "AIX key"));
  state = read_file (f.fake_uak);
  g_assert_true (g_str_has_prefix (state, expect));
  reports = wait_uak_status (&f, 1);
  g_assert_cmpuint (json_array_get_length (reports), ==, 1);
  body = json_object_get_object_member (json_array_get_object_element (reports, 0), "body");
  g_assert_cmpstr (json_object_get_string_member (body, "status"), ==, "applied");
  g_assert_cmpstr (json_object_get_string_member (body, "previous_expiry"), ==, "20190301");
  g_assert_cmpstr (json_object_get_string_member (body, "expires"), ==, expect);
  g_assert_cmpstr (json_object_get_string_member (body, "machine_type"), ==, "8286");
  g_assert_cmpstr (json_object_get_string_member (body, "backend"), ==, "aix");
  teardown (&f);
}

/* Issue 12, seed feature: the POWER10 AIX Update Access Key (lparstat -u
 * "AIX Update Access Key Expiration") is checked and renewed like the
 * firmware key, on its own expiry, with a key the SDC marks key=aix. */
static void
test_aix_key_p10 (void)
{
  Fixture f = { 0 };
  g_autofree char *env_uak = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *far = days_from_today (200);
  g_autofree char *soon = days_from_today (10);
  g_autofree char *expect = days_from_today (10 + 365);
  g_autofree char *aix_file = NULL, *aix_key = NULL, *aix_state = NULL, *fw_state = NULL;
  g_autoptr (JsonArray) reports = NULL;
  const char *env[3] = { "ESA_FAKE_AIX_MACHINE=p10-lpar", NULL, NULL };
  JsonObject *body;

  f.w = et_world_new (NULL);
  f.fake_uak = g_build_filename (f.w->dir, "fake-uak", NULL);
  aix_file = g_strconcat (f.fake_uak, ".aix", NULL);
  env_uak = g_strdup_printf ("ESA_FAKE_UAK_FILE=%s", f.fake_uak);
  env[1] = env_uak;
  /* the firmware key is far from expiry, the AIX key expires in 10 days */
  esa_test_write_file (f.fake_uak, far, 0600);
  esa_test_write_file (aix_file, soon, 0600);
  et_install_plugin (f.w, "uak");
  et_sdc_start (f.w, NULL);
  write_conf (&f, "backend=aix\n");
  et_esad_start (f.w, env);
  et_activate (f.w);

  out = uak_ok (&f, "status");
  {
    g_autofree char *line = g_strdup_printf ("AIX key:      %s (10 days left)", soon);
    g_assert_nonnull (strstr (out, line));
  }
  g_clear_pointer (&out, g_free);

  out = uak_ok (&f, "check");
  g_assert_true (g_str_has_prefix (out, "not-due:"));
  g_assert_nonnull (strstr (out, "\nAIX key applied: new AIX key applied: expires"));
  /* only the AIX key changed, and uak_update got a key marked key=aix */
  fw_state = read_file (f.fake_uak);
  aix_state = read_file (aix_file);
  g_assert_true (g_str_has_prefix (fw_state, far));
  g_assert_true (g_str_has_prefix (aix_state, expect));
  aix_key = g_strconcat (aix_file, ".key", NULL);
  g_clear_pointer (&fw_state, g_free);
  fw_state = read_file (aix_key);
  g_assert_true (g_str_has_prefix (fw_state, "UAK1;key=aix;machine_type=9105;serial=78A1B2C;"));

  reports = wait_uak_status (&f, 1);
  g_assert_cmpuint (json_array_get_length (reports), ==, 1);
  body = json_object_get_object_member (json_array_get_object_element (reports, 0), "body");
  g_assert_cmpstr (json_object_get_string_member (body, "key"), ==, "aix");
  g_assert_cmpstr (json_object_get_string_member (body, "status"), ==, "applied");
  g_assert_cmpstr (json_object_get_string_member (body, "previous_expiry"), ==, soon);
  g_assert_cmpstr (json_object_get_string_member (body, "expires"), ==, expect);

  g_clear_pointer (&out, g_free);
  out = uak_ok (&f, "status");
  {
    g_autofree char *line = g_strdup_printf ("AIX key:      %s (375 days left)", expect);
    g_assert_nonnull (strstr (out, line));
    g_assert_nonnull (strstr (out, "AIX key last: applied"));
  }
  teardown (&f);
}

static void
test_not_due (void)
{
  Fixture f = { 0 };
  g_autofree char *far = days_from_today (200);
  g_autofree char *keys = NULL, *out = NULL, *err = NULL;
  g_autoptr (JsonNode) all = NULL;
  JsonArray *a;
  int rc;

  f.w = et_world_new (NULL);
  f.key_file = g_build_filename (f.w->dir, "uak", "current.key", NULL);
  et_install_plugin (f.w, "uak");
  et_sdc_start (f.w, NULL);
  keys = file_keys (&f);
  write_conf (&f, keys);
  write_key_file (&f, far);
  et_esad_start (f.w, NULL);
  et_activate (f.w);

  rc = et_esactl (f.w, &out, &err, "uak", "check", NULL);
  g_test_message ("uak check: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (g_str_has_prefix (out, "not-due:"));
  /* let anything queued go out, then look: no request, no report */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  et_esactl (f.w, &out, &err, "queue", "send", NULL);
  g_assert_cmpuint (et_sdc_log_count (f.w, "path=/esa/v1/uak ", NULL), ==, 0);
  g_assert_cmpuint (et_sdc_log_count (f.w, "path=/esa/v1/uak-status", NULL), ==, 0);
  all = et_sdc_reports (f.w);
  a = json_node_get_array (all);
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, i), "kind"), !=, "uak-status");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (f.w, &out, &err, "uak", "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "last result:  not-due"));
  teardown (&f);
}

/* esactl preview uak-status: the report the check sends, read the way the
 * plugin reads the key (the fake lscfg on a POWER8 whose key expired in
 * 2019), but no renewal asked, no key written, no state changed, nothing
 * queued or at the SDC. It equals what `esactl uak check` then sends but for
 * the outcome of the renewal (status, reason, message, expires, days_left)
 * and trigger. A key that is not due: no report, and the reason. */
static void
test_preview (void)
{
  Fixture f = { 0 };
  g_autofree char *env_machine = g_strdup ("ESA_FAKE_AIX_MACHINE=p8-old");
  g_autofree char *env_uak = NULL;
  g_autofree char *out = NULL, *err = NULL, *state_path = NULL, *after = NULL;
  g_autoptr (JsonNode) prev = NULL, q = NULL;
  g_autoptr (JsonArray) reports = NULL;
  const char *env[3] = { NULL };
  const char *outcome[] = { "status", "reason", "message", "expires", "days_left", "trigger" };
  JsonObject *r, *pbody, *sbody;
  JsonArray *built;
  int rc;

  f.w = et_world_new (NULL);
  f.fake_uak = g_build_filename (f.w->dir, "fake-uak", NULL);
  env_uak = g_strdup_printf ("ESA_FAKE_UAK_FILE=%s", f.fake_uak);
  env[0] = env_machine;
  env[1] = env_uak;
  esa_test_write_file (f.fake_uak, "", 0600);
  et_install_plugin (f.w, "uak");
  et_sdc_start (f.w, NULL);
  write_conf (&f, "backend=aix\n");
  et_esad_start (f.w, env);
  et_activate (f.w);
  state_path = g_build_filename (f.w->state_dir, "plugins", "uak", "state.json", NULL);

  rc = et_esactl (f.w, &out, &err, "--json", "preview", "uak-status", NULL);
  g_test_message ("preview uak-status: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  {
    g_autoptr (JsonParser) p = json_parser_new ();
    g_assert_true (json_parser_load_from_data (p, out, -1, NULL));
    prev = json_node_copy (json_parser_get_root (p));
  }
  built = json_object_get_array_member (json_node_get_object (prev), "reports");
  g_assert_cmpuint (json_array_get_length (built), ==, 1);
  r = json_array_get_object_element (built, 0);
  g_assert_cmpstr (json_object_get_string_member (r, "kind"), ==, "uak-status");
  pbody = json_object_get_object_member (json_object_get_object_member (r, "body"), "body");
  g_assert_cmpstr (json_object_get_string_member (pbody, "status"), ==, "due");
  g_assert_cmpstr (json_object_get_string_member (pbody, "previous_expiry"), ==, "20190301");
  g_assert_cmpstr (json_object_get_string_member (pbody, "trigger"), ==, "scheduled");
  /* it changed nothing: no renewal asked, the key as it was, no state, nothing queued or stored */
  after = read_file (f.fake_uak);
  g_assert_cmpstr (after, ==, "");
  g_assert_cmpuint (et_sdc_log_count (f.w, "path=/esa/v1/uak ", NULL), ==, 0);
  g_assert_false (g_file_test (state_path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (et_sdc_count_all (f.w), ==, 0);
  q = et_queue_list (f.w);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (q), "queued")), ==, 0);

  /* the human form: the manifest, then the body */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (et_esactl (f.w, &out, &err, "preview", "uak-status", NULL), ==, 0);
  g_test_message ("preview uak-status (human): %s", out);
  g_assert_true (g_str_has_prefix (out, "uak-status report "));
  g_assert_nonnull (strstr (out, "nothing sent"));
  g_assert_nonnull (strstr (out, "\"status\" : \"due\""));

  /* now for real */
  g_clear_pointer (&out, g_free);
  out = uak_ok (&f, "check");
  g_assert_true (g_str_has_prefix (out, "applied:"));
  reports = wait_uak_status (&f, 1);
  g_assert_cmpuint (json_array_get_length (reports), ==, 1);
  sbody = json_object_get_object_member (json_array_get_object_element (reports, 0), "body");
  g_assert_cmpstr (json_object_get_string_member (sbody, "status"), ==, "applied");
  for (guint i = 0; i < G_N_ELEMENTS (outcome); i++)
    {
      json_object_remove_member (sbody, outcome[i]);
      json_object_remove_member (pbody, outcome[i]);
    }
  {
    g_autoptr (JsonNode) a = json_node_init_object (json_node_alloc (), sbody);
    g_autoptr (JsonNode) b = json_node_init_object (json_node_alloc (), pbody);
    g_autofree char *ta = json_to_string (a, TRUE), *tb = json_to_string (b, TRUE);
    g_assert_cmpstr (ta, ==, tb);
  }

  /* the key is now far from expiry: the check would send nothing, and says why */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = et_esactl (f.w, &out, &err, "preview", "uak-status", NULL);
  g_test_message ("preview uak-status: %s%s", out, err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (g_str_has_prefix (out, "uak-status would send nothing now: not-due: the key expires"));
  teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add_func ("/uak-e2e/good-key", test_good_key);
  g_test_add_func ("/uak-e2e/bad-signature", test_bad_signature);
  g_test_add_func ("/uak-e2e/older-key", test_older);
  g_test_add_func ("/uak-e2e/aix-expired", test_aix_expired);
  g_test_add_func ("/uak-e2e/aix-key-p10", test_aix_key_p10);
  g_test_add_func ("/uak-e2e/not-due", test_not_due);
  g_test_add_func ("/uak-e2e/preview", test_preview);
  return g_test_run ();
}
