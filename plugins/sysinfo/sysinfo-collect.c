/* sysinfo-collect.c: what an inventory report holds — the supplemental
 * service information (agent, OS, machine, firmware, contact), the installed
 * filesets/packages, and the configuration archive (snap on AIX, a small tar
 * of the configuration on Linux). */
#include "config.h"

#include "sysinfo-private.h"

#include <esa/esa-aix.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/utsname.h>

#define SYSINFO_FILE_MAX (4 * 1024 * 1024)

static void
sysinfo_set (JsonObject *obj, const char *member, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (obj, member, value);
  else
    json_object_set_null_member (obj, member);
}

void
esa_sysinfo_rmtree (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;
  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) || !g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_unlink (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      esa_sysinfo_rmtree (child);
    }
  g_rmdir (path);
}

/* ---- packages ---------------------------------------------------------------- */

static JsonArray *
sysinfo_packages_aix (JsonObject *body, GPtrArray *warnings, GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  EsaSubprocessOptions opts = { .timeout_ms = 300000 };
  const char *argv[] = { "lslpp", "-Lc", NULL };
  g_autofree char *out = esa_subprocess_run (argv, &opts, NULL, NULL, cancellable, &error);
  g_autoptr (GPtrArray) filesets = NULL;
  JsonArray *array = json_array_new ();

  json_object_set_string_member (body, "package_source", "lslpp -Lc");
  if (out != NULL)
    filesets = esa_aix_parse_lslpp_Lc (out, warnings, &error);
  if (filesets == NULL)
    {
      g_ptr_array_add (warnings, g_strdup_printf ("installed filesets: %s", error->message));
      return array;
    }
  for (guint i = 0; i < filesets->len; i++)
    {
      const EsaAixFileset *fs = g_ptr_array_index (filesets, i);
      json_array_add_object_element (array, esa_aix_fileset_to_json (fs));
      /* the agent's own fileset, as the reference agent reports bos.esagent */
      if (g_strcmp0 (fs->fileset, "openesa.rte") == 0 ||
          (g_strcmp0 (fs->fileset, "bos.esagent") == 0 && !json_object_has_member (body, "agent_package")))
        {
          g_autofree char *pkg = g_strdup_printf ("%s %s", fs->fileset, fs->level ? fs->level : "");
          json_object_set_string_member (body, "agent_package", g_strstrip (pkg));
        }
    }
  return array;
}

/* dpkg-query first (Debian, Ubuntu), then rpm (RHEL, SLES). The raw output
 * goes into @raw for the Linux archive. */
static JsonArray *
sysinfo_packages_linux (JsonObject *body, GPtrArray *warnings, char **raw, GCancellable *cancellable)
{
  const char *dpkg[] = { "dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Status}\n", NULL };
  const char *rpm[] = { "rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n", NULL };
  EsaSubprocessOptions opts = { .timeout_ms = 300000 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *out = NULL;
  JsonArray *array = json_array_new ();
  const char *source = "dpkg-query";

  out = esa_subprocess_run (dpkg, &opts, NULL, NULL, cancellable, &error);
  if (out != NULL)
    list = esa_sysinfo_parse_dpkg (out, warnings, &error);
  else if (g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_FOUND))
    {
      g_clear_error (&error);
      source = "rpm -qa";
      out = esa_subprocess_run (rpm, &opts, NULL, NULL, cancellable, &error);
      if (out != NULL)
        list = esa_sysinfo_parse_rpm (out, warnings, &error);
    }
  json_object_set_string_member (body, "package_source", source);
  if (list == NULL)
    {
      g_ptr_array_add (warnings, g_strdup_printf ("installed packages: %s", error->message));
      return array;
    }
  for (guint i = 0; i < list->len; i++)
    {
      JsonObject *o = g_ptr_array_index (list, i);
      if (g_strcmp0 (json_object_get_string_member (o, "name"), "openesa") == 0)
        {
          g_autofree char *pkg = g_strdup_printf ("openesa %s", json_object_get_string_member (o, "version"));
          json_object_set_string_member (body, "agent_package", pkg);
        }
      json_array_add_object_element (array, json_object_ref (o));
    }
  if (raw != NULL)
    *raw = g_steal_pointer (&out);
  return array;
}

/* ---- body ---------------------------------------------------------------------- */

static void
sysinfo_firmware_aix (JsonObject *body, GPtrArray *warnings, GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "lsmcode", "-c", NULL };
  g_autofree char *out = esa_subprocess_run (argv, NULL, NULL, NULL, cancellable, &error);
  g_autoptr (EsaAixMcode) mcode = NULL;
  JsonObject *fw;
  if (out != NULL)
    mcode = esa_aix_parse_lsmcode_c (out, warnings, &error);
  if (mcode == NULL)
    {
      g_ptr_array_add (warnings, g_strdup_printf ("firmware levels: %s", error->message));
      return;
    }
  fw = json_object_new ();
  sysinfo_set (fw, "current", esa_aix_mcode_current (mcode));
  sysinfo_set (fw, "permanent", mcode->permanent);
  sysinfo_set (fw, "temporary", mcode->temporary);
  sysinfo_set (fw, "booted", mcode->booted);
  json_object_set_object_member (body, "firmware_levels", fw);
}

JsonObject *
esa_sysinfo_collect_body (const EsaSysinfoInput *in, GPtrArray *warnings, GError **error)
{
  const EsaPlatform *pf = in->platform;
  g_autoptr (JsonObject) body = json_object_new ();
  JsonObject *contact = json_object_new ();
  JsonArray *warn_array = json_array_new ();
  JsonArray *packages;

  json_object_set_string_member (body, "agent_version", ESA_VERSION);
  sysinfo_set (body, "os", pf->os);
  sysinfo_set (body, "os_version", pf->os_version);
  sysinfo_set (body, "hostname", pf->hostname != NULL ? pf->hostname : g_get_host_name ());
  sysinfo_set (body, "manufacturer", pf->vendor);
  sysinfo_set (body, "machine_type", pf->machine_type);
  sysinfo_set (body, "model", pf->model);
  sysinfo_set (body, "serial", pf->serial);
  sysinfo_set (body, "system_id", pf->system_id);
  sysinfo_set (body, "firmware", pf->firmware);
  sysinfo_set (body, "processor", pf->processor);
  json_object_set_boolean_member (body, "is_lpar", pf->is_lpar);
  if (pf->is_lpar && pf->lpar_id >= 0)
    json_object_set_int_member (body, "lpar_id", pf->lpar_id);
  else
    json_object_set_null_member (body, "lpar_id");
  sysinfo_set (body, "lpar_name", pf->lpar_name);
  for (guint i = 0; pf->warnings != NULL && i < pf->warnings->len; i++)
    g_ptr_array_add (warnings, g_strdup_printf ("platform: %s", (char *) g_ptr_array_index (pf->warnings, i)));

  if (in->aix)
    {
      sysinfo_firmware_aix (body, warnings, in->cancellable);
      packages = sysinfo_packages_aix (body, warnings, in->cancellable);
    }
  else
    packages = sysinfo_packages_linux (body, warnings, NULL, in->cancellable);
  if (!json_object_has_member (body, "agent_package"))
    json_object_set_null_member (body, "agent_package");
  json_object_set_int_member (body, "package_count", json_array_get_length (packages));
  json_object_set_array_member (body, "packages", packages);

  sysinfo_set (contact, "name", in->contact_name);
  sysinfo_set (contact, "email", in->contact_email);
  sysinfo_set (contact, "phone", in->contact_phone);
  json_object_set_object_member (body, "contact", contact);

  for (guint i = 0; i < warnings->len; i++)
    json_array_add_string_element (warn_array, g_ptr_array_index (warnings, i));
  json_object_set_array_member (body, "warnings", warn_array);
  (void) error;
  return g_steal_pointer (&body);
}

/* ---- configuration archive ---------------------------------------------------------- */

static char *
sysinfo_snap (const char *work_dir, char **content_type, GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = g_build_filename (work_dir, "snap", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) local = NULL;
  /* snap -g on a big system takes minutes */
  EsaSubprocessOptions opts = { .timeout_ms = 30 * 60 * 1000, .allow_failure = TRUE };
  const char *argv[] = { "snap", "-g", "-c", "-d", dir, NULL };
  const char *names[] = { "snap.pax.Z", "snap.pax.gz" };
  int status = 0;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", dir, g_strerror (errno));
      return NULL;
    }
  out = esa_subprocess_run (argv, &opts, &status, &err, cancellable, &local);
  if (out == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "snap -g -c: %s", local->message);
      return NULL;
    }
  if (status != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "snap -g -c exited with %d: %s", status,
                   err != NULL && *g_strstrip (err) != '\0' ? err : "(no message)");
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          *content_type = g_strdup (g_str_has_suffix (names[i], ".gz") ? "application/gzip"
                                                                        : "application/x-compress");
          return g_steal_pointer (&path);
        }
    }
  g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "snap -g -c made no snap.pax.Z or snap.pax.gz in %s",
               dir);
  return NULL;
}

static void
sysinfo_copy (const char *sysroot, const char *rel, const char *dst_dir, const char *dst_name,
              GPtrArray *warnings)
{
  g_autofree char *src = g_build_filename (sysroot, rel, NULL);
  g_autofree char *dst = g_build_filename (dst_dir, dst_name, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  /* /proc files have no size: read, don't copy */
  if (!g_file_get_contents (src, &text, &len, &error))
    {
      g_ptr_array_add (warnings, g_strdup_printf ("configuration: %s", error->message));
      return;
    }
  if (len > SYSINFO_FILE_MAX)
    len = SYSINFO_FILE_MAX;
  if (!g_file_set_contents (dst, text, (gssize) len, &error))
    g_ptr_array_add (warnings, g_strdup_printf ("configuration: %s", error->message));
}

static char *
sysinfo_linux_archive (const EsaSysinfoInput *in, const char *work_dir, char **content_type,
                       GPtrArray *warnings, GError **error)
{
  g_autofree char *dir = g_build_filename (work_dir, "configuration", NULL);
  g_autofree char *archive = g_build_filename (work_dir, "configuration.tar.gz", NULL);
  g_autofree char *uname_path = g_build_filename (dir, "uname.txt", NULL);
  g_autofree char *pkg_path = g_build_filename (dir, "packages.txt", NULL);
  g_autofree char *uname_text = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *tar_out = NULL;
  g_autoptr (JsonObject) scratch = json_object_new ();
  g_autoptr (JsonArray) pkgs = NULL;
  g_autoptr (GPtrArray) pkg_warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;
  const char *argv[] = { "tar", "-czf", archive, "-C", work_dir, "configuration", NULL };
  struct utsname u;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", dir, g_strerror (errno));
      return NULL;
    }
  sysinfo_copy (in->sysroot, "etc/os-release", dir, "os-release", warnings);
  sysinfo_copy (in->sysroot, "proc/cpuinfo", dir, "cpuinfo", warnings);
  sysinfo_copy (in->sysroot, "proc/meminfo", dir, "meminfo", warnings);
  if (uname (&u) == 0)
    uname_text = g_strdup_printf ("%s %s %s %s %s\n", u.sysname, u.nodename, u.release, u.version, u.machine);
  else
    uname_text = g_strdup_printf ("uname: %s\n", g_strerror (errno));
  if (!g_file_set_contents (uname_path, uname_text, -1, &local))
    g_ptr_array_add (warnings, g_strdup_printf ("configuration: %s", local->message));
  g_clear_error (&local);
  /* the package list again, raw: the body has it parsed */
  pkgs = sysinfo_packages_linux (scratch, pkg_warnings, &raw, in->cancellable);
  if (raw != NULL && !g_file_set_contents (pkg_path, raw, -1, &local))
    g_ptr_array_add (warnings, g_strdup_printf ("configuration: %s", local->message));
  g_clear_error (&local);
  tar_out = esa_subprocess_run (argv, NULL, NULL, NULL, in->cancellable, &local);
  if (tar_out == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "tar: %s", local->message);
      return NULL;
    }
  *content_type = g_strdup ("application/gzip");
  return g_steal_pointer (&archive);
}

char *
esa_sysinfo_collect_config (const EsaSysinfoInput *in, const char *work_dir, char **content_type,
                            GPtrArray *warnings, GError **error)
{
  if (in->aix)
    return sysinfo_snap (work_dir, content_type, in->cancellable, error);
  return sysinfo_linux_archive (in, work_dir, content_type, warnings, error);
}
