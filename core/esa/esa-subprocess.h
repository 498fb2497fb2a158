/* esa-subprocess.h: run a platform command the safe way (timeout, output cap,
 * LANG=C, clean environment, ESA_COMMAND_PATH override for tests). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  guint  timeout_ms;   /* 0 = default (60 s) */
  gsize  max_output;   /* bytes of stdout kept; 0 = default (8 MiB); more is an error */
  const char *cwd;     /* NULL = "/" */
  gboolean allow_failure; /* TRUE: a non-zero exit is not an error (status is returned) */
} EsaSubprocessOptions;

/* Runs argv (argv[0] is looked up in ESA_COMMAND_PATH, then in the safe PATH).
 * Returns stdout as a NUL-terminated string (stderr goes to *err_out if given),
 * both made valid UTF-8 by esa_text_make_valid ().
 * Fails with ESA_ERROR_TIMEOUT, ESA_ERROR_NOT_FOUND, ESA_ERROR_INVALID_DATA
 * (output over the cap), or ESA_ERROR_FAILED (non-zero exit, unless allowed). */
char *esa_subprocess_run (const char *const *argv,
                          const EsaSubprocessOptions *options, /* nullable */
                          int *exit_status,                    /* nullable */
                          char **err_out,                      /* nullable */
                          GCancellable *cancellable,
                          GError **error);

/* Outside text made safe to parse: every invalid UTF-8 sequence and every NUL
 * byte becomes U+FFFD. Parsers assume valid UTF-8 (GRegex/PCRE2 reads out of
 * bounds on invalid input), so text from commands and files passes here
 * first. @len -1: up to the first NUL. Returns the input copied when valid. */
char *esa_text_make_valid (const char *data, gssize len);

/* Convenience: esa_subprocess_run (argv, NULL, ...) with a NULL-terminated list. */
char *esa_subprocess_run_simple (GError **error, const char *arg0, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
