/* sdc-ui.h: the read-only web view under /ui/ on the HTTPS port: administrator login,
 * sessions, and the pages (rendered by sdc-ui-pages.c from a storage thread). */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _SdcUi SdcUi;
struct _SdcServer;

/* The administrator password lives in DIR/admin-password (PBKDF2, mode 0600). */
SdcUi   *sdc_ui_new                (const char *dir);
void     sdc_ui_free               (SdcUi *ui);

/* "/ui" or anything under "/ui/". */
gboolean sdc_ui_is_path            (const char *path);
/* The handler for a /ui path (HTTPS only): answers at once, or pauses @msg and answers
 * from a storage thread. */
void     sdc_ui_handle             (struct _SdcServer *server, SoupServerMessage *msg,
                                    const char *path, GHashTable *query);

/* `esa-sdc admin-password`: stores the PBKDF2 hash of @password (at least 10
 * characters) in DIR/admin-password. */
gboolean sdc_ui_set_admin_password (const char *dir, const char *password, GError **error);

G_END_DECLS
