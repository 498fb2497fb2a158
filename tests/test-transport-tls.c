/* test-transport-tls.c: HTTPS delivery over IPv4 and IPv6 loopback, and the
 * TLS refusals of DESIGN.md (wrong host name, unknown CA, TLS 1.0, SHA-1,
 * short keys, CBC-SHA1 and static-RSA suites): each refused with the exact
 * reason the admin reads, and nothing delivered. The policy's own checks
 * (transports/https/esa-tls-policy.c) are tested with chains GnuTLS itself
 * accepts, so they cannot pass on GnuTLS's refusal. */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"

#include <string.h>

typedef struct {
  EtWorld *w;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->w = et_world_new (NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->w, et_world_free);
}

static char *
servers_conf (EtWorld *w, const char *host)
{
  return g_strdup_printf ("[sdc]\nservers=https://%s:%u/\nca-file=%s/ca.pem\ntimeout=20s\n", host, w->port,
                          w->sdc_dir);
}

/* The SDC listens on both loopbacks; the agent reaches it by address. */
static void
test_ipv4_ipv6 (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  const char *hosts[] = { "127.0.0.1", "[::1]" };
  const char *remotes[] = { "remote=127.0.0.1 ", "remote=::1 " };

  et_sdc_start (w, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autofree char *conf = servers_conf (w, hosts[i]);
      g_autofree char *out = NULL, *err = NULL;
      g_autofree char *want = g_strdup_printf ("via https://%s:%u/ (direct): 200", hosts[i], w->port);
      int rc;
      et_write_conf (w, conf);
      et_esad_start (w, NULL);
      if (i == 0)
        et_activate (w);
      rc = et_esactl (w, &out, &err, "heartbeat", NULL);
      if (rc != 0)
        g_printerr ("heartbeat: %s%s", out, err);
      g_assert_cmpint (rc, ==, 0);
      g_assert_nonnull (strstr (out, want));
      g_assert_cmpuint (et_sdc_log_count (w, remotes[i], "method=POST", "path=/esa/v1/heartbeat", "status=200", NULL),
                        ==, 1);
      et_esad_stop (w);
    }
  g_assert_cmpuint (et_sdc_count_all (w), ==, 2);
}

typedef void (*BreakFunc) (EtWorld *w);

/* Activates against a good SDC, breaks its TLS, restarts it with @extra,
 * and checks every way the admin looks finds the reason. */
static void
check_refused (EtWorld *w, BreakFunc break_tls, const char *const *extra, const char *const *why)
{
  g_autofree char *conf = servers_conf (w, "localhost");
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *all = NULL;
  g_autoptr (JsonNode) list = NULL;
  JsonArray *queued;
  JsonObject *entry;
  const char *last_error;
  gboolean found = FALSE;
  int rc;

  et_write_conf (w, conf);
  et_sdc_start (w, NULL);
  et_esad_start (w, NULL);
  et_activate (w);
  et_sdc_stop (w);
  if (break_tls != NULL)
    break_tls (w);
  et_sdc_start (w, extra);

  /* esactl test says why, per route. */
  rc = et_esactl (w, &out, &err, "test", NULL);
  g_assert_cmpint (rc, ==, 6);
  all = g_strconcat (out, err, NULL);
  g_test_message ("esactl test said: %s", all);
  for (guint i = 0; why[i] != NULL; i++)
    found |= strstr (all, why[i]) != NULL;
  if (!found)
    g_printerr ("esactl test said:\n%s\n", all);
  g_assert_true (found);
  g_assert_nonnull (strstr (all, "connectivity FAILED"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&all, g_free);

  /* The heartbeat is kept, with the reason. */
  rc = et_esactl (w, &out, &err, "heartbeat", NULL);
  g_assert_cmpint (rc, ==, 6);
  all = g_strconcat (out, err, NULL);
  found = FALSE;
  for (guint i = 0; why[i] != NULL; i++)
    found |= strstr (all, why[i]) != NULL;
  if (!found)
    g_printerr ("esactl heartbeat said:\n%s\n", all);
  g_assert_true (found);
  g_assert_nonnull (strstr (all, "kept in queue"));

  list = et_queue_list (w);
  queued = json_object_get_array_member (json_node_get_object (list), "queued");
  g_assert_cmpuint (json_array_get_length (queued), ==, 1);
  entry = json_array_get_object_element (queued, 0);
  g_assert_cmpint (json_object_get_int_member (entry, "attempts"), >=, 1);
  last_error = json_object_get_string_member (entry, "last_error");
  g_test_message ("last_error: %s", last_error);
  g_assert_nonnull (last_error);
  found = FALSE;
  for (guint i = 0; why[i] != NULL; i++)
    found |= strstr (last_error, why[i]) != NULL;
  if (!found)
    g_printerr ("last_error: %s\n", last_error);
  g_assert_true (found);

  /* Nothing reached the SDC: no report, no request past the handshake. */
  g_assert_cmpuint (et_sdc_count_all (w), ==, 0);
  g_assert_cmpuint (et_sdc_log_count (w, "path=/esa/v1/heartbeat", NULL), ==, 0);
  g_assert_cmpuint (et_sdc_log_count (w, "path=/esa/v1/config", NULL), ==, 0);
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (from, &data, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (to, data, (gssize) len, &error);
  g_assert_no_error (error);
}

/* A server certificate from the right CA, for the wrong name. */
static void
break_wrong_host (EtWorld *w)
{
  g_autofree char *key = g_build_filename (w->sdc_dir, "server-key.pem", NULL);
  g_autofree char *cert = g_build_filename (w->sdc_dir, "server.pem", NULL);
  g_autofree char *ca = g_build_filename (w->sdc_dir, "ca.pem", NULL);
  g_autofree char *ca_key = g_build_filename (w->sdc_dir, "ca-key.pem", NULL);
  g_autofree char *tmpl = g_build_filename (w->dir, "wrong.tmpl", NULL);
  const char *argv[] = { "/usr/bin/certtool", "--generate-certificate", "--load-privkey", key,
                         "--load-ca-certificate", ca, "--load-ca-privkey", ca_key,
                         "--template", tmpl, "--outfile", cert, NULL };
  esa_test_write_file (tmpl, "cn = wrong.example\ndns_name = wrong.example\nexpiration_days = 30\n"
                             "tls_www_server\nsigning_key\nencryption_key\n", 0600);
  et_certtool (argv);
}

static void
test_wrong_host (Fixture *f, gconstpointer data)
{
  const char *why[] = { "host name does not match", NULL };
  check_refused (f->w, break_wrong_host, NULL, why);
}

/* Takes the server certificate and key of another `esa-sdc init`. */
static void
take_server_cert (EtWorld *w, const char *init_flag, gboolean with_ca)
{
  g_autofree char *other = g_build_filename (w->dir, "other-sdc", NULL);
  g_autofree char *sdc = et_bin ("sdc/esa-sdc");
  const char *argv[] = { sdc, "init", other, init_flag, NULL };
  const char *files[] = { "server.pem", "server-key.pem", "ca.pem" };
  g_autofree char *out = NULL, *err = NULL;
  int rc = esa_test_run (argv, &out, &err);
  if (rc != 0)
    g_printerr ("esa-sdc init %s: %s%s", init_flag, out, err);
  g_assert_cmpint (rc, ==, 0);
  for (guint i = 0; i < (with_ca ? 3u : 2u); i++)
    {
      g_autofree char *from = g_build_filename (other, files[i], NULL);
      g_autofree char *to = g_build_filename (w->sdc_dir, files[i], NULL);
      copy_file (from, to);
    }
}

static void
break_self_signed (EtWorld *w)
{
  take_server_cert (w, "--self-signed", FALSE);
}

static void
test_unknown_ca (Fixture *f, gconstpointer data)
{
  const char *why[] = { "issued by an unknown CA", NULL };
  check_refused (f->w, break_self_signed, NULL, why);
}

static void
test_tls10 (Fixture *f, gconstpointer data)
{
  const char *extra[] = { "--tls-max-version=1.0", NULL };
  /* The handshake succeeds (GnuTLS's client still speaks TLS 1.0): the
   * policy's own check is what refuses, and says exactly that. */
  const char *why[] = { "TLS policy: server negotiated TLS 1.0 (expected TLS 1.2 or newer)", NULL };
  check_refused (f->w, NULL, extra, why);
}

/* A certificate for localhost and 127.0.0.1 with the key @key, signed by
 * @ca/@ca_key with @hash; @is_ca makes it an intermediate CA instead. */
static void
make_cert (EtWorld *w, const char *key, const char *ca, const char *ca_key, const char *hash, gboolean is_ca,
           const char *out)
{
  g_autofree char *tmpl = g_build_filename (w->dir, "cert.tmpl", NULL);
  const char *argv[] = { "/usr/bin/certtool", "--generate-certificate", "--load-privkey", key,
                         "--load-ca-certificate", ca, "--load-ca-privkey", ca_key, "--hash", hash,
                         "--template", tmpl, "--outfile", out, NULL };
  esa_test_write_file (tmpl, is_ca ? "cn = OpenESA test intermediate\nexpiration_days = 30\nca\ncert_signing_key\n"
                                   : "cn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\n"
                                     "expiration_days = 30\ntls_www_server\nsigning_key\nencryption_key\n",
                       0600);
  et_certtool (argv);
}

static void
make_rsa_key (const char *out, const char *bits)
{
  const char *argv[] = { "/usr/bin/certtool", "--generate-privkey", "--rsa", "--bits", bits, "--outfile", out, NULL };
  et_certtool (argv);
}

/* An RSA-1024 server key, its certificate signed with SHA-256 by the CA the
 * agent trusts: GnuTLS's default verification accepts it, the policy must
 * refuse the key size. */
static void
break_rsa1024 (EtWorld *w)
{
  g_autofree char *key = g_build_filename (w->sdc_dir, "server-key.pem", NULL);
  g_autofree char *cert = g_build_filename (w->sdc_dir, "server.pem", NULL);
  g_autofree char *ca = g_build_filename (w->sdc_dir, "ca.pem", NULL);
  g_autofree char *ca_key = g_build_filename (w->sdc_dir, "ca-key.pem", NULL);
  make_rsa_key (key, "1024");
  make_cert (w, key, ca, ca_key, "SHA256", FALSE, cert);
}

static void
test_rsa1024 (Fixture *f, gconstpointer data)
{
  const char *why[] = { "TLS policy: CN=localhost has a 1024-bit RSA key (expected at least 2048 bits)", NULL };
  check_refused (f->w, break_rsa1024, NULL, why);
}

/* A chain CA -> intermediate (signed with SHA-1) -> server (SHA-256), where
 * the admin's ca-file also lists the intermediate: an allowed setup in which
 * GnuTLS trusts the intermediate as an anchor and never looks at its SHA-1
 * signature. The policy walks the chain the server sent and must refuse. */
static void
break_sha1_intermediate (EtWorld *w)
{
  g_autofree char *key = g_build_filename (w->sdc_dir, "server-key.pem", NULL);
  g_autofree char *cert = g_build_filename (w->sdc_dir, "server.pem", NULL);
  g_autofree char *ca = g_build_filename (w->sdc_dir, "ca.pem", NULL);
  g_autofree char *ca_key = g_build_filename (w->sdc_dir, "ca-key.pem", NULL);
  g_autofree char *int_key = g_build_filename (w->dir, "int-key.pem", NULL);
  g_autofree char *int_cert = g_build_filename (w->dir, "int.pem", NULL);
  g_autofree char *leaf = g_build_filename (w->dir, "leaf.pem", NULL);
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *chain = NULL, *bundle = NULL;
  make_rsa_key (int_key, "2048");
  make_cert (w, int_key, ca, ca_key, "SHA1", TRUE, int_cert);
  make_cert (w, key, int_cert, int_key, "SHA256", FALSE, leaf);
  g_assert_true (g_file_get_contents (leaf, &a, NULL, NULL));
  g_assert_true (g_file_get_contents (int_cert, &b, NULL, NULL));
  g_assert_true (g_file_get_contents (ca, &c, NULL, NULL));
  chain = g_strconcat (a, b, NULL);
  bundle = g_strconcat (c, b, NULL);
  esa_test_write_file (cert, chain, 0644);
  esa_test_write_file (ca, bundle, 0644);
}

static void
test_sha1_intermediate (Fixture *f, gconstpointer data)
{
  /* esa-sdc's CA key is ECDSA: the intermediate's signature is ECDSA-SHA1. */
  const char *why[] = { "TLS policy: CN=OpenESA test intermediate is signed with ECDSA-SHA1 (expected SHA-256 or "
                        "stronger, NIST SP 800-131A)", NULL };
  check_refused (f->w, break_sha1_intermediate, NULL, why);
}

/* A SHA-1-signed server certificate under a CA we trust (ca-file= is
 * replaced too, so SHA-1 is the only fault). */
static void
break_sha1 (EtWorld *w)
{
  take_server_cert (w, "--weak-sha1", TRUE);
}

static void
test_sha1 (Fixture *f, gconstpointer data)
{
  /* GnuTLS flags SHA-1 certificate signatures as insecure during
   * verification; our policy names the algorithm if it gets that far. */
  const char *why[] = { "insecure algorithm", "SHA1", "SHA-1", NULL };
  check_refused (f->w, break_sha1, NULL, why);
}

/* tests/tls-test-server on 127.0.0.1 with @cert/@key and only the suites
 * of @priority: `esactl test` must fail with @want (all of them in the
 * output), and no application data may reach the server (it logs every
 * record it receives after the handshake). */
static void
check_tls_server_refused (EtWorld *w, const char *cert, const char *key, const char *priority,
                          const char *const *want)
{
  g_autofree char *conf = servers_conf (w, "127.0.0.1");
  g_autofree char *log = g_build_filename (w->dir, "tls-test-server.log", NULL);
  g_autofree char *server = esa_test_build_path ("tests/tls-test-server");
  g_autofree char *port = g_strdup_printf ("%u", w->port);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *all = NULL, *slog = NULL;
  const char *argv[] = { server, "--port", port, "--cert", cert, "--key", key, "--priority", priority, NULL };
  GSubprocess *serv;
  gboolean found = TRUE;
  int rc;

  serv = esa_test_spawn (log, argv);
  g_ptr_array_add (w->procs, serv);
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", w->port, 10000));
  et_write_conf (w, conf);
  et_esad_start (w, NULL);
  rc = et_esactl (w, &out, &err, "test", NULL);
  all = g_strconcat (out, err, NULL);
  g_test_message ("esactl test said: %s", all);
  for (guint i = 0; want[i] != NULL; i++)
    found &= strstr (all, want[i]) != NULL;
  if (rc != 6 || !found)
    g_printerr ("esactl test said (%d):\n%s\n", rc, all);
  g_assert_cmpint (rc, ==, 6);
  g_assert_true (found);
  g_assert_nonnull (strstr (all, "connectivity FAILED"));
  /* The handshake happened (the policy had something to refuse) … */
  for (guint i = 0; i < 100; i++)
    {
      g_clear_pointer (&slog, g_free);
      g_assert_true (g_file_get_contents (log, &slog, NULL, NULL));
      if (strstr (slog, "handshake: TLS1.2 ") != NULL)
        break;
      g_usleep (50 * 1000);
    }
  g_test_message ("tls-test-server said: %s", slog);
  g_assert_nonnull (strstr (slog, "handshake: TLS1.2 "));
  /* … and not one byte of a request followed it. */
  g_assert_null (strstr (slog, "application data:"));
}

/* A TLS 1.2 server that offers only CBC suites with SHA-1 MACs. GnuTLS's
 * default client priority accepts them; our policy must not, whatever the
 * name format of the suite. */
static void
test_cbc_sha1 (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *cert = g_build_filename (w->sdc_dir, "server.pem", NULL);
  g_autofree char *key = g_build_filename (w->sdc_dir, "server-key.pem", NULL);
  const char *want[] = { "TLS policy: cipher suite TLS_", "_CBC_SHA is not allowed (expected an AEAD suite)", NULL };
  check_tls_server_refused (w, cert, key,
                            "NORMAL:-VERS-TLS1.3:-AEAD:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:-MAC-ALL:+SHA1", want);
}

/* A TLS 1.2 server that offers only static-RSA key exchange (AES-GCM, so
 * only the missing forward secrecy is wrong). */
static void
test_static_rsa (Fixture *f, gconstpointer data)
{
  EtWorld *w = f->w;
  g_autofree char *key = g_build_filename (w->dir, "rsa-key.pem", NULL);
  g_autofree char *cert = g_build_filename (w->dir, "rsa-cert.pem", NULL);
  g_autofree char *ca = g_build_filename (w->sdc_dir, "ca.pem", NULL);
  g_autofree char *ca_key = g_build_filename (w->sdc_dir, "ca-key.pem", NULL);
  const char *want[] = { "TLS policy: cipher suite TLS_RSA_WITH_AES_",
                         "has no forward secrecy (expected an ECDHE or DHE key exchange)", NULL };
  make_rsa_key (key, "2048");
  make_cert (w, key, ca, ca_key, "SHA256", FALSE, cert);
  check_tls_server_refused (w, cert, key, "NORMAL:-VERS-TLS1.3:-KX-ALL:+RSA:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM",
                            want);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  et_init_env ();
  g_test_add ("/transport/tls/ipv4-ipv6", Fixture, NULL, fixture_setup, test_ipv4_ipv6, fixture_teardown);
  g_test_add ("/transport/tls/wrong-host", Fixture, NULL, fixture_setup, test_wrong_host, fixture_teardown);
  g_test_add ("/transport/tls/unknown-ca", Fixture, NULL, fixture_setup, test_unknown_ca, fixture_teardown);
  g_test_add ("/transport/tls/tls10", Fixture, NULL, fixture_setup, test_tls10, fixture_teardown);
  g_test_add ("/transport/tls/sha1", Fixture, NULL, fixture_setup, test_sha1, fixture_teardown);
  g_test_add ("/transport/tls/cbc-sha1", Fixture, NULL, fixture_setup, test_cbc_sha1, fixture_teardown);
  g_test_add ("/transport/tls/static-rsa", Fixture, NULL, fixture_setup, test_static_rsa, fixture_teardown);
  g_test_add ("/transport/tls/rsa1024", Fixture, NULL, fixture_setup, test_rsa1024, fixture_teardown);
  g_test_add ("/transport/tls/sha1-intermediate", Fixture, NULL, fixture_setup, test_sha1_intermediate,
              fixture_teardown);
  return g_test_run ();
}
