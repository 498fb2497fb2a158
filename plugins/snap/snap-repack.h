/* snap-repack.h: redaction of AIX `snap -g -c` archives. snap collects what
 * it collects and offers no filter, so its archive is unpacked with
 * libarchive, every text member is redacted like the Linux collection
 * (secrets → `***`, this system's host names and addresses → tokens) and
 * the archive is written again in the same compression. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "snap-tokens.h"

G_BEGIN_DECLS

/* Uncompressed bytes a snap archive may hold (a decompression bomb is refused). */
#define SNAP_REPACK_MAX_UNPACKED (G_GUINT64_CONSTANT (1) << 30)

/* Reads @in (snap.pax.Z or snap.pax.gz), writes @out (the same kind, chosen
 * by @out's suffix). A member without NUL bytes is text and is redacted;
 * others are copied. Adds {"item", "status": "redacted", "detail"} to
 * @notes (may be NULL) for each member changed. */
gboolean snap_repack_redacted (const char *in, const char *out, SnapTokens *tokens, JsonArray *notes,
                               GError **error);

/* The text redaction both collectors share: secrets (snap-redact.h), then
 * tokens. Returns the new text; *n (may be NULL) counts what changed. */
char    *snap_redact_text     (SnapTokens *tokens, const char *text, gsize len, guint *n);

G_END_DECLS
