/* esa-proxy-request.h: the strict HTTP/1.1 proxy request parser (request line + headers). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  ESA_PROXY_METHOD_CONNECT,
  ESA_PROXY_METHOD_GET,
} EsaProxyMethod;

typedef struct {
  EsaProxyMethod method;
  char          *target;              /* as sent, for the log */
  char          *host;                /* normalized (esa_proxy_authority_parse) */
  guint16        port;
  gboolean       host_is_ip;
  char          *path;                /* GET only: path and query as sent */
  char          *proxy_authorization; /* raw header value, or NULL */
  GPtrArray     *forward_headers;     /* GET only: "Name: value" end-to-end headers */
  gsize          consumed;            /* bytes of the head, final CRLF CRLF included */
} EsaProxyRequest;

typedef enum {
  ESA_PROXY_PARSE_OK,
  ESA_PROXY_PARSE_INCOMPLETE,
  ESA_PROXY_PARSE_ERROR,
} EsaProxyParseResult;

/* Parses the request head at the start of buf. INCOMPLETE: read more (the bytes seen so far
 * are valid). ERROR: *status is the HTTP status to answer (400, 405, 431) and error says why.
 * Bytes after the head (consumed..len) are not looked at. */
EsaProxyParseResult esa_proxy_request_parse (const char       *buf,
                                             gsize             len,
                                             gsize             max_size,
                                             EsaProxyRequest **out,
                                             guint            *status,
                                             GError          **error);
void                esa_proxy_request_free  (EsaProxyRequest *request);
const char         *esa_proxy_method_to_string (EsaProxyMethod method);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaProxyRequest, esa_proxy_request_free)

G_END_DECLS
