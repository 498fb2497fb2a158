/* esa-control.c: the control socket. libsoup's server listens on a Unix
 * socket in a 0750 folder owned by esad's user and the control group (the
 * first gate); every request is checked against the peer's credentials (the
 * second). */
#include "config.h"

#include "esa-control-private.h"
#include "esa-peercred-private.h"
#include "esa-memory-private.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

/* A control request is a small JSON object (an event with its data at
 * most); the cap and the depth check keep a client's body from exhausting
 * esad's memory or json-glib's recursion. */
#define ESA_CONTROL_MAX_BODY (1024 * 1024)

typedef struct {
  char *method;
  char *prefix;
  EsaControlHandler handler;
  gpointer user_data;
} Route;

struct _EsaControl {
  EsaEngine *engine;
  SoupServer *server;
  char *socket_path;
  GPtrArray *routes;
};

static void
route_free (Route *r)
{
  g_free (r->method);
  g_free (r->prefix);
  g_free (r);
}

EsaEngine *
esa_control_get_engine (EsaControl *self)
{
  return self->engine;
}

/* Is @uid in group @gid, either as primary or supplementary member? */
static gboolean
uid_in_group (uid_t uid, gid_t gid)
{
  struct passwd *pw = getpwuid (uid);
  struct group *gr = getgrgid (gid);
  if (pw == NULL || gr == NULL)
    return FALSE;
  if (pw->pw_gid == gid)
    return TRUE;
  for (char **m = gr->gr_mem; m != NULL && *m != NULL; m++)
    if (g_strcmp0 (*m, pw->pw_name) == 0)
      return TRUE;
  return FALSE;
}

gboolean
esa_control_peer_allowed (GSocket *socket, const char *group, char **why)
{
  uid_t uid;
  gid_t gid;
  struct group *gr;
  g_autoptr (GError) error = NULL;
  if (!esa_peer_credentials (socket, &uid, &gid, &error))
    {
      *why = g_strdup_printf ("cannot read peer credentials: %s", error->message);
      return FALSE;
    }
  if (uid == 0 || uid == geteuid ())
    return TRUE;
  gr = group != NULL ? getgrnam (group) : NULL;
  if (gr != NULL && (gid == gr->gr_gid || uid_in_group (uid, gr->gr_gid)))
    return TRUE;
  *why = g_strdup_printf ("uid %u is not root and not in group %s", (guint) uid,
                          group != NULL ? group : "(none)");
  return FALSE;
}

static guint
status_for_error (const GError *error)
{
  if (error->domain != ESA_ERROR)
    return 500;
  switch (error->code)
    {
    case ESA_ERROR_NOT_FOUND: return 404;
    case ESA_ERROR_INVALID_DATA:
    case ESA_ERROR_INVALID_CONFIG: return 400;
    case ESA_ERROR_REFUSED:
    case ESA_ERROR_NOT_ACTIVATED: return 403;
    case ESA_ERROR_BUSY: return 503;
    default: return 500;
    }
}

static void
reply_node (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree char *text = esa_json_to_string (node, FALSE);
  gsize len = strlen (text);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, g_steal_pointer (&text), len);
}

static void
unhold (SoupServerMessage *msg)
{
  if (g_object_get_data (G_OBJECT (msg), "esa-held") != NULL)
    {
      g_object_set_data (G_OBJECT (msg), "esa-held", NULL);
#if SOUP_CHECK_VERSION(3, 2, 0)
      soup_server_message_unpause (msg);
#else
      soup_server_unpause_message (NULL, msg);
#endif
    }
}

void
esa_control_hold (EsaControl *self, SoupServerMessage *msg)
{
  g_object_set_data (G_OBJECT (msg), "esa-held", GINT_TO_POINTER (1));
#if SOUP_CHECK_VERSION(3, 2, 0)
  soup_server_message_pause (msg);
#else
  soup_server_pause_message (self->server, msg);
#endif
}

void
esa_control_reply (EsaControl *self, SoupServerMessage *msg, JsonNode *node)
{
  reply_node (msg, 200, node);
  json_node_unref (node);
  unhold (msg);
}

static JsonNode *
error_node (const char *code, const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
esa_control_reply_error (EsaControl *self, SoupServerMessage *msg, const GError *error)
{
  g_autoptr (JsonNode) node = NULL;
  const char *code = "failed";
  if (error->domain == ESA_ERROR)
    {
      switch (error->code)
        {
        case ESA_ERROR_NOT_FOUND: code = "not_found"; break;
        case ESA_ERROR_INVALID_DATA: code = "invalid_data"; break;
        case ESA_ERROR_INVALID_CONFIG: code = "invalid_config"; break;
        case ESA_ERROR_REFUSED: code = "refused"; break;
        case ESA_ERROR_NOT_ACTIVATED: code = "not_activated"; break;
        case ESA_ERROR_TIMEOUT: code = "timeout"; break;
        case ESA_ERROR_NETWORK: code = "network"; break;
        case ESA_ERROR_TLS: code = "tls"; break;
        case ESA_ERROR_AUTH: code = "auth"; break;
        case ESA_ERROR_REJECTED: code = "rejected"; break;
        case ESA_ERROR_BUSY: code = "busy"; break;
        default: break;
        }
    }
  node = error_node (code, error->message);
  reply_node (msg, status_for_error (error), node);
  unhold (msg);
}

static void
handle_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  EsaControl *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_autofree char *why = NULL;
  g_autoptr (JsonObject) body = NULL;
  Route *best = NULL;
  SoupMessageBody *req = soup_server_message_get_request_body (msg);

  /* One request per connection. libsoup 3.2's server never notices a client
   * closing a kept-alive connection while idle and keeps its fd for good
   * (fixed upstream in 3.3.0; NOTES.md): 300 esactl calls cost esad 300 fds.
   * Closing after every answer leaves no idle connection to leak, and costs
   * nothing here — esactl sends one request per connection anyway. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  if (!esa_control_peer_allowed (soup_server_message_get_socket (msg),
                                 esa_config_get_control_group (esa_engine_get_config (self->engine)), &why))
    {
      g_autoptr (JsonNode) node = error_node ("forbidden", why);
      g_message ("control: refused a client: %s", why);
      reply_node (msg, 403, node);
      return;
    }
  if (req->length > 0)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) root = esa_json_parse (req->data, (gssize) req->length, ESA_CONTROL_MAX_BODY,
                                                  ESA_JSON_MAX_DEPTH_DEFAULT, &error);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        {
          g_autofree char *m = g_strdup_printf ("request body is not a JSON object%s%s", error ? ": " : "",
                                                error ? error->message : "");
          g_autoptr (JsonNode) node = error_node ("invalid_json", m);
          reply_node (msg, 400, node);
          return;
        }
      body = json_object_ref (json_node_get_object (root));
    }
  else
    body = json_object_new ();

  for (guint i = 0; i < self->routes->len; i++)
    {
      Route *r = g_ptr_array_index (self->routes, i);
      if (g_str_equal (r->method, method) && g_str_has_prefix (path, r->prefix) &&
          (best == NULL || strlen (r->prefix) > strlen (best->prefix)))
        best = r;
    }
  if (best == NULL)
    {
      g_autofree char *m = g_strdup_printf ("no such call: %s %s", method, path);
      g_autoptr (JsonNode) node = error_node ("not_found", m);
      reply_node (msg, 404, node);
      return;
    }
  best->handler (self, msg, path + strlen (best->prefix), body, best->user_data);
}

void
esa_control_add_route (EsaControl *self, const char *method, const char *prefix,
                       EsaControlHandler handler, gpointer user_data)
{
  Route *r = g_new0 (Route, 1);
  r->method = g_strdup (method);
  r->prefix = g_strdup (prefix);
  r->handler = handler;
  r->user_data = user_data;
  g_ptr_array_add (self->routes, r);
}

/* A stale socket from a crashed esad is removed; a live one means another
 * esad is running, and we refuse to steal its socket. */
static gboolean
claim_socket_path (const char *path, GError **error)
{
  g_autoptr (GSocketClient) client = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GSocketConnection) conn = NULL;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  client = g_socket_client_new ();
  addr = g_unix_socket_address_new (path);
  conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, NULL);
  if (conn != NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_BUSY,
                   "%s: another esad is already listening there", path);
      return FALSE;
    }
  g_unlink (path);
  return TRUE;
}

/* Gives folder @fd (named @dir) to @gid with @mode, after checking it is a
 * real folder of esad's own user: nobody else may have planted or own it. */
static gboolean
claim_folder (int fd, const char *dir, gid_t gid, mode_t mode, GError **error)
{
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISDIR (st.st_mode))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED, "control socket folder %s is not a folder", dir);
      return FALSE;
    }
  if (st.st_uid != geteuid ())
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED,
                   "control socket folder %s is owned by uid %u (expected %u, esad's user)",
                   dir, (guint) st.st_uid, (guint) geteuid ());
      return FALSE;
    }
  if (gid != (gid_t) -1 && st.st_gid != gid && fchown (fd, (uid_t) -1, gid) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot give %s to the control group: %s",
                   dir, g_strerror (errno));
      return FALSE;
    }
  if ((st.st_mode & 07777) != mode && fchmod (fd, mode) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot set mode %04o on %s: %s",
                   (guint) mode, dir, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* The socket's folder: created 0750 for esad's user and the control group,
 * or, when it exists, checked (no symlink, esad's own) and set to that. When
 * it lies in esad's state folder (the default, <state-dir>/run), the state
 * folder gets 0710 for the group: members may pass through it, not list it;
 * everything in it is 0600/0700. */
static gboolean
prepare_socket_folder (const char *dir, const char *state_dir, const char *group, GError **error)
{
  struct group *gr = group != NULL ? getgrnam (group) : NULL;
  gid_t gid = gr != NULL ? gr->gr_gid : (gid_t) -1;
  g_autofree char *parent = g_path_get_dirname (dir);
  int fd;
  gboolean ok;

  if (gr == NULL)
    g_message ("control-group %s does not exist: only root and esad's user can use the control socket",
               group != NULL ? group : "(none)");
  if (g_mkdir_with_parents (parent, 0700) != 0 || (g_mkdir (dir, 0750) != 0 && errno != EEXIST))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot create %s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED, "control socket folder %s: %s%s", dir,
                   g_strerror (errno), errno == ELOOP || errno == ENOTDIR ? " (a symbolic link or not a folder; refused)" : "");
      return FALSE;
    }
  ok = claim_folder (fd, dir, gid, 0750, error);
  close (fd);
  if (!ok || gid == (gid_t) -1 || state_dir == NULL)
    return ok;
  {
    g_autofree char *canon_parent = g_canonicalize_filename (parent, NULL);
    g_autofree char *canon_state = g_canonicalize_filename (state_dir, NULL);
    if (g_strcmp0 (canon_parent, canon_state) != 0)
      return TRUE;
  }
  fd = open (parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_REFUSED, "state folder %s: %s", parent, g_strerror (errno));
      return FALSE;
    }
  ok = claim_folder (fd, parent, gid, 0710, error);
  close (fd);
  return ok;
}

EsaControl *
esa_control_new (EsaEngine *engine, const char *socket_path, GError **error)
{
  g_autoptr (EsaControl) self = g_new0 (EsaControl, 1);
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  g_autofree char *dir = g_path_get_dirname (socket_path);
  struct group *gr;

  self->engine = engine;
  self->socket_path = g_strdup (socket_path);
  self->routes = g_ptr_array_new_with_free_func ((GDestroyNotify) route_free);
  if (!prepare_socket_folder (dir, esa_config_get_state_dir (esa_engine_get_config (engine)),
                              esa_config_get_control_group (esa_engine_get_config (engine)), error))
    return NULL;
  if (!claim_socket_path (socket_path, error))
    return NULL;
  sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (sock == NULL)
    return NULL;
  addr = g_unix_socket_address_new (socket_path);
  if (!g_socket_bind (sock, addr, TRUE, error) || !g_socket_listen (sock, error))
    {
      g_prefix_error (error, "control socket %s: ", socket_path);
      return NULL;
    }
  /* The file mode is the first gate, the peer-credential check the second. */
  gr = getgrnam (esa_config_get_control_group (esa_engine_get_config (engine)));
  if (gr != NULL && chown (socket_path, (uid_t) -1, gr->gr_gid) != 0)
    g_warning ("cannot give %s to group %s: %s", socket_path, gr->gr_name, g_strerror (errno));
  g_chmod (socket_path, 0660);
  self->server = soup_server_new ("server-header", "esad/" ESA_VERSION, NULL);
  soup_server_add_handler (self->server, NULL, handle_request, self, NULL);
  /* What a request allocated (a send, a job, an answer) is given back once
   * the answer is out. */
  g_signal_connect_swapped (self->server, "request-finished", G_CALLBACK (esa_memory_trim_soon), NULL);
  if (!soup_server_listen_socket (self->server, sock, 0, error))
    {
      g_prefix_error (error, "control socket %s: ", socket_path);
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
esa_control_free (EsaControl *self)
{
  if (self == NULL)
    return;
  if (self->server != NULL)
    {
      soup_server_disconnect (self->server);
      g_object_unref (self->server);
      g_unlink (self->socket_path);
    }
  g_ptr_array_unref (self->routes);
  g_free (self->socket_path);
  g_free (self);
}
