/* sdc-ca.h: `esa-sdc init`: a throw-away CA, server certificate and UAK signing key. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  /* Extra DNS (or IP literal) subjectAltNames besides localhost, 127.0.0.1, ::1. */
  const char *const *hostnames;
  /* FOR TESTS ONLY: sign the server certificate with SHA-1 (a policy violation). */
  gboolean weak_sha1;
  /* FOR TESTS ONLY: make the server certificate self-signed instead of CA-issued. */
  gboolean self_signed;
  /* Validity of the server certificate in days (CA: 10 years). */
  guint days;
} SdcCaOptions;

/* Creates @dir (0700, must not hold a ca.pem yet) with ca.pem, ca-key.pem, server.pem,
 * server-key.pem, uak-key.pem and uak-pub.pem. */
gboolean sdc_ca_init_dir (const char *dir, const SdcCaOptions *opts, GError **error);

G_END_DECLS
