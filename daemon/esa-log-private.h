/* esa-log-private.h: structured logging for esad (stderr, journal or syslog). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  ESA_LOG_STDERR,  /* foreground: stderr, or the journal when stderr is the journal */
  ESA_LOG_SYSLOG,  /* daemon mode: syslog (AIX syslogd, rsyslog) */
} EsaLogTarget;

/* Installs the writer; @level is a config log-level (error … debug). */
void esa_log_setup     (EsaLogTarget target, const char *level);
void esa_log_set_level (const char *level);

G_END_DECLS
