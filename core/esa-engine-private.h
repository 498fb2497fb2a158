/* esa-engine-private.h: the fields of EsaEngine, for libesa itself (the
 * engine, the contexts, the sender). The daemon uses esa-engine.h. */
#pragma once

#include "esa-engine.h"
#include "esa-config-private.h"
#include "esa-context-private.h"

G_BEGIN_DECLS

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

G_END_DECLS
