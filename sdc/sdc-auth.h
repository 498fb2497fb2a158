/* sdc-auth.h: system credentials: issuing, hashing (PBKDF2-SHA256) and HTTP Basic checks. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SDC_AUTH_REALM "esa"
#define SDC_AUTH_PASSWORD_LEN 32

typedef struct {
  char *salt_hex;
  char *hash_hex;
  guint iterations;
} SdcPasswordHash;

void             sdc_password_hash_free (SdcPasswordHash *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcPasswordHash, sdc_password_hash_free)

/* "ESA-" + 16 lower-case hex digits. */
char            *sdc_auth_new_system_id (void);
/* 32 random characters from [A-Za-z0-9]. */
char            *sdc_auth_new_password  (void);
SdcPasswordHash *sdc_auth_hash_password (const char *password, GError **error);
gboolean         sdc_auth_verify        (const char *password, const char *salt_hex,
                                         const char *hash_hex, guint iterations);
/* Splits an "Authorization: Basic ..." header value; FALSE if it is not well-formed. */
gboolean         sdc_auth_parse_basic   (const char *header, char **user, char **password);

G_END_DECLS
