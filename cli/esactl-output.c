/* esactl-output.c: how esactl speaks — one error line (or one JSON error
 * object under --json), one time format (ISO 8601 UTC), one size style, and
 * the help of each command with its own options. */
#include "config.h"

#include "esactl-private.h"

#include <glib/gi18n.h>
#include <stdarg.h>
#include <stdio.h>

int
esactl_fail (EsactlOptions *opts, int exit_code, const char *code, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (opts != NULL && opts->silent)
    return exit_code;
  if (opts != NULL && opts->json)
    {
      /* The shape of esad's own errors (docs/json.md), plus the exit code. */
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "error");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, code);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, message);
      json_builder_set_member_name (b, "exit");
      json_builder_add_int_value (b, exit_code);
      json_builder_end_object (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      esactl_print_json (root);
    }
  else
    g_printerr ("esactl: %s\n", message);
  return exit_code;
}

char *
esactl_time (const char *iso)
{
  g_autoptr (GDateTime) dt = NULL;
  g_autoptr (GDateTime) utc = NULL;
  if (iso == NULL || *iso == '\0' || g_str_equal (iso, "-"))
    return g_strdup ("-");
  dt = g_date_time_new_from_iso8601 (iso, NULL);
  if (dt == NULL)
    return g_strdup (iso);
  utc = g_date_time_to_utc (dt);
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

char *
esactl_time_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

char *
esactl_size (guint64 bytes)
{
  /* g_format_size: SI units ("1.2 kB"), bytes spelled out below 1 kB; a
   * plain space instead of its no-break one, so columns and grep line up. */
  g_autofree char *s = g_format_size (bytes);
  g_autoptr (GString) out = g_string_new (s);
  g_string_replace (out, "\u00a0", " ", 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static const GOptionEntry global_entries[] = {
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, NULL, N_("Config file (default $ESA_CONFIG or " SYSCONFDIR "/esa/esa.conf)"), "FILE" },
  { "json", 'j', 0, G_OPTION_ARG_NONE, NULL, N_("Print JSON for scripts"), NULL },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, NULL, N_("Print less"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version"), NULL },
  { "help", 'h', 0, G_OPTION_ARG_NONE, NULL, "Show this help (of the command before it)", NULL },
  { NULL },
};

static void
print_entries (const GOptionEntry *entries)
{
  for (const GOptionEntry *e = entries; e != NULL && e->long_name != NULL; e++)
    {
      g_autofree char *flag = NULL;
      if (e->short_name != 0)
        flag = g_strdup_printf ("-%c, --%s%s%s", e->short_name, e->long_name, e->arg_description ? " " : "",
                                e->arg_description ? e->arg_description : "");
      else
        flag = g_strdup_printf ("    --%s%s%s", e->long_name, e->arg_description ? " " : "",
                                e->arg_description ? e->arg_description : "");
      g_print ("  %-30s %s\n", flag, e->description ? _(e->description) : "");
    }
}

void
esactl_print_command_help (const EsactlCommand *cmd, const GOptionEntry *entries)
{
  g_autofree char *words = cmd->group ? g_strdup_printf ("%s %s %s", cmd->group, cmd->name, cmd->args)
                                      : g_strdup_printf ("%s %s", cmd->name, cmd->args);
  g_print ("usage: esactl [OPTIONS] %s\n\n%s\n", g_strstrip (words), cmd->summary);
  if (entries != NULL && entries->long_name != NULL)
    {
      g_print ("\noptions of %s%s%s:\n", cmd->group ? cmd->group : "", cmd->group ? " " : "", cmd->name);
      print_entries (entries);
    }
  g_print ("\nglobal options:\n");
  print_entries (global_entries);
}

void
esactl_print_global_options (void)
{
  print_entries (global_entries);
}

gboolean
esactl_parse_options (EsactlOptions *opts, const char *cmd, int *argc, char ***argv,
                      const GOptionEntry *entries, int *exit_code)
{
  g_autoptr (GOptionContext) octx = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) av = g_new0 (char *, *argc + 2);
  if (opts->help && opts->command != NULL)
    {
      esactl_print_command_help (opts->command, entries);
      *exit_code = ESACTL_EXIT_OK;
      return FALSE;
    }
  /* GOption wants argv[0]; command functions get the words after the command. */
  av[0] = g_strdup (cmd);
  for (int i = 0; i < *argc; i++)
    av[i + 1] = g_strdup ((*argv)[i]);
  octx = g_option_context_new (cmd);
  g_option_context_set_help_enabled (octx, FALSE);
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse_strv (octx, &av, &error))
    {
      *exit_code = esactl_fail (opts, ESACTL_EXIT_USAGE, "usage", "%s: %s (see esactl %s --help)", cmd,
                                error->message, cmd);
      return FALSE;
    }
  /* The words left, without argv[0]; owned by the caller's opts. */
  *argc = (int) g_strv_length (av) - 1;
  opts->rest = g_strdupv (av + 1);
  *argv = opts->rest;
  return TRUE;
}
