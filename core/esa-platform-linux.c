/* esa-platform-linux.c: the platform read from /sys and /proc on Linux.
 *
 * POWER machines describe themselves in the device tree and lparcfg (the
 * same IBM,TTTT-MMM and IBM,<plant><serial> strings AIX prints); PCs and
 * virtual machines in DMI. Everything is read under a sysroot so the tests
 * can hand in fake trees (tests/fixtures/linux-root/). */
#include "config.h"

#include "esa/esa-aix.h"
#include "esa-platform-private.h"
#include "esa-test-hook-private.h"
#include "esa/esa-error.h"
#include "esa/esa-subprocess.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

typedef struct {
  EsaPlatform *self;
  const char *root;
  guint found; /* files read: none at all is an error */
} EsaLinuxRead;

/* The file's text, trailing NULs and blanks removed (device-tree strings are
 * NUL-terminated); NULL when missing, with a warning when unreadable. */
static char *
esa_linux_read (EsaLinuxRead *rd, const char *rel)
{
  g_autofree char *path = g_build_filename (rd->root, rel, NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
          && !g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR))
        esa_platform_warn (rd->self, "/%s: %s", rel, error->message);
      return NULL;
    }
  rd->found++;
  while (len > 0 && (contents[len - 1] == '\0' || g_ascii_isspace (contents[len - 1])))
    contents[--len] = '\0';
  /* multi-string properties: keep the first string */
  if (len == 0 || !g_utf8_validate (contents, -1, NULL))
    return NULL;
  return g_strstrip (g_steal_pointer (&contents));
}

/* DMI fields firmware vendors leave unfilled */
static char *
esa_linux_read_dmi (EsaLinuxRead *rd, const char *name)
{
  static const char *const placeholders[] = { "To be filled by O.E.M.", "To Be Filled By O.E.M.",
                                              "Not Specified", "Default string", "System Serial Number",
                                              "System Product Name", "None", "0", "Not Applicable" };
  g_autofree char *rel = g_build_filename ("sys/class/dmi/id", name, NULL);
  g_autofree char *value = esa_linux_read (rd, rel);
  if (value == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (placeholders); i++)
    if (g_strcmp0 (value, placeholders[i]) == 0)
      {
        esa_platform_warn (rd->self, "/%s: placeholder \"%s\" ignored", rel, value);
        return NULL;
      }
  return g_steal_pointer (&value);
}

/* "key=value" lines of /proc/ppc64/lparcfg */
static GHashTable *
esa_linux_lparcfg (EsaLinuxRead *rd)
{
  g_autofree char *text = esa_linux_read (rd, "proc/ppc64/lparcfg");
  g_autoptr (GHashTable) table = NULL;
  g_auto (GStrv) lines = NULL;
  if (text == NULL)
    return NULL;
  table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *eq = strchr (lines[i], '=');
      if (eq == NULL)
        continue;
      *eq = '\0';
      g_hash_table_replace (table, g_strstrip (g_strdup (lines[i])), g_strstrip (g_strdup (eq + 1)));
    }
  return g_steal_pointer (&table);
}

/* "key : value" lines of /proc/cpuinfo: the first model name (x86) or cpu (POWER) */
static char *
esa_linux_processor (EsaLinuxRead *rd)
{
  g_autofree char *text = esa_linux_read (rd, "proc/cpuinfo");
  g_auto (GStrv) lines = NULL;
  if (text == NULL)
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');
      g_autofree char *key = NULL;
      if (colon == NULL)
        continue;
      key = g_strstrip (g_strndup (lines[i], (gsize) (colon - lines[i])));
      if (g_strcmp0 (key, "model name") == 0 || g_strcmp0 (key, "cpu") == 0)
        return g_strstrip (g_strdup (colon + 1));
    }
  return NULL;
}

static char *
esa_linux_pretty_name (EsaLinuxRead *rd)
{
  const char *files[] = { "etc/os-release", "usr/lib/os-release" };
  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *text = esa_linux_read (rd, files[f]);
      g_auto (GStrv) lines = NULL;
      if (text == NULL)
        continue;
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        if (g_str_has_prefix (lines[i], "PRETTY_NAME="))
          {
            g_autofree char *raw = g_strstrip (g_strdup (lines[i] + strlen ("PRETTY_NAME=")));
            char *unquoted = g_shell_unquote (raw, NULL);
            return unquoted != NULL ? unquoted : g_steal_pointer (&raw);
          }
    }
  return NULL;
}

static gboolean
esa_linux_command_is_faked (const char *name)
{
  const char *path = esa_test_hook_getenv ("ESA_COMMAND_PATH");
  g_auto (GStrv) dirs = NULL;
  if (path == NULL)
    return FALSE;
  dirs = g_strsplit (path, ":", -1);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *candidate = g_build_filename (dirs[i], name, NULL);
      if (*dirs[i] != '\0' && g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
        return TRUE;
    }
  return FALSE;
}

/* systemd-detect-virt --vm: "kvm", "powervm", … or NULL for bare metal. Only
 * asked on the real root, or in tests when ESA_COMMAND_PATH can fake it. */
static char *
esa_linux_virt (EsaLinuxRead *rd)
{
  const char *argv[] = { "systemd-detect-virt", "--vm", NULL };
  EsaSubprocessOptions opts = { .timeout_ms = 10000, .max_output = 4096, .allow_failure = TRUE };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;

  /* Under a fake sysroot, the host's own answer would be about the wrong
   * machine: only a fake systemd-detect-virt on ESA_COMMAND_PATH counts. */
  if (g_strcmp0 (rd->root, "/") != 0 && !esa_linux_command_is_faked (argv[0]))
    return NULL;
  out = esa_subprocess_run (argv, &opts, NULL, NULL, NULL, &error);
  if (out == NULL)
    {
      if (!g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_FOUND))
        esa_platform_warn (rd->self, "%s", error->message);
      return NULL;
    }
  g_strstrip (out);
  if (out[0] == '\0' || g_strcmp0 (out, "none") == 0)
    return NULL;
  return g_steal_pointer (&out);
}

/* POWER: IBM,9009-42A in the device tree (or lparcfg's system_type) */
static void
esa_linux_power (EsaPlatform *self, EsaLinuxRead *rd, GHashTable *lparcfg)
{
  g_autofree char *model = esa_linux_read (rd, "proc/device-tree/model");
  g_autofree char *system_id = esa_linux_read (rd, "proc/device-tree/system-id");
  g_autofree char *fw = esa_linux_read (rd, "proc/device-tree/openprom/model");
  g_autofree char *vendor = NULL;
  g_autofree char *mtm = NULL;

  if (model == NULL && lparcfg != NULL)
    model = g_strdup (g_hash_table_lookup (lparcfg, "system_type"));
  if (system_id == NULL && lparcfg != NULL)
    system_id = g_strdup (g_hash_table_lookup (lparcfg, "serial_number"));
  if (model != NULL && strchr (model, ',') != NULL)
    {
      esa_aix_split_vendor (model, &vendor, &mtm);
      if (esa_aix_split_type_model (mtm, &self->machine_type, &self->model))
        self->vendor = g_steal_pointer (&vendor);
      else
        esa_platform_warn (self, "/proc/device-tree/model: \"%s\" is not VENDOR,TTTT-MMM", model);
    }
  if (system_id != NULL)
    {
      g_autofree char *rest = NULL;
      esa_aix_split_vendor (system_id, NULL, &rest);
      if (rest != NULL && strlen (rest) == 9)
        self->serial = g_strdup (rest + 2);
      else if (rest != NULL && rest[0] != '\0')
        self->serial = g_steal_pointer (&rest);
      self->system_id = g_steal_pointer (&system_id);
    }
  if (fw != NULL)
    esa_aix_split_vendor (fw, NULL, &self->firmware);
}

gboolean
esa_platform_detect_linux (EsaPlatform *self, const char *sysroot, GError **error)
{
  EsaLinuxRead rd = { self, sysroot, 0 };
  g_autoptr (GHashTable) lparcfg = NULL;
  g_autofree char *release = NULL;
  g_autofree char *pretty = NULL;
  g_autofree char *virt = NULL;
  gboolean real_root = g_strcmp0 (sysroot, "/") == 0;

  if (!g_file_test (sysroot, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "%s: no such directory (ESA_SYSROOT)",
                   sysroot);
      return FALSE;
    }

  self->os = g_strdup ("Linux");
  release = esa_linux_read (&rd, "proc/sys/kernel/osrelease");
  self->hostname = esa_linux_read (&rd, "proc/sys/kernel/hostname");
  if (real_root && (release == NULL || self->hostname == NULL))
    {
      struct utsname u;
      if (uname (&u) == 0)
        {
          if (release == NULL)
            release = g_strdup (u.release);
          if (self->hostname == NULL)
            self->hostname = g_strdup (u.nodename);
        }
    }
  pretty = esa_linux_pretty_name (&rd);
  if (release != NULL && pretty != NULL)
    self->os_version = g_strdup_printf ("%s (%s)", release, pretty);
  else
    self->os_version = g_strdup (release != NULL ? release : pretty);
  self->processor = esa_linux_processor (&rd);

  lparcfg = esa_linux_lparcfg (&rd);
  esa_linux_power (self, &rd, lparcfg);
  if (lparcfg != NULL && g_hash_table_contains (lparcfg, "partition_id"))
    {
      gint64 id = g_ascii_strtoll (g_hash_table_lookup (lparcfg, "partition_id"), NULL, 10);
      self->is_lpar = TRUE;
      self->lpar_id = id >= 0 && id <= G_MAXINT ? (int) id : -1;
      self->lpar_name = esa_linux_read (&rd, "proc/device-tree/ibm,partition-name");
    }

  /* DMI fills what the device tree did not (all of it on a PC) */
  if (self->vendor == NULL)
    self->vendor = esa_linux_read_dmi (&rd, "sys_vendor");
  if (self->model == NULL)
    self->model = esa_linux_read_dmi (&rd, "product_name");
  if (self->serial == NULL)
    self->serial = esa_linux_read_dmi (&rd, "product_serial");
  if (self->system_id == NULL)
    self->system_id = esa_linux_read_dmi (&rd, "product_uuid");
  if (self->firmware == NULL)
    self->firmware = esa_linux_read_dmi (&rd, "bios_version");

  /* a virtual machine has no hardware of its own to report: treat it like
   * an LPAR */
  virt = esa_linux_virt (&rd);
  if (virt != NULL && !self->is_lpar)
    self->is_lpar = TRUE;

  /* The SDC identifies a machine by type + serial; a PC's firmware often
   * has neither in a usable form, so say what stands in for them. */
  /* IBM and Lenovo x86 firmware carries the machine type-model in brackets:
   * "ThinkSystem SR650 -[7X06CTO1WW]-" is type 7X06, model CTO1WW. */
  if (self->machine_type == NULL && self->model != NULL)
    {
      const char *open = strstr (self->model, "-[");
      const char *close = open ? strstr (open, "]-") : NULL;
      if (close != NULL && close - open - 2 > 4)
        {
          char *model = g_strndup (open + 6, (gsize) (close - open - 6));
          self->machine_type = g_strndup (open + 2, 4);
          g_free (self->model);
          self->model = model;
        }
    }
  if (self->machine_type == NULL)
    {
      struct utsname u;
      if (uname (&u) == 0)
        {
          self->machine_type = g_strdup (u.machine);
          esa_platform_warn (self, "machine type: not in the firmware; using the architecture %s", u.machine);
        }
    }
  self->os_uuid = esa_linux_read (&rd, "etc/machine-id");
  if (self->serial == NULL)
    {
      self->serial = esa_linux_read (&rd, "etc/machine-id");
      if (self->serial != NULL)
        esa_platform_warn (self, "serial: not in the firmware; using /etc/machine-id");
    }
  if (self->vendor == NULL)
    {
      self->vendor = g_strdup ("unknown");
      esa_platform_warn (self, "vendor: not found; reported as \"unknown\"");
    }

  if (rd.found == 0 && !real_root)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "%s: nothing readable under /sys or /proc",
                   sysroot);
      return FALSE;
    }
  if (self->model == NULL)
    esa_platform_warn (self, "model: not found");
  if (self->serial == NULL)
    esa_platform_warn (self, "serial: not found");
  if (self->firmware == NULL)
    esa_platform_warn (self, "firmware: not found");
  if (self->system_id == NULL)
    esa_platform_warn (self, "system id: not found");
  return TRUE;
}
