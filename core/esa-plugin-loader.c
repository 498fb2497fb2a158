/* esa-plugin-loader.c: plugin discovery and the checks that happen before any
 * plugin code runs: the folder chain, the file (on its open fd), the ABI
 * number read from the file; then only enabled modules are loaded, from the
 * very inode that was checked. */
#include "config.h"

#include "esa-plugin-loader.h"
#include "esa-plugin-loader-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esa/esa-error.h"

const char *
esa_plugin_state_to_string (EsaPluginState state)
{
  switch (state)
    {
    case ESA_PLUGIN_STATE_DISABLED: return "disabled";
    case ESA_PLUGIN_STATE_LOADED: return "loaded";
    case ESA_PLUGIN_STATE_REFUSED: return "refused";
    case ESA_PLUGIN_STATE_FAILED: return "failed";
    case ESA_PLUGIN_STATE_CHECKED: return "checked";
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

static EsaPluginCheckedHook checked_hook;
static gpointer checked_hook_data;

void
esa_plugin_loader_set_checked_hook (EsaPluginCheckedHook hook, gpointer user_data)
{
  checked_hook = hook;
  checked_hook_data = user_data;
}

/* Who may own a plugin or a folder above it: root, or the user running the
 * scan (a developer's own tree; esad runs as root, so for esad that is root). */
static gboolean
owner_trusted (uid_t uid)
{
  return uid == 0 || uid == geteuid ();
}

/* Checks the plugin folder and every folder above it, walking down from "/"
 * with O_NOFOLLOW so that each checked folder is the one the next step opens:
 * owned by root (or the running user), not writable by group or others. A
 * world-writable folder with the sticky bit (/tmp) is accepted above the
 * plugin folder: there only an entry's owner may rename or remove it, so the
 * trusted folder below cannot be swapped. Returns an O_DIRECTORY fd of the
 * plugin folder, or -1 and *reason. */
static int
open_trusted_dir (const char *dir, char **reason)
{
  g_autofree char *real = realpath (dir, NULL);
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) walked = g_string_new ("/");
  int fd;

  if (real == NULL)
    {
      *reason = g_strdup_printf ("cannot open the plugin folder %s: %s", dir, g_strerror (errno));
      return -1;
    }
  parts = g_strsplit (real, "/", -1);
  fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (guint i = 0; fd >= 0; i++)
    {
      struct stat st;
      gboolean last;
      int next;
      while (parts[i] != NULL && parts[i][0] == '\0')
        i++;
      last = parts[i] == NULL;
      if (fstat (fd, &st) != 0)
        {
          *reason = g_strdup_printf ("cannot stat folder %s: %s", walked->str, g_strerror (errno));
          close (fd);
          return -1;
        }
      if (!owner_trusted (st.st_uid))
        *reason = g_strdup_printf ("plugin folder %s is owned by uid %u (expected root)",
                                   walked->str, (guint) st.st_uid);
      else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (last || (st.st_mode & S_ISVTX) == 0))
        *reason = g_strdup_printf ("plugin folder %s is writable by group or others (mode %04o; expected 0755 or stricter)",
                                   walked->str, (guint) (st.st_mode & 07777));
      if (*reason != NULL)
        {
          close (fd);
          return -1;
        }
      if (last)
        return fd;
      next = openat (fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (walked->len > 1)
        g_string_append_c (walked, '/');
      g_string_append (walked, parts[i]);
      if (next < 0)
        *reason = g_strdup_printf ("cannot open folder %s: %s", walked->str, g_strerror (errno));
      close (fd);
      fd = next;
    }
  if (*reason == NULL)
    *reason = g_strdup_printf ("cannot open /: %s", g_strerror (errno));
  return -1;
}

/* The file checks NetworkManager makes before loading a plugin, made on the
 * open file itself (O_NOFOLLOW), so that what is checked is what is loaded.
 * Returns the fd, or -1 with the record refused. */
static int
open_checked_file (EsaPluginRecord *rec, int dir_fd)
{
  struct stat st;
  int fd = openat (dir_fd, rec->file_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0 && errno == ELOOP)
    {
      refuse (rec, "not a regular file (a symbolic link)");
      return -1;
    }
  if (fd < 0)
    {
      refuse (rec, "cannot open: %s", g_strerror (errno));
      return -1;
    }
  if (fstat (fd, &st) != 0)
    refuse (rec, "cannot stat: %s", g_strerror (errno));
  else if (!S_ISREG (st.st_mode))
    refuse (rec, "not a regular file");
  else if (!owner_trusted (st.st_uid))
    refuse (rec, "owned by uid %u (expected root)", (guint) st.st_uid);
  else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    refuse (rec, "writable by group or others (mode %04o; expected 0755 or stricter)",
            (guint) (st.st_mode & 07777));
  else if ((st.st_mode & (S_ISUID | S_ISGID)) != 0)
    refuse (rec, "setuid/setgid bit set (mode %04o)", (guint) (st.st_mode & 07777));
  if (rec->state == ESA_PLUGIN_STATE_REFUSED)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* The ABI number, read from the file before anything loads it. FALSE (the
 * record refused) when the file says no; TRUE when it says yes or when this
 * system cannot tell without loading (AIX: checked after loading). */
static gboolean
check_abi_in_file (EsaPluginRecord *rec, int fd)
{
  g_autoptr (GError) error = NULL;
  guint32 abi = 0;
  if (!esa_plugin_elf_read_abi (fd, &abi, &error))
    {
      if (g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_SUPPORTED))
        return TRUE;
      refuse (rec, "%s", error->message);
      return FALSE;
    }
  if (abi != ESA_PLUGIN_ABI_VERSION)
    {
      refuse (rec, "plugin ABI %u, this esad speaks ABI %u (rebuild the plugin)", abi, (guint) ESA_PLUGIN_ABI_VERSION);
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

/* Loads the very file open on @fd. Linux: through /proc/self/fd/N, which
 * names the open inode, not a path an attacker could rename over. GModule
 * and the dynamic linker both reuse an already loaded module *by name*, so
 * that name must never point at another file while the module stays loaded:
 * the fd of a module that stays is never closed (see open_module). AIX (no
 * /proc/self/fd): load the path, then compare the loaded file's device and
 * inode with the checked fd's and refuse on a mismatch. */
static GModule *
load_same_inode (int fd, const char *path, char **reason)
{
  /* LOCAL: one plugin's symbols never satisfy another's. */
  const GModuleFlags flags = G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL;
  GModule *module;
#ifdef __linux__
  g_autofree char *fd_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  (void) path;
  module = g_module_open (fd_path, flags);
  if (module == NULL)
    *reason = g_strdup_printf ("cannot open: %s", g_module_error ());
  return module;
#else
  struct stat checked, loaded;
  module = g_module_open (path, flags);
  if (module == NULL)
    {
      *reason = g_strdup_printf ("cannot open: %s", g_module_error ());
      return NULL;
    }
  if (fstat (fd, &checked) != 0 || stat (path, &loaded) != 0 ||
      checked.st_dev != loaded.st_dev || checked.st_ino != loaded.st_ino)
    {
      *reason = g_strdup ("the file changed between its checks and its loading (refused)");
      g_module_close (module);
      return NULL;
    }
  return module;
#endif
}

/* Returns TRUE when @fd must stay open for as long as the module is loaded
 * (it is the name the module was loaded under). */
static gboolean
open_module (EsaPluginRecord *rec, int fd)
{
  gpointer abi_sym = NULL;
  gpointer query_sym = NULL;
  const EsaPluginInfo *info;
  g_autofree char *reason = NULL;
  GModule *module = load_same_inode (fd, rec->path, &reason);
  g_autofree char *fd_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  if (module == NULL)
    {
      refuse (rec, "%s", reason);
      return FALSE;
    }
  if (!g_module_symbol (module, "esa_plugin_abi", &abi_sym) || abi_sym == NULL)
    refuse (rec, "no esa_plugin_abi symbol (not an OpenESA plugin, or built without ESA_PLUGIN_DEFINE)");
  else if (*(const guint32 *) abi_sym != ESA_PLUGIN_ABI_VERSION)
    refuse (rec, "plugin ABI %u, this esad speaks ABI %u (rebuild the plugin)",
            *(const guint32 *) abi_sym, (guint) ESA_PLUGIN_ABI_VERSION);
  else if (!g_module_symbol (module, "esa_plugin_query", &query_sym) || query_sym == NULL)
    refuse (rec, "no esa_plugin_query symbol");
  if (rec->state == ESA_PLUGIN_STATE_REFUSED)
    {
      g_module_close (module);
      return FALSE;
    }
  info = ((EsaPluginQueryFunc) query_sym) ();
  if (info == NULL || info->abi_version != ESA_PLUGIN_ABI_VERSION ||
      info->struct_size != sizeof (EsaPluginInfo))
    refuse (rec, "descriptor does not match ABI %u", (guint) ESA_PLUGIN_ABI_VERSION);
  else if (!name_valid (info->name))
    refuse (rec, "descriptor name \"%s\" is not valid (expected [a-z0-9_-]+)",
            info->name ? info->name : "(null)");
  else if (g_strcmp0 (info->name, rec->name) != 0)
    refuse (rec, "descriptor name \"%s\" does not match the file name %s (expected %s." G_MODULE_SUFFIX ")",
            info->name, rec->file_name, info->name);
  else if (info->init == NULL)
    refuse (rec, "descriptor has no init function");
  if (rec->state == ESA_PLUGIN_STATE_REFUSED)
    {
      g_module_close (module);
      return FALSE;
    }
  /* Only now, with every check passed: modules stay resident, a plugin may
   * have touched GnuTLS or registered types (STYLE.md). */
  g_module_make_resident (module);
  rec->module = module;
  rec->info = info;
  g_free (rec->version);
  rec->version = g_strdup (info->version ? info->version : "?");
  g_free (rec->summary);
  rec->summary = g_strdup (info->summary ? info->summary : "");
  rec->state = ESA_PLUGIN_STATE_LOADED;
  /* Loaded before under another name (a rescan): that name holds it. */
  return g_strcmp0 (g_module_name (module), fd_path) == 0;
}

static gint
cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The *.so names in the folder open on @dir_fd, sorted. */
static GPtrArray *
list_modules (int dir_fd)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  int fd = dup (dir_fd);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;
  if (d == NULL && fd >= 0)
    close (fd);
  while (d != NULL && (e = readdir (d)) != NULL)
    if (g_str_has_suffix (e->d_name, "." G_MODULE_SUFFIX))
      g_ptr_array_add (files, g_strdup (e->d_name));
  if (d != NULL)
    closedir (d);
  g_ptr_array_sort (files, cmp_names);
  return files;
}

static EsaPluginRecord *
record_new (const char *name)
{
  EsaPluginRecord *rec = g_new0 (EsaPluginRecord, 1);
  rec->name = g_strdup (name);
  rec->version = g_strdup ("");
  rec->summary = g_strdup ("");
  return rec;
}

GPtrArray *
esa_plugin_scan (const char *dir, const char *const *enabled, EsaPluginScanMode mode)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_plugin_record_free);
  g_autoptr (GPtrArray) files = NULL;
  g_autofree char *dir_reason = NULL;
  int dir_fd = open_trusted_dir (dir, &dir_reason);

  files = dir_fd >= 0 ? list_modules (dir_fd) : g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < files->len; i++)
    {
      const char *file = g_ptr_array_index (files, i);
      g_autofree char *stem = g_strndup (file, strlen (file) - strlen ("." G_MODULE_SUFFIX));
      EsaPluginRecord *rec = record_new (stem);
      int fd;
      rec->file_name = g_strdup (file);
      rec->path = g_build_filename (dir, file, NULL);
      rec->enabled = enabled != NULL && g_strv_contains (enabled, rec->name);
      g_ptr_array_add (records, rec);
      /* The plugin's name is its file name: that is how a disabled module
       * is known without loading it. */
      if (!name_valid (rec->name))
        {
          refuse (rec, "file name %s is not a plugin name ([a-z0-9_-]+." G_MODULE_SUFFIX ")", file);
          continue;
        }
      fd = open_checked_file (rec, dir_fd);
      if (fd < 0)
        continue;
      if (!check_abi_in_file (rec, fd))
        ;
      else if (!rec->enabled)
        {
          /* Never loaded: dlopen alone runs a module's constructors. */
          rec->state = ESA_PLUGIN_STATE_DISABLED;
          rec->reason = g_strdup ("not in [plugins] enabled=");
        }
      else if (mode == ESA_PLUGIN_SCAN_CHECK_ONLY)
        {
          rec->state = ESA_PLUGIN_STATE_CHECKED;
          g_free (rec->summary);
          rec->summary = g_strdup ("file checks passed; version, summary and init need esad");
        }
      else
        {
          if (checked_hook != NULL)
            checked_hook (rec->path, checked_hook_data);
          if (open_module (rec, fd))
            continue; /* the resident module's name: kept open for good */
        }
      close (fd);
    }
  for (guint i = 0; enabled != NULL && enabled[i] != NULL; i++)
    {
      gboolean found = FALSE;
      EsaPluginRecord *rec;
      for (guint j = 0; j < records->len; j++)
        found |= g_strcmp0 (((EsaPluginRecord *) g_ptr_array_index (records, j))->name, enabled[i]) == 0;
      if (found)
        continue;
      rec = record_new (enabled[i]);
      rec->enabled = TRUE;
      if (dir_reason != NULL)
        refuse (rec, "%s", dir_reason);
      else
        refuse (rec, "enabled in the config but no module %s." G_MODULE_SUFFIX " in %s", enabled[i], dir);
      g_ptr_array_add (records, rec);
    }
  if (dir_fd >= 0)
    close (dir_fd);
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
