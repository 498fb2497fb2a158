/* esactl.c: the admin CLI — finds the command and runs it. */
#include "config.h"

#include "esactl-private.h"

#include <glib/gi18n.h>
#include <locale.h>

static const EsactlCommand *const command_tables[] = {
  esactl_core_commands,
  esactl_connect_commands,
  esactl_identity_commands,
  esactl_plugin_commands,
  esactl_plugin_admin_commands,
  NULL,
};

static void
usage (void)
{
  g_printerr ("usage: esactl [--config FILE] [--json] COMMAND [ARGS]\n\ncommands:\n");
  for (guint t = 0; command_tables[t] != NULL; t++)
    for (const EsactlCommand *c = command_tables[t]; c->name != NULL; c++)
      {
        g_autofree char *words = c->group ? g_strdup_printf ("%s %s %s", c->group, c->name, c->args)
                                          : g_strdup_printf ("%s %s", c->name, c->args);
        g_printerr ("  %-34s %s\n", g_strstrip (words), c->summary);
      }
}

static const EsactlCommand *
find_command (int argc, char **argv, int *consumed)
{
  for (guint t = 0; command_tables[t] != NULL; t++)
    for (const EsactlCommand *c = command_tables[t]; c->name != NULL; c++)
      {
        if (c->group == NULL && argc >= 1 && g_str_equal (argv[0], c->name))
          {
            *consumed = 1;
            return c;
          }
        if (c->group != NULL && argc >= 2 && g_str_equal (argv[0], c->group) &&
            g_str_equal (argv[1], c->name))
          {
            *consumed = 2;
            return c;
          }
      }
  return NULL;
}

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  gboolean json = FALSE, quiet = FALSE, version = FALSE;
  g_autoptr (GOptionContext) octx = NULL;
  g_autoptr (GError) error = NULL;
  EsactlOptions opts = { 0 };
  const EsactlCommand *cmd;
  int consumed = 0;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, N_("Config file (default $ESA_CONFIG or " SYSCONFDIR "/esa/esa.conf)"), "FILE" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, N_("Print JSON for scripts"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("Print less"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version"), NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  /* ESA_LOCALEDIR: translations of an uninstalled or relocated build (tests). */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("ESA_LOCALEDIR") ? g_getenv ("ESA_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  octx = g_option_context_new (_("COMMAND [ARGS] — control the OpenESA agent"));
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  /* Options may also follow the command ("esactl plugin list --json"). */
  g_option_context_set_strict_posix (octx, FALSE);
  g_option_context_set_ignore_unknown_options (octx, TRUE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      g_printerr ("esactl: %s\n", error->message);
      return ESACTL_EXIT_USAGE;
    }
  if (version)
    {
      g_print ("esactl %s\n", ESA_VERSION);
      return 0;
    }
  opts.json = json;
  opts.quiet = quiet;
  if (config_path != NULL)
    opts.config_path = g_steal_pointer (&config_path);
  else if (g_getenv ("ESA_CONFIG") != NULL)
    opts.config_path = g_strdup (g_getenv ("ESA_CONFIG"));
  else
    opts.config_path = g_strdup (SYSCONFDIR "/esa/esa.conf");

  cmd = find_command (argc - 1, argv + 1, &consumed);
  if (cmd == NULL && argc > 1 && argv[1][0] != '-')
    {
      /* Not ours: maybe a plugin's (problem, inventory, uak …), served by esad. */
      int rc = esactl_run_plugin_command (&opts, argc - 1, argv + 1);
      g_free (opts.config_path);
      return rc;
    }
  if (cmd == NULL)
    {
      if (argc > 1)
        g_printerr ("esactl: unknown option \"%s\"\n", argv[1]);
      usage ();
      esactl_print_plugin_commands (&opts);
      g_free (opts.config_path);
      return ESACTL_EXIT_USAGE;
    }
  {
    int rc = cmd->func (&opts, argc - 1 - consumed, argv + 1 + consumed);
    g_free (opts.config_path);
    return rc;
  }
}
