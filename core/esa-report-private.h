/* esa-report-private.h: what the core may do to a report that plugins may not. */
#pragma once

#include "esa/esa-report.h"

G_BEGIN_DECLS

/* Gives the report the UUID an earlier attempt of the same event run chose
 * for it (esa-dispatcher.c), so a resumed run submits the same report, not a
 * second one. @uuid must be a valid UUID. */
void esa_report_set_uuid (EsaReport *self, const char *uuid);

G_END_DECLS
