/* snap-tokens.h: the per-system redaction map. Extended data names this
 * system's host names and IP addresses as stable tokens (`host-1`, `ip-3`)
 * instead of the values, so two reports of one system stay comparable and
 * the SDC learns neither. The map (value → token) is kept in the plugin's
 * state folder (mode 0600) and never leaves the machine. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SnapTokens SnapTokens;

/* Opens the map at @path (a missing file is an empty map; a damaged one is
 * moved aside to PATH.bad with a warning: redaction must not stop). */
SnapTokens *snap_tokens_open     (const char *path);
void        snap_tokens_free     (SnapTokens *self);
/* A host name of this system to find in text (short and full forms). */
void        snap_tokens_add_host (SnapTokens *self, const char *name);
/* The token of @value ("host", "ip"), allocated on first sight. */
char       *snap_tokens_get      (SnapTokens *self, const char *kind, const char *value);
/* Writes the map (temporary file, fsync, rename; 0600). */
gboolean    snap_tokens_save     (SnapTokens *self, GError **error);

/* @text with this system's host names, and IPv4/IPv6 addresses, replaced by
 * their tokens. Bytes pass through otherwise (text need not be UTF-8).
 * Loopback, unspecified and netmask-like addresses (127.x, 0.0.0.0,
 * 255.x, ::1) and dotted quads of single digits (software levels such as
 * 7.3.1.0) are kept. *n_replaced (may be NULL) counts the replacements. */
char       *snap_tokenize        (SnapTokens *self, const char *text, gsize len, guint *n_replaced);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SnapTokens, snap_tokens_free)

G_END_DECLS
