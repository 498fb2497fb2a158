/* esa-proxy-log.h: the access log, one line per tunnel or refused request. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gint64      start;     /* g_get_real_time () when the client connected */
  gint64      duration;  /* microseconds */
  const char *client;    /* "addr:port" */
  const char *user;      /* NULL: no authentication */
  const char *method;    /* NULL: no request was read */
  const char *dest;      /* NULL: none parsed */
  guint       status;    /* HTTP status answered to the client */
  guint64     up;        /* bytes client -> destination */
  guint64     down;      /* bytes destination -> client */
  const char *result;    /* one word: ok, refused, idle-timeout, error, ... */
  const char *reason;    /* NULL or a short explanation */
} EsaProxyLogEntry;

typedef struct _EsaProxyLog EsaProxyLog;

/* path NULL: standard output (for the journal). */
EsaProxyLog *esa_proxy_log_open   (const char *path, GError **error);
/* For logrotate: reopen the same path (called on SIGHUP). */
gboolean     esa_proxy_log_reopen (EsaProxyLog *log, GError **error);
const char  *esa_proxy_log_get_path (EsaProxyLog *log);
void         esa_proxy_log_write  (EsaProxyLog *log, const EsaProxyLogEntry *entry);
void         esa_proxy_log_free   (EsaProxyLog *log);
/* The line that esa_proxy_log_write would write, without the newline. */
char        *esa_proxy_log_format (const EsaProxyLogEntry *entry);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaProxyLog, esa_proxy_log_free)

G_END_DECLS
