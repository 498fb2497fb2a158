/* esactl.c: the admin CLI — finds the command and runs it. */
#include "config.h"

#include "esactl-private.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

static const EsactlCommand *const command_tables[] = {
  esactl_core_commands,
  esactl_connect_commands,
  esactl_identity_commands,
  esactl_plugin_commands,
  esactl_history_commands,
  esactl_info_commands,
  esactl_preview_commands,
  esactl_plugin_admin_commands,
  NULL,
};

/* The command list: on stderr for a usage error, on stdout for --help. The
 * lines, two spaces in, are what bash completion and tests/test-man.sh read. */
static void
usage (gboolean to_stdout)
{
  void (*out) (const char *, ...) = to_stdout ? g_print : g_printerr;
  out ("usage: esactl [--config FILE] [--json] [--quiet] %s\n"
       "       esactl COMMAND --help   (the command's own options)\n\ncommands:\n",
       _("COMMAND [ARGS] — control the OpenESA agent"));
  for (guint t = 0; command_tables[t] != NULL; t++)
    for (const EsactlCommand *c = command_tables[t]; c->name != NULL; c++)
      {
        g_autofree char *words = c->group ? g_strdup_printf ("%s %s %s", c->group, c->name, c->args)
                                          : g_strdup_printf ("%s %s", c->name, c->args);
        out ("  %-34s %s\n", g_strstrip (words), c->summary);
      }
  if (to_stdout)
    {
      g_print ("\nglobal options:\n");
      esactl_print_global_options ();
      g_print ("\nexit codes: 0 ok, 1 failed, 2 usage, 3 config invalid, 4 esad not running,\n"
               "            5 refused (permissions, not activated), 6 no route to the SDC\n");
    }
}

/* "queue" alone, or "queue bogus": the group is ours, the word is not. */
static gboolean
is_group (const char *word)
{
  for (guint t = 0; command_tables[t] != NULL; t++)
    for (const EsactlCommand *c = command_tables[t]; c->name != NULL; c++)
      if (c->group != NULL && g_str_equal (c->group, word))
        return TRUE;
  return FALSE;
}

static char *
group_words (const char *group)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint t = 0; command_tables[t] != NULL; t++)
    for (const EsactlCommand *c = command_tables[t]; c->name != NULL; c++)
      if (c->group != NULL && g_str_equal (c->group, group))
        g_string_append_printf (s, "%s%s", s->len ? ", " : "", c->name);
  return g_string_free (g_steal_pointer (&s), FALSE);
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
  int rc;
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
  /* --help is ours: GOption's would list only the global options. */
  g_option_context_set_help_enabled (octx, FALSE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      opts.json = json;
      return esactl_fail (&opts, ESACTL_EXIT_USAGE, "usage", "%s", error->message);
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

  /* --help anywhere: the help of the command named before it, or the list. */
  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--help") || g_str_equal (argv[i], "-h"))
      {
        opts.help = TRUE;
        memmove (argv + i, argv + i + 1, sizeof (char *) * (size_t) (argc - i));
        argc--;
        break;
      }
  cmd = find_command (argc - 1, argv + 1, &consumed);
  opts.command = cmd;
  if (cmd == NULL && argc > 1 && is_group (argv[1]))
    {
      g_autofree char *subs = group_words (argv[1]);
      if (opts.help)
        {
          usage (TRUE);
          rc = ESACTL_EXIT_OK;
        }
      else
        rc = esactl_fail (&opts, ESACTL_EXIT_USAGE, "usage", argc > 2 ? "%s %s: unknown command (expected %s %s)"
                                                                         : "%s%s: expected a command after it: %s %s",
                          argv[1], argc > 2 ? argv[2] : "", argv[1], subs);
    }
  else if (cmd == NULL && argc > 1 && argv[1][0] != '-')
    {
      /* Not ours: maybe a plugin's (problem, inventory, uak …), served by esad. */
      if (opts.help)
        argv[argc++] = (char *) "--help"; /* the slot freed above */
      rc = esactl_run_plugin_command (&opts, argc - 1, argv + 1);
    }
  else if (cmd == NULL && opts.help)
    {
      usage (TRUE);
      esactl_print_plugin_commands (&opts);
      rc = ESACTL_EXIT_OK;
    }
  else if (cmd == NULL)
    {
      if (argc > 1)
        rc = esactl_fail (&opts, ESACTL_EXIT_USAGE, "usage", "unknown option \"%s\"", argv[1]);
      else
        rc = ESACTL_EXIT_USAGE;
      if (!opts.json)
        {
          usage (FALSE);
          esactl_print_plugin_commands (&opts);
        }
    }
  else if (opts.help && strstr (cmd->args, "-") == NULL)
    {
      /* No options of its own: the help is its usage line; nothing runs. */
      esactl_print_command_help (cmd, NULL);
      rc = ESACTL_EXIT_OK;
    }
  else
    rc = cmd->func (&opts, argc - 1 - consumed, argv + 1 + consumed);
  g_free (opts.config_path);
  g_free (opts.config_warning);
  g_strfreev (opts.rest);
  return rc;
}
