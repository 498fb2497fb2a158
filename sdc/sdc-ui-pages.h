/* sdc-ui-pages.h: the HTML of the read-only web view (/ui/): pure functions from the
 * store's rows to a page, every value HTML-escaped. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Rows per page of the systems list and of each report section of a system. */
#define SDC_UI_SYSTEMS_PER_PAGE 50
#define SDC_UI_REPORTS_PER_PAGE 20

/* @message: NULL, or a line shown above the form ("wrong password"). */
char *sdc_ui_page_login   (const char *message);
/* One page (1-based @page) of @systems out of @total. */
char *sdc_ui_page_systems (JsonArray *systems, guint page, guint total);
/* @system: one row of sdc_store_ui_systems; the three sections with their page and total. */
char *sdc_ui_page_system  (JsonObject *system, JsonArray *problems, guint problems_page,
                           guint problems_total, JsonArray *inventories, guint inventories_page,
                           guint inventories_total, JsonArray *heartbeats, guint heartbeats_page,
                           guint heartbeats_total);
char *sdc_ui_page_message (const char *title, const char *message);

G_END_DECLS
