/* fuzz-config.c: the agent's esa.conf parser (core/esa-config.c): the input is written to
 * a file and loaded, and a loaded configuration is read through every accessor esad and
 * esactl use; a refused one must carry a message. */
#include "config.h"

#include "fuzz.h"

#include "esa-config.h"
#include "esa/esa-error.h"

static char *dir;
static char *path;

static void
remove_input (void)
{
  g_unlink (path);
  g_rmdir (dir);
}

static void
read_all (EsaConfig *config)
{
  const char *const *plugins = esa_config_get_enabled_plugins (config);
  const char *jobs[] = { "heartbeat", "inventory", "diag", "uak", "nosuchjob" };
  GPtrArray *warnings = esa_config_get_warnings (config);

  g_assert_nonnull (esa_config_get_path (config));
  g_assert_nonnull (esa_config_get_state_dir (config));
  g_assert_nonnull (esa_config_get_socket_path (config));
  (void) esa_config_get_plugin_dir (config);
  (void) esa_config_get_pid_file (config);
  (void) esa_config_get_log_level (config);
  (void) esa_config_get_control_group (config);
  (void) esa_config_get_servers (config);
  (void) esa_config_get_config_url (config);
  (void) esa_config_get_ca_file (config);
  (void) esa_config_get_timeout (config);
  (void) esa_config_get_direct (config);
  for (guint i = 0; i < esa_config_get_n_proxies (config); i++)
    {
      const char *url = NULL;
      const char *user = NULL;
      const char *password_file = NULL;
      esa_config_get_proxy (config, i, &url, &user, &password_file);
      g_assert_nonnull (url);
    }
  (void) esa_config_get_vendors (config);
  (void) esa_config_get_contact_name (config);
  (void) esa_config_get_contact_email (config);
  (void) esa_config_get_contact_phone (config);
  g_assert_cmpuint (esa_config_get_backoff_min (config), <=, esa_config_get_backoff_max (config));
  (void) esa_config_get_transport (config);
  (void) esa_config_get_outbox (config);
  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    g_assert_nonnull (g_ptr_array_index (warnings, i));
  for (guint i = 0; plugins != NULL && plugins[i] != NULL; i++)
    (void) esa_config_plugin_enabled (config, plugins[i]);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_autofree char *schedule = esa_config_get_job_schedule (config, jobs[i], "daily");
      g_assert_nonnull (schedule);
      g_free (esa_config_describe_key (config, "agent", "state-dir"));
      (void) esa_config_get_job_splay (config, jobs[i], 60);
      (void) esa_config_get_job_enabled (config, jobs[i]);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  EsaConfig *config;

  fuzz_init_logging ();
  if (path == NULL)
    {
      dir = g_dir_make_tmp ("fuzz-config-XXXXXX", NULL);
      g_assert_nonnull (dir);
      path = g_build_filename (dir, "esa.conf", NULL);
      atexit (remove_input);
    }
  fuzz_write_file (path, data, size);
  config = esa_config_load (path, &error);
  if (config == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->message != NULL && error->message[0] != '\0');
      return 0;
    }
  g_assert_no_error (error);
  read_all (config);
  esa_config_unref (config);
  return 0;
}
