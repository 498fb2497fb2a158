/* esa-engine-private.h: the agent itself — config, plugins, dispatcher, queue
 * and sender wired together. esad owns one; tests make their own. */
#pragma once

#include "esa-config-private.h"
#include "esa-context-private.h"
#include "esa-dispatcher-private.h"
#include "esa-queue-private.h"

G_BEGIN_DECLS

/* A sender drains the queue (transports/). Called in the main thread whenever
 * a report was queued; it must not block. */
typedef void (*EsaQueueChangedFunc) (EsaEngine *engine, gpointer user_data);
/* The sender's way for plugins to ask the SDC something (esa_context_call_sdc). */
typedef gboolean (*EsaCallSdcFunc) (EsaEngine *engine, const char *endpoint, JsonObject *request,
                                    JsonObject **answer, GError **error, gpointer user_data);
/* Adds members to the status document (activation state, sender state). */
typedef void (*EsaStatusExtraFunc) (EsaEngine *engine, JsonBuilder *b, gpointer user_data);

struct _EsaEngine {
  EsaConfig *config;        /* main thread only; workers use esa_engine_ref_config () */
  GMutex config_lock;       /* guards the swap of ->config against worker threads */
  EsaQueue *queue;
  EsaPlatform *platform;
  EsaDispatcher *dispatcher;
  GPtrArray *plugins;   /* EsaPluginRecord* from the scan */
  GPtrArray *contexts;  /* EsaContext*, one per initialised plugin */
  GDateTime *started;
  GMainContext *main_context;
  EsaQueueChangedFunc queue_changed;
  gpointer queue_changed_data;
  EsaStatusExtraFunc status_extra;
  gpointer status_extra_data;
  EsaCallSdcFunc call_sdc;
  gpointer call_sdc_data;
  GPtrArray *commands;      /* EsaCommand*: esactl commands of plugins */
  GMutex waiters_lock;
  GHashTable *waiters;      /* uuid -> EsaDeliveryWaiter* (submit_and_wait) */
  gboolean stopping;        /* under waiters_lock: esa_engine_stop () ran, nobody waits any more */
};

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
void       esa_engine_stop         (EsaEngine *self);
/* Swaps in a new config for what can change live (sender, schedules stay). */
void       esa_engine_set_config   (EsaEngine *self, EsaConfig *config);
/* A reference to the current config, safe in any thread (SIGHUP may swap
 * and free ->config at any time); release it with esa_config_free (). */
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaEngine, esa_engine_free)

G_END_DECLS
