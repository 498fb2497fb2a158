/* snap-job.h: extended error data for a reported problem — collect (AIX
 * `snap -g -c`, or the Linux collector), cap, and queue it as a report of
 * kind extended-data whose parent is the problem. */
#pragma once

#include <esa/esa-plugin.h>

#include "snap-tokens.h"

G_BEGIN_DECLS

#define SNAP_DEFAULT_MAX_SIZE (64 * 1024 * 1024)
#define SNAP_DEFAULT_TIMEOUT  (60 * 60) /* s: snap -g on a big AIX box takes long */
#define SNAP_DEFAULT_CONFIG_FILES "/etc/esa/esa.conf;/etc/fstab;/etc/hosts;/etc/resolv.conf;/etc/multipath.conf"

typedef struct {
  EsaContext *ctx;
  guint64 max_size;
  guint64 timeout_s;
  char **config_files;
  char *sysroot;
  SnapTokens *tokens;  /* <state-dir>/plugins/snap/redaction-map.json, never sent */
} SnapPlugin;

#define SNAP_REDACTION_MAP "redaction-map.json"

SnapPlugin *snap_plugin_new  (EsaContext *ctx, GError **error);
void        snap_plugin_free (SnapPlugin *self);

/* The problem-reported event ({uuid, resource, test}): collects and queues.
 * The private temp folder is gone when this returns, whatever happened. */
char       *snap_run_for_problem (SnapPlugin *self, JsonObject *event, GCancellable *cancellable,
                                  GError **error);

/* Removes a folder tree without following symlinks. */
gboolean    snap_rmtree (const char *path, GError **error);

G_END_DECLS
