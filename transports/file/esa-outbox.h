/* esa-outbox.h: the file transport — reports written to a folder for
 * sites with no connectivity (export, carry, upload elsewhere). */
#pragma once

#include "esa/esa-report.h"

G_BEGIN_DECLS

/* Writes <outbox>/<uuid>/report.json (the envelope the SDC would get) and
 * the attachments beside it; the folder appears whole or not at all, and
 * TRUE means it is on disk (files and folders fsynced): only then may the
 * report leave the queue. Symlinks are never followed: a planted
 * .tmp-<uuid> symlink is removed as itself, a <uuid> that is not a real
 * folder with a report.json is an error. */
gboolean esa_outbox_write (const char *outbox, EsaReport *report, GError **error);

G_END_DECLS
