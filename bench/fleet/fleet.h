/* bench/fleet/fleet.h: what the load generator's main part (fleet.c: command line,
 * registration, CPU figures, the output line) hands its timed part (client.c: raw
 * HTTP/1.1 over GnuTLS on epoll threads) and gets back. */
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
