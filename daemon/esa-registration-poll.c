/* esa-registration-poll.c: a pending registration, asked again by esad with
 * backoff (see esa-registration-poll-private.h). Attempts run in a worker
 * thread; the timer and the state live on the main thread. */
#include "config.h"

#include "esa-registration-poll-private.h"
#include "esa-identity-routes-private.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <stdlib.h>

/* 1 min, doubling to 1 h: the SDC's admin may take a day, a polling agent
 * must not load the SDC meanwhile. */
#define ESA_REGISTRATION_POLL_MIN_MS (60 * 1000)
#define ESA_REGISTRATION_POLL_MAX_MS (3600 * 1000)

struct _EsaRegistrationPoll {
  EsaEngine *engine;
  EsaSender *sender;
  GCancellable *cancellable;
  guint timer_id;
  guint64 min_ms, max_ms;
  guint64 wait_ms;  /* the next wait */
  gboolean running; /* an attempt in a worker thread */
  gboolean again;   /* update () while it ran: start over when it ends */
};

typedef enum {
  ATTEMPT_GONE,     /* nothing pending any more (activated by hand, deactivated) */
  ATTEMPT_PENDING,  /* still waiting for the admin */
  ATTEMPT_RETRY,    /* the SDC could not be reached */
  ATTEMPT_ACTIVATED,
  ATTEMPT_STOPPED,  /* the SDC refused it: asking again would not change that */
} AttemptResult;

static EsaRegistrationPoll *
poll_ref (EsaRegistrationPoll *self)
{
  return g_rc_box_acquire (self);
}

static void
poll_clear (EsaRegistrationPoll *self)
{
  g_clear_object (&self->cancellable);
}

static void
poll_unref (EsaRegistrationPoll *self)
{
  g_rc_box_release_full (self, (GDestroyNotify) poll_clear);
}

EsaRegistrationPoll *
esa_registration_poll_new (EsaEngine *engine, EsaSender *sender)
{
  EsaRegistrationPoll *self = g_rc_box_new0 (EsaRegistrationPoll);
  self->engine = engine;
  self->sender = sender;
  self->cancellable = g_cancellable_new ();
  self->min_ms = ESA_REGISTRATION_POLL_MIN_MS;
  self->max_ms = ESA_REGISTRATION_POLL_MAX_MS;
#ifdef ESA_ENABLE_TEST_HOOKS
  {
    /* ESA_FAKE_REGISTRATION_POLL_MS: the first wait (the last is 60 times it) */
    const char *env = g_getenv ("ESA_FAKE_REGISTRATION_POLL_MS");
    if (env != NULL && strtoull (env, NULL, 10) > 0)
      {
        self->min_ms = strtoull (env, NULL, 10);
        self->max_ms = self->min_ms * 60;
      }
  }
#endif
  self->wait_ms = self->min_ms;
  return self;
}

void
esa_registration_poll_free (EsaRegistrationPoll *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  if (self->timer_id != 0)
    g_source_remove (self->timer_id);
  self->timer_id = 0;
  /* an attempt in flight holds its own reference and sees the cancellation */
  poll_unref (self);
}

static void
attempt_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EsaRegistrationPoll *self = task_data;
  g_autoptr (EsaConfig) config = esa_engine_ref_config (self->engine); /* worker thread: SIGHUP may swap it */
  const char *state_dir = esa_config_get_state_dir (config);
  g_autoptr (JsonObject) pending = esa_identity_pending_load (state_dir);
  g_autoptr (JsonNode) req = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *still = NULL;
  JsonObject *activation;
  const char *server;
  EsaDelivery d = { 0 };
  AttemptResult result;

  if (pending == NULL || esa_json_peek_string (pending, "stopped") != NULL ||
      esa_json_peek_object (pending, "request") == NULL)
    {
      g_task_return_int (task, ATTEMPT_GONE);
      return;
    }
  /* the same request, the same uuid: the SDC knows it as REG-… */
  req = json_node_copy (json_object_get_member (pending, "request"));
  activation = esa_json_peek_object (pending, "activation");
  server = esa_json_peek_string (pending, "server");
  esa_identity_register (config, state_dir, server != NULL && *server != '\0' ? server : NULL,
                         json_node_get_object (req), activation, cancellable, &d, &still);
  if (d.outcome == ESA_OUTCOME_OK && still != NULL)
    result = ATTEMPT_PENDING;
  else if (d.outcome == ESA_OUTCOME_OK)
    {
      g_autoptr (JsonNode) done = esa_identity_accept (state_dir, activation, &d, &error);
      if (done != NULL)
        {
          g_message ("registration %s approved by the SDC's admin", esa_json_peek_string (pending, "registration"));
          result = ATTEMPT_ACTIVATED;
        }
      else
        {
          g_autofree char *why = g_strdup_printf ("the SDC's answer could not be used: %s", error->message);
          g_warning ("registration %s: %s", esa_json_peek_string (pending, "registration"), why);
          esa_identity_pending_stop (state_dir, why);
          result = ATTEMPT_STOPPED;
        }
    }
  else if (d.outcome == ESA_OUTCOME_REJECTED)
    {
      g_autofree char *why = g_strdup_printf ("refused by the SDC: %s; run esactl activate", d.message);
      g_warning ("registration %s %s", esa_json_peek_string (pending, "registration"), why);
      esa_identity_pending_stop (state_dir, why);
      result = ATTEMPT_STOPPED;
    }
  else
    {
      g_info ("registration %s: the SDC could not be reached, asking again later: %s",
              esa_json_peek_string (pending, "registration"), d.message);
      result = ATTEMPT_RETRY;
    }
  esa_delivery_clear (&d);
  g_task_return_int (task, result);
}

static void arm (EsaRegistrationPoll *self);

static void
drained (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) seen = esa_sender_drain_finish (user_data, res, &error);
  if (seen == NULL)
    g_warning ("sending the queue after the approval: %s", error->message);
}

static void
attempt_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  EsaRegistrationPoll *self = g_task_get_task_data (G_TASK (res));
  AttemptResult result = (AttemptResult) g_task_propagate_int (G_TASK (res), NULL);
  self->running = FALSE;
  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  if (result == ATTEMPT_ACTIVATED)
    /* what waited for the credentials goes out now, whatever its backoff
     * (a report refused with 401 waits for its next retry otherwise) */
    esa_sender_drain_async (self->sender, drained, self->sender);
  if (self->again)
    {
      self->again = FALSE;
      esa_registration_poll_update (self);
      return;
    }
  if (result == ATTEMPT_PENDING || result == ATTEMPT_RETRY)
    {
      self->wait_ms = MIN (self->wait_ms * 2, self->max_ms);
      arm (self);
    }
}

static gboolean
on_timer (gpointer user_data)
{
  EsaRegistrationPoll *self = user_data;
  g_autoptr (GTask) task = g_task_new (NULL, self->cancellable, attempt_done, NULL);
  self->timer_id = 0;
  self->running = TRUE;
  g_task_set_task_data (task, poll_ref (self), (GDestroyNotify) poll_unref);
  g_task_set_name (task, "registration-poll");
  g_task_run_in_thread (task, attempt_thread);
  return G_SOURCE_REMOVE;
}

static void
arm (EsaRegistrationPoll *self)
{
  if (self->timer_id != 0)
    g_source_remove (self->timer_id);
  self->timer_id = g_timeout_add ((guint) self->wait_ms, on_timer, self);
}

void
esa_registration_poll_update (EsaRegistrationPoll *self)
{
  EsaConfig *config = esa_engine_get_config (self->engine);
  g_autoptr (JsonObject) pending = esa_identity_pending_load (esa_config_get_state_dir (config));
  if (self->running)
    {
      self->again = TRUE;
      return;
    }
  if (self->timer_id != 0)
    g_source_remove (self->timer_id);
  self->timer_id = 0;
  self->wait_ms = self->min_ms;
  if (pending != NULL && esa_json_peek_string (pending, "stopped") == NULL)
    arm (self);
}
