/* esa-engine.h: the agent itself — config, plugins, dispatcher, queue
 * and sender wired together. esad owns one; tests make their own.
 * Internal to OpenESA (the daemon and the transports): not installed. */
#pragma once

#include <json-glib/json-glib.h>
#include "esa/esa-context.h"
#include "esa/esa-platform.h"
#include "esa-config.h"
#include "esa-dispatcher.h"
#include "esa-queue.h"

G_BEGIN_DECLS

typedef struct _EsaEngine EsaEngine;

/* The sender (esa-sender.c) drains the queue. Called in the main thread
 * whenever a report was queued; it must not block. */
typedef void (*EsaQueueChangedFunc) (EsaEngine *engine, gpointer user_data);
/* The way for plugins to ask the SDC something (esa_context_call_sdc);
 * set by the daemon to a transport's call. Runs in a worker thread. */
typedef gboolean (*EsaCallSdcFunc) (EsaEngine *engine, const char *endpoint, JsonObject *request,
                                    JsonObject **answer, GError **error, gpointer user_data);
/* Adds members to the status document (activation state, sender state). */
typedef void (*EsaStatusExtraFunc) (EsaEngine *engine, JsonBuilder *b, gpointer user_data);

typedef struct {
  char *words;              /* "problem list" */
  char *usage;
  char *summary;
  EsaContext *ctx;
  EsaCommandFunc func;
  gpointer user_data;
} EsaCommand;

/* Takes @config. Creates the state folders, opens the spool, reads the platform. */
EsaEngine *esa_engine_new          (EsaConfig *config, GError **error);
void       esa_engine_free         (EsaEngine *self);
/* Scans the plugin folder and initialises the enabled plugins; every
 * refusal is kept in ->plugins with its reason. */
void       esa_engine_load_plugins (EsaEngine *self);
void       esa_engine_start        (EsaEngine *self);
/* Cancels the running jobs (their commands are killed) and wakes jobs
 * waiting for a delivery; then call esa_engine_wait_jobs () before freeing. */
void       esa_engine_stop         (EsaEngine *self);
/* Runs the main context until every job run has ended, at most @timeout_s;
 * FALSE when some still run (then esa_engine_free () must not be called:
 * their threads use the engine, the contexts and the plugins' state). */
gboolean   esa_engine_wait_jobs    (EsaEngine *self, guint timeout_s);
/* Swaps in a new config for what can change live (sender, schedules stay). */
void       esa_engine_set_config   (EsaEngine *self, EsaConfig *config);
/* A reference to the current config, safe in any thread (SIGHUP may swap
 * and free ->config at any time); release it with esa_config_unref (). */
EsaConfig *esa_engine_ref_config   (EsaEngine *self);
gboolean   esa_engine_submit       (EsaEngine *self, EsaReport *report, GError **error);
/* Calls the owning plugin's delivered callback and wakes anyone waiting for
 * that report (main thread). */
void       esa_engine_report_delivered (EsaEngine *self, const char *plugin, const char *uuid,
                                        const char *kind, JsonObject *answer);
/* A send attempt failed: @final when the SDC rejected it (in failed/). */
void       esa_engine_report_not_delivered (EsaEngine *self, const char *uuid, const char *reason,
                                            gboolean final);
/* Waits for a report's delivery (worker threads only; see esa_context_submit_and_wait). */
gboolean   esa_engine_submit_and_wait  (EsaEngine *self, EsaReport *report, guint timeout_s,
                                        JsonObject **answer, GError **error);
/* The plugin command matching the longest prefix of @words, and how many words it took. */
EsaCommand *esa_engine_find_command    (EsaEngine *self, const char *const *words, guint *n_words);
/* Status document for `esactl status`. */
JsonNode  *esa_engine_status_to_json (EsaEngine *self);


/* The current config (main thread only: a SIGHUP swaps it; worker threads
 * use esa_engine_ref_config ()). */
EsaConfig *esa_engine_get_config     (EsaEngine *self);
EsaQueue  *esa_engine_get_queue      (EsaEngine *self);
EsaDispatcher *esa_engine_get_dispatcher (EsaEngine *self);
const EsaPlatform *esa_engine_get_platform (EsaEngine *self);
/* EsaPluginRecord* from the last scan (esa-plugin-loader.h). */
GPtrArray *esa_engine_get_plugins    (EsaEngine *self);
/* EsaCommand*: the esactl commands the plugins registered. */
GPtrArray *esa_engine_get_commands   (EsaEngine *self);
/* Hooks for what lives outside libesa (one each; NULL removes it). */
void       esa_engine_set_status_extra (EsaEngine *self, EsaStatusExtraFunc func, gpointer user_data);
void       esa_engine_set_call_sdc     (EsaEngine *self, EsaCallSdcFunc func, gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaEngine, esa_engine_free)

G_END_DECLS
