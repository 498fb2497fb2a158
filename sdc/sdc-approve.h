/* sdc-approve.h: `esa-sdc systems pending` and `esa-sdc systems approve REG-…`: the
 * admin's side of a re-registration that came without the system's credentials. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @db: a store location (postgresql://…) or NULL for DIR/sdc.db. */
gboolean sdc_registrations_list    (const char *dir, const char *db, gboolean json, GError **error);
/* The agent that asked gets new credentials at its next try; the system keeps its id. */
gboolean sdc_registrations_approve (const char *dir, const char *db, const char *registration,
                                    GError **error);

G_END_DECLS
