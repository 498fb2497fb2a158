/* esa-peercred-private.h: who is on the other end of a Unix socket. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* GCredentials where GLib supports it (Linux, BSD), getpeereid () elsewhere
 * (AIX has no GCredentials support in GLib; NOTES.md). */
gboolean esa_peer_credentials (GSocket *socket, uid_t *uid, gid_t *gid, GError **error);

G_END_DECLS
