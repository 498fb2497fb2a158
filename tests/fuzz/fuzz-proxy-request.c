/* fuzz-proxy-request.c: esa-proxy's request-head parser (proxy/esa-proxy-request.c), the
 * first thing that reads bytes from a client, with its invariants checked: a parsed head
 * lies within the input, names a host and port, and no shorter prefix of the input already
 * parses (the server re-parses as bytes arrive). */
#include "config.h"

#include "fuzz.h"

#include "esa-proxy-allow.h"
#include "esa-proxy-request.h"

#include <string.h>

#define MAX_HEAD 8192

static EsaProxyParseResult
parse (const char *buf, gsize len, EsaProxyRequest **req)
{
  g_autoptr (GError) error = NULL;
  guint status = 0;
  EsaProxyParseResult rc = esa_proxy_request_parse (buf, len, MAX_HEAD, req, &status, &error);

  if (rc == ESA_PROXY_PARSE_ERROR)
    g_assert_true (error != NULL && status >= 400 && status < 500);
  else
    g_assert_null (error);
  return rc;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* A copy of exactly size bytes, so reading past the end is caught by ASan. */
  g_autofree char *buf = g_memdup2 (data, size);
  g_autoptr (EsaProxyRequest) req = NULL;

  if (parse (buf, size, &req) != ESA_PROXY_PARSE_OK)
    return 0;
  g_assert_true (req->consumed >= 4 && req->consumed <= size && req->consumed <= MAX_HEAD);
  g_assert_true (memcmp (buf + req->consumed - 4, "\r\n\r\n", 4) == 0);
  g_assert_nonnull (req->host);
  g_assert_nonnull (req->target);
  g_assert_cmpuint (req->port, >, 0);
  if (req->method == ESA_PROXY_METHOD_GET)
    {
      g_assert_true (req->path != NULL && req->path[0] == '/');
      g_assert_nonnull (req->forward_headers);
      for (guint i = 0; i < req->forward_headers->len; i++)
        g_assert_nonnull (strchr (g_ptr_array_index (req->forward_headers, i), ':'));
    }
  g_free (esa_proxy_authority_format (req->host, req->port));
  for (gsize cut = 0; cut < req->consumed; cut += 1 + req->consumed / 8)
    {
      g_autoptr (EsaProxyRequest) early = NULL;
      g_autofree char *prefix = g_memdup2 (buf, cut);
      g_assert_cmpint (parse (prefix, cut, &early), !=, ESA_PROXY_PARSE_OK);
    }
  return 0;
}
