/* esa-tls-policy-private.h: the TLS strength rules, checked after the
 * handshake where no backend setting can bypass them (NOTES.md). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* TRUE when @conn meets NIST SP 800-131A as DESIGN.md reads it: TLS 1.2 or
 * newer, no CBC-only legacy suite, every certificate of the peer chain signed
 * with SHA-256 or stronger, RSA/DSA keys >= 2048 bits, EC keys >= 224 bits.
 * Otherwise FALSE with an ESA_ERROR_TLS error saying which rule failed. */
gboolean esa_tls_policy_check (GTlsConnection *conn, GError **error);

/* "TLS 1.3" etc. for diagnostics. */
const char *esa_tls_version_name (GTlsProtocolVersion version);

G_END_DECLS
