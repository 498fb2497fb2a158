/* esa-plugin-loader.c: plugin discovery and the checks that happen before any
 * plugin code runs (file ownership and mode, then the ABI number read as data). */
#include "config.h"

#include "esa-plugin-loader.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *
esa_plugin_state_to_string (EsaPluginState state)
{
  switch (state)
    {
    case ESA_PLUGIN_STATE_DISABLED: return "disabled";
    case ESA_PLUGIN_STATE_LOADED: return "loaded";
    case ESA_PLUGIN_STATE_REFUSED: return "refused";
    case ESA_PLUGIN_STATE_FAILED: return "failed";
    default: return "unknown";
    }
}

void
esa_plugin_record_free (EsaPluginRecord *rec)
{
  if (rec == NULL)
    return;
  /* Modules stay resident: a plugin may have touched GnuTLS or registered
   * types, and unloading such code is how daemons crash (STYLE.md). */
  g_free (rec->path);
  g_free (rec->file_name);
  g_free (rec->name);
  g_free (rec->version);
  g_free (rec->summary);
  g_free (rec->reason);
  g_free (rec);
}

static void
refuse (EsaPluginRecord *rec, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
refuse (EsaPluginRecord *rec, const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  rec->state = ESA_PLUGIN_STATE_REFUSED;
  g_free (rec->reason);
  rec->reason = g_strdup_vprintf (fmt, args);
  va_end (args);
}

/* The file checks NetworkManager makes before loading a plugin. */
static gboolean
check_file (EsaPluginRecord *rec)
{
  GStatBuf st;
  if (g_lstat (rec->path, &st) != 0)
    {
      refuse (rec, "cannot stat: %s", g_strerror (errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      refuse (rec, "not a regular file");
      return FALSE;
    }
  if (st.st_uid != 0 && st.st_uid != geteuid ())
    {
      refuse (rec, "owned by uid %u (expected root)", (guint) st.st_uid);
      return FALSE;
    }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    {
      refuse (rec, "writable by group or others (mode %04o; expected 0755 or stricter)",
              (guint) (st.st_mode & 07777));
      return FALSE;
    }
  if ((st.st_mode & (S_ISUID | S_ISGID)) != 0)
    {
      refuse (rec, "setuid/setgid bit set (mode %04o)", (guint) (st.st_mode & 07777));
      return FALSE;
    }
  return TRUE;
}

static gboolean
name_valid (const char *name)
{
  if (name == NULL || *name == '\0' || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-' || *p == '_'))
      return FALSE;
  return TRUE;
}

static void
open_module (EsaPluginRecord *rec)
{
  gpointer abi_sym = NULL;
  gpointer query_sym = NULL;
  const EsaPluginInfo *info;
  /* LOCAL: one plugin's symbols never satisfy another's. */
  rec->module = g_module_open (rec->path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (rec->module == NULL)
    {
      refuse (rec, "cannot open: %s", g_module_error ());
      return;
    }
  g_module_make_resident (rec->module);
  if (!g_module_symbol (rec->module, "esa_plugin_abi", &abi_sym) || abi_sym == NULL)
    {
      refuse (rec, "no esa_plugin_abi symbol (not an OpenESA plugin, or built without ESA_PLUGIN_DEFINE)");
      return;
    }
  if (*(const guint32 *) abi_sym != ESA_PLUGIN_ABI_VERSION)
    {
      refuse (rec, "plugin ABI %u, this esad speaks ABI %u (rebuild the plugin)",
              *(const guint32 *) abi_sym, (guint) ESA_PLUGIN_ABI_VERSION);
      return;
    }
  if (!g_module_symbol (rec->module, "esa_plugin_query", &query_sym) || query_sym == NULL)
    {
      refuse (rec, "no esa_plugin_query symbol");
      return;
    }
  info = ((EsaPluginQueryFunc) query_sym) ();
  if (info == NULL || info->abi_version != ESA_PLUGIN_ABI_VERSION ||
      info->struct_size != sizeof (EsaPluginInfo))
    {
      refuse (rec, "descriptor does not match ABI %u", (guint) ESA_PLUGIN_ABI_VERSION);
      return;
    }
  if (!name_valid (info->name))
    {
      refuse (rec, "descriptor name \"%s\" is not valid (expected [a-z0-9_-]+)",
              info->name ? info->name : "(null)");
      return;
    }
  if (info->init == NULL)
    {
      refuse (rec, "descriptor has no init function");
      return;
    }
  rec->info = info;
  g_free (rec->name);
  rec->name = g_strdup (info->name);
  g_free (rec->version);
  rec->version = g_strdup (info->version ? info->version : "?");
  g_free (rec->summary);
  rec->summary = g_strdup (info->summary ? info->summary : "");
  rec->state = ESA_PLUGIN_STATE_LOADED;
}

static gint
cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
esa_plugin_scan (const char *dir, const char *const *enabled)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_plugin_record_free);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, "." G_MODULE_SUFFIX))
      g_ptr_array_add (files, g_strdup (name));
  if (d != NULL)
    g_dir_close (d);
  g_ptr_array_sort (files, cmp_names);

  for (guint i = 0; i < files->len; i++)
    {
      EsaPluginRecord *rec = g_new0 (EsaPluginRecord, 1);
      const char *file = g_ptr_array_index (files, i);
      rec->file_name = g_strdup (file);
      rec->path = g_build_filename (dir, file, NULL);
      rec->name = g_strndup (file, strlen (file) - strlen ("." G_MODULE_SUFFIX));
      rec->version = g_strdup ("");
      rec->summary = g_strdup ("");
      g_ptr_array_add (records, rec);
      if (check_file (rec))
        open_module (rec);
      if (rec->state == ESA_PLUGIN_STATE_LOADED && g_hash_table_contains (seen, rec->name))
        refuse (rec, "another module already provides plugin \"%s\"", rec->name);
      rec->enabled = enabled != NULL && g_strv_contains (enabled, rec->name);
      if (rec->state == ESA_PLUGIN_STATE_LOADED)
        {
          g_hash_table_add (seen, rec->name);
          if (!rec->enabled)
            {
              rec->state = ESA_PLUGIN_STATE_DISABLED;
              rec->reason = g_strdup ("not in [plugins] enabled=");
            }
        }
    }
  for (guint i = 0; enabled != NULL && enabled[i] != NULL; i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < records->len; j++)
        found |= g_strcmp0 (((EsaPluginRecord *) g_ptr_array_index (records, j))->name, enabled[i]) == 0;
      if (!found)
        {
          EsaPluginRecord *rec = g_new0 (EsaPluginRecord, 1);
          rec->name = g_strdup (enabled[i]);
          rec->version = g_strdup ("");
          rec->summary = g_strdup ("");
          rec->enabled = TRUE;
          refuse (rec, "enabled in the config but no module %s." G_MODULE_SUFFIX " in %s", enabled[i], dir);
          g_ptr_array_add (records, rec);
        }
    }
  return records;
}

JsonNode *
esa_plugin_records_to_json (GPtrArray *records)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < records->len; i++)
    {
      EsaPluginRecord *rec = g_ptr_array_index (records, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, rec->name);
      json_builder_set_member_name (b, "version");
      json_builder_add_string_value (b, rec->version);
      json_builder_set_member_name (b, "summary");
      json_builder_add_string_value (b, rec->summary);
      json_builder_set_member_name (b, "enabled");
      json_builder_add_boolean_value (b, rec->enabled);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, esa_plugin_state_to_string (rec->state));
      json_builder_set_member_name (b, "reason");
      if (rec->reason != NULL)
        json_builder_add_string_value (b, rec->reason);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "path");
      if (rec->path != NULL)
        json_builder_add_string_value (b, rec->path);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}
