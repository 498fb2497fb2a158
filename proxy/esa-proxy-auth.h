/* esa-proxy-auth.h: client authentication (Proxy-Authorization: Basic, hashed users file). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ESA_PROXY_PBKDF2_DEFAULT_ITERATIONS 100000

typedef struct _EsaProxyUsers EsaProxyUsers;

/* Loads "user:$pbkdf2-sha256$ITER$SALT$HASH" lines ('#' comments, blank lines allowed). */
EsaProxyUsers *esa_proxy_users_load   (const char *path, GError **error);
EsaProxyUsers *esa_proxy_users_ref    (EsaProxyUsers *users);
void           esa_proxy_users_unref  (EsaProxyUsers *users);
guint          esa_proxy_users_size   (EsaProxyUsers *users);

/* Splits a "Basic base64(user:password)" value. FALSE if it is not well-formed Basic. */
gboolean       esa_proxy_auth_parse_basic (const char *value,
                                           char      **user,
                                           char      **password);

/* Checks user/password; PBKDF2 runs in a worker thread so the main loop never stalls, and a
 * success is remembered (by a digest, never the password) until the next reload. */
void           esa_proxy_users_verify_async  (EsaProxyUsers       *users,
                                              const char          *user,
                                              const char          *password,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean       esa_proxy_users_verify_finish (EsaProxyUsers *users,
                                              GAsyncResult  *result,
                                              GError       **error);

/* "$pbkdf2-sha256$ITER$SALT$HASH" for password, with a fresh random salt. */
char          *esa_proxy_password_hash    (const char *password,
                                           guint       iterations,
                                           GError    **error);
/* Compares in constant time; FALSE with an error if encoded is malformed. */
gboolean       esa_proxy_password_verify  (const char *encoded,
                                           const char *password,
                                           gboolean   *matches,
                                           GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaProxyUsers, esa_proxy_users_unref)

G_END_DECLS
