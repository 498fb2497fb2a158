/* esa-config-private.h: the fields of EsaConfig, for esa-config.c and the
 * rest of libesa; everything outside core/ goes through the accessors of
 * esa-config.h. */
#pragma once

#include "esa-config.h"

G_BEGIN_DECLS

typedef struct {
  char *url;            /* http://host:port */
  char *user;           /* NULL: no proxy authentication */
  char *password_file;  /* absolute */
} EsaConfigProxy;

struct _EsaConfig {
  gint ref;             /* esa_config_ref / esa_config_unref */
  char *path;           /* the file this came from (NULL: built-in defaults) */
  GKeyFile *keyfile;    /* kept for plugin groups and esa_context_get_global () */
  char *raw;            /* file text, to point errors at line numbers */

  /* [agent] */
  char *state_dir;
  char *socket_path;
  char *plugin_dir;
  char *pid_file;       /* NULL: none */
  char *log_level;      /* error|warning|message|info|debug */
  char *control_group;  /* group allowed on the control socket (default "esa") */

  /* [plugins] */
  char **enabled_plugins;

  /* [sdc] */
  char **servers;       /* https:// URLs, primary first */
  char *config_url;     /* http(s):// URL for the configuration fallback, or NULL */
  char *ca_file;        /* absolute, or NULL for the system store */
  guint64 timeout_s;

  /* [proxy.1] .. [proxy.3], in order, only those configured */
  EsaConfigProxy proxies[ESA_MAX_PROXIES];
  guint n_proxies;
  gboolean direct;      /* [sdc] direct=: try without proxy after the proxies */

  /* [activation] */
  char **vendors;       /* "*" allows any */
  char *contact_name;
  char *contact_email;
  char *contact_phone;

  /* [queue] */
  guint64 backoff_min_s;
  guint64 backoff_max_s;

  /* [transport] */
  char *transport;      /* "https" or "file" */
  char *outbox;         /* for the file transport */
  guint parallel;       /* reports in flight at once (1..64) */

  GPtrArray *warnings;  /* char*: unknown groups/keys, each naming file:line */
  GPtrArray *errors;    /* char*: every problem found while loading, one line each */
};

G_END_DECLS
