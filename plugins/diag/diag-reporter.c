/* diag-reporter.c: turns events into findings and findings into problem
 * reports, keeping the problem log up to date (see diag-reporter.h). */
#include "config.h"

#include "diag-reporter.h"
#include "diag-aix.h"
#include "diag-edac.h"
#include "esa/esa-json.h"

#include <errno.h>
#include <string.h>

static gboolean
is_aix (DiagPlugin *self)
{
  return g_strcmp0 (esa_context_get_platform (self->ctx)->os, "AIX") == 0;
}

DiagPlugin *
diag_plugin_new (EsaContext *ctx, GError **error)
{
  g_autoptr (GError) local = NULL;
  DiagPlugin *self = g_new0 (DiagPlugin, 1);
  g_autofree char *path = NULL;
  const char *sysroot = esa_context_get_platform (ctx)->sysroot; /* "/" but in tests */
  self->ctx = ctx;
  g_mutex_init (&self->edac_lock);
  self->sysroot = g_strdup (sysroot != NULL ? sysroot : "/");
  if (!esa_context_get_duration (ctx, "dedup-window", DIAG_DEFAULT_DEDUP_WINDOW, &self->dedup_window_s, error) ||
      !esa_context_get_duration (ctx, "wait", DIAG_DEFAULT_WAIT, &self->wait_s, error))
    {
      diag_plugin_free (self);
      return NULL;
    }
  path = g_build_filename (esa_context_get_state_dir (ctx), "problems.json", NULL);
  self->log = diag_problem_log_new (path);
  return self;
}

void
diag_plugin_free (DiagPlugin *self)
{
  if (self == NULL)
    return;
  diag_problem_log_free (self->log);
  g_mutex_clear (&self->edac_lock);
  g_free (self->sysroot);
  g_free (self);
}

void
diag_outcome_free (DiagOutcome *self)
{
  if (self == NULL)
    return;
  g_free (self->uuid);
  g_free (self->status_text);
  g_free (self);
}

/* The members of a finding the problem log keeps (the errpt record and the
 * platform stay in the report only). */
static const char *const entry_members[] = {
  "key", "resource", "srn", "src", "code", "description", "label", "errlog_sequence", "source", "frus", NULL,
};

static JsonObject *
entry_from_finding (JsonObject *finding, gboolean test)
{
  JsonObject *e = json_object_new ();
  for (guint i = 0; entry_members[i] != NULL; i++)
    {
      JsonNode *n = json_object_get_member (finding, entry_members[i]);
      if (n != NULL && !JSON_NODE_HOLDS_NULL (n))
        json_object_set_member (e, entry_members[i], json_node_copy (n));
    }
  json_object_set_boolean_member (e, "test", test);
  return e;
}

static void
record_change (DiagPlugin *self, guint id, const char *status, const char *member, const char *value)
{
  g_autoptr (JsonObject) changes = json_object_new ();
  g_autoptr (GError) error = NULL;
  json_object_set_string_member (changes, "status", status);
  if (member != NULL && value != NULL)
    json_object_set_string_member (changes, member, value);
  if (!diag_problem_log_update (self->log, id, changes, &error))
    g_warning ("%s", error->message);
}

static DiagOutcome *
outcome_for (DiagPlugin *self, guint id)
{
  DiagOutcome *out = g_new0 (DiagOutcome, 1);
  g_autoptr (JsonObject) e = id != 0 ? diag_problem_log_get (self->log, id) : NULL;
  out->id = id;
  if (e != NULL)
    {
      out->uuid = g_strdup (esa_json_peek_string (e, "uuid"));
      out->status_text = diag_problem_status_text (e);
      out->delivered = g_strcmp0 (esa_json_peek_string (e, "status"), DIAG_STATUS_REPORTED) == 0;
    }
  else
    out->status_text = g_strdup ("failed: not recorded in the problem log");
  return out;
}

DiagOutcome *
diag_report_finding (DiagPlugin *self, JsonObject *finding, gboolean test, GCancellable *cancellable)
{
  const EsaPlatform *platform = esa_context_get_platform (self->ctx);
  g_autoptr (JsonObject) entry = entry_from_finding (finding, test);
  g_autoptr (EsaReport) report = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) status = NULL;
  JsonObject *body;
  const char *uuid;
  gboolean queued = FALSE;
  gboolean preview = esa_context_is_preview (self->ctx);
  guint id;

  (void) cancellable;
  /* The reference product does no hardware problem reporting in a
   * partition: the managing HMC reports for the whole machine. */
  if (platform->is_lpar && !test)
    {
      json_object_set_string_member (entry, "status", DIAG_STATUS_NOT_REPORTED);
      json_object_set_string_member (entry, "reason", "LPAR");
    }
  else
    json_object_set_string_member (entry, "status", DIAG_STATUS_PENDING);

  report = esa_report_new (ESA_REPORT_KIND_PROBLEM, esa_context_get_plugin_name (self->ctx));
  uuid = esa_report_get_uuid (report);

  /* a preview (esactl preview problem-test) writes nothing to the problem log */
  if (preview)
    id = 0;
  else if ((id = diag_problem_log_add (self->log, g_steal_pointer (&entry), self->dedup_window_s,
                                       g_get_real_time () / G_USEC_PER_SEC, &error)) == 0)
    {
      /* not being able to write the log must not stop a report */
      g_warning ("%s", error->message);
      g_clear_error (&error);
    }
  else
    {
      status = diag_problem_log_get (self->log, id);
      if (g_strcmp0 (esa_json_peek_string (status, "status"), DIAG_STATUS_PENDING) != 0)
        {
          g_message ("%s on %s: %s", esa_json_peek_string (status, "key"), esa_json_peek_string (status, "resource"),
                     esa_json_peek_string (status, "status"));
          return outcome_for (self, id);
        }
      /* before sending: the delivered callback finds the entry by uuid */
      record_change (self, id, DIAG_STATUS_PENDING, "uuid", uuid);
    }

  body = esa_report_get_body (report);
  {
    g_autoptr (GList) members = json_object_get_members (finding);
    for (GList *l = members; l != NULL; l = l->next)
      if (!g_str_equal (l->data, "key"))
        json_object_set_member (body, l->data, json_node_copy (json_object_get_member (finding, l->data)));
  }
  json_object_set_boolean_member (body, "test", test);
  json_object_set_string_member (body, "agent_version", ESA_VERSION);
  if (id != 0)
    json_object_set_int_member (body, "local_id", id);
  json_object_set_object_member (body, "platform", esa_platform_to_json (platform));

  if (preview)
    {
      /* built and kept aside by the core; nothing waits for an answer */
      DiagOutcome *out = g_new0 (DiagOutcome, 1);
      if (!esa_context_submit (self->ctx, report, &error))
        g_warning ("preview of the problem report: %s", error->message);
      out->uuid = g_strdup (uuid);
      out->status_text = g_strdup ("preview: built, not sent");
      return out;
    }
  if (esa_context_submit_and_wait (self->ctx, report, (guint) self->wait_s, &answer, &error))
    {
      const char *sr = esa_json_peek_string (answer, "service_request");
      if (id != 0)
        record_change (self, id, DIAG_STATUS_REPORTED, "service_request", sr);
      queued = TRUE;
      g_message ("problem %u (%s on %s) reported: %s", id, esa_json_peek_string (finding, "key"),
                 esa_json_peek_string (finding, "resource"), sr != NULL ? sr : "no service request number");
    }
  else if (g_error_matches (error, ESA_ERROR, ESA_ERROR_TIMEOUT) ||
           g_error_matches (error, ESA_ERROR, ESA_ERROR_NETWORK) ||
           g_error_matches (error, ESA_ERROR, ESA_ERROR_BUSY))
    {
      /* it is in the queue and will go out; the delivered callback fills in the SR
       * (and may already have: only a still pending entry becomes queued) */
      if (id != 0)
        {
          g_autoptr (JsonObject) changes = json_object_new ();
          g_autoptr (GError) local = NULL;
          json_object_set_string_member (changes, "status", DIAG_STATUS_QUEUED);
          json_object_set_string_member (changes, "reason", error->message);
          if (!diag_problem_log_update_if_status (self->log, id, DIAG_STATUS_PENDING, changes, &local))
            g_warning ("%s", local->message);
        }
      queued = TRUE;
      g_message ("problem %u queued: %s", id, error->message);
    }
  else
    {
      if (id != 0)
        record_change (self, id, DIAG_STATUS_FAILED, "reason", error->message);
      g_warning ("problem %u not reported: %s", id, error->message);
    }
  if (id != 0)
    diag_problem_log_settle (self->log, id);

  if (queued)
    {
      g_autoptr (JsonObject) data = json_object_new ();
      json_object_set_string_member (data, "uuid", uuid);
      if (esa_json_peek_string (finding, "resource") != NULL)
        json_object_set_string_member (data, "resource", esa_json_peek_string (finding, "resource"));
      json_object_set_boolean_member (data, "test", test);
      json_object_set_int_member (data, "problem_id", id);
      esa_context_emit_event (self->ctx, DIAG_EVENT_PROBLEM_REPORTED, data);
    }
  return outcome_for (self, id);
}

void
diag_plugin_delivered (DiagPlugin *self, const char *uuid, const char *kind, JsonObject *answer)
{
  g_autoptr (GError) error = NULL;
  if (g_strcmp0 (kind, ESA_REPORT_KIND_PROBLEM) != 0)
    return;
  if (!diag_problem_log_delivered (self->log, uuid, esa_json_peek_string (answer, "service_request"), &error) &&
      error != NULL)
    g_warning ("%s", error->message);
}

/* One finding record for an event that will not get a report. */
static void
record_not_reported (DiagPlugin *self, JsonObject *base, const char *reason)
{
  g_autoptr (JsonObject) e = entry_from_finding (base, FALSE);
  g_autoptr (GError) error = NULL;
  json_object_set_string_member (e, "status", DIAG_STATUS_NOT_REPORTED);
  json_object_set_string_member (e, "reason", reason);
  if (diag_problem_log_add (self->log, g_steal_pointer (&e), 0, g_get_real_time () / G_USEC_PER_SEC, &error) == 0)
    g_warning ("%s", error->message);
}

static char *
handle_aix (DiagPlugin *self, JsonObject *event, GCancellable *cancellable, GError **error)
{
  const EsaPlatform *platform = esa_context_get_platform (self->ctx);
  gint64 seq = esa_json_peek_int (event, "sequence", -1);
  g_autoptr (JsonObject) errlog = NULL;
  g_autoptr (JsonObject) base = json_object_new ();
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GString) summary = g_string_new (NULL);
  g_autoptr (GError) local = NULL;
  const char *resource = esa_json_peek_string (event, "resource");
  const char *label = esa_json_peek_string (event, "label");
  const char *klass = esa_json_peek_string (event, "class");

  if (seq >= 0)
    {
      errlog = diag_aix_read_errlog (seq, cancellable, &local);
      if (errlog == NULL)
        {
          g_warning ("error log entry %" G_GINT64_FORMAT ": %s", seq, local->message);
          g_clear_error (&local);
        }
    }
  if (resource == NULL)
    resource = esa_json_peek_string (errlog, "resource_name");
  if (label == NULL)
    label = esa_json_peek_string (errlog, "label");
  if (klass == NULL)
    klass = esa_json_peek_string (errlog, "class");
  if (resource == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "error log entry %" G_GINT64_FORMAT ": no resource name in the event or the error log", seq);
      return NULL;
    }
  /* the stanza asks for class H only, but esactl notify can be run by hand */
  if (klass != NULL && !g_str_equal (klass, "H"))
    return g_strdup_printf ("error log entry %" G_GINT64_FORMAT " (%s): class %s is not a hardware error, ignored",
                            seq, label ? label : "?", klass);

  json_object_set_string_member (base, "resource", resource);
  json_object_set_string_member (base, "source", esa_json_peek_string (event, "source") ? esa_json_peek_string (event, "source") : "errnotify");
  if (label != NULL)
    json_object_set_string_member (base, "label", label);
  if (seq >= 0)
    json_object_set_int_member (base, "errlog_sequence", seq);
  if (esa_json_peek_string (errlog, "description") != NULL)
    json_object_set_string_member (base, "description", esa_json_peek_string (errlog, "description"));
  json_object_set_string_member (base, "key", label != NULL ? label : "errlog");

  if (platform->is_lpar)
    {
      record_not_reported (self, base, "LPAR");
      return g_strdup_printf ("%s on %s: not reported: LPAR", label ? label : "error", resource);
    }

  problems = diag_aix_run_diag (resource, cancellable, error);
  if (problems == NULL)
    {
      g_autofree char *reason = g_strdup_printf ("diag: %s", (*error)->message);
      g_autoptr (JsonObject) e = entry_from_finding (base, FALSE);
      json_object_set_string_member (e, "status", DIAG_STATUS_FAILED);
      json_object_set_string_member (e, "reason", reason);
      diag_problem_log_add (self->log, g_steal_pointer (&e), 0, g_get_real_time () / G_USEC_PER_SEC, NULL);
      return NULL;
    }
  if (problems->len == 0)
    {
      record_not_reported (self, base, "no trouble found");
      return g_strdup_printf ("%s on %s: diag found no trouble", label ? label : "error", resource);
    }
  for (guint i = 0; i < problems->len; i++)
    {
      JsonObject *p = g_ptr_array_index (problems, i);
      g_autoptr (JsonObject) f = json_object_new ();
      g_autoptr (DiagOutcome) out = NULL;
      const char *srn = esa_json_peek_string (p, "srn"), *src = esa_json_peek_string (p, "src");
      g_autoptr (GList) members = json_object_get_members (base);
      for (GList *l = members; l != NULL; l = l->next)
        json_object_set_member (f, l->data, json_node_copy (json_object_get_member (base, l->data)));
      if (srn != NULL)
        json_object_set_string_member (f, "srn", srn);
      if (src != NULL)
        json_object_set_string_member (f, "src", src);
      json_object_set_string_member (f, "key", srn != NULL ? srn : src);
      if (esa_json_peek_string (p, "description") != NULL)
        json_object_set_string_member (f, "description", esa_json_peek_string (p, "description"));
      json_object_set_member (f, "frus", json_node_copy (json_object_get_member (p, "frus")));
      json_object_set_object_member (f, "diag", json_object_ref (p));
      if (errlog != NULL)
        json_object_set_object_member (f, "errlog", json_object_ref (errlog));
      out = diag_report_finding (self, f, FALSE, cancellable);
      g_string_append_printf (summary, "%s%s on %s: %s", summary->len ? "; " : "", srn ? srn : src, resource,
                              out->status_text);
    }
  return g_string_free (g_steal_pointer (&summary), FALSE);
}

/* Linux (or any non-AIX): the event names the problem itself, e.g. from a
 * rasdaemon trigger: esactl notify --source rasdaemon --label MC_UE --resource mc0. */
static char *
handle_generic (DiagPlugin *self, JsonObject *event, GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonObject) f = json_object_new ();
  g_autoptr (DiagOutcome) out = NULL;
  const char *resource = esa_json_peek_string (event, "resource");
  const char *code = esa_json_peek_string (event, "label");
  const char *klass = esa_json_peek_string (event, "class");
  if (code == NULL)
    code = esa_json_peek_string (event, "error_id");
  if (klass != NULL && !g_str_equal (klass, "H"))
    return g_strdup_printf ("event of class %s is not a hardware error, ignored", klass);
  if (resource == NULL || code == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "errlog event: expected --resource and --label (or --error-id) on this platform");
      return NULL;
    }
  json_object_set_string_member (f, "code", code);
  json_object_set_string_member (f, "key", code);
  json_object_set_string_member (f, "resource", resource);
  json_object_set_string_member (f, "source", esa_json_peek_string (event, "source") ? esa_json_peek_string (event, "source") : "notify");
  if (esa_json_peek_int (event, "sequence", -1) >= 0)
    json_object_set_int_member (f, "errlog_sequence", esa_json_peek_int (event, "sequence", -1));
  json_object_set_array_member (f, "frus", json_array_new ());
  out = diag_report_finding (self, f, FALSE, cancellable);
  return g_strdup_printf ("%s on %s: %s", code, resource, out->status_text);
}

char *
diag_handle_errlog (DiagPlugin *self, JsonObject *event, GCancellable *cancellable, GError **error)
{
  if (event == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "errlog: the event carries no data");
      return NULL;
    }
  if (is_aix (self))
    return handle_aix (self, event, cancellable, error);
  return handle_generic (self, event, cancellable, error);
}

static JsonObject *
load_state (const char *path)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonNode *root;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  if (!json_parser_load_from_mapped_file (p, path, NULL))
    {
      g_warning ("%s: unreadable, taking a new baseline", path);
      return NULL;
    }
  root = json_parser_get_root (p);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

char *
diag_edac_scan (DiagPlugin *self, GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_build_filename (esa_context_get_state_dir (self->ctx), "edac-state.json", NULL);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) mcs = NULL;
  g_autoptr (GPtrArray) findings = NULL;
  g_autoptr (JsonObject) previous = NULL;
  g_autoptr (JsonObject) state = NULL;
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (GString) summary = g_string_new (NULL);
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->edac_lock);

  mcs = diag_edac_read (self->sysroot, warnings, &local);
  for (guint i = 0; i < warnings->len; i++)
    g_warning ("EDAC: %s", (const char *) g_ptr_array_index (warnings, i));
  if (mcs == NULL)
    {
      if (g_error_matches (local, ESA_ERROR, ESA_ERROR_NOT_FOUND))
        return g_strdup_printf ("nothing to watch: %s", local->message);
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  previous = load_state (path);
  findings = diag_edac_compare (previous, mcs);
  /* save first: a report that fails is in the log, not raised again next time */
  state = diag_edac_state (mcs);
  json_node_set_object (node, state);
  text = esa_json_to_string (node, TRUE);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", path, local->message);
      return NULL;
    }
  g_string_append_printf (summary, "%u memory controller%s checked", mcs->len, mcs->len == 1 ? "" : "s");
  if (previous == NULL)
    g_string_append (summary, " (baseline)");
  for (guint i = 0; i < findings->len; i++)
    {
      JsonObject *f = g_ptr_array_index (findings, i);
      g_autoptr (DiagOutcome) out = NULL;
      json_object_set_string_member (f, "key", esa_json_peek_string (f, "code"));
      out = diag_report_finding (self, f, FALSE, cancellable);
      g_string_append_printf (summary, "; %s on %s: %s", esa_json_peek_string (f, "code"), esa_json_peek_string (f, "resource"),
                              out->status_text);
    }
  return g_string_free (g_steal_pointer (&summary), FALSE);
}

DiagOutcome *
diag_report_test (DiagPlugin *self, GCancellable *cancellable)
{
  const EsaPlatform *platform = esa_context_get_platform (self->ctx);
  g_autoptr (JsonObject) f = json_object_new ();
  json_object_set_string_member (f, "key", "TEST");
  json_object_set_string_member (f, "code", "TEST");
  json_object_set_string_member (f, "resource", is_aix (self) ? "sysplanar0" : "system");
  json_object_set_string_member (f, "source", "test");
  {
    g_autofree char *desc = g_strdup_printf ("OpenESA test problem from %s: no action needed",
                                             platform->hostname ? platform->hostname : g_get_host_name ());
    json_object_set_string_member (f, "description", desc);
  }
  json_object_set_array_member (f, "frus", json_array_new ());
  return diag_report_finding (self, f, TRUE, cancellable);
}
