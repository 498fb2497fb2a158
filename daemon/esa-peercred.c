/* esa-peercred.c: peer credentials of a Unix socket, portable to AIX. */
#include "config.h"

#include "esa-peercred-private.h"
#include "esa/esa-error.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

gboolean
esa_peer_credentials (GSocket *socket, uid_t *uid, gid_t *gid, GError **error)
{
#ifdef HAVE_GETPEEREID
  if (getpeereid (g_socket_get_fd (socket), uid, gid) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "getpeereid: %s", g_strerror (errno));
      return FALSE;
    }
  return TRUE;
#else
  g_autoptr (GCredentials) creds = g_socket_get_credentials (socket, error);
  if (creds == NULL)
    return FALSE;
  *uid = g_credentials_get_unix_user (creds, error);
  if (*uid == (uid_t) -1)
    return FALSE;
#if defined(__linux__)
  *gid = ((struct ucred *) g_credentials_get_native (creds, G_CREDENTIALS_TYPE_LINUX_UCRED))->gid;
#else
  *gid = (gid_t) -1;
#endif
  return TRUE;
#endif
}
