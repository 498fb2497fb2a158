/* sdc-list.h: `esa-sdc systems` and `esa-sdc reports`: tables for people, JSON for scripts. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean sdc_list_systems (const char *dir, gboolean json, GError **error);
gboolean sdc_list_reports (const char *dir, const char *system_id, gboolean json, GError **error);

G_END_DECLS
