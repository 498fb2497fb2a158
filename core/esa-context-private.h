/* esa-context-private.h: the core's side of EsaContext (one per plugin). */
#pragma once

#include "esa/esa-context.h"
#include "esa-plugin-loader.h"
#include "esa-config.h"

G_BEGIN_DECLS

typedef struct _EsaEngine EsaEngine;

struct _EsaContext {
  EsaEngine *engine;
  EsaPluginRecord *record; /* NULL for the core's own context */
  char *name;
  char *state_dir;
  char *temp_dir;
  gboolean in_init;        /* jobs may be added only during init */
  EsaDeliveredFunc delivered;
  gpointer delivered_data;
  GHashTable *job_schedules; /* job name -> the plugin's own schedule (before [job.NAME]) */
  GHashTable *job_splays;    /* job name -> the plugin's own splay, seconds (gsize) */
};

EsaContext *esa_context_new  (EsaEngine *engine, EsaPluginRecord *record, const char *name);
void        esa_context_free (EsaContext *ctx);
/* SIGHUP: applies [job.NAME] schedule= / splay= / enabled= of @config to the
 * plugin's jobs (main thread). */
void        esa_context_apply_config (EsaContext *ctx, EsaConfig *config);

G_END_DECLS
