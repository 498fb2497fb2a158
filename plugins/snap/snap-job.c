/* snap-job.c: runs the collection for one problem in a private temp folder
 * (0700, under esa_context_get_temp_dir) and always removes that folder. */
#include "config.h"

#include "snap-job.h"
#include "snap-collect.h"
#include "snap-repack.h"
#include "esa/esa-json.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

SnapPlugin *
snap_plugin_new (EsaContext *ctx, GError **error)
{
  SnapPlugin *self = g_new0 (SnapPlugin, 1);
  gint64 max_size = 0;
  g_autofree char *files = esa_context_get_string (ctx, "config-files", SNAP_DEFAULT_CONFIG_FILES);
  const char *sysroot = esa_context_get_platform (ctx)->sysroot; /* "/" but in tests */
  self->ctx = ctx;
  self->sysroot = g_strdup (sysroot != NULL ? sysroot : "/");
  self->config_files = g_strsplit (files, ";", -1);
  for (guint i = 0; self->config_files[i] != NULL; i++)
    g_strstrip (self->config_files[i]);
  if (!esa_context_get_int (ctx, "max-size", SNAP_DEFAULT_MAX_SIZE, 4096, G_MAXINT64, &max_size, error) ||
      !esa_context_get_duration (ctx, "timeout", SNAP_DEFAULT_TIMEOUT, &self->timeout_s, error))
    {
      snap_plugin_free (self);
      return NULL;
    }
  self->max_size = (guint64) max_size;
  {
    g_autofree char *map = g_build_filename (esa_context_get_state_dir (ctx), SNAP_REDACTION_MAP, NULL);
    self->tokens = snap_tokens_open (map);
    snap_tokens_add_host (self->tokens, esa_context_get_platform (ctx)->hostname);
    snap_tokens_add_host (self->tokens, g_get_host_name ());
  }
  return self;
}

void
snap_plugin_free (SnapPlugin *self)
{
  if (self == NULL)
    return;
  g_strfreev (self->config_files);
  g_free (self->sysroot);
  snap_tokens_free (self->tokens);
  g_free (self);
}

gboolean
snap_rmtree (const char *path, GError **error)
{
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    return errno == ENOENT ? TRUE : (g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", path, g_strerror (errno)), FALSE);
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (!snap_rmtree (child, error))
            return FALSE;
        }
      if (g_rmdir (path) != 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", path, g_strerror (errno));
          return FALSE;
        }
      return TRUE;
    }
  if (g_unlink (path) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* The private folder; removed by its cleanup whatever happens. */
typedef struct {
  char *path;
} SnapTempDir;

static void
snap_temp_dir_free (SnapTempDir *t)
{
  g_autoptr (GError) error = NULL;
  if (t == NULL)
    return;
  if (t->path != NULL && !snap_rmtree (t->path, &error))
    g_warning ("cannot remove %s: %s", t->path, error->message);
  g_free (t->path);
  g_free (t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SnapTempDir, snap_temp_dir_free)

static SnapTempDir *
snap_temp_dir_new (EsaContext *ctx, GError **error)
{
  g_autofree char *tmpl = g_build_filename (esa_context_get_temp_dir (ctx), "snap-XXXXXX", NULL);
  SnapTempDir *t;
  if (g_mkdtemp_full (tmpl, 0700) == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: cannot create: %s", tmpl, g_strerror (errno));
      return NULL;
    }
  t = g_new0 (SnapTempDir, 1);
  t->path = g_steal_pointer (&tmpl);
  return t;
}

static guint64
file_size (const char *path)
{
  GStatBuf st;
  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

/* snap's archive, redacted like the Linux collection (snap-repack.h): the
 * copy in DIR/redacted/ is what is sent. */
static char *
redact_aix (SnapPlugin *self, const char *dir, const char *archive, const char *name, JsonObject *body,
            GError **error)
{
  g_autofree char *out_dir = g_build_filename (dir, "redacted", NULL);
  g_autofree char *out = g_build_filename (out_dir, name, NULL);
  g_autoptr (GError) local = NULL;
  JsonArray *notes = json_array_new ();
  json_object_set_array_member (body, "notes", notes);
  if (g_mkdir (out_dir, 0700) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", out_dir, g_strerror (errno));
      return NULL;
    }
  if (!snap_repack_redacted (archive, out, self->tokens, notes, error))
    {
      g_prefix_error (error, "redacting %s: ", name);
      return NULL;
    }
  if (!snap_tokens_save (self->tokens, &local))
    g_warning ("%s", local->message);
  json_object_set_string_member (body, "redaction", "members redacted, values as per-system tokens");
  return g_steal_pointer (&out);
}

/* AIX: snap -g -c -d DIR → DIR/snap.pax.Z (or .pax.gz on newer levels). */
static char *
collect_aix (SnapPlugin *self, const char *dir, JsonObject *body, const char **content_type,
             GCancellable *cancellable, GError **error)
{
  const char *argv[] = { "snap", "-g", "-c", "-d", dir, NULL };
  EsaSubprocessOptions opts = { .timeout_ms = (guint) MIN (self->timeout_s * 1000, G_MAXUINT) };
  const char *const names[] = { "snap.pax.Z", "snap.pax.gz", NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) local = NULL;
  out = esa_subprocess_run (argv, &opts, NULL, &err, cancellable, &local);
  if (out == NULL)
    {
      g_autofree char *detail = err != NULL ? g_strstrip (g_strdup (err)) : NULL;
      g_set_error (error, ESA_ERROR, local->domain == ESA_ERROR ? local->code : ESA_ERROR_FAILED, "%s%s%s",
                   local->message, detail != NULL && *detail != '\0' ? ": " : "", detail != NULL ? detail : "");
      return NULL;
    }
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          guint64 size = file_size (path);
          *content_type = g_str_has_suffix (names[i], ".Z") ? "application/x-compress" : "application/gzip";
          json_object_set_string_member (body, "collector", "snap -g -c");
          /* snap's own archive cannot be thinned out: over the cap it is an error */
          if (size > self->max_size)
            {
              g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                           "%s is %" G_GUINT64_FORMAT " bytes, over [plugin.snap] max-size=%" G_GUINT64_FORMAT,
                           names[i], size, self->max_size);
              return NULL;
            }
          return redact_aix (self, dir, path, names[i], body, error);
        }
    }
  g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "snap -g -c -d %s: finished but wrote no snap.pax.Z", dir);
  return NULL;
}

static char *
collect_linux (SnapPlugin *self, const char *dir, JsonObject *body, const char **content_type,
               GCancellable *cancellable, GError **error)
{
  g_autoptr (SnapCollection) c = snap_collect_linux (self->sysroot, (const char *const *) self->config_files, cancellable);
  g_autoptr (JsonObject) manifest = json_object_new ();
  g_autofree char *path = g_build_filename (dir, "openesa-snap.tar.gz", NULL);
  g_autoptr (GError) local = NULL;
  guint64 size;
  /* host names and addresses become tokens in every text item */
  for (guint i = 0; i < c->items->len; i++)
    {
      SnapItem *item = g_ptr_array_index (c->items, i);
      gsize len = 0;
      const char *data = g_bytes_get_data (item->data, &len);
      guint n = 0;
      char *clean;
      if (len == 0 || memchr (data, '\0', len) != NULL)
        continue;
      clean = snap_tokenize (self->tokens, data, len, &n);
      g_bytes_unref (item->data);
      item->data = g_bytes_new_take (clean, strlen (clean));
    }
  if (!snap_tokens_save (self->tokens, &local))
    g_warning ("%s", local->message);
  if (!snap_collection_fit (c, self->max_size, error))
    return NULL;
  json_object_set_string_member (manifest, "problem", esa_json_peek_string (body, "problem"));
  json_object_set_string_member (manifest, "agent_version", ESA_VERSION);
  if (!snap_collection_write (c, manifest, path, error))
    return NULL;
  size = file_size (path);
  if (size > self->max_size)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "openesa-snap.tar.gz is %" G_GUINT64_FORMAT " bytes, over [plugin.snap] max-size=%" G_GUINT64_FORMAT,
                   size, self->max_size);
      return NULL;
    }
  json_object_set_string_member (body, "collector", "openesa linux");
  json_object_set_array_member (body, "notes", json_array_ref (c->notes));
  *content_type = "application/gzip";
  return g_steal_pointer (&path);
}

char *
snap_run_for_problem (SnapPlugin *self, JsonObject *event, GCancellable *cancellable, GError **error)
{
  const EsaPlatform *platform = esa_context_get_platform (self->ctx);
  const char *problem = esa_json_peek_string (event, "uuid");
  g_autoptr (SnapTempDir) tmp = NULL;
  g_autoptr (EsaReport) report = NULL;
  g_autofree char *archive = NULL;
  const char *content_type = NULL;
  JsonObject *body;

  if (problem == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "problem-reported event without the problem's uuid");
      return NULL;
    }
  tmp = snap_temp_dir_new (self->ctx, error);
  if (tmp == NULL)
    return NULL;
  report = esa_report_new (ESA_REPORT_KIND_EXTENDED_DATA, esa_context_get_plugin_name (self->ctx));
  esa_report_set_parent (report, problem);
  body = esa_report_get_body (report);
  json_object_set_string_member (body, "problem", problem);
  if (esa_json_peek_string (event, "resource") != NULL)
    json_object_set_string_member (body, "resource", esa_json_peek_string (event, "resource"));
  /* the event data may come from POST /v1/events: "test" need not be a boolean */
  json_object_set_boolean_member (body, "test", esa_json_peek_boolean (event, "test", FALSE));
  json_object_set_string_member (body, "os", platform->os != NULL ? platform->os : "unknown");

  if (g_strcmp0 (platform->os, "AIX") == 0)
    archive = collect_aix (self, tmp->path, body, &content_type, cancellable, error);
  else
    archive = collect_linux (self, tmp->path, body, &content_type, cancellable, error);
  if (archive == NULL)
    {
      g_prefix_error (error, "extended data for problem %s: ", problem);
      return NULL;
    }
  json_object_set_int_member (body, "archive_size", (gint64) file_size (archive));
  if (!esa_report_add_attachment (report, archive, content_type, error) ||
      !esa_context_submit (self->ctx, report, error))
    return NULL;
  /* the queue has its own copy now; tmp goes with this scope */
  return g_strdup_printf ("queued extended data %s (%" G_GUINT64_FORMAT " bytes) for problem %s",
                          esa_report_get_uuid (report), file_size (archive), problem);
}
