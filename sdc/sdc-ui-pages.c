/* sdc-ui-pages.c: the HTML of the read-only web view.
 *
 * Every value that came from an agent or the database goes through esc() (an agent
 * chooses its own hostname, SRN text and attachment names), and the pages carry no
 * script at all: sdc-ui.c also sends a Content-Security-Policy without script-src, so
 * even a value that escaped escaping could not run. No external assets: the style
 * sheet is inline. */
#include "config.h"

#include "sdc-ui-pages.h"

#include "esa/esa-json.h"

#include <string.h>

static const char style[] =
  "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}"
  "header{display:flex;align-items:center;gap:1em;background:#1f3a5f;color:#fff;padding:.6em 1.2em}"
  "header a{color:#fff;text-decoration:none;font-weight:600}header form{margin-left:auto}"
  "main{padding:1em 1.2em}h1{font-size:1.3em;margin:.2em 0 .6em}h2{font-size:1.1em;margin:1.4em 0 .4em}"
  "table{border-collapse:collapse;background:#fff;width:100%}"
  "th,td{border:1px solid #d5d9e0;padding:.3em .5em;text-align:left;vertical-align:top}"
  "th{background:#e9edf3}td.num{text-align:right}code{font-size:.9em;word-break:break-all}"
  ".pager{margin:.5em 0}.pager a,.pager span{margin-right:1em}.muted{color:#68707c}"
  "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;background:#fff;padding:.6em;"
  "border:1px solid #d5d9e0}dt{font-weight:600}dd{margin:0}"
  "form.login{background:#fff;border:1px solid #d5d9e0;padding:1.2em;max-width:22em}"
  "form.login input{display:block;margin:.4em 0 .8em;width:100%}.error{color:#a01010;font-weight:600}";

/* Appends @s HTML-escaped (text and attribute values alike); NULL or "" as a dash. */
static void
esc (GString *out, const char *s)
{
  g_autofree char *e = NULL;
  if (s == NULL || *s == '\0')
    {
      g_string_append (out, "<span class=\"muted\">–</span>");
      return;
    }
  e = g_markup_escape_text (s, -1);
  g_string_append (out, e);
}

/* A URL query value: percent-encoded, then escaped for the attribute it goes in. */
static void
esc_query (GString *out, const char *s)
{
  g_autofree char *q = g_uri_escape_string (s != NULL ? s : "", NULL, FALSE);
  g_autofree char *e = g_markup_escape_text (q, -1);
  g_string_append (out, e);
}

static void
page_begin (GString *out, const char *title, gboolean logged_in)
{
  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                        "<meta name=\"viewport\" content=\"width=device-width\"><title>");
  esc (out, title);
  g_string_append_printf (out, " – esa-sdc</title><style>%s</style></head><body><header>"
                               "<a href=\"/ui/\">esa-sdc</a><span>Service Delivery Center</span>",
                          style);
  if (logged_in)
    g_string_append (out, "<form method=\"post\" action=\"/ui/logout\"><button type=\"submit\">Log out"
                          "</button></form>");
  g_string_append (out, "</header><main>");
}

static char *
page_end (GString *out)
{
  g_string_append (out, "</main></body></html>\n");
  return g_string_free (out, FALSE);
}

static const char *
str (JsonObject *o, const char *name)
{
  return esa_json_peek_string (o, name);
}

static void
cell (GString *out, const char *s)
{
  g_string_append (out, "<td>");
  esc (out, s);
  g_string_append (out, "</td>");
}

static void
cell_num (GString *out, gint64 n)
{
  g_string_append_printf (out, "<td class=\"num\">%" G_GINT64_FORMAT "</td>", n);
}

/* "9009-42A" from machine type and model */
static char *
type_model (JsonObject *s)
{
  const char *type = str (s, "machine_type");
  const char *model = str (s, "model");
  if (model == NULL || *model == '\0')
    return g_strdup (type);
  return g_strdup_printf ("%s-%s", type != NULL ? type : "", model);
}

/* The newest UAK's expiry, from its key_data ("…;expires=20271201;…"), as 2027-12-01. */
static char *
uak_expiry (JsonObject *s)
{
  JsonObject *answer = esa_json_peek_object (s, "uak_answer");
  const char *key = str (answer, "key_data");
  const char *exp = key != NULL ? strstr (key, "expires=") : NULL;
  if (exp == NULL || strlen (exp) < 16)
    return NULL;
  exp += 8;
  return g_strdup_printf ("%.4s-%.2s-%.2s", exp, exp + 4, exp + 6);
}

static gboolean
is_lpar (JsonObject *s)
{
  JsonNode *n = json_object_get_member (s, "is_lpar");
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_BOOLEAN)
    return json_node_get_boolean (n);
  return json_node_get_int (n) != 0;
}

/* The partition as the admin knows it: "5 (lpar05)" for an LPAR whose number
 * the agent sent, "yes"/"no" otherwise. */
static char *
lpar_text (JsonObject *s)
{
  gint64 id = esa_json_peek_int (s, "lpar_id", -1);
  const char *name = esa_json_peek_string (s, "lpar_name");
  if (!is_lpar (s))
    return g_strdup ("no");
  if (id < 0)
    return g_strdup ("yes");
  return name != NULL && *name != '\0' ? g_strdup_printf ("%" G_GINT64_FORMAT " (%s)", id, name)
                                        : g_strdup_printf ("%" G_GINT64_FORMAT, id);
}

/* "Page 2 of 7" with links to the neighbours; @link is the URL up to the page value. */
static void
pager (GString *out, const char *link, guint page, guint total, guint per_page)
{
  guint pages = MAX (1, (total + per_page - 1) / per_page);
  g_string_append (out, "<div class=\"pager\">");
  if (page > 1)
    g_string_append_printf (out, "<a href=\"%s%u\">← newer</a>", link, page - 1);
  g_string_append_printf (out, "<span>page %u of %u (%u in all)</span>", page, pages, total);
  if (page < pages)
    g_string_append_printf (out, "<a href=\"%s%u\">older →</a>", link, page + 1);
  g_string_append (out, "</div>");
}

char *
sdc_ui_page_login (const char *message)
{
  GString *out = g_string_new (NULL);
  page_begin (out, "Log in", FALSE);
  g_string_append (out, "<h1>Administrator login</h1>");
  if (message != NULL)
    {
      g_string_append (out, "<p class=\"error\">");
      esc (out, message);
      g_string_append (out, "</p>");
    }
  g_string_append (out, "<form class=\"login\" method=\"post\" action=\"/ui/login\">"
                        "<label for=\"password\">Password</label>"
                        "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\""
                        " required autofocus><button type=\"submit\">Log in</button></form>"
                        "<p class=\"muted\">Set the password with <code>esa-sdc admin-password --dir DIR</code>.</p>");
  return page_end (out);
}

char *
sdc_ui_page_message (const char *title, const char *message)
{
  GString *out = g_string_new (NULL);
  page_begin (out, title, TRUE);
  g_string_append (out, "<h1>");
  esc (out, title);
  g_string_append (out, "</h1><p>");
  esc (out, message);
  g_string_append (out, "</p><p><a href=\"/ui/\">All systems</a></p>");
  return page_end (out);
}

char *
sdc_ui_page_systems (JsonArray *systems, guint page, guint total)
{
  GString *out = g_string_new (NULL);
  page_begin (out, "Systems", TRUE);
  g_string_append_printf (out, "<h1>Systems</h1>");
  pager (out, "/ui/?page=", page, total, SDC_UI_SYSTEMS_PER_PAGE);
  g_string_append (out, "<table id=\"systems\"><thead><tr><th>System</th><th>Hostname</th><th>Type-model</th>"
                        "<th>Serial</th><th>LPAR</th><th>Last heartbeat</th><th>UAK expires</th>"
                        "<th>Problems</th><th>Inventories</th><th>Heartbeats</th></tr></thead><tbody>");
  for (guint i = 0; i < json_array_get_length (systems); i++)
    {
      JsonObject *s = json_array_get_object_element (systems, i);
      g_autofree char *tm = type_model (s);
      g_autofree char *uak = uak_expiry (s);
      g_string_append (out, "<tr><td><a href=\"/ui/system?id=");
      esc_query (out, str (s, "system_id"));
      g_string_append (out, "\">");
      esc (out, str (s, "system_id"));
      g_string_append (out, "</a></td>");
      cell (out, str (s, "hostname"));
      cell (out, tm);
      cell (out, str (s, "serial"));
      {
        g_autofree char *lpar = lpar_text (s);
        cell (out, lpar);
      }
      cell (out, str (s, "last_heartbeat"));
      cell (out, uak);
      cell_num (out, esa_json_peek_int (s, "problems", 0));
      cell_num (out, esa_json_peek_int (s, "inventories", 0));
      cell_num (out, esa_json_peek_int (s, "heartbeats", 0));
      g_string_append (out, "</tr>");
    }
  g_string_append (out, "</tbody></table>");
  return page_end (out);
}

/* "1.2 MiB" */
static char *
size_text (gint64 size)
{
  return g_format_size_full ((guint64) MAX (size, 0), G_FORMAT_SIZE_IEC_UNITS);
}

static void
attachments_cell (GString *out, JsonObject *report)
{
  JsonArray *atts = NULL;
  g_autoptr (GError) error = NULL;
  if (json_object_has_member (report, "attachments"))
    atts = esa_json_get_array (report, NULL, "attachments", ESA_JSON_OPTIONAL, &error);
  g_string_append (out, "<td>");
  if (atts == NULL || json_array_get_length (atts) == 0)
    esc (out, NULL);
  for (guint i = 0; atts != NULL && i < json_array_get_length (atts); i++)
    {
      JsonObject *a = json_array_get_object_element (atts, i);
      g_autofree char *size = size_text (esa_json_peek_int (a, "size", 0));
      const char *received = str (a, "received");
      g_string_append (out, "<div class=\"attachment\">");
      esc (out, str (a, "name"));
      g_string_append (out, " (");
      esc (out, size);
      g_string_append (out, received != NULL ? ", received" : ", not received yet");
      g_string_append (out, ")<br>SHA-256 <code>");
      esc (out, str (a, "sha256"));
      g_string_append (out, "</code></div>");
    }
  g_string_append (out, "</td>");
}

/* FRUs of a diag problem body: "part_number at location" each. */
static void
frus_cell (GString *out, JsonObject *body)
{
  JsonArray *frus = NULL;
  g_autoptr (GError) error = NULL;
  if (body != NULL && json_object_has_member (body, "frus"))
    frus = esa_json_get_array (body, NULL, "frus", ESA_JSON_OPTIONAL, &error);
  g_string_append (out, "<td>");
  if (frus == NULL || json_array_get_length (frus) == 0)
    esc (out, NULL);
  for (guint i = 0; frus != NULL && i < json_array_get_length (frus); i++)
    {
      JsonNode *n = json_array_get_element (frus, i);
      JsonObject *f = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      g_string_append (out, "<div class=\"fru\">");
      esc (out, str (f, "part_number"));
      g_string_append (out, " at ");
      esc (out, str (f, "location"));
      g_string_append (out, "</div>");
    }
  g_string_append (out, "</td>");
}

static void
section_begin (GString *out, const char *id, const char *title, const char *system_id, const char *param,
               guint page, guint total)
{
  GString *link = g_string_new ("/ui/system?id=");
  g_autofree char *l = NULL;
  esc_query (link, system_id);
  g_string_append_printf (link, "&amp;%s=", param);
  l = g_string_free (link, FALSE);
  g_string_append_printf (out, "<h2 id=\"%s\">%s</h2>", id, title);
  pager (out, l, page, total, SDC_UI_REPORTS_PER_PAGE);
}

/* The system page's three report tables: one <table> each, a header row and
 * one row per report drawn by the table's own function. */
typedef void (*ReportRowFunc) (GString *out, JsonObject *report);

static void
report_table (GString *out, const char *class, const char *const *headers, JsonArray *reports,
              ReportRowFunc row)
{
  g_string_append_printf (out, "<table class=\"%s\"><thead><tr>", class);
  for (guint i = 0; headers[i] != NULL; i++)
    g_string_append_printf (out, "<th>%s</th>", headers[i]);
  g_string_append (out, "</tr></thead><tbody>");
  for (guint i = 0; i < json_array_get_length (reports); i++)
    {
      g_string_append (out, "<tr>");
      row (out, json_array_get_object_element (reports, i));
      g_string_append (out, "</tr>");
    }
  g_string_append (out, "</tbody></table>");
}

static const char *const problem_headers[] = {
  "Received", "SRN / SRC", "Description", "FRUs", "Service request", "Attachments", NULL
};

static void
problem_row (GString *out, JsonObject *r)
{
  JsonObject *body = esa_json_peek_object (r, "body");
  const char *srn = str (body, "srn");
  const char *src = str (body, "src");
  g_autofree char *code = srn != NULL && src != NULL ? g_strdup_printf ("%s / %s", srn, src)
                                                     : g_strdup (srn != NULL ? srn : src);
  cell (out, str (r, "received"));
  cell (out, code);
  cell (out, str (body, "description"));
  frus_cell (out, body);
  cell (out, str (r, "service_request"));
  attachments_cell (out, r);
}

static const char *const inventory_headers[] = { "Received", "Plugin", "Report", "Attachments", NULL };

static void
inventory_row (GString *out, JsonObject *r)
{
  cell (out, str (r, "received"));
  cell (out, str (r, "plugin"));
  cell (out, str (r, "uuid"));
  attachments_cell (out, r);
}

static const char *const heartbeat_headers[] = { "Received", "Created by the agent", "Report", NULL };

static void
heartbeat_row (GString *out, JsonObject *r)
{
  cell (out, str (r, "received"));
  cell (out, str (r, "created"));
  cell (out, str (r, "uuid"));
}

char *
sdc_ui_page_system (JsonObject *s, JsonArray *problems, guint problems_page, guint problems_total,
                    JsonArray *inventories, guint inventories_page, guint inventories_total,
                    JsonArray *heartbeats, guint heartbeats_page, guint heartbeats_total)
{
  GString *out = g_string_new (NULL);
  const char *id = str (s, "system_id");
  g_autofree char *tm = type_model (s);
  g_autofree char *uak = uak_expiry (s);

  page_begin (out, id, TRUE);
  g_string_append (out, "<h1>");
  esc (out, str (s, "hostname"));
  g_string_append (out, " <span class=\"muted\">");
  esc (out, id);
  g_string_append (out, "</span></h1><dl id=\"system\">");
  g_string_append (out, "<dt>Type-model</dt><dd>");
  esc (out, tm);
  g_string_append (out, "</dd><dt>Serial</dt><dd>");
  esc (out, str (s, "serial"));
  g_string_append (out, "</dd><dt>LPAR</dt><dd>");
  {
    g_autofree char *lpar = lpar_text (s);
    esc (out, lpar);
  }
  g_string_append (out, "</dd><dt>OS</dt><dd>");
  esc (out, str (s, "os"));
  g_string_append (out, " ");
  esc (out, str (s, "os_version"));
  g_string_append (out, "</dd><dt>Registered</dt><dd>");
  esc (out, str (s, "registered"));
  g_string_append (out, "</dd><dt>Last seen</dt><dd>");
  esc (out, str (s, "last_seen"));
  g_string_append (out, "</dd><dt>Last heartbeat</dt><dd>");
  esc (out, str (s, "last_heartbeat"));
  g_string_append (out, "</dd><dt>UAK expires</dt><dd>");
  esc (out, uak);
  g_string_append (out, "</dd></dl>");

  section_begin (out, "problems", "Problems", id, "problems", problems_page, problems_total);
  report_table (out, "problems", problem_headers, problems, problem_row);
  section_begin (out, "inventories", "Inventories", id, "inventories", inventories_page, inventories_total);
  report_table (out, "inventories", inventory_headers, inventories, inventory_row);
  section_begin (out, "heartbeats", "Heartbeats", id, "heartbeats", heartbeats_page, heartbeats_total);
  report_table (out, "heartbeats", heartbeat_headers, heartbeats, heartbeat_row);
  return page_end (out);
}
