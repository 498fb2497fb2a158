/* esa-credentials.h: the system id and password issued at activation,
 * kept 0600 in <state-dir>/credentials and never logged. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *system_id;
  char *password;
  char *server;     /* where we registered */
  char *activated;  /* ISO 8601 */
} EsaCredentials;

char           *esa_credentials_path (const char *state_dir);
/* NULL with ESA_ERROR_NOT_ACTIVATED when there is no file. */
EsaCredentials *esa_credentials_load (const char *state_dir, GError **error);
gboolean        esa_credentials_save (const char *state_dir, const EsaCredentials *creds, GError **error);
gboolean        esa_credentials_remove (const char *state_dir, GError **error);
void            esa_credentials_free (EsaCredentials *creds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaCredentials, esa_credentials_free)

G_END_DECLS
