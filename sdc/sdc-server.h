/* sdc-server.h: `esa-sdc serve`: the HTTPS (and config-only HTTP) front of the SDC. */
#pragma once

#include <gio/gio.h>

#include "sdc-uak.h"

G_BEGIN_DECLS

typedef struct {
  char *dir;
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
} SdcServerOptions;

typedef struct _SdcServer SdcServer;

SdcServer *sdc_server_new   (const SdcServerOptions *opts, GError **error);
/* Binds every listener and prints "listening on URL" for each to stdout. */
gboolean   sdc_server_start (SdcServer *self, GError **error);
void       sdc_server_free  (SdcServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcServer, sdc_server_free)

/* Parses "IPv4:PORT" or "[IPv6]:PORT" (an IP literal, not a name). */
GSocketAddress *sdc_server_parse_listen (const char *spec, GError **error);

G_END_DECLS
