/* esa-sender.c: the queue's way out. One pass at a time runs in a worker
 * thread: each due report goes through the transport the config names
 * (esa-transport.h: https, file …); success removes it, a rejection moves it
 * to failed/ with the receiver's message, anything else keeps it with a
 * backoff. Nothing leaves the queue except by delivery or rejection.
 *
 * Up to [transport] parallel= reports are in flight at once, each in its own
 * thread ("lane") of the pass: one at a time, the pass would go no faster
 * than one durable acknowledgement after another, while an SDC that commits
 * in groups stores four arriving together for about the price of one. Lanes
 * take reports from one walk of the queue, in its order; each report leaves
 * the queue on its own answer only, and the first failure that stops a pass
 * stops every lane from starting another.
 *
 * Where the transport can (esa_transport_batch_max), a lane takes up to that
 * many consecutive due reports without attachments and sends them in one
 * request: the per-request costs (TLS records, HTTP machinery, wakeups on
 * both sides) are paid once for all of them, while each report still has
 * its own result, history record and removal, as if it had gone alone. */
#include "config.h"

#include "esa-sender.h"
#include "esa-engine-private.h"
#include "esa-transport.h"
#include "esa-history.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <math.h>

struct _EsaSender {
  EsaEngine *engine;
  gboolean running;
  gboolean again;          /* a kick arrived during a pass */
  GPtrArray *waiters;      /* GTask*: drain_async callers of the next pass */
  GPtrArray *current;      /* GTask*: callers of the pass in progress */
  guint timer_id;
  GCancellable *cancellable;
  gboolean warned_not_activated;
  GHashTable *clamped;     /* uuid -> gint64*: retry time given to a report whose own was too far */
  GMainContext *context;   /* the main loop's, where passes report */
  GMutex pieces_lock;      /* the two below */
  GPtrArray *pieces;       /* Piece*: records handed over by the pass in progress */
  GSource *pieces_source;  /* the idle that takes them, when one is pending */
  guint64 merge_steps;     /* records visited merging pieces for callers (esa_sender_merge_steps) */
};

/* What a pass learnt about some reports (delivered and failed records),
 * handed to the main loop while the pass goes on: plugins and waiting
 * callers hear of a report soon after its answer, and a drain of 100,000
 * reports does not keep a record of each (~2 KiB) until it ends. */
typedef struct {
  JsonArray *delivered;
  JsonArray *failed;
} Piece;

/* Records a pass keeps before handing them over. */
#define PIECE_RECORDS 64

static void
piece_free (Piece *piece)
{
  json_array_unref (piece->delivered);
  json_array_unref (piece->failed);
  g_free (piece);
}

typedef struct {
  EsaEngine *engine;
  EsaSender *sender;
  EsaConfig *config;
  EsaQueue *queue;
  JsonArray *delivered;    /* {uuid, kind, plugin, answer, route} */
  JsonArray *failed;       /* {uuid, kind, reason, final} */
  char *message;
  gint64 next_due;         /* unix seconds of the earliest retry, 0 = none */
  gboolean not_activated;
  gboolean force;          /* someone asked (esactl queue send …): backoff does not apply */
  GHashTable *clamped;     /* the sender's; only the pass in progress touches it */
  GMutex lock;             /* the lanes share the results above and the walk below */
  EsaTransport *transport;
  GCancellable *cancellable;
  GPtrArray *batch;        /* EsaQueueEntry*: the piece of the queue being walked */
  guint next;              /* its next entry */
  EsaQueueEntry *cursor;   /* the last entry of the previous piece */
  gint64 now;
  gboolean stop;           /* no lane starts another send */
} Pass;

static void
pass_free (Pass *p)
{
  esa_config_unref (p->config);
  json_array_unref (p->delivered);
  json_array_unref (p->failed);
  g_free (p->message);
  g_clear_pointer (&p->batch, g_ptr_array_unref);
  g_clear_pointer (&p->cursor, esa_queue_entry_free);
  g_mutex_clear (&p->lock);
  g_free (p);
}

guint64
esa_sender_backoff (guint attempts, guint64 min_s, guint64 max_s, double random01)
{
  double delay = (double) min_s * pow (2.0, MIN (attempts, 40));
  if (delay > (double) max_s)
    delay = (double) max_s;
  /* ±25 % so a fleet that lost the SDC together does not come back together. */
  delay *= 0.75 + 0.5 * random01;
  return MAX ((guint64) 1, (guint64) delay);
}

static gboolean take_pieces (gpointer user_data);

/* Hands the records gathered so far to the main loop once there are
 * PIECE_RECORDS of them (or, @all, any). Called with p->lock held. */
static void
hand_over_locked (Pass *p, gboolean all)
{
  EsaSender *self = p->sender;
  Piece *piece;
  guint n = json_array_get_length (p->delivered) + json_array_get_length (p->failed);
  if (n == 0 || (!all && n < PIECE_RECORDS))
    return;
  piece = g_new0 (Piece, 1);
  piece->delivered = g_steal_pointer (&p->delivered);
  piece->failed = g_steal_pointer (&p->failed);
  p->delivered = json_array_new ();
  p->failed = json_array_new ();
  g_mutex_lock (&self->pieces_lock);
  g_ptr_array_add (self->pieces, piece);
  if (self->pieces_source == NULL)
    {
      self->pieces_source = g_idle_source_new ();
      g_source_set_callback (self->pieces_source, take_pieces, self, NULL);
      g_source_set_name (self->pieces_source, "esa-sender-pieces");
      g_source_attach (self->pieces_source, self->context);
    }
  g_mutex_unlock (&self->pieces_lock);
}

/* Called with p->lock held. */
static void
record_failure_locked (Pass *p, EsaQueueEntry *e, const char *reason, gboolean final)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "uuid", e->uuid);
  json_object_set_string_member (o, "kind", e->kind);
  json_object_set_string_member (o, "reason", reason);
  json_object_set_boolean_member (o, "final", final);
  json_array_add_object_element (p->failed, o);
  hand_over_locked (p, FALSE);
}

static void
record_failure (Pass *p, EsaQueueEntry *e, const char *reason, gboolean final)
{
  g_mutex_lock (&p->lock);
  record_failure_locked (p, e, reason, final);
  g_mutex_unlock (&p->lock);
}

static void
reschedule (Pass *p, EsaQueueEntry *e, const char *reason)
{
  g_autoptr (GError) error = NULL;
  guint64 delay = esa_sender_backoff (e->attempts, p->config->backoff_min_s, p->config->backoff_max_s,
                                      g_random_double ());
  gint64 next = g_get_real_time () / G_USEC_PER_SEC + (gint64) delay;
  if (!esa_queue_reschedule (p->queue, e->uuid, reason, next, &error))
    g_warning ("spool: %s", error->message);
  g_mutex_lock (&p->lock);
  if (p->next_due == 0 || next < p->next_due)
    p->next_due = next;
  record_failure_locked (p, e, reason, FALSE);
  g_mutex_unlock (&p->lock);
}

/* What the transport said of @report (@e's): the history first, then the
 * spool (removed only once its answer is in the history's hands), then the
 * records. Returns FALSE when the rest of the pass is pointless (no route
 * works). The same for a report sent alone and one of a batch; @settled: a
 * delivered report of a batch, already in the history and removed
 * (settle_delivered). */
static gboolean
handle_result (Pass *p, EsaQueueEntry *e, EsaReport *report, EsaTransportResult *r, gboolean settled)
{
  g_autoptr (GError) error = NULL;
  EsaTransportResult d = *r;
  gboolean go_on = TRUE;

  if (!settled)
    esa_history_note (p->config, report, esa_config_get_transport (p->config), &d);

  switch (d.outcome)
    {
    case ESA_TRANSPORT_SENT:
      {
        JsonObject *o = json_object_new ();
        if (!settled && !esa_queue_remove (p->queue, e->uuid, &error))
          g_warning ("spool: %s", error->message);
        g_info ("delivered %s %s: %s", e->kind, e->uuid, d.message);
        json_object_set_string_member (o, "uuid", e->uuid);
        json_object_set_string_member (o, "kind", e->kind);
        json_object_set_string_member (o, "plugin", e->plugin);
        json_object_set_string_member (o, "route", d.message);
        if (d.answer != NULL)
          json_object_set_member (o, "answer", json_node_copy (d.answer));
        g_mutex_lock (&p->lock);
        json_array_add_object_element (p->delivered, o);
        hand_over_locked (p, FALSE);
        g_mutex_unlock (&p->lock);
      }
      break;
    case ESA_TRANSPORT_REJECTED:
      g_warning ("the SDC rejected %s %s: %s", e->kind, e->uuid, d.message);
      if (!esa_queue_fail (p->queue, e->uuid, d.message, &error))
        g_warning ("spool: %s", error->message);
      record_failure (p, e, d.message, TRUE);
      break;
    case ESA_TRANSPORT_AUTH:
      g_warning ("cannot send %s %s: %s", e->kind, e->uuid, d.message);
      reschedule (p, e, d.message);
      go_on = FALSE;
      break;
    case ESA_TRANSPORT_RETRY:
    default:
      /* The transport already said why (it knows the routes it tried). */
      reschedule (p, e, d.message);
      go_on = FALSE;
      break;
    }
  esa_transport_result_clear (r);
  return go_on;
}

/* @report is @e's, loaded by the lane. */
static gboolean
send_one (Pass *p, EsaQueueEntry *e, EsaReport *report)
{
  EsaTransportResult d = { 0 };
  esa_transport_send (p->transport, report, p->cancellable, &d);
  return handle_result (p, e, report, &d, FALSE);
}

/* A batch's delivered reports: each in the history first, then all removed
 * from the spool with one folder fsync begun after the last unlink. Each
 * removal is as durable as one alone before any is reported done, and a
 * batch of 32 waits for one fsync instead of 32 in turn (issue 13). */
static void
settle_delivered (Pass *p, GPtrArray *entries, GPtrArray *reports, EsaTransportResult *results)
{
  g_autoptr (GPtrArray) uuids = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  for (guint i = 0; i < reports->len; i++)
    {
      EsaReport *report = g_ptr_array_index (reports, i);
      if (results[i].outcome != ESA_TRANSPORT_SENT)
        continue;
      esa_history_note (p->config, report, esa_config_get_transport (p->config), &results[i]);
      g_ptr_array_add (uuids, ((EsaQueueEntry *) g_ptr_array_index (entries, i))->uuid);
    }
  if (uuids->len > 0 && !esa_queue_remove_many (p->queue, (const char *const *) uuids->pdata, uuids->len, &error))
    g_warning ("spool: %s", error->message);
}

/* @reports (EsaReport*, none with attachments) in one request, each then
 * handled on its own result exactly as if it had gone alone. @entries are
 * theirs. */
static gboolean
send_batch (Pass *p, GPtrArray *entries, GPtrArray *reports)
{
  g_autofree EsaTransportResult *results = g_new0 (EsaTransportResult, reports->len);
  gboolean go_on = TRUE;
  esa_transport_send_batch (p->transport, (EsaReport *const *) reports->pdata, reports->len, p->cancellable,
                            results);
  settle_delivered (p, entries, reports, results);
  for (guint i = 0; i < reports->len; i++)
    {
      /* not tried: an earlier report's failure stopped the batch; it stays as it is */
      if (results[i].outcome == ESA_TRANSPORT_UNTRIED)
        {
          esa_transport_result_clear (&results[i]);
          continue;
        }
      if (!handle_result (p, g_ptr_array_index (entries, i), g_ptr_array_index (reports, i), &results[i],
                          results[i].outcome == ESA_TRANSPORT_SENT))
        go_on = FALSE;
    }
  return go_on;
}

/* A retry time is never further away than backoff-max: one written while
 * the clock was wrong (a year ahead, then corrected) would otherwise hold
 * the report for that long. The first pass that sees it gives it now +
 * backoff-max and remembers that, so later passes do not push it on again;
 * the spool keeps its value until the next attempt rewrites it. Called with
 * p->lock held. */
static gint64
clamp_next_attempt (Pass *p, EsaQueueEntry *e, gint64 now)
{
  gint64 cap = now + (gint64) MIN (p->config->backoff_max_s, (guint64) G_MAXINT32);
  gint64 *held;
  if (e->next_attempt <= cap)
    {
      g_hash_table_remove (p->clamped, e->uuid);
      return e->next_attempt;
    }
  held = g_hash_table_lookup (p->clamped, e->uuid);
  if (held == NULL)
    {
      g_autoptr (GDateTime) far = g_date_time_new_from_unix_utc (e->next_attempt);
      g_autofree char *far_text = far != NULL ? g_date_time_format_iso8601 (far) : g_strdup ("?");
      g_message ("report %s: next attempt %s is further away than backoff-max (the clock went back?); "
                 "retrying within %" G_GUINT64_FORMAT " s", e->uuid, far_text, p->config->backoff_max_s);
      held = g_new (gint64, 1);
      *held = cap;
      g_hash_table_insert (p->clamped, g_strdup (e->uuid), held);
    }
  *held = MIN (*held, cap);
  return *held;
}

/* The queue is walked in pieces from its index: a pass over 100,000 reports
 * never holds them all in memory nor reads a file it does not send. */
#define PASS_BATCH 256

/* A copy of what a lane needs of @e: the piece it came from may be freed
 * (another lane walks on) while the report is in flight. */
static EsaQueueEntry *
entry_copy (const EsaQueueEntry *e)
{
  EsaQueueEntry *c = g_new0 (EsaQueueEntry, 1);
  c->uuid = g_strdup (e->uuid);
  c->kind = g_strdup (e->kind);
  c->plugin = g_strdup (e->plugin);
  c->created = g_strdup (e->created);
  c->attempts = e->attempts;
  c->next_attempt = e->next_attempt;
  c->created_us = e->created_us;
  return c;
}

/* The next name of the walk, in the queue's order, or NULL when the pass
 * is over (walked through, stopped by a failure, or cancelled). Only names:
 * the lane loads the report once and looks at its retry time then. */
static EsaQueueEntry *
walk_next (Pass *p)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&p->lock);
  for (;;)
    {
      if (p->stop || g_cancellable_is_cancelled (p->cancellable))
        return NULL;
      if (p->batch == NULL || p->next == p->batch->len)
        {
          if (p->batch != NULL)
            {
              if (p->batch->len == 0)
                return NULL; /* walked through */
              g_clear_pointer (&p->cursor, esa_queue_entry_free);
              p->cursor = g_ptr_array_steal_index (p->batch, p->batch->len - 1);
              g_ptr_array_unref (p->batch);
            }
          p->batch = esa_queue_list_names (p->queue, p->cursor, PASS_BATCH);
          p->next = 0;
          continue;
        }
      return entry_copy (g_ptr_array_index (p->batch, p->next++));
    }
}

/* Loads the report named @name; NULL (and nothing to send) when it is gone,
 * not due yet, or unreadable (then moved aside and recorded as failed).
 * @e_out gets its entry. */
static EsaReport *
load_due (Pass *p, const EsaQueueEntry *name, EsaQueueEntry **e_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaQueueEntry) e = NULL;
  g_autoptr (EsaReport) report = esa_queue_load_brief (p->queue, name->uuid, &e, &error);
  gint64 next_attempt;
  if (report == NULL)
    {
      /* Gone since the walk listed it (delivered by a send beside this
       * pass, deleted by the admin): nothing to do. */
      if (g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_FOUND))
        return NULL;
      /* A file that no longer reads as a report is already quarantined
       * (with a warning); anything else is moved aside here. */
      if (!g_error_matches (error, ESA_ERROR, ESA_ERROR_INVALID_DATA))
        {
          g_warning ("spool: %s", error->message);
          if (!esa_queue_fail (p->queue, name->uuid, error->message, NULL))
            g_warning ("spool: cannot move %s aside", name->uuid);
        }
      record_failure (p, (EsaQueueEntry *) name, error->message, TRUE);
      return NULL;
    }
  g_mutex_lock (&p->lock);
  next_attempt = clamp_next_attempt (p, e, p->now);
  if (!p->force && next_attempt > p->now)
    {
      if (p->next_due == 0 || next_attempt < p->next_due)
        p->next_due = next_attempt;
      g_mutex_unlock (&p->lock);
      return NULL;
    }
  g_mutex_unlock (&p->lock);
  *e_out = g_steal_pointer (&e);
  return g_steal_pointer (&report);
}

/* @report (@e's, without attachments: both taken) and the next due reports of
 * the walk, up to @batch_max of them, in one request; a report with
 * attachments met on the way goes alone, after them (its PUTs follow its
 * POST). */
static gboolean
send_with_followers (Pass *p, EsaQueueEntry *e, EsaReport *report, guint batch_max)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_queue_entry_free);
  g_autoptr (GPtrArray) reports = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_report_unref);
  g_autoptr (EsaQueueEntry) alone_e = NULL;
  g_autoptr (EsaReport) alone = NULL;
  gboolean go_on;

  g_ptr_array_add (entries, e);
  g_ptr_array_add (reports, report);
  while (reports->len < batch_max)
    {
      g_autoptr (EsaQueueEntry) more_name = walk_next (p);
      g_autoptr (EsaQueueEntry) more_e = NULL;
      g_autoptr (EsaReport) more = NULL;
      if (more_name == NULL)
        break;
      more = load_due (p, more_name, &more_e);
      if (more == NULL)
        continue;
      if (esa_report_get_attachments (more)->len > 0)
        {
          alone = g_steal_pointer (&more);
          alone_e = g_steal_pointer (&more_e);
          break;
        }
      g_ptr_array_add (entries, g_steal_pointer (&more_e));
      g_ptr_array_add (reports, g_steal_pointer (&more));
    }
  go_on = reports->len == 1 ? send_one (p, g_ptr_array_index (entries, 0), g_ptr_array_index (reports, 0))
                            : send_batch (p, entries, reports);
  if (go_on && alone != NULL)
    go_on = send_one (p, alone_e, alone);
  return go_on;
}

/* One lane: sends the walk's next report until the pass is over, then lets
 * the transport drop what this thread holds. */
static gpointer
lane_run (gpointer data)
{
  Pass *p = data;
  /* The lane's own main context, never iterated: libsoup attaches its
   * session's queue source to the thread-default context it was created
   * in and kicks it twice per request. On esad's main context each kick
   * woke the main loop, which then walked the session's queue for nothing. */
  g_autoptr (GMainContext) context = g_main_context_new ();
  guint batch_max = esa_transport_batch_max (p->transport);
  g_main_context_push_thread_default (context);
  for (;;)
    {
      g_autoptr (EsaQueueEntry) name = walk_next (p);
      g_autoptr (EsaQueueEntry) e = NULL;
      g_autoptr (EsaReport) report = NULL;
      gboolean go_on;
      if (name == NULL)
        break;
      report = load_due (p, name, &e);
      if (report == NULL)
        continue;
      if (batch_max < 2 || esa_report_get_attachments (report)->len > 0)
        go_on = send_one (p, e, report);
      else
        go_on = send_with_followers (p, g_steal_pointer (&e), g_steal_pointer (&report), batch_max);
      /* The others wait for the retry of this one; they are not due sooner.
       * Sends already in flight in other lanes finish on their own answer. */
      if (!go_on)
        {
          g_mutex_lock (&p->lock);
          p->stop = TRUE;
          g_mutex_unlock (&p->lock);
        }
    }
  esa_transport_release_thread (p->transport);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
pass_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Pass *p = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaTransport) transport = NULL;
  g_autoptr (EsaQueueEntry) cursor = NULL;
  guint queued;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (GPtrArray) threads = NULL;
  guint lanes;

  esa_queue_wait_ready (p->queue);
  queued = esa_queue_count (p->queue, NULL);
  if (queued == 0)
    {
      p->message = g_strdup ("queue empty");
      g_task_return_boolean (task, TRUE);
      return;
    }
  transport = esa_transport_new (esa_config_get_transport (p->config), &error);
  if (transport == NULL || !esa_transport_open (transport, p->config, &error))
    {
      p->not_activated = g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_ACTIVATED);
      p->message = g_strdup_printf ("%u report(s) kept: %s", queued, error->message);
      /* Kept, not rescheduled: activation kicks the queue. Anyone waiting
       * for one of these learns why now, not at their timeout. (Only those
       * and the oldest few are listed: not a record per report of 100,000.) */
      for (guint seen = 0;;)
        {
          g_autoptr (GPtrArray) batch = esa_queue_list_brief (p->queue, cursor, PASS_BATCH);
          if (batch->len == 0)
            break;
          for (guint i = 0; i < batch->len; i++, seen++)
            {
              EsaQueueEntry *e = g_ptr_array_index (batch, i);
              gboolean waited;
              g_mutex_lock (&p->engine->waiters_lock);
              waited = g_hash_table_contains (p->engine->waiters, e->uuid);
              g_mutex_unlock (&p->engine->waiters_lock);
              if (waited || seen < PASS_BATCH)
                record_failure (p, e, error->message, FALSE);
            }
          g_clear_pointer (&cursor, esa_queue_entry_free);
          cursor = g_ptr_array_steal_index (batch, batch->len - 1);
        }
      g_task_return_boolean (task, TRUE);
      return;
    }
  p->transport = transport;
  p->cancellable = cancellable;
  p->now = now;
  lanes = MIN (MIN (MAX (1u, esa_config_get_parallel (p->config)), esa_transport_max_parallel (transport)), queued);
  threads = g_ptr_array_new ();
  for (guint i = 1; i < lanes; i++)
    {
      g_autoptr (GError) thread_error = NULL;
      GThread *t = g_thread_try_new ("esa-sender-lane", lane_run, p, &thread_error);
      /* Fewer lanes are slower, not wrong. */
      if (t == NULL)
        {
          g_warning ("sender: %u of %u lanes: %s", i, lanes, thread_error->message);
          break;
        }
      g_ptr_array_add (threads, t);
    }
  lane_run (p);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
  p->transport = NULL;
  g_task_return_boolean (task, TRUE);
}

static void start_pass (EsaSender *self);

static gboolean
on_retry_timer (gpointer user_data)
{
  EsaSender *self = user_data;
  self->timer_id = 0;
  esa_sender_kick (self);
  return G_SOURCE_REMOVE;
}

/* What a drain_async caller has seen so far, over one or two passes. The
 * records are appended as they come; @last_delivered and @last_failed name
 * each report's latest record of each kind (a failed one dropped once the
 * report is delivered), and the answer keeps only those: linear in the
 * reports, where looking each record up in the lists was quadratic (a
 * 100,000-report drain would have frozen the main loop). */
typedef struct {
  JsonArray *delivered;
  JsonArray *failed;
  GHashTable *last_delivered;  /* uuid -> JsonNode* (in @delivered) */
  GHashTable *last_failed;     /* uuid -> JsonNode* (in @failed) */
} Seen;

static void
seen_free (Seen *seen)
{
  json_array_unref (seen->delivered);
  json_array_unref (seen->failed);
  g_hash_table_unref (seen->last_delivered);
  g_hash_table_unref (seen->last_failed);
  g_free (seen);
}

/* A report tried in both passes is listed once, with what the last pass said. */
static void
append_all (EsaSender *self, JsonArray *dst, GHashTable *last, JsonArray *src)
{
  for (guint i = 0; i < json_array_get_length (src); i++)
    {
      JsonNode *n = json_node_copy (json_array_get_element (src, i));
      const char *uuid = esa_json_peek_string (json_node_get_object (n), "uuid");
      self->merge_steps++;
      json_array_add_element (dst, n);
      if (uuid != NULL)
        g_hash_table_replace (last, g_strdup (uuid), n);
    }
}

static void
accumulate (EsaSender *self, GTask *caller, Piece *piece)
{
  Seen *seen = g_task_get_task_data (caller);
  append_all (self, seen->delivered, seen->last_delivered, piece->delivered);
  append_all (self, seen->failed, seen->last_failed, piece->failed);
  /* Failed in the first pass, delivered in the second: it was delivered. */
  for (guint i = 0; i < json_array_get_length (piece->delivered); i++, self->merge_steps++)
    {
      const char *uuid = esa_json_peek_string (json_array_get_object_element (piece->delivered, i), "uuid");
      if (uuid != NULL)
        g_hash_table_remove (seen->last_failed, uuid);
    }
}

/* The records of @all that are their report's latest (@last), in order. */
static JsonArray *
latest_only (EsaSender *self, JsonArray *all, GHashTable *last)
{
  JsonArray *out = json_array_sized_new (g_hash_table_size (last));
  for (guint i = 0; i < json_array_get_length (all); i++, self->merge_steps++)
    {
      JsonNode *n = json_array_get_element (all, i);
      const char *uuid = esa_json_peek_string (json_node_get_object (n), "uuid");
      if (uuid == NULL || g_hash_table_lookup (last, uuid) == n)
        json_array_add_element (out, json_node_ref (n));
    }
  return out;
}

static JsonNode *
pass_result (EsaSender *self, Seen *seen, Pass *p, EsaQueue *queue)
{
  guint left = esa_queue_count (queue, NULL);
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  JsonArray *delivered = latest_only (self, seen->delivered, seen->last_delivered);
  json_object_set_array_member (o, "delivered", delivered);
  json_object_set_array_member (o, "failed", latest_only (self, seen->failed, seen->last_failed));
  json_object_set_int_member (o, "pending", left);
  if (p->message != NULL && json_array_get_length (delivered) == 0)
    json_object_set_string_member (o, "message", p->message);
  json_node_take_object (n, o);
  return n;
}

/* What the pass learnt about @piece's reports: plugins learn the SDC's
 * answers (service request numbers …), waiters are woken, and the callers
 * of the pass in progress and those waiting for the next one (their report
 * may be in this one) count them. On the main loop. */
static void
piece_apply (EsaSender *self, Piece *piece)
{
  EsaEngine *engine = self->engine;
  for (guint i = 0; i < json_array_get_length (piece->delivered); i++)
    {
      JsonObject *d = json_array_get_object_element (piece->delivered, i);
      JsonNode *answer = json_object_get_member (d, "answer");
      esa_engine_report_delivered (engine, json_object_get_string_member (d, "plugin"),
                                   json_object_get_string_member (d, "uuid"),
                                   json_object_get_string_member (d, "kind"),
                                   answer && JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL);
    }
  for (guint i = 0; i < self->waiters->len; i++)
    accumulate (self, g_ptr_array_index (self->waiters, i), piece);
  for (guint i = 0; i < json_array_get_length (piece->failed); i++)
    {
      JsonObject *f = json_array_get_object_element (piece->failed, i);
      esa_engine_report_not_delivered (engine, json_object_get_string_member (f, "uuid"),
                                       json_object_get_string_member (f, "reason"),
                                       json_object_get_boolean_member (f, "final"));
    }
  for (guint i = 0; self->current != NULL && i < self->current->len; i++)
    accumulate (self, g_ptr_array_index (self->current, i), piece);
}

/* The pieces handed over so far, applied in the order the pass gave them. */
static gboolean
take_pieces (gpointer user_data)
{
  EsaSender *self = user_data;
  g_autoptr (GPtrArray) pieces = NULL;
  g_mutex_lock (&self->pieces_lock);
  pieces = g_steal_pointer (&self->pieces);
  self->pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) piece_free);
  if (self->pieces_source != NULL)
    {
      g_source_destroy (self->pieces_source);
      g_clear_pointer (&self->pieces_source, g_source_unref);
    }
  g_mutex_unlock (&self->pieces_lock);
  for (guint i = 0; i < pieces->len; i++)
    piece_apply (self, g_ptr_array_index (pieces, i));
  return G_SOURCE_REMOVE;
}

static void
pass_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  EsaSender *self = user_data;
  Pass *p = g_task_get_task_data (G_TASK (res));
  EsaEngine *engine = self->engine;
  g_autoptr (GPtrArray) callers = NULL;

  self->running = FALSE;
  if (p->message != NULL)
    {
      if (p->not_activated && !self->warned_not_activated)
        g_message ("%s", p->message);
      else if (!p->not_activated)
        g_info ("%s", p->message);
    }
  self->warned_not_activated = p->not_activated;
  /* The rest of the records (the lanes have ended), after those handed
   * over before them. */
  g_mutex_lock (&p->lock);
  hand_over_locked (p, TRUE);
  g_mutex_unlock (&p->lock);
  take_pieces (self);
  callers = g_steal_pointer (&self->current);
  for (guint i = 0; callers != NULL && i < callers->len; i++)
    {
      GTask *caller = g_ptr_array_index (callers, i);
      g_task_return_pointer (caller, pass_result (self, g_task_get_task_data (caller), p, engine->queue),
                             (GDestroyNotify) json_node_unref);
    }
  if (p->next_due > 0 && !g_cancellable_is_cancelled (self->cancellable))
    {
      gint64 wait = p->next_due - g_get_real_time () / G_USEC_PER_SEC;
      if (self->timer_id != 0)
        g_source_remove (self->timer_id);
      self->timer_id = g_timeout_add_seconds ((guint) CLAMP (wait, 1, G_MAXINT32), on_retry_timer, self);
    }
  if (self->again || self->waiters->len > 0)
    {
      self->again = FALSE;
      start_pass (self);
    }
}

static void
start_pass (EsaSender *self)
{
  g_autoptr (GTask) task = NULL;
  Pass *p;
  if (self->running || g_cancellable_is_cancelled (self->cancellable))
    {
      self->again = TRUE;
      return;
    }
  p = g_new0 (Pass, 1);
  p->engine = self->engine;
  p->sender = self;
  p->config = esa_config_ref (self->engine->config);
  p->queue = self->engine->queue;
  p->delivered = json_array_new ();
  p->failed = json_array_new ();
  p->clamped = self->clamped;
  g_mutex_init (&p->lock);
  self->running = TRUE;
  self->current = g_steal_pointer (&self->waiters);
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  /* An admin's "send now" means now, not when the backoff ends. */
  p->force = self->current->len > 0;
  task = g_task_new (NULL, self->cancellable, pass_done, self);
  g_task_set_task_data (task, p, (GDestroyNotify) pass_free);
  g_task_set_name (task, "esa-sender");
  g_task_run_in_thread (task, pass_thread);
}

void
esa_sender_kick (EsaSender *self)
{
  if (self->running)
    self->again = TRUE;
  else
    start_pass (self);
}

void
esa_sender_drain_async (EsaSender *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Seen *seen = g_new0 (Seen, 1);
  seen->delivered = json_array_new ();
  seen->failed = json_array_new ();
  seen->last_delivered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  seen->last_failed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_task_set_task_data (task, seen, (GDestroyNotify) seen_free);
  g_ptr_array_add (self->waiters, task);
  if (!self->running)
    start_pass (self);
}

JsonNode *
esa_sender_drain_finish (EsaSender *self, GAsyncResult *res, GError **error)
{
  return g_task_propagate_pointer (G_TASK (res), error);
}

static void
on_queue_changed (EsaEngine *engine, gpointer user_data)
{
  esa_sender_kick (user_data);
}

EsaSender *
esa_sender_new (EsaEngine *engine)
{
  EsaSender *self = g_new0 (EsaSender, 1);
  self->engine = engine;
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable = g_cancellable_new ();
  self->clamped = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->context = g_main_context_ref_thread_default ();
  g_mutex_init (&self->pieces_lock);
  self->pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) piece_free);
  engine->queue_changed = on_queue_changed;
  engine->queue_changed_data = self;
  return self;
}

void
esa_sender_free (EsaSender *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  if (self->timer_id != 0)
    g_source_remove (self->timer_id);
  /* A pass in flight finishes its current request (bounded by the timeout). */
  while (self->running)
    g_main_context_iteration (NULL, TRUE);
  self->engine->queue_changed = NULL;
  g_ptr_array_unref (self->waiters);
  g_clear_pointer (&self->current, g_ptr_array_unref);
  g_object_unref (self->cancellable);
  g_hash_table_unref (self->clamped);
  /* The last pass took its pieces in pass_done; none is pending. */
  if (self->pieces_source != NULL)
    {
      g_source_destroy (self->pieces_source);
      g_source_unref (self->pieces_source);
    }
  g_ptr_array_unref (self->pieces);
  g_mutex_clear (&self->pieces_lock);
  g_main_context_unref (self->context);
  g_free (self);
}

guint64
esa_sender_merge_steps (EsaSender *self)
{
  return self->merge_steps;
}
