/* test-uak.c: the uak plugin's logic — key data, key files, the SDC's
 * answer (wrong types, missing fields, garbage base64), the GnuTLS signature
 * check with a real key pair from `esa-sdc init`, and both backends (file;
 * AIX through the fake commands). */
#include "config.h"

#include <esa/esa-plugin.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "esa-test-util.h"
#include "uak-private.h"

typedef struct {
  char *dir;
  char *sdc_dir;
  char *pub;
  gnutls_privkey_t key;
} Keys;

static Keys keys;

static void
keys_init (void)
{
  g_autofree char *sdc = esa_test_build_path ("sdc/esa-sdc");
  g_autofree char *pem = NULL;
  g_autofree char *priv = NULL;
  g_autofree char *out = NULL, *err = NULL;
  gnutls_datum_t d;
  gsize len = 0;
  const char *argv[] = { sdc, "init", NULL, NULL };
  keys.dir = esa_test_mkdtemp ("test-uak");
  keys.sdc_dir = g_build_filename (keys.dir, "sdc", NULL);
  argv[2] = keys.sdc_dir;
  g_assert_cmpint (esa_test_run (argv, &out, &err), ==, 0);
  keys.pub = g_build_filename (keys.sdc_dir, "uak-pub.pem", NULL);
  priv = g_build_filename (keys.sdc_dir, "uak-key.pem", NULL);
  g_assert_true (g_file_get_contents (priv, &pem, &len, NULL));
  d.data = (unsigned char *) pem;
  d.size = (unsigned) len;
  g_assert_cmpint (gnutls_privkey_init (&keys.key), ==, 0);
  g_assert_cmpint (gnutls_privkey_import_x509_raw (keys.key, &d, GNUTLS_X509_FMT_PEM, NULL, 0), ==, 0);
}

/* An SDC answer signed with the SDC's own key. */
static JsonObject *
signed_answer (const char *key_data, gboolean corrupt)
{
  gnutls_datum_t data = { (unsigned char *) key_data, (unsigned) strlen (key_data) };
  gnutls_datum_t sig = { NULL, 0 };
  g_autofree char *b64 = NULL;
  JsonObject *o = json_object_new ();
  g_assert_cmpint (gnutls_privkey_sign_data (keys.key, GNUTLS_DIG_SHA256, 0, &data, &sig), ==, 0);
  if (corrupt)
    sig.data[sig.size - 1] ^= 1;
  b64 = g_base64_encode (sig.data, sig.size);
  gnutls_free (sig.data);
  json_object_set_string_member (o, "key_data", key_data);
  json_object_set_string_member (o, "signature", b64);
  json_object_set_string_member (o, "algorithm", "ecdsa-p256-sha256");
  return o;
}

static void
test_dates (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_utc (2026, 11, 25, 23, 59, 0);
  g_autofree char *today = esa_uak_today (now);
  g_assert_cmpstr (today, ==, "20261125");
  g_assert_true (esa_uak_date_valid ("20240229"));
  g_assert_false (esa_uak_date_valid ("20230229"));
  g_assert_false (esa_uak_date_valid ("2023022"));
  g_assert_false (esa_uak_date_valid ("202302299"));
  g_assert_false (esa_uak_date_valid ("2023-2-1"));
  g_assert_false (esa_uak_date_valid ("19691231"));
  g_assert_false (esa_uak_date_valid ("20231301"));
  g_assert_false (esa_uak_date_valid (NULL));
  g_assert_cmpint (esa_uak_days_between ("20261125", "20261225"), ==, 30);
  g_assert_cmpint (esa_uak_days_between ("20261225", "20261125"), ==, -30);
  g_assert_cmpint (esa_uak_days_between ("20241231", "20250101"), ==, 1);
}

static void
test_key_parse (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaUakKey) key =
      esa_uak_key_parse ("UAK1;machine_type=9009;serial=78ABCDE;expires=20271201;issued=20261125T090000Z;future=x", &error);
  struct {
    const char *text;
    const char *msg;
  } bad[] = {
    { "", "empty" },
    { "UAK2;machine_type=9009;serial=78ABCDE;expires=20271201", "unknown format" },
    { "machine_type=9009;serial=78ABCDE;expires=20271201", "unknown format" },
    { "UAK1;serial=78ABCDE;expires=20271201", "machine_type: missing" },
    { "UAK1;machine_type=9009;expires=20271201", "serial: missing" },
    { "UAK1;machine_type=9009;serial=78ABCDE", "expires: missing" },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=20271301", "expected a date" },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=tomorrow", "expected a date" },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=20271201;expires=20991231", "given twice" },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires", "expected NAME=VALUE" },
    { "UAK1;machine_type=9009;=x;serial=78ABCDE;expires=20271201", "expected NAME=VALUE" },
    { "UAK1;machine_type=9009;serial=78 ABCDE;expires=20271201", "space" },
    { "UAK1;machine_type=9009;serial=78ABCDE\n;expires=20271201", "control character" },
    { "UAK1;machine_type=90/09;serial=78ABCDE;expires=20271201", "machine_type: expected" },
    { "UAK1;machine_type=;serial=78ABCDE;expires=20271201", "machine_type: expected" },
    { "UAK1;machine_type=9009;serial=\xff\xfe;expires=20271201", "UTF-8" },
  };
  g_assert_no_error (error);
  g_assert_cmpstr (key->machine_type, ==, "9009");
  g_assert_cmpstr (key->serial, ==, "78ABCDE");
  g_assert_cmpstr (key->expires, ==, "20271201");
  g_assert_cmpstr (key->issued, ==, "20261125T090000Z");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (EsaUakKey) k = esa_uak_key_parse (bad[i].text, &e);
      g_assert_null (k);
      g_assert_error (e, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      if (strstr (e->message, bad[i].msg) == NULL)
        g_error ("case %u: \"%s\" lacks \"%s\"", i, e->message, bad[i].msg);
    }
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (GString) s = g_string_new ("UAK1;machine_type=9009;serial=78ABCDE;expires=20271201;x=");
    g_autoptr (EsaUakKey) k = NULL;
    for (guint i = 0; i < 5000; i++)
      g_string_append_c (s, 'a');
    k = esa_uak_key_parse (s->str, &e);
    g_assert_null (k);
    g_assert_nonnull (strstr (e->message, "longer than"));
  }
}

static void
test_key_file (void)
{
  struct {
    const char *text;
    const char *expiry;
    gboolean has_key;
  } good[] = {
    { "", NULL, FALSE },
    { "\n\n", NULL, FALSE },
    { "-\n", NULL, FALSE },
    { "20271201\n", "20271201", FALSE },
    { "  20271201  \r\n", "20271201", FALSE },
    { "# renewed by hand\n20271201", "20271201", FALSE },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=20271201;issued=x\nexpiry=20271201\nsignature=AAAA\n", "20271201", TRUE },
  };
  struct {
    const char *text;
    const char *msg;
  } bad[] = {
    { "2027-12-01\n", "key.txt:1: \"2027-12-01\": expected a key" },
    { "\n\nhello world\n", "key.txt:3:" },
    { "20271301\n", "expected a key" },
    { "UAK1;machine_type=9009;serial=78ABCDE\n", "key.txt:1: key data: expires: missing" },
    { "UAKX\n", "key.txt:1: key data" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *expiry = NULL;
      g_autoptr (EsaUakKey) key = NULL;
      g_assert_true (esa_uak_parse_key_file ("key.txt", good[i].text, &expiry, &key, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (expiry, ==, good[i].expiry);
      g_assert_cmpint (key != NULL, ==, good[i].has_key);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *expiry = NULL;
      g_autoptr (EsaUakKey) key = NULL;
      g_assert_false (esa_uak_parse_key_file ("key.txt", bad[i].text, &expiry, &key, &error));
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      if (strstr (error->message, bad[i].msg) == NULL)
        g_error ("case %u: \"%s\" lacks \"%s\"", i, error->message, bad[i].msg);
      g_assert_null (expiry);
      g_assert_null (key);
    }
}

static void
test_base64 (void)
{
  const char *bad[] = { "", "A", "AAA", "AA=A", "A===", "AAAA AAAA", "AAA\n", "A*AA", "====", "AA==AAAA" };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) b = esa_uak_base64_decode ("aGVsbG8=", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b), "hello", 5);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (GBytes) x = esa_uak_base64_decode (bad[i], &e);
      if (x != NULL)
        g_error ("case %u \"%s\" decoded", i, bad[i]);
      g_assert_error (e, ESA_ERROR, ESA_ERROR_INVALID_DATA);
    }
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

static void
test_offer_malformed (void)
{
  struct {
    const char *json;
    const char *msg;
  } bad[] = {
    { "{}", "key_data: required string is missing" },
    { "{\"key_data\": null, \"signature\": \"AAAA\", \"algorithm\": \"ecdsa-p256-sha256\"}", "key_data: required string is missing" },
    { "{\"key_data\": 42, \"signature\": \"AAAA\", \"algorithm\": \"ecdsa-p256-sha256\"}", "key_data: expected string" },
    { "{\"key_data\": [\"UAK1\"], \"signature\": \"AAAA\", \"algorithm\": \"x\"}", "key_data: expected string" },
    { "{\"key_data\": \"\", \"signature\": \"AAAA\", \"algorithm\": \"x\"}", "key_data: expected a non-empty string" },
    { "{\"key_data\": \"UAK1\", \"algorithm\": \"ecdsa-p256-sha256\"}", "signature: required string is missing" },
    { "{\"key_data\": \"UAK1\", \"signature\": true, \"algorithm\": \"ecdsa-p256-sha256\"}", "signature: expected string" },
    { "{\"key_data\": \"UAK1\", \"signature\": \"AAAA\"}", "algorithm: required string is missing" },
    { "{\"key_data\": \"UAK1\", \"signature\": \"AAAA\", \"algorithm\": {}}", "algorithm: expected string" },
    { "{\"key_data\": \"UAK1\", \"signature\": \"not-base64!!\", \"algorithm\": \"ecdsa-p256-sha256\"}", "signature: base64" },
    { "{\"key_data\": \"UAK1\", \"signature\": \"QUJD\\nREVG\", \"algorithm\": \"ecdsa-p256-sha256\"}", "signature: " },
    { "{\"key_data\": \"UAK1\", \"signature\": \"QUJ\", \"algorithm\": \"ecdsa-p256-sha256\"}", "signature: expected base64" },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaUakOffer) none = esa_uak_offer_from_json (NULL, &error);
  g_assert_null (none);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonObject) o = parse_object (bad[i].json);
      g_autoptr (GError) e = NULL;
      g_autoptr (EsaUakOffer) offer = esa_uak_offer_from_json (o, &e);
      g_assert_null (offer);
      g_assert_error (e, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      if (strstr (e->message, bad[i].msg) == NULL)
        g_error ("case %u: \"%s\" lacks \"%s\"", i, e->message, bad[i].msg);
    }
}

static void
test_verifier_files (void)
{
  g_autofree char *ca = g_build_filename (keys.sdc_dir, "ca.pem", NULL);
  g_autofree char *garbage = g_build_filename (keys.dir, "garbage.pem", NULL);
  g_autofree char *empty = g_build_filename (keys.dir, "empty.pem", NULL);
  g_autofree char *missing = g_build_filename (keys.dir, "missing.pem", NULL);
  const char *paths[] = { ca, garbage, empty, missing };
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaUakVerifier) v = esa_uak_verifier_new_from_file (keys.pub, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  esa_test_write_file (garbage, "-----BEGIN PUBLIC KEY-----\nnot really\n-----END PUBLIC KEY-----\n", 0644);
  esa_test_write_file (empty, "", 0644);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (EsaUakVerifier) x = esa_uak_verifier_new_from_file (paths[i], &e);
      g_assert_null (x);
      g_assert_error (e, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
      g_assert_nonnull (strstr (e->message, paths[i]));
    }
}

static EsaUakKey *
accept (JsonObject *answer, const char *current, const char **reason, GError **error)
{
  g_autoptr (EsaUakVerifier) v = esa_uak_verifier_new_from_file (keys.pub, NULL);
  g_autoptr (EsaUakOffer) offer = esa_uak_offer_from_json (answer, error);
  if (offer == NULL)
    return NULL;
  return esa_uak_accept_offer (v, offer, "9009", "78ABCDE", current, reason, error);
}

static void
test_accept (void)
{
  struct {
    const char *key_data;
    gboolean corrupt;
    const char *current;
    const char *reason;
  } cases[] = {
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=20271201;issued=20261125T090000Z", FALSE, "20261201", NULL },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=20271201;issued=20261125T090000Z", FALSE, NULL, NULL },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=20271201;issued=20261125T090000Z", TRUE, "20261201", ESA_UAK_REASON_BAD_SIGNATURE },
    { "UAK1;machine_type=9009;serial=78XXXXX;expires=20271201;issued=20261125T090000Z", FALSE, "20261201", ESA_UAK_REASON_OTHER_MACHINE },
    { "UAK1;machine_type=9105;serial=78ABCDE;expires=20271201;issued=20261125T090000Z", FALSE, "20261201", ESA_UAK_REASON_OTHER_MACHINE },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=20261101;issued=20261125T090000Z", FALSE, "20261201", ESA_UAK_REASON_NOT_NEWER },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=20261201;issued=20261125T090000Z", FALSE, "20261201", ESA_UAK_REASON_NOT_NEWER },
    { "UAK1;machine_type=9009;serial=78ABCDE;expires=99999999", FALSE, "20261201", ESA_UAK_REASON_MALFORMED },
    { "garbage, but signed", FALSE, "20261201", ESA_UAK_REASON_MALFORMED },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonObject) answer = signed_answer (cases[i].key_data, cases[i].corrupt);
      g_autoptr (GError) error = NULL;
      const char *reason = NULL;
      g_autoptr (EsaUakKey) key = accept (answer, cases[i].current, &reason, &error);
      g_test_message ("case %u: %s", i, error ? error->message : "accepted");
      g_assert_cmpstr (reason, ==, cases[i].reason);
      if (cases[i].reason == NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (key->expires, ==, "20271201");
          g_assert_cmpstr (key->key_data, ==, cases[i].key_data);
        }
      else
        {
          g_assert_null (key);
          g_assert_error (error, ESA_ERROR, ESA_ERROR_REFUSED);
        }
    }
  /* a good signature over other bytes: the answer's key_data was changed */
  {
    g_autoptr (JsonObject) answer = signed_answer ("UAK1;machine_type=9009;serial=78ABCDE;expires=20271201", FALSE);
    g_autoptr (GError) error = NULL;
    g_autoptr (EsaUakKey) key = NULL;
    const char *reason = NULL;
    json_object_set_string_member (answer, "key_data", "UAK1;machine_type=9009;serial=78ABCDE;expires=20991201");
    key = accept (answer, "20261201", &reason, &error);
    g_assert_null (key);
    g_assert_cmpstr (reason, ==, ESA_UAK_REASON_BAD_SIGNATURE);
  }
  /* another algorithm */
  {
    g_autoptr (JsonObject) answer = signed_answer ("UAK1;machine_type=9009;serial=78ABCDE;expires=20271201", FALSE);
    g_autoptr (GError) error = NULL;
    g_autoptr (EsaUakKey) key = NULL;
    const char *reason = NULL;
    json_object_set_string_member (answer, "algorithm", "rsa-sha1");
    key = accept (answer, "20261201", &reason, &error);
    g_assert_null (key);
    g_assert_cmpstr (reason, ==, ESA_UAK_REASON_MALFORMED);
    g_assert_nonnull (strstr (error->message, "rsa-sha1"));
  }
  /* a valid base64 that is no DER signature */
  {
    g_autoptr (JsonObject) answer = signed_answer ("UAK1;machine_type=9009;serial=78ABCDE;expires=20271201", FALSE);
    g_autoptr (GError) error = NULL;
    g_autoptr (EsaUakKey) key = NULL;
    const char *reason = NULL;
    json_object_set_string_member (answer, "signature", "aGVsbG8gd29ybGQ=");
    key = accept (answer, "20261201", &reason, &error);
    g_assert_null (key);
    g_assert_cmpstr (reason, ==, ESA_UAK_REASON_BAD_SIGNATURE);
  }
}

static void
test_backend_file (void)
{
  g_autofree char *path = g_build_filename (keys.dir, "sub", "current.key", NULL);
  EsaUakBackend b = { ESA_UAK_BACKEND_FILE, path, keys.dir };
  g_autoptr (GError) error = NULL;
  g_autofree char *expiry = NULL, *key_data = NULL, *source = NULL;
  g_autoptr (EsaUakKey) key = esa_uak_key_parse ("UAK1;machine_type=9009;serial=78ABCDE;expires=20271201", NULL);

  g_assert_true (esa_uak_backend_read (&b, &expiry, &key_data, &source, &error));
  g_assert_null (expiry);
  g_assert_cmpstr (source, ==, path);
  g_clear_pointer (&source, g_free);
  g_assert_true (esa_uak_backend_apply (&b, key, "AAAA", &error));
  g_assert_no_error (error);
  g_assert_true (esa_uak_backend_read (&b, &expiry, &key_data, &source, &error));
  g_assert_cmpstr (expiry, ==, "20271201");
  g_assert_cmpstr (key_data, ==, key->key_data);
  g_clear_pointer (&expiry, g_free);
  g_clear_pointer (&key_data, g_free);
  g_clear_pointer (&source, g_free);

  /* binary garbage */
  g_assert_true (g_file_set_contents (path, "2027\0" "1201", 9, NULL));
  g_assert_false (esa_uak_backend_read (&b, &expiry, &key_data, &source, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_clear_pointer (&source, g_free);
  esa_test_write_file (path, "next tuesday\n", 0600);
  g_assert_false (esa_uak_backend_read (&b, &expiry, &key_data, &source, &error));
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_backend_aix (void)
{
  g_autofree char *bin = esa_test_src_path ("tests/fixtures/aix-bin");
  g_autofree char *state = g_build_filename (keys.dir, "fake-uak", NULL);
  g_autofree char *temp = g_build_filename (keys.dir, "temp", NULL);
  EsaUakBackend b = { ESA_UAK_BACKEND_AIX, NULL, temp };
  struct {
    const char *machine;
    const char *expiry;
    const char *source;
  } cases[] = {
    { "p9-standalone", "20270825", "lparstat -u" },
    { "p10-lpar", "20270825", "lparstat -u" },
    { "p8-old", "20190301", "lscfg -vpl sysplanar0" },
  };
  g_autoptr (EsaUakKey) older = esa_uak_key_parse ("UAK1;machine_type=9009;serial=78ABCDE;expires=20200101", NULL);
  g_autoptr (EsaUakKey) newer = esa_uak_key_parse ("UAK1;machine_type=9009;serial=78ABCDE;expires=20281201", NULL);

  g_setenv ("ESA_PLATFORM", "aix", TRUE);
  g_setenv ("ESA_COMMAND_PATH", bin, TRUE);
  g_unsetenv ("ESA_FAKE_UAK_FILE");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *expiry = NULL, *key_data = NULL, *source = NULL;
      g_setenv ("ESA_FAKE_AIX_MACHINE", cases[i].machine, TRUE);
      g_assert_true (esa_uak_backend_read (&b, &expiry, &key_data, &source, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (expiry, ==, cases[i].expiry);
      g_assert_cmpstr (source, ==, cases[i].source);
      g_assert_null (key_data);
    }
  g_setenv ("ESA_FAKE_AIX_MACHINE", "p9-standalone", TRUE);
  g_setenv ("ESA_FAKE_UAK_FILE", state, TRUE);
  esa_test_write_file (state, "20261201\n", 0600);
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *expiry = NULL, *key_data = NULL, *source = NULL;
    g_autofree char *applied = NULL;
    g_autofree char *key_copy = g_strdup_printf ("%s.key", state);
    g_autofree char *key_text = NULL;
    /* uak_update refuses an older key: the apply fails with its message */
    g_assert_false (esa_uak_backend_apply (&b, older, "AAAA", &error));
    g_assert_nonnull (strstr (error->message, "uak_update exited with 3"));
    g_clear_error (&error);
    g_assert_true (esa_uak_backend_apply (&b, newer, "AAAA", &error));
    g_assert_no_error (error);
    g_assert_true (esa_uak_backend_read (&b, &expiry, &key_data, &source, &error));
    g_assert_cmpstr (expiry, ==, "20281201");
    g_assert_true (g_file_get_contents (key_copy, &key_text, NULL, NULL));
    g_assert_true (g_str_has_prefix (key_text, newer->key_data));
  }
  g_unsetenv ("ESA_FAKE_UAK_FILE");
  g_unsetenv ("ESA_FAKE_AIX_MACHINE");
  g_unsetenv ("ESA_PLATFORM");
  g_unsetenv ("ESA_COMMAND_PATH");
}

/* Issue 10 item 10: a key file with invalid UTF-8 gives a clean error. */
static void
test_key_file_invalid_utf8 (void)
{
  const char *inputs[] = { "651-204\xff\x16\xff", "2027\xff" "1201\n", "UAK1;machine_type=\xc0\x80;serial=1;expires=20271201\n" };
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *expiry = NULL;
      g_autoptr (EsaUakKey) key = NULL;
      g_assert_false (esa_uak_parse_key_file ("key.txt", inputs[i], &expiry, &key, &error));
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_assert_nonnull (strstr (error->message, "key.txt:1:"));
    }
}

/* Issue 9 item 9: the curve is pinned to P-256. A P-384 public key is
 * refused as configuration, and its (otherwise valid ECDSA-SHA256)
 * signature over a key is never accepted. */
static void
test_verifier_p384_refused (void)
{
  gnutls_privkey_t priv = NULL;
  gnutls_pubkey_t pub = NULL;
  gnutls_datum_t pem = { NULL, 0 };
  gnutls_datum_t sig = { NULL, 0 };
  const char *key_data = "UAK1;machine_type=9009;serial=78ABCDE;expires=20291201;issued=20261126";
  gnutls_datum_t data = { (unsigned char *) key_data, (unsigned) strlen (key_data) };
  g_autofree char *path = g_build_filename (keys.dir, "p384-pub.pem", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaUakVerifier) v = NULL;
  g_assert_cmpint (gnutls_privkey_init (&priv), ==, 0);
  g_assert_cmpint (gnutls_privkey_generate (priv, GNUTLS_PK_ECDSA,
                                            GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP384R1), 0), ==, 0);
  g_assert_cmpint (gnutls_pubkey_init (&pub), ==, 0);
  g_assert_cmpint (gnutls_pubkey_import_privkey (pub, priv, 0, 0), ==, 0);
  g_assert_cmpint (gnutls_pubkey_export2 (pub, GNUTLS_X509_FMT_PEM, &pem), ==, 0);
  /* the signature itself is good: GnuTLS alone would accept it */
  g_assert_cmpint (gnutls_privkey_sign_data (priv, GNUTLS_DIG_SHA256, 0, &data, &sig), ==, 0);
  g_assert_cmpint (gnutls_pubkey_verify_data2 (pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig), >=, 0);
  esa_test_write_file (path, (const char *) pem.data, 0644);
  v = esa_uak_verifier_new_from_file (path, &error);
  g_assert_null (v);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "expected P-256"));
  gnutls_free (sig.data);
  gnutls_free (pem.data);
  gnutls_pubkey_deinit (pub);
  gnutls_privkey_deinit (priv);
}

/* Issue 12, the POWER10 AIX key: a key is applied only as the kind asked for,
 * and only POWER10 and later keep an AIX key. */
static void
test_key_kind (void)
{
  const char *reason = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaUakKey) fw = esa_uak_key_parse ("UAK1;machine_type=9105;serial=78A1B2C;expires=20271201", &error);
  g_autoptr (EsaUakKey) aix = esa_uak_key_parse ("UAK1;key=aix;machine_type=9105;serial=78A1B2C;expires=20271201", &error);
  g_autoptr (EsaUakKey) odd = esa_uak_key_parse ("UAK1;key=hmc;machine_type=9105;serial=78A1B2C;expires=20271201", &error);
  g_assert_no_error (error);
  g_assert_null (fw->kind);
  g_assert_cmpstr (aix->kind, ==, "aix");
  g_assert_true (esa_uak_key_check_kind (fw, ESA_UAK_KEY_FIRMWARE, &reason, &error));
  g_assert_true (esa_uak_key_check_kind (aix, ESA_UAK_KEY_AIX, &reason, &error));
  g_assert_no_error (error);
  g_assert_false (esa_uak_key_check_kind (fw, ESA_UAK_KEY_AIX, &reason, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_REFUSED);
  g_assert_cmpstr (reason, ==, ESA_UAK_REASON_OTHER_KEY);
  g_assert_nonnull (strstr (error->message, "a firmware key, the AIX key was asked for"));
  g_clear_error (&error);
  g_assert_false (esa_uak_key_check_kind (aix, ESA_UAK_KEY_FIRMWARE, &reason, &error));
  g_assert_nonnull (strstr (error->message, "an AIX key, the firmware key was asked for"));
  g_clear_error (&error);
  g_assert_false (esa_uak_key_check_kind (odd, ESA_UAK_KEY_FIRMWARE, &reason, &error));
  g_clear_error (&error);
  /* twice is refused like any field */
  g_assert_null (esa_uak_key_parse ("UAK1;key=aix;key=aix;machine_type=9105;serial=1;expires=20271201", &error));
  g_clear_error (&error);

  g_assert_true (esa_uak_processor_has_aix_key ("PowerPC_POWER10"));
  g_assert_true (esa_uak_processor_has_aix_key ("PowerPC_POWER11"));
  g_assert_false (esa_uak_processor_has_aix_key ("PowerPC_POWER9"));
  g_assert_false (esa_uak_processor_has_aix_key ("PowerPC_POWER8"));
  g_assert_false (esa_uak_processor_has_aix_key ("POWER"));
  g_assert_false (esa_uak_processor_has_aix_key (NULL));
  g_assert_cmpstr (esa_uak_key_kind_name (ESA_UAK_KEY_AIX), ==, "aix");
  g_assert_cmpstr (esa_uak_key_kind_name (ESA_UAK_KEY_FIRMWARE), ==, "firmware");
}

int
main (int argc, char **argv)
{
  int rc;
  g_test_init (&argc, &argv, NULL);
  keys_init ();
  g_test_add_func ("/uak/dates", test_dates);
  g_test_add_func ("/uak/key-data", test_key_parse);
  g_test_add_func ("/uak/key-file", test_key_file);
  g_test_add_func ("/uak/base64", test_base64);
  g_test_add_func ("/uak/answer-malformed", test_offer_malformed);
  g_test_add_func ("/uak/public-key-files", test_verifier_files);
  g_test_add_func ("/uak/public-key-p384-refused", test_verifier_p384_refused);
  g_test_add_func ("/uak/accept", test_accept);
  g_test_add_func ("/uak/key-kind", test_key_kind);
  g_test_add_func ("/uak/backend-file", test_backend_file);
  g_test_add_func ("/uak/backend-aix", test_backend_aix);
  g_test_add_func ("/uak/key-file-invalid-utf8", test_key_file_invalid_utf8);
  rc = g_test_run ();
  gnutls_privkey_deinit (keys.key);
  esa_test_rmtree (keys.dir);
  g_free (keys.dir);
  g_free (keys.sdc_dir);
  g_free (keys.pub);
  return rc;
}
