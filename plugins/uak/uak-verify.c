/* uak-verify.c: checks the SDC's signature over a key with the configured
 * public key (GnuTLS). The key is trusted only because of this check: the
 * TLS channel proves who sent it, not that the vendor's signing key made it. */
#include "config.h"

#include "uak-private.h"

#include <esa/esa-error.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <string.h>

struct _EsaUakVerifier {
  gnutls_pubkey_t pub;
  char *where;
};

void
esa_uak_verifier_free (EsaUakVerifier *self)
{
  if (self == NULL)
    return;
  if (self->pub != NULL)
    gnutls_pubkey_deinit (self->pub);
  g_free (self->where);
  g_free (self);
}

EsaUakVerifier *
esa_uak_verifier_new_from_data (const char *where, const char *pem, gsize len, GError **error)
{
  g_autoptr (EsaUakVerifier) self = g_new0 (EsaUakVerifier, 1);
  gnutls_datum_t d = { (unsigned char *) pem, (unsigned) len };
  unsigned bits = 0;
  int rc;

  self->where = g_strdup (where);
  if (len == 0 || len > 64 * 1024)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s: %s", where,
                   len == 0 ? "empty file (expected a PEM public key)" : "too large for a public key");
      return NULL;
    }
  if ((rc = gnutls_pubkey_init (&self->pub)) < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", where, gnutls_strerror (rc));
      return NULL;
    }
  rc = gnutls_pubkey_import (self->pub, &d, GNUTLS_X509_FMT_PEM);
  if (rc < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "%s: not a PEM public key (expected -----BEGIN PUBLIC KEY-----): %s", where,
                   gnutls_strerror (rc));
      return NULL;
    }
  /* only ECDSA: the protocol signs with P-256 and a key of another kind
   * means the wrong file was configured */
  if (gnutls_pubkey_get_pk_algorithm (self->pub, &bits) != GNUTLS_PK_ECDSA)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "%s: not an ECDSA public key (the SDC signs keys with %s)", where, ESA_UAK_ALGORITHM);
      return NULL;
    }
  /* and only P-256: GnuTLS verifies an ECDSA-SHA256 signature made on any
   * curve, so without this pin a P-384 (or weaker) key would be accepted */
  {
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
    rc = gnutls_pubkey_export_ecc_raw2 (self->pub, &curve, &x, &y, 0);
    gnutls_free (x.data);
    gnutls_free (y.data);
    if (rc < 0 || curve != GNUTLS_ECC_CURVE_SECP256R1)
      {
        g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                     "%s: ECDSA key on curve %s (expected P-256: the SDC signs keys with %s)", where,
                     rc < 0 ? gnutls_strerror (rc) : gnutls_ecc_curve_get_name (curve), ESA_UAK_ALGORITHM);
        return NULL;
      }
  }
  return g_steal_pointer (&self);
}

EsaUakVerifier *
esa_uak_verifier_new_from_file (const char *pem_path, GError **error)
{
  g_autofree char *pem = NULL;
  g_autoptr (GError) local = NULL;
  gsize len = 0;
  if (!g_file_get_contents (pem_path, &pem, &len, &local))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "UAK public key %s: %s (set [plugin.uak] public-key= to the SDC's uak-pub.pem)",
                   pem_path, local->message);
      return NULL;
    }
  return esa_uak_verifier_new_from_data (pem_path, pem, len, error);
}

gboolean
esa_uak_verifier_verify (EsaUakVerifier *self, const char *data, GBytes *signature, GError **error)
{
  gsize sig_len = 0;
  const guchar *sig_data = g_bytes_get_data (signature, &sig_len);
  gnutls_datum_t d = { (unsigned char *) data, (unsigned) strlen (data) };
  gnutls_datum_t s = { (unsigned char *) sig_data, (unsigned) sig_len };
  int rc = gnutls_pubkey_verify_data2 (self->pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &d, &s);
  if (rc < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
                   "the signature does not verify with the public key %s (%s)", self->where,
                   gnutls_strerror (rc));
      return FALSE;
    }
  return TRUE;
}
