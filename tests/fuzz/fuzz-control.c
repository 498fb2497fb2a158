/* fuzz-control.c: esad's control API request decoding. A request body becomes a command
 * inline in daemon/esa-control.c (esa_json_parse with the control socket's caps) and the
 * routes read it with protocol/esa-json.c's typed accessors; this harness runs that path:
 * the bounded parser, then every member the routes read, then every accessor on every
 * member with its type contract checked (a getter errs exactly on a wrong type, a peek
 * never errs). */
#include "config.h"

#include "fuzz.h"

#include "esa/esa-json.h"

/* As daemon/esa-control.c. */
#define CONTROL_MAX_BODY (1024 * 1024)

static void
check_member (JsonObject *body, const char *name)
{
  JsonNode *n = json_object_get_member (body, name);
  gboolean is_null = n == NULL || JSON_NODE_HOLDS_NULL (n);
  gboolean is_value = n != NULL && JSON_NODE_HOLDS_VALUE (n);
  GType t = is_value ? json_node_get_value_type (n) : G_TYPE_INVALID;
  gint64 i = 0;
  gboolean b = FALSE;
  const char *s;
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;
  g_autoptr (GError) e4 = NULL;
  g_autoptr (GError) e5 = NULL;

  if (n != NULL)
    g_assert_nonnull (esa_json_node_type_name (n));
  s = esa_json_get_string (body, "body.", name, ESA_JSON_OPTIONAL, &e1);
  g_assert_true ((e1 != NULL) == (!is_null && t != G_TYPE_STRING));
  g_assert_true (s == NULL || g_utf8_validate (s, -1, NULL));
  (void) esa_json_get_int (body, NULL, name, ESA_JSON_OPTIONAL, &i, &e2);
  (void) esa_json_get_boolean (body, NULL, name, ESA_JSON_OPTIONAL, &b, &e3);
  g_assert_true ((e3 != NULL) == (!is_null && t != G_TYPE_BOOLEAN));
  (void) esa_json_get_object (body, NULL, name, ESA_JSON_OPTIONAL, &e4);
  g_assert_true ((e4 != NULL) == (!is_null && !JSON_NODE_HOLDS_OBJECT (n)));
  (void) esa_json_get_array (body, NULL, name, ESA_JSON_REQUIRED | ESA_JSON_NON_EMPTY, &e5);
  g_assert_true ((e5 != NULL) == (is_null || !JSON_NODE_HOLDS_ARRAY (n)));
  /* one line (the routes ask for names of their own; a name from the input may hold one) */
  if (e1 != NULL && strchr (name, '\n') == NULL)
    g_assert_null (strchr (e1->message, '\n'));
  (void) esa_json_peek_string (body, name);
  (void) esa_json_peek_int (body, name, -1);
  (void) esa_json_peek_boolean (body, name, FALSE);
  (void) esa_json_peek_object (body, name);
}

/* What the routes of daemon/esa-control-routes.c and esa-sender-routes.c read. */
static void
read_routes (JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  const char *names[] = { "server", "contact_name", "contact_email", "contact_phone", "job",
                          "event", "dir", "uuid" };
  JsonNode *args = json_object_get_member (body, "args");
  JsonObject *data = esa_json_peek_object (body, "data");
  gboolean keep = FALSE;

  (void) esa_json_get_string (body, NULL, "event", ESA_JSON_OPTIONAL, &error);
  g_clear_error (&error);
  (void) esa_json_get_boolean (body, NULL, "keep", ESA_JSON_OPTIONAL, &keep, &error);
  g_clear_error (&error);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    (void) esa_json_peek_string (body, names[i]);
  if (args != NULL && JSON_NODE_HOLDS_ARRAY (args))
    {
      JsonArray *a = json_node_get_array (args);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
            g_assert_nonnull (json_node_get_string (e));
        }
    }
  if (data != NULL)
    {
      /* event data is copied into reports: it must serialise */
      g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), data);
      g_autofree char *text = json_to_string (n, FALSE);
      g_assert_nonnull (text);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *body;
  g_autoptr (GList) names = NULL;

  fuzz_init_logging ();
  root = esa_json_parse ((const char *) data, (gssize) size, CONTROL_MAX_BODY, ESA_JSON_MAX_DEPTH_DEFAULT,
                         &error);
  if (root == NULL)
    {
      g_assert_true (error != NULL && error->message != NULL);
      return 0;
    }
  g_assert_no_error (error);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return 0;
  body = json_node_get_object (root);
  read_routes (body);
  names = json_object_get_members (body);
  for (GList *l = names; l != NULL; l = l->next)
    check_member (body, l->data);
  check_member (body, "absent-member");
  return 0;
}
