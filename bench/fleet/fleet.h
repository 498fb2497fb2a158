/* bench/fleet/fleet.h: what the load generator's main part (fleet.c: command line,
 * registration, CPU figures, the output line) hands its timed part (client.c: raw
 * HTTP/1.1 over GnuTLS on epoll threads, its bytes in http.c) and gets back. */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>
#include <sys/socket.h>

typedef struct {
  /* where to connect: one address, the host name the certificate must carry, and
   * the "Host:" header and path prefix ("/" or "/base/") of every request */
  struct sockaddr_storage addr;
  socklen_t addr_len;
  const char *verify_host;
  const char *host_header;
  const char *path;
  gnutls_certificate_credentials_t cred;
  gboolean static_mode; /* GET path only (the nginx ceiling) */
  /* "Basic …" of each registered system (none in static mode) */
  char **auth;
  guint n_systems;
  guint conns;
  guint threads;
  guint seconds;
  /* called once, by the thread that sees the last warm-up answer, when measuring starts */
  void (*on_warm) (void);
} FleetConfig;

typedef struct {
  GArray *latencies; /* gint64 µs of every answer to a request sent after t0 */
  guint64 errors;    /* failed requests after t0 */
  gint64 t0;         /* monotonic µs when measuring started */
} FleetResult;

/* Runs the warm-up and the measured part on @cfg->threads threads; returns once every
 * connection has had its last answer (or failed) after @cfg->seconds of measuring. */
void fleet_client_run (const FleetConfig *cfg, FleetResult *result);

/* http.c: requests prebuilt per system, and answers read */
typedef struct {
  guint n_systems; /* 0: the static GET only */
  char *static_req;
  char **heads[2]; /* [0] heartbeat, [1] problem report: each system's head */
  size_t *head_lens[2];
} FleetRequests;

void fleet_requests_init (FleetRequests *r, const FleetConfig *cfg);
/* Request number @n (every tenth a problem report; the system n % systems) with the
 * report uuid from the random bits @a, @b and the time text @now, into @buf; its length. */
size_t fleet_request_format (const FleetRequests *r, guint64 n, guint64 a, guint64 b, const char *now, char *buf,
                             size_t size);
/* The answer in @in (@len bytes read into a buffer of @size): 1 whole (*status,
 * *keep: the connection stays open, *body), 0 not yet, -1 not HTTP/1.x as expected. */
int fleet_answer_parse (const char *in, size_t len, size_t size, int *status, gboolean *keep, const char **body,
                        size_t *body_len);
