/* esa-proxy-config.c: reads esa-proxy.conf (GKeyFile). Every mistake is one line naming the
 * file, line, group, key, the value and what was expected; unknown keys are mistakes too, so
 * a typo in an access rule never silently falls back to a default. */
#include "config.h"

#include "esa-proxy-config.h"

#include "esa-proxy-file.h"

#include <esa/esa-error.h>
#include <string.h>

/* esa-proxy.conf, esa.conf, the upstream password: a few KiB each. */
#define MAX_CONFIG_SIZE (1024 * 1024)

typedef struct {
  const char *path;
  GKeyFile *kf;
  GStrv lines; /* the file's text, for line numbers in messages */
} Ctx;

static const char *const proxy_keys[] = {
  "listen", "allow", "esa-conf", "allow-private-addresses", "clients", "users-file",
  "max-tunnels", "idle-timeout", "connect-timeout", "header-timeout", "shutdown-timeout",
  "max-header-size", "access-log", "max-pending-per-client", NULL,
};
static const char *const upstream_keys[] = { "url", "user", "password-file", NULL };

/* GKeyFile does not keep line numbers; find the key's line ourselves for the message. */
static guint
find_line (GStrv lines, const char *group, const char *key)
{
  gboolean in_group = FALSE;
  if (lines == NULL)
    return 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];
      while (*l == ' ' || *l == '\t')
        l++;
      if (*l == '[')
        {
          const char *close = strchr (l, ']');
          in_group = close != NULL && (gsize) (close - l - 1) == strlen (group) &&
                     strncmp (l + 1, group, strlen (group)) == 0;
          if (in_group && key == NULL)
            return i + 1;
          continue;
        }
      if (in_group && key != NULL && g_str_has_prefix (l, key))
        {
          const char *r = l + strlen (key);
          while (*r == ' ' || *r == '\t')
            r++;
          if (*r == '=')
            return i + 1;
        }
    }
  return 0;
}

static gboolean
config_error (Ctx *ctx, GError **error, const char *group, const char *key, const char *value,
              const char *format, ...) G_GNUC_PRINTF (6, 7);

static gboolean
config_error (Ctx *ctx, GError **error, const char *group, const char *key, const char *value,
              const char *format, ...)
{
  g_autofree char *what = NULL;
  g_autofree char *where = NULL;
  g_autofree char *val = NULL;
  guint line = find_line (ctx->lines, group, key);
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  where = line > 0 ? g_strdup_printf ("%s:%u", ctx->path, line) : g_strdup (ctx->path);
  if (value != NULL)
    {
      g_autofree char *esc = g_strescape (value, NULL);
      val = g_strdup_printf (" \"%s\":", esc);
    }
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s: [%s] %s:%s %s", where, group,
               key, val != NULL ? val : "", what);
  return FALSE;
}

static char *
get_string (Ctx *ctx, const char *group, const char *key)
{
  g_autofree char *v = g_key_file_get_string (ctx->kf, group, key, NULL);
  if (v == NULL)
    return NULL;
  g_strstrip (v);
  return g_steal_pointer (&v);
}

/* A ';' list, tolerating spaces and a trailing ';'. NULL if the key is absent. */
static GStrv
get_list (Ctx *ctx, const char *group, const char *key)
{
  g_autofree char *v = get_string (ctx, group, key);
  g_auto (GStrv) parts = NULL;
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  if (v == NULL)
    return NULL;
  parts = g_strsplit (v, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] != '\0')
        g_strv_builder_add (b, parts[i]);
    }
  return g_strv_builder_end (b);
}

static gboolean
get_uint (Ctx *ctx, const char *key, guint64 min, guint64 max, guint64 def, guint64 *out,
          const char *unit, GError **error)
{
  g_autofree char *v = get_string (ctx, "proxy", key);
  if (v == NULL || v[0] == '\0')
    {
      *out = def;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (v, 10, min, max, out, NULL))
    return config_error (ctx, error, "proxy", key, v,
                         "expected a whole number of %s from %" G_GUINT64_FORMAT
                         " to %" G_GUINT64_FORMAT,
                         unit, min, max);
  return TRUE;
}

static gboolean
check_keys (Ctx *ctx, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (ctx->kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      const char *const *known;
      g_auto (GStrv) keys = NULL;
      if (g_strcmp0 (groups[i], "proxy") == 0)
        known = proxy_keys;
      else if (g_strcmp0 (groups[i], "upstream") == 0)
        known = upstream_keys;
      else
        {
          guint line = find_line (ctx->lines, groups[i], NULL);
          g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                       "%s:%u: [%s]: unknown group (expected [proxy] or [upstream])", ctx->path,
                       line, groups[i]);
          return FALSE;
        }
      keys = g_key_file_get_keys (ctx->kf, groups[i], NULL, NULL);
      for (guint j = 0; keys != NULL && keys[j] != NULL; j++)
        if (!g_strv_contains (known, keys[j]))
          {
            g_autofree char *expected = g_strjoinv (", ", (GStrv) known);
            return config_error (ctx, error, groups[i], keys[j], NULL,
                                 "unknown key (expected one of %s)", expected);
          }
    }
  return TRUE;
}

static gboolean
parse_listen (Ctx *ctx, EsaProxyConfig *config, GError **error)
{
  g_auto (GStrv) list = get_list (ctx, "proxy", "listen");
  g_auto (GStrv) defaults = g_strsplit ("127.0.0.1:3128;[::1]:3128", ";", -1);
  GStrv entries = list != NULL ? list : defaults;

  if (entries[0] == NULL)
    return config_error (ctx, error, "proxy", "listen", "",
                         "expected at least one address:port, e.g. 127.0.0.1:3128;[::1]:3128");
  config->listen_text = g_strjoinv (";", entries);
  for (guint i = 0; entries[i] != NULL; i++)
    {
      EsaProxyListen l = { NULL, 0 };
      g_autofree char *host = NULL;
      g_autofree char *authority = NULL;
      g_autoptr (GError) local_error = NULL;
      guint16 port = 0;
      gboolean is_ip = FALSE;

      if (g_str_has_prefix (entries[i], "*:"))
        authority = g_strconcat ("0.0.0.0", entries[i] + 1, NULL);
      else
        authority = g_strdup (entries[i]);
      if (!esa_proxy_authority_parse (authority, 0, &host, &port, &is_ip, &local_error) || !is_ip)
        return config_error (ctx, error, "proxy", "listen", entries[i],
                             "expected an IP address and port (127.0.0.1:3128, [::1]:3128, *:3128)");
      if (!g_str_has_prefix (entries[i], "*:"))
        l.address = g_inet_address_new_from_string (host);
      l.port = port;
      g_array_append_val (config->listen, l);
    }
  return TRUE;
}

/* The default destinations: the SDC servers (and the config URL) of the local agent. */
static gboolean
load_esa_conf (Ctx *ctx, EsaProxyConfig *config, const char *path, gboolean explicit_key,
               GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) servers = NULL;
  g_autofree char *config_url = NULL;
  g_autofree char *text = esa_proxy_file_read (path, MAX_CONFIG_SIZE, &local_error);

  if (text == NULL || !g_key_file_load_from_data (kf, text, (gsize) -1, G_KEY_FILE_NONE, &local_error))
    {
      if (explicit_key)
        return config_error (ctx, error, "proxy", "esa-conf", path, "cannot read: %s",
                             local_error->message);
      return config_error (ctx, error, "proxy", "allow", NULL,
                           "not set and the default %s cannot be read (%s); set allow=host:port;...",
                           path, local_error->message);
    }
  servers = g_key_file_get_string_list (kf, "sdc", "servers", NULL, NULL);
  for (guint i = 0; servers != NULL && servers[i] != NULL; i++)
    {
      g_autoptr (GError) e = NULL;
      g_strstrip (servers[i]);
      if (servers[i][0] == '\0')
        continue;
      if (!esa_proxy_allow_list_add_url (config->allow, servers[i], &e))
        return config_error (ctx, error, "proxy", "esa-conf", path, "[sdc] servers: %s",
                             e->message);
    }
  config_url = g_key_file_get_string (kf, "sdc", "config-url", NULL);
  if (config_url != NULL && g_strstrip (config_url)[0] != '\0')
    {
      g_autoptr (GError) e = NULL;
      if (!esa_proxy_allow_list_add_url (config->allow, config_url, &e))
        return config_error (ctx, error, "proxy", "esa-conf", path, "[sdc] config-url: %s",
                             e->message);
    }
  config->esa_conf = g_strdup (path);
  return TRUE;
}

static gboolean
parse_cidrs (Ctx *ctx, const char *key, GStrv list, EsaProxyCidrList *out, GError **error)
{
  for (guint i = 0; list[i] != NULL; i++)
    {
      g_autoptr (GError) e = NULL;
      if (!esa_proxy_cidr_list_add (out, list[i], &e))
        return config_error (ctx, error, "proxy", key, list[i],
                             "expected an address or CIDR range (10.0.0.0/8, fd00::/8)");
    }
  return TRUE;
}

static gboolean
parse_upstream (Ctx *ctx, EsaProxyConfig *config, GError **error)
{
  g_autofree char *url = get_string (ctx, "upstream", "url");
  g_autofree char *user = get_string (ctx, "upstream", "user");
  g_autofree char *pwfile = get_string (ctx, "upstream", "password-file");
  g_autofree char *authority = NULL;
  g_autoptr (GError) e = NULL;
  const char *rest;

  if (url == NULL || url[0] == '\0')
    {
      if ((user != NULL && user[0] != '\0') || (pwfile != NULL && pwfile[0] != '\0'))
        return config_error (ctx, error, "upstream", "url", "", "user/password-file set without url");
      return TRUE;
    }
  if (g_ascii_strncasecmp (url, "http://", 7) != 0)
    return config_error (ctx, error, "upstream", "url", url,
                         "unsupported scheme (expected http://host:port)");
  rest = url + 7;
  authority = g_strndup (rest, strcspn (rest, "/"));
  if (strcspn (rest, "/") != strlen (rest) && strcmp (rest + strcspn (rest, "/"), "/") != 0)
    return config_error (ctx, error, "upstream", "url", url, "expected http://host:port with no path");
  if (!esa_proxy_authority_parse (authority, 3128, &config->upstream_host, &config->upstream_port,
                                  NULL, &e))
    return config_error (ctx, error, "upstream", "url", url, "%s", e->message);
  if (user != NULL && user[0] != '\0')
    {
      g_autofree char *password = NULL;
      g_autofree char *pair = NULL;
      g_autofree char *b64 = NULL;
      if (strchr (user, ':') != NULL)
        return config_error (ctx, error, "upstream", "user", user, "must not contain ':'");
      if (pwfile == NULL || pwfile[0] == '\0')
        return config_error (ctx, error, "upstream", "password-file", NULL,
                             "expected a file holding the password for user %s", user);
      if ((password = esa_proxy_file_read (pwfile, MAX_CONFIG_SIZE, &e)) == NULL)
        return config_error (ctx, error, "upstream", "password-file", pwfile, "%s", e->message);
      password[strcspn (password, "\r\n")] = '\0';
      pair = g_strdup_printf ("%s:%s", user, password);
      b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
      config->upstream_auth = g_strdup_printf ("Basic %s", b64);
    }
  return TRUE;
}

EsaProxyConfig *
esa_proxy_config_load (const char *path, GError **error)
{
  g_autoptr (EsaProxyConfig) config = g_new0 (EsaProxyConfig, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) e = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) allow = NULL;
  g_auto (GStrv) priv = NULL;
  g_auto (GStrv) clients = NULL;
  g_autofree char *esa_conf = NULL;
  g_autofree char *users_file = NULL;
  g_autofree char *access_log = NULL;
  guint64 v = 0;
  Ctx ctx = { path, kf, NULL };

  g_atomic_ref_count_init (&config->refcount);
  config->path = g_strdup (path);
  config->listen = g_array_new (FALSE, TRUE, sizeof (EsaProxyListen));
  config->allow = esa_proxy_allow_list_new ();
  config->allow_private = esa_proxy_cidr_list_new ();

  if ((text = esa_proxy_file_read (path, MAX_CONFIG_SIZE, &e)) == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s: %s", path, e->message);
      return NULL;
    }
  lines = g_strsplit (text, "\n", -1);
  ctx.lines = lines;
  if (!g_key_file_load_from_data (kf, text, (gsize) -1, G_KEY_FILE_NONE, &e))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s: %s", path, e->message);
      return NULL;
    }
  if (!check_keys (&ctx, error))
    return NULL;
  if (!parse_listen (&ctx, config, error))
    return NULL;

  /* Destinations: allow= and/or the SDC servers of esa.conf. */
  allow = get_list (&ctx, "proxy", "allow");
  esa_conf = get_string (&ctx, "proxy", "esa-conf");
  for (guint i = 0; allow != NULL && allow[i] != NULL; i++)
    {
      g_autoptr (GError) ae = NULL;
      if (!esa_proxy_allow_list_add (config->allow, allow[i], &ae))
        return config_error (&ctx, error, "proxy", "allow", allow[i], "%s (expected host:port)",
                             ae->message),
               NULL;
    }
  if (esa_conf != NULL && esa_conf[0] != '\0')
    {
      if (!load_esa_conf (&ctx, config, esa_conf, TRUE, error))
        return NULL;
    }
  else if (allow == NULL)
    {
      if (!load_esa_conf (&ctx, config, ESA_PROXY_DEFAULT_ESA_CONF, FALSE, error))
        return NULL;
    }
  if (esa_proxy_allow_list_size (config->allow) == 0)
    return config_error (&ctx, error, "proxy", "allow", NULL,
                         "no destination allowed (expected host:port entries, or [sdc] servers= "
                         "in the esa.conf named by esa-conf=)"),
           NULL;

  priv = get_list (&ctx, "proxy", "allow-private-addresses");
  if (priv != NULL && priv[0] != NULL && priv[1] == NULL &&
      (g_ascii_strcasecmp (priv[0], "true") == 0 || g_ascii_strcasecmp (priv[0], "false") == 0))
    config->allow_private_all = g_ascii_strcasecmp (priv[0], "true") == 0;
  else if (priv != NULL && !parse_cidrs (&ctx, "allow-private-addresses", priv,
                                         config->allow_private, error))
    return NULL;

  clients = get_list (&ctx, "proxy", "clients");
  if (clients != NULL && clients[0] != NULL)
    {
      config->clients = esa_proxy_cidr_list_new ();
      if (!parse_cidrs (&ctx, "clients", clients, config->clients, error))
        return NULL;
    }

  users_file = get_string (&ctx, "proxy", "users-file");
  if (users_file != NULL && users_file[0] != '\0')
    {
      config->users = esa_proxy_users_load (users_file, &e);
      if (config->users == NULL)
        return config_error (&ctx, error, "proxy", "users-file", users_file, "%s", e->message),
               NULL;
      config->users_file = g_steal_pointer (&users_file);
    }

  if (!get_uint (&ctx, "max-tunnels", 1, 1000000, 1024, &v, "tunnels", error))
    return NULL;
  config->max_tunnels = (guint) v;
  if (!get_uint (&ctx, "idle-timeout", 1, 7 * 86400, 300, &v, "seconds", error))
    return NULL;
  config->idle_timeout = (guint) v;
  if (!get_uint (&ctx, "connect-timeout", 1, 600, 30, &v, "seconds", error))
    return NULL;
  config->connect_timeout = (guint) v;
  /* Short: a request head is one small write; a client that cannot send it in 10 s is
   * broken or holding a slot on purpose. */
  if (!get_uint (&ctx, "header-timeout", 1, 600, 10, &v, "seconds", error))
    return NULL;
  config->header_timeout = (guint) v;
  if (!get_uint (&ctx, "max-pending-per-client", 1, 1000000, 16, &v, "connections", error))
    return NULL;
  config->max_pending_per_client = (guint) v;
  if (!get_uint (&ctx, "shutdown-timeout", 0, 86400, 30, &v, "seconds", error))
    return NULL;
  config->shutdown_timeout = (guint) v;
  if (!get_uint (&ctx, "max-header-size", 512, 1024 * 1024, 8192, &v, "bytes", error))
    return NULL;
  config->max_header_size = (gsize) v;

  access_log = get_string (&ctx, "proxy", "access-log");
  if (access_log != NULL && access_log[0] != '\0' && strcmp (access_log, "-") != 0)
    {
      if (!g_path_is_absolute (access_log))
        return config_error (&ctx, error, "proxy", "access-log", access_log,
                             "expected an absolute path (or - for standard output)"),
               NULL;
      config->access_log = g_steal_pointer (&access_log);
    }

  if (!parse_upstream (&ctx, config, error))
    return NULL;
  return g_steal_pointer (&config);
}

EsaProxyConfig *
esa_proxy_config_ref (EsaProxyConfig *config)
{
  g_atomic_ref_count_inc (&config->refcount);
  return config;
}

void
esa_proxy_config_unref (EsaProxyConfig *config)
{
  if (config == NULL || !g_atomic_ref_count_dec (&config->refcount))
    return;
  for (guint i = 0; config->listen != NULL && i < config->listen->len; i++)
    g_clear_object (&g_array_index (config->listen, EsaProxyListen, i).address);
  g_clear_pointer (&config->listen, g_array_unref);
  g_free (config->path);
  g_free (config->listen_text);
  esa_proxy_allow_list_free (config->allow);
  g_free (config->esa_conf);
  esa_proxy_cidr_list_free (config->allow_private);
  esa_proxy_cidr_list_free (config->clients);
  if (config->users != NULL)
    esa_proxy_users_unref (config->users);
  g_free (config->users_file);
  g_free (config->access_log);
  g_free (config->upstream_host);
  if (config->upstream_auth != NULL)
    memset (config->upstream_auth, 0, strlen (config->upstream_auth));
  g_free (config->upstream_auth);
  g_free (config);
}

gboolean
esa_proxy_config_address_allowed (EsaProxyConfig *config, GInetAddress *address)
{
  if (esa_proxy_address_is_public (address))
    return TRUE;
  if (config->allow_private_all)
    return TRUE;
  return esa_proxy_cidr_list_contains (config->allow_private, address);
}
