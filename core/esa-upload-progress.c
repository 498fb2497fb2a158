/* esa-upload-progress.c: the transmission in progress (esa-upload-progress.h). */
#include "config.h"

#include "esa-upload-progress.h"

#include <stdlib.h>

static GMutex lock;
static struct {
  GThread *owner; /* NULL: nothing being sent */
  char *uuid;
  char *kind;
  guint64 sent;
  guint64 total;
} current;

void
esa_upload_progress_begin (const char *uuid, const char *kind, guint64 total)
{
  g_mutex_lock (&lock);
  g_free (current.uuid);
  g_free (current.kind);
  current.owner = g_thread_self ();
  current.uuid = g_strdup (uuid);
  current.kind = g_strdup (kind);
  current.sent = 0;
  current.total = total;
  g_mutex_unlock (&lock);
}

void
esa_upload_progress_restart (void)
{
  g_mutex_lock (&lock);
  if (current.owner == g_thread_self ())
    current.sent = 0;
  g_mutex_unlock (&lock);
}

#ifdef ESA_ENABLE_TEST_HOOKS
/* ESA_FAKE_UPLOAD_DELAY_MS: a slow line, so that a test sees the bar move. */
static void
test_hook_delay (void)
{
  static gsize once;
  static gulong delay_us;
  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("ESA_FAKE_UPLOAD_DELAY_MS");
      delay_us = env != NULL ? strtoul (env, NULL, 10) * 1000 : 0;
      g_once_init_leave (&once, 1);
    }
  if (delay_us > 0)
    g_usleep (delay_us);
}
#endif

void
esa_upload_progress_add (gsize n)
{
  gboolean counted = FALSE;
  g_mutex_lock (&lock);
  if (current.owner == g_thread_self ())
    {
      current.sent += n;
      counted = TRUE;
    }
  g_mutex_unlock (&lock);
#ifdef ESA_ENABLE_TEST_HOOKS
  if (counted)
    test_hook_delay ();
#else
  (void) counted;
#endif
}

void
esa_upload_progress_end (void)
{
  g_mutex_lock (&lock);
  if (current.owner == g_thread_self ())
    {
      current.owner = NULL;
      g_clear_pointer (&current.uuid, g_free);
      g_clear_pointer (&current.kind, g_free);
      current.sent = current.total = 0;
    }
  g_mutex_unlock (&lock);
}

JsonNode *
esa_upload_progress_to_json (void)
{
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  g_mutex_lock (&lock);
  json_object_set_boolean_member (o, "active", current.owner != NULL);
  if (current.owner != NULL)
    {
      json_object_set_string_member (o, "uuid", current.uuid);
      json_object_set_string_member (o, "kind", current.kind);
      /* a body counted twice (libsoup restarted it after a 407) stays within the total */
      json_object_set_int_member (o, "sent", (gint64) MIN (current.sent, current.total));
      json_object_set_int_member (o, "total", (gint64) current.total);
    }
  g_mutex_unlock (&lock);
  json_node_take_object (n, o);
  return n;
}
