/* esa-identity-routes-private.h: who this system is to the SDC — the partition in the
 * registration, re-registration with the current credentials, the contact, and
 * deactivation (docs/protocol.md). */
#pragma once

#include "esa-control-private.h"
#include "esa-deliver.h"
#include "esa/esa-platform.h"

G_BEGIN_DECLS

/* POST /v1/deactivate, GET and POST /v1/contact. */
void esa_identity_add_routes (EsaControl *ctl);

/* The partition part of the identity: lpar_id, lpar_name, os_uuid. */
void esa_identity_add_partition (JsonObject *req, const EsaPlatform *pf);

/* Sends the registration @req (worker thread) to @server (NULL: the configured ones):
 * with the current credentials when there are any (re-registration must prove them),
 * without when the SDC refuses those; a registration the SDC holds for its admin is
 * remembered so the next try repeats its uuid. Sets req's "uuid". On success
 * *pending holds the SDC's message when the registration waits for approval. */
void esa_identity_register (EsaConfig *config, const char *state_dir, const char *server,
                            JsonObject *req, JsonObject *activation, GCancellable *cancellable,
                            EsaDelivery *d, char **pending);

/* The registration the SDC holds for its admin (<state-dir>/registration-pending):
 * server, uuid, registration (REG-…), message, since, last_attempt, request,
 * activation (what `esactl activate` was given), stopped (why esad asks no
 * more); NULL when there is none. */
JsonObject *esa_identity_pending_load (const char *state_dir);
/* What status and info show of it: {since, registration, server, message,
 * last_attempt, stopped}, or a null node. */
JsonNode   *esa_identity_pending_to_json (const char *state_dir);
/* esad stops asking (the SDC refused the registration): @why shows in status. */
void        esa_identity_pending_stop (const char *state_dir, const char *why);

/* The SDC answered a registration with credentials (@d): saves them and what
 * @activation gave (the contact); {system_id, server, route}. */
JsonNode *esa_identity_accept (const char *state_dir, JsonObject *activation, EsaDelivery *d, GError **error);

/* After a new activation: the contact given with it is kept, an old refusal forgotten. */
gboolean esa_identity_activated (const char *state_dir, JsonObject *body, GError **error);

/* `esactl status`: "registration_pending": {since, registration, server, message,
 * last_attempt, stopped} or null; "credentials_refused": {since, message} or null. */
void esa_identity_status_extra (const char *state_dir, JsonBuilder *b);

G_END_DECLS
