/* esa-credentials.h: the system id and password issued at activation,
 * kept 0600 in <state-dir>/credentials and never logged. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

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

/* The SDC answered 401 to these credentials: <state-dir>/credentials-refused keeps
 * since when and the SDC's words, so `esactl status` can say so; reports stay queued.
 * The mark names the activation it is about: a new activation is never shown as
 * refused because of the old one's answer. */
gboolean        esa_credentials_mark_refused  (const char *state_dir, const EsaCredentials *creds,
                                               const char *message, GError **error);
/* Any delivery that worked, or a new activation, clears it. */
void            esa_credentials_clear_refused (const char *state_dir);
/* {"since": ISO 8601, "message": …} when @creds (the current ones) were refused. */
JsonObject     *esa_credentials_get_refused   (const char *state_dir, const EsaCredentials *creds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaCredentials, esa_credentials_free)

G_END_DECLS
