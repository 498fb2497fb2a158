/* esactl-private.h: shared state and helpers of the esactl commands. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Exit codes, distinct per kind of failure (like the reference esacli). */
enum {
  ESACTL_EXIT_OK = 0,
  ESACTL_EXIT_FAILED = 1,        /* the call ran and failed */
  ESACTL_EXIT_USAGE = 2,         /* bad command line */
  ESACTL_EXIT_CONFIG = 3,        /* config file invalid */
  ESACTL_EXIT_NOT_RUNNING = 4,   /* esad is not running / socket unreachable */
  ESACTL_EXIT_REFUSED = 5,       /* refused: permissions, vendor, LPAR, not activated */
  ESACTL_EXIT_CONNECTIVITY = 6,  /* no route to the SDC worked */
};

typedef struct _EsactlCommand EsactlCommand;

typedef struct {
  char *config_path;
  gboolean json;
  gboolean quiet;
  gboolean help;                 /* COMMAND --help: show its help, run nothing */
  const EsactlCommand *command;  /* the command being run */
  char **rest;                   /* words left by esactl_parse_options */
  gboolean silent;               /* an optional call: its failure prints nothing */
  char *config_warning;          /* the config file on disk is invalid: why */
} EsactlOptions;

typedef int (*EsactlCommandFunc) (EsactlOptions *opts, int argc, char **argv);

/* A command whose args name options ("--server URL") parses them with
 * esactl_parse_options, which prints them for `esactl COMMAND --help`;
 * main prints the help of every other command itself and runs nothing. */
struct _EsactlCommand {
  const char *group;   /* "plugin", "queue", … or NULL for one-word commands */
  const char *name;
  const char *args;    /* usage text after the command */
  const char *summary;
  EsactlCommandFunc func;
};

/* Calls esad: METHOD /v1/PATH with an optional JSON body; *reply gets the
 * JSON answer. Returns an exit code; on failure prints one line to stderr. */
int   esactl_call       (EsactlOptions *opts, const char *method, const char *path,
                         JsonNode *body, JsonNode **reply);
/* The socket path from the config (or ESA_SOCKET). */
char *esactl_socket_path (EsactlOptions *opts);

/* A failure, said once: "esactl: MESSAGE" on stderr, or under --json
 * {"error": {"code", "message", "exit"}} on stdout. Returns @exit_code. */
int   esactl_fail       (EsactlOptions *opts, int exit_code, const char *code,
                         const char *format, ...) G_GNUC_PRINTF (4, 5);
/* Times for people: ISO 8601 in UTC ("2026-11-26T15:01:11Z"), "-" for none. */
char *esactl_time       (const char *iso);
char *esactl_time_now   (void);
/* Sizes for people: one style everywhere (SI, "1.2 kB"). */
char *esactl_size       (guint64 bytes);
/* Parses a command's own options; FALSE when the command must stop with
 * *exit_code (bad option: 2; --help shown: 0). On TRUE, argc and argv are the
 * words left. */
gboolean esactl_parse_options (EsactlOptions *opts, const char *cmd, int *argc, char ***argv,
                               const GOptionEntry *entries, int *exit_code);
void  esactl_print_command_help  (const EsactlCommand *cmd, const GOptionEntry *entries);
/* A line on stderr saying what a long call is doing and for how long, on a
 * terminal only: NULL (nothing shown) under --json or -q or without a TTY. */
typedef struct _EsactlProgress EsactlProgress;
/* @socket_path: esad's, to show the bytes of a report being sent (NULL: only the time). */
EsactlProgress *esactl_progress_start (EsactlOptions *opts, const char *what, const char *socket_path);
void            esactl_progress_stop  (EsactlProgress *p);
void  esactl_print_global_options (void);

/* Prints @node as pretty JSON to stdout. */
void  esactl_print_json (JsonNode *node);

/* A simple text table: columns sized to content, header underlined. */
typedef struct _EsactlTable EsactlTable;
EsactlTable *esactl_table_new    (const char *first_header, ...) G_GNUC_NULL_TERMINATED;
void         esactl_table_add    (EsactlTable *t, const char *first_cell, ...) G_GNUC_NULL_TERMINATED;
void         esactl_table_print  (EsactlTable *t);
void         esactl_table_free   (EsactlTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsactlTable, esactl_table_free)

/* Helpers for reading JSON answers. */
const char *esactl_str (JsonObject *o, const char *member);

/* Command tables of each file. */
extern const EsactlCommand esactl_core_commands[];
extern const EsactlCommand esactl_connect_commands[];
extern const EsactlCommand esactl_plugin_commands[];
extern const EsactlCommand esactl_identity_commands[];
extern const EsactlCommand esactl_plugin_admin_commands[];

/* esactl-identity.c: status lines about the identity (the partition, a 401). */
void  esactl_print_partition           (JsonObject *platform);
void  esactl_print_credentials_refused (JsonObject *status);
/* "registration pending approval since …" (@pending: status's "registration_pending",
 * info's activation "pending"; NULL prints nothing). */
void  esactl_print_registration_pending (JsonObject *pending, const char *indent);
extern const EsactlCommand esactl_history_commands[];
extern const EsactlCommand esactl_info_commands[];
extern const EsactlCommand esactl_preview_commands[];

/* The plugin records as JSON: from esad, or (esad not running) from the
 * plugin folder's checks, never loading a module. Returns an exit code. */
int   esactl_plugins_json (EsactlOptions *opts, JsonNode **out, gboolean *from_esad);
/* esa.conf's text with @name added to / removed from [plugins] enabled=,
 * every other line as it was; *changed FALSE when nothing had to change. */
char *esactl_conf_set_plugin (const char *text, const char *name, gboolean enable, gboolean *changed);

/* Passes a command esactl doesn't know to esad, where plugins serve it. */
int   esactl_run_plugin_command   (EsactlOptions *opts, int argc, char **argv);
void  esactl_print_plugin_commands (EsactlOptions *opts);

G_END_DECLS
