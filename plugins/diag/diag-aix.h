/* diag-aix.h: what AIX says about a hardware error-log entry — the errpt
 * record and the SRN/SRC and FRUs the diagnostics derive from it. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* `errpt -a -l SEQ`, parsed (esa_aix_errpt_record_to_json). ESA_ERROR_NOT_FOUND
 * when the error log has no such entry (any more). */
JsonObject *diag_aix_read_errlog (gint64 sequence, GCancellable *cancellable, GError **error);

/* `diag -c -e -d RESOURCE` (no console, error-log analysis), parsed: one
 * JsonObject per problem (srn, src, description, error_sequence, error_label,
 * frus [{part_number, probability, location, device, description}]). An
 * empty array means "No Trouble Found". */
GPtrArray  *diag_aix_run_diag    (const char *resource, GCancellable *cancellable, GError **error);

/* Same, from diag's output text (for tests of odd outputs). */
GPtrArray  *diag_aix_problems_from_text (const char *text, GError **error);

G_END_DECLS
