/* sdc-server.h: `esa-sdc serve`: the HTTPS (and config-only HTTP) front of the SDC. */
#pragma once

#include <gio/gio.h>

#include "sdc-store.h"
#include "sdc-uak.h"

G_BEGIN_DECLS

typedef struct {
  char *dir;
  char *db;                /* store location: NULL for DIR/sdc.db, or postgresql://… */
  GPtrArray *listen;       /* "127.0.0.1:8443", "[::1]:8443" (HTTPS) */
  GPtrArray *http_listen;  /* plain HTTP, GET /esa/v1/config only */
  GPtrArray *public_urls;  /* "servers" in /config; default: the HTTPS listen URLs */
  guint64 max_body;
  guint64 max_attachment;
  guint uak_days;
  SdcUakFlags uak_flags;
  char *heartbeat;         /* schedule advertised by /config */
  guint login_failures;    /* failed logins per address / system id before 429 */
  guint login_window;      /* seconds those failures are counted over */
  guint max_pending_per_client; /* connections per address before their first head */
  guint header_timeout;    /* seconds for the TLS handshake and first request head */
  guint db_writers;        /* writer threads/connections; 0: sdc_writer_default_writers */
  guint http_threads;      /* HTTPS loops (sdc-loops.c); 0: the default, sdc_server_default_http_threads */
} SdcServerOptions;

typedef struct _SdcServer SdcServer;

SdcServer *sdc_server_new   (const SdcServerOptions *opts, GError **error);
/* Binds every listener and prints "listening on URL" for each to stdout. */
gboolean   sdc_server_start (SdcServer *self, GError **error);
void       sdc_server_free  (SdcServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcServer, sdc_server_free)

/* HTTPS loops when --http-threads is not given: one per two cores (at least 1, at most
 * 4) where the kernel spreads connections over SO_REUSEPORT sockets (Linux), else 1. */
guint      sdc_server_default_http_threads (void);
/* The most --http-threads allows here (1 without Linux's SO_REUSEPORT). */
guint      sdc_server_max_http_threads     (void);

/* Parses "IPv4:PORT" or "[IPv6]:PORT" (an IP literal, not a name). */
GSocketAddress *sdc_server_parse_listen (const char *spec, GError **error);

/* The store location `--db` names, or DIR/sdc.db without it. */
char           *sdc_server_db_location  (const char *dir, const char *db);
/* The UAK signing key: for a database shared by several instances, the one stored in
 * the database (the first instance stores its own), so every instance signs alike. */
SdcUak         *sdc_server_load_uak     (SdcStore *store, const char *dir, guint days,
                                         SdcUakFlags flags, GError **error);

G_END_DECLS
