/* esa-platform.c: what machine this is — picks the AIX or Linux back-end and
 * turns the answer into the JSON every report carries. */
#include "config.h"

#include "esa-platform-private.h"
#include "esa-test-hook-private.h"
#include "esa/esa-error.h"

#include <stdarg.h>
#include <sys/utsname.h>

EsaPlatform *
esa_platform_new (void)
{
  EsaPlatform *self = g_new0 (EsaPlatform, 1);
  self->lpar_id = -1;
  self->warnings = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
esa_platform_free (EsaPlatform *self)
{
  if (self == NULL)
    return;
  g_free (self->os);
  g_free (self->os_version);
  g_free (self->hostname);
  g_free (self->vendor);
  g_free (self->machine_type);
  g_free (self->model);
  g_free (self->serial);
  g_free (self->firmware);
  g_free (self->system_id);
  g_free (self->processor);
  g_free (self->lpar_name);
  g_free (self->os_uuid);
  g_free (self->sysroot);
  g_ptr_array_unref (self->warnings);
  g_free (self);
}

void
esa_platform_warn (EsaPlatform *self, const char *fmt, ...)
{
  va_list ap;
  char *msg;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_debug ("platform: %s", msg);
  g_ptr_array_add (self->warnings, msg);
}

/* ESA_PLATFORM and ESA_SYSROOT, the test suite's simulated machine (a test
 * hook: NULL in an installed build); empty counts as unset. */
static const char *
esa_platform_hook (const char *name)
{
  const char *value = esa_test_hook_getenv (name);
  return value != NULL && value[0] != '\0' ? value : NULL;
}

/* ESA_PLATFORM=aix|linux forces a back-end (tests run the AIX one on Linux
 * with fake commands); otherwise the kernel's own name decides. */
static gboolean
esa_platform_is_aix (void)
{
  const char *forced = esa_platform_hook ("ESA_PLATFORM");
  struct utsname u;
  if (forced != NULL)
    return g_ascii_strcasecmp (forced, "aix") == 0;
  if (uname (&u) != 0)
    return FALSE;
  return g_strcmp0 (u.sysname, "AIX") == 0;
}

EsaPlatform *
esa_platform_detect (GError **error)
{
  g_autoptr (EsaPlatform) self = esa_platform_new ();
  const char *forced = esa_platform_hook ("ESA_PLATFORM");
  const char *sysroot = esa_platform_hook ("ESA_SYSROOT");

  self->sysroot = g_strdup (sysroot != NULL ? sysroot : "/");
  if (forced != NULL && g_ascii_strcasecmp (forced, "aix") != 0
      && g_ascii_strcasecmp (forced, "linux") != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "ESA_PLATFORM=%s: unknown platform (expected aix or linux)", forced);
      return NULL;
    }
  if (esa_platform_is_aix ())
    {
      if (!esa_platform_detect_aix (self, error))
        return NULL;
    }
  else
    {
      if (!esa_platform_detect_linux (self, self->sysroot, error))
        return NULL;
    }
  return g_steal_pointer (&self);
}

static void
esa_json_string (JsonObject *obj, const char *key, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (obj, key, value);
  else
    json_object_set_null_member (obj, key);
}

JsonObject *
esa_platform_to_json (const EsaPlatform *self)
{
  JsonObject *obj = json_object_new ();
  JsonArray *warnings = json_array_new ();

  esa_json_string (obj, "os", self->os);
  esa_json_string (obj, "os_version", self->os_version);
  esa_json_string (obj, "hostname", self->hostname);
  esa_json_string (obj, "vendor", self->vendor);
  esa_json_string (obj, "machine_type", self->machine_type);
  esa_json_string (obj, "model", self->model);
  esa_json_string (obj, "serial", self->serial);
  esa_json_string (obj, "firmware", self->firmware);
  esa_json_string (obj, "system_id", self->system_id);
  esa_json_string (obj, "processor", self->processor);
  json_object_set_boolean_member (obj, "is_lpar", self->is_lpar);
  json_object_set_int_member (obj, "lpar_id", self->lpar_id);
  esa_json_string (obj, "lpar_name", self->lpar_name);
  esa_json_string (obj, "os_uuid", self->os_uuid);
  for (guint i = 0; self->warnings != NULL && i < self->warnings->len; i++)
    json_array_add_string_element (warnings, g_ptr_array_index (self->warnings, i));
  json_object_set_array_member (obj, "warnings", warnings);
  return obj;
}
