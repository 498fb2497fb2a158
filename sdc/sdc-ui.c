/* sdc-ui.c: the read-only web view under /ui/ (issue 11): login, sessions, routing.
 *
 * One administrator password, PBKDF2-hashed in DIR/admin-password (`esa-sdc
 * admin-password`), checked on a storage thread and throttled per address like agent
 * logins. A good password gets a random 256-bit session token in a cookie that is
 * Secure, HttpOnly and SameSite=Strict (so no other site can make the browser use it,
 * and logout needs no CSRF token); sessions live in this process's memory for 8 hours
 * (with two instances, log in to each). Without a valid session every page but the
 * login form answers with a redirect to it and no data. Pages are read on a storage
 * thread (the database never runs on the main loop) and rendered there by
 * sdc-ui-pages.c. */
#include "config.h"

#include "sdc-ui.h"
#include "sdc-ui-pages.h"
#include "sdc-auth.h"
#include "sdc-error.h"
#include "sdc-server-private.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>

#define SDC_UI_COOKIE "esa_sdc_session"
#define SDC_UI_SESSION_SECONDS (8 * 3600)
#define SDC_UI_MAX_SESSIONS 1000
#define SDC_UI_MIN_PASSWORD 10

struct _SdcUi {
  char *password_path;
  GMutex lock;          /* the sessions: every HTTPS loop (sdc-loops.c) serves the view */
  GHashTable *sessions; /* token -> expiry (monotonic µs, as a gint64 *) */
};

SdcUi *
sdc_ui_new (const char *dir)
{
  SdcUi *ui = g_new0 (SdcUi, 1);
  ui->password_path = g_build_filename (dir, "admin-password", NULL);
  ui->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_mutex_init (&ui->lock);
  return ui;
}

void
sdc_ui_free (SdcUi *ui)
{
  if (ui == NULL)
    return;
  g_hash_table_unref (ui->sessions);
  g_mutex_clear (&ui->lock);
  g_free (ui->password_path);
  g_free (ui);
}

gboolean
sdc_ui_is_path (const char *path)
{
  return g_strcmp0 (path, "/ui") == 0 || g_str_has_prefix (path, "/ui/");
}

gboolean
sdc_ui_set_admin_password (const char *dir, const char *password, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "admin-password", NULL);
  g_autoptr (SdcPasswordHash) h = NULL;
  g_autofree char *text = NULL;

  if (g_utf8_strlen (password, -1) < SDC_UI_MIN_PASSWORD)
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INVALID_FIELD,
                   "the administrator password must have at least %d characters", SDC_UI_MIN_PASSWORD);
      return FALSE;
    }
  h = sdc_auth_hash_password (password, error);
  if (h == NULL)
    return FALSE;
  text = g_strdup_printf ("pbkdf2-sha256:%u:%s:%s\n", h->iterations, h->salt_hex, h->hash_hex);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return FALSE;
  return TRUE;
}

/* PBKDF2 against DIR/admin-password; FALSE with a message when none is set. */
static gboolean
check_admin_password (const char *path, const char *password, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) f = NULL;
  guint64 iterations = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED,
                           "No administrator password is set: run `esa-sdc admin-password --dir DIR`.");
      return FALSE;
    }
  f = g_strsplit (g_strstrip (text), ":", 0);
  if (g_strv_length (f) != 4 || g_strcmp0 (f[0], "pbkdf2-sha256") != 0 ||
      !g_ascii_string_to_unsigned (f[1], 10, 1, G_MAXUINT, &iterations, NULL))
    {
      g_set_error (error, SDC_ERROR, SDC_ERROR_INTERNAL,
                   "%s: expected pbkdf2-sha256:ITERATIONS:SALT:HASH (run `esa-sdc admin-password` again)", path);
      return FALSE;
    }
  if (!sdc_auth_verify (password, f[2], f[3], (guint) iterations))
    {
      g_set_error_literal (error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED, "Wrong password.");
      return FALSE;
    }
  return TRUE;
}

static void
set_html (SoupServerMessage *msg, guint status, char *html)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  /* no script may run, whatever a page holds; styles are inline; forms post here only */
  soup_message_headers_replace (h, "Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "Referrer-Policy", "no-referrer");
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE, html, strlen (html));
}

static void
redirect (SoupServerMessage *msg, const char *location)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location", location);
  set_html (msg, SOUP_STATUS_SEE_OTHER, g_strdup (""));
}

/* The session token of the request's cookie (a copy), if it names a live session. */
static char *
session_of (SdcUi *ui, SoupServerMessage *msg)
{
  const char *cookie = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Cookie");
  g_autoptr (GHashTable) params = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  const char *token;
  gint64 *expiry;

  if (cookie == NULL)
    return NULL;
  params = soup_header_parse_semi_param_list (cookie);
  token = params != NULL ? g_hash_table_lookup (params, SDC_UI_COOKIE) : NULL;
  locker = g_mutex_locker_new (&ui->lock);
  if (token == NULL || !g_hash_table_lookup_extended (ui->sessions, token, NULL, (gpointer *) &expiry))
    return NULL;
  if (*expiry < g_get_monotonic_time ())
    {
      g_hash_table_remove (ui->sessions, token);
      return NULL;
    }
  return g_strdup (token);
}

static char *
new_session (SdcUi *ui)
{
  guint8 raw[32];
  GHashTableIter iter;
  gpointer key, value;
  gint64 now = g_get_monotonic_time ();
  gint64 *expiry;
  char *token;
  g_autoptr (GMutexLocker) locker = NULL;

  if (gnutls_rnd (GNUTLS_RND_KEY, raw, sizeof raw) < 0)
    return NULL;
  locker = g_mutex_locker_new (&ui->lock);
  /* expired ones go first; past the cap, the oldest logins go */
  g_hash_table_iter_init (&iter, ui->sessions);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (*(gint64 *) value < now || g_hash_table_size (ui->sessions) >= SDC_UI_MAX_SESSIONS)
      g_hash_table_iter_remove (&iter);
  token = g_malloc (sizeof raw * 2 + 1);
  for (gsize i = 0; i < sizeof raw; i++)
    g_snprintf (token + 2 * i, 3, "%02x", raw[i]);
  expiry = g_new (gint64, 1);
  *expiry = now + (gint64) SDC_UI_SESSION_SECONDS * G_USEC_PER_SEC;
  g_hash_table_insert (ui->sessions, token, expiry);
  return g_strdup (token);
}

static guint
page_param (GHashTable *query, const char *name)
{
  const char *v = query != NULL ? g_hash_table_lookup (query, name) : NULL;
  guint64 n = 1;
  if (v == NULL || !g_ascii_string_to_unsigned (v, 10, 1, 1000000, &n, NULL))
    return 1;
  return (guint) n;
}

/* --- pages read on a storage thread --- */

typedef struct {
  SdcServer *server;
  SoupServerMessage *msg;
  char *ui_password_path;
  char *password;
  char *system_id; /* NULL: the systems list */
  guint page, problems, inventories, heartbeats;
  guint status;
  char *html;
} UiJob;

static void
ui_job_free (UiJob *job)
{
  g_clear_object (&job->msg);
  g_free (job->ui_password_path);
  if (job->password != NULL)
    {
      memset (job->password, 0, strlen (job->password));
      g_free (job->password);
    }
  g_free (job->system_id);
  g_free (job->html);
  g_free (job);
}

static gboolean
systems_func (SdcStore *store, gpointer data, GError **error)
{
  UiJob *job = data;
  guint total = 0;
  g_autoptr (JsonArray) rows = sdc_store_ui_systems (store, NULL, (job->page - 1) * SDC_UI_SYSTEMS_PER_PAGE,
                                                     SDC_UI_SYSTEMS_PER_PAGE, &total, error);
  if (rows == NULL)
    return FALSE;
  job->status = SOUP_STATUS_OK;
  job->html = sdc_ui_page_systems (rows, job->page, total);
  return TRUE;
}

static JsonArray *
reports_page (SdcStore *store, const char *id, const char *kind, guint page, guint *total, GError **error)
{
  return sdc_store_ui_reports (store, id, kind, (page - 1) * SDC_UI_REPORTS_PER_PAGE, SDC_UI_REPORTS_PER_PAGE,
                               total, error);
}

static gboolean
system_func (SdcStore *store, gpointer data, GError **error)
{
  UiJob *job = data;
  guint n = 0, pt = 0, it = 0, ht = 0;
  g_autoptr (JsonArray) sys = sdc_store_ui_systems (store, job->system_id, 0, 1, &n, error);
  g_autoptr (JsonArray) problems = NULL;
  g_autoptr (JsonArray) inventories = NULL;
  g_autoptr (JsonArray) heartbeats = NULL;

  if (sys == NULL)
    return FALSE;
  if (json_array_get_length (sys) == 0)
    {
      job->status = SOUP_STATUS_NOT_FOUND;
      job->html = sdc_ui_page_message ("No such system", job->system_id);
      return TRUE;
    }
  problems = reports_page (store, job->system_id, "problem", job->problems, &pt, error);
  inventories = problems ? reports_page (store, job->system_id, "inventory", job->inventories, &it, error) : NULL;
  heartbeats = inventories ? reports_page (store, job->system_id, "heartbeat", job->heartbeats, &ht, error) : NULL;
  if (heartbeats == NULL)
    return FALSE;
  job->status = SOUP_STATUS_OK;
  job->html = sdc_ui_page_system (json_array_get_object_element (sys, 0), problems, job->problems, pt, inventories,
                                  job->inventories, it, heartbeats, job->heartbeats, ht);
  return TRUE;
}

static gboolean
login_func (SdcStore *store, gpointer data, GError **error)
{
  UiJob *job = data;
  return check_admin_password (job->ui_password_path, job->password, error);
}

static void
finish (UiJob *job)
{
  soup_server_message_unpause (job->msg);
}

static void
page_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UiJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  if (!sdc_writer_finish (result, &error))
    {
      g_printerr ("esa-sdc: web view: %s\n", error->message);
      set_html (job->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                sdc_ui_page_message ("Error", "The database could not be read; see the server's log."));
    }
  else
    set_html (job->msg, job->status, g_steal_pointer (&job->html));
  finish (job);
}

static char *
throttle_key (SoupServerMessage *msg)
{
  const char *remote = soup_server_message_get_remote_host (msg);
  return g_strconcat ("ui:", remote != NULL ? remote : "-", NULL);
}

static void
login_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UiJob *job = g_task_get_task_data (G_TASK (result));
  SdcUi *ui = job->server->ui;
  g_autoptr (GError) error = NULL;
  g_autofree char *key = throttle_key (job->msg);
  g_autofree char *token = NULL;
  g_autofree char *cookie = NULL;

  if (!sdc_writer_finish (result, &error))
    {
      if (g_error_matches (error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED))
        sdc_throttle_fail (job->server->throttle, key);
      else
        g_printerr ("esa-sdc: web view login: %s\n", error->message);
      set_html (job->msg, SOUP_STATUS_UNAUTHORIZED,
                sdc_ui_page_login (g_error_matches (error, SDC_ERROR, SDC_ERROR_UNAUTHORIZED)
                                       ? error->message
                                       : "The password could not be checked; see the server's log."));
      finish (job);
      return;
    }
  token = new_session (ui);
  if (token == NULL)
    {
      set_html (job->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, sdc_ui_page_login ("No random numbers for a session."));
      finish (job);
      return;
    }
  cookie = g_strdup_printf (SDC_UI_COOKIE "=%s; Path=/ui/; Max-Age=%d; Secure; HttpOnly; SameSite=Strict", token,
                            SDC_UI_SESSION_SECONDS);
  soup_message_headers_append (soup_server_message_get_response_headers (job->msg), "Set-Cookie", cookie);
  redirect (job->msg, "/ui/");
  finish (job);
}

static UiJob *
job_new (SdcServer *server, SoupServerMessage *msg)
{
  UiJob *job = g_new0 (UiJob, 1);
  job->server = server;
  job->msg = g_object_ref (msg);
  soup_server_message_pause (msg);
  return job;
}

static void
login (SdcServer *server, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_autoptr (GHashTable) form = soup_form_decode (text);
  g_autofree char *key = throttle_key (msg);
  const char *password = form != NULL ? g_hash_table_lookup (form, "password") : NULL;
  guint wait = 0;
  UiJob *job;

  if (sdc_throttle_blocked (server->throttle, key, &wait))
    {
      g_autofree char *secs = g_strdup_printf ("%u", wait);
      g_autofree char *m = g_strdup_printf ("Too many failed logins from this address; try again in %u s.", wait);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", secs);
      set_html (msg, 429 /* Too Many Requests */, sdc_ui_page_login (m));
      return;
    }
  if (password == NULL || *password == '\0')
    {
      set_html (msg, SOUP_STATUS_BAD_REQUEST, sdc_ui_page_login ("Enter the password."));
      return;
    }
  job = job_new (server, msg);
  job->ui_password_path = g_strdup (server->ui->password_path);
  job->password = g_strdup (password);
  sdc_writer_run (server->writer, login_func, job, (GDestroyNotify) ui_job_free, login_done_cb, NULL);
}

void
sdc_ui_handle (SdcServer *server, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  SdcUi *ui = server->ui;
  const char *method = soup_server_message_get_method (msg);
  gboolean get = g_strcmp0 (method, "GET") == 0 || g_strcmp0 (method, "HEAD") == 0;
  gboolean post = g_strcmp0 (method, "POST") == 0;
  g_autofree char *session = NULL;
  UiJob *job;

  if (g_strcmp0 (path, "/ui") == 0)
    {
      redirect (msg, "/ui/");
      return;
    }
  if (g_strcmp0 (path, "/ui/login") == 0)
    {
      if (post)
        login (server, msg);
      else if (get)
        set_html (msg, SOUP_STATUS_OK, sdc_ui_page_login (NULL));
      else
        set_html (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, sdc_ui_page_login (NULL));
      return;
    }
  session = session_of (ui, msg);
  if (g_strcmp0 (path, "/ui/logout") == 0 && post)
    {
      if (session != NULL)
        {
          g_mutex_lock (&ui->lock);
          g_hash_table_remove (ui->sessions, session);
          g_mutex_unlock (&ui->lock);
        }
      soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
                                   SDC_UI_COOKIE "=; Path=/ui/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
      redirect (msg, "/ui/login");
      return;
    }
  /* no session: nothing but the way to the login form */
  if (session == NULL)
    {
      if (get)
        redirect (msg, "/ui/login");
      else
        set_html (msg, SOUP_STATUS_FORBIDDEN, sdc_ui_page_login ("Log in first."));
      return;
    }
  if (!get)
    {
      set_html (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, sdc_ui_page_message ("Not allowed", "The web view is read-only."));
      return;
    }
  if (g_strcmp0 (path, "/ui/") == 0)
    {
      job = job_new (server, msg);
      job->page = page_param (query, "page");
      sdc_writer_run (server->writer, systems_func, job, (GDestroyNotify) ui_job_free, page_done_cb, NULL);
      return;
    }
  if (g_strcmp0 (path, "/ui/system") == 0 && query != NULL && g_hash_table_lookup (query, "id") != NULL)
    {
      job = job_new (server, msg);
      job->system_id = g_strdup (g_hash_table_lookup (query, "id"));
      job->problems = page_param (query, "problems");
      job->inventories = page_param (query, "inventories");
      job->heartbeats = page_param (query, "heartbeats");
      sdc_writer_run (server->writer, system_func, job, (GDestroyNotify) ui_job_free, page_done_cb, NULL);
      return;
    }
  set_html (msg, SOUP_STATUS_NOT_FOUND, sdc_ui_page_message ("Not found", path));
}
