/* esa-platform-aix.c: the platform read from AIX commands.
 *
 * Several commands answer the same questions (vendor and model from lsattr,
 * uname -M and prtconf; firmware from lsmcode, prtconf and lsattr): each is
 * tried in order of trust, so one command failing on an odd machine level
 * costs a warning, not the identity. */
#include "config.h"

#include "esa/esa-aix.h"
#include "esa-platform-private.h"
#include "esa/esa-error.h"
#include "esa/esa-subprocess.h"

#include <stdarg.h>
#include <string.h>

typedef struct {
  EsaPlatform *self;
  guint answered;
  GError *first_error;
} EsaAixRun;

/* stdout of argv, or NULL with a warning naming the command. */
static char *
esa_aix_run (EsaAixRun *run, guint timeout_ms, const char *arg0, ...) G_GNUC_NULL_TERMINATED;

static char *
esa_aix_run (EsaAixRun *run, guint timeout_ms, const char *arg0, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  EsaSubprocessOptions opts = { .timeout_ms = timeout_ms, .max_output = 4 * 1024 * 1024 };
  char *out;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) arg0);
  va_start (ap, arg0);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  out = esa_subprocess_run ((const char *const *) argv->pdata, &opts, NULL, NULL, NULL, &error);
  if (out == NULL)
    {
      esa_platform_warn (run->self, "%s", error->message);
      if (run->first_error == NULL)
        run->first_error = g_steal_pointer (&error);
      return NULL;
    }
  run->answered++;
  return out;
}

static void
esa_aix_take_warnings (EsaPlatform *self, GPtrArray *warnings)
{
  for (guint i = 0; i < warnings->len; i++)
    g_ptr_array_add (self->warnings, g_strdup (g_ptr_array_index (warnings, i)));
  g_ptr_array_set_size (warnings, 0);
}

static void
esa_aix_parse_failed (EsaPlatform *self, GError *error)
{
  esa_platform_warn (self, "%s", error->message);
}

/* "IBM,9009-42A" → vendor IBM, type 9009, model 42A */
static void
esa_aix_set_model (EsaPlatform *self, const char *modelname, const char *source)
{
  g_autofree char *vendor = NULL;
  g_autofree char *mtm = NULL;
  if (modelname == NULL || modelname[0] == '\0' || self->machine_type != NULL)
    return;
  esa_aix_split_vendor (modelname, &vendor, &mtm);
  if (!esa_aix_split_type_model (mtm, &self->machine_type, &self->model))
    {
      esa_platform_warn (self, "%s: model \"%s\" is not TTTT-MMM", source, modelname);
      return;
    }
  if (vendor != NULL && self->vendor == NULL)
    self->vendor = g_steal_pointer (&vendor);
}

/* systemid "IBM,0278ABCDE": two characters of plant code, then the serial */
static char *
esa_aix_serial_from_systemid (const char *systemid)
{
  g_autofree char *rest = NULL;
  esa_aix_split_vendor (systemid, NULL, &rest);
  if (rest == NULL || rest[0] == '\0')
    return NULL;
  if (strlen (rest) == 9)
    return g_strdup (rest + 2);
  return g_steal_pointer (&rest);
}

gboolean
esa_platform_detect_aix (EsaPlatform *self, GError **error)
{
  EsaAixRun run = { self, 0, NULL };
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) first_error = NULL;
  g_autoptr (EsaAixUname) uname_a = NULL;
  g_autoptr (EsaAixPrtconf) prtconf = NULL;
  g_autoptr (EsaAixMcode) mcode = NULL;
  g_autoptr (GPtrArray) attrs = NULL;
  g_autofree char *out_uname = esa_aix_run (&run, 30000, "uname", "-a", NULL);
  g_autofree char *out_host = esa_aix_run (&run, 30000, "hostname", NULL);
  g_autofree char *out_lsattr = esa_aix_run (&run, 60000, "lsattr", "-El", "sys0", NULL);
  g_autofree char *out_M = esa_aix_run (&run, 30000, "uname", "-M", NULL);
  g_autofree char *out_u = esa_aix_run (&run, 30000, "uname", "-u", NULL);
  g_autofree char *out_L = esa_aix_run (&run, 30000, "uname", "-L", NULL);
  /* prtconf walks every device: give it time on big machines */
  g_autofree char *out_prtconf = esa_aix_run (&run, 300000, "prtconf", NULL);
  g_autofree char *out_mcode = esa_aix_run (&run, 60000, "lsmcode", "-c", NULL);
  /* its own call: a 36-character value can touch the description column of
   * lsattr -El, and values may hold blanks, so the columns cannot tell */
  g_autofree char *out_uuid = esa_aix_run (&run, 30000, "lsattr", "-El", "sys0", "-a", "os_uuid", "-F", "value", NULL);

  first_error = run.first_error;
  if (run.answered == 0)
    {
      g_set_error (error, ESA_ERROR, first_error != NULL ? first_error->code : ESA_ERROR_FAILED,
                   "cannot read the AIX platform: %s",
                   first_error != NULL ? first_error->message : "no command answered");
      return FALSE;
    }

  self->os = g_strdup ("AIX");
  if (out_uname != NULL)
    {
      g_autoptr (GError) error_local = NULL;
      uname_a = esa_aix_parse_uname_a (out_uname, warnings, &error_local);
      if (uname_a == NULL)
        esa_aix_parse_failed (self, error_local);
    }
  if (out_lsattr != NULL)
    {
      g_autoptr (GError) error_local = NULL;
      attrs = esa_aix_parse_lsattr (out_lsattr, warnings, &error_local);
      if (attrs == NULL)
        esa_aix_parse_failed (self, error_local);
    }
  if (out_prtconf != NULL)
    {
      g_autoptr (GError) error_local = NULL;
      prtconf = esa_aix_parse_prtconf (out_prtconf, warnings, &error_local);
      if (prtconf == NULL)
        esa_aix_parse_failed (self, error_local);
    }
  if (out_mcode != NULL)
    {
      g_autoptr (GError) error_local = NULL;
      mcode = esa_aix_parse_lsmcode_c (out_mcode, warnings, &error_local);
      if (mcode == NULL)
        esa_aix_parse_failed (self, error_local);
    }
  esa_aix_take_warnings (self, warnings);

  /* OS and host */
  if (uname_a != NULL)
    self->os_version = esa_aix_uname_os_version (uname_a);
  if (out_host != NULL)
    self->hostname = esa_aix_parse_single_line ("hostname", out_host, NULL);
  if (self->hostname == NULL && uname_a != NULL)
    self->hostname = g_strdup (uname_a->nodename);
  if (self->hostname == NULL && prtconf != NULL)
    self->hostname = g_strdup (prtconf->host_name);

  /* vendor, machine type and model */
  esa_aix_set_model (self, esa_aix_attrs_lookup (attrs, "modelname"), "lsattr modelname");
  if (out_M != NULL)
    {
      g_autofree char *m = esa_aix_parse_single_line ("uname -M", out_M, NULL);
      esa_aix_set_model (self, m, "uname -M");
    }
  if (prtconf != NULL)
    esa_aix_set_model (self, prtconf->system_model, "prtconf System Model");

  /* system id and serial */
  self->system_id = g_strdup (esa_aix_attrs_lookup (attrs, "systemid"));
  if ((self->system_id == NULL || self->system_id[0] == '\0') && out_u != NULL)
    {
      g_free (self->system_id);
      self->system_id = esa_aix_parse_single_line ("uname -u", out_u, NULL);
    }
  if (prtconf != NULL && prtconf->serial != NULL)
    self->serial = g_strdup (prtconf->serial);
  else if (self->system_id != NULL)
    self->serial = esa_aix_serial_from_systemid (self->system_id);

  /* firmware: the image running now, else what prtconf or sys0 say */
  if (mcode != NULL && esa_aix_mcode_current (mcode) != NULL)
    self->firmware = g_strdup (esa_aix_mcode_current (mcode));
  else if (prtconf != NULL && prtconf->platform_firmware != NULL)
    self->firmware = g_strdup (prtconf->platform_firmware);
  else if (esa_aix_attrs_lookup (attrs, "fwversion") != NULL
           && esa_aix_attrs_lookup (attrs, "fwversion")[0] != '\0')
    esa_aix_split_vendor (esa_aix_attrs_lookup (attrs, "fwversion"), NULL, &self->firmware);

  if (prtconf != NULL)
    self->processor = g_strdup (prtconf->processor_type);

  /* partition */
  if (out_L != NULL)
    {
      g_autoptr (GError) error_local = NULL;
      if (!esa_aix_parse_lpar_info ("uname -L", out_L, &self->lpar_id, &self->lpar_name, &error_local))
        esa_aix_parse_failed (self, error_local);
      else
        self->is_lpar = self->lpar_id >= 0;
    }
  else if (prtconf != NULL && g_hash_table_contains (prtconf->fields, "LPAR Info"))
    {
      self->lpar_id = prtconf->lpar_id;
      self->lpar_name = g_strdup (prtconf->lpar_name);
      self->is_lpar = prtconf->is_lpar;
    }

  /* the OS instance: tells apart partitions the firmware cannot (and a
   * reinstall from the system it replaced) */
  if (out_uuid != NULL)
    self->os_uuid = esa_aix_parse_single_line ("lsattr -a os_uuid", out_uuid, NULL);
  if (self->os_uuid == NULL)
    esa_platform_warn (self, "os_uuid: not found");

  if (self->vendor == NULL)
    esa_platform_warn (self, "vendor: not found");
  if (self->machine_type == NULL)
    esa_platform_warn (self, "machine type and model: not found");
  if (self->serial == NULL)
    esa_platform_warn (self, "serial: not found");
  if (self->firmware == NULL)
    esa_platform_warn (self, "firmware: not found");
  if (self->system_id == NULL || self->system_id[0] == '\0')
    esa_platform_warn (self, "system id: not found");
  return TRUE;
}
