/* esa-tls-policy.c: refuses weak TLS after the handshake (version, suite,
 * forward secrecy, certificate signature algorithms and key sizes, read
 * with GnuTLS). */
#include "config.h"

#include "esa-tls-policy-private.h"
#include "esa/esa-error.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

const char *
esa_tls_version_name (GTlsProtocolVersion version)
{
  switch (version)
    {
    case G_TLS_PROTOCOL_VERSION_SSL_3_0: return "SSL 3.0";
    case G_TLS_PROTOCOL_VERSION_TLS_1_0: return "TLS 1.0";
    case G_TLS_PROTOCOL_VERSION_TLS_1_1: return "TLS 1.1";
    case G_TLS_PROTOCOL_VERSION_TLS_1_2: return "TLS 1.2";
    case G_TLS_PROTOCOL_VERSION_TLS_1_3: return "TLS 1.3";
    case G_TLS_PROTOCOL_VERSION_DTLS_1_0: return "DTLS 1.0";
    case G_TLS_PROTOCOL_VERSION_DTLS_1_2: return "DTLS 1.2";
    default: return "unknown";
    }
}

static gboolean
check_certificate (GTlsCertificate *cert, guint depth, GError **error)
{
  g_autoptr (GByteArray) der = NULL;
  gnutls_x509_crt_t crt;
  gnutls_datum_t datum;
  int sign_algo, pk_algo;
  unsigned int bits = 0;
  gnutls_digest_algorithm_t digest;
  g_autofree char *subject = NULL;
  gboolean ok = TRUE;

  g_object_get (cert, "certificate", &der, NULL);
  if (der == NULL)
    return TRUE;
  if (gnutls_x509_crt_init (&crt) < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_TLS, "TLS policy: cannot inspect certificate");
      return FALSE;
    }
  datum.data = der->data;
  datum.size = der->len;
  if (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_DER) < 0)
    {
      gnutls_x509_crt_deinit (crt);
      g_set_error (error, ESA_ERROR, ESA_ERROR_TLS, "TLS policy: peer certificate %u does not parse", depth);
      return FALSE;
    }
  {
    char dn[512];
    size_t dn_len = sizeof dn;
    if (gnutls_x509_crt_get_dn (crt, dn, &dn_len) == 0)
      subject = g_strdup (dn);
    else
      subject = g_strdup_printf ("certificate %u", depth);
  }
  /* A self-signed root's own signature is not part of the chain's security. */
  if (gnutls_x509_crt_check_issuer (crt, crt) == 0)
    {
      sign_algo = gnutls_x509_crt_get_signature_algorithm (crt);
      digest = gnutls_sign_get_hash_algorithm ((gnutls_sign_algorithm_t) sign_algo);
      if (digest == GNUTLS_DIG_MD5 || digest == GNUTLS_DIG_SHA1 || digest == GNUTLS_DIG_MD2 ||
          digest == GNUTLS_DIG_SHA224 || digest == GNUTLS_DIG_UNKNOWN)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_TLS,
                       "TLS policy: %s is signed with %s (expected SHA-256 or stronger, NIST SP 800-131A)",
                       subject, gnutls_sign_get_name ((gnutls_sign_algorithm_t) sign_algo));
          ok = FALSE;
        }
    }
  pk_algo = gnutls_x509_crt_get_pk_algorithm (crt, &bits);
  if (ok && (pk_algo == GNUTLS_PK_RSA || pk_algo == GNUTLS_PK_DSA || pk_algo == GNUTLS_PK_RSA_PSS) && bits < 2048)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_TLS,
                   "TLS policy: %s has a %u-bit %s key (expected at least 2048 bits)", subject, bits,
                   gnutls_pk_get_name ((gnutls_pk_algorithm_t) pk_algo));
      ok = FALSE;
    }
  if (ok && pk_algo == GNUTLS_PK_EC && bits < 224)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_TLS,
                   "TLS policy: %s has a %u-bit EC key (expected at least 224 bits)", subject, bits);
      ok = FALSE;
    }
  gnutls_x509_crt_deinit (crt);
  return ok;
}

gboolean
esa_tls_policy_check (GTlsConnection *conn, GError **error)
{
  GTlsProtocolVersion version = g_tls_connection_get_protocol_version (conn);
  g_autofree char *cipher = g_tls_connection_get_ciphersuite_name (conn);
  GTlsCertificate *cert = g_tls_connection_get_peer_certificate (conn);
  guint depth = 0;

  if (version != G_TLS_PROTOCOL_VERSION_TLS_1_2 && version != G_TLS_PROTOCOL_VERSION_TLS_1_3)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_TLS,
                   "TLS policy: server negotiated %s (expected TLS 1.2 or newer)",
                   esa_tls_version_name (version));
      return FALSE;
    }
  /* CBC suites with SHA-1 MACs, RC4, 3DES, NULL, export: legacy everywhere.
   * GnuTLS >= 3.7.4 gives glib-networking IANA names, where SHA-1 is a bare
   * "_SHA" suffix (TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA); older ones end "SHA1". */
  if (cipher != NULL && (strstr (cipher, "RC4") || strstr (cipher, "3DES") || strstr (cipher, "NULL") ||
                         strstr (cipher, "EXPORT") || strstr (cipher, "MD5") ||
                         (strstr (cipher, "CBC") &&
                          (g_str_has_suffix (cipher, "SHA1") || g_str_has_suffix (cipher, "_SHA")))))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_TLS,
                   "TLS policy: cipher suite %s is not allowed (expected an AEAD suite)", cipher);
      return FALSE;
    }
  /* TLS 1.2 suites without an ephemeral key exchange (static RSA, static
   * (EC)DH, plain PSK): whoever gets the server's key later reads every
   * recorded session. TLS 1.3 suites are all forward-secret. IANA names
   * (TLS_RSA_WITH_…) and GnuTLS's older ones (RSA_AES_…) both. */
  if (cipher != NULL && version == G_TLS_PROTOCOL_VERSION_TLS_1_2 &&
      (g_str_has_prefix (cipher, "TLS_RSA_") || g_str_has_prefix (cipher, "TLS_DH_") ||
       g_str_has_prefix (cipher, "TLS_ECDH_") || g_str_has_prefix (cipher, "TLS_PSK_") ||
       g_str_has_prefix (cipher, "RSA_") || g_str_has_prefix (cipher, "PSK_")))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_TLS,
                   "TLS policy: cipher suite %s has no forward secrecy (expected an ECDHE or DHE key exchange)",
                   cipher);
      return FALSE;
    }
  for (; cert != NULL; cert = g_tls_certificate_get_issuer (cert), depth++)
    if (!check_certificate (cert, depth, error))
      return FALSE;
  return TRUE;
}
