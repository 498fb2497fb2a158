/* esa-config.h: esa.conf, loaded and validated in one place. The struct is
 * libesa's own (esa-config-private.h); the daemon, the CLI and the transports
 * read it through these accessors. Internal to OpenESA: not installed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ESA_MAX_PROXIES 3

typedef struct _EsaConfig EsaConfig;

EsaConfig *esa_config_new_default (void);
/* Loads and validates @path. Errors: ESA_ERROR_INVALID_CONFIG (or NOT_FOUND),
 * message "FILE:LINE: [group] key: "value": problem (expected …)" — one
 * such line per problem found, joined by "\n" (every error, not the first).
 * Only regular files of at most 1 MiB are read. */
EsaConfig *esa_config_load        (const char *path, GError **error);
/* The control socket a config at @path names, read as leniently as possible
 * (for esactl, to reach a running esad while the file on disk is broken):
 * [agent] socket=, else <state-dir>/run/esad.sock, else the default. */
char      *esa_config_guess_socket_path (const char *path);
/* Configs are shared with the sender thread across a SIGHUP: refcounted. */
EsaConfig *esa_config_ref         (EsaConfig *self);
void       esa_config_unref        (EsaConfig *self); /* drops one reference */

/* [job.NAME] schedule= / splay= / enabled=, already validated at load. */
char      *esa_config_get_job_schedule (EsaConfig *self, const char *job, const char *fallback);
guint64    esa_config_get_job_splay    (EsaConfig *self, const char *job, guint64 fallback_s);
gboolean   esa_config_get_job_enabled  (EsaConfig *self, const char *job);
gboolean   esa_config_plugin_enabled   (EsaConfig *self, const char *plugin);

/* "FILE:LINE: [group] key" for error messages about a value read later (plugins). */
char      *esa_config_describe_key     (EsaConfig *self, const char *group, const char *key);


/* Accessors: the returned strings and arrays belong to the config. */
const char        *esa_config_get_path          (EsaConfig *self);
/* char*: unknown groups/keys, each naming file:line. */
GPtrArray         *esa_config_get_warnings      (EsaConfig *self);
const char        *esa_config_get_state_dir     (EsaConfig *self);
const char        *esa_config_get_socket_path   (EsaConfig *self);
const char        *esa_config_get_plugin_dir    (EsaConfig *self);
const char        *esa_config_get_pid_file      (EsaConfig *self);
const char        *esa_config_get_log_level     (EsaConfig *self);
const char        *esa_config_get_control_group (EsaConfig *self);
const char *const *esa_config_get_enabled_plugins (EsaConfig *self);
/* [sdc] */
const char *const *esa_config_get_servers       (EsaConfig *self);
const char        *esa_config_get_config_url    (EsaConfig *self);
const char        *esa_config_get_ca_file       (EsaConfig *self);
guint64            esa_config_get_timeout       (EsaConfig *self);
gboolean           esa_config_get_direct        (EsaConfig *self);
/* [proxy.N], 0-based over the configured ones; any out parameter may be NULL. */
guint              esa_config_get_n_proxies     (EsaConfig *self);
void               esa_config_get_proxy         (EsaConfig *self, guint index, const char **url,
                                                 const char **user, const char **password_file);
/* [activation] */
const char *const *esa_config_get_vendors       (EsaConfig *self);
const char        *esa_config_get_contact_name  (EsaConfig *self);
const char        *esa_config_get_contact_email (EsaConfig *self);
const char        *esa_config_get_contact_phone (EsaConfig *self);
/* [queue] */
guint64            esa_config_get_backoff_min   (EsaConfig *self);
guint64            esa_config_get_backoff_max   (EsaConfig *self);
/* [transport] */
const char        *esa_config_get_transport     (EsaConfig *self);
const char        *esa_config_get_outbox        (EsaConfig *self);
/* Reports in flight at once (default 4; transports that cannot, 1). */
guint              esa_config_get_parallel      (EsaConfig *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaConfig, esa_config_unref)

G_END_DECLS
