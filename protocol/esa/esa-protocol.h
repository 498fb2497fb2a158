/* esa-protocol.h: the names of the agent <-> SDC protocol (docs/protocol.md), in one place.
 *
 * The agent's transports, esa-proxy and esa-sdc all spell paths, headers and the
 * version through these macros, so the three cannot drift apart. Macros, not
 * variables: they concatenate with other literals ("%s" formats, log lines). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The "version" member of every request body and of the config answer. */
#define ESA_PROTOCOL_VERSION 1

/* Every endpoint lives below this path. */
#define ESA_PROTOCOL_BASE_PATH "/esa/v1/"

#define ESA_PROTOCOL_PATH_REGISTER   ESA_PROTOCOL_BASE_PATH "register"
#define ESA_PROTOCOL_PATH_UAK        ESA_PROTOCOL_BASE_PATH "uak"
/* An activated agent's own system: new contact, deactivation (authenticated). */
#define ESA_PROTOCOL_PATH_CONTACT    ESA_PROTOCOL_BASE_PATH "contact"
#define ESA_PROTOCOL_PATH_DEACTIVATE ESA_PROTOCOL_BASE_PATH "deactivate"
/* The only path plain HTTP serves, and the only one esa-proxy answers itself. */
#define ESA_PROTOCOL_PATH_CONFIG     ESA_PROTOCOL_BASE_PATH "config"
/* Followed by <report-uuid>/<name>. */
#define ESA_PROTOCOL_PATH_ATTACHMENT ESA_PROTOCOL_BASE_PATH "attachment/"
/* Several reports in one request (docs/protocol.md, "Batches"). */
#define ESA_PROTOCOL_PATH_REPORTS    ESA_PROTOCOL_BASE_PATH "reports"
/* The most reports one batch may carry. */
#define ESA_PROTOCOL_BATCH_MAX 64

/* Report kinds: each is also its endpoint, ESA_PROTOCOL_BASE_PATH <kind>. */
#define ESA_REPORT_KIND_HEARTBEAT     "heartbeat"
#define ESA_REPORT_KIND_PROBLEM       "problem"
#define ESA_REPORT_KIND_INVENTORY     "inventory"
/* Extended error data (snap) for a problem: parent = the problem's UUID. */
#define ESA_REPORT_KIND_EXTENDED_DATA "extended-data"
/* Outcome of an Update Access Key check or renewal. */
#define ESA_REPORT_KIND_UAK_STATUS    "uak-status"

/* Request headers. */
#define ESA_PROTOCOL_HEADER_IDEMPOTENCY_KEY "Idempotency-Key"
#define ESA_PROTOCOL_HEADER_SHA256          "X-Esa-Sha256"

G_END_DECLS
