/* esa-log.c: one GLib structured-log writer for esad, filtered by level. */
#include "config.h"

#include "esa-log-private.h"

#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

static EsaLogTarget log_target = ESA_LOG_STDERR;
static GLogLevelFlags max_level = G_LOG_LEVEL_MESSAGE;

void
esa_log_set_level (const char *level)
{
  if (g_strcmp0 (level, "error") == 0)
    max_level = G_LOG_LEVEL_CRITICAL;
  else if (g_strcmp0 (level, "warning") == 0)
    max_level = G_LOG_LEVEL_WARNING;
  else if (g_strcmp0 (level, "info") == 0)
    max_level = G_LOG_LEVEL_INFO;
  else if (g_strcmp0 (level, "debug") == 0)
    max_level = G_LOG_LEVEL_DEBUG;
  else
    max_level = G_LOG_LEVEL_MESSAGE;
}

static int
syslog_priority (GLogLevelFlags level)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) return LOG_ERR;
  if (level & G_LOG_LEVEL_WARNING) return LOG_WARNING;
  if (level & G_LOG_LEVEL_MESSAGE) return LOG_NOTICE;
  if (level & G_LOG_LEVEL_INFO) return LOG_INFO;
  return LOG_DEBUG;
}

/* Levels are bit flags ordered most severe first; "at most max_level". */
static gboolean
level_enabled (GLogLevelFlags level)
{
  GLogLevelFlags l = level & G_LOG_LEVEL_MASK;
  return l <= max_level || g_getenv ("G_MESSAGES_DEBUG") != NULL;
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *message = NULL;
  const char *domain = NULL;
  if (!level_enabled (level))
    return G_LOG_WRITER_HANDLED;
  if (log_target == ESA_LOG_STDERR)
    {
      if (g_log_writer_is_journald (fileno (stderr)) &&
          g_log_writer_journald (level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
        return G_LOG_WRITER_HANDLED;
      return g_log_writer_standard_streams (level, fields, n_fields, user_data);
    }
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
    }
  syslog (syslog_priority (level), "%s%s%s", domain ? domain : "", domain ? ": " : "",
          message ? message : "");
  return G_LOG_WRITER_HANDLED;
}

void
esa_log_setup (EsaLogTarget target, const char *level)
{
  static gsize once = 0;
  log_target = target;
  esa_log_set_level (level);
  if (target == ESA_LOG_SYSLOG)
    openlog ("esad", LOG_PID, LOG_DAEMON);
  if (g_once_init_enter (&once))
    {
      g_log_set_writer_func (writer, NULL, NULL);
      g_once_init_leave (&once, 1);
    }
}
