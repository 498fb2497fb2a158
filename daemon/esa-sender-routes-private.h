/* esa-sender-routes-private.h: the sender's control calls. */
#pragma once

#include "esa-control-private.h"
#include "esa-sender.h"
#include "esa-registration-poll-private.h"

#include <sys/types.h>

G_BEGIN_DECLS

/* @poll: told after each activation (a pending one is asked again by esad). */
void esa_sender_add_routes (EsaControl *ctl, EsaSender *sender, EsaRegistrationPoll *poll);

/* May a control peer of uid @peer export the queue to @dir? esad writes
 * there as its own user (root), so only root or esad's own user (@self) may
 * name any folder; a member of the control group only the configured
 * [transport] outbox= (docs/security.md). ESA_ERROR_REFUSED says so. */
gboolean esa_export_dir_allowed (EsaConfig *config, uid_t peer, uid_t self, const char *dir, GError **error);

/* May a control peer of uid @peer activate against @server (NULL: the
 * configured servers)? Activation decides where every later report goes, so a
 * member of the control group may only name a server [sdc] servers= already
 * lists; root or esad's own user (@self) may name any (docs/security.md).
 * ESA_ERROR_REFUSED says so. */
gboolean esa_activate_server_allowed (EsaConfig *config, uid_t peer, uid_t self, const char *server,
                                      GError **error);

G_END_DECLS
