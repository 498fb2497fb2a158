/* sdc-ca.c: generates the SDC's private PKI with GnuTLS.
 *
 * A reference SDC needs a certificate the agent can verify without any public CA, so
 * `init` makes a small CA of its own (ca.pem is what an agent's ca-file= points at), a
 * server certificate for localhost and the given host names, and the key that signs
 * Update Access Keys. All keys are ECDSA P-256 and all signatures SHA-256, which meets
 * NIST SP 800-131A; two test-only switches deliberately break that so the agent's TLS
 * policy can be tested against a real server. */
#include "config.h"

#include "sdc-ca.h"
#include "sdc-error.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_privkey_t, gnutls_x509_privkey_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_privkey_t, gnutls_privkey_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_pubkey_t, gnutls_pubkey_deinit, NULL)

static gboolean
gnutls_check (int rc, const char *what, GError **error)
{
  if (rc >= 0)
    return TRUE;
  g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "%s: %s", what, gnutls_strerror (rc));
  return FALSE;
}

static gboolean
write_datum (const char *dir, const char *name, const gnutls_datum_t *d, int mode, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return g_file_set_contents_full (path, (const char *) d->data, d->size,
                                   G_FILE_SET_CONTENTS_CONSISTENT, mode, error);
}

static gnutls_x509_privkey_t
new_key (GError **error)
{
  gnutls_x509_privkey_t key = NULL;
  if (!gnutls_check (gnutls_x509_privkey_init (&key), "key init", error))
    return NULL;
  if (!gnutls_check (gnutls_x509_privkey_generate2 (key, GNUTLS_PK_ECDSA,
                                                    GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                                    0, NULL, 0),
                     "generating ECDSA P-256 key", error))
    {
      gnutls_x509_privkey_deinit (key);
      return NULL;
    }
  return key;
}

/* PKCS#8 unencrypted ("BEGIN PRIVATE KEY"): the form GTlsCertificate reads everywhere. */
static gboolean
write_key (const char *dir, const char *name, gnutls_x509_privkey_t key, GError **error)
{
  gnutls_datum_t out = { NULL, 0 };
  gboolean ok;
  if (!gnutls_check (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL,
                                                        GNUTLS_PKCS_PLAIN, &out),
                     name, error))
    return FALSE;
  ok = write_datum (dir, name, &out, 0600, error);
  gnutls_free (out.data);
  return ok;
}

static gboolean
write_crt (const char *dir, const char *name, gnutls_x509_crt_t crt, GError **error)
{
  gnutls_datum_t out = { NULL, 0 };
  gboolean ok;
  if (!gnutls_check (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &out), name, error))
    return FALSE;
  ok = write_datum (dir, name, &out, 0644, error);
  gnutls_free (out.data);
  return ok;
}

/* Common fields: v3, random positive serial, validity, subject, key, key ids. */
static gboolean
crt_setup (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *dn, guint days, GError **error)
{
  guint8 serial[16];
  guint8 keyid[64];
  size_t keyid_size = sizeof (keyid);
  const char *err_pos = NULL;
  time_t now = time (NULL);

  if (!gnutls_check (gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof (serial)), "serial", error))
    return FALSE;
  serial[0] &= 0x7f; /* DER INTEGER must stay positive */
  serial[0] |= 0x01;
  if (!gnutls_check (gnutls_x509_crt_set_version (crt, 3), "version", error) ||
      !gnutls_check (gnutls_x509_crt_set_serial (crt, serial, sizeof (serial)), "serial", error) ||
      /* back-dated a little so a client clock slightly behind still accepts it */
      !gnutls_check (gnutls_x509_crt_set_activation_time (crt, now - 3600), "activation", error) ||
      !gnutls_check (gnutls_x509_crt_set_expiration_time (crt, now + (time_t) days * 86400), "expiration", error) ||
      !gnutls_check (gnutls_x509_crt_set_key (crt, key), "key", error))
    return FALSE;
  if (gnutls_x509_crt_set_dn (crt, dn, &err_pos) < 0)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL, "bad subject \"%s\" at \"%s\"", dn,
                   err_pos ? err_pos : "");
      return FALSE;
    }
  if (!gnutls_check (gnutls_x509_privkey_get_key_id (key, GNUTLS_KEYID_USE_SHA1, keyid, &keyid_size), "key id", error) ||
      !gnutls_check (gnutls_x509_crt_set_subject_key_id (crt, keyid, keyid_size), "subject key id", error))
    return FALSE;
  return TRUE;
}

static gboolean
crt_sign (gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
          gnutls_digest_algorithm_t dig, GError **error)
{
  g_auto (gnutls_privkey_t) pk = NULL;
  guint8 keyid[64];
  size_t keyid_size = sizeof (keyid);

  if (!gnutls_check (gnutls_x509_privkey_get_key_id (issuer_key, GNUTLS_KEYID_USE_SHA1, keyid, &keyid_size), "issuer key id", error) ||
      !gnutls_check (gnutls_x509_crt_set_authority_key_id (crt, keyid, keyid_size), "authority key id", error) ||
      !gnutls_check (gnutls_privkey_init (&pk), "privkey init", error) ||
      !gnutls_check (gnutls_privkey_import_x509 (pk, issuer_key, 0), "privkey import", error))
    return FALSE;
  return gnutls_check (gnutls_x509_crt_privkey_sign (crt, issuer, pk, dig, 0), "signing certificate", error);
}

static gboolean
add_san (gnutls_x509_crt_t crt, const char *name, GError **error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (name);
  if (addr != NULL)
    {
      const guint8 *bytes = g_inet_address_to_bytes (addr);
      gsize len = g_inet_address_get_native_size (addr);
      return gnutls_check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, bytes,
                                                                 (unsigned) len, GNUTLS_FSAN_APPEND),
                           name, error);
    }
  if (*name == '\0' || strchr (name, '/') != NULL || strchr (name, ' ') != NULL)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   "--hostname \"%s\": not a host name or IP address", name);
      return FALSE;
    }
  return gnutls_check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, name,
                                                             (unsigned) strlen (name), GNUTLS_FSAN_APPEND),
                       name, error);
}

static gboolean
make_uak_key (const char *dir, GError **error)
{
  g_auto (gnutls_x509_privkey_t) key = new_key (error);
  g_auto (gnutls_privkey_t) pk = NULL;
  g_auto (gnutls_pubkey_t) pub = NULL;
  gnutls_datum_t out = { NULL, 0 };
  gboolean ok;

  if (key == NULL || !write_key (dir, "uak-key.pem", key, error))
    return FALSE;
  if (!gnutls_check (gnutls_privkey_init (&pk), "privkey init", error) ||
      !gnutls_check (gnutls_privkey_import_x509 (pk, key, 0), "privkey import", error) ||
      !gnutls_check (gnutls_pubkey_init (&pub), "pubkey init", error) ||
      !gnutls_check (gnutls_pubkey_import_privkey (pub, pk, 0, 0), "pubkey import", error) ||
      !gnutls_check (gnutls_pubkey_export2 (pub, GNUTLS_X509_FMT_PEM, &out), "pubkey export", error))
    return FALSE;
  ok = write_datum (dir, "uak-pub.pem", &out, 0644, error);
  gnutls_free (out.data);
  return ok;
}

gboolean
sdc_ca_init_dir (const char *dir, const SdcCaOptions *opts, GError **error)
{
  g_autofree char *ca_path = g_build_filename (dir, "ca.pem", NULL);
  g_auto (gnutls_x509_privkey_t) ca_key = NULL;
  g_auto (gnutls_x509_privkey_t) srv_key = NULL;
  g_auto (gnutls_x509_crt_t) ca = NULL;
  g_auto (gnutls_x509_crt_t) srv = NULL;
  const char *const default_names[] = { "localhost", "127.0.0.1", "::1", NULL };
  guint days = opts->days > 0 ? opts->days : 365;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", dir, g_strerror (errsv));
      return FALSE;
    }
  /* an existing directory may have been created with a looser umask */
  if (g_chmod (dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", dir, g_strerror (errsv));
      return FALSE;
    }
  if (g_file_test (ca_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s: already exists; refusing to replace an existing CA", ca_path);
      return FALSE;
    }

  /* the CA */
  ca_key = new_key (error);
  if (ca_key == NULL ||
      !gnutls_check (gnutls_x509_crt_init (&ca), "crt init", error) ||
      !crt_setup (ca, ca_key, "CN=OpenESA SDC test CA,O=OpenESA", 3650, error) ||
      !gnutls_check (gnutls_x509_crt_set_basic_constraints (ca, 1, 0), "basic constraints", error) ||
      !gnutls_check (gnutls_x509_crt_set_key_usage (ca, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), "key usage", error) ||
      !crt_sign (ca, ca, ca_key, GNUTLS_DIG_SHA256, error))
    return FALSE;

  /* the server certificate */
  srv_key = new_key (error);
  if (srv_key == NULL ||
      !gnutls_check (gnutls_x509_crt_init (&srv), "crt init", error) ||
      !crt_setup (srv, srv_key, "CN=localhost,O=OpenESA SDC", days, error) ||
      !gnutls_check (gnutls_x509_crt_set_basic_constraints (srv, 0, -1), "basic constraints", error) ||
      !gnutls_check (gnutls_x509_crt_set_key_usage (srv, GNUTLS_KEY_DIGITAL_SIGNATURE), "key usage", error) ||
      !gnutls_check (gnutls_x509_crt_set_key_purpose_oid (srv, GNUTLS_KP_TLS_WWW_SERVER, 0), "key purpose", error))
    return FALSE;
  for (guint i = 0; default_names[i] != NULL; i++)
    if (!add_san (srv, default_names[i], error))
      return FALSE;
  for (guint i = 0; opts->hostnames != NULL && opts->hostnames[i] != NULL; i++)
    if (!add_san (srv, opts->hostnames[i], error))
      return FALSE;
  /* FOR TESTS ONLY: the two weak variants the agent must refuse. */
  if (opts->self_signed)
    {
      if (!crt_sign (srv, srv, srv_key, opts->weak_sha1 ? GNUTLS_DIG_SHA1 : GNUTLS_DIG_SHA256, error))
        return FALSE;
    }
  else if (!crt_sign (srv, ca, ca_key, opts->weak_sha1 ? GNUTLS_DIG_SHA1 : GNUTLS_DIG_SHA256, error))
    return FALSE;

  return write_key (dir, "ca-key.pem", ca_key, error) &&
         write_crt (dir, "server.pem", srv, error) &&
         write_key (dir, "server-key.pem", srv_key, error) &&
         make_uak_key (dir, error) &&
         /* ca.pem last: its presence marks a complete directory */
         write_crt (dir, "ca.pem", ca, error);
}
