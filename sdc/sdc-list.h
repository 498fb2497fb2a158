/* sdc-list.h: `esa-sdc systems` and `esa-sdc reports`: tables for people, JSON for scripts. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @db: a store location (postgresql://…) or NULL for DIR/sdc.db. */
gboolean sdc_list_systems (const char *dir, const char *db, gboolean json, GError **error);
gboolean sdc_list_reports (const char *dir, const char *db, const char *system_id, gboolean json,
                           GError **error);

G_END_DECLS
