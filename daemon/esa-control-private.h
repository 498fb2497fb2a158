/* esa-control-private.h: esad's control API — HTTP+JSON on a Unix socket,
 * admitting only root, the control group, or esad's own user. */
#pragma once

#include <libsoup/soup.h>
#include "esa-engine.h"

G_BEGIN_DECLS

typedef struct _EsaControl EsaControl;

/* A route handler. Reply with esa_control_reply*() now, or pause the message
 * (esa_control_hold) and reply later from a callback. @body is the request's
 * JSON object (empty for GET). @rest is the path after the route prefix. */
typedef void (*EsaControlHandler) (EsaControl *ctl, SoupServerMessage *msg, const char *rest,
                                   JsonObject *body, gpointer user_data);

EsaControl *esa_control_new        (EsaEngine *engine, const char *socket_path, GError **error);
void        esa_control_free       (EsaControl *self);
/* Routes are matched by method and path prefix, longest prefix first. */
void        esa_control_add_route  (EsaControl *self, const char *method, const char *prefix,
                                    EsaControlHandler handler, gpointer user_data);
EsaEngine  *esa_control_get_engine (EsaControl *self);
/* Keeps @msg open until a reply is given later. */
void        esa_control_hold       (EsaControl *self, SoupServerMessage *msg);
/* Replies with @node (takes it) and status 200. */
void        esa_control_reply      (EsaControl *self, SoupServerMessage *msg, JsonNode *node);
/* Replies {"error":{"code":…, "message":…}} with an HTTP status chosen from @error. */
void        esa_control_reply_error (EsaControl *self, SoupServerMessage *msg, const GError *error);

/* Checks a peer's credentials against the policy; exposed for the tests. */
gboolean    esa_control_peer_allowed (GSocket *socket, const char *group, char **why);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaControl, esa_control_free)

G_END_DECLS
