/* test-sdc-init.c: `esa-sdc init` makes a usable, policy-conforming PKI (checked with
 * GnuTLS), and its test-only weak variants are really weak. */
#include "config.h"

#include <glib/gstdio.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <sys/stat.h>

#include "esa-test-util.h"

static gnutls_x509_crt_t
load_crt (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *pem = NULL;
  gsize len = 0;
  gnutls_datum_t d;
  gnutls_x509_crt_t crt = NULL;
  g_assert_true (g_file_get_contents (path, &pem, &len, NULL));
  d.data = (guchar *) pem;
  d.size = (unsigned) len;
  g_assert_cmpint (gnutls_x509_crt_init (&crt), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_import (crt, &d, GNUTLS_X509_FMT_PEM), ==, 0);
  return crt;
}

static int
run_init (const char *dir, const char *a, const char *b, const char *c, char **err)
{
  g_autofree char *bin = esa_test_build_path ("sdc/esa-sdc");
  const char *argv[] = { bin, "init", dir, a, b, c, NULL };
  return esa_test_run (argv, NULL, err);
}

static gboolean
has_san (gnutls_x509_crt_t crt, unsigned want_type, const void *want, size_t want_len)
{
  for (unsigned i = 0;; i++)
    {
      char buf[256];
      size_t size = sizeof (buf);
      unsigned critical = 0;
      int type = gnutls_x509_crt_get_subject_alt_name (crt, i, buf, &size, &critical);
      if (type < 0)
        return FALSE;
      if ((unsigned) type == want_type && size == want_len && memcmp (buf, want, want_len) == 0)
        return TRUE;
    }
}

static unsigned
verify_against_ca (const char *dir, gnutls_x509_crt_t crt)
{
  gnutls_x509_crt_t ca = load_crt (dir, "ca.pem");
  unsigned status = 0;
  g_assert_cmpint (gnutls_x509_crt_verify (crt, &ca, 1, 0, &status), ==, 0);
  gnutls_x509_crt_deinit (ca);
  return status;
}

static void
test_init_good (void)
{
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-init");
  g_autofree char *dir = g_build_filename (tmp, "sdc", NULL);
  const char *files[] = { "ca.pem", "ca-key.pem", "server.pem", "server-key.pem", "uak-key.pem", "uak-pub.pem" };
  gnutls_x509_crt_t srv, ca;
  unsigned bits = 0;
  guint8 v4[] = { 127, 0, 0, 1 };
  guint8 v6[16] = { 0 };
  guint8 extra_ip[] = { 192, 0, 2, 7 };
  time_t now = time (NULL);
  GStatBuf st;
  g_autofree char *err = NULL;

  v6[15] = 1;
  g_assert_cmpint (run_init (dir, "--hostname", "sdc.example.com", "--hostname=192.0.2.7", NULL), ==, 0);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (dir, files[i], NULL);
      g_assert_cmpint (g_stat (p, &st), ==, 0);
      if (strstr (files[i], "key") != NULL)
        g_assert_cmpint (st.st_mode & 0077, ==, 0); /* private keys: owner only */
    }

  srv = load_crt (dir, "server.pem");
  ca = load_crt (dir, "ca.pem");
  /* NIST SP 800-131A: SHA-256 signature, P-256 key */
  g_assert_cmpint (gnutls_x509_crt_get_signature_algorithm (srv), ==, GNUTLS_SIGN_ECDSA_SHA256);
  g_assert_cmpint (gnutls_x509_crt_get_signature_algorithm (ca), ==, GNUTLS_SIGN_ECDSA_SHA256);
  g_assert_cmpint (gnutls_x509_crt_get_pk_algorithm (srv, &bits), ==, GNUTLS_PK_ECDSA);
  g_assert_cmpuint (bits, >=, 256);
  /* names */
  g_assert_true (has_san (srv, GNUTLS_SAN_DNSNAME, "localhost", 9));
  g_assert_true (has_san (srv, GNUTLS_SAN_DNSNAME, "sdc.example.com", 15));
  g_assert_true (has_san (srv, GNUTLS_SAN_IPADDRESS, v4, 4));
  g_assert_true (has_san (srv, GNUTLS_SAN_IPADDRESS, v6, 16));
  g_assert_true (has_san (srv, GNUTLS_SAN_IPADDRESS, extra_ip, 4));
  g_assert_true (gnutls_x509_crt_check_hostname (srv, "localhost"));
  g_assert_true (gnutls_x509_crt_check_hostname (srv, "::1"));
  g_assert_false (gnutls_x509_crt_check_hostname (srv, "other.example.com"));
  /* about one year */
  g_assert_cmpint (gnutls_x509_crt_get_expiration_time (srv) - now, >, 364 * 86400);
  g_assert_cmpint (gnutls_x509_crt_get_expiration_time (srv) - now, <=, 366 * 86400);
  g_assert_cmpint (gnutls_x509_crt_get_activation_time (srv), <=, now);
  /* a CA, and the server certificate chains to it */
  g_assert_cmpint (gnutls_x509_crt_get_ca_status (ca, NULL), ==, 1);
  g_assert_cmpint (gnutls_x509_crt_get_ca_status (srv, NULL), ==, 0);
  g_assert_cmpuint (verify_against_ca (dir, srv), ==, 0);
  gnutls_x509_crt_deinit (srv);
  gnutls_x509_crt_deinit (ca);

  /* and GIO accepts the pair as a server certificate */
  {
    g_autofree char *c = g_build_filename (dir, "server.pem", NULL);
    g_autofree char *k = g_build_filename (dir, "server-key.pem", NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (GTlsCertificate) cert = g_tls_certificate_new_from_files (c, k, &error);
    g_assert_no_error (error);
    g_assert_nonnull (cert);
  }

  /* a second init never replaces the CA */
  g_assert_cmpint (run_init (dir, NULL, NULL, NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "already exists"));
  esa_test_rmtree (dir);
  esa_test_rmtree (tmp);
}

static void
test_init_uak_key (void)
{
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-init");
  g_autofree char *key_path = g_build_filename (tmp, "uak-key.pem", NULL);
  g_autofree char *pub_path = g_build_filename (tmp, "uak-pub.pem", NULL);
  g_autofree char *key_pem = NULL;
  g_autofree char *pub_pem = NULL;
  gsize klen = 0, plen = 0;
  gnutls_privkey_t key = NULL;
  gnutls_pubkey_t pub = NULL;
  gnutls_datum_t kd, pd, sig = { NULL, 0 };
  gnutls_datum_t data = { (guchar *) "UAK1;test", 9 };
  unsigned bits = 0;

  g_assert_cmpint (run_init (tmp, NULL, NULL, NULL, NULL), ==, 0);
  g_assert_true (g_file_get_contents (key_path, &key_pem, &klen, NULL));
  g_assert_true (g_file_get_contents (pub_path, &pub_pem, &plen, NULL));
  kd.data = (guchar *) key_pem;
  kd.size = (unsigned) klen;
  pd.data = (guchar *) pub_pem;
  pd.size = (unsigned) plen;
  g_assert_cmpint (gnutls_privkey_init (&key), ==, 0);
  g_assert_cmpint (gnutls_privkey_import_x509_raw (key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0), ==, 0);
  g_assert_cmpint (gnutls_pubkey_init (&pub), ==, 0);
  g_assert_cmpint (gnutls_pubkey_import (pub, &pd, GNUTLS_X509_FMT_PEM), ==, 0);
  g_assert_cmpint (gnutls_pubkey_get_pk_algorithm (pub, &bits), ==, GNUTLS_PK_ECDSA);
  g_assert_cmpuint (bits, ==, 256);
  g_assert_cmpint (gnutls_privkey_sign_data (key, GNUTLS_DIG_SHA256, 0, &data, &sig), ==, 0);
  g_assert_cmpint (gnutls_pubkey_verify_data2 (pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig), >=, 0);
  gnutls_free (sig.data);
  gnutls_privkey_deinit (key);
  gnutls_pubkey_deinit (pub);
  esa_test_rmtree (tmp);
}

static void
test_init_weak (void)
{
  g_autofree char *tmp = esa_test_mkdtemp ("test-sdc-init");
  g_autofree char *sha1 = g_build_filename (tmp, "sha1", NULL);
  g_autofree char *self = g_build_filename (tmp, "self", NULL);
  g_autofree char *err = NULL;
  gnutls_x509_crt_t crt;

  g_assert_cmpint (run_init (sha1, "--weak-sha1", NULL, NULL, &err), ==, 0);
  g_assert_nonnull (strstr (err, "tests only"));
  crt = load_crt (sha1, "server.pem");
  g_assert_cmpint (gnutls_x509_crt_get_signature_algorithm (crt), ==, GNUTLS_SIGN_ECDSA_SHA1);
  gnutls_x509_crt_deinit (crt);

  g_assert_cmpint (run_init (self, "--self-signed", NULL, NULL, NULL), ==, 0);
  crt = load_crt (self, "server.pem");
  g_assert_cmpint (gnutls_x509_crt_get_signature_algorithm (crt), ==, GNUTLS_SIGN_ECDSA_SHA256);
  g_assert_true (gnutls_x509_crt_check_issuer (crt, crt));
  g_assert_cmpuint (verify_against_ca (self, crt) & GNUTLS_CERT_INVALID, !=, 0);
  gnutls_x509_crt_deinit (crt);

  /* bad input is refused with a reason */
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *bad = g_build_filename (tmp, "bad", NULL);
    g_assert_cmpint (run_init (bad, "--hostname", "a b", NULL, &err), !=, 0);
    g_assert_nonnull (strstr (err, "a b"));
    esa_test_rmtree (bad);
  }
  esa_test_rmtree (sha1);
  esa_test_rmtree (self);
  esa_test_rmtree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdc-init/good", test_init_good);
  g_test_add_func ("/sdc-init/uak-key", test_init_uak_key);
  g_test_add_func ("/sdc-init/weak", test_init_weak);
  return g_test_run ();
}
