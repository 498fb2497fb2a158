/* bench/fleet/http.c: the bytes of the load generator's HTTP/1.1: every request head
 * built once per system (request line, Host, Authorization, Content-Type, up to
 * "Content-Length: "), so a request costs one copy and one snprintf of its uuid and
 * time; and the reading of an answer (status line, headers to the blank line,
 * Content-Length body), minimal but strict: what is not understood is an error. */
#define _GNU_SOURCE /* memmem */
#include "fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fleet_requests_init (FleetRequests *r, const FleetConfig *cfg)
{
  static const char *const paths[2] = { "esa/v1/heartbeat", "esa/v1/problem" };
  r->n_systems = cfg->static_mode ? 0 : cfg->n_systems;
  r->static_req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", cfg->path, cfg->host_header);
  for (int k = 0; k < 2; k++)
    {
      r->heads[k] = g_new0 (char *, r->n_systems);
      r->head_lens[k] = g_new0 (size_t, r->n_systems);
      for (guint i = 0; i < r->n_systems; i++)
        {
          r->heads[k][i] = g_strdup_printf ("POST %s%s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n"
                                            "Content-Type: application/json\r\nContent-Length: ",
                                            cfg->path, paths[k], cfg->host_header, cfg->auth[i]);
          r->head_lens[k][i] = strlen (r->heads[k][i]);
        }
    }
}

size_t
fleet_request_format (const FleetRequests *r, guint64 n, guint64 a, guint64 b, const char *now, char *buf,
                      size_t size)
{
  gboolean problem = n % 10 == 0;
  char body[512];
  int body_len;
  size_t len;
  if (r->n_systems == 0)
    {
      len = strlen (r->static_req);
      memcpy (buf, r->static_req, len);
      return len;
    }
  /* a v4 uuid from the 128 random bits a, b */
  body_len = snprintf (body, sizeof body,
                       "{\"version\":1,\"uuid\":\"%08x-%04x-4%03x-%04x-%012" G_GINT64_MODIFIER "x\",\"kind\":\"%s\","
                       "\"plugin\":\"bench\",\"created\":\"%s\",\"body\":{%s}}",
                       (guint) (a >> 32), (guint) (a >> 16) & 0xffff, (guint) a & 0xfff,
                       (guint) (0x8000 | ((b >> 48) & 0x3fff)), b & G_GUINT64_CONSTANT (0xffffffffffff),
                       problem ? "problem" : "heartbeat", now,
                       problem ? "\"srn\":\"651-204\",\"description\":\"bench\"" : "\"uptime\":12345");
  len = r->head_lens[problem][n % r->n_systems];
  memcpy (buf, r->heads[problem][n % r->n_systems], len);
  return len + (size_t) snprintf (buf + len, size - len, "%d\r\n\r\n%s", body_len, body);
}

int
fleet_answer_parse (const char *in, size_t len, size_t size, int *status, gboolean *keep, const char **body,
                    size_t *body_len)
{
  const char *end = memmem (in, len, "\r\n\r\n", 4);
  const char *line;
  long length = -1;
  if (end == NULL)
    return len < size ? 0 : -1;
  if (end - in < 12 || memcmp (in, "HTTP/1.", 7) != 0 || in[8] != ' ' || !g_ascii_isdigit (in[9]) ||
      !g_ascii_isdigit (in[10]) || !g_ascii_isdigit (in[11]))
    return -1;
  *status = (in[9] - '0') * 100 + (in[10] - '0') * 10 + (in[11] - '0');
  *keep = in[7] == '1';
  /* the header lines, from after the status line's "\n" to the blank line at end + 2 */
  for (line = (const char *) memchr (in, '\n', (size_t) (end + 2 - in)) + 1; line < end + 2;
       line = (const char *) memchr (line, '\n', (size_t) (end + 4 - line)) + 1)
    {
      if (g_ascii_strncasecmp (line, "Content-Length:", 15) == 0)
        length = strtol (line + 15, NULL, 10);
      else if (g_ascii_strncasecmp (line, "Transfer-Encoding:", 18) == 0)
        return -1; /* neither esa-sdc nor nginx chunk these small answers */
      else if (g_ascii_strncasecmp (line, "Connection:", 11) == 0)
        *keep = g_ascii_strncasecmp (line + 11 + strspn (line + 11, " "), "close", 5) != 0;
    }
  *body = end + 4;
  if (length < 0 || (size_t) length > size)
    return -1;
  if ((size_t) (*body - in) + (size_t) length > len)
    return 0;
  if ((size_t) (*body - in) + (size_t) length < len)
    return -1; /* bytes after the answer: nothing was pipelined */
  *body_len = (size_t) length;
  return 1;
}
