/* esa-proxy-log.c: the access log. Lines are key=value so both people and scripts can read
 * them; each is written with one write () on an O_APPEND descriptor so lines never mix. */
#include "config.h"

#include "esa-proxy-log.h"

#include <errno.h>
#include <esa/esa-error.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

struct _EsaProxyLog {
  char *path;
  int fd;
};

static int
open_fd (const char *path, GError **error)
{
  int fd = g_open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot open access log %s: %s", path,
                   g_strerror (saved));
    }
  return fd;
}

EsaProxyLog *
esa_proxy_log_open (const char *path, GError **error)
{
  g_autoptr (EsaProxyLog) log = g_new0 (EsaProxyLog, 1);
  log->fd = STDOUT_FILENO;
  if (path != NULL)
    {
      log->path = g_strdup (path);
      log->fd = open_fd (path, error);
      if (log->fd < 0)
        return NULL;
    }
  return g_steal_pointer (&log);
}

gboolean
esa_proxy_log_reopen (EsaProxyLog *log, GError **error)
{
  int fd;
  if (log->path == NULL)
    return TRUE;
  fd = open_fd (log->path, error);
  if (fd < 0)
    return FALSE;
  close (log->fd);
  log->fd = fd;
  return TRUE;
}

const char *
esa_proxy_log_get_path (EsaProxyLog *log)
{
  return log->path;
}

void
esa_proxy_log_free (EsaProxyLog *log)
{
  if (log == NULL)
    return;
  if (log->path != NULL && log->fd >= 0)
    close (log->fd);
  g_free (log->path);
  g_free (log);
}

/* Values come from clients (user names, targets): keep each on one line, no spaces. */
static void
append_value (GString *s, const char *key, const char *value)
{
  g_string_append_printf (s, " %s=", key);
  if (value == NULL || value[0] == '\0')
    {
      g_string_append_c (s, '-');
      return;
    }
  for (const char *p = value; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;
      if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=')
        g_string_append_printf (s, "\\x%02x", c);
      else
        g_string_append_c (s, (char) c);
    }
}

char *
esa_proxy_log_format (const EsaProxyLogEntry *e)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (e->start / G_USEC_PER_SEC);
  g_autofree char *stamp = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "%s.%03dZ", stamp, (int) ((e->start % G_USEC_PER_SEC) / 1000));
  append_value (s, "client", e->client);
  append_value (s, "user", e->user);
  append_value (s, "method", e->method);
  append_value (s, "dest", e->dest);
  g_string_append_printf (s, " status=%u up=%" G_GUINT64_FORMAT " down=%" G_GUINT64_FORMAT
                             " duration=%.3f",
                          e->status, e->up, e->down, (double) e->duration / G_USEC_PER_SEC);
  append_value (s, "result", e->result);
  if (e->reason != NULL)
    {
      /* The reason is ours, but may quote client input: quote it and escape quotes. */
      g_autofree char *esc = g_strescape (e->reason, NULL);
      g_string_append_printf (s, " reason=\"%s\"", esc);
    }
  return g_string_free (s, FALSE);
}

void
esa_proxy_log_write (EsaProxyLog *log, const EsaProxyLogEntry *entry)
{
  g_autofree char *line = esa_proxy_log_format (entry);
  g_autofree char *full = g_strconcat (line, "\n", NULL);
  gsize len = strlen (full);
  gsize off = 0;

  while (off < len)
    {
      gssize n = write (log->fd, full + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_warning ("access log write failed: %s", g_strerror (errno));
          return;
        }
      off += (gsize) n;
    }
}
