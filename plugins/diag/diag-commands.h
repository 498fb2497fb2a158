/* diag-commands.h: `esactl problem list|show|test|scan`. */
#pragma once

#include "diag-reporter.h"

G_BEGIN_DECLS

gboolean diag_commands_register (DiagPlugin *plugin, GError **error);

/* The table of `esactl problem list` for @entries (JsonObject*s). */
char    *diag_commands_format_list (JsonArray *entries);

G_END_DECLS
