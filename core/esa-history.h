/* esa-history.h: the delivery history — an append-only log in the state dir
 * of every transmission (what left the machine, where to, what came back).
 * JSON lines in STATE/history.jsonl; rotated by size to history.jsonl.1 … .N,
 * never rewritten in place. Read by `esactl history` (docs/history.md). */
#pragma once

#include <json-glib/json-glib.h>
#include "esa-transport.h"

G_BEGIN_DECLS

#define ESA_HISTORY_FILE      "history.jsonl"
#define ESA_HISTORY_MAX_BYTES (1024 * 1024)  /* one file; then it rotates */
#define ESA_HISTORY_KEEP      4              /* rotated files kept */

/* Appends @record (one JSON object, written as one line with one write) to
 * @state_dir's history; first rotates when the file would grow past
 * @max_bytes. Thread-safe. */
gboolean   esa_history_append (const char *state_dir, JsonObject *record, gsize max_bytes,
                               GError **error);
/* Records one attempt at @report through the transport [transport] type=
 * names (in @config's state dir); a failure to write is logged, never fatal:
 * the history must not stop delivery. */
void       esa_history_note   (EsaConfig *config, EsaReport *report, const char *transport,
                               const EsaTransportResult *result);

/* Every record, oldest first, across the rotated files. A line that is not a
 * JSON object (a torn write after a crash) is skipped and named in @warnings
 * (file:line: why), which may be NULL. */
JsonArray *esa_history_read   (const char *state_dir, GPtrArray *warnings, GError **error);

G_END_DECLS
