/* esa-deliver.c: failover across routes for one report. Proxies fail as a
 * whole (a dead proxy is not retried for every server); servers fail one by
 * one; a 4xx about the report stops at once (retrying cannot fix it).
 *
 * The sender's lanes send through one deliverer at once: what a pass learns
 * (dead proxies, the config-url's servers) is shared under a lock, while each
 * thread has sessions of its own (libsoup connections belong to the thread
 * that made them: one keep-alive connection per lane and route). */
#include "config.h"

#include "esa-deliver.h"
#include "esa-upload-progress.h"
#include "esa-fileutil.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"
#include "esa/esa-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _EsaDeliverer {
  EsaConfig *config;         /* borrowed */
  char *system_id;
  char *password;
  GMutex lock;               /* the four below */
  GPtrArray *routes;         /* EsaRoute*; grows (config-url), never shrinks */
  GHashTable *sessions;      /* GThread* -> GPtrArray of EsaHttps*, same index as routes, lazily */
  GHashTable *dead_proxies;  /* proxy index -> reason, for this pass */
  gboolean fallback_tried;   /* config-url fetched once per pass */
};

void
esa_delivery_clear (EsaDelivery *d)
{
  g_clear_pointer (&d->message, g_free);
  g_clear_pointer (&d->answer, json_node_unref);
  g_clear_pointer (&d->attempts, g_ptr_array_unref);
  g_clear_pointer (&d->server, g_free);
  g_clear_pointer (&d->manifest, json_object_unref);
}

EsaDeliverer *
esa_deliverer_new (EsaConfig *config, const EsaCredentials *creds, const char *const *servers)
{
  EsaDeliverer *self = g_new0 (EsaDeliverer, 1);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  const char *fallback[] = { creds ? creds->server : NULL, NULL };
  self->config = config;
  self->system_id = creds ? g_strdup (creds->system_id) : NULL;
  self->password = creds ? g_strdup (creds->password) : NULL;
  /* Without [sdc] servers= the server of activation is the one we use. */
  if (servers == NULL && esa_config_get_servers (config)[0] == NULL && fallback[0] != NULL)
    servers = fallback;
  self->routes = esa_routes_build (config, servers, warnings);
  for (guint i = 0; i < warnings->len; i++)
    g_warning ("%s", (const char *) g_ptr_array_index (warnings, i));
  g_mutex_init (&self->lock);
  self->sessions = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
  self->dead_proxies = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  return self;
}

gboolean
esa_deliverer_check_config (EsaConfig *config, const EsaCredentials *creds, GError **error)
{
  const char *const *servers = esa_config_get_servers (config);
  const char *server = servers[0] != NULL ? NULL : creds ? creds->server : NULL;
  if (servers[0] != NULL)
    return TRUE; /* esa.conf's own servers are checked when it is read (https:// only) */
  if (server == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "no SDC server: [sdc] servers= is empty and the credentials name none "
                   "(set [sdc] servers= or activate again with --server https://…)");
      return FALSE;
    }
  if (!g_str_has_prefix (server, "https://"))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "the credentials name server \"%s\", which is not https://, and [sdc] servers= is empty: "
                   "data is only ever sent over https:// (set [sdc] servers= or activate again with "
                   "--server https://…)", server);
      return FALSE;
    }
  return TRUE;
}

void
esa_deliverer_free (EsaDeliverer *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->sessions);
  g_ptr_array_unref (self->routes);
  g_mutex_clear (&self->lock);
  g_hash_table_unref (self->dead_proxies);
  g_free (self->system_id);
  if (self->password != NULL)
    memset (self->password, 0, strlen (self->password));
  g_free (self->password);
  g_free (self);
}

GPtrArray *
esa_deliverer_get_routes (EsaDeliverer *self)
{
  return self->routes;
}

void
esa_deliverer_release_thread (EsaDeliverer *self)
{
  g_autoptr (GPtrArray) mine = NULL;
  g_mutex_lock (&self->lock);
  g_hash_table_steal_extended (self->sessions, g_thread_self (), NULL, (gpointer *) &mine);
  g_mutex_unlock (&self->lock);
}

/* Route @i, or NULL past the last one (another thread may add routes). */
static const EsaRoute *
route_at (EsaDeliverer *self, guint i)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  return i < self->routes->len ? g_ptr_array_index (self->routes, i) : NULL;
}

/* This thread's session for route @i. */
static EsaHttps *
session_for (EsaDeliverer *self, guint i, GError **error)
{
  GPtrArray *mine;
  EsaHttps *https;
  g_mutex_lock (&self->lock);
  mine = g_hash_table_lookup (self->sessions, g_thread_self ());
  if (mine == NULL)
    {
      mine = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_https_free);
      g_hash_table_insert (self->sessions, g_thread_self (), mine);
    }
  if (mine->len < self->routes->len)
    g_ptr_array_set_size (mine, self->routes->len);
  g_mutex_unlock (&self->lock);
  /* Only this thread touches its own array, and routes never move. */
  https = g_ptr_array_index (mine, i);
  if (https == NULL)
    {
      https = esa_https_new (self->config, route_at (self, i), error);
      if (https == NULL)
        return NULL;
      mine->pdata[i] = https;
    }
  return https;
}

/* The attachment as the queue recorded it, checked against the spool copy
 * without reading it again (the queue hashed it while copying it in): a copy
 * whose size changed is truncated or replaced, and is never sent as whole.
 * Same-size changes are caught by the SDC, which checks the stored SHA-256
 * we send with the body. Reports spooled before the hash was kept are hashed
 * here once (GnuTLS, streamed). */
static char *
attachment_sha256 (EsaAttachment *att, guint64 *size, GError **error)
{
  struct stat st;
  int fd;
  if (att->sha256 == NULL)
    return esa_fileutil_sha256_file (att->path, size, error);
  /* Opened, not only stat'ed: one that cannot be read now stays queued. */
  fd = open (att->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "attachment %s: %s", att->path,
                   g_strerror (e));
      return NULL;
    }
  close (fd);
  if (!S_ISREG (st.st_mode))
    {
      /* Not what the queue put there; may be an admin at work: retry later. */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "attachment %s: not a regular file",
                   att->path);
      return NULL;
    }
  if ((guint64) st.st_size != att->size)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "attachment %s: %" G_GUINT64_FORMAT " bytes in the spool, %" G_GUINT64_FORMAT
                   " when it was queued (truncated or changed since): not sent",
                   att->path, (guint64) st.st_size, att->size);
      return NULL;
    }
  *size = att->size;
  return g_strdup (att->sha256);
}

JsonNode *
esa_report_envelope (EsaReport *report, GError **error)
{
  g_autoptr (JsonNode) node = esa_report_to_json (report);
  JsonArray *atts = json_object_get_array_member (json_node_get_object (node), "attachments");
  GPtrArray *list = esa_report_get_attachments (report);
  for (guint i = 0; i < list->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (list, i);
      JsonObject *a = json_array_get_object_element (atts, i);
      guint64 size = 0;
      g_autofree char *sha = attachment_sha256 (att, &size, error);
      if (sha == NULL)
        return NULL;
      json_object_remove_member (a, "path");
      json_object_set_int_member (a, "size", (gint64) size);
      json_object_set_string_member (a, "sha256", sha);
    }
  return g_steal_pointer (&node);
}

JsonObject *
esa_envelope_manifest (JsonNode *envelope)
{
  /* The body exactly as esa_https_json sends it. */
  g_autofree char *body = esa_json_to_string (envelope, FALSE);
  g_autoptr (GBytes) bytes = g_bytes_new_static (body, strlen (body));
  return esa_envelope_manifest_for_body (envelope, bytes);
}

JsonObject *
esa_envelope_manifest_for_body (JsonNode *envelope, GBytes *body)
{
  gsize len = g_bytes_get_size (body);
  g_autofree char *sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, g_bytes_get_data (body, NULL), len);
  JsonObject *m = json_object_new ();
  JsonArray *out = json_array_new ();
  JsonArray *atts = json_object_get_array_member (json_node_get_object (envelope), "attachments");
  gint64 total = (gint64) len;
  json_object_set_int_member (m, "body_bytes", (gint64) len);
  json_object_set_string_member (m, "body_sha256", sha);
  for (guint i = 0; atts != NULL && i < json_array_get_length (atts); i++)
    {
      JsonObject *a = json_array_get_object_element (atts, i);
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "name", json_object_get_string_member (a, "name"));
      json_object_set_int_member (o, "size", json_object_get_int_member (a, "size"));
      json_object_set_string_member (o, "sha256", json_object_get_string_member (a, "sha256"));
      total += json_object_get_int_member (a, "size");
      json_array_add_object_element (out, o);
    }
  json_object_set_array_member (m, "attachments", out);
  json_object_set_int_member (m, "bytes", total);
  return m;
}

static void
note_attempt (EsaDelivery *out, const EsaExchange *ex)
{
  g_ptr_array_add (out->attempts, g_strdup (ex->message ? ex->message : "?"));
  g_free (out->message);
  out->message = g_strdup (ex->message);
}

/* Decides what a failed exchange means for the routes still to try. */
static gboolean
route_failed (EsaDeliverer *self, const EsaRoute *route, EsaExchange *ex, EsaDelivery *out)
{
  note_attempt (out, ex);
  out->outcome = ex->outcome;
  if (ex->outcome == ESA_OUTCOME_NEXT_PROXY && route->proxy_index > 0)
    {
      g_mutex_lock (&self->lock);
      g_hash_table_replace (self->dead_proxies, GUINT_TO_POINTER (route->proxy_index), g_strdup (ex->message));
      g_mutex_unlock (&self->lock);
    }
  /* REJECTED and AUTH are the SDC's final word; other routes reach the same SDC. */
  return ex->outcome == ESA_OUTCOME_REJECTED || ex->outcome == ESA_OUTCOME_AUTH;
}

typedef gboolean (*AttemptFunc) (EsaDeliverer *self, EsaHttps *https, gpointer data,
                                 GCancellable *cancellable, EsaExchange *ex);

/* Called with the lock held. */
static gboolean
has_server_locked (EsaDeliverer *self, const char *server)
{
  for (guint i = 0; i < self->routes->len; i++)
    if (g_strcmp0 (((EsaRoute *) g_ptr_array_index (self->routes, i))->server, server) == 0)
      return TRUE;
  return FALSE;
}

/* Every HTTPS route failed: [sdc] config-url (plain HTTP, GET only, no
 * credentials) may name other servers. Their https:// URLs become routes of
 * this pass (never an http:// one: nothing is uploaded over HTTP). Returns
 * the number of routes added; the attempt is noted for the history. */
static guint
config_url_fallback (EsaDeliverer *self, GCancellable *cancellable, EsaDelivery *out)
{
  const char *url = esa_config_get_config_url (self->config);
  EsaRoute direct = { 0 };
  EsaExchange ex = { 0 };
  g_autoptr (GStrvBuilder) fresh = g_strv_builder_new ();
  g_auto (GStrv) servers = NULL;
  g_autoptr (GString) line = NULL;
  JsonArray *list = NULL;
  guint before, added;
  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
    /* Once per pass: another lane that got here first already added them. */
    if (url == NULL || self->fallback_tried)
      return 0;
    self->fallback_tried = TRUE;
  }
  direct.server = (char *) url;
  /* the same way out as esactl test: through the first proxy, if any */
  if (esa_config_get_n_proxies (self->config) > 0)
    {
      esa_config_get_proxy (self->config, 0, (const char **) &direct.proxy_url, NULL, NULL);
      direct.proxy_index = 1;
    }
  esa_http_get_config (self->config, &direct, url, cancellable, &ex);
  line = g_string_new (NULL);
  g_string_printf (line, "config-url %s: ", url);
  if (ex.outcome == ESA_OUTCOME_OK && ex.answer != NULL && JSON_NODE_HOLDS_OBJECT (ex.answer))
    {
      JsonNode *n = json_object_get_member (json_node_get_object (ex.answer), "servers");
      list = n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
    }
  g_mutex_lock (&self->lock);
  before = self->routes->len;
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonNode *e = json_array_get_element (list, i);
      const char *s = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING
                          ? json_node_get_string (e) : NULL;
      if (s != NULL && g_str_has_prefix (s, "https://") && !has_server_locked (self, s))
        g_strv_builder_add (fresh, s);
    }
  servers = g_strv_builder_end (fresh);
  if (list == NULL)
    g_string_append_printf (line, "no server list (%s)", ex.message ? ex.message : "no answer");
  else if (servers[0] == NULL)
    g_string_append (line, "no other https:// server");
  else
    {
      g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) more = esa_routes_build (self->config, (const char *const *) servers, warnings);
      g_autofree char *joined = g_strjoinv (", ", servers);
      g_ptr_array_extend_and_steal (self->routes, g_steal_pointer (&more));
      g_string_append_printf (line, "trying %s", joined);
    }
  added = self->routes->len - before;
  g_mutex_unlock (&self->lock);
  g_warning ("every https route failed; %s", line->str);
  g_ptr_array_add (out->attempts, g_string_free (g_steal_pointer (&line), FALSE));
  esa_exchange_clear (&ex);
  return added;
}

static void
over_routes (EsaDeliverer *self, AttemptFunc attempt, gpointer data, GCancellable *cancellable,
             EsaDelivery *out)
{
  out->attempts = g_ptr_array_new_with_free_func (g_free);
  out->outcome = ESA_OUTCOME_NEXT_SERVER;
  if (route_at (self, 0) == NULL)
    {
      out->message = g_strdup ("no route to an SDC: set [sdc] servers= or activate with --server");
      return;
    }
  for (guint i = 0;; i++)
    {
      const EsaRoute *route;
      EsaExchange ex = { 0 };
      g_autoptr (GError) error = NULL;
      EsaHttps *https;
      gboolean dead;
      route = route_at (self, i);
      /* the configured routes all failed: those the config-url names come
       * next (added by this lane, or already by another) */
      if (route == NULL)
        {
          config_url_fallback (self, cancellable, out);
          if ((route = route_at (self, i)) == NULL)
            return;
        }
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_free (out->message);
          out->message = g_strdup ("cancelled");
          return;
        }
      g_mutex_lock (&self->lock);
      dead = route->proxy_index > 0 && g_hash_table_contains (self->dead_proxies, GUINT_TO_POINTER (route->proxy_index));
      g_mutex_unlock (&self->lock);
      if (dead)
        continue;
      https = session_for (self, i, &error);
      if (https == NULL)
        {
          ex.outcome = ESA_OUTCOME_NEXT_SERVER;
          ex.message = g_strdup (error->message);
          route_failed (self, route, &ex, out);
          esa_exchange_clear (&ex);
          continue;
        }
      if (attempt (self, https, data, cancellable, &ex))
        {
          note_attempt (out, &ex);
          out->outcome = ESA_OUTCOME_OK;
          out->answer = g_steal_pointer (&ex.answer);
          out->server = g_strdup (route->server);
          esa_exchange_clear (&ex);
          return;
        }
      if (route_failed (self, route, &ex, out))
        {
          out->answer = g_steal_pointer (&ex.answer);
          esa_exchange_clear (&ex);
          return;
        }
      esa_exchange_clear (&ex);
    }
}

typedef struct {
  EsaReport *report;
  JsonNode *envelope;
  GBytes *body;            /* the envelope serialized once: hashed for the manifest, sent as is */
} SendData;

/* Does the 2xx in @ex acknowledge @uuid (and attachment @name) the way
 * docs/protocol.md says: {"status": "stored", "uuid": "<uuid>", ...}? Any
 * other 2xx (a captive portal, a misconfigured load balancer, a server that
 * is not an SDC) stores nothing we know of: the report stays queued, the
 * next server is tried, and the message says why. */
static gboolean
acknowledged (EsaExchange *ex, const char *uuid, const char *name)
{
  JsonObject *o = ex->answer && JSON_NODE_HOLDS_OBJECT (ex->answer) ? json_node_get_object (ex->answer) : NULL;
  const char *status = esa_json_peek_string (o, "status");
  const char *got = esa_json_peek_string (o, "uuid");
  const char *got_name = esa_json_peek_string (o, "name");
  g_autofree char *why = NULL;
  char *old;
  if (o == NULL)
    why = g_strdup_printf ("the answer is not a JSON object (%s)",
                           ex->answer_error ? ex->answer_error
                           : ex->answer     ? esa_json_node_type_name (ex->answer)
                                            : "no answer");
  else if (g_strcmp0 (status, "stored") != 0)
    why = g_strdup_printf ("status is %s%s%s", status ? "\"" : "", status ? status : "missing", status ? "\"" : "");
  else if (got == NULL || g_ascii_strcasecmp (got, uuid) != 0)
    why = g_strdup_printf ("it acknowledges %s", got ? got : "no uuid");
  else if (name != NULL && g_strcmp0 (got_name, name) != 0)
    why = g_strdup_printf ("it acknowledges attachment %s", got_name ? got_name : "(no name)");
  if (why == NULL)
    return TRUE;
  ex->outcome = ESA_OUTCOME_NEXT_SERVER;
  old = ex->message;
  ex->message = g_strdup_printf ("%s, but not an acknowledgement of %s%s%s: %s (expected {\"status\": \"stored\", "
                                 "\"uuid\": \"%s\"}); kept in the queue", old ? old : "answer", uuid,
                                 name ? "/" : "", name ? name : "", why, uuid);
  g_free (old);
  return FALSE;
}

static gboolean
attempt_report (EsaDeliverer *self, EsaHttps *https, gpointer data, GCancellable *cancellable,
                EsaExchange *ex)
{
  SendData *sd = data;
  const char *uuid = esa_report_get_uuid (sd->report);
  g_autofree char *path = g_strdup_printf (ESA_PROTOCOL_BASE_PATH "%s", esa_report_get_kind (sd->report));
  JsonArray *atts = json_object_get_array_member (json_node_get_object (sd->envelope), "attachments");
  GPtrArray *files = esa_report_get_attachments (sd->report);
  g_autoptr (JsonNode) answer = NULL;

  /* over this route, from the first byte */
  esa_upload_progress_restart ();
  esa_https_json_bytes (https, "POST", path, sd->body, self->system_id, self->password, uuid, cancellable, ex);
  if (ex->outcome != ESA_OUTCOME_OK || !acknowledged (ex, uuid, NULL))
    return FALSE;
  answer = g_steal_pointer (&ex->answer);
  /* Attachments after the report: the SDC knows their names and checksums. */
  for (guint i = 0; i < files->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (files, i);
      JsonObject *a = json_array_get_object_element (atts, i);
      g_autofree char *apath = g_strdup_printf (ESA_PROTOCOL_PATH_ATTACHMENT "%s/%s", uuid, att->name);
      esa_exchange_clear (ex);
      esa_https_put_file (https, apath, att->path, att->content_type,
                          json_object_get_string_member (a, "sha256"), self->system_id, self->password,
                          cancellable, ex);
      if (ex->outcome != ESA_OUTCOME_OK || !acknowledged (ex, uuid, att->name))
        return FALSE;
    }
  g_clear_pointer (&ex->answer, json_node_unref);
  ex->answer = g_steal_pointer (&answer);
  return TRUE;
}

/* The server that answered and every route tried, in order: the history
 * keeps what each one said. */
static void
finish_manifest (EsaDelivery *out)
{
  JsonArray *tried = json_array_new ();
  if (out->server != NULL)
    json_object_set_string_member (out->manifest, "server", out->server);
  for (guint i = 0; out->attempts != NULL && i < out->attempts->len; i++)
    json_array_add_string_element (tried, g_ptr_array_index (out->attempts, i));
  json_object_set_array_member (out->manifest, "attempts", tried);
}

/* The envelope of @report for the wire, or FALSE with @out saying why it
 * cannot go (see esa_deliverer_send). */
static gboolean
envelope_or_fail (EsaReport *report, JsonNode **envelope, EsaDelivery *out)
{
  g_autoptr (GError) error = NULL;
  *envelope = esa_report_envelope (report, &error);
  if (*envelope != NULL)
    return TRUE;
  out->attempts = g_ptr_array_new_with_free_func (g_free);
  /* A missing attachment, or one that no longer matches what was queued,
   * can never be sent: failed/ keeps the report for the admin, with the
   * reason. Anything else (out of descriptors, I/O error) may pass: keep
   * it queued and retry. */
  out->outcome = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
                         g_error_matches (error, ESA_ERROR, ESA_ERROR_INVALID_DATA)
                     ? ESA_OUTCOME_REJECTED
                     : ESA_OUTCOME_NEXT_SERVER;
  out->message = g_strdup_printf ("report %s: %s", esa_report_get_uuid (report), error->message);
  return FALSE;
}

void
esa_deliverer_send (EsaDeliverer *self, EsaReport *report, GCancellable *cancellable, EsaDelivery *out)
{
  SendData sd = { report, NULL, NULL };
  char *text;
  if (self->system_id == NULL)
    {
      out->attempts = g_ptr_array_new_with_free_func (g_free);
      out->outcome = ESA_OUTCOME_AUTH;
      out->message = g_strdup ("not activated: run esactl activate --server URL");
      return;
    }
  if (!envelope_or_fail (report, &sd.envelope, out))
    return;
  text = esa_json_to_string (sd.envelope, FALSE);
  sd.body = g_bytes_new_take (text, strlen (text));
  out->manifest = esa_envelope_manifest_for_body (sd.envelope, sd.body);
  esa_upload_progress_begin (esa_report_get_uuid (report), esa_report_get_kind (report),
                             (guint64) json_object_get_int_member (out->manifest, "bytes"));
  over_routes (self, attempt_report, &sd, cancellable, out);
  esa_upload_progress_end ();
  finish_manifest (out);
  json_node_unref (sd.envelope);
  g_bytes_unref (sd.body);
}

/* ---- several reports in one request (POST /esa/v1/reports) ---- */

/* Servers that answered 404 or 405 to the batch endpoint (an older esa-sdc,
 * another SDC): reports go to them one by one for the life of the process,
 * or until esad runs with another config (the marks belong to the config
 * that learnt them; a reload makes a new one). */
static GMutex no_batch_lock;
static GHashTable *no_batch_servers;   /* server URL -> itself */
static const EsaConfig *no_batch_config;

static gboolean
server_batches (const EsaConfig *config, const char *server)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&no_batch_lock);
  return no_batch_config != config || no_batch_servers == NULL ||
         !g_hash_table_contains (no_batch_servers, server);
}

static void
server_mark_no_batch (const EsaConfig *config, const char *server)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&no_batch_lock);
  if (no_batch_servers == NULL)
    no_batch_servers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (no_batch_config != config)
    {
      g_hash_table_remove_all (no_batch_servers);
      no_batch_config = config;
    }
  g_hash_table_add (no_batch_servers, g_strdup (server));
}

gboolean
esa_deliverer_batches (EsaDeliverer *self)
{
  const EsaRoute *first = route_at (self, 0);
  return first != NULL && server_batches (self->config, first->server);
}

typedef struct {
  EsaReport *report;
  GBytes *body;            /* its envelope as serialized once: hashed for the history, sent as is */
  EsaDelivery *out;
  gboolean done;           /* its result is final: acknowledged, rejected, or credentials refused */
} BatchItem;

typedef struct {
  BatchItem *items;
  guint n;
  gboolean alone;          /* the batch as a whole was refused: each report goes in a request of its own */
} BatchData;

static void
item_note (BatchItem *item, EsaOutcome outcome, const char *message)
{
  g_ptr_array_add (item->out->attempts, g_strdup (message));
  g_free (item->out->message);
  item->out->message = g_strdup (message);
  item->out->outcome = outcome;
}

/* {"version": 1, "reports": [...]} of the items still to go, from the
 * envelopes' text: nothing is serialized twice. */
static GBytes *
batch_body (BatchData *bd, guint *count)
{
  GString *s = g_string_new ("{\"version\":" G_STRINGIFY (ESA_PROTOCOL_VERSION) ",\"reports\":[");
  *count = 0;
  for (guint i = 0; i < bd->n; i++)
    {
      gsize len;
      const char *text;
      if (bd->items[i].done)
        continue;
      text = g_bytes_get_data (bd->items[i].body, &len);
      if ((*count)++ > 0)
        g_string_append_c (s, ',');
      g_string_append_len (s, text, (gssize) len);
    }
  g_string_append (s, "]}");
  return g_string_free_to_bytes (s);
}

/* What result @r of a batch answer (@batch_message: the answer's line) says
 * about @item's report: exactly the rule for a single answer, with the
 * result's status and answer; and the result must not name another report. */
static void
batch_result (BatchItem *item, JsonNode *r, const EsaRoute *route, const char *where, const char *batch_message)
{
  const char *uuid = esa_report_get_uuid (item->report);
  JsonObject *o = r != NULL && JSON_NODE_HOLDS_OBJECT (r) ? json_node_get_object (r) : NULL;
  JsonNode *answer = o != NULL ? json_object_get_member (o, "answer") : NULL;
  JsonNode *named = o != NULL ? json_object_get_member (o, "uuid") : NULL;
  const char *named_text = esa_json_peek_string (o, "uuid");
  gint64 status = esa_json_peek_int (o, "status", 0);
  g_autofree char *why = NULL;
  EsaExchange rex = { 0 };
  if (o == NULL)
    why = g_strdup_printf ("its result is %s, not an object", r != NULL ? esa_json_node_type_name (r) : "missing");
  else if (status < 100 || status > 599)
    why = g_strdup ("its result has no HTTP status");
  else if (named != NULL && !JSON_NODE_HOLDS_NULL (named) &&
           (named_text == NULL || g_ascii_strcasecmp (named_text, uuid) != 0))
    why = g_strdup_printf ("its result is for %s", named_text != NULL ? named_text : "a uuid that is not a string");
  if (why != NULL)
    {
      g_autofree char *line = g_strdup_printf ("%s, but not an acknowledgement of %s: %s (expected {\"uuid\": \"%s\", "
                                               "\"status\": 200, \"answer\": {\"status\": \"stored\", …}}); kept in "
                                               "the queue", batch_message, uuid, why, uuid);
      item_note (item, ESA_OUTCOME_NEXT_SERVER, line);
      return;
    }
  rex.status = (guint) status;
  rex.answer = answer != NULL && !JSON_NODE_HOLDS_NULL (answer) ? json_node_copy (answer) : NULL;
  if (rex.answer == NULL)
    rex.answer_error = g_strdup ("no answer in its result");
  esa_https_classify_status (where, rex.status, rex.answer, NULL, &rex);
  if (rex.outcome == ESA_OUTCOME_OK)
    acknowledged (&rex, uuid, NULL);
  item_note (item, rex.outcome, rex.message);
  if (rex.outcome == ESA_OUTCOME_OK || rex.outcome == ESA_OUTCOME_REJECTED || rex.outcome == ESA_OUTCOME_AUTH)
    {
      item->done = TRUE;
      item->out->answer = g_steal_pointer (&rex.answer);
      if (rex.outcome == ESA_OUTCOME_OK)
        item->out->server = g_strdup (route->server);
    }
  esa_exchange_clear (&rex);
}

static gboolean
attempt_batch (EsaDeliverer *self, EsaHttps *https, gpointer data, GCancellable *cancellable, EsaExchange *ex)
{
  BatchData *bd = data;
  const EsaRoute *route = esa_https_get_route (https);
  g_autofree char *describe = esa_route_describe (route);
  g_autofree char *where = NULL;
  g_autoptr (GBytes) body = NULL;
  JsonObject *o;
  JsonNode *rn;
  JsonArray *results;
  guint count, j = 0, left = 0;
  char *old;

  if (!server_batches (self->config, route->server))
    {
      /* Known already: one by one, starting with this route. REJECTED ends
       * the walk over the routes (no verdict on any report). */
      bd->alone = TRUE;
      ex->outcome = ESA_OUTCOME_REJECTED;
      ex->message = g_strdup_printf ("%s: no batch endpoint: one report per request", describe);
      return FALSE;
    }
  body = batch_body (bd, &count);
  where = g_strdup_printf ("%s, batch of %u", describe, count);
  esa_https_json_bytes (https, "POST", ESA_PROTOCOL_PATH_REPORTS, body, self->system_id, self->password, NULL,
                        cancellable, ex);
  if (ex->outcome == ESA_OUTCOME_NEXT_SERVER && (ex->status == 404 || ex->status == 405))
    {
      g_message ("%s answered %u to POST " ESA_PROTOCOL_PATH_REPORTS ": sending it one report per request",
                 route->server, ex->status);
      server_mark_no_batch (self->config, route->server);
      bd->alone = TRUE;
      ex->outcome = ESA_OUTCOME_REJECTED;
      return FALSE;
    }
  /* A 4xx to the batch as a whole (too large for this SDC, a limit of its
   * own) is no verdict on any one report: each goes alone and gets its own. */
  if (ex->outcome == ESA_OUTCOME_REJECTED)
    {
      g_message ("%s: sending these %u reports one per request", ex->message, count);
      bd->alone = TRUE;
      return FALSE;
    }
  if (ex->outcome != ESA_OUTCOME_OK)
    {
      for (guint i = 0; i < bd->n; i++)
        if (!bd->items[i].done)
          item_note (&bd->items[i], ex->outcome, ex->message);
      return FALSE;
    }
  o = ex->answer != NULL && JSON_NODE_HOLDS_OBJECT (ex->answer) ? json_node_get_object (ex->answer) : NULL;
  rn = o != NULL ? json_object_get_member (o, "results") : NULL;
  results = rn != NULL && JSON_NODE_HOLDS_ARRAY (rn) ? json_node_get_array (rn) : NULL;
  if (results == NULL || json_array_get_length (results) != count)
    {
      g_autofree char *why = o == NULL ? g_strdup_printf ("the answer is not a JSON object (%s)",
                                                          ex->answer_error ? ex->answer_error
                                                          : ex->answer     ? esa_json_node_type_name (ex->answer)
                                                                           : "no answer")
                             : results == NULL ? g_strdup ("it has no \"results\" array")
                                               : g_strdup_printf ("%u results for %u reports",
                                                                  json_array_get_length (results), count);
      old = ex->message;
      ex->outcome = ESA_OUTCOME_NEXT_SERVER;
      ex->message = g_strdup_printf ("%s, but not an acknowledgement of its %u reports: %s (expected "
                                     "{\"results\": [one per report, in order]}); kept in the queue",
                                     old ? old : "answer", count, why);
      g_free (old);
      for (guint i = 0; i < bd->n; i++)
        if (!bd->items[i].done)
          item_note (&bd->items[i], ex->outcome, ex->message);
      return FALSE;
    }
  for (guint i = 0; i < bd->n; i++)
    {
      BatchItem *item = &bd->items[i];
      if (item->done)
        continue;
      batch_result (item, json_array_get_element (results, j++), route, where, ex->message);
      if (!item->done)
        left++;
    }
  if (left == 0)
    return TRUE;
  old = ex->message;
  ex->outcome = ESA_OUTCOME_NEXT_SERVER;
  ex->message = g_strdup_printf ("%s: %u of %u reports not acknowledged", old ? old : "answer", left, count);
  g_free (old);
  return FALSE;
}

void
esa_deliverer_send_batch (EsaDeliverer *self, EsaReport *const *reports, guint n, GCancellable *cancellable,
                          EsaDelivery *outs, gboolean *tried)
{
  g_autofree BatchItem *items = g_new0 (BatchItem, n);
  gboolean stop = FALSE;
  memset (tried, 0, n * sizeof *tried);
  if (self->system_id == NULL)
    {
      /* not activated: each says so, as esa_deliverer_send does */
      for (guint i = 0; i < n; i++)
        {
          esa_deliverer_send (self, reports[i], cancellable, &outs[i]);
          tried[i] = TRUE;
        }
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (JsonNode) envelope = NULL;
      char *text;
      items[i].report = reports[i];
      items[i].out = &outs[i];
      if (!envelope_or_fail (reports[i], &envelope, &outs[i]))
        {
          items[i].done = TRUE;
          continue;
        }
      text = esa_json_to_string (envelope, FALSE);
      items[i].body = g_bytes_new_take (text, strlen (text));
      outs[i].manifest = esa_envelope_manifest_for_body (envelope, items[i].body);
      outs[i].attempts = g_ptr_array_new_with_free_func (g_free);
    }
  for (guint start = 0; start < n && !stop;)
    {
      BatchData bd = { items + start, 0, FALSE };
      EsaDelivery batch = { 0 };
      gsize bytes = 0;
      gboolean any = FALSE;
      /* Requests of at most ESA_DELIVER_BATCH_BYTES of reports (a bigger one alone). */
      while (start + bd.n < n)
        {
          gsize len = items[start + bd.n].body != NULL ? g_bytes_get_size (items[start + bd.n].body) : 0;
          if (bd.n > 0 && bytes + len > ESA_DELIVER_BATCH_BYTES)
            break;
          bytes += len;
          any |= !items[start + bd.n].done;
          bd.n++;
        }
      if (any)
        over_routes (self, attempt_batch, &bd, cancellable, &batch);
      for (guint i = start; i < start + bd.n; i++)
        {
          BatchItem *item = &items[i];
          if (!item->done && bd.alone)
            {
              /* as today: one request, over the routes in order */
              if (stop)
                continue; /* not tried */
              esa_delivery_clear (item->out);
              esa_deliverer_send (self, item->report, cancellable, item->out);
            }
          else
            {
              if (!item->done && item->out->message == NULL)
                item_note (item, batch.outcome, batch.message ? batch.message : "not sent");
              if (item->out->manifest != NULL)
                finish_manifest (item->out);
            }
          tried[i] = TRUE;
          if (item->out->outcome != ESA_OUTCOME_OK && item->out->outcome != ESA_OUTCOME_REJECTED)
            stop = TRUE;
        }
      esa_delivery_clear (&batch);
      start += bd.n;
    }
  for (guint i = 0; i < n; i++)
    g_clear_pointer (&items[i].body, g_bytes_unref);
}

typedef struct {
  const char *method;
  const char *path;
  JsonNode *body;
  gboolean with_credentials;
  const char *key;
} CallData;

static gboolean
attempt_call (EsaDeliverer *self, EsaHttps *https, gpointer data, GCancellable *cancellable, EsaExchange *ex)
{
  CallData *cd = data;
  esa_https_json (https, cd->method, cd->path, cd->body, cd->with_credentials ? self->system_id : NULL,
                  cd->with_credentials ? self->password : NULL, cd->key, cancellable, ex);
  return ex->outcome == ESA_OUTCOME_OK;
}

void
esa_deliverer_call (EsaDeliverer *self, const char *method, const char *path, JsonNode *body,
                    gboolean with_credentials, const char *idempotency_key, GCancellable *cancellable,
                    EsaDelivery *out)
{
  CallData cd = { method, path, body, with_credentials, idempotency_key };
  over_routes (self, attempt_call, &cd, cancellable, out);
}
