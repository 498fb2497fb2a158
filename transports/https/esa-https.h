/* esa-https.h: how reports leave the machine — routes (proxy ×
 * server), one HTTPS exchange, outcomes the queue understands. */
#pragma once

#include <libsoup/soup.h>
#include "esa-config.h"
#include "esa/esa-report.h"

G_BEGIN_DECLS

/* One way to reach one SDC server: through proxy N (1..3) or direct (0). */
typedef struct {
  guint proxy_index;      /* 0 = direct */
  char *proxy_url;        /* NULL when direct */
  char *proxy_user;
  char *proxy_password;   /* read from password-file= when the route is built */
  char *server;           /* https://host[:port]/ without trailing path */
} EsaRoute;

void       esa_route_free      (EsaRoute *route);
char      *esa_route_describe  (const EsaRoute *route);
/* Every route in the order the reference product tries them: each proxy in
 * order × each server in order, then direct × each server if configured.
 * @servers overrides [sdc] servers= when not NULL. A proxy whose password
 * file cannot be read is skipped with a warning in @warnings. */
GPtrArray *esa_routes_build    (EsaConfig *config, const char *const *servers, GPtrArray *warnings);

/* An SDC's answer is a small JSON object; anything bigger is not one. */
#define ESA_HTTPS_ANSWER_MAX_BYTES (1024 * 1024)

/* What one attempt says about the route and the report. */
typedef enum {
  ESA_OUTCOME_OK,           /* 2xx */
  ESA_OUTCOME_NEXT_SERVER,  /* this server failed (TCP, TLS, 3xx, 5xx, timeout, no
                             * acknowledgement): try the next server */
  ESA_OUTCOME_NEXT_PROXY,   /* this proxy failed (down, 503, 407, timeout): skip its other servers */
  ESA_OUTCOME_REJECTED,     /* the SDC said 4xx about the report: don't retry */
  ESA_OUTCOME_AUTH,         /* the SDC refused our credentials (401) */
} EsaOutcome;

typedef struct {
  EsaOutcome outcome;
  guint status;          /* HTTP status, 0 if none */
  JsonNode *answer;      /* JSON body of the answer, or NULL */
  char *answer_error;    /* why answer is NULL: "empty body", "not valid JSON: …" */
  char *message;         /* one line: what happened */
  /* Diagnostics for esactl test. */
  char *tls_version;
  char *tls_cipher;
  char *tls_peer;
  gint64 elapsed_ms;
  gint64 resolved_ms, connected_ms, proxy_ms, tls_ms;
  guint proxy_status;    /* status of the CONNECT answer, when known */
} EsaExchange;

void esa_exchange_clear (EsaExchange *ex);

/* An HTTPS client for one route: a SoupSession with the TLS policy of
 * DESIGN.md (TLS >= 1.2, SP 800-131A strength, certificate and host name
 * always verified, optional private CA) and the route's proxy. */
typedef struct _EsaHttps EsaHttps;

EsaHttps  *esa_https_new       (EsaConfig *config, const EsaRoute *route, GError **error);
void       esa_https_free      (EsaHttps *self);
const EsaRoute *esa_https_get_route (EsaHttps *self);

/* Sends @method @path (relative to the route's server) with a JSON body (or
 * none), optionally with Basic credentials and extra headers, and fills @ex.
 * Never returns without classifying the attempt. Synchronous: call it from a
 * worker thread. */
void       esa_https_json      (EsaHttps *self, const char *method, const char *path,
                                JsonNode *body, const char *user, const char *password,
                                const char *idempotency_key, GCancellable *cancellable,
                                EsaExchange *ex);
/* esa_https_json with the body already serialized (@body: JSON text, or
 * NULL for none): a caller that also hashes the body serializes it once. */
void       esa_https_json_bytes (EsaHttps *self, const char *method, const char *path,
                                 GBytes *body, const char *user, const char *password,
                                 const char *idempotency_key, GCancellable *cancellable,
                                 EsaExchange *ex);
/* Sorts an SDC's answer @status (with its JSON @answer, if any, and the
 * Location of a 3xx) into @ex's outcome and message, @where naming the route:
 * what a whole answer goes through, and each result of a batch answer. */
void       esa_https_classify_status (const char *where, guint status, JsonNode *answer,
                                      const char *location, EsaExchange *ex);
/* Streams a file as the body of PUT @path (never read whole into memory). */
void       esa_https_put_file  (EsaHttps *self, const char *path, const char *file,
                                const char *content_type, const char *sha256,
                                const char *user, const char *password,
                                GCancellable *cancellable, EsaExchange *ex);

/* Plain HTTP GET for configuration only (the fallback when no HTTPS route
 * works). Any other use of http:// is refused. */
void       esa_http_get_config (EsaConfig *config, const EsaRoute *route, const char *url,
                                GCancellable *cancellable, EsaExchange *ex);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaHttps, esa_https_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaRoute, esa_route_free)

G_END_DECLS
