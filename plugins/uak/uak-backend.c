/* uak-backend.c: where the current Update Access Key lives and how a new one
 * is applied — AIX (lparstat -u, lscfg, uak_expiry; uak_update) or a plain
 * file (Linux, tests). */
#include "config.h"

#include "uak-private.h"
#include "uak-lparstat.h"
#include "uak-lscfg.h"

#include <esa/esa-plugin.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

gboolean
esa_uak_backend_parse_kind (const char *name, EsaUakBackendKind *kind)
{
  if (g_strcmp0 (name, "file") == 0)
    *kind = ESA_UAK_BACKEND_FILE;
  else if (g_strcmp0 (name, "aix") == 0)
    *kind = ESA_UAK_BACKEND_AIX;
  else
    return FALSE;
  return TRUE;
}

const char *
esa_uak_backend_kind_name (EsaUakBackendKind kind)
{
  return kind == ESA_UAK_BACKEND_AIX ? "aix" : "file";
}

static gboolean
uak_file_read (const EsaUakBackend *self, char **expiry, char **key_data, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (EsaUakKey) key = NULL;
  gsize len = 0;

  if (!g_file_get_contents (self->key_file, &text, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE; /* no key yet */
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "UAK key file: %s", local->message);
      return FALSE;
    }
  if (memchr (text, '\0', len) != NULL || !g_utf8_validate (text, (gssize) len, NULL))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s: binary data, not a key file",
                   self->key_file);
      return FALSE;
    }
  if (!esa_uak_parse_key_file (self->key_file, text, expiry, &key, error))
    return FALSE;
  if (key != NULL)
    *key_data = g_strdup (key->key_data);
  return TRUE;
}

/* One of the AIX commands; FALSE (with a debug line) when it has nothing. */
static gboolean
uak_aix_try (const char *const *argv, char **expiry, gboolean *no_key, GCancellable *cancellable,
             GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *out = esa_subprocess_run (argv, NULL, NULL, NULL, cancellable, &local);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  *no_key = FALSE;
  if (out == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (g_str_equal (argv[0], "lparstat"))
    {
      g_autoptr (EsaAixUak) uak = esa_aix_parse_lparstat_u (out, warnings, error);
      if (uak == NULL)
        return FALSE;
      if (uak->fw_expiry == NULL)
        {
          /* "-": the firmware says there is no key; trust it, but let lscfg confirm */
          g_set_error_literal (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "lparstat -u: no firmware key");
          *no_key = TRUE;
          return FALSE;
        }
      *expiry = g_strdup (uak->fw_expiry);
      return TRUE;
    }
  if (g_str_equal (argv[0], "lscfg"))
    {
      g_autoptr (GPtrArray) vpd = esa_aix_parse_lscfg_vpd (out, warnings, error);
      const char *v;
      if (vpd == NULL)
        return FALSE;
      v = esa_aix_vpd_lookup (vpd, "Update Access Key Exp Date");
      /* AIX 7.2 on POWER8 prints the date under its older name */
      if (v == NULL)
        v = esa_aix_vpd_lookup (vpd, "Microcode Entitlement Date");
      if (v == NULL || !esa_uak_date_valid (v))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND,
                       "lscfg -vpl sysplanar0: no Update Access Key Exp Date%s%s", v ? ": " : "",
                       v ? v : "");
          return FALSE;
        }
      *expiry = g_strdup (v);
      return TRUE;
    }
  if (!esa_aix_parse_yyyymmdd (argv[0], out, expiry, error))
    return FALSE;
  *no_key = *expiry == NULL;
  return TRUE;
}

static gboolean
uak_aix_read (char **expiry, char **source, GCancellable *cancellable, GError **error)
{
  static const char *const lparstat[] = { "lparstat", "-u", NULL };
  static const char *const lscfg[] = { "lscfg", "-vpl", "sysplanar0", NULL };
  static const char *const uak_expiry[] = { "uak_expiry", NULL };
  const char *const *tries[] = { lparstat, lscfg, uak_expiry };
  g_autoptr (GString) why = g_string_new (NULL);
  gboolean any_no_key = FALSE;

  /* lparstat -u exists from AIX 7.3 on; older levels have lscfg's VPD line
   * and the uak_expiry helper */
  for (guint i = 0; i < G_N_ELEMENTS (tries); i++)
    {
      g_autoptr (GError) local = NULL;
      gboolean no_key = FALSE;
      if (uak_aix_try (tries[i], expiry, &no_key, cancellable, &local))
        {
          *source = g_strjoinv (" ", (char **) tries[i]);
          return TRUE;
        }
      any_no_key = any_no_key || no_key;
      g_debug ("UAK expiry: %s", local->message);
      g_string_append_printf (why, "%s%s", why->len > 0 ? "; " : "", local->message);
    }
  if (any_no_key)
    {
      *source = g_strdup ("lparstat -u");
      return TRUE; /* no key on this machine */
    }
  g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "cannot read the Update Access Key expiry: %s",
               why->str);
  return FALSE;
}

gboolean
esa_uak_backend_read_aix (const EsaUakBackend *self, char **expiry, char **source, GError **error)
{
  static const char *const lparstat[] = { "lparstat", "-u", NULL };
  static const char *const uak_aix_expiry[] = { "uak_aix_expiry", NULL };
  g_autoptr (GError) local = NULL;
  g_autofree char *out = NULL;
  *expiry = NULL;
  *source = NULL;
  if (self->kind != ESA_UAK_BACKEND_AIX)
    return TRUE;
  out = esa_subprocess_run (lparstat, NULL, NULL, NULL, NULL, &local);
  if (out != NULL)
    {
      g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (EsaAixUak) uak = esa_aix_parse_lparstat_u (out, warnings, &local);
      if (uak != NULL)
        {
          *expiry = g_strdup (uak->aix_expiry);
          *source = g_strdup ("lparstat -u");
          return TRUE;
        }
    }
  /* before AIX 7.3 (no lparstat -u) */
  g_debug ("AIX key expiry: %s", local->message);
  g_clear_error (&local);
  g_clear_pointer (&out, g_free);
  out = esa_subprocess_run (uak_aix_expiry, NULL, NULL, NULL, NULL, &local);
  if (out == NULL || !esa_aix_parse_yyyymmdd ("uak_aix_expiry", out, expiry, &local))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "cannot read the AIX Update Access Key expiry: %s",
                   local->message);
      return FALSE;
    }
  *source = g_strdup ("uak_aix_expiry");
  return TRUE;
}

gboolean
esa_uak_backend_read (const EsaUakBackend *self, char **expiry, char **key_data, char **source,
                      GError **error)
{
  *expiry = NULL;
  *key_data = NULL;
  *source = NULL;
  if (self->kind == ESA_UAK_BACKEND_AIX)
    return uak_aix_read (expiry, source, self->cancellable, error);
  *source = g_strdup (self->key_file);
  return uak_file_read (self, expiry, key_data, error);
}

/* What we write: the signed string, then lines uak_update and people can
 * read. The file backend reads back only the first line. */
static char *
uak_key_file_text (const EsaUakKey *key, const char *signature_b64)
{
  return g_strdup_printf ("%s\nexpiry=%s\nsignature=%s\n", key->key_data, key->expires,
                          signature_b64 != NULL ? signature_b64 : "");
}

gboolean
esa_uak_backend_apply (const EsaUakBackend *self, const EsaUakKey *key, const char *signature_b64,
                       GError **error)
{
  g_autofree char *text = uak_key_file_text (key, signature_b64);
  g_autoptr (GError) local = NULL;

  if (self->kind == ESA_UAK_BACKEND_FILE)
    {
      g_autofree char *dir = g_path_get_dirname (self->key_file);
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", dir, g_strerror (errno));
          return FALSE;
        }
      /* g_file_set_contents writes a temporary file, fsyncs and renames:
       * a crash leaves the old key or the new one, never half of one */
      if (!g_file_set_contents_full (self->key_file, text, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                     0600, &local))
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "writing the key to %s: %s", self->key_file,
                       local->message);
          return FALSE;
        }
      return TRUE;
    }
  else
    {
      g_autofree char *path = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status = 0;
      EsaSubprocessOptions opts = { .timeout_ms = 120000, .allow_failure = TRUE };
      const char *argv[] = { "uak_update", NULL, NULL };
      int fd;

      if (g_mkdir_with_parents (self->temp_dir, 0700) != 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", self->temp_dir, g_strerror (errno));
          return FALSE;
        }
      path = g_build_filename (self->temp_dir, "uak-XXXXXX.key", NULL);
      fd = g_mkstemp_full (path, O_RDWR, 0600);
      if (fd < 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", path, g_strerror (errno));
          return FALSE;
        }
      close (fd);
      if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, &local))
        {
          g_unlink (path);
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", path, local->message);
          return FALSE;
        }
      argv[1] = path;
      out = esa_subprocess_run (argv, &opts, &status, &err, self->cancellable, &local);
      g_unlink (path);
      if (out == NULL)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "uak_update: %s", local->message);
          return FALSE;
        }
      if (status != 0)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "uak_update exited with %d: %s", status,
                       err != NULL && err[0] != '\0' ? g_strstrip (err) : g_strstrip (out));
          return FALSE;
        }
      return TRUE;
    }
}
