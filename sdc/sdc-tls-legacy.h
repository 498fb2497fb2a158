/* sdc-tls-legacy.h: FOR TESTS ONLY: cap the TLS version `serve` offers (--tls-max-version). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* With @max_version NULL does nothing. Otherwise writes DIR/tls-priority.conf, sets
 * GNUTLS_SYSTEM_PRIORITY_FILE and re-executes the program (GnuTLS reads that variable
 * only when it initialises, which happens before main()). Returns only on error, or in
 * the re-executed process once the override is in force. */
gboolean sdc_tls_legacy_apply (const char *dir, const char *max_version, char **argv,
                               GError **error);

G_END_DECLS
