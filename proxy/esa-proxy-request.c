/* esa-proxy-request.c: parses what a client sends before a tunnel opens.
 *
 * The parser is deliberately narrower than RFC 9112: anything two HTTP implementations
 * might read differently (bare CR or LF, obs-fold, duplicate Host, Content-Length with
 * Transfer-Encoding, bodies, whitespace before ':') is an error, because the answer to an
 * ambiguous request is what request smuggling exploits. */
#include "config.h"

#include "esa-proxy-request.h"

#include "esa-proxy-allow.h"

#include <esa/esa-error.h>
#include <string.h>

#define MAX_HEADERS 100

void
esa_proxy_request_free (EsaProxyRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->target);
  g_free (request->host);
  g_free (request->path);
  g_free (request->proxy_authorization);
  if (request->forward_headers != NULL)
    g_ptr_array_unref (request->forward_headers);
  g_free (request);
}

const char *
esa_proxy_method_to_string (EsaProxyMethod method)
{
  return method == ESA_PROXY_METHOD_CONNECT ? "CONNECT" : "GET";
}

static EsaProxyParseResult
fail (guint *status, guint code, GError **error, const char *format, ...) G_GNUC_PRINTF (4, 5);

static EsaProxyParseResult
fail (guint *status, guint code, GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  *status = code;
  if (error != NULL)
    *error = g_error_new_valist (ESA_ERROR, ESA_ERROR_INVALID_DATA, format, args);
  va_end (args);
  return ESA_PROXY_PARSE_ERROR;
}

/* RFC 9110 tchar */
static gboolean
is_tchar (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static gboolean
is_token (const char *s, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!is_tchar (s[i]))
      return FALSE;
  return TRUE;
}

/* Hop-by-hop or proxy-only headers never passed on to a destination (and, RFC 9110
 * §7.6.1, every header a Connection header names: see drop_connection_options). */
static gboolean
is_hop_by_hop (const char *name)
{
  static const char *const names[] = {
    "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
    "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Adds the options of one Connection header value (a comma-separated token list, empty
 * elements allowed) to names; FALSE if an element is not a token. */
static gboolean
add_connection_options (const char *value, GPtrArray *names)
{
  g_auto (GStrv) parts = g_strsplit (value, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *opt = g_strstrip (parts[i]);
      if (opt[0] == '\0')
        continue;
      if (!is_token (opt, strlen (opt)))
        return FALSE;
      g_ptr_array_add (names, g_strdup (opt));
    }
  return TRUE;
}

/* Removes the headers the client named in Connection: they were meant for this hop only
 * (a client may name e.g. Authorization or a custom header to keep it from the server). */
static void
drop_connection_options (GPtrArray *headers, GPtrArray *names)
{
  for (guint i = headers->len; i-- > 0;)
    {
      const char *h = g_ptr_array_index (headers, i);
      gsize len = (gsize) (strchr (h, ':') - h);
      for (guint j = 0; j < names->len; j++)
        {
          const char *n = g_ptr_array_index (names, j);
          if (strlen (n) == len && g_ascii_strncasecmp (h, n, len) == 0)
            {
              g_ptr_array_remove_index (headers, i);
              break;
            }
        }
    }
}

/* Checks the line structure of everything received so far: every LF must follow a CR and
 * every CR must precede an LF, and there must be no NUL. */
static gboolean
check_line_endings (const char *buf, gsize len, const char **why)
{
  for (gsize i = 0; i < len; i++)
    {
      if (buf[i] == '\0')
        {
          *why = "NUL byte in request head";
          return FALSE;
        }
      if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
        {
          *why = "bare LF in request head";
          return FALSE;
        }
      if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n')
        {
          *why = "bare CR in request head";
          return FALSE;
        }
    }
  return TRUE;
}

static EsaProxyParseResult
parse_request_line (const char *line, gsize len, EsaProxyRequest *req, guint *status, GError **error)
{
  const char *sp1 = memchr (line, ' ', len);
  const char *sp2;
  gsize method_len;
  g_autofree char *version = NULL;
  g_autoptr (GError) local_error = NULL;

  if (sp1 == NULL)
    return fail (status, 400, error, "malformed request line");
  method_len = (gsize) (sp1 - line);
  sp2 = memchr (sp1 + 1, ' ', len - method_len - 1);
  if (sp2 == NULL || sp2 == sp1 + 1)
    return fail (status, 400, error, "malformed request line");
  version = g_strndup (sp2 + 1, len - (gsize) (sp2 + 1 - line));
  if (strcmp (version, "HTTP/1.1") != 0 && strcmp (version, "HTTP/1.0") != 0)
    return fail (status, 400, error, "unsupported HTTP version");
  req->target = g_strndup (sp1 + 1, (gsize) (sp2 - sp1 - 1));
  for (const char *p = req->target; *p != '\0'; p++)
    if ((guchar) *p <= 0x20 || (guchar) *p >= 0x7f)
      return fail (status, 400, error, "invalid character in request target");

  if (method_len == 7 && memcmp (line, "CONNECT", 7) == 0)
    req->method = ESA_PROXY_METHOD_CONNECT;
  else if (method_len == 3 && memcmp (line, "GET", 3) == 0)
    req->method = ESA_PROXY_METHOD_GET;
  else if (is_token (line, method_len))
    {
      g_autofree char *method = g_strndup (line, method_len);
      return fail (status, 405, error, "method %s not allowed (only CONNECT and GET)", method);
    }
  else
    return fail (status, 400, error, "malformed method");

  if (req->method == ESA_PROXY_METHOD_CONNECT)
    {
      if (!esa_proxy_authority_parse (req->target, 0, &req->host, &req->port, &req->host_is_ip,
                                      &local_error))
        return fail (status, 400, error, "CONNECT target: %s", local_error->message);
      return ESA_PROXY_PARSE_OK;
    }

  /* GET: only absolute-form http:// URIs, the form a client uses to talk to a proxy. */
  {
    const char *t = req->target;
    const char *rest;
    const char *end;
    g_autofree char *authority = NULL;

    if (g_ascii_strncasecmp (t, "http://", 7) != 0)
      {
        if (t[0] == '/')
          return fail (status, 400, error, "not a proxy request (expected http://host/...)");
        return fail (status, 400, error, "GET target must be an absolute http:// URI");
      }
    if (strchr (t, '#') != NULL)
      return fail (status, 400, error, "fragment in request target");
    rest = t + 7;
    end = rest + strcspn (rest, "/?");
    authority = g_strndup (rest, (gsize) (end - rest));
    if (!esa_proxy_authority_parse (authority, 80, &req->host, &req->port, &req->host_is_ip,
                                    &local_error))
      return fail (status, 400, error, "GET target: %s", local_error->message);
    if (*end == '/')
      req->path = g_strdup (end);
    else
      req->path = g_strconcat ("/", end, NULL);
  }
  return ESA_PROXY_PARSE_OK;
}

EsaProxyParseResult
esa_proxy_request_parse (const char *buf, gsize len, gsize max_size, EsaProxyRequest **out,
                         guint *status, GError **error)
{
  g_autoptr (EsaProxyRequest) req = NULL;
  const char *why = NULL;
  const char *end = NULL;
  const char *line;
  const char *eol;
  gsize head_len;
  gboolean seen_host = FALSE;
  gboolean seen_length = FALSE;
  guint n_headers = 0;
  g_autoptr (GPtrArray) connection_options = g_ptr_array_new_with_free_func (g_free);
  EsaProxyParseResult rc;

  if (len == 0)
    return ESA_PROXY_PARSE_INCOMPLETE; /* buf may be NULL then */
  for (gsize i = 0; i + 3 < len; i++)
    if (memcmp (buf + i, "\r\n\r\n", 4) == 0)
      {
        end = buf + i;
        break;
      }
  /* Only the head: what follows a CONNECT is the client's TLS data, binary. */
  if (!check_line_endings (buf, MIN (end != NULL ? (gsize) (end - buf) + 4 : len, max_size), &why))
    return fail (status, 400, error, "%s", why);
  if (end == NULL)
    {
      if (len >= max_size)
        return fail (status, 431, error, "request head larger than %" G_GSIZE_FORMAT " bytes",
                     max_size);
      /* Answer a bad request line as soon as it is complete rather than waiting, and
       * something that does not even start with a method (a TLS hello) at once. */
      for (gsize i = 0; i < len && buf[i] != ' '; i++)
        if (!is_tchar (buf[i]) && !(buf[i] == '\r' && i == 0))
          return fail (status, 400, error, "malformed method");
      eol = g_strstr_len (buf, (gssize) len, "\r\n");
      if (eol != NULL)
        {
          g_autoptr (EsaProxyRequest) probe = g_new0 (EsaProxyRequest, 1);
          if (eol == buf)
            return fail (status, 400, error, "empty request line");
          rc = parse_request_line (buf, (gsize) (eol - buf), probe, status, error);
          if (rc != ESA_PROXY_PARSE_OK)
            return rc;
        }
      return ESA_PROXY_PARSE_INCOMPLETE;
    }
  head_len = (gsize) (end - buf) + 4;
  if (head_len > max_size)
    return fail (status, 431, error, "request head larger than %" G_GSIZE_FORMAT " bytes", max_size);

  req = g_new0 (EsaProxyRequest, 1);
  req->consumed = head_len;
  eol = g_strstr_len (buf, (gssize) head_len, "\r\n");
  if (eol == buf)
    return fail (status, 400, error, "empty request line");
  rc = parse_request_line (buf, (gsize) (eol - buf), req, status, error);
  if (rc != ESA_PROXY_PARSE_OK)
    return rc;
  if (req->method == ESA_PROXY_METHOD_GET)
    req->forward_headers = g_ptr_array_new_with_free_func (g_free);

  for (line = eol + 2; line < end + 2; line = eol + 2)
    {
      const char *colon;
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;
      const char *v;
      const char *vend;

      eol = g_strstr_len (line, (gssize) (end + 2 - line), "\r\n");
      if (line[0] == ' ' || line[0] == '\t')
        return fail (status, 400, error, "obsolete line folding in header");
      if (++n_headers > MAX_HEADERS)
        return fail (status, 431, error, "more than %d header fields", MAX_HEADERS);
      colon = memchr (line, ':', (gsize) (eol - line));
      if (colon == NULL || !is_token (line, (gsize) (colon - line)))
        return fail (status, 400, error, "malformed header field");
      name = g_strndup (line, (gsize) (colon - line));
      v = colon + 1;
      vend = eol;
      while (v < vend && (*v == ' ' || *v == '\t'))
        v++;
      while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
        vend--;
      for (const char *p = v; p < vend; p++)
        if (((guchar) *p < 0x20 && *p != '\t') || *p == 0x7f)
          return fail (status, 400, error, "control character in header %s", name);
      value = g_strndup (v, (gsize) (vend - v));

      if (g_ascii_strcasecmp (name, "Host") == 0)
        {
          g_autofree char *h = NULL;
          guint16 p = 0;
          if (seen_host)
            return fail (status, 400, error, "duplicate Host header");
          seen_host = TRUE;
          /* A Host naming another destination than the target is how a request reaches
           * one host through the check of another. */
          if (!esa_proxy_authority_parse (value, req->port, &h, &p, NULL, NULL) ||
              g_strcmp0 (h, req->host) != 0 || p != req->port)
            return fail (status, 400, error, "Host header does not match the request target");
        }
      else if (g_ascii_strcasecmp (name, "Content-Length") == 0)
        {
          if (seen_length)
            return fail (status, 400, error, "duplicate Content-Length header");
          seen_length = TRUE;
          if (value[0] == '\0' || strspn (value, "0") != strlen (value))
            return fail (status, 400, error, "request bodies are not accepted");
        }
      else if (g_ascii_strcasecmp (name, "Connection") == 0)
        {
          if (!add_connection_options (value, connection_options))
            return fail (status, 400, error, "malformed Connection header (expected a list of header names)");
        }
      else if (g_ascii_strcasecmp (name, "Transfer-Encoding") == 0)
        return fail (status, 400, error, "Transfer-Encoding is not accepted");
      else if (g_ascii_strcasecmp (name, "Proxy-Authorization") == 0)
        {
          if (req->proxy_authorization != NULL)
            return fail (status, 400, error, "duplicate Proxy-Authorization header");
          req->proxy_authorization = g_steal_pointer (&value);
        }
      else if (req->forward_headers != NULL && !is_hop_by_hop (name))
        g_ptr_array_add (req->forward_headers, g_strdup_printf ("%s: %s", name, value));
    }

  if (req->forward_headers != NULL)
    drop_connection_options (req->forward_headers, connection_options);
  *out = g_steal_pointer (&req);
  return ESA_PROXY_PARSE_OK;
}
