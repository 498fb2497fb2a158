/* snap-redact.h: removes secrets from configuration files before they leave
 * the machine: the value of every `name = value`, `name: value` or
 * `name value` line, and of every JSON `"name": "value"` pair, whose name
 * mentions password, passwd, secret, key or token becomes `***`. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns the redacted text; *n_redacted (may be NULL) counts the lines changed. */
char *snap_redact (const char *text, gsize len, guint *n_redacted);

G_END_DECLS
