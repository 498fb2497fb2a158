/* esa-config.c: loads esa.conf (GKeyFile) and validates every core key.
 * Errors name file:line, group, key, value and what was expected, one line
 * each, and every error of a file is reported, not only the first; unknown
 * groups and keys are warnings so a newer config still loads. */
#include "config.h"

#include "esa-config-private.h"
#include "esa-schedule-private.h"
#include "esa/esa-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_STATE_DIR LOCALSTATEDIR "/esa"
/* A config is a few KiB; anything this big is not one (/dev/zero …). */
#define CONFIG_MAX_BYTES (1024 * 1024)
/* The longest [sdc] timeout= that makes sense for one request. */
#define TIMEOUT_MAX_S 3600
/* [transport] parallel=: reports in flight at once. Each is a thread and a
 * connection of esad's, and one more request the SDC holds open. */
#define PARALLEL_DEFAULT 4
#define PARALLEL_MAX 64
/* No duration in esa.conf means more than a year. */
#define DURATION_MAX_S (366 * 86400)

typedef gboolean (*KeyCheck) (EsaConfig *self, const char *group, const char *key,
                              const char *value, GError **error);

typedef struct {
  const char *key;
  KeyCheck check; /* NULL: any string */
} KeySpec;

/* ---- locating keys in the text, for messages ---- */

static guint
find_line (EsaConfig *self, const char *group, const char *key)
{
  g_auto (GStrv) lines = NULL;
  gboolean in_group = FALSE;
  guint group_line = 0;
  if (self->raw == NULL)
    return 0;
  lines = g_strsplit (self->raw, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));
      if (line[0] == '[')
        {
          g_autofree char *want = g_strdup_printf ("[%s]", group);
          in_group = g_strcmp0 (line, want) == 0;
          if (in_group)
            group_line = i + 1;
          continue;
        }
      if (in_group && key != NULL && g_str_has_prefix (line, key))
        {
          const char *rest = line + strlen (key);
          while (*rest == ' ' || *rest == '\t')
            rest++;
          if (*rest == '=')
            return i + 1;
        }
    }
  return group_line;
}

char *
esa_config_describe_key (EsaConfig *self, const char *group, const char *key)
{
  guint line = find_line (self, group, key);
  const char *file = self->path != NULL ? self->path : "(defaults)";
  const char *sep = key != NULL ? " " : "";
  if (key == NULL)
    key = "";
  if (line > 0)
    return g_strdup_printf ("%s:%u: [%s]%s%s", file, line, group, sep, key);
  return g_strdup_printf ("%s: [%s]%s%s", file, group, sep, key);
}

static gboolean
fail (EsaConfig *self, const char *group, const char *key, const char *value,
      GError **error, const char *fmt, ...) G_GNUC_PRINTF (6, 7);

static gboolean
fail (EsaConfig *self, const char *group, const char *key, const char *value,
      GError **error, const char *fmt, ...)
{
  g_autofree char *where = esa_config_describe_key (self, group, key);
  g_autofree char *why = NULL;
  va_list args;
  va_start (args, fmt);
  why = g_strdup_vprintf (fmt, args);
  va_end (args);
  /* Recorded, not thrown: the load goes on, so that `esactl config check`
   * shows every error at once; esa_config_load reports them all. */
  g_ptr_array_add (self->errors, g_strdup_printf ("%s: \"%s\": %s", where, value != NULL ? value : "", why));
  return FALSE;
}

/* ---- value checks ---- */

static gboolean
check_abs_path (EsaConfig *self, const char *group, const char *key, const char *value,
                GError **error)
{
  if (!g_path_is_absolute (value))
    return fail (self, group, key, value, error, "not an absolute path (expected /…)");
  return TRUE;
}

static gboolean
check_log_level (EsaConfig *self, const char *group, const char *key, const char *value,
                 GError **error)
{
  const char *levels[] = { "error", "warning", "message", "info", "debug", NULL };
  if (!g_strv_contains (levels, value))
    return fail (self, group, key, value, error,
                 "unknown level (expected error, warning, message, info or debug)");
  return TRUE;
}

static gboolean
check_name (EsaConfig *self, const char *group, const char *key, const char *value,
            GError **error)
{
  if (*value == '\0')
    return fail (self, group, key, value, error, "empty name (expected [a-z0-9_-]+)");
  for (const char *p = value; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-' || *p == '_'))
      return fail (self, group, key, value, error, "bad character '%c' (expected [a-z0-9_-]+)", *p);
  return TRUE;
}

/* Parses a URL and checks its scheme is one of @schemes. */
static gboolean
check_url (EsaConfig *self, const char *group, const char *key, const char *value,
           const char *const *schemes, const char *expected, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local = NULL;
  uri = g_uri_parse (value, G_URI_FLAGS_NONE, &local);
  if (uri == NULL)
    return fail (self, group, key, value, error, "not a URL (expected %s)", expected);
  if (!g_strv_contains (schemes, g_uri_get_scheme (uri)))
    return fail (self, group, key, value, error, "unsupported scheme %s (expected %s)",
                 g_uri_get_scheme (uri), expected);
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    return fail (self, group, key, value, error, "no host (expected %s)", expected);
  if (g_uri_get_userinfo (uri) != NULL)
    {
      /* The message goes to logs: never repeat the password. */
      g_autofree char *shown = g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO);
      return fail (self, group, key, shown, error,
                   "credentials in the URL are not allowed (use user= and password-file=)");
    }
  return TRUE;
}

static gboolean
check_upload_url (EsaConfig *self, const char *group, const char *key, const char *value,
                  GError **error)
{
  const char *schemes[] = { "https", NULL };
  if (g_str_has_prefix (value, "http://"))
    return fail (self, group, key, value, error,
                 "reports are never uploaded over plain HTTP (expected https://host[:port]/)");
  return check_url (self, group, key, value, schemes, "https://host[:port]/", error);
}

static gboolean
check_config_url (EsaConfig *self, const char *group, const char *key, const char *value,
                  GError **error)
{
  const char *schemes[] = { "http", "https", NULL };
  return check_url (self, group, key, value, schemes, "http:// or https:// URL", error);
}

static gboolean
check_proxy_url (EsaConfig *self, const char *group, const char *key, const char *value,
                 GError **error)
{
  const char *schemes[] = { "http", NULL };
  g_autoptr (GUri) uri = NULL;
  if (!check_url (self, group, key, value, schemes, "http://host:port", error))
    return FALSE;
  /* There is no default proxy port: without one libsoup would try 80. */
  uri = g_uri_parse (value, G_URI_FLAGS_NONE, NULL);
  if (g_uri_get_port (uri) <= 0)
    return fail (self, group, key, value, error, "no port (expected http://host:port)");
  return TRUE;
}

static gboolean
check_duration (EsaConfig *self, const char *group, const char *key, const char *value,
                GError **error)
{
  guint64 s;
  g_autoptr (GError) local = NULL;
  if (!esa_duration_parse (value, &s, &local))
    return fail (self, group, key, value, error, "%s", local->message);
  if (s > DURATION_MAX_S)
    return fail (self, group, key, value, error, "too long (expected at most 366d)");
  return TRUE;
}

static gboolean
check_timeout (EsaConfig *self, const char *group, const char *key, const char *value,
               GError **error)
{
  guint64 s = 0;
  if (!check_duration (self, group, key, value, error))
    return FALSE;
  esa_duration_parse (value, &s, NULL);
  if (s > TIMEOUT_MAX_S)
    return fail (self, group, key, value, error, "too long for one request (expected at most 1h)");
  return TRUE;
}

static gboolean
check_schedule (EsaConfig *self, const char *group, const char *key, const char *value,
                GError **error)
{
  g_autoptr (EsaSchedule) sched = NULL;
  g_autoptr (GError) local = NULL;
  sched = esa_schedule_parse (value, &local);
  if (sched == NULL)
    return fail (self, group, key, value, error, "%s", local->message);
  return TRUE;
}

static gboolean
check_bool (EsaConfig *self, const char *group, const char *key, const char *value,
            GError **error)
{
  if (g_strcmp0 (value, "true") != 0 && g_strcmp0 (value, "false") != 0)
    return fail (self, group, key, value, error, "not a boolean (expected true or false)");
  return TRUE;
}

static gboolean
check_transport (EsaConfig *self, const char *group, const char *key, const char *value,
                 GError **error)
{
  if (g_strcmp0 (value, "https") != 0 && g_strcmp0 (value, "file") != 0)
    return fail (self, group, key, value, error, "unknown transport (expected https or file)");
  return TRUE;
}

static gboolean
check_parallel (EsaConfig *self, const char *group, const char *key, const char *value,
                GError **error)
{
  guint64 n = 0;
  if (!g_ascii_string_to_unsigned (value, 10, 1, PARALLEL_MAX, &n, NULL))
    return fail (self, group, key, value, error, "not a number from 1 to %d (reports in flight at once)",
                 PARALLEL_MAX);
  return TRUE;
}

static const KeySpec agent_keys[] = {
  { "state-dir", check_abs_path }, { "socket", check_abs_path },
  { "plugin-dir", check_abs_path }, { "pid-file", check_abs_path },
  { "log-level", check_log_level }, { "control-group", check_name },
  { NULL, NULL },
};
static const KeySpec plugins_keys[] = { { "enabled", NULL }, { NULL, NULL } };
static const KeySpec sdc_keys[] = {
  { "servers", NULL }, { "config-url", check_config_url }, { "ca-file", NULL },
  { "timeout", check_timeout }, { "direct", check_bool }, { NULL, NULL },
};
static const KeySpec proxy_keys[] = {
  { "url", check_proxy_url }, { "user", NULL }, { "password-file", NULL }, { NULL, NULL },
};
static const KeySpec activation_keys[] = {
  { "vendors", NULL }, { "contact-name", NULL }, { "contact-email", NULL },
  { "contact-phone", NULL }, { NULL, NULL },
};
static const KeySpec queue_keys[] = {
  { "backoff-min", check_duration }, { "backoff-max", check_duration }, { NULL, NULL },
};
static const KeySpec transport_keys[] = {
  { "type", check_transport }, { "outbox", check_abs_path }, { "parallel", check_parallel },
  { NULL, NULL },
};
static const KeySpec job_keys[] = {
  { "schedule", check_schedule }, { "splay", check_duration }, { "enabled", check_bool },
  { NULL, NULL },
};

static const KeySpec *
group_spec (const char *group)
{
  if (g_str_equal (group, "agent")) return agent_keys;
  if (g_str_equal (group, "plugins")) return plugins_keys;
  if (g_str_equal (group, "sdc")) return sdc_keys;
  if (g_str_equal (group, "proxy.1") || g_str_equal (group, "proxy.2") ||
      g_str_equal (group, "proxy.3"))
    return proxy_keys;
  if (g_str_equal (group, "activation")) return activation_keys;
  if (g_str_equal (group, "queue")) return queue_keys;
  if (g_str_equal (group, "transport")) return transport_keys;
  if (g_str_has_prefix (group, "job.")) return job_keys;
  return NULL;
}

static void
warn (EsaConfig *self, const char *group, const char *key, const char *what)
{
  g_autofree char *where = esa_config_describe_key (self, group, key);
  g_ptr_array_add (self->warnings, g_strdup_printf ("%s: %s", where, what));
}

/* Checks every key of every group against the tables above. */
static gboolean
validate_keys (EsaConfig *self, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (self->keyfile, NULL);
  for (guint g = 0; groups[g] != NULL; g++)
    {
      const char *group = groups[g];
      const KeySpec *spec;
      g_auto (GStrv) keys = NULL;
      if (g_str_has_prefix (group, "plugin."))
        {
          /* Each plugin validates its values when it reads them; the name
           * can be checked here. */
          const char *name = group + strlen ("plugin.");
          g_auto (GStrv) enabled = g_key_file_get_string_list (self->keyfile, "plugins", "enabled", NULL, NULL);
          g_autofree char *what = NULL;
          if (!check_name (self, group, NULL, name, error))
            continue;
          if (enabled != NULL && !g_strv_contains ((const char *const *) enabled, name))
            {
              what = g_strdup_printf ("plugin %s is not in [plugins] enabled=, its settings are not used", name);
              warn (self, group, NULL, what);
            }
          continue;
        }
      spec = group_spec (group);
      if (spec == NULL)
        {
          if (g_str_has_prefix (group, "proxy."))
            {
              g_ptr_array_add (self->errors, g_strdup_printf (
                  "%s:%u: [%s]: at most three proxies (expected [proxy.1], [proxy.2] or [proxy.3])",
                  self->path, find_line (self, group, NULL), group));
              continue;
            }
          warn (self, group, NULL, "unknown group, ignored");
          continue;
        }
      keys = g_key_file_get_keys (self->keyfile, group, NULL, NULL);
      for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          const KeySpec *ks = NULL;
          g_autofree char *value = NULL;
          for (const KeySpec *s = spec; s->key != NULL; s++)
            if (g_str_equal (s->key, keys[k]))
              ks = s;
          if (ks == NULL)
            {
              warn (self, group, keys[k], "unknown key, ignored");
              continue;
            }
          value = g_key_file_get_string (self->keyfile, group, keys[k], NULL);
          if (value == NULL)
            value = g_key_file_get_value (self->keyfile, group, keys[k], NULL);
          if (ks->check != NULL)
            ks->check (self, group, keys[k], value, error);
        }
    }
  return self->errors->len == 0;
}

static char *
get_str (EsaConfig *self, const char *group, const char *key, const char *fallback)
{
  char *v = g_key_file_get_string (self->keyfile, group, key, NULL);
  if (v == NULL || *v == '\0')
    {
      g_free (v);
      return g_strdup (fallback);
    }
  return v;
}

static char **
get_list (EsaConfig *self, const char *group, const char *key, const char *const *fallback)
{
  g_auto (GStrv) raw = g_key_file_get_string_list (self->keyfile, group, key, NULL, NULL);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  if (raw == NULL)
    return g_strdupv ((char **) fallback);
  for (guint i = 0; raw[i] != NULL; i++)
    {
      g_autofree char *item = g_strstrip (g_strdup (raw[i]));
      if (*item != '\0')
        g_strv_builder_add (b, item);
    }
  return g_strv_builder_end (b);
}

static guint64
get_duration (EsaConfig *self, const char *group, const char *key, guint64 fallback)
{
  g_autofree char *v = get_str (self, group, key, NULL);
  guint64 s = fallback;
  if (v != NULL)
    esa_duration_parse (v, &s, NULL); /* validated already */
  return s;
}

/* Relative paths in the config are relative to the config file's folder;
 * GTlsFileDatabase needs an absolute path (NOTES.md). */
static char *
absolute_from_config (EsaConfig *self, const char *value)
{
  g_autofree char *dir = NULL;
  if (value == NULL || g_path_is_absolute (value))
    return g_strdup (value);
  dir = self->path != NULL ? g_path_get_dirname (self->path) : g_get_current_dir ();
  if (!g_path_is_absolute (dir))
    {
      g_autofree char *cwd = g_get_current_dir ();
      g_autofree char *joined = g_build_filename (cwd, dir, NULL);
      g_free (dir);
      dir = g_steal_pointer (&joined);
    }
  return g_canonicalize_filename (value, dir);
}

/* A file the agent will read later (ca-file=, password-file=): it must be
 * there now, so that `esactl config check` says so, not the first upload. */
static gboolean
check_file_exists (EsaConfig *self, const char *group, const char *key, const char *shown,
                   const char *path, GStatBuf *st)
{
  if (g_stat (path, st) != 0)
    return fail (self, group, key, shown, NULL, "cannot read %s: %s", path, g_strerror (errno));
  if (!S_ISREG (st->st_mode))
    return fail (self, group, key, shown, NULL, "%s is not a regular file", path);
  return TRUE;
}

/* ca-file=: PEM certificates (what GTlsFileDatabase reads). */
static void
check_ca_file (EsaConfig *self, const char *shown)
{
  GStatBuf st;
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!check_file_exists (self, "sdc", "ca-file", shown, self->ca_file, &st))
    return;
  if (st.st_size > CONFIG_MAX_BYTES)
    {
      fail (self, "sdc", "ca-file", shown, NULL, "too large for a CA file (expected PEM certificates)");
      return;
    }
  if (!g_file_get_contents (self->ca_file, &text, &len, NULL))
    {
      fail (self, "sdc", "ca-file", shown, NULL, "cannot read %s", self->ca_file);
      return;
    }
  if (g_strstr_len (text, (gssize) len, "-----BEGIN CERTIFICATE-----") == NULL ||
      g_strstr_len (text, (gssize) len, "-----END CERTIFICATE-----") == NULL)
    fail (self, "sdc", "ca-file", shown, NULL,
          "no PEM certificate in it (expected -----BEGIN CERTIFICATE----- blocks)");
}

/* password-file=: there, and not readable by everyone. */
static void
check_password_file (EsaConfig *self, const char *group, const char *shown, const char *path)
{
  GStatBuf st;
  if (!check_file_exists (self, group, "password-file", shown, path, &st))
    return;
  if ((st.st_mode & S_IROTH) != 0)
    fail (self, group, "password-file", shown, NULL,
          "readable by everyone (mode %04o; expected 0600 or 0640)", (guint) (st.st_mode & 07777));
}

/* GKeyFile keeps the last of two equal keys without a word; an admin who
 * adds a line below an old one should hear about it. */
static void
check_duplicate_keys (EsaConfig *self)
{
  g_auto (GStrv) lines = g_strsplit (self->raw, "\n", -1);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *group = NULL;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));
      g_autofree char *key = NULL;
      g_autofree char *id = NULL;
      const char *eq;
      gpointer first;
      if (line[0] == '\0' || line[0] == '#')
        continue;
      if (line[0] == '[')
        {
          g_free (group);
          group = g_strndup (line + 1, strlen (line) > 1 ? strlen (line) - 2 : 0);
          continue;
        }
      if (group == NULL || (eq = strchr (line, '=')) == NULL)
        continue;
      key = g_strstrip (g_strndup (line, (gsize) (eq - line)));
      id = g_strdup_printf ("%s\n%s", group, key);
      if (g_hash_table_lookup_extended (seen, id, NULL, &first))
        g_ptr_array_add (self->errors, g_strdup_printf (
            "%s:%u: [%s] %s: \"%s\": duplicate key (already set at line %u; expected each key once)",
            self->path, i + 1, group, key, g_strstrip ((char *) eq + 1), GPOINTER_TO_UINT (first)));
      else
        g_hash_table_insert (seen, g_steal_pointer (&id), GUINT_TO_POINTER (i + 1));
    }
}

/* A Unix socket path longer than sun_path is cut short by bind (): esad
 * would listen somewhere else than esactl looks. */
static void
check_socket_length (EsaConfig *self)
{
  const gsize max = sizeof (((struct sockaddr_un *) NULL)->sun_path) - 1;
  gsize len = strlen (self->socket_path);
  g_autofree char *set = NULL;
  if (len <= max)
    return;
  set = g_key_file_get_string (self->keyfile, "agent", "socket", NULL);
  if (set != NULL && *set != '\0')
    fail (self, "agent", "socket", self->socket_path, NULL,
          "%" G_GSIZE_FORMAT " bytes long, a Unix socket path holds at most %" G_GSIZE_FORMAT " (expected a shorter path)",
          len, max);
  else
    fail (self, "agent", "state-dir", self->state_dir, NULL,
          "the control socket %s would be %" G_GSIZE_FORMAT " bytes long, a Unix socket path holds at most %"
          G_GSIZE_FORMAT " (expected a shorter state-dir, or socket=)", self->socket_path, len, max);
}

/* Reads every value; problems go to self->errors and the reading goes on. */
static gboolean
load_values (EsaConfig *self, GError **error)
{
  const char *no_vendors[] = { "IBM", NULL };
  const char *no_plugins[] = { "heartbeat", NULL };

  g_free (self->state_dir);
  self->state_dir = get_str (self, "agent", "state-dir", DEFAULT_STATE_DIR);
  g_free (self->socket_path);
  {
    /* In its own 0750 folder, which esad gives to the control group. */
    g_autofree char *def = g_build_filename (self->state_dir, "run", "esad.sock", NULL);
    self->socket_path = get_str (self, "agent", "socket", def);
  }
  check_socket_length (self);
  g_free (self->plugin_dir);
  self->plugin_dir = get_str (self, "agent", "plugin-dir", PLUGINDIR);
  self->pid_file = get_str (self, "agent", "pid-file", NULL);
  g_free (self->log_level);
  self->log_level = get_str (self, "agent", "log-level", "message");
  g_free (self->control_group);
  self->control_group = get_str (self, "agent", "control-group", "esa");

  g_strfreev (self->enabled_plugins);
  self->enabled_plugins = get_list (self, "plugins", "enabled", no_plugins);
  for (guint i = 0; self->enabled_plugins[i] != NULL; i++)
    check_name (self, "plugins", "enabled", self->enabled_plugins[i], error);

  self->servers = get_list (self, "sdc", "servers", NULL);
  if (self->servers == NULL)
    self->servers = g_new0 (char *, 1);
  for (guint i = 0; self->servers[i] != NULL; i++)
    check_upload_url (self, "sdc", "servers", self->servers[i], error);
  self->config_url = get_str (self, "sdc", "config-url", NULL);
  {
    g_autofree char *ca = get_str (self, "sdc", "ca-file", NULL);
    self->ca_file = absolute_from_config (self, ca);
    if (self->ca_file != NULL)
      check_ca_file (self, ca);
  }
  self->timeout_s = get_duration (self, "sdc", "timeout", 60);
  if (self->timeout_s == 0)
    fail (self, "sdc", "timeout", "0", error, "must be at least 1s");
  {
    g_autofree char *direct = get_str (self, "sdc", "direct", NULL);
    self->n_proxies = 0;
    for (guint n = 1; n <= ESA_MAX_PROXIES; n++)
      {
        g_autofree char *group = g_strdup_printf ("proxy.%u", n);
        EsaConfigProxy *p;
        g_autofree char *pwfile = NULL;
        if (!g_key_file_has_group (self->keyfile, group))
          continue; /* "not configured": the next one is used */
        p = &self->proxies[self->n_proxies++];
        p->url = get_str (self, group, "url", NULL);
        if (p->url == NULL)
          fail (self, group, "url", "", error, "missing (expected http://host:port)");
        p->user = get_str (self, group, "user", NULL);
        pwfile = get_str (self, group, "password-file", NULL);
        p->password_file = absolute_from_config (self, pwfile);
        /* Name the key that is there, with its value, not the missing one. */
        if (p->user != NULL && p->password_file == NULL)
          fail (self, group, "user", p->user, error,
                "user= and password-file= go together (expected password-file= too)");
        else if (p->user == NULL && p->password_file != NULL)
          fail (self, group, "password-file", pwfile, error,
                "user= and password-file= go together (expected user= too)");
        else if (p->password_file != NULL)
          check_password_file (self, group, pwfile, p->password_file);
      }
    /* Without proxies the route is direct; with proxies, direct only if asked. */
    self->direct = direct != NULL ? g_str_equal (direct, "true") : self->n_proxies == 0;
  }

  g_strfreev (self->vendors);
  self->vendors = get_list (self, "activation", "vendors", no_vendors);
  self->contact_name = get_str (self, "activation", "contact-name", NULL);
  self->contact_email = get_str (self, "activation", "contact-email", NULL);
  self->contact_phone = get_str (self, "activation", "contact-phone", NULL);

  self->backoff_min_s = get_duration (self, "queue", "backoff-min", 60);
  self->backoff_max_s = get_duration (self, "queue", "backoff-max", 6 * 3600);
  if (self->backoff_min_s == 0 || self->backoff_min_s > self->backoff_max_s)
    {
      g_autofree char *v = get_str (self, "queue", "backoff-min", "");
      fail (self, "queue", "backoff-min", v, error, "must be at least 1s and not above backoff-max");
    }
  g_free (self->transport);
  self->transport = get_str (self, "transport", "type", "https");
  self->outbox = get_str (self, "transport", "outbox", NULL);
  {
    g_autofree char *v = get_str (self, "transport", "parallel", NULL);
    guint64 n = PARALLEL_DEFAULT;
    if (v != NULL)
      g_ascii_string_to_unsigned (v, 10, 1, PARALLEL_MAX, &n, NULL); /* validated already */
    self->parallel = (guint) n;
  }
  if (g_str_equal (self->transport, "file") && self->outbox == NULL)
    fail (self, "transport", "outbox", "", error,
          "missing (the file transport needs an absolute outbox folder)");
  return self->errors->len == 0;
}

/* The file's text: a regular file (a FIFO would block, /dev/zero never
 * ends) of at most CONFIG_MAX_BYTES. */
static gboolean
read_config_file (const char *path, char **text, gsize *len, GError **error)
{
  struct stat st;
  g_autoptr (GString) buf = NULL;
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  char chunk[8192];
  ssize_t n;
  if (fd < 0)
    {
      g_set_error (error, ESA_ERROR, errno == ENOENT ? ESA_ERROR_NOT_FOUND : ESA_ERROR_INVALID_CONFIG,
                   "%s: cannot read: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "%s: cannot read: not a regular file (expected a config file)", path);
      close (fd);
      return FALSE;
    }
  buf = g_string_sized_new (MIN ((gsize) st.st_size, (gsize) CONFIG_MAX_BYTES) + 1);
  while ((n = read (fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
    {
      if (n > 0)
        g_string_append_len (buf, chunk, n);
      if (buf->len > CONFIG_MAX_BYTES)
        break;
    }
  close (fd);
  if (n < 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s: cannot read: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (buf->len > CONFIG_MAX_BYTES)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "%s: too large (more than %u bytes; expected a config file)", path, CONFIG_MAX_BYTES);
      return FALSE;
    }
  *len = buf->len;
  *text = g_string_free (g_steal_pointer (&buf), FALSE);
  return TRUE;
}

/* 1-based line number of byte @offset of @text. */
static guint
line_of_offset (const char *text, gsize offset)
{
  guint line = 1;
  for (gsize i = 0; i < offset; i++)
    line += text[i] == '\n';
  return line;
}

/* The first line GKeyFile cannot parse: not blank, not a comment, not a
 * [group] header and not key=value. 0 if none is found. */
static guint
find_syntax_error (const char *raw)
{
  g_auto (GStrv) lines = g_strsplit (raw, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));
      gsize n = strlen (line);
      if (n == 0 || line[0] == '#')
        continue;
      if (line[0] == '[')
        {
          if (line[n - 1] != ']')
            return i + 1;
          continue;
        }
      if (strchr (line, '=') == NULL || line[0] == '=')
        return i + 1;
    }
  return 0;
}

EsaConfig *
esa_config_new_default (void)
{
  EsaConfig *self = g_new0 (EsaConfig, 1);
  self->ref = 1;
  self->keyfile = g_key_file_new ();
  self->warnings = g_ptr_array_new_with_free_func (g_free);
  self->errors = g_ptr_array_new_with_free_func (g_free);
  load_values (self, NULL);
  /* The built-in defaults are valid (unless LOCALSTATEDIR makes the socket
   * path too long, which `esactl config check` then names). */
  return self;
}

EsaConfig *
esa_config_load (const char *path, GError **error)
{
  g_autoptr (EsaConfig) self = g_new0 (EsaConfig, 1);
  g_autoptr (GError) local = NULL;
  const char *bad = NULL;
  gsize len = 0;

  self->ref = 1;
  self->path = g_strdup (path);
  self->keyfile = g_key_file_new ();
  self->warnings = g_ptr_array_new_with_free_func (g_free);
  self->errors = g_ptr_array_new_with_free_func (g_free);
  if (!read_config_file (path, &self->raw, &len, error))
    return NULL;
  if (!g_utf8_validate (self->raw, len, &bad))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "%s:%u: not UTF-8 text (expected a UTF-8 key file)", path,
                   line_of_offset (self->raw, (gsize) (bad - self->raw)));
      return NULL;
    }
  if (!g_key_file_load_from_data (self->keyfile, self->raw, len, G_KEY_FILE_NONE, &local))
    {
      /* GKeyFile names the bad line's text but not its number. */
      guint line = find_syntax_error (self->raw);
      if (line > 0)
        g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s:%u: %s", path, line,
                     local->message);
      else
        g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s: %s", path, local->message);
      return NULL;
    }
  check_duplicate_keys (self);
  validate_keys (self, NULL);
  load_values (self, NULL);
  if (self->errors->len > 0)
    {
      /* Every error, one line each, in the order of the checks. */
      g_autofree char *all = NULL;
      g_ptr_array_add (self->errors, NULL);
      all = g_strjoinv ("\n", (char **) self->errors->pdata);
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, all);
      return NULL;
    }
  return g_steal_pointer (&self);
}

char *
esa_config_guess_socket_path (const char *path)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *raw = NULL;
  g_autofree char *socket = NULL;
  g_autofree char *state = NULL;
  gsize len = 0;
  if (read_config_file (path, &raw, &len, NULL) &&
      g_key_file_load_from_data (kf, raw, len, G_KEY_FILE_NONE, NULL))
    {
      socket = g_key_file_get_string (kf, "agent", "socket", NULL);
      state = g_key_file_get_string (kf, "agent", "state-dir", NULL);
    }
  if (socket != NULL && g_path_is_absolute (socket))
    return g_steal_pointer (&socket);
  return g_build_filename (state != NULL && g_path_is_absolute (state) ? state : DEFAULT_STATE_DIR,
                           "run", "esad.sock", NULL);
}

EsaConfig *
esa_config_ref (EsaConfig *self)
{
  g_atomic_int_inc (&self->ref);
  return self;
}

void
esa_config_unref (EsaConfig *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref))
    return;
  g_free (self->path);
  g_key_file_unref (self->keyfile);
  g_free (self->raw);
  g_free (self->state_dir);
  g_free (self->socket_path);
  g_free (self->plugin_dir);
  g_free (self->pid_file);
  g_free (self->log_level);
  g_free (self->control_group);
  g_strfreev (self->enabled_plugins);
  g_strfreev (self->servers);
  g_free (self->config_url);
  g_free (self->ca_file);
  for (guint i = 0; i < ESA_MAX_PROXIES; i++)
    {
      g_free (self->proxies[i].url);
      g_free (self->proxies[i].user);
      g_free (self->proxies[i].password_file);
    }
  g_strfreev (self->vendors);
  g_free (self->contact_name);
  g_free (self->contact_email);
  g_free (self->contact_phone);
  g_free (self->transport);
  g_free (self->outbox);
  g_ptr_array_unref (self->warnings);
  g_ptr_array_unref (self->errors);
  g_free (self);
}

char *
esa_config_get_job_schedule (EsaConfig *self, const char *job, const char *fallback)
{
  g_autofree char *group = g_strdup_printf ("job.%s", job);
  return get_str (self, group, "schedule", fallback);
}

guint64
esa_config_get_job_splay (EsaConfig *self, const char *job, guint64 fallback_s)
{
  g_autofree char *group = g_strdup_printf ("job.%s", job);
  return get_duration (self, group, "splay", fallback_s);
}

gboolean
esa_config_get_job_enabled (EsaConfig *self, const char *job)
{
  g_autofree char *group = g_strdup_printf ("job.%s", job);
  g_autofree char *v = get_str (self, group, "enabled", "true");
  return g_str_equal (v, "true");
}

gboolean
esa_config_plugin_enabled (EsaConfig *self, const char *plugin)
{
  return g_strv_contains ((const char *const *) self->enabled_plugins, plugin);
}

/* Accessors for the parts of OpenESA outside core/ (esa-config.h). */
const char *
esa_config_get_path (EsaConfig *self)
{
  return self->path;
}

GPtrArray *
esa_config_get_warnings (EsaConfig *self)
{
  return self->warnings;
}

const char *
esa_config_get_state_dir (EsaConfig *self)
{
  return self->state_dir;
}

const char *
esa_config_get_socket_path (EsaConfig *self)
{
  return self->socket_path;
}

const char *
esa_config_get_plugin_dir (EsaConfig *self)
{
  return self->plugin_dir;
}

const char *
esa_config_get_pid_file (EsaConfig *self)
{
  return self->pid_file;
}

const char *
esa_config_get_log_level (EsaConfig *self)
{
  return self->log_level;
}

const char *
esa_config_get_control_group (EsaConfig *self)
{
  return self->control_group;
}

const char *const *
esa_config_get_enabled_plugins (EsaConfig *self)
{
  return (const char *const *) self->enabled_plugins;
}

const char *const *
esa_config_get_servers (EsaConfig *self)
{
  return (const char *const *) self->servers;
}

const char *
esa_config_get_config_url (EsaConfig *self)
{
  return self->config_url;
}

const char *
esa_config_get_ca_file (EsaConfig *self)
{
  return self->ca_file;
}

guint64
esa_config_get_timeout (EsaConfig *self)
{
  return self->timeout_s;
}

gboolean
esa_config_get_direct (EsaConfig *self)
{
  return self->direct;
}

guint
esa_config_get_n_proxies (EsaConfig *self)
{
  return self->n_proxies;
}

void
esa_config_get_proxy (EsaConfig *self, guint index, const char **url, const char **user,
                      const char **password_file)
{
  g_return_if_fail (index < self->n_proxies);
  if (url != NULL)
    *url = self->proxies[index].url;
  if (user != NULL)
    *user = self->proxies[index].user;
  if (password_file != NULL)
    *password_file = self->proxies[index].password_file;
}

const char *const *
esa_config_get_vendors (EsaConfig *self)
{
  return (const char *const *) self->vendors;
}

const char *
esa_config_get_contact_name (EsaConfig *self)
{
  return self->contact_name;
}

const char *
esa_config_get_contact_email (EsaConfig *self)
{
  return self->contact_email;
}

const char *
esa_config_get_contact_phone (EsaConfig *self)
{
  return self->contact_phone;
}

guint64
esa_config_get_backoff_min (EsaConfig *self)
{
  return self->backoff_min_s;
}

guint64
esa_config_get_backoff_max (EsaConfig *self)
{
  return self->backoff_max_s;
}

const char *
esa_config_get_transport (EsaConfig *self)
{
  return self->transport;
}

const char *
esa_config_get_outbox (EsaConfig *self)
{
  return self->outbox;
}

guint
esa_config_get_parallel (EsaConfig *self)
{
  return self->parallel;
}
