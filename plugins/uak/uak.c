/* uak.c: the Update Access Key plugin — a daily check of the key's expiry,
 * renewal through the SDC when it comes within the window, and the
 * `esactl uak status|update|check` commands. The checks a key passes are in
 * uak-key.c/uak-verify.c, the places keys live in uak-backend.c. */
#include "config.h"

#include <esa/esa-plugin.h>
#include <errno.h>
#include <string.h>

#include "uak-private.h"
#include "esa/esa-json.h"

#define UAK_DEFAULT_SCHEDULE "daily 04:30"
#define UAK_DEFAULT_WINDOW_S (30 * 24 * 3600)
#define UAK_STATE_FILE "state.json"

typedef struct {
  EsaContext *ctx;
  EsaUakBackend backend;
  char *public_key;
  guint64 window_s;
  GMutex lock; /* one check at a time: the job and `esactl uak update` */
} Uak;

/* ---- state: what `esactl uak status` shows ------------------------------------ */

static char *
uak_state_path (Uak *self)
{
  return g_build_filename (esa_context_get_state_dir (self->ctx), UAK_STATE_FILE, NULL);
}

static JsonObject *
uak_state_load (Uak *self)
{
  g_autofree char *path = uak_state_path (self);
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return json_object_new ();
  if (!json_parser_load_from_data (parser, text, -1, &error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_warning ("%s: unreadable, starting afresh: %s", path, error ? error->message : "not an object");
      return json_object_new ();
    }
  return json_object_ref (json_node_get_object (root));
}

static void
uak_state_save (Uak *self, JsonObject *state)
{
  g_autofree char *path = uak_state_path (self);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  json_node_set_object (node, state);
  text = esa_json_to_string (node, TRUE);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_warning ("saving %s: %s", path, error->message);
}

static const char *
uak_str (JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member (o, member);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static void
uak_set_str (JsonObject *o, const char *member, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (o, member, value);
  else
    json_object_set_null_member (o, member);
}

/* ---- one check ---------------------------------------------------------------- */

typedef struct {
  EsaUakKeyKind kind;
  const char *status;   /* applied, refused, failed, not-due */
  const char *reason;   /* ESA_UAK_REASON_* when refused */
  char *message;
  char *previous_expiry;
  char *new_expiry;
  char *key_data;
  gint64 days_left;
  gboolean has_days_left;
  gboolean requested;   /* asked the SDC */
} UakOutcome;

static void
uak_outcome_clear (UakOutcome *o)
{
  g_free (o->message);
  g_free (o->previous_expiry);
  g_free (o->new_expiry);
  g_free (o->key_data);
}

static JsonObject *
uak_outcome_to_json (Uak *self, const UakOutcome *o, const char *trigger)
{
  const EsaPlatform *pf = esa_context_get_platform (self->ctx);
  JsonObject *body = json_object_new ();
  json_object_set_string_member (body, "key", esa_uak_key_kind_name (o->kind));
  json_object_set_string_member (body, "status", o->status);
  uak_set_str (body, "reason", o->reason);
  uak_set_str (body, "message", o->message);
  uak_set_str (body, "machine_type", pf->machine_type);
  uak_set_str (body, "serial", pf->serial);
  json_object_set_string_member (body, "backend", esa_uak_backend_kind_name (self->backend.kind));
  uak_set_str (body, "previous_expiry", o->previous_expiry);
  uak_set_str (body, "expires", o->new_expiry != NULL ? o->new_expiry : o->previous_expiry);
  if (o->has_days_left)
    json_object_set_int_member (body, "days_left", o->days_left);
  else
    json_object_set_null_member (body, "days_left");
  json_object_set_string_member (body, "trigger", trigger);
  json_object_set_string_member (body, "agent_version", ESA_VERSION);
  return body;
}

static void
uak_days_left (const char *expiry, GDateTime *now, UakOutcome *o)
{
  g_autofree char *today = esa_uak_today (now);
  o->has_days_left = expiry != NULL;
  o->days_left = expiry != NULL ? esa_uak_days_between (today, expiry) : 0;
}

/* Asks the SDC for a key and applies it when it passes every check. */
static void
uak_renew (Uak *self, const char *current, GDateTime *now, UakOutcome *o)
{
  const EsaPlatform *pf = esa_context_get_platform (self->ctx);
  g_autoptr (JsonObject) request = json_object_new ();
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaUakVerifier) verifier = NULL;
  g_autoptr (EsaUakOffer) offer = NULL;
  g_autoptr (EsaUakKey) key = NULL;
  g_autofree char *after = NULL, *after_key = NULL, *after_source = NULL;
  const char *reason = NULL;

  if (pf->machine_type == NULL || pf->serial == NULL)
    {
      o->status = "failed";
      o->message = g_strdup ("cannot ask for a key: this machine's type or serial number is unknown");
      return;
    }
  /* load the public key before asking: without it no answer could be trusted */
  verifier = esa_uak_verifier_new_from_file (self->public_key, &error);
  if (verifier == NULL)
    {
      o->status = "failed";
      o->message = g_strdup (error->message);
      return;
    }
  json_object_set_string_member (request, "machine_type", pf->machine_type);
  json_object_set_string_member (request, "serial", pf->serial);
  if (current != NULL)
    json_object_set_string_member (request, "current_expiry", current);
  if (o->kind == ESA_UAK_KEY_AIX)
    json_object_set_string_member (request, "key", esa_uak_key_kind_name (o->kind));
  o->requested = TRUE;
  if (!esa_context_call_sdc (self->ctx, "uak", request, &answer, &error))
    {
      o->status = "failed";
      o->message = g_strdup_printf ("asking the SDC for a new key: %s", error->message);
      return;
    }
  offer = esa_uak_offer_from_json (answer, &error);
  if (offer == NULL)
    {
      o->status = "refused";
      o->reason = ESA_UAK_REASON_MALFORMED;
      o->message = g_strdup_printf ("key refused: %s", error->message);
      return;
    }
  key = esa_uak_accept_offer (verifier, offer, pf->machine_type, pf->serial, current, &reason, &error);
  if (key != NULL && !esa_uak_key_check_kind (key, o->kind, &reason, &error))
    g_clear_pointer (&key, esa_uak_key_free);
  if (key == NULL)
    {
      o->status = "refused";
      o->reason = reason;
      o->message = g_strdup (error->message);
      return;
    }
  if (!esa_uak_backend_apply (&self->backend, key, offer->signature_b64, &error))
    {
      o->status = "refused";
      o->reason = ESA_UAK_REASON_APPLY_FAILED;
      o->message = g_strdup_printf ("key not applied: %s", error->message);
      return;
    }
  /* read it back: the firmware has the last word on what it took */
  if (!(o->kind == ESA_UAK_KEY_AIX
            ? esa_uak_backend_read_aix (&self->backend, &after, &after_source, &error)
            : esa_uak_backend_read (&self->backend, &after, &after_key, &after_source, &error)))
    g_warning ("UAK applied, but reading it back failed: %s", error->message);
  else if (g_strcmp0 (after, key->expires) != 0)
    g_warning ("UAK applied with expiry %s, but %s now says %s", key->expires, after_source,
               after ? after : "no key");
  o->status = "applied";
  o->new_expiry = g_strdup (key->expires);
  o->key_data = g_strdup (key->key_data);
  o->message = g_strdup_printf ("new %skey applied: expires %s (was %s)", o->kind == ESA_UAK_KEY_AIX ? "AIX " : "",
                                key->expires, current ? current : "no key");
  uak_days_left (key->expires, now, o);
}

/* "20270825 (272 days left)", "20190301 (expired on 2019-03-01)" */
static char *
uak_expiry_text (const char *expiry, gint64 days_left)
{
  if (days_left < 0)
    return g_strdup_printf ("%s (expired on %.4s-%.2s-%.2s)", expiry, expiry, expiry + 4, expiry + 6);
  if (days_left == 0)
    return g_strdup_printf ("%s (expires today)", expiry);
  return g_strdup_printf ("%s (%" G_GINT64_FORMAT " day%s left)", expiry, days_left, days_left == 1 ? "" : "s");
}

/* One key's check. @state: where its state members go (the top level for
 * the firmware key, "aix" for the AIX key). NULL when @kind is the AIX key
 * and this machine has none to keep (before POWER10). */
static JsonObject *
uak_check_key (Uak *self, EsaUakKeyKind kind, gboolean force, const char *trigger, GDateTime *now,
               const char *now_s, JsonObject *state)
{
  const EsaPlatform *pf = esa_context_get_platform (self->ctx);
  g_autoptr (GError) error = NULL;
  g_autofree char *key_data = NULL, *source = NULL;
  UakOutcome o = { 0 };
  JsonObject *result;
  gboolean due = TRUE, read_ok;
  gboolean preview = esa_context_is_preview (self->ctx);

  o.kind = kind;
  if (kind == ESA_UAK_KEY_AIX)
    {
      read_ok = esa_uak_backend_read_aix (&self->backend, &o.previous_expiry, &source, &error);
      /* no AIX key and no POWER10: nothing to keep */
      if (self->backend.kind != ESA_UAK_BACKEND_AIX ||
          (read_ok && o.previous_expiry == NULL && !esa_uak_processor_has_aix_key (pf->processor)))
        {
          uak_outcome_clear (&o);
          return NULL;
        }
    }
  else
    read_ok = esa_uak_backend_read (&self->backend, &o.previous_expiry, &key_data, &source, &error);

  if (!read_ok)
    {
      o.status = "failed";
      o.message = g_strdup_printf ("reading the current %skey: %s", kind == ESA_UAK_KEY_AIX ? "AIX " : "",
                                   error->message);
    }
  else
    {
      uak_days_left (o.previous_expiry, now, &o);
      due = o.previous_expiry == NULL || o.days_left * 24 * 3600 <= (gint64) self->window_s;
      if (!force && !due)
        {
          o.status = "not-due";
          o.message = g_strdup_printf ("the %skey expires %s, in %" G_GINT64_FORMAT " days: not yet due",
                                       kind == ESA_UAK_KEY_AIX ? "AIX " : "", o.previous_expiry, o.days_left);
        }
      else if (preview)
        {
          /* esactl preview uak-status: the report the check would send, up to
           * the renewal; asking the SDC and writing the key would act */
          o.status = "due";
          o.requested = TRUE;
          o.message = g_strdup_printf ("the %skey %s is due for renewal: the check would ask the SDC for a new key "
                                       "(preview: not asked)",
                                       kind == ESA_UAK_KEY_AIX ? "AIX " : "",
                                       o.previous_expiry ? o.previous_expiry : "(none)");
        }
      else
        uak_renew (self, o.previous_expiry, now, &o);
    }
  if (o.key_data == NULL)
    o.key_data = g_steal_pointer (&key_data);

  result = uak_outcome_to_json (self, &o, trigger);

  /* the admin has to see a refusal or a failing renewal: log, state, report */
  if (!preview && (g_str_equal (o.status, "refused") || g_str_equal (o.status, "failed")))
    {
      if (due && o.previous_expiry != NULL)
        {
          g_autofree char *when = uak_expiry_text (o.previous_expiry, o.days_left);
          g_warning ("%s Update Access Key %s and renewal failed: %s", kind == ESA_UAK_KEY_AIX ? "AIX" : "Firmware",
                     when, o.message);
        }
      else
        g_warning ("%s Update Access Key: %s", kind == ESA_UAK_KEY_AIX ? "AIX" : "Firmware", o.message);
      json_object_set_string_member (state, "last_error", o.message);
      json_object_set_string_member (state, "last_error_time", now_s);
    }
  if (o.requested || g_str_equal (o.status, "failed") || force)
    {
      g_autoptr (EsaReport) report = esa_report_new (ESA_REPORT_KIND_UAK_STATUS, "uak");
      g_autoptr (GError) local = NULL;
      g_autoptr (JsonObject) body = uak_outcome_to_json (self, &o, trigger);
      esa_report_set_body (report, body);
      if (!esa_context_submit (self->ctx, report, &local))
        g_warning ("queueing the uak-status report: %s", local->message);
      else
        json_object_set_string_member (result, "report", esa_report_get_uuid (report));
    }
  json_object_set_string_member (state, "last_check", now_s);
  json_object_set_string_member (state, "last_result", o.status);
  uak_set_str (state, "last_message", o.message);
  uak_set_str (state, "expiry", o.new_expiry != NULL ? o.new_expiry : o.previous_expiry);
  uak_set_str (state, "key_data", o.key_data);
  uak_set_str (state, "source", source);
  uak_outcome_clear (&o);
  return result;
}

/* The whole check: the firmware key, then (POWER10 and later) the AIX key.
 * @force: renew whatever the expiry (esactl uak update). Returns the
 * firmware key's outcome as JSON, the AIX key's as its "aix" member (also
 * stored as state, and reported). */
static JsonObject *
uak_check (Uak *self, gboolean force, const char *trigger)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (JsonObject) state = NULL;
  g_autoptr (JsonObject) aix_state = json_object_new ();
  g_autofree char *now_s = NULL;
  JsonObject *result, *aix;

  g_mutex_lock (&self->lock);
  state = uak_state_load (self);
  now_s = g_date_time_format_iso8601 (now);
  if (json_object_has_member (state, "aix") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (state, "aix")))
    {
      g_clear_pointer (&aix_state, json_object_unref);
      aix_state = json_object_ref (json_object_get_object_member (state, "aix"));
    }
  result = uak_check_key (self, ESA_UAK_KEY_FIRMWARE, force, trigger, now, now_s, state);
  aix = uak_check_key (self, ESA_UAK_KEY_AIX, force, trigger, now, now_s, aix_state);
  if (aix != NULL)
    {
      json_object_set_object_member (result, "aix", aix);
      json_object_set_object_member (state, "aix", json_object_ref (aix_state));
    }
  else
    json_object_remove_member (state, "aix");
  json_object_set_string_member (state, "backend", esa_uak_backend_kind_name (self->backend.kind));
  /* a preview leaves `esactl uak status` as it was */
  if (!esa_context_is_preview (self->ctx))
    uak_state_save (self, state);
  g_mutex_unlock (&self->lock);
  return result;
}

/* ---- job and commands ------------------------------------------------------------ */

static JsonObject *
uak_aix_result (JsonObject *result)
{
  JsonNode *n = json_object_get_member (result, "aix");
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* esactl's exit code for one key's outcome: 5 refused, 1 failed, else 0 */
static int
uak_exit_code (JsonObject *result)
{
  const char *status = result != NULL ? uak_str (result, "status") : NULL;
  return g_strcmp0 (status, "refused") == 0 ? 5 : g_strcmp0 (status, "failed") == 0 ? 1 : 0;
}

static gboolean
uak_job (EsaJobRun *run, gpointer user_data, GError **error)
{
  Uak *self = user_data;
  /* a preview shows what the daily check would send: its trigger is "scheduled" */
  const char *trigger = esa_job_run_get_event (run) != NULL && !esa_context_is_preview (self->ctx) ? "event" : "scheduled";
  g_autoptr (JsonObject) result = uak_check (self, FALSE, trigger);
  JsonObject *aix = uak_aix_result (result);
  JsonObject *worst = uak_exit_code (aix) > uak_exit_code (result) ? aix : result;
  const char *status = uak_str (worst, "status");
  g_autofree char *summary = aix == NULL ? g_strdup_printf ("%s: %s", status, uak_str (result, "message"))
                                         : g_strdup_printf ("%s: %s; AIX key %s: %s", uak_str (result, "status"),
                                                            uak_str (result, "message"), uak_str (aix, "status"),
                                                            uak_str (aix, "message"));
  esa_job_run_set_summary (run, summary);
  if (g_strcmp0 (status, "failed") == 0 || g_strcmp0 (status, "refused") == 0)
    {
      g_set_error (error, ESA_ERROR, g_str_equal (status, "refused") ? ESA_ERROR_REFUSED : ESA_ERROR_FAILED,
                   "%s", uak_str (worst, "message"));
      return FALSE;
    }
  return TRUE;
}

static JsonObject *
uak_command_result (JsonObject *data, char *text, int exit_code)
{
  JsonObject *r = json_object_new ();
  json_object_set_string_member (r, "text", text);
  json_object_set_object_member (r, "data", data);
  json_object_set_int_member (r, "exit", exit_code);
  g_free (text);
  return r;
}

/* The AIX key's lines of `uak status` (read live, like the firmware key's),
 * and data["aix"] for --json. Nothing on a machine without an AIX key. */
static void
uak_status_aix (Uak *self, JsonObject *data, GDateTime *now, GString *text)
{
  const EsaPlatform *pf = esa_context_get_platform (self->ctx);
  g_autoptr (GError) local = NULL;
  g_autofree char *expiry = NULL, *source = NULL;
  JsonNode *n = json_object_get_member (data, "aix");
  JsonObject *aix = n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
  gboolean ok = esa_uak_backend_read_aix (&self->backend, &expiry, &source, &local);
  if (self->backend.kind != ESA_UAK_BACKEND_AIX ||
      (ok && expiry == NULL && !esa_uak_processor_has_aix_key (pf->processor)))
    return;
  if (aix == NULL)
    {
      aix = json_object_new ();
      json_object_set_object_member (data, "aix", aix);
    }
  if (!ok)
    {
      json_object_set_string_member (aix, "read_error", local->message);
      g_string_append_printf (text, "AIX key:      unreadable: %s\n", local->message);
    }
  else if (expiry == NULL)
    {
      json_object_set_null_member (aix, "expiry");
      json_object_set_null_member (aix, "days_left");
      g_string_append (text, "AIX key:      none\n");
    }
  else
    {
      g_autofree char *today = esa_uak_today (now);
      gint64 days = esa_uak_days_between (today, expiry);
      g_autofree char *when = uak_expiry_text (expiry, days);
      json_object_set_string_member (aix, "expiry", expiry);
      json_object_set_int_member (aix, "days_left", days);
      json_object_set_string_member (aix, "source", source);
      g_string_append_printf (text, "AIX key:      %s\n", when);
    }
  if (uak_str (aix, "last_result") != NULL)
    g_string_append_printf (text, "AIX key last: %s%s%s\n", uak_str (aix, "last_result"),
                            uak_str (aix, "last_message") ? ": " : "",
                            uak_str (aix, "last_message") ? uak_str (aix, "last_message") : "");
}

static JsonObject *
uak_cmd_status (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  Uak *self = user_data;
  g_autoptr (JsonObject) state = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *expiry = NULL, *key_data = NULL, *source = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  JsonObject *data;

  g_mutex_lock (&self->lock);
  state = uak_state_load (self);
  g_mutex_unlock (&self->lock);
  data = json_object_ref (state);
  /* the live value, not the last check's: someone may have applied a key by hand */
  if (esa_uak_backend_read (&self->backend, &expiry, &key_data, &source, &local))
    {
      uak_set_str (data, "expiry", expiry);
      if (key_data != NULL)
        json_object_set_string_member (data, "key_data", key_data);
      json_object_set_string_member (data, "source", source);
      if (expiry != NULL)
        {
          g_autofree char *today = esa_uak_today (now);
          json_object_set_int_member (data, "days_left", esa_uak_days_between (today, expiry));
        }
      else
        json_object_set_null_member (data, "days_left");
    }
  else
    json_object_set_string_member (data, "read_error", local->message);

  g_string_append_printf (text, "backend:      %s (%s)\n", esa_uak_backend_kind_name (self->backend.kind),
                          uak_str (data, "source") ? uak_str (data, "source") : "-");
  if (local != NULL)
    g_string_append_printf (text, "current key:  unreadable: %s\n", local->message);
  else
    g_string_append_printf (text, "current key:  %s\n",
                            key_data ? key_data : expiry ? "(expiry date only)" : "none");
  if (expiry != NULL)
    {
      g_autofree char *when = uak_expiry_text (expiry, json_object_get_int_member (data, "days_left"));
      g_string_append_printf (text, "expiry:       %s\n", when);
    }
  else
    g_string_append (text, "expiry:       -\n");
  uak_status_aix (self, data, now, text);
  g_string_append_printf (text, "renew window: %" G_GUINT64_FORMAT " days\n", self->window_s / 86400);
  g_string_append_printf (text, "last check:   %s\n", uak_str (data, "last_check") ? uak_str (data, "last_check") : "never");
  g_string_append_printf (text, "last result:  %s%s%s\n",
                          uak_str (data, "last_result") ? uak_str (data, "last_result") : "-",
                          uak_str (data, "last_message") ? ": " : "",
                          uak_str (data, "last_message") ? uak_str (data, "last_message") : "");
  g_string_append_printf (text, "last error:   %s%s%s%s\n",
                          uak_str (data, "last_error") ? uak_str (data, "last_error") : "none",
                          uak_str (data, "last_error_time") ? " (" : "",
                          uak_str (data, "last_error_time") ? uak_str (data, "last_error_time") : "",
                          uak_str (data, "last_error_time") ? ")" : "");
  return uak_command_result (data, g_string_free (g_steal_pointer (&text), FALSE), 0);
}

static JsonObject *
uak_cmd_run (Uak *self, gboolean force)
{
  JsonObject *result = uak_check (self, force, "requested");
  JsonObject *aix = uak_aix_result (result);
  int code = MAX (uak_exit_code (result), uak_exit_code (aix));
  char *text = aix == NULL ? g_strdup_printf ("%s: %s\n", uak_str (result, "status"), uak_str (result, "message"))
                           : g_strdup_printf ("%s: %s\nAIX key %s: %s\n", uak_str (result, "status"),
                                              uak_str (result, "message"), uak_str (aix, "status"),
                                              uak_str (aix, "message"));
  /* refused (5) outranks failed (1) */
  if (uak_exit_code (result) == 5 || uak_exit_code (aix) == 5)
    code = 5;
  return uak_command_result (result, text, code);
}

static JsonObject *
uak_cmd_update (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  return uak_cmd_run (user_data, TRUE);
}

static JsonObject *
uak_cmd_check (EsaContext *ctx, const char *const *args, gpointer user_data, GError **error)
{
  return uak_cmd_run (user_data, FALSE);
}

static void
uak_free (Uak *self)
{
  g_free (self->backend.key_file);
  g_free (self->backend.temp_dir);
  g_free (self->public_key);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static gboolean
uak_init (EsaContext *ctx, GError **error)
{
  const EsaPlatform *pf = esa_context_get_platform (ctx);
  Uak *self = g_new0 (Uak, 1);
  g_autofree char *backend = NULL;
  g_autofree char *key_file = NULL;

  g_mutex_init (&self->lock);
  self->ctx = ctx;
  backend = esa_context_get_string (ctx, "backend", g_strcmp0 (pf->os, "AIX") == 0 ? "aix" : "file");
  if (!esa_uak_backend_parse_kind (backend, &self->backend.kind))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "[plugin.uak] backend: \"%s\": unknown (expected aix or file)", backend);
      uak_free (self);
      return FALSE;
    }
  key_file = esa_context_get_string (ctx, "key-file", NULL);
  if (key_file != NULL && !g_path_is_absolute (key_file))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG,
                   "[plugin.uak] key-file: \"%s\": expected an absolute path", key_file);
      uak_free (self);
      return FALSE;
    }
  self->backend.key_file = key_file != NULL ? g_steal_pointer (&key_file)
                                            : g_build_filename (esa_context_get_state_dir (ctx), "current.key", NULL);
  self->backend.temp_dir = g_strdup (esa_context_get_temp_dir (ctx));
  self->backend.cancellable = esa_context_get_cancellable (ctx);
  self->public_key = esa_context_get_string (ctx, "public-key", SYSCONFDIR "/esa/uak-pub.pem");
  if (!esa_context_get_duration (ctx, "renew-window", UAK_DEFAULT_WINDOW_S, &self->window_s, error))
    {
      uak_free (self);
      return FALSE;
    }
  /* the job owns self (freed with it); the commands borrow it */
  if (!esa_context_add_job (ctx, "uak", UAK_DEFAULT_SCHEDULE, uak_job, self, (GDestroyNotify) uak_free, error))
    {
      uak_free (self);
      return FALSE;
    }
  return esa_context_add_command (ctx, "uak status", "", "show the Update Access Key and the last check",
                                  uak_cmd_status, self, error) &&
         esa_context_add_command (ctx, "uak update", "", "ask the SDC for a new key now and apply it",
                                  uak_cmd_update, self, error) &&
         esa_context_add_command (ctx, "uak check", "", "run the daily check now (renews only within the window)",
                                  uak_cmd_check, self, error);
}

ESA_PLUGIN_DESCRIBE ("uak", ESA_VERSION,
                     "Checks the Update Access Key and renews it through the SDC",
                     uak_init, NULL)
