/* esa-config-private.h: esa.conf, loaded and validated in one place. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ESA_MAX_PROXIES 3

typedef struct {
  char *url;            /* http://host:port */
  char *user;           /* NULL: no proxy authentication */
  char *password_file;  /* absolute */
} EsaProxyConfig;

typedef struct {
  gint ref;             /* esa_config_ref / esa_config_free (= unref) */
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
  EsaProxyConfig proxies[ESA_MAX_PROXIES];
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

  GPtrArray *warnings;  /* char*: unknown groups/keys, each naming file:line */
} EsaConfig;

EsaConfig *esa_config_new_default (void);
/* Loads and validates @path. Errors: ESA_ERROR_INVALID_CONFIG (or NOT_FOUND),
 * message "FILE:LINE: [group] key: "value": problem (expected …)". */
EsaConfig *esa_config_load        (const char *path, GError **error);
/* Configs are shared with the sender thread across a SIGHUP: refcounted. */
EsaConfig *esa_config_ref         (EsaConfig *self);
void       esa_config_free        (EsaConfig *self); /* drops one reference */

/* [job.NAME] schedule= / splay= / enabled=, already validated at load. */
char      *esa_config_get_job_schedule (EsaConfig *self, const char *job, const char *fallback);
guint64    esa_config_get_job_splay    (EsaConfig *self, const char *job, guint64 fallback_s);
gboolean   esa_config_get_job_enabled  (EsaConfig *self, const char *job);
gboolean   esa_config_plugin_enabled   (EsaConfig *self, const char *plugin);

/* "FILE:LINE: [group] key" for error messages about a value read later (plugins). */
char      *esa_config_describe_key     (EsaConfig *self, const char *group, const char *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaConfig, esa_config_free)

G_END_DECLS
