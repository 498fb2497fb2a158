/* test-proxy-request.c: the parsers of esa-proxy that see outside input: request heads,
 * host names, CIDR ranges, password hashes and Basic credentials; and the log format. */
#include "config.h"

#include "esa-proxy-allow.h"
#include "esa-proxy-auth.h"
#include "esa-proxy-cidr.h"
#include "esa-proxy-log.h"
#include "esa-proxy-request.h"

#include <esa/esa-error.h>
#include <string.h>

static guint
parse_status (const char *text, EsaProxyRequest **out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaProxyRequest) req = NULL;
  guint status = 0;
  EsaProxyParseResult rc = esa_proxy_request_parse (text, strlen (text), 8192, &req, &status, &error);

  if (rc == ESA_PROXY_PARSE_INCOMPLETE)
    return 0;
  if (rc == ESA_PROXY_PARSE_ERROR)
    {
      g_assert_nonnull (error);
      g_assert_true (status >= 400);
      return status;
    }
  g_assert_no_error (error);
  if (out != NULL)
    *out = g_steal_pointer (&req);
  return 200;
}

static void
test_request_connect (void)
{
  g_autoptr (EsaProxyRequest) req = NULL;
  const char *text = "CONNECT SDC.Example.COM.:443 HTTP/1.1\r\nHost: sdc.example.com:443\r\n"
                     "Proxy-Authorization: Basic YTpi\r\nUser-Agent: t\r\n\r\nTLSDATA";

  g_assert_cmpuint (parse_status (text, &req), ==, 200);
  g_assert_cmpint (req->method, ==, ESA_PROXY_METHOD_CONNECT);
  g_assert_cmpstr (req->host, ==, "sdc.example.com");
  g_assert_cmpuint (req->port, ==, 443);
  g_assert_false (req->host_is_ip);
  g_assert_cmpstr (req->proxy_authorization, ==, "Basic YTpi");
  g_assert_cmpuint (req->consumed, ==, strlen (text) - strlen ("TLSDATA"));
}

/* A client may send its TLS ClientHello right behind the CONNECT head: binary
 * bytes (NUL, lone CR/LF) that belong to the tunnel, not to the head. */
static void
test_request_connect_binary_behind (void)
{
  static const char head[] = "CONNECT sdc.example.com:443 HTTP/1.1\r\nHost: sdc.example.com:443\r\n\r\n";
  static const char tls[] = { 0x16, 0x03, 0x01, 0x00, 0x0a, '\n', 0x00, '\r', 0x01, 0x02 };
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_autoptr (EsaProxyRequest) req = NULL;
  g_autoptr (GError) error = NULL;
  guint status = 0;

  g_byte_array_append (buf, (const guint8 *) head, strlen (head));
  g_byte_array_append (buf, (const guint8 *) tls, sizeof tls);
  g_assert_cmpint (esa_proxy_request_parse ((const char *) buf->data, buf->len, 8192, &req, &status, &error),
                   ==, ESA_PROXY_PARSE_OK);
  g_assert_no_error (error);
  g_assert_cmpstr (req->host, ==, "sdc.example.com");
  g_assert_cmpuint (req->consumed, ==, strlen (head));
}

static void
test_request_get (void)
{
  g_autoptr (EsaProxyRequest) req = NULL;
  const char *text = "GET HTTP://sdc.example.com/esa/v1/config?x=1 HTTP/1.1\r\n"
                     "Host: sdc.example.com:80\r\nAccept: */*\r\nConnection: keep-alive\r\n"
                     "Proxy-Connection: keep-alive\r\nContent-Length: 0\r\n\r\n";

  g_assert_cmpuint (parse_status (text, &req), ==, 200);
  g_assert_cmpint (req->method, ==, ESA_PROXY_METHOD_GET);
  g_assert_cmpstr (req->host, ==, "sdc.example.com");
  g_assert_cmpuint (req->port, ==, 80);
  g_assert_cmpstr (req->path, ==, "/esa/v1/config?x=1");
  /* hop-by-hop headers are not passed on */
  g_assert_cmpuint (req->forward_headers->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (req->forward_headers, 0), ==, "Accept: */*");
}

/* RFC 9110 §7.6.1: what Connection names is for this hop only, in any case, from any of
 * several Connection headers, with empty list elements allowed. */
static void
test_request_connection_options (void)
{
  g_autoptr (EsaProxyRequest) req = NULL;
  const char *text = "GET http://sdc.example.com/esa/v1/config HTTP/1.1\r\n"
                     "Connection: X-Secret , ,authorization\r\nAccept: */*\r\n"
                     "x-secret: 1\r\nAuthorization: Basic Zm9vOmJhcg==\r\nX-Secret-2: kept\r\n"
                     "Connection: close,TRAILER-ISH\r\nTrailer-Ish: 2\r\nX-Other: 3\r\n\r\n";
  const char *bad[] = {
    "Connection: x secret\r\n",    /* not a token */
    "Connection: x-secret;q=1\r\n", /* parameters are not allowed */
    "Connection: \"x\"\r\n",        /* quoted */
    "Connection: a,b:c\r\n",
  };

  g_assert_cmpuint (parse_status (text, &req), ==, 200);
  g_assert_cmpuint (req->forward_headers->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (req->forward_headers, 0), ==, "Accept: */*");
  g_assert_cmpstr (g_ptr_array_index (req->forward_headers, 1), ==, "X-Secret-2: kept");
  g_assert_cmpstr (g_ptr_array_index (req->forward_headers, 2), ==, "X-Other: 3");
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *t = g_strdup_printf ("GET http://a.example/esa/v1/config HTTP/1.1\r\n%s\r\n",
                                            bad[i]);
      g_assert_cmpuint (parse_status (t, NULL), ==, 400);
    }
  /* CONNECT forwards no headers; the option list is still checked */
  g_assert_cmpuint (parse_status ("CONNECT a.example:443 HTTP/1.1\r\nConnection: a b\r\n\r\n", NULL),
                    ==, 400);
}

static void
test_request_incomplete (void)
{
  g_assert_cmpuint (parse_status ("", NULL), ==, 0);
  g_assert_cmpuint (parse_status ("CONNECT a.example:443 HTTP/1.1\r\n", NULL), ==, 0);
  g_assert_cmpuint (parse_status ("CONNECT a.example:443 HTTP/1.1\r\nHost: a", NULL), ==, 0);
  /* a bad request line is answered before the head is complete */
  g_assert_cmpuint (parse_status ("POST http://a.example/ HTTP/1.1\r\n", NULL), ==, 405);
  g_assert_cmpuint (parse_status ("CONNECT a.example:443 HTTP/1.1\n", NULL), ==, 400);
}

static void
test_request_malformed (void)
{
  struct {
    const char *text;
    guint status;
  } cases[] = {
    { "POST http://a.example/ HTTP/1.1\r\n\r\n", 405 },
    { "DELETE /x HTTP/1.1\r\n\r\n", 405 },
    { "connect a.example:443 HTTP/1.1\r\n\r\n", 405 }, /* methods are case-sensitive */
    { "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nHost: a.example:443\r\n\r\n", 400 },
    { "CONNECT a.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n", 400 },
    { "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:444\r\n\r\n", 400 },
    { "CONNECT a.example:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 400 },
    { "CONNECT a.example:443 HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 400 },
    { "CONNECT a.example:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "CONNECT a.example:443 HTTP/1.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "CONNECT a.example:443 HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400 },       /* obs-fold */
    { "CONNECT a.example:443 HTTP/1.1\r\nX : a\r\n\r\n", 400 },            /* space before ':' */
    { "CONNECT a.example:443 HTTP/1.1\r\nX: a\rb\r\n\r\n", 400 },          /* bare CR */
    { "CONNECT a.example:443 HTTP/1.1\r\nX: a\nY: b\r\n\r\n", 400 },       /* bare LF */
    { "CONNECT a.example:443 HTTP/1.1\n\n", 400 },
    { "CONNECT a.example:443 HTTP/1.1\r\nX: a\001\r\n\r\n", 400 },
    { "CONNECT a.example:443 HTTP/1.1\r\nProxy-Authorization: a\r\nProxy-Authorization: b\r\n\r\n", 400 },
    { "CONNECT  a.example:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a.example:443  HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a.example:443 HTTP/2.0\r\n\r\n", 400 },
    { "CONNECT a.example:443\r\n\r\n", 400 },
    { "\r\nCONNECT a.example:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a.example HTTP/1.1\r\n\r\n", 400 },                      /* no port */
    { "CONNECT a.example:0443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a.example:65536 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a.example:+443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a.example:443:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT user@a.example:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a.example:443@b.example:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a%2eexample:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a_b.example:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT a..example:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT .a.example:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT -a.example:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT 127.1:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT 2130706433:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT 0x7f.0.0.1:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT 0177.0.0.1:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT [fe80::1%25eth0]:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT [::1:443 HTTP/1.1\r\n\r\n", 400 },
    { "CONNECT http://a.example:443/ HTTP/1.1\r\n\r\n", 400 },
    { "GET /esa/v1/config HTTP/1.1\r\nHost: a.example\r\n\r\n", 400 },  /* not a proxy request */
    { "GET https://a.example/esa/v1/config HTTP/1.1\r\n\r\n", 400 },
    { "GET http://u:p@a.example/esa/v1/config HTTP/1.1\r\n\r\n", 400 },
    { "GET http://a.example/esa/v1/config#x HTTP/1.1\r\n\r\n", 400 },
    { "GET http://a.example/esa/v1/config HTTP/1.1\r\nHost: b.example\r\n\r\n", 400 },
    { "GET http://a.example/esa/v1/config HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 400 },
    { "GET http://a.example/esa/v1/config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
    { "GET http://a.example/esa/v1/config\x01 HTTP/1.1\r\n\r\n", 400 },
    { "GET http://a.example/\x80 HTTP/1.1\r\n\r\n", 400 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint got = parse_status (cases[i].text, NULL);
      if (got != cases[i].status)
        g_error ("case %" G_GSIZE_FORMAT " (%s): got %u, expected %u", i, cases[i].text, got,
                 cases[i].status);
    }
}

static void
test_request_oversized (void)
{
  g_autoptr (GString) s = g_string_new ("CONNECT a.example:443 HTTP/1.1\r\n");
  g_autoptr (GString) line = g_string_new ("CONNECT ");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaProxyRequest) req = NULL;
  guint status = 0;

  while (s->len < 9000)
    g_string_append (s, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
  /* incomplete and already past the limit */
  g_assert_cmpint (esa_proxy_request_parse (s->str, s->len, 8192, &req, &status, &error), ==,
                   ESA_PROXY_PARSE_ERROR);
  g_assert_cmpuint (status, ==, 431);
  g_clear_error (&error);
  /* complete but too large */
  g_string_append (s, "\r\n");
  g_assert_cmpint (esa_proxy_request_parse (s->str, s->len, 8192, &req, &status, &error), ==,
                   ESA_PROXY_PARSE_ERROR);
  g_assert_cmpuint (status, ==, 431);
  g_clear_error (&error);
  /* one endless request line */
  while (line->len < 9000)
    g_string_append (line, "aaaaaaaaaa");
  g_assert_cmpint (esa_proxy_request_parse (line->str, line->len, 8192, &req, &status, &error), ==,
                   ESA_PROXY_PARSE_ERROR);
  g_assert_cmpuint (status, ==, 431);
  g_clear_error (&error);
  /* too many fields */
  g_string_assign (s, "CONNECT a.example:443 HTTP/1.1\r\n");
  for (int i = 0; i < 150; i++)
    g_string_append_printf (s, "X-%d: a\r\n", i);
  g_string_append (s, "\r\n");
  g_assert_cmpint (esa_proxy_request_parse (s->str, s->len, 8192, &req, &status, &error), ==,
                   ESA_PROXY_PARSE_ERROR);
  g_assert_cmpuint (status, ==, 431);
}

static void
test_host_normalize (void)
{
  struct {
    const char *in;
    const char *out; /* NULL: refused */
    gboolean ip;
  } cases[] = {
    { "Example.COM", "example.com", FALSE },
    { "example.com.", "example.com", FALSE },
    { "a-b.example", "a-b.example", FALSE },
    { "localhost", "localhost", FALSE },
    { "127.0.0.1", "127.0.0.1", TRUE },
    { "[::1]", "::1", TRUE },
    { "[0:0:0:0:0:0:0:1]", "::1", TRUE },
    { "[::ffff:127.0.0.1]", "::ffff:127.0.0.1", TRUE },
    { "example.com..", NULL, FALSE },
    { ".", NULL, FALSE },
    { "", NULL, FALSE },
    { "exa mple.com", NULL, FALSE },
    { "example.com-", NULL, FALSE },
    { "a.-b.example", NULL, FALSE },
    { "a%62.example", NULL, FALSE },
    { "127.000.000.001", NULL, FALSE },
    { "1.2.3", NULL, FALSE },
    { "0x7f000001", NULL, FALSE },
    { "example.123", NULL, FALSE },
    { "[127.0.0.1]", NULL, FALSE },
    { "[::1", NULL, FALSE },
    { "[fe80::1%eth0]", NULL, FALSE },
    { "ex\xc3\xa4mple.com", NULL, FALSE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL;
      g_autoptr (GError) error = NULL;
      gboolean ip = FALSE;
      gboolean ok = esa_proxy_host_normalize (cases[i].in, strlen (cases[i].in), &out, &ip, &error);
      if (cases[i].out == NULL)
        {
          if (ok)
            g_error ("%s: accepted as %s", cases[i].in, out);
          g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
        }
      else
        {
          g_assert_no_error (error);
          g_assert_cmpstr (out, ==, cases[i].out);
          g_assert_cmpint (ip, ==, cases[i].ip);
        }
    }
}

static void
test_allow_list (void)
{
  g_autoptr (EsaProxyAllowList) list = esa_proxy_allow_list_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) entries = NULL;

  g_assert_true (esa_proxy_allow_list_add (list, "SDC1.example.com:443", &error));
  g_assert_true (esa_proxy_allow_list_add_url (list, "https://sdc2.example.com/", &error));
  g_assert_true (esa_proxy_allow_list_add_url (list, "http://sdc1.example.com/esa/v1/config", &error));
  g_assert_true (esa_proxy_allow_list_add_url (list, "https://[2001:db8::1]:8443/x", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (esa_proxy_allow_list_size (list), ==, 4);
  g_assert_true (esa_proxy_allow_list_contains (list, "sdc1.example.com", 443));
  g_assert_true (esa_proxy_allow_list_contains (list, "sdc2.example.com", 443));
  g_assert_true (esa_proxy_allow_list_contains (list, "sdc1.example.com", 80));
  g_assert_true (esa_proxy_allow_list_contains (list, "2001:db8::1", 8443));
  g_assert_false (esa_proxy_allow_list_contains (list, "sdc2.example.com", 80));
  g_assert_false (esa_proxy_allow_list_contains (list, "example.com", 443));
  g_assert_false (esa_proxy_allow_list_contains (list, "sdc1.example.com.evil.example", 443));
  entries = esa_proxy_allow_list_to_strv (list);
  g_assert_cmpstr (entries[0], ==, "[2001:db8::1]:8443");
  g_assert_cmpstr (entries[1], ==, "sdc1.example.com:443");

  g_assert_false (esa_proxy_allow_list_add (list, "sdc.example.com", &error)); /* no port */
  g_clear_error (&error);
  g_assert_false (esa_proxy_allow_list_add_url (list, "ftp://sdc.example.com/", &error));
  g_clear_error (&error);
  g_assert_false (esa_proxy_allow_list_add_url (list, "https://u@sdc.example.com/", &error));
  g_clear_error (&error);
}

static void
test_cidr (void)
{
  g_autoptr (EsaProxyCidrList) list = esa_proxy_cidr_list_new ();
  g_autoptr (GError) error = NULL;
  struct {
    const char *addr;
    gboolean in_list;
    gboolean is_public;
  } cases[] = {
    { "10.1.2.3", TRUE, FALSE },        { "10.255.255.255", TRUE, FALSE },
    { "11.0.0.1", FALSE, TRUE },        { "127.0.0.1", FALSE, FALSE },
    { "::ffff:10.0.0.1", TRUE, FALSE }, { "::ffff:127.0.0.1", FALSE, FALSE },
    { "fd00::5", TRUE, FALSE },         { "fe80::1", FALSE, FALSE },
    { "::1", FALSE, FALSE },            { "2606:4700::1", FALSE, TRUE },
    { "169.254.1.1", FALSE, FALSE },    { "192.168.1.1", FALSE, FALSE },
    { "172.16.0.1", FALSE, FALSE },     { "172.32.0.1", FALSE, TRUE },
    { "100.64.0.1", FALSE, FALSE },     { "0.0.0.0", FALSE, FALSE },
    { "8.8.8.8", FALSE, TRUE },         { "224.0.0.1", FALSE, FALSE },
    /* NAT64: judged by the IPv4 address inside */
    { "64:ff9b::10.0.0.1", FALSE, FALSE }, { "64:ff9b::127.0.0.1", FALSE, FALSE },
    { "64:ff9b::8.8.8.8", FALSE, TRUE },
  };

  g_assert_true (esa_proxy_cidr_list_add (list, "10.0.0.0/8", &error));
  g_assert_true (esa_proxy_cidr_list_add (list, " fd00::/8 ", &error));
  g_assert_no_error (error);
  g_assert_false (esa_proxy_cidr_list_add (list, "10.0.0.1/8", &error)); /* host bits set */
  g_clear_error (&error);
  g_assert_false (esa_proxy_cidr_list_add (list, "10.0.0.0/33", &error));
  g_clear_error (&error);
  g_assert_false (esa_proxy_cidr_list_add (list, "example.com", &error));
  g_clear_error (&error);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GInetAddress) a = g_inet_address_new_from_string (cases[i].addr);
      g_assert_nonnull (a);
      g_assert_cmpint (esa_proxy_cidr_list_contains (list, a), ==, cases[i].in_list);
      if (esa_proxy_address_is_public (a) != cases[i].is_public)
        g_error ("%s: public should be %d", cases[i].addr, cases[i].is_public);
    }
}

static void
test_password_hash (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = esa_proxy_password_hash ("s3cret", 1000, &error);
  g_autofree char *hash2 = esa_proxy_password_hash ("s3cret", 1000, &error);
  gboolean matches = FALSE;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (hash, "$pbkdf2-sha256$1000$"));
  g_assert_cmpstr (hash, !=, hash2); /* salted */
  g_assert_true (esa_proxy_password_verify (hash, "s3cret", &matches, &error));
  g_assert_true (matches);
  g_assert_true (esa_proxy_password_verify (hash, "s3cret ", &matches, &error));
  g_assert_false (matches);
  g_assert_false (esa_proxy_password_verify ("$pbkdf2-sha256$10$AAAA$BBBB", "x", &matches, &error));
  g_clear_error (&error);
  g_assert_false (esa_proxy_password_verify ("plain", "x", &matches, &error));
  g_clear_error (&error);
  g_assert_false (esa_proxy_password_verify ("$pbkdf2-sha256$1000$!!$!!", "x", &matches, &error));
}

static void
test_basic_credentials (void)
{
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;

  g_assert_true (esa_proxy_auth_parse_basic ("Basic YWxpY2U6cGE6c3M=", &user, &password));
  g_assert_cmpstr (user, ==, "alice");
  g_assert_cmpstr (password, ==, "pa:ss");
  g_assert_false (esa_proxy_auth_parse_basic ("Bearer YWxpY2U6cGFzcw==", &user, &password));
  g_assert_false (esa_proxy_auth_parse_basic ("Basic", &user, &password));
  g_assert_false (esa_proxy_auth_parse_basic ("Basic !!!", &user, &password));
  g_assert_false (esa_proxy_auth_parse_basic ("Basic YWxpY2U=", &user, &password));   /* no ':' */
  g_assert_false (esa_proxy_auth_parse_basic ("Basic OnBhc3M=", &user, &password));   /* ":pass" */
  g_assert_false (esa_proxy_auth_parse_basic ("Basic YQBiOmM=", &user, &password));   /* NUL */
}

static void
test_log_format (void)
{
  EsaProxyLogEntry e = { 0 };
  g_autofree char *line = NULL;

  e.start = (gint64) 1700000000 * G_USEC_PER_SEC + 123456;
  e.duration = 1500000;
  e.client = "127.0.0.1:5000";
  e.user = "bad user\n";
  e.method = "CONNECT";
  e.dest = "sdc.example.com:443";
  e.status = 200;
  e.up = 10;
  e.down = 20;
  e.result = "ok";
  e.reason = "said \"hi\"";
  line = esa_proxy_log_format (&e);
  g_assert_cmpstr (line, ==,
                   "2023-11-14T22:13:20.123Z client=127.0.0.1:5000 user=bad\\x20user\\x0a "
                   "method=CONNECT dest=sdc.example.com:443 status=200 up=10 down=20 "
                   "duration=1.500 result=ok reason=\"said \\\"hi\\\"\"");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/proxy/request/connect", test_request_connect);
  g_test_add_func ("/proxy/request/connect-binary-behind", test_request_connect_binary_behind);
  g_test_add_func ("/proxy/request/get", test_request_get);
  g_test_add_func ("/proxy/request/connection-options", test_request_connection_options);
  g_test_add_func ("/proxy/request/incomplete", test_request_incomplete);
  g_test_add_func ("/proxy/request/malformed", test_request_malformed);
  g_test_add_func ("/proxy/request/oversized", test_request_oversized);
  g_test_add_func ("/proxy/host/normalize", test_host_normalize);
  g_test_add_func ("/proxy/allow-list", test_allow_list);
  g_test_add_func ("/proxy/cidr", test_cidr);
  g_test_add_func ("/proxy/auth/hash", test_password_hash);
  g_test_add_func ("/proxy/auth/basic", test_basic_credentials);
  g_test_add_func ("/proxy/log/format", test_log_format);
  return g_test_run ();
}
